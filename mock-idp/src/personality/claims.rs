//! The claims of ID and access tokens under each personality: which, in which order, with
//! which id formats (`../shared/reference/<idp>/*.decoded.json`).
//!
//! Each personality lists its claims in the order its tokens carry them; one function
//! gives every claim's value, so a claim means the same under every personality (the
//! `nonce` is the request's, `at_hash` the access token's) and only presence, order and
//! formats differ.

use serde_json::{Value, json};

use super::Personality;
use crate::ids;
use crate::jwt::Claims;
use crate::tenant::User;

/// What an ID or access token is about.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts<'a> {
    /// The issuer URL.
    pub issuer: &'a str,
    /// The server's path segment (Entra's tenant id, the realm, the user pool…).
    pub segment: &'a str,
    /// The server id.
    pub server: &'a str,
    /// The server's access token audience.
    pub audience: &'a str,
    /// The client the token is for.
    pub client_id: &'a str,
    /// The user (none for client credentials).
    pub user: Option<&'a User>,
    /// Granted scopes.
    pub scopes: &'a [String],
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
    /// When the user authenticated.
    pub auth_time: Option<i64>,
    /// `at_hash`, when an access token comes with the ID token.
    pub at_hash: Option<&'a str>,
    /// `c_hash`, when a code comes with the ID token.
    pub c_hash: Option<&'a str>,
    /// The IdP session id.
    pub sid: Option<&'a str>,
    /// The claim name of groups, when the server puts groups in tokens.
    pub groups_claim: Option<&'a str>,
    /// The IdP's origins, one per host (where distributed claims point: Entra's Graph).
    pub origins: &'a [String],
    /// Now.
    pub now: i64,
    /// Token lifetime.
    pub ttl: i64,
}

impl TokenFacts<'_> {
    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// The user's subject identifier under `p` (stable per user; pairwise per client for
/// Entra and AD FS, as they issue them).
pub fn subject(p: Personality, user: &User, client_id: &str) -> String {
    let id = &user.id;
    match p {
        Personality::Okta | Personality::Generic => id.clone(),
        Personality::Entra => {
            let d = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("{id} {client_id}").as_bytes(),
            );
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
        }
        Personality::Adfs => {
            let d = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("adfs {id} {client_id}").as_bytes(),
            );
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&d.as_ref()[..24])
        }
        Personality::Auth0 => format!("auth0|{}", ids::stable_hex(id, 24)),
        Personality::Google => ids::stable_digits(id, 21),
        Personality::Keycloak
        | Personality::Cognito
        | Personality::Pingfederate
        | Personality::Pingone => ids::stable_uuid(&format!("{p} user {id}")),
    }
}

/// The user's object id in Entra (`oid`), stable across apps.
pub fn oid(user: &User) -> String {
    ids::stable_uuid(&format!("entra object {}", user.id))
}

/// `t` as RFC 3339 UTC with milliseconds (`2023-03-25T21:54:56.000Z`).
pub fn iso8601(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The user's groups as the IdP names them (Entra: object ids).
pub fn groups(p: Personality, user: &User) -> Vec<String> {
    crate::state::groups_of(user)
        .iter()
        .filter_map(|g| group_id(p, g))
        .collect()
}

/// How `p` names group `name` in its tokens (Entra: the group's object id), or `None` when
/// it does not send it (Cognito has no `Everyone`).
pub fn group_id(p: Personality, name: &str) -> Option<String> {
    match p {
        Personality::Entra => Some(ids::stable_uuid(&format!("entra group {name}"))),
        Personality::Cognito if name == "Everyone" => None,
        _ => Some(name.to_string()),
    }
}

/// Above this many groups Entra leaves `groups` out of a JWT and points to Graph instead
/// (`_claim_names` / `_claim_sources`, OIDC Core 5.6.2 distributed claims).
pub const ENTRA_GROUPS_LIMIT: usize = 200;

/// The namespace Auth0 custom claims get here (an Action must namespace them with a URL).
pub const AUTH0_NAMESPACE: &str = "https://oidc-harness.test/";

/// Where Auth0 sends groups here: the `groups` claim under [`AUTH0_NAMESPACE`].
pub const AUTH0_GROUPS_CLAIM: &str = "https://oidc-harness.test/groups";

/// The claim name groups arrive under at `p` when the server sends groups as `claim`:
/// Auth0 sends custom claims namespaced with a URL.
pub fn groups_claim_name(p: Personality, claim: &str) -> String {
    if p == Personality::Auth0 && !claim.contains("://") {
        format!("{AUTH0_NAMESPACE}{claim}")
    } else {
        claim.to_string()
    }
}

/// The ID token claim names of `p`, in its order.
fn id_token_order(p: Personality) -> &'static [&'static str] {
    match p {
        Personality::Okta => &[],
        Personality::Entra => &[
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "aio",
            "at_hash",
            "c_hash",
            "email",
            "groups",
            "name",
            "nonce",
            "oid",
            "preferred_username",
            "rh",
            "sid",
            "sub",
            "tid",
            "uti",
            "ver",
        ],
        Personality::Adfs => &[
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "auth_time",
            "nonce",
            "sub",
            "upn",
            "unique_name",
            "email",
            "groups",
            "at_hash",
            "c_hash",
            "sid",
        ],
        Personality::Auth0 => &[
            "given_name",
            "family_name",
            "nickname",
            "name",
            "picture",
            "locale",
            "updated_at",
            "email",
            "email_verified",
            "iss",
            "aud",
            "iat",
            "exp",
            "sub",
            "sid",
            "auth_time",
            "at_hash",
            "c_hash",
            "nonce",
        ],
        Personality::Keycloak => &[
            "exp",
            "iat",
            "auth_time",
            "jti",
            "iss",
            "aud",
            "sub",
            "typ",
            "azp",
            "nonce",
            "session_state",
            "at_hash",
            "c_hash",
            "acr",
            "sid",
            "email_verified",
            "name",
            "groups",
            "preferred_username",
            "given_name",
            "family_name",
            "email",
        ],
        Personality::Google => &[
            "iss",
            "azp",
            "aud",
            "sub",
            "hd",
            "email",
            "email_verified",
            "at_hash",
            "c_hash",
            "nonce",
            "name",
            "picture",
            "given_name",
            "family_name",
            "locale",
            "iat",
            "exp",
        ],
        Personality::Cognito => &[
            "at_hash",
            "c_hash",
            "sub",
            "cognito:groups",
            "email_verified",
            "iss",
            "cognito:username",
            "origin_jti",
            "aud",
            "nonce",
            "token_use",
            "auth_time",
            "exp",
            "iat",
            "jti",
            "email",
        ],
        Personality::Pingfederate | Personality::Pingone => &[
            "sub",
            "aud",
            "jti",
            "iss",
            "iat",
            "exp",
            "auth_time",
            "nonce",
            "at_hash",
            "c_hash",
            "sid",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
            "groups",
        ],
        Personality::Generic => &[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "c_hash",
            "sid",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
            "groups",
        ],
    }
}

/// The access token claim names of `p`, in its order (Google's are opaque: empty).
fn access_token_order(p: Personality) -> &'static [&'static str] {
    match p {
        Personality::Okta | Personality::Google => &[],
        Personality::Entra => &[
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "aio",
            "azp",
            "azpacr",
            "name",
            "oid",
            "preferred_username",
            "rh",
            "scp",
            "sub",
            "tid",
            "uti",
            "ver",
        ],
        Personality::Adfs => &[
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "apptype",
            "appid",
            "authmethod",
            "auth_time",
            "upn",
            "unique_name",
            "sid",
            "ver",
            "scp",
        ],
        Personality::Auth0 => &["iss", "sub", "aud", "iat", "exp", "azp", "scope", "gty"],
        Personality::Keycloak => &[
            "exp",
            "iat",
            "auth_time",
            "jti",
            "iss",
            "aud",
            "sub",
            "typ",
            "azp",
            "session_state",
            "acr",
            "realm_access",
            "resource_access",
            "scope",
            "sid",
            "email_verified",
            "name",
            "preferred_username",
            "given_name",
            "family_name",
            "email",
        ],
        Personality::Cognito => &[
            "sub",
            "cognito:groups",
            "iss",
            "version",
            "client_id",
            "origin_jti",
            "event_id",
            "token_use",
            "scope",
            "auth_time",
            "exp",
            "iat",
            "jti",
            "username",
        ],
        Personality::Pingfederate | Personality::Pingone => &[
            "scope",
            "client_id",
            "iss",
            "jti",
            "sub",
            "aud",
            "iat",
            "exp",
        ],
        Personality::Generic => &[
            "iss",
            "exp",
            "aud",
            "sub",
            "client_id",
            "iat",
            "jti",
            "scope",
        ],
    }
}

/// Which token a claim is for (some claims differ between them).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Id,
    Access,
    /// Entra's access token for Microsoft Graph: v1.0, another issuer.
    Graph,
}

/// Microsoft Graph's application id: the `aud` of the access token Entra issues to an app
/// that asks for OpenID scopes only (they give Graph's `User.Read`).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Whether Entra's access token for `scopes` is for Microsoft Graph: no API scope asked.
pub fn entra_graph_token(p: Personality, scopes: &[String]) -> bool {
    p == Personality::Entra
        && scopes
            .iter()
            .all(|s| crate::state::OIDC_SCOPES.contains(&s.as_str()))
}

/// The claims of Entra's v1.0 Graph access tokens: `aud, iss, iat, nbf, exp`, then the
/// rest alphabetically (`../shared/reference/entra/access-token-v1-app.decoded.json` and
/// README: `appid`/`appidacr`, `unique_name`, `upn`, `ver: "1.0"`).
const ENTRA_GRAPH_ORDER: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "nbf",
    "exp",
    "acct",
    "aio",
    "amr",
    "appid",
    "appidacr",
    "family_name",
    "given_name",
    "idtyp",
    "name",
    "oid",
    "rh",
    "scp",
    "sub",
    "tid",
    "unique_name",
    "upn",
    "uti",
    "ver",
];

/// A Graph access token's own values, where they differ from a v2.0 token's.
fn graph_value(p: Personality, f: &TokenFacts<'_>, name: &str) -> Option<Option<Value>> {
    Some(match name {
        "aud" => Some(GRAPH_APP_ID.into()),
        "iss" => Some(format!("https://sts.windows.net/{}/", f.segment).into()),
        "ver" => Some("1.0".into()),
        "appidacr" => Some("1".into()),
        "idtyp" => Some("user".into()),
        "acct" => Some(0.into()),
        "amr" => Some(json!(["pwd"])),
        "scp" => {
            let mut asked: Vec<&str> = f.scopes.iter().map(String::as_str).collect();
            asked.sort_unstable();
            asked.push("User.Read");
            Some(asked.join(" ").into())
        }
        // Pairwise for Graph, not for the app.
        "sub" => f.user.map(|u| subject(p, u, GRAPH_APP_ID).into()),
        _ => return None,
    })
}

fn value(p: Personality, kind: Kind, f: &TokenFacts<'_>, name: &str) -> Option<Value> {
    let user = f.user;
    let profile = user.map(|u| &u.profile);
    if kind == Kind::Graph {
        if let Some(v) = graph_value(p, f, name) {
            return v;
        }
    }
    let kind = if kind == Kind::Graph {
        Kind::Access
    } else {
        kind
    };
    // Keycloak applies a client's default client scopes (`profile`, `email`) whatever the
    // request's `scope` says; only its optional ones wait to be asked for.
    let defaults = p == Personality::Keycloak;
    let email_ok = kind == Kind::Access || f.has("email") || defaults;
    let profile_ok =
        kind == Kind::Access || f.has("profile") || p == Personality::Entra || defaults;
    let opt = |v: Option<&String>| v.map(|s| Value::from(s.as_str()));
    let session = f.sid.map(str::to_string);
    Some(match name {
        "iss" => match (p, kind) {
            (Personality::Adfs, Kind::Access) => {
                let origin = f.issuer.trim_end_matches("/adfs");
                Value::from(format!("{origin}/adfs/services/trust"))
            }
            _ => f.issuer.into(),
        },
        "sub" => match user {
            Some(u) => subject(p, u, f.client_id).into(),
            None if p == Personality::Auth0 => format!("{}@clients", f.client_id).into(),
            None => f.client_id.into(),
        },
        "aud" => match (p, kind) {
            (_, Kind::Id) => f.client_id.into(),
            (Personality::Entra, Kind::Access) => f.client_id.into(),
            (Personality::Keycloak, Kind::Access) => "account".into(),
            (Personality::Auth0, Kind::Access) => {
                if user.is_some() && f.has("openid") {
                    json!([f.audience, format!("{}userinfo", f.issuer)])
                } else {
                    f.audience.into()
                }
            }
            _ => f.audience.into(),
        },
        "azp" => f.client_id.into(),
        "client_id" | "appid" => f.client_id.into(),
        "iat" => f.now.into(),
        "nbf" => f.now.into(),
        "exp" => (f.now + f.ttl).into(),
        "auth_time" => match p {
            Personality::Adfs if kind == Kind::Access => iso8601(f.auth_time?).into(),
            _ => f.auth_time?.into(),
        },
        "jti" => match p {
            Personality::Keycloak | Personality::Cognito | Personality::Pingone => {
                ids::random_uuid().into()
            }
            _ => ids::random_b64(24).into(),
        },
        "uti" => ids::random_b64(16).into(),
        "aio" => ids::random_b64(48).into(),
        "rh" => format!("0.{}.", ids::random_b64(36)).into(),
        "oid" => oid(user?).into(),
        "tid" => f.segment.into(),
        "ver" => match (p, kind) {
            (Personality::Adfs, _) => "1.0".into(),
            _ => "2.0".into(),
        },
        "version" => 2.into(),
        "azpacr" => "1".into(),
        "apptype" => "Confidential".into(),
        "authmethod" => {
            "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password".into()
        }
        "nonce" => f.nonce?.into(),
        "at_hash" => f.at_hash?.into(),
        "c_hash" => f.c_hash?.into(),
        "sid" => session?.into(),
        "session_state" => session?.into(),
        "typ" => match kind {
            Kind::Id => "ID".into(),
            Kind::Access | Kind::Graph => "Bearer".into(),
        },
        "acr" => "1".into(),
        "token_use" => match kind {
            Kind::Id => "id".into(),
            Kind::Access | Kind::Graph => "access".into(),
        },
        "origin_jti" | "event_id" => ids::random_uuid().into(),
        "cognito:username" | "username" => user?.login.clone().into(),
        "cognito:groups" => {
            let g = groups(p, user?);
            if g.is_empty() {
                return None;
            }
            g.into()
        }
        "groups" => {
            f.groups_claim?;
            groups(p, user?).into()
        }
        "upn" | "unique_name" => user?.login.clone().into(),
        "preferred_username" if profile_ok => user?.login.clone().into(),
        "name" if profile_ok => user?.display_name()?.into(),
        "given_name" if profile_ok => opt(profile?.given_name.as_ref())?,
        "family_name" if profile_ok => opt(profile?.family_name.as_ref())?,
        "nickname" if profile_ok => opt(profile?.nickname.as_ref()).unwrap_or_else(|| {
            user.map_or("", |u| u.login.split('@').next().unwrap_or(""))
                .into()
        }),
        "locale" if profile_ok => opt(profile?.locale.as_ref())?,
        "picture" if profile_ok && profile?.picture.is_some() => opt(profile?.picture.as_ref())?,
        "picture" if profile_ok => format!(
            "https://www.gravatar.com/avatar/{}",
            ids::stable_hex(&user?.login, 32)
        )
        .into(),
        "updated_at" if profile_ok => iso8601(profile?.updated_at.unwrap_or(f.now)).into(),
        "email" if email_ok => opt(profile?.email.as_ref())?,
        "email_verified" if email_ok => {
            profile?.email.as_ref()?;
            profile?.email_verified.into()
        }
        "hd" if email_ok => {
            if !user?.managed {
                return None;
            }
            let domain = profile?.email.as_ref()?.split_once('@')?.1.to_string();
            if domain == "gmail.com" {
                return None;
            }
            domain.into()
        }
        "scope" => match p {
            Personality::Pingfederate | Personality::Pingone => Value::from(f.scopes.to_vec()),
            _ => f.scopes.join(" ").into(),
        },
        "scp" => {
            // Entra and AD FS: the API's scopes only, space separated.
            let api: Vec<&str> = f
                .scopes
                .iter()
                .map(String::as_str)
                .filter(|s| !crate::state::OIDC_SCOPES.contains(s))
                .collect();
            if api.is_empty() {
                if p == Personality::Adfs {
                    "openid".into()
                } else {
                    "User.Read".into()
                }
            } else {
                api.join(" ").into()
            }
        }
        "gty" => {
            if user.is_some() {
                return None;
            }
            "client-credentials".into()
        }
        "realm_access" => {
            // Realm roles: Keycloak's defaults and the user's (its groups here), in the
            // access token only unless a mapper adds them elsewhere.
            let mut roles = vec![
                "offline_access".to_string(),
                "uma_authorization".to_string(),
                format!("default-roles-{}", f.server),
            ];
            if let Some(u) = user {
                roles.extend(
                    crate::state::groups_of(u)
                        .into_iter()
                        .filter(|g| g != "Everyone"),
                );
            }
            json!({ "roles": roles })
        }
        "resource_access" => {
            json!({"account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}})
        }
        _ => return None,
    })
}

fn build(p: Personality, kind: Kind, order: &[&str], f: &TokenFacts<'_>) -> Claims {
    let mut c = Claims::new();
    // Auth0: custom claims (an Action's, namespaced) come first.
    let custom = f
        .groups_claim
        .zip(f.user)
        .map(|(claim, user)| (groups_claim_name(p, claim), groups(p, user)));
    if let (Personality::Auth0, Some((name, g))) = (p, &custom) {
        c.insert(name.clone(), g.clone().into());
    }
    for name in order {
        if *name == "groups" && p == Personality::Entra {
            if let Some(overage) = entra_overage(f) {
                c.extend(overage);
                continue;
            }
        }
        if let Some(v) = value(p, kind, f, name) {
            c.insert((*name).to_string(), v);
        }
    }
    // A custom groups claim name the server chose (Okta-style `groups_claim`).
    if let Some((name, g)) = custom {
        if name != "groups" && !c.contains_key(&name) {
            c.insert(name, g.into());
        }
    }
    c
}

/// Entra's groups overage: when the user is in more groups than a JWT carries, the
/// `groups` claim is left out and `_claim_names` / `_claim_sources` point to Graph's
/// `getMemberObjects` for the user (`../shared/reference/entra/groups-overage.fragment.json`).
fn entra_overage(f: &TokenFacts<'_>) -> Option<Claims> {
    f.groups_claim?;
    let user = f.user?;
    if crate::state::groups_of(user).len() <= ENTRA_GROUPS_LIMIT {
        return None;
    }
    let endpoint = Personality::Entra
        .url(f.origins, f.server, crate::journal::Endpoint::ClaimSource)?
        .replace("{oid}", &oid(user));
    let mut c = Claims::new();
    c.insert("_claim_names".into(), json!({"groups": "src1"}));
    c.insert(
        "_claim_sources".into(),
        json!({"src1": {"endpoint": endpoint}}),
    );
    Some(c)
}

/// The claims of an ID token under `p` (not Okta: the state builds Okta's).
pub fn id_token(p: Personality, f: &TokenFacts<'_>) -> Claims {
    build(p, Kind::Id, id_token_order(p), f)
}

/// The claims of an access token under `p` (not Okta; Google's are opaque: empty).
pub fn access_token(p: Personality, f: &TokenFacts<'_>) -> Claims {
    if entra_graph_token(p, f.scopes) {
        return build(p, Kind::Graph, ENTRA_GRAPH_ORDER, f);
    }
    build(p, Kind::Access, access_token_order(p), f)
}

/// The token response members of `p` in its order, and the members it adds.
pub fn shape_token_response(
    p: Personality,
    body: &mut serde_json::Map<String, Value>,
    sid: Option<&str>,
) {
    let order: &[&str] = match p {
        Personality::Okta => return,
        Personality::Entra => &[
            "token_type",
            "scope",
            "expires_in",
            "ext_expires_in",
            "access_token",
            "refresh_token",
            "id_token",
        ],
        Personality::Keycloak => &[
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "refresh_token",
            "token_type",
            "id_token",
            "not-before-policy",
            "session_state",
            "scope",
        ],
        Personality::Auth0 => &[
            "access_token",
            "refresh_token",
            "id_token",
            "scope",
            "expires_in",
            "token_type",
        ],
        Personality::Google => &[
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type",
            "id_token",
        ],
        Personality::Cognito => &[
            "id_token",
            "access_token",
            "refresh_token",
            "expires_in",
            "token_type",
        ],
        _ => &[
            "access_token",
            "id_token",
            "refresh_token",
            "token_type",
            "expires_in",
            "scope",
        ],
    };
    match p {
        Personality::Entra => {
            if let Some(e) = body.get("expires_in").cloned() {
                body.insert("ext_expires_in".into(), e);
            }
        }
        Personality::Keycloak => {
            if body.contains_key("refresh_token") {
                body.insert("refresh_expires_in".into(), 1800.into());
            }
            body.insert("not-before-policy".into(), 0.into());
            if let Some(s) = sid {
                body.insert("session_state".into(), s.into());
            }
        }
        _ => {}
    }
    let mut out = serde_json::Map::new();
    for k in order {
        if let Some(v) = body.remove(*k) {
            out.insert((*k).to_string(), v);
        }
    }
    // Anything else (a fault's addition) keeps its place after.
    out.append(body);
    *body = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_is_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_679_788_496), "2023-03-25T23:54:56.000Z");
    }

    #[test]
    fn subjects_have_each_idps_shape() {
        let u = User::new("alice@example.com", "pw");
        assert_eq!(subject(Personality::Entra, &u, "c").len(), 43);
        assert!(subject(Personality::Auth0, &u, "c").starts_with("auth0|"));
        assert_eq!(subject(Personality::Google, &u, "c").len(), 21);
        assert_eq!(subject(Personality::Keycloak, &u, "c").len(), 36);
        assert_ne!(
            subject(Personality::Entra, &u, "a"),
            subject(Personality::Entra, &u, "b"),
            "pairwise"
        );
    }

    #[test]
    fn auth0_groups_are_where_the_personality_says() {
        let p = Personality::Auth0;
        assert_eq!(groups_claim_name(p, "groups"), AUTH0_GROUPS_CLAIM);
        assert_eq!(p.groups_at(), Some(("id_token", AUTH0_GROUPS_CLAIM)));
    }
}
