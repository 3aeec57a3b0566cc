//! Personalities: which identity provider the mock is on the wire.
//!
//! A personality decides, for one IdP, everything an RP can see: the issuer's form, the
//! endpoint paths and hosts, the discovery document (the IdP's own, captured, with our
//! URLs in it: `reference/`), the JWKS shape and key ids, the claims of ID and access
//! tokens and their order, the token response, the PKCE methods, lifetimes, and the words
//! and statuses of every error (`errors`). The rest of the IdP (grants, sessions, faults,
//! the journal) is the same under every personality: a fault strikes the same way and the
//! journal records the same internal outcome code, only the wire differs.
//!
//! Sources for every choice are in `../shared/reference/<idp>/README.md` and
//! `docs/personalities.md`.

pub mod claims;
pub mod errors;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::journal::Endpoint;

/// An identity provider the mock can be.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Personality {
    /// Okta (org and custom authorization servers): the default.
    #[default]
    Okta,
    /// Microsoft Entra ID v2.0 endpoints, per tenant and `common`/`organizations`.
    Entra,
    /// Microsoft AD FS 2016+ (`/adfs`).
    Adfs,
    /// Auth0 (issuer with a trailing slash).
    Auth0,
    /// Keycloak (realms).
    Keycloak,
    /// Google (four hosts).
    Google,
    /// Amazon Cognito user pools (two hosts).
    Cognito,
    /// PingFederate (file-like endpoint names, `ping_end_session_endpoint`).
    Pingfederate,
    /// PingOne (`/{envId}/as`).
    Pingone,
    /// The specifications alone, nothing vendor-specific (ClearML's "Custom").
    Generic,
}

/// One endpoint a personality serves: what it is, on which of its hosts, at which path
/// (`{server}` stands for the segment that names an authorization server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Index into [`Personality::hosts`].
    pub host: usize,
    /// The path.
    pub path: &'static str,
}

const fn r(endpoint: Endpoint, host: usize, path: &'static str) -> Route {
    Route {
        endpoint,
        host,
        path,
    }
}

use Endpoint as E;

const ENTRA: &[Route] = &[
    r(
        E::Discovery,
        0,
        "/{server}/v2.0/.well-known/openid-configuration",
    ),
    r(E::Authorize, 0, "/{server}/oauth2/v2.0/authorize"),
    r(E::Token, 0, "/{server}/oauth2/v2.0/token"),
    r(E::Keys, 0, "/{server}/discovery/v2.0/keys"),
    r(E::Logout, 0, "/{server}/oauth2/v2.0/logout"),
    r(E::CheckSession, 0, "/{server}/oauth2/v2.0/checksession"),
    r(E::Userinfo, 1, "/oidc/userinfo"),
    r(E::ClaimSource, 1, "/v1.0/users/{oid}/getMemberObjects"),
];
const ADFS: &[Route] = &[
    r(E::Discovery, 0, "/adfs/.well-known/openid-configuration"),
    r(E::Authorize, 0, "/adfs/oauth2/authorize/"),
    r(E::Authorize, 0, "/adfs/oauth2/authorize"),
    r(E::Token, 0, "/adfs/oauth2/token/"),
    r(E::Token, 0, "/adfs/oauth2/token"),
    r(E::Keys, 0, "/adfs/discovery/keys"),
    r(E::Userinfo, 0, "/adfs/userinfo"),
    r(E::Logout, 0, "/adfs/oauth2/logout"),
    r(E::CheckSession, 0, "/adfs/oauth2/checksession"),
];
const AUTH0: &[Route] = &[
    r(E::Discovery, 0, "/.well-known/openid-configuration"),
    r(E::Authorize, 0, "/authorize"),
    r(E::Token, 0, "/oauth/token"),
    r(E::Userinfo, 0, "/userinfo"),
    r(E::Keys, 0, "/.well-known/jwks.json"),
    r(E::Revoke, 0, "/oauth/revoke"),
    r(E::Logout, 0, "/oidc/logout"),
    r(E::Logout, 0, "/v2/logout"),
    r(E::CheckSession, 0, "/oidc/checksession"),
];
const KEYCLOAK: &[Route] = &[
    r(
        E::Discovery,
        0,
        "/realms/{server}/.well-known/openid-configuration",
    ),
    r(
        E::Authorize,
        0,
        "/realms/{server}/protocol/openid-connect/auth",
    ),
    r(
        E::Token,
        0,
        "/realms/{server}/protocol/openid-connect/token",
    ),
    r(
        E::Introspect,
        0,
        "/realms/{server}/protocol/openid-connect/token/introspect",
    ),
    r(
        E::Userinfo,
        0,
        "/realms/{server}/protocol/openid-connect/userinfo",
    ),
    r(
        E::Logout,
        0,
        "/realms/{server}/protocol/openid-connect/logout",
    ),
    r(E::Keys, 0, "/realms/{server}/protocol/openid-connect/certs"),
    r(
        E::Revoke,
        0,
        "/realms/{server}/protocol/openid-connect/revoke",
    ),
    r(
        E::CheckSession,
        0,
        "/realms/{server}/protocol/openid-connect/login-status-iframe.html",
    ),
];
const GOOGLE: &[Route] = &[
    r(E::Discovery, 0, "/.well-known/openid-configuration"),
    r(E::Authorize, 0, "/o/oauth2/v2/auth"),
    r(E::Token, 1, "/token"),
    r(E::Revoke, 1, "/revoke"),
    r(E::Userinfo, 2, "/v1/userinfo"),
    r(E::Keys, 3, "/oauth2/v3/certs"),
    r(E::CheckSession, 0, "/o/oauth2/checksession"),
];
const COGNITO: &[Route] = &[
    r(
        E::Discovery,
        0,
        "/{server}/.well-known/openid-configuration",
    ),
    r(E::Keys, 0, "/{server}/.well-known/jwks.json"),
    r(E::Authorize, 1, "/oauth2/authorize"),
    r(E::Token, 1, "/oauth2/token"),
    r(E::Userinfo, 1, "/oauth2/userInfo"),
    r(E::Revoke, 1, "/oauth2/revoke"),
    r(E::Logout, 1, "/logout"),
    r(E::CheckSession, 1, "/oauth2/checksession"),
];
const PINGFEDERATE: &[Route] = &[
    r(E::Discovery, 0, "/.well-known/openid-configuration"),
    r(E::Authorize, 0, "/as/authorization.oauth2"),
    r(E::Token, 0, "/as/token.oauth2"),
    r(E::Revoke, 0, "/as/revoke_token.oauth2"),
    r(E::Userinfo, 0, "/idp/userinfo.openid"),
    r(E::Introspect, 0, "/as/introspect.oauth2"),
    r(E::Keys, 0, "/pf/JWKS"),
    r(E::Logout, 0, "/idp/startSLO.ping"),
    r(E::CheckSession, 0, "/as/checksession.oauth2"),
];
const PINGONE: &[Route] = &[
    r(
        E::Discovery,
        0,
        "/{server}/as/.well-known/openid-configuration",
    ),
    r(E::Authorize, 0, "/{server}/as/authorize"),
    r(E::Token, 0, "/{server}/as/token"),
    r(E::Userinfo, 0, "/{server}/as/userinfo"),
    r(E::Keys, 0, "/{server}/as/jwks"),
    r(E::Logout, 0, "/{server}/as/signoff"),
    r(E::Introspect, 0, "/{server}/as/introspect"),
    r(E::Revoke, 0, "/{server}/as/revoke"),
    r(E::CheckSession, 0, "/{server}/as/checksession"),
];
const GENERIC: &[Route] = &[
    r(
        E::Discovery,
        0,
        "/{server}/.well-known/openid-configuration",
    ),
    r(E::Authorize, 0, "/{server}/authorize"),
    r(E::Token, 0, "/{server}/token"),
    r(E::Userinfo, 0, "/{server}/userinfo"),
    r(E::Keys, 0, "/{server}/jwks"),
    r(E::Logout, 0, "/{server}/logout"),
    r(E::Introspect, 0, "/{server}/introspect"),
    r(E::Revoke, 0, "/{server}/revoke"),
    r(E::CheckSession, 0, "/{server}/check_session"),
];

impl Personality {
    /// Every personality.
    pub const ALL: [Personality; 10] = [
        Self::Okta,
        Self::Entra,
        Self::Adfs,
        Self::Auth0,
        Self::Keycloak,
        Self::Google,
        Self::Cognito,
        Self::Pingfederate,
        Self::Pingone,
        Self::Generic,
    ];

    /// Its name in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::Adfs => "adfs",
            Self::Auth0 => "auth0",
            Self::Keycloak => "keycloak",
            Self::Google => "google",
            Self::Cognito => "cognito",
            Self::Pingfederate => "pingfederate",
            Self::Pingone => "pingone",
            Self::Generic => "generic",
        }
    }

    /// The IdP's product name, for people.
    pub fn title(self) -> &'static str {
        match self {
            Self::Okta => "Okta",
            Self::Entra => "Microsoft Entra ID",
            Self::Adfs => "Microsoft AD FS",
            Self::Auth0 => "Auth0",
            Self::Keycloak => "Keycloak",
            Self::Google => "Google",
            Self::Cognito => "Amazon Cognito",
            Self::Pingfederate => "PingFederate",
            Self::Pingone => "PingOne",
            Self::Generic => "a generic OpenID Provider",
        }
    }

    /// The hosts it spreads its endpoints over (the first serves the issuer): what each
    /// stands for. Every one is a loopback listener of its own.
    pub fn hosts(self) -> &'static [&'static str] {
        match self {
            Self::Entra => &["login.microsoftonline.com", "graph.microsoft.com"],
            Self::Google => &[
                "accounts.google.com",
                "oauth2.googleapis.com",
                "openidconnect.googleapis.com",
                "www.googleapis.com",
            ],
            Self::Cognito => &[
                "cognito-idp.{region}.amazonaws.com",
                "{domain}.auth.{region}.amazoncognito.com",
            ],
            _ => &["the IdP"],
        }
    }

    /// Its routes (Okta's are built by the router from Okta's own scheme; this is empty
    /// for it).
    pub fn routes(self) -> &'static [Route] {
        match self {
            Self::Okta => &[],
            Self::Entra => ENTRA,
            Self::Adfs => ADFS,
            Self::Auth0 => AUTH0,
            Self::Keycloak => KEYCLOAK,
            Self::Google => GOOGLE,
            Self::Cognito => COGNITO,
            Self::Pingfederate => PINGFEDERATE,
            Self::Pingone => PINGONE,
            Self::Generic => GENERIC,
        }
    }

    /// Whether one IdP host serves one issuer only (every server id names it).
    pub fn single_issuer(self) -> bool {
        matches!(
            self,
            Self::Adfs | Self::Auth0 | Self::Google | Self::Cognito | Self::Pingfederate
        )
    }

    /// The server a request without a server segment is for.
    pub fn default_server(self) -> &'static str {
        match self {
            Self::Okta => "org",
            _ => "default",
        }
    }

    /// The path segment that names authorization server `id` (a realm, a tenant id, a
    /// user pool id, an environment id).
    pub fn segment(self, id: &str) -> String {
        match self {
            Self::Entra if self.is_alias(id) => id.to_string(),
            Self::Entra => crate::ids::stable_uuid(&format!("entra tenant {id}")),
            Self::Pingone => crate::ids::stable_uuid(&format!("pingone environment {id}")),
            Self::Cognito => format!(
                "us-east-1_{}",
                &crate::ids::stable_okta_id("", &format!("cognito pool {id}"))[..9]
            ),
            _ => id.to_string(),
        }
    }

    /// Aliases of a server segment that name no server of their own (Entra's `common`,
    /// `organizations` and `consumers`): requests through them are for the default
    /// server, and discovery says `{tenantid}` for the issuer's tenant.
    pub fn is_alias(self, segment: &str) -> bool {
        self == Self::Entra && matches!(segment, "common" | "organizations" | "consumers")
    }

    /// The issuer of server `id`, given the origins of [`Self::hosts`].
    pub fn issuer(self, origins: &[String], id: &str) -> String {
        let o = &origins[0];
        match self {
            Self::Okta if id == "org" => o.clone(),
            Self::Okta => format!("{o}/oauth2/{id}"),
            Self::Entra => format!("{o}/{}/v2.0", self.segment(id)),
            Self::Adfs => format!("{o}/adfs"),
            Self::Auth0 => format!("{o}/"),
            Self::Keycloak => format!("{o}/realms/{id}"),
            Self::Google | Self::Pingfederate => o.clone(),
            Self::Cognito => format!("{o}/{}", self.segment(self.default_server())),
            Self::Pingone => format!("{o}/{}/as", self.segment(id)),
            Self::Generic => format!("{o}/{id}"),
        }
    }

    /// The URL of `endpoint` of server `id` (the first route of that endpoint), or `None`
    /// when the IdP has no such endpoint.
    pub fn url(self, origins: &[String], id: &str, endpoint: Endpoint) -> Option<String> {
        if self == Self::Okta {
            let base = if id == "org" {
                format!("{}/oauth2/v1", origins[0])
            } else {
                format!("{}/oauth2/{id}/v1", origins[0])
            };
            let path = match endpoint {
                E::Discovery => {
                    return Some(format!(
                        "{}/.well-known/openid-configuration",
                        self.issuer(origins, id)
                    ));
                }
                E::Keys => "keys",
                E::Authorize => "authorize",
                E::Token => "token",
                E::Userinfo => "userinfo",
                E::Introspect => "introspect",
                E::Revoke => "revoke",
                E::Logout => "logout",
                E::CheckSession => "check_session",
                E::SignIn | E::BackchannelLogout | E::ClaimSource | E::Scim => return None,
            };
            return Some(format!("{base}/{path}"));
        }
        let route = self.routes().iter().find(|r| r.endpoint == endpoint)?;
        let seg = self.segment(id);
        let origin = origins.get(route.host).unwrap_or(&origins[0]);
        Some(format!("{origin}{}", route.path.replace("{server}", &seg)))
    }

    /// Where the IdP sends a user's groups once the admin has set it up (Okta's and
    /// Entra's groups claim, an Auth0 Action): which token (`id_token` or
    /// `access_token`) and which claim, dotted for a nested member. Keycloak's realm
    /// roles are in the access token by default; Google sends none.
    pub fn groups_at(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Google => None,
            Self::Keycloak => Some(("access_token", "realm_access.roles")),
            Self::Cognito => Some(("id_token", "cognito:groups")),
            Self::Auth0 => Some(("id_token", claims::AUTH0_GROUPS_CLAIM)),
            _ => Some(("id_token", "groups")),
        }
    }

    /// Whether groups reach tokens only once a groups claim is configured (the tenant's
    /// `groups_claim`); Keycloak's realm roles and Cognito's groups always do.
    pub fn groups_need_claim(self) -> bool {
        !matches!(self, Self::Keycloak | Self::Cognito | Self::Google)
    }

    /// Whether RPs can find an RP-initiated logout endpoint in its discovery document
    /// (`end_session_endpoint`): Google has none, Cognito's and PingFederate's are not
    /// advertised under that name.
    pub fn advertises_end_session(self) -> bool {
        !matches!(self, Self::Google | Self::Cognito | Self::Pingfederate)
    }

    /// The IdP's own logout parameter for the post-logout URI, besides the standard
    /// `post_logout_redirect_uri`.
    pub fn logout_redirect_param(self) -> Option<&'static str> {
        match self {
            Self::Cognito => Some("logout_uri"),
            Self::Auth0 => Some("returnTo"),
            Self::Pingfederate => Some("TargetResource"),
            _ => None,
        }
    }

    /// Whether it sends OpenID Connect Back-Channel Logout 1.0 logout tokens to RPs that
    /// register a `backchannel_logout_uri` (Okta does once one is registered here; Google,
    /// Cognito, Entra ID and AD FS do not).
    pub fn backchannel_logout(self) -> bool {
        matches!(
            self,
            Self::Okta
                | Self::Generic
                | Self::Keycloak
                | Self::Auth0
                | Self::Pingfederate
                | Self::Pingone
        )
    }

    /// Whether it loads RPs' Front-Channel Logout 1.0 URIs (Entra ID and AD FS advertise
    /// it; Google, Cognito and Auth0 do not).
    pub fn frontchannel_logout(self) -> bool {
        matches!(
            self,
            Self::Okta | Self::Generic | Self::Keycloak | Self::Entra | Self::Adfs
        )
    }

    /// Whether it offers Session Management 1.0's check-session iframe.
    pub fn session_management(self) -> bool {
        matches!(self, Self::Okta | Self::Generic | Self::Keycloak)
    }

    /// Whether its discovery document lists `alg` among the ID token signing algorithms.
    pub fn offers_id_token_alg(self, alg: &str) -> bool {
        if self == Self::Okta {
            return alg == "RS256";
        }
        let doc: Value = serde_json::from_str(self.template(false)).unwrap_or_default();
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == alg))
    }

    /// Whether /authorize refuses a request without `state` (Okta's `invalid_state`).
    pub fn requires_state(self) -> bool {
        self == Self::Okta
    }

    /// The PKCE methods it accepts.
    pub fn pkce_methods(self) -> &'static [&'static str] {
        match self {
            Self::Okta => &["S256"],
            Self::Cognito => &["S256"],
            _ => &["S256", "plain"],
        }
    }

    /// ID and access token lifetime in seconds (Keycloak: 300).
    pub fn token_ttl(self) -> i64 {
        match self {
            Self::Keycloak => 300,
            Self::Auth0 => 86_400,
            Self::Google => 3599,
            _ => 3600,
        }
    }

    /// Authorization code lifetime in seconds (Keycloak: 60, Entra: 600).
    pub fn code_ttl(self) -> i64 {
        match self {
            Self::Keycloak => 60,
            Self::Entra => 600,
            _ => 300,
        }
    }

    /// The discovery document template (the IdP's own, captured) and, for Entra, the one
    /// of `common`.
    fn template(self, alias: bool) -> &'static str {
        match self {
            Self::Okta => "",
            Self::Entra if alias => include_str!("reference/entra-discovery-common.json"),
            Self::Entra => include_str!("reference/entra-discovery.json"),
            Self::Adfs => include_str!("reference/adfs-discovery.json"),
            Self::Auth0 => include_str!("reference/auth0-discovery.json"),
            Self::Keycloak => include_str!("reference/keycloak-discovery.json"),
            Self::Google => include_str!("reference/google-discovery.json"),
            Self::Cognito => include_str!("reference/cognito-discovery.json"),
            Self::Pingfederate => include_str!("reference/pingfederate-discovery.json"),
            Self::Pingone => include_str!("reference/pingone-discovery.json"),
            Self::Generic => include_str!("reference/generic-discovery.json"),
        }
    }

    /// The discovery document of server `id` (reached through `segment`, which may be an
    /// alias): the IdP's captured document, member for member and in its order, with our
    /// URLs. Endpoints we serve get their URL; the others keep their path on our host.
    pub fn discovery(self, origins: &[String], id: &str, segment: &str) -> Value {
        let alias = self.is_alias(segment);
        let mut doc: Value =
            serde_json::from_str(self.template(alias)).expect("discovery templates are JSON");
        let issuer = self.issuer(origins, id);
        let Some(obj) = doc.as_object_mut() else {
            return doc;
        };
        let endpoint_of = |member: &str| -> Option<Endpoint> {
            Some(match member {
                "authorization_endpoint" => E::Authorize,
                "token_endpoint" => E::Token,
                "userinfo_endpoint" => E::Userinfo,
                "jwks_uri" => E::Keys,
                "end_session_endpoint" | "ping_end_session_endpoint" => E::Logout,
                "introspection_endpoint" => E::Introspect,
                "revocation_endpoint" => E::Revoke,
                _ => return None,
            })
        };
        let rehost = |text: &str| -> Option<String> {
            // Another endpoint of the IdP (device code, registration…): same path, our
            // host, placeholders filled.
            let rest = text
                .strip_prefix("https://")
                .or_else(|| text.strip_prefix("http://"))?;
            let path = rest.find('/').map_or("", |i| &rest[i..]);
            let seg = if alias {
                segment.to_string()
            } else {
                self.segment(id)
            };
            let path = path
                .replace("{tenant}", &seg)
                .replace("{realm}", id)
                .replace("{envId}", &seg)
                .replace("{userPoolId}", &seg);
            Some(format!("{}{path}", origins[0]))
        };
        for (k, v) in obj.iter_mut() {
            // Nested URLs (Keycloak's `mtls_endpoint_aliases`) move to our host too.
            if let Some(inner) = v.as_object_mut() {
                for iv in inner.values_mut() {
                    if let Some(u) = iv.as_str().and_then(&rehost) {
                        *iv = u.into();
                    }
                }
                continue;
            }
            let Some(text) = v.as_str() else { continue };
            if k == "issuer" {
                *v = if alias {
                    // Entra's common document: the issuer's tenant is the literal
                    // `{tenantid}`, every tenant's tokens carry their own.
                    issuer.replace(&self.segment(id), "{tenantid}").into()
                } else {
                    issuer.clone().into()
                };
                continue;
            }
            if k == "access_token_issuer" {
                *v = format!("{}/adfs/services/trust", origins[0]).into();
                continue;
            }
            let ours = endpoint_of(k).and_then(|e| {
                let url = self.url(origins, id, e)?;
                Some(if alias {
                    url.replace(&self.segment(id), segment)
                } else {
                    url
                })
            });
            if let Some(url) = ours.or_else(|| rehost(text)) {
                *v = url.into();
            }
        }
        doc
    }

    /// The `kid` the IdP gives a key, from its RFC 7638 thumbprint and its certificate's
    /// SHA-1 thumbprint (`x5t`), in the IdP's shape.
    pub fn kid(self, thumbprint: &str, x5t: &str, x5t_hex: &str) -> String {
        match self {
            // Entra and AD FS: the certificate thumbprint.
            Self::Entra | Self::Adfs => x5t.to_string(),
            // Auth0: 21 characters.
            Self::Auth0 => thumbprint.chars().take(21).collect(),
            // Google: 40 hex digits.
            Self::Google => x5t_hex.to_string(),
            // Cognito: standard base64 with `+`, `/` and `=`.
            Self::Cognito => {
                let std = thumbprint.replace('-', "+").replace('_', "/");
                format!("{std}=")
            }
            _ => thumbprint.to_string(),
        }
    }

    /// A key's JWK, members in the IdP's order.
    pub fn jwk(self, kid: &str, n: &str, e: &str, x5c: &str, x5t: &str, x5t256: &str) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        let chain = || Value::from(vec![x5c]);
        match self {
            Self::Okta | Self::Generic | Self::Pingfederate | Self::Pingone => {
                put("kty", "RSA".into());
                put("alg", "RS256".into());
                put("kid", kid.into());
                put("use", "sig".into());
                put("e", e.into());
                put("n", n.into());
            }
            Self::Entra => {
                put("kty", "RSA".into());
                put("use", "sig".into());
                put("kid", kid.into());
                put("x5t", x5t.into());
                put("n", n.into());
                put("e", e.into());
                put("x5c", chain());
            }
            Self::Adfs => {
                put("kty", "RSA".into());
                put("use", "sig".into());
                put("alg", "RS256".into());
                put("kid", kid.into());
                put("x5t", x5t.into());
                put("n", n.into());
                put("e", e.into());
                put("x5c", chain());
            }
            Self::Auth0 => {
                put("kty", "RSA".into());
                put("use", "sig".into());
                put("n", n.into());
                put("e", e.into());
                put("kid", kid.into());
                put("x5t", x5t.into());
                put("x5c", chain());
                put("alg", "RS256".into());
            }
            Self::Keycloak => {
                put("kid", kid.into());
                put("kty", "RSA".into());
                put("alg", "RS256".into());
                put("use", "sig".into());
                put("n", n.into());
                put("e", e.into());
                put("x5c", chain());
                put("x5t", x5t.into());
                put("x5t#S256", x5t256.into());
            }
            Self::Google => {
                put("alg", "RS256".into());
                put("use", "sig".into());
                put("kty", "RSA".into());
                put("e", e.into());
                put("n", n.into());
                put("kid", kid.into());
            }
            Self::Cognito => {
                put("alg", "RS256".into());
                put("e", e.into());
                put("kid", kid.into());
                put("kty", "RSA".into());
                put("n", n.into());
                put("use", "sig".into());
            }
        }
        Value::Object(m)
    }

    /// The JWKS of a server as the IdP publishes it, from the signing keys' JWKs: Entra
    /// names the issuer on every key (`{tenantid}` through `common`); Keycloak lists its
    /// encryption key (`use: enc`, `RSA-OAEP`) first, so an RP that takes the first key
    /// breaks.
    pub fn jwks(self, mut keys: Vec<Value>, issuer: &str, enc_key: Option<Value>) -> Value {
        match self {
            Self::Entra => {
                for k in &mut keys {
                    if let Some(o) = k.as_object_mut() {
                        o.insert("issuer".into(), issuer.into());
                    }
                }
            }
            Self::Keycloak => {
                if let Some(mut enc) = enc_key {
                    if let Some(o) = enc.as_object_mut() {
                        o.insert("alg".into(), "RSA-OAEP".into());
                        o.insert("use".into(), "enc".into());
                    }
                    keys.insert(0, enc);
                }
            }
            _ => {}
        }
        serde_json::json!({ "keys": keys })
    }
}

impl std::fmt::Display for Personality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Personality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown personality {s:?}: expected one of {}",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}
