//! The fault catalog: every way the IdP can be made to misbehave, as data.
//!
//! Each fault changes exactly one thing the IdP would otherwise do right. The table below
//! is the single source of truth: the admin API lists it, `docs/faults.md` is generated
//! from it (a test fails when they differ), and the strike points in the endpoints match
//! on [`FaultId`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::diag::did_you_mean;

/// Where a fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strikes {
    /// The authorization response (redirect to the client).
    AuthorizationResponse,
    /// The token endpoint's answer.
    TokenEndpoint,
    /// The ID token, wherever it is issued.
    IdToken,
    /// Discovery documents and keys.
    DiscoveryAndKeys,
    /// The userinfo answer.
    Userinfo,
    /// RP-initiated logout.
    Logout,
    /// Browser-facing headers (CORS).
    Browser,
}

impl Strikes {
    /// A heading for documentation.
    pub fn title(self) -> &'static str {
        match self {
            Self::AuthorizationResponse => "Authorization response",
            Self::TokenEndpoint => "Token endpoint",
            Self::IdToken => "ID token",
            Self::DiscoveryAndKeys => "Discovery and keys",
            Self::Userinfo => "Userinfo",
            Self::Logout => "Logout",
            Self::Browser => "Browser (CORS)",
        }
    }
}

/// How the fault tampers with what the IdP sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Style {
    /// The value is left out.
    Remove,
    /// The value is replaced by a plausible wrong one.
    Replace,
    /// Something is added that should not be there.
    Append,
    /// The signature bytes are corrupted.
    CorruptSignature,
    /// The signing algorithm is swapped.
    SwapAlgorithm,
}

impl Style {
    /// The style's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remove => "remove",
            Self::Replace => "replace",
            Self::Append => "append",
            Self::CorruptSignature => "corrupt-signature",
            Self::SwapAlgorithm => "swap-algorithm",
        }
    }
}

/// The documentation of one fault.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FaultDoc {
    /// Stable kebab-case id.
    pub id: FaultId,
    /// Where it strikes.
    pub strikes: Strikes,
    /// What it does, in one line.
    pub description: &'static str,
    /// How it tampers.
    pub style: Style,
    /// The OpenID Foundation RP certification test it mirrors, if any.
    pub oidf_test: Option<&'static str>,
    /// The Okta error it imitates, if any.
    pub okta_error: Option<&'static str>,
    /// The troubleshooting outcome code a correct RP should report (`None`: the RP should
    /// accept the login).
    pub outcome: Option<&'static str>,
    /// What `param` means, and its default, when the fault takes one.
    pub param: Option<&'static str>,
    /// Whether it can be aimed at one user or client (faults on discovery and keys
    /// cannot: they make a scenario exclusive).
    pub scoped: bool,
}

macro_rules! catalog {
    ($($variant:ident $id:literal $strikes:ident $style:ident scoped=$scoped:literal
        oidf=$oidf:expr, okta=$okta:expr, outcome=$outcome:expr, param=$param:expr,
        $desc:literal;)*) => {
        /// A fault's identity (its kebab-case id on the wire and in files).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FaultId {
            $(#[doc = $desc] $variant,)*
        }

        /// The whole catalog, in documentation order.
        pub const CATALOG: &[FaultDoc] = &[
            $(FaultDoc {
                id: FaultId::$variant,
                strikes: Strikes::$strikes,
                description: $desc,
                style: Style::$style,
                oidf_test: $oidf,
                okta_error: $okta,
                outcome: $outcome,
                param: $param,
                scoped: $scoped,
            },)*
        ];

        impl FaultId {
            /// The kebab-case id.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $id,)* }
            }

            /// Every id.
            pub const ALL: &[FaultId] = &[$(FaultId::$variant),*];
        }
    };
}

catalog! {
    StateMissing "state-missing" AuthorizationResponse Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_state_missing"), param=None,
        "The authorization response comes back without `state`.";
    StateMismatch "state-mismatch" AuthorizationResponse Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_state_missing"), param=None,
        "The authorization response carries a different `state` of the same length.";
    CodeMissing "code-missing" AuthorizationResponse Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_received_no_code_or_token_failure"), param=None,
        "The authorization response comes back without `code` (state only).";
    IssParamMismatch "iss-param-mismatch" AuthorizationResponse Append scoped=true
        oidf=None, okta=None, outcome=Some("oidc_auth_error"), param=None,
        "The authorization response carries an `iss` parameter (RFC 9207) naming another issuer of this IdP.";
    IdpError "idp-error" AuthorizationResponse Replace scoped=true
        oidf=None, okta=Some("server_error"), outcome=Some("oidc_auth_error"),
        param=Some("the OAuth error to send: access_denied, login_required, consent_required, interaction_required, temporarily_unavailable or server_error (default)"),
        "After sign-in the IdP redirects back with an error (Okta's wording) instead of a code.";
    UserNotAssigned "user-not-assigned" AuthorizationResponse Replace scoped=true
        oidf=None, okta=Some("user_not_assigned"), outcome=Some("oidc_auth_error"), param=None,
        "The user is treated as not assigned to the app: `access_denied`, \"User is not assigned to the client application.\"";
    ClientSecretRejected "client-secret-rejected" TokenEndpoint Replace scoped=true
        oidf=None, okta=Some("invalid_client_secret"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token endpoint answers 401 `invalid_client` for the right secret (a rotated secret).";
    CodeRejected "code-rejected" TokenEndpoint Replace scoped=true
        oidf=None, okta=Some("invalid_authorization_code"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token endpoint answers 400 `invalid_grant` for a valid code (the code is not consumed).";
    TokenEndpoint5xx "token-endpoint-5xx" TokenEndpoint Replace scoped=true
        oidf=None, okta=Some("E0000009"), outcome=Some("oidc_code_exchange_failure"),
        param=Some("the HTTP status, 500 to 599 (default 500)"),
        "The token endpoint fails with a server error (Okta's E0000009 body).";
    TokenEndpointSlow "token-endpoint-slow" TokenEndpoint Append scoped=true
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_failure"),
        param=Some("the delay in milliseconds, at most 60000 (default 10000)"),
        "The token endpoint answers correctly, but only after a delay.";
    TokenResponseMalformed "token-response-malformed" TokenEndpoint Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token response is cut in the middle: HTTP 200 with JSON that does not parse.";
    IdTokenMissing "id-token-missing" TokenEndpoint Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_token_missing"), param=None,
        "The token response has no `id_token`.";
    AccessTokenMissing "access-token-missing" TokenEndpoint Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_token_missing"), param=None,
        "The token response has no `access_token`.";
    BadSignature "bad-signature" IdToken CorruptSignature scoped=true
        oidf=Some("rp-id_token-bad-sig-rs256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's RS256 signature bytes are corrupted.";
    AlgNone "alg-none" IdToken SwapAlgorithm scoped=true
        oidf=Some("rp-id_token-sig-none"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is unsigned: header `{\"alg\":\"none\"}`, empty signature.";
    Hs256WithClientSecret "hs256-with-client-secret" IdToken SwapAlgorithm scoped=true
        oidf=Some("rp-id_token-bad-sig-hs256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is signed HS256 with the client secret, though discovery says RS256 only.";
    UnknownKid "unknown-kid" IdToken Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is signed by a key the JWKS does not publish, under that key's `kid`.";
    KidAbsentSingleKey "kid-absent-single-key" IdToken Remove scoped=true
        oidf=Some("rp-id_token-kid-absent-single-jwks"), okta=None, outcome=None, param=None,
        "The ID token has no `kid` and, while armed, the JWKS publishes only the signing key: the RP should accept.";
    KidAbsentSeveralKeys "kid-absent-several-keys" IdToken Remove scoped=true
        oidf=Some("rp-id_token-kid-absent-multiple-jwks"), okta=None, outcome=None, param=None,
        "The ID token has no `kid` while the JWKS publishes several keys: the RP may reject it or try each key.";
    IssMismatch "iss-mismatch" IdToken Replace scoped=true
        oidf=Some("rp-id_token-issuer-mismatch"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `iss` names another issuer of this IdP (the org server for a custom one, `default` for the org).";
    AudMismatch "aud-mismatch" IdToken Replace scoped=true
        oidf=Some("rp-id_token-aud"), okta=None, outcome=Some("oidc_generic_token_failure"),
        param=Some("the audience to put in (default: another client id)"),
        "The ID token's `aud` is another client's id.";
    AudMissing "aud-missing" IdToken Remove scoped=true
        oidf=Some("rp-id_token-aud"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `aud`.";
    SubMissing "sub-missing" IdToken Remove scoped=true
        oidf=Some("rp-id_token-sub"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `sub`.";
    IatMissing "iat-missing" IdToken Remove scoped=true
        oidf=Some("rp-id_token-iat"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `iat`.";
    ExpMissing "exp-missing" IdToken Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `exp`.";
    Expired "expired" IdToken Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token expired an hour ago (`iat` two hours ago, `exp` one hour ago).";
    IssuedInFuture "issued-in-future" IdToken Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is issued an hour in the future (`iat` now + 1 h, `exp` now + 2 h).";
    NonceMissing "nonce-missing" IdToken Remove scoped=true
        oidf=Some("rp-nonce-invalid"), okta=None, outcome=Some("oidc_nonce_missing"), param=None,
        "The ID token has no `nonce`, though the RP sent one.";
    NonceMismatch "nonce-mismatch" IdToken Replace scoped=true
        oidf=Some("rp-nonce-invalid"), okta=None, outcome=Some("oidc_nonce_missing"), param=None,
        "The ID token's `nonce` differs from the one the RP sent (same length; added when the RP sent none).";
    AtHashBad "at-hash-bad" IdToken Replace scoped=true
        oidf=Some("rp-id_token-bad-at_hash"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `at_hash` does not match the access token issued with it.";
    AtHashMissing "at-hash-missing" IdToken Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `at_hash`, though an access token is issued with it.";
    CHashBad "c-hash-bad" IdToken Replace scoped=true
        oidf=Some("rp-id_token-bad-c_hash"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "In hybrid flows, the ID token's `c_hash` does not match the code issued with it.";
    CHashMissing "c-hash-missing" IdToken Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "In hybrid flows, the ID token has no `c_hash`.";
    EmailMissing "email-missing" IdToken Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_missing_email_claim"), param=None,
        "The ID token has no `email` (nor `email_verified`), though the scope `email` was granted.";
    EmailUnverified "email-unverified" IdToken Replace scoped=true
        oidf=None, okta=None, outcome=Some("oidc_login_error"), param=None,
        "`email_verified` is false, in the ID token and at /userinfo.";
    GroupsChanged "groups-changed" IdToken Replace scoped=true
        oidf=None, okta=None, outcome=None, param=Some("comma-separated groups to send (default: Everyone,harness-unexpected)"),
        "The `groups` claim lists other groups than the user's, in the ID token and at /userinfo.";
    DiscoveryUnavailable "discovery-unavailable" DiscoveryAndKeys Replace scoped=false
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "Discovery answers 503.";
    DiscoveryMalformed "discovery-malformed" DiscoveryAndKeys Replace scoped=false
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "Discovery answers 200 with JSON cut in the middle.";
    DiscoveryIssuerMismatch "discovery-issuer-mismatch" DiscoveryAndKeys Replace scoped=false
        oidf=Some("rp-discovery-issuer-not-matching-config"), okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "The discovery document's `issuer` names another issuer of this IdP.";
    JwksUnavailable "jwks-unavailable" DiscoveryAndKeys Replace scoped=false
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "The keys endpoint answers 503.";
    KeyRotationKeepOld "key-rotation-keep-old" DiscoveryAndKeys Replace scoped=false
        oidf=Some("rp-key-rotation-op-sign-key"), okta=None, outcome=None,
        param=Some("the authorization server to rotate (default: every server)"),
        "When armed, the keys rotate: the published next key signs from now on, the old one stays published. Logins must go on working.";
    KeyRotationDropOld "key-rotation-drop-old" DiscoveryAndKeys Replace scoped=false
        oidf=Some("rp-key-rotation-op-sign-key-native"), okta=None, outcome=None,
        param=Some("the authorization server to rotate (default: every server)"),
        "When armed, the keys rotate and the old key is dropped from the JWKS. New logins must work (the RP refetches the JWKS).";
    UserinfoSubMismatch "userinfo-sub-mismatch" Userinfo Replace scoped=true
        oidf=Some("rp-userinfo-bad-sub-claim"), okta=None, outcome=Some("oidc_login_error"), param=None,
        "/userinfo answers with another user's `sub`.";
    UserinfoUnauthorized "userinfo-unauthorized" Userinfo Replace scoped=true
        oidf=None, okta=Some("access_token_invalid"), outcome=Some("oidc_login_error"), param=None,
        "/userinfo answers 401 `invalid_token` for a valid access token.";
    UserinfoEmailMissing "userinfo-email-missing" Userinfo Remove scoped=true
        oidf=None, okta=None, outcome=Some("oidc_missing_email_claim"), param=None,
        "/userinfo answers without `email` (nor `email_verified`).";
    LogoutStateMissing "logout-state-missing" Logout Remove scoped=true
        oidf=None, okta=None, outcome=None, param=None,
        "The post-logout redirect comes back without the RP's `state`.";
    LogoutSessionKept "logout-session-kept" Logout Remove scoped=true
        oidf=None, okta=None, outcome=None, param=None,
        "Logout redirects as usual but does not end the IdP session: the next login is silent.";
    CorsMissing "cors-missing" Browser Remove scoped=true
        oidf=None, okta=Some("illegal_origin_browser_request"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "Token, userinfo, introspect, revoke and keys answer without CORS headers, even for trusted origins.";
}

impl FaultId {
    /// Whether, while armed, it changes what every user sees: faults on discovery and
    /// keys, and `kid-absent-single-key` (which trims the JWKS for everyone). Scenarios
    /// with such a fault must run alone.
    pub fn affects_everyone(self) -> bool {
        !self.doc().scoped || self == FaultId::KidAbsentSingleKey
    }

    /// This fault's documentation.
    pub fn doc(self) -> &'static FaultDoc {
        CATALOG
            .iter()
            .find(|d| d.id == self)
            .expect("every fault id has a catalog row")
    }
}

impl fmt::Display for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An id that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{found}`{}", suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownFault {
    /// What was given.
    pub found: String,
    /// The closest id.
    pub suggestion: Option<&'static str>,
}

impl FromStr for FaultId {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, UnknownFault> {
        FaultId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownFault {
                found: s.to_string(),
                suggestion: did_you_mean(s, FaultId::ALL.iter().map(|id| id.as_str())),
            })
    }
}

impl Serialize for FaultId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FaultId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The catalog as Markdown (`docs/faults.md` is this text; a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Fault catalog\n\n\
         Generated from `mock-idp/src/faults/catalog.rs` (a test fails when this file differs;\n\
         `UPDATE_DOCS=1 cargo test -p mock-idp faults_doc` rewrites it). Each fault changes exactly\n\
         one thing the IdP would otherwise do right.\n\n\
         Arm a fault with `oidc-harness idp --fault ID[=PARAM][:USER]`, with `[[faults]]` in a\n\
         tenant file, with `POST /_harness/faults`, or with `MockIdp::arm` in Rust. A fault is\n\
         aimed at one user, one client or everyone, for one request, n requests or until\n\
         disarmed; faults on discovery and keys are for everyone only. *Outcome* is the\n\
         troubleshooting code a correct relying party reports; \"accept\" means the login must\n\
         succeed.\n",
    );
    let mut section = None;
    for d in CATALOG {
        if section != Some(d.strikes) {
            section = Some(d.strikes);
            out.push_str(&format!(
                "\n## {}\n\n| fault | what it does | style | outcome | references |\n|---|---|---|---|---|\n",
                d.strikes.title()
            ));
        }
        let mut refs = Vec::new();
        if let Some(t) = d.oidf_test {
            refs.push(format!("OpenID RP test `{t}`"));
        }
        if let Some(e) = d.okta_error {
            refs.push(format!("Okta `{e}`"));
        }
        let mut what = d.description.replace('|', "\\|");
        if let Some(p) = d.param {
            what.push_str(&format!(" Param: {p}."));
        }
        if !d.scoped {
            what.push_str(" Everyone only.");
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            d.id,
            what,
            d.style.as_str(),
            d.outcome.map_or("accept".to_string(), |o| format!("`{o}`")),
            if refs.is_empty() {
                "—".to_string()
            } else {
                refs.join(", ")
            }
        ));
    }
    out
}
