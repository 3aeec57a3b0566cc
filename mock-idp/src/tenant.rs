//! The tenant: authorization servers, clients, users and assignments, loaded from TOML
//! (format in `docs/tenant-format.md`) and changed at run time through the handle or the
//! admin API.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, did_you_mean};
use crate::ids::stable_okta_id;
use crate::secret::Secret;

/// The whole tenant.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// Which IdP the mock is on the wire (`okta` when absent; see docs/personalities.md).
    #[serde(default, skip_serializing_if = "is_okta")]
    pub personality: crate::personality::Personality,
    /// The Okta org.
    #[serde(default)]
    pub org: Org,
    /// Custom authorization servers; `default` is added when absent. The org server
    /// (`/oauth2/v1`, issuer = origin) always exists and is not listed.
    #[serde(default)]
    pub authorization_servers: Vec<AuthorizationServer>,
    /// OIDC applications.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// People who can sign in.
    #[serde(default)]
    pub users: Vec<User>,
    /// Faults armed when the IdP starts (see `docs/faults.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::faults::Fault>,
    /// A product's SSO form (a playbook's tenant): what `oidc-harness idp` tells the admin
    /// to paste, in the product's field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductForm>,
}

/// A product's SSO form: its fields and what goes in each.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductForm {
    /// The product's name.
    pub name: String,
    /// The client the product signs in with (a `client_id` of this tenant).
    pub client: String,
    /// The authorization server whose issuer it uses (`default` when absent; `org` for
    /// the org server).
    #[serde(default = "default_server")]
    pub server: String,
    /// Where the values go, when not a form (`master.yaml, under oidc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Its fields in the form's order: the label as the product writes it, and the value,
    /// with `{issuer}`, `{discovery}`, `{client_id}`, `{client_secret}`, `{redirect_uri}`
    /// replaced.
    pub fields: Vec<FormField>,
}

fn default_server() -> String {
    "default".into()
}

/// One field of a product's SSO form.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// The label, as the product writes it (`OpenID issuer URL`).
    pub label: String,
    /// What to paste (`{issuer}`).
    pub value: String,
}

fn is_okta(p: &crate::personality::Personality) -> bool {
    *p == crate::personality::Personality::Okta
}

/// The org: its id appears as the `idp` claim.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// `00o…` id.
    #[serde(default = "default_org_id")]
    pub id: String,
}

impl Default for Org {
    fn default() -> Self {
        Self {
            id: default_org_id(),
        }
    }
}

fn default_org_id() -> String {
    stable_okta_id("00o", "mock-idp org")
}

/// A custom authorization server (`/oauth2/{id}`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationServer {
    /// The id in the path: `default`, or an `aus…` id.
    pub id: String,
    /// The `aud` of its access tokens; `api://{id}` when absent.
    #[serde(default)]
    pub audience: Option<String>,
    /// Custom scopes it grants besides the OpenID ones.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When set, the user's groups go into ID and access tokens under this claim name.
    #[serde(default)]
    pub groups_claim: Option<String>,
}

impl AuthorizationServer {
    /// A server with Okta's defaults.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            audience: None,
            scopes: Vec::new(),
            groups_claim: None,
        }
    }

    /// The access tokens' audience.
    pub fn audience(&self) -> String {
        self.audience
            .clone()
            .unwrap_or_else(|| format!("api://{}", self.id))
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret (form-urlencoded, then base64).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client: no secret, PKCE required.
    None,
}

impl AuthMethod {
    /// The name used in discovery and in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// An OIDC application.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The client id (Okta's are `0oa…`, any string is accepted).
    pub client_id: String,
    /// The secret of a confidential client.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Token endpoint authentication; `client_secret_basic` when a secret is set, else `none`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<AuthMethod>,
    /// Login redirect URIs, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The app signs with a key of its own (Entra's custom signing key): its ID tokens
    /// carry that key's `kid`, which the JWKS publishes only when asked with
    /// `?appid={client_id}` (as discovery asked with `?appid=` names it). An RP that drops
    /// the query from the metadata URL (Databricks: `{issuer-url}?appid=123`) cannot
    /// verify them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub app_signing_key: bool,
    /// Logout redirect URIs, matched exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Allowed grants: `authorization_code`, `implicit`, `refresh_token`, `client_credentials`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Allowed response types: `code`, `id_token`, `token` and their combinations.
    #[serde(default = "default_response_types")]
    pub response_types: Vec<String>,
    /// Require PKCE at /authorize (always true for public clients).
    #[serde(default)]
    pub pkce_required: bool,
    /// Origins allowed to call the token, userinfo and keys endpoints from a browser.
    #[serde(default)]
    pub trusted_origins: Vec<String>,
    /// Users assigned to the app, by login or id.
    #[serde(default)]
    pub assigned_users: Vec<String>,
    /// Groups assigned to the app; every user is in `Everyone`.
    #[serde(default)]
    pub assigned_groups: Vec<String>,
    /// How long its access tokens live, in seconds (default 3600, Okta's; in Okta it is
    /// the access policy rule's lifetime). Short ones make RPs refresh by themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime_secs: Option<u32>,
    /// Where the IdP POSTs logout tokens when the user's IdP session ends
    /// (OpenID Connect Back-Channel Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// What the IdP's logout page loads in an iframe, with `iss` and `sid`, when the
    /// user's IdP session ends (OpenID Connect Front-Channel Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Session Management 1.0: authorization responses carry `session_state`, and the
    /// client may watch it through the IdP's `check_session_iframe`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session_management: bool,
    /// Custom claims this app's ID tokens and userinfo answers carry (any name, namespaced
    /// or not, any JSON value), as an Okta admin adds claims for one app.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Claims under another name for this app: `{ username = "preferred_username" }` puts
    /// the value of `preferred_username` (a standard claim of the answer, or a custom
    /// one) in `username` too, as a product's claim mapping expects it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_names: BTreeMap<String, String>,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into()]
}

fn default_response_types() -> Vec<String> {
    vec!["code".into()]
}

impl Client {
    /// A confidential client using `client_secret_basic`, allowed code + refresh.
    pub fn confidential(client_id: &str, secret: &str, redirect_uri: &str) -> Self {
        Self {
            client_id: client_id.to_string(),
            client_secret: Some(Secret::new(secret)),
            token_endpoint_auth_method: Some(AuthMethod::ClientSecretBasic),
            redirect_uris: vec![redirect_uri.to_string()],
            app_signing_key: false,
            post_logout_redirect_uris: Vec::new(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: default_response_types(),
            pkce_required: false,
            trusted_origins: Vec::new(),
            assigned_users: Vec::new(),
            assigned_groups: vec!["Everyone".into()],
            access_token_lifetime_secs: None,
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            session_management: false,
            claims: BTreeMap::new(),
            claim_names: BTreeMap::new(),
        }
    }

    /// A public client (no secret, PKCE required).
    pub fn public(client_id: &str, redirect_uri: &str) -> Self {
        Self {
            client_secret: None,
            token_endpoint_auth_method: Some(AuthMethod::None),
            pkce_required: true,
            ..Self::confidential(client_id, "", redirect_uri)
        }
    }

    /// The effective token endpoint authentication method.
    pub fn auth_method(&self) -> AuthMethod {
        self.token_endpoint_auth_method
            .unwrap_or(if self.client_secret.is_some() {
                AuthMethod::ClientSecretBasic
            } else {
                AuthMethod::None
            })
    }

    /// Whether it takes part in channel logout: its ID tokens then carry `sid`.
    pub fn wants_sid(&self) -> bool {
        self.backchannel_logout_uri.is_some() || self.frontchannel_logout_uri.is_some()
    }

    /// Whether it is a public client (no secret).
    pub fn is_public(&self) -> bool {
        self.auth_method() == AuthMethod::None
    }

    /// Whether /authorize must see a PKCE challenge.
    pub fn requires_pkce(&self) -> bool {
        self.pkce_required || self.is_public()
    }

    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    /// Whether the client may ask for `response_type` (compared as a set of words).
    pub fn allows_response_type(&self, response_type: &str) -> bool {
        let wanted = normalize_response_type(response_type);
        self.response_types
            .iter()
            .any(|r| normalize_response_type(r) == wanted)
    }

    /// Whether `user` may sign in to this app (assigned directly or through a group).
    pub fn is_assigned(&self, user: &User) -> bool {
        self.assigned_users
            .iter()
            .any(|u| *u == user.login || *u == user.id)
            || self
                .assigned_groups
                .iter()
                .any(|g| g == "Everyone" || user.groups.contains(g))
    }
}

/// The words of a response type in a canonical order: `code id_token token`.
pub fn normalize_response_type(rt: &str) -> String {
    let mut words: Vec<&str> = rt.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_by_key(|w| match *w {
        "code" => 0,
        "id_token" => 1,
        "token" => 2,
        _ => 3,
    });
    words.dedup();
    words.join(" ")
}

const RESPONSE_TYPES: [&str; 7] = [
    "code",
    "id_token",
    "token",
    "code id_token",
    "code token",
    "id_token token",
    "code id_token token",
];
const GRANT_TYPES: [&str; 4] = [
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
];

/// Whether `rt` is one of the response types Okta knows.
pub fn is_known_response_type(rt: &str) -> bool {
    RESPONSE_TYPES.contains(&normalize_response_type(rt).as_str())
        && rt.split(' ').filter(|w| !w.is_empty()).count()
            == normalize_response_type(rt).split(' ').count()
}

/// A person who can sign in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `00u…` id; derived from the login when absent.
    #[serde(default)]
    pub id: String,
    /// The sign-in name (usually an email).
    pub login: String,
    /// The password typed in the sign-in form.
    pub password: Secret,
    /// Inactive users cannot sign in.
    #[serde(default = "yes")]
    pub active: bool,
    /// Group names (`Everyone` is implied).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether the account is managed by its email's domain (default true). At Google, a
    /// managed account is a Workspace one, with the `hd` claim; `false` is a personal
    /// Google account that uses a work address, without `hd`.
    #[serde(default = "yes")]
    pub managed: bool,
    /// Profile claims.
    #[serde(default)]
    pub profile: Profile,
    /// Custom claims of this user in every app's ID tokens and userinfo answers (any name,
    /// any JSON value): Okta's custom profile attributes mapped to claims.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

impl User {
    /// A user with a login, a password and Okta's defaults for the rest.
    pub fn new(login: &str, password: &str) -> Self {
        let mut user = Self {
            id: String::new(),
            login: login.to_string(),
            password: Secret::new(password),
            active: true,
            groups: Vec::new(),
            managed: true,
            profile: Profile::default(),
            claims: BTreeMap::new(),
        };
        user.normalize();
        user
    }

    /// Fills the id and the email from the login when absent.
    pub fn normalize(&mut self) {
        if self.id.is_empty() {
            self.id = stable_okta_id("00u", &self.login);
        }
        if self.profile.email.is_none() && self.login.contains('@') {
            self.profile.email = Some(self.login.clone());
        }
    }

    /// `name`, or given and family name joined.
    pub fn display_name(&self) -> Option<String> {
        self.profile.name.clone().or_else(|| {
            let parts: Vec<&str> = [&self.profile.given_name, &self.profile.family_name]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }
}

/// Standard profile claims (OIDC Core 5.1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Full name; given + family when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// Middle name.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// Nickname.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Email; the login when it looks like one.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the email is verified (default true).
    #[serde(default = "yes")]
    pub email_verified: bool,
    /// Locale, e.g. `en-US`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Time zone, e.g. `America/Los_Angeles`.
    #[serde(default)]
    pub zoneinfo: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The URL of the user's picture (`picture`, with the `profile` scope).
    #[serde(default)]
    pub picture: Option<String>,
    /// Last profile update, Unix seconds.
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl Default for Profile {
    /// No claims but a verified email (as in tenant files, where `email_verified`
    /// defaults to true).
    fn default() -> Self {
        Self {
            name: None,
            given_name: None,
            family_name: None,
            middle_name: None,
            nickname: None,
            email: None,
            email_verified: true,
            locale: None,
            zoneinfo: None,
            phone_number: None,
            picture: None,
            updated_at: None,
        }
    }
}

/// One thing wrong with a tenant, located by a path of keys and indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: `["clients", "0", "redirect_uris", "1"]`.
    pub path: Vec<String>,
    /// What was expected and what was found.
    pub message: String,
}

fn problem(path: &[&str], message: String) -> Problem {
    Problem {
        path: path.iter().map(|s| s.to_string()).collect(),
        message,
    }
}

/// Errors loading a tenant file.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The file could not be read.
    #[error("{path}: cannot read the tenant file: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid tenant; the diagnostic points at the text.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// A tenant given through the API is not valid.
    #[error("invalid tenant: {}: {}", .0.path.join("."), .0.message)]
    Rejected(Problem),
}

impl Tenant {
    /// Whether a client uses Session Management 1.0 (the IdP then offers its
    /// check-session iframe and keeps the browser state cookie).
    pub fn watches_sessions(&self) -> bool {
        self.clients.iter().any(|c| c.session_management)
    }

    /// The default tenant shipped in `fixtures/tenants/default.toml`.
    pub fn fixture() -> Self {
        Self::from_toml_str(
            "fixtures/tenants/default.toml",
            include_str!("../../fixtures/tenants/default.toml"),
        )
        .expect("the fixture tenant is valid")
    }

    /// Loads a tenant file.
    pub fn from_file(path: &Path) -> Result<Self, TenantError> {
        let text = crate::diag::read_input(path).map_err(|source| TenantError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&path.display().to_string(), &text)
    }

    /// Parses tenant TOML; `file` names the source in errors.
    pub fn from_toml_str(file: &str, text: &str) -> Result<Self, TenantError> {
        let mut tenant: Tenant = toml::from_str(text)
            .map_err(|e| TenantError::Invalid(Box::new(Diagnostic::from_toml(file, text, &e))))?;
        let added_default = !tenant
            .authorization_servers
            .iter()
            .any(|s| s.id == "default");
        tenant.normalize();
        if let Some(mut p) = tenant.problems().into_iter().next() {
            // `default` was put first: the file's servers are one further down.
            if added_default && p.path.first().is_some_and(|s| s == "authorization_servers") {
                if let Some(i) = p.path.get(1).and_then(|i| i.parse::<usize>().ok()) {
                    p.path[1] = i.saturating_sub(1).to_string();
                }
            }
            return Err(TenantError::Invalid(Box::new(Diagnostic::at_path(
                file, text, &p.path, p.message,
            ))));
        }
        Ok(tenant)
    }

    /// Fills derived values: user ids and emails, the `default` server.
    pub fn normalize(&mut self) {
        if !self.authorization_servers.iter().any(|s| s.id == "default") {
            self.authorization_servers
                .insert(0, AuthorizationServer::new("default"));
        }
        for u in &mut self.users {
            u.normalize();
        }
    }

    /// Checks the tenant; the first problem is reported, located by path.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        if let Some(f) = &self.product {
            if self.client(&f.client).is_none() {
                out.push(problem(
                    &["product", "client"],
                    format!(
                        "the product signs in with client `{}`, which the tenant does not define",
                        f.client
                    ),
                ));
            }
            for (i, field) in f.fields.iter().enumerate() {
                let known = [
                    "issuer",
                    "discovery",
                    "client_id",
                    "client_secret",
                    "redirect_uri",
                ];
                let mut rest = field.value.as_str();
                while let Some(open) = rest.find('{') {
                    let Some(close) = rest[open..].find('}') else {
                        break;
                    };
                    let name = &rest[open + 1..open + close];
                    if !known.contains(&name) {
                        out.push(problem(
                            &["product", "fields", &i.to_string(), "value"],
                            format!(
                                "unknown placeholder `{{{name}}}` (expected one of {})",
                                known.map(|k| format!("{{{k}}}")).join(", ")
                            ),
                        ));
                    }
                    rest = &rest[open + close + 1..];
                }
            }
        }
        for (i, s) in self.authorization_servers.iter().enumerate() {
            let i = i.to_string();
            if s.id.is_empty() || s.id == "v1" || !s.id.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(problem(
                    &["authorization_servers", &i, "id"],
                    format!("expected an authorization server id of letters and digits other than `v1` (found `{}`)", s.id),
                ));
            }
            if !seen.insert(s.id.as_str()) {
                out.push(problem(
                    &["authorization_servers", &i, "id"],
                    format!("authorization server `{}` is defined twice", s.id),
                ));
            }
        }
        let mut logins = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let i = i.to_string();
            if u.login.trim().is_empty() {
                out.push(problem(
                    &["users", &i, "login"],
                    "expected a non-empty login".into(),
                ));
            }
            // Okta logins are case-insensitive: `Bob@x` and `bob@x` are one user.
            if !logins.insert(u.login.to_lowercase()) {
                out.push(problem(
                    &["users", &i, "login"],
                    format!(
                        "user `{}` is defined twice (logins are compared ignoring case)",
                        u.login
                    ),
                ));
            }
            if u.password.expose().is_empty() {
                out.push(problem(
                    &["users", &i, "password"],
                    "expected a non-empty password".into(),
                ));
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            let i = i.to_string();
            let field = match &f.validate() {
                Err(crate::faults::FaultError::BadParam { .. }) => "param",
                Err(
                    crate::faults::FaultError::TwoTargets
                    | crate::faults::FaultError::NotScopable(_),
                ) => {
                    if f.user.is_some() {
                        "user"
                    } else {
                        "client"
                    }
                }
                Err(_) => "id",
                Ok(()) => "",
            };
            if let Err(e) = f.validate() {
                out.push(problem(&["faults", &i, field], e.to_string()));
            } else if let Some(u) = f.user.as_ref().filter(|u| self.user(u).is_none()) {
                out.push(problem(
                    &["faults", &i, "user"],
                    format!("no user `{u}` in this tenant"),
                ));
            } else if let Some(c) = f.client.as_ref().filter(|c| self.client(c).is_none()) {
                out.push(problem(
                    &["faults", &i, "client"],
                    format!("no client `{c}` in this tenant"),
                ));
            }
        }
        let mut ids = HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            out.extend(self.client_problems(c, &i.to_string()));
            if !ids.insert(c.client_id.as_str()) {
                out.push(problem(
                    &["clients", &i.to_string(), "client_id"],
                    format!("client `{}` is defined twice", c.client_id),
                ));
            }
        }
        out
    }

    fn client_problems(&self, c: &Client, i: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        if c.client_id.trim().is_empty() {
            out.push(problem(
                &["clients", i, "client_id"],
                "expected a non-empty client_id".into(),
            ));
        }
        match (c.auth_method(), &c.client_secret) {
            (AuthMethod::None, Some(_)) => out.push(problem(
                &["clients", i, "client_secret"],
                "a public client (token_endpoint_auth_method = \"none\") has no client_secret"
                    .into(),
            )),
            (m, None) if m != AuthMethod::None => out.push(problem(
                &["clients", i, "token_endpoint_auth_method"],
                format!(
                    "expected a client_secret for token_endpoint_auth_method = \"{}\"",
                    m.as_str()
                ),
            )),
            (_, Some(s)) if s.expose().is_empty() => out.push(problem(
                &["clients", i, "client_secret"],
                "expected a non-empty client_secret".into(),
            )),
            _ => {}
        }
        for (field, uris) in [
            ("redirect_uris", &c.redirect_uris),
            ("post_logout_redirect_uris", &c.post_logout_redirect_uris),
            ("trusted_origins", &c.trusted_origins),
        ] {
            for (j, u) in uris.iter().enumerate() {
                match url::Url::parse(u) {
                    Ok(url) if !uri_scheme_allowed(field, url.scheme()) => out.push(problem(
                        &["clients", i, field, &j.to_string()],
                        format!(
                            "expected an http or https URI{} (found `{u}`)",
                            if field == "trusted_origins" {
                                ""
                            } else {
                                ", or an app's own scheme such as `com.example.app:/callback`"
                            }
                        ),
                    )),
                    Ok(url) if url.fragment().is_none() => {}
                    Ok(_) => out.push(problem(
                        &["clients", i, field, &j.to_string()],
                        format!("expected a URI without a fragment (found `{u}`)"),
                    )),
                    Err(e) => out.push(problem(
                        &["clients", i, field, &j.to_string()],
                        format!("expected an absolute URI (found `{u}`: {e})"),
                    )),
                }
            }
        }
        for (j, g) in c.grant_types.iter().enumerate() {
            if !GRANT_TYPES.contains(&g.as_str()) {
                let mut msg = format!("expected one of {} (found `{g}`)", quoted(&GRANT_TYPES));
                if let Some(m) = did_you_mean(g, GRANT_TYPES) {
                    msg.push_str(&format!("; did you mean `{m}`?"));
                }
                out.push(problem(&["clients", i, "grant_types", &j.to_string()], msg));
            }
        }
        for (j, r) in c.response_types.iter().enumerate() {
            if !is_known_response_type(r) {
                out.push(problem(
                    &["clients", i, "response_types", &j.to_string()],
                    format!("expected one of {} (found `{r}`)", quoted(&RESPONSE_TYPES)),
                ));
            }
        }
        for (field, uri) in [
            ("backchannel_logout_uri", &c.backchannel_logout_uri),
            ("frontchannel_logout_uri", &c.frontchannel_logout_uri),
        ] {
            let Some(uri) = uri else { continue };
            if !url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                out.push(problem(
                    &["clients", i, field],
                    format!("expected an absolute http(s) URL (found `{uri}`)"),
                ));
            }
        }
        if c.access_token_lifetime_secs == Some(0) {
            out.push(problem(
                &["clients", i, "access_token_lifetime_secs"],
                "expected at least 1 second (found 0)".into(),
            ));
        }
        for (j, u) in c.assigned_users.iter().enumerate() {
            if !self.users.iter().any(|x| x.login == *u || x.id == *u) {
                let mut msg = format!("assigned user `{u}` is not a user of this tenant");
                if let Some(m) = did_you_mean(u, self.users.iter().map(|x| x.login.as_str())) {
                    msg.push_str(&format!("; did you mean `{m}`?"));
                }
                out.push(problem(
                    &["clients", i, "assigned_users", &j.to_string()],
                    msg,
                ));
            }
        }
        out
    }

    /// Validates a tenant handed over through the API.
    pub fn validated(mut self) -> Result<Self, TenantError> {
        self.normalize();
        match self.problems().into_iter().next() {
            Some(p) => Err(TenantError::Rejected(p)),
            None => Ok(self),
        }
    }

    /// A client by id.
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// A user by login (case-insensitive, as Okta) or id.
    pub fn user(&self, login_or_id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.id == login_or_id || u.login.eq_ignore_ascii_case(login_or_id))
    }

    /// A custom authorization server by id.
    pub fn server(&self, id: &str) -> Option<&AuthorizationServer> {
        self.authorization_servers.iter().find(|s| s.id == id)
    }
}

/// Okta takes http(s) redirect URIs and native apps' private-use schemes (RFC 8252 7.1:
/// reverse domain names, with a dot); never `javascript:`, `data:`, `file:` and the like.
fn uri_scheme_allowed(field: &str, scheme: &str) -> bool {
    matches!(scheme, "http" | "https") || (field != "trusted_origins" && scheme.contains('.'))
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tenant's clients and users by what requests name them with, each shared rather
/// than copied: made once per tenant (see `Shared::directory`), so a login looks its
/// client and user up in a table and holds them without copying their lists.
#[derive(Debug, Default)]
pub struct Directory {
    clients: FxHashMap<String, Arc<Client>>,
    users: Vec<Arc<User>>,
    /// Index in `users` by id, and by login in ASCII lower case; the first user wins.
    user_ids: FxHashMap<String, usize>,
    user_logins: FxHashMap<String, usize>,
}

impl Directory {
    /// The directory of `tenant`.
    pub fn of(tenant: &Tenant) -> Self {
        let mut d = Directory::default();
        for c in &tenant.clients {
            d.clients
                .entry(c.client_id.clone())
                .or_insert_with(|| Arc::new(c.clone()));
        }
        for (i, u) in tenant.users.iter().enumerate() {
            d.user_ids.entry(u.id.clone()).or_insert(i);
            d.user_logins
                .entry(u.login.to_ascii_lowercase())
                .or_insert(i);
            d.users.push(Arc::new(u.clone()));
        }
        d
    }

    /// What [`Tenant::client`] finds.
    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.get(client_id).cloned()
    }

    /// What [`Tenant::user`] finds: the first user whose id is `login_or_id` or whose
    /// login is it in any ASCII case.
    pub fn user(&self, login_or_id: &str) -> Option<Arc<User>> {
        let lower = if login_or_id.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(login_or_id.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(login_or_id)
        };
        let by_id = self.user_ids.get(login_or_id);
        let by_login = self.user_logins.get(lower.as_ref());
        let i = match (by_id, by_login) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        self.users.get(*i).cloned()
    }
}

#[cfg(test)]
mod directory_tests {
    use super::*;

    fn user(id: &str, login: &str) -> User {
        let mut t: Tenant = toml::from_str(&format!(
            "[[users]]\nid = \"{id}\"\nlogin = \"{login}\"\npassword = \"p\"\n"
        ))
        .expect("a tenant");
        t.users.remove(0)
    }

    #[test]
    fn the_directory_finds_what_the_tenant_finds() {
        let mut t = Tenant {
            users: vec![
                user("00u1", "Alice@Example.com"),
                user("00u2", "bob@example.com"),
                // Its login is the first user's id, and the first user's login is its id:
                // the first in order wins, as in the tenant's own search.
                user("alice@example.com", "00u1"),
                user("00u4", "BOB@example.com"),
            ],
            ..Tenant::default()
        };
        let mut c = toml::from_str::<Tenant>(
            "[[clients]]\nclient_id = \"0oa1\"\n[[clients]]\nclient_id = \"0oa1\"\nredirect_uris = [\"http://x/cb\"]\n",
        )
        .expect("a tenant");
        t.clients.append(&mut c.clients);
        let d = Directory::of(&t);
        for q in [
            "00u1",
            "00U1",
            "alice@example.com",
            "ALICE@EXAMPLE.COM",
            "Alice@Example.com",
            "bob@example.com",
            "Bob@Example.Com",
            "00u4",
            "00u3",
            "",
            "carol@example.com",
        ] {
            assert_eq!(d.user(q).as_deref(), t.user(q), "user {q:?}");
        }
        for q in ["0oa1", "0OA1", "0oa2", ""] {
            assert_eq!(d.client(q).as_deref(), t.client(q), "client {q:?}");
        }
    }
}
