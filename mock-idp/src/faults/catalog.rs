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
use crate::flows::FlowSet;
use crate::journal::Endpoint;

/// Where a fault strikes: the one place in the IdP where it changes what is sent. Every
/// endpoint asks the catalog which faults strike at its points ([`Strikes::faults`]), so
/// this table is the only list of where each fault acts; the journal entry of the answer
/// it changed names it, which is how a harness proves that a fault struck.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strikes {
    /// An authorization request as it arrives, before the sign-in page.
    AuthorizeRequest,
    /// After sign-in, before the authorization response: an error instead of a code.
    SignInOutcome,
    /// The parameters of the authorization response (redirect to the client).
    AuthorizationResponse,
    /// A token request as it arrives, before anything is checked.
    TokenRequest,
    /// A token request whose client has authenticated.
    ClientAuthentication,
    /// Redeeming an authorization code.
    CodeRedemption,
    /// The body of a successful token response.
    TokenResponse,
    /// The claims of an ID token, wherever it is issued.
    IdTokenClaims,
    /// The header and signature of an ID token, wherever it is issued.
    IdTokenSignature,
    /// The claims of the ID token of a refresh response (OIDC Core 12.2).
    RefreshIdToken,
    /// Discovery documents.
    Discovery,
    /// The JWKS (`/v1/keys`).
    Keys,
    /// Userinfo's check of the access token.
    UserinfoAuthorization,
    /// The claims userinfo answers.
    UserinfoClaims,
    /// RP-initiated logout.
    Logout,
    /// The logout token POSTed to an RP's back-channel logout URI.
    LogoutToken,
    /// The front-channel logout URL the IdP's logout page loads for an RP.
    FrontchannelLogout,
    /// CORS headers on browser calls.
    Cors,
    /// The requests of the IdP's SCIM client to an app (provisioning).
    Provisioning,
}

impl Strikes {
    /// The documentation section the point belongs to.
    pub fn title(self) -> &'static str {
        match self {
            Self::AuthorizeRequest => "Authorization request",
            Self::SignInOutcome | Self::AuthorizationResponse => "Authorization response",
            Self::TokenRequest
            | Self::ClientAuthentication
            | Self::CodeRedemption
            | Self::TokenResponse => "Token endpoint",
            Self::IdTokenClaims | Self::IdTokenSignature => "ID token",
            Self::RefreshIdToken => "Refresh",
            Self::Discovery | Self::Keys => "Discovery and keys",
            Self::UserinfoAuthorization | Self::UserinfoClaims => "Userinfo",
            Self::Logout | Self::LogoutToken | Self::FrontchannelLogout => "Logout",
            Self::Cors => "Browser (CORS)",
            Self::Provisioning => "Provisioning (SCIM)",
        }
    }

    /// The point's name, as in the catalog's documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizeRequest => "authorize-request",
            Self::SignInOutcome => "sign-in-outcome",
            Self::AuthorizationResponse => "authorization-response",
            Self::TokenRequest => "token-request",
            Self::ClientAuthentication => "client-authentication",
            Self::CodeRedemption => "code-redemption",
            Self::TokenResponse => "token-response",
            Self::IdTokenClaims => "id-token-claims",
            Self::IdTokenSignature => "id-token-signature",
            Self::RefreshIdToken => "refresh-id-token",
            Self::Discovery => "discovery",
            Self::Keys => "keys",
            Self::UserinfoAuthorization => "userinfo-authorization",
            Self::UserinfoClaims => "userinfo-claims",
            Self::Logout => "logout",
            Self::LogoutToken => "logout-token",
            Self::FrontchannelLogout => "frontchannel-logout",
            Self::Cors => "cors",
            Self::Provisioning => "provisioning",
        }
    }

    /// The endpoints whose answers it changes (where the journal shows a strike).
    pub fn endpoints(self) -> &'static [Endpoint] {
        match self {
            Self::AuthorizeRequest => &[Endpoint::Authorize],
            // The answer to the sign-in form, or to authorize when the IdP session exists.
            Self::SignInOutcome | Self::AuthorizationResponse => {
                &[Endpoint::SignIn, Endpoint::Authorize]
            }
            Self::TokenRequest
            | Self::ClientAuthentication
            | Self::CodeRedemption
            | Self::TokenResponse
            | Self::RefreshIdToken => &[Endpoint::Token],
            // ID tokens are issued at authorize (implicit, hybrid) and at the token endpoint.
            Self::IdTokenClaims | Self::IdTokenSignature => {
                &[Endpoint::Token, Endpoint::SignIn, Endpoint::Authorize]
            }
            Self::Discovery => &[Endpoint::Discovery],
            Self::Keys => &[Endpoint::Keys],
            Self::UserinfoAuthorization | Self::UserinfoClaims => &[Endpoint::Userinfo],
            Self::Logout | Self::FrontchannelLogout => &[Endpoint::Logout],
            Self::LogoutToken => &[Endpoint::BackchannelLogout],
            Self::Cors => &[
                Endpoint::Discovery,
                Endpoint::Keys,
                Endpoint::Token,
                Endpoint::Userinfo,
                Endpoint::Introspect,
                Endpoint::Revoke,
            ],
            Self::Provisioning => &[Endpoint::Scim],
        }
    }

    /// Whether requests here cannot be told apart by user (discovery and keys, and an
    /// authorization request before the sign-in): a fault striking here strikes every
    /// request, whoever it is aimed at.
    pub fn untargeted(self) -> bool {
        matches!(self, Self::Discovery | Self::Keys | Self::AuthorizeRequest)
    }

    /// The faults that strike here, in catalog order.
    pub fn faults(self) -> impl Iterator<Item = FaultId> {
        CATALOG
            .iter()
            .filter(move |d| d.strikes.contains(&self))
            .map(|d| d.id)
    }
}

/// What proves that a fault striking at several points struck.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Witness {
    /// A strike at any of its points.
    Any,
    /// A strike at every one of its points (e.g. `kid-absent-single-key`: the token without
    /// `kid`, and the one-key JWKS the RP must fetch to check it).
    Every,
    /// A strike at its first point; the others serve it (e.g. `es256`: the ES256-signed
    /// token proves it; the key it adds to the JWKS and the algorithm it adds to
    /// discovery are there so that the token can be checked, and an RP that refuses ES256
    /// outright never needs them).
    First,
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
    /// Where it strikes (the first point is its documentation section).
    pub strikes: &'static [Strikes],
    /// Which strikes prove that it struck.
    pub witness: Witness,
    /// Whether it is about verifying the ID token's signature: only an RP that fetches the
    /// IdP's keys can be tested by it, and an RP that never fetches them (no keys request
    /// in a whole run) does not verify signatures at all.
    pub signature: bool,
    /// The flows (response types) in which it can strike: an ID token fault strikes in
    /// every flow, a token endpoint fault only where a code is redeemed, `c_hash` faults
    /// only where authorize returns an ID token with a code.
    pub flows: FlowSet,
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

macro_rules! witness {
    (any) => {
        Witness::Any
    };
    (every) => {
        Witness::Every
    };
    (first) => {
        Witness::First
    };
}

macro_rules! catalog {
    ($($variant:ident $id:literal [$($strikes:ident),+] $witness:ident $style:ident
        scoped=$scoped:literal signature=$signature:literal flows=$flows:ident
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
                strikes: &[$(Strikes::$strikes),+],
                witness: witness!($witness),
                signature: $signature,
                flows: FlowSet::$flows,
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
    RedirectUriUnregistered "redirect-uri-unregistered" [AuthorizeRequest] any Replace scoped=false signature=false flows=ALL
        oidf=None, okta=Some("illegal_redirect_uri"), outcome=None, param=None,
        "The RP's `redirect_uri` is treated as not registered for its client (another sign-in redirect URI pasted in the app's settings, e.g. another organisation's): Okta's error page, and the browser never returns to the RP (RFC 6749 3.1.2.4).";
    StateMissing "state-missing" [AuthorizationResponse] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_state_missing"), param=None,
        "The authorization response comes back without `state`.";
    StateMismatch "state-mismatch" [AuthorizationResponse] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_state_missing"), param=None,
        "The authorization response carries a different `state` of the same length.";
    CodeMissing "code-missing" [AuthorizationResponse] any Remove scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_received_no_code_or_token_failure"), param=None,
        "The authorization response comes back without `code` (state only).";
    IssParamMismatch "iss-param-mismatch" [AuthorizationResponse] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_auth_error"), param=None,
        "The authorization response carries an `iss` parameter (RFC 9207) naming another issuer of this IdP.";
    FormPostOpaqueOrigin "form-post-opaque-origin" [AuthorizationResponse] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "In `form_post` mode the self-submitting page is sandboxed: an opaque origin, as after a redirect through another origin, so the browser sends `Origin: null` to the RP's callback (it strikes only in `form_post` mode). The login must go through.";
    IdpError "idp-error" [SignInOutcome] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=Some("server_error"), outcome=Some("oidc_auth_error"),
        param=Some("the OAuth error to send: access_denied, login_required, consent_required, interaction_required, temporarily_unavailable or server_error (default)"),
        "After sign-in the IdP redirects back with an error (Okta's wording) instead of a code.";
    UserNotAssigned "user-not-assigned" [SignInOutcome] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=Some("user_not_assigned"), outcome=Some("oidc_auth_error"), param=None,
        "The user is treated as not assigned to the app: `access_denied`, \"User is not assigned to the client application.\"";
    ClientSecretRejected "client-secret-rejected" [ClientAuthentication] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=Some("invalid_client_secret"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token endpoint answers 401 `invalid_client` for the right secret (a rotated secret).";
    CodeRejected "code-rejected" [CodeRedemption] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=Some("invalid_authorization_code"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token endpoint answers 400 `invalid_grant` for a valid code (the code is not consumed).";
    TokenEndpoint5xx "token-endpoint-5xx" [TokenRequest] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=Some("E0000009"), outcome=Some("oidc_code_exchange_failure"),
        param=Some("the HTTP status, 500 to 599 (default 500)"),
        "The token endpoint fails with a server error (Okta's E0000009 body).";
    TokenEndpointSlow "token-endpoint-slow" [TokenRequest] any Append scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_failure"),
        param=Some("the delay in milliseconds, at most 60000 (default 10000)"),
        "The token endpoint answers correctly, but only after a delay.";
    TokenResponseMalformed "token-response-malformed" [TokenResponse] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_failure"), param=None,
        "The token response is cut in the middle: HTTP 200 with JSON that does not parse.";
    IdTokenMissing "id-token-missing" [TokenResponse] any Remove scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_token_missing"), param=None,
        "The token response has no `id_token`.";
    AccessTokenMissing "access-token-missing" [TokenResponse] any Remove scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_code_exchange_token_missing"), param=None,
        "The token response has no `access_token`.";
    ScopeMissing "token-response-scope-missing" [TokenResponse] any Remove scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=None, param=None,
        "The token response has no `scope` (RFC 6749 5.1: optional when it is the scope asked for): the RP should accept.";
    ExpiresInMissing "token-response-expires-in-missing" [TokenResponse] any Remove scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=None, param=None,
        "The token response has no `expires_in` (RFC 6749 5.1: RECOMMENDED, not required): the RP should accept.";
    TokenTypeLowercase "token-type-lowercase" [TokenResponse] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=None, param=None,
        "The token response's `token_type` is `bearer` in lower case (RFC 6749 5.1: case insensitive): the RP should accept.";
    ExpiresInString "expires-in-string" [TokenResponse] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=None, param=None,
        "The token response's `expires_in` is a JSON string (`\"3600\"`) instead of a number, as some IdPs send.";
    BadSignature "bad-signature" [IdTokenSignature] any CorruptSignature scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-bad-sig-rs256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's RS256 signature bytes are corrupted.";
    AlgNone "alg-none" [IdTokenSignature] any SwapAlgorithm scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-sig-none"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is unsigned: header `{\"alg\":\"none\"}`, empty signature. Where `at_hash` is optional (the token endpoint) it is left out, so that being unsigned is the token's only defect.";
    AlgNoneWithAtHash "alg-none-with-at-hash" [IdTokenSignature] any SwapAlgorithm scoped=true signature=true flows=AT_HASH
        oidf=Some("rp-id_token-sig-none"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is unsigned and keeps its `at_hash`, which no RP can check for alg none (OIDC Core 3.1.3.8 hashes with the alg's hash): two defects, for RPs that refuse it only for the second.";
    Hs256WithClientSecret "hs256-with-client-secret" [IdTokenSignature] any SwapAlgorithm scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-bad-sig-hs256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is signed HS256 with the client secret, though discovery says RS256 only.";
    Hs256BadSignature "hs256-bad-signature" [IdTokenSignature] any CorruptSignature scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-bad-sig-hs256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is signed HS256 with the client secret, and its MAC is corrupted.";
    Es256 "es256" [IdTokenSignature, Keys, Discovery] first SwapAlgorithm scoped=false signature=true flows=ALL
        oidf=Some("rp-id_token-sig-es256"), okta=None, outcome=None, param=None,
        "The ID token is signed ES256 by a P-256 key that the JWKS publishes beside the RSA keys while armed, and discovery lists ES256: an RP registered for ES256 accepts it; one on the RS256 default may refuse it.";
    Es256BadSignature "es256-bad-signature" [IdTokenSignature, Keys, Discovery] first CorruptSignature scoped=false signature=true flows=ALL
        oidf=Some("rp-id_token-bad-sig-es256"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "As `es256`, with the ES256 signature corrupted.";
    UnknownKid "unknown-kid" [IdTokenSignature] any Replace scoped=true signature=true flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is signed by a key the JWKS does not publish, under that key's `kid`.";
    KidAbsentSingleKey "kid-absent-single-key" [IdTokenSignature, Keys] every Remove scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-kid-absent-single-jwks"), okta=None, outcome=None, param=None,
        "The ID token has no `kid` and, while armed, the JWKS publishes only the signing key: the RP should accept.";
    KidAbsentSeveralKeys "kid-absent-several-keys" [IdTokenSignature] any Remove scoped=true signature=true flows=ALL
        oidf=Some("rp-id_token-kid-absent-multiple-jwks"), okta=None, outcome=None, param=None,
        "The ID token has no `kid` while the JWKS publishes several keys: the RP may reject it or try each key.";
    IssMismatch "iss-mismatch" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-id_token-issuer-mismatch"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `iss` names another issuer of this IdP (the org server for a custom one, `default` for the org).";
    IssMissing "iss-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `iss`.";
    IssWithoutScheme "iss-without-scheme" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The ID token's `iss` is the issuer without its scheme (`accounts.google.com` for `https://accounts.google.com`), as Google writes it in some ID tokens; Google tells RPs to accept both forms.";
    AudMismatch "aud-mismatch" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-id_token-aud"), okta=None, outcome=Some("oidc_generic_token_failure"),
        param=Some("the audience to put in (default: another client id)"),
        "The ID token's `aud` is another client's id.";
    AudMissing "aud-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-id_token-aud"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `aud`.";
    AudExtra "aud-extra" [IdTokenClaims] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `aud` is an array of the client and an audience it does not trust, without `azp`.";
    AzpMismatch "azp-mismatch" [IdTokenClaims] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token carries `azp` naming another client (`aud` is still the client).";
    AudArray "aud-array" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The ID token's `aud` is a one-element array holding the client id (RFC 7519 4.1.3 allows either form): the RP should accept.";
    SubMissing "sub-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-id_token-sub"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `sub`.";
    IatMissing "iat-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-id_token-iat"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `iat`.";
    ExpMissing "exp-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `exp`.";
    Expired "expired" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token expired an hour ago (`iat` two hours ago, `exp` one hour ago).";
    IssuedInFuture "issued-in-future" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token is issued an hour in the future (`iat` now + 1 h, `exp` now + 2 h).";
    NbfInFuture "nbf-in-future" [IdTokenClaims] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token carries `nbf` an hour from now (RFC 7519 4.1.5: not to be accepted before then).";
    IatWeekOld "iat-week-old" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `iat` is a week old, though `exp` is still ahead (OIDC Core 3.1.3.7 step 10: the RP may refuse tokens issued too long ago).";
    NonceMissing "nonce-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-nonce-invalid"), okta=None, outcome=Some("oidc_nonce_missing"), param=None,
        "The ID token has no `nonce`, though the RP sent one (it strikes only when the RP sent one).";
    NonceMismatch "nonce-mismatch" [IdTokenClaims] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-nonce-invalid"), okta=None, outcome=Some("oidc_nonce_missing"), param=None,
        "The ID token's `nonce` differs from the one the RP sent (same length; it strikes only when the RP sent one).";
    AtHashBad "at-hash-bad" [IdTokenClaims] any Replace scoped=true signature=false flows=AT_HASH
        oidf=Some("rp-id_token-bad-at_hash"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token's `at_hash` does not match the access token issued with it (it strikes only where `at_hash` is issued).";
    AtHashMissing "at-hash-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=AT_HASH
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token has no `at_hash`, though an access token is issued with it (it strikes only where `at_hash` is issued).";
    CHashBad "c-hash-bad" [IdTokenClaims] any Replace scoped=true signature=false flows=C_HASH
        oidf=Some("rp-id_token-bad-c_hash"), okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "In hybrid flows, the ID token's `c_hash` does not match the code issued with it.";
    CHashMissing "c-hash-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=C_HASH
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "In hybrid flows, the ID token has no `c_hash`.";
    EmailMissing "email-missing" [IdTokenClaims] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_missing_email_claim"), param=None,
        "The ID token has no `email` (nor `email_verified`), though the scope `email` was granted.";
    AppClaimsMissing "app-claims-missing" [IdTokenClaims, UserinfoClaims] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_missing_email_claim"), param=None,
        "The ID token and userinfo leave out the claims the app's settings add (the client's `claims` and `claim_names`: a claim definition deleted, or limited to other scopes); the standard claims stay (it strikes only where the app has such claims).";
    EmailUnverified "email-unverified" [IdTokenClaims, UserinfoClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_login_error"), param=None,
        "`email_verified` is false, in the ID token and at /userinfo.";
    GroupsChanged "groups-changed" [IdTokenClaims, UserinfoClaims] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=Some("comma-separated groups to send (default: Everyone,harness-unexpected)"),
        "The `groups` claim lists other groups than the user's, in the ID token and at /userinfo.";
    DiscoveryUnavailable "discovery-unavailable" [Discovery] any Replace scoped=false signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "Discovery answers 503.";
    DiscoveryMalformed "discovery-malformed" [Discovery] any Replace scoped=false signature=false flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "Discovery answers 200 with JSON cut in the middle.";
    DiscoveryIssuerMismatch "discovery-issuer-mismatch" [Discovery] any Replace scoped=false signature=false flows=ALL
        oidf=Some("rp-discovery-issuer-not-matching-config"), okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "The discovery document's `issuer` names another issuer of this IdP.";
    JwksUriMoved "jwks-uri-moved" [Discovery, Keys] first Replace scoped=false signature=true flows=ALL
        oidf=Some("rp-discovery-jwks_uri-keys"), okta=None, outcome=None, param=None,
        "Discovery's `jwks_uri` names an unguessable path where the keys are served, and the usual `/v1/keys` answers 404 meanwhile: an RP that reads `jwks_uri` from discovery logs in as before.";
    JwksUnparseableKey "jwks-unparseable-key" [Keys] any Append scoped=false signature=true flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The JWKS also holds a key no one can parse (an RSA key whose modulus is not base64url), under a `kid` of its own: an RP ignores it and verifies with the others.";
    JwksUnavailable "jwks-unavailable" [Keys] any Replace scoped=false signature=true flows=ALL
        oidf=None, okta=None, outcome=Some("oidc_metadata_fetch_failure"), param=None,
        "The keys endpoint answers 503.";
    KeyRotationKeepOld "key-rotation-keep-old" [Keys] any Replace scoped=false signature=true flows=ALL
        oidf=Some("rp-key-rotation-op-sign-key"), okta=None, outcome=None,
        param=Some("the authorization server to rotate (default: every server)"),
        "When armed, the keys rotate: the published next key signs from now on, the old one stays published. Logins must go on working.";
    KeyRotationDropOld "key-rotation-drop-old" [Keys] any Replace scoped=false signature=true flows=ALL
        oidf=Some("rp-key-rotation-op-sign-key-native"), okta=None, outcome=None,
        param=Some("the authorization server to rotate (default: every server)"),
        "When armed, the keys rotate and the old key is dropped from the JWKS. New logins must work (the RP refetches the JWKS).";
    UserinfoSubMismatch "userinfo-sub-mismatch" [UserinfoClaims] any Replace scoped=true signature=false flows=ACCESS_TOKEN
        oidf=Some("rp-userinfo-bad-sub-claim"), okta=None, outcome=Some("oidc_login_error"), param=None,
        "/userinfo answers for another user: another `sub`, with that user's `email`, `name` and `preferred_username`, so a page shows whether the RP used the answer.";
    UserinfoUnauthorized "userinfo-unauthorized" [UserinfoAuthorization] any Replace scoped=true signature=false flows=ACCESS_TOKEN
        oidf=None, okta=Some("access_token_invalid"), outcome=Some("oidc_login_error"), param=None,
        "/userinfo answers 401 `invalid_token` for a valid access token.";
    UserinfoEmailMissing "userinfo-email-missing" [UserinfoClaims] any Remove scoped=true signature=false flows=ACCESS_TOKEN
        oidf=None, okta=None, outcome=Some("oidc_missing_email_claim"), param=None,
        "/userinfo answers without `email` (nor `email_verified`).";
    UserinfoBearerHeaderOnly "userinfo-bearer-header-only" [UserinfoAuthorization] any Replace scoped=true signature=false flows=ACCESS_TOKEN
        oidf=Some("rp-userinfo-bearer-header"), okta=None, outcome=None, param=None,
        "/userinfo reads the access token from the `Authorization: Bearer` header only (RFC 6750 2.1); one in a form body is not looked at.";
    UserinfoBearerBodyOnly "userinfo-bearer-body-only" [UserinfoAuthorization] any Replace scoped=true signature=false flows=ACCESS_TOKEN
        oidf=Some("rp-userinfo-bearer-body"), okta=None, outcome=None, param=None,
        "/userinfo reads the access token from a form-encoded POST body only (RFC 6750 2.2); one in the header is not looked at.";
    RefreshIssMismatch "refresh-iss-mismatch" [RefreshIdToken] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token of a refresh response names another issuer of this IdP (OIDC Core 12.2: its `iss` MUST be the one of the login).";
    RefreshSubMismatch "refresh-sub-mismatch" [RefreshIdToken] any Replace scoped=true signature=false flows=CODE
        oidf=None, okta=None, outcome=Some("oidc_generic_token_failure"), param=None,
        "The ID token of a refresh response is about another user (OIDC Core 12.2: its `sub` MUST be the one of the login).";
    LogoutStateMissing "logout-state-missing" [Logout] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-init-logout-no-state"), okta=None, outcome=None, param=None,
        "The post-logout redirect comes back without the RP's `state`.";
    LogoutStateOther "logout-state-other" [Logout] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-init-logout-other-state"), okta=None, outcome=None, param=None,
        "The post-logout redirect comes back with another `state` than the RP sent.";
    PostLogoutUriUnregistered "post-logout-uri-unregistered" [Logout] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=Some("illegal_post_logout_redirect_uri"), outcome=None, param=None,
        "The RP's `post_logout_redirect_uri` is treated as not registered: Okta's error page instead of the redirect (a sign-out redirect URI missing from the app's settings).";
    LogoutSessionKept "logout-session-kept" [Logout] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "Logout redirects as usual but does not end the IdP session: the next login is silent.";
    LogoutTokenBadSignature "logout-token-bad-signature" [LogoutToken] any CorruptSignature scoped=true signature=true flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token's RS256 signature is corrupted.";
    LogoutTokenAlgNone "logout-token-alg-none" [LogoutToken] any SwapAlgorithm scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-alg-none"), okta=None, outcome=None, param=None,
        "The back-channel logout token is unsigned (`alg` `none`).";
    LogoutTokenHs256 "logout-token-hs256" [LogoutToken] any SwapAlgorithm scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-wrong-alg"), okta=None, outcome=None, param=None,
        "The back-channel logout token is signed HS256 with the client's secret (a correct MAC under an algorithm the RP never agreed to).";
    LogoutTokenEventsMissing "logout-token-events-missing" [LogoutToken] any Remove scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-no-event"), okta=None, outcome=None, param=None,
        "The back-channel logout token has no `events` claim.";
    LogoutTokenEventOther "logout-token-event-other" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-wrong-event"), okta=None, outcome=None, param=None,
        "The back-channel logout token's `events` names another event than back-channel logout.";
    LogoutTokenNonce "logout-token-nonce" [LogoutToken] any Append scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-with-nonce"), okta=None, outcome=None, param=None,
        "The back-channel logout token carries a `nonce` (Back-Channel Logout 1.0 2.4: it MUST NOT).";
    LogoutTokenAudOther "logout-token-aud-other" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-wrong-aud"), okta=None, outcome=None, param=None,
        "The back-channel logout token is for another client (`aud`).";
    LogoutTokenIssOther "logout-token-iss-other" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=Some("rp-backchannel-rpinitlogout-lt-wrong-issuer"), okta=None, outcome=None, param=None,
        "The back-channel logout token names another issuer of this IdP.";
    LogoutTokenExpired "logout-token-expired" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token was issued an hour ago and expired 58 minutes ago.";
    LogoutTokenSidOnly "logout-token-sid-only" [LogoutToken] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token names the session (`sid`) but not the user (`sub`): a valid token.";
    LogoutTokenSubOnly "logout-token-sub-only" [LogoutToken] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token names the user (`sub`) but not the session (`sid`): a valid token meaning every session of the user.";
    LogoutTokenSidUnknown "logout-token-sid-unknown" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token names the user and a session (`sid`) the RP never saw.";
    LogoutTokenJtiReplayed "logout-token-jti-replayed" [LogoutToken] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The back-channel logout token reuses the `jti` of the previous logout token sent to this client (it strikes from the second logout on).";
    FrontchannelIssOther "frontchannel-iss-other" [FrontchannelLogout] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The front-channel logout URL carries another issuer of this IdP as `iss`.";
    FrontchannelSidOther "frontchannel-sid-other" [FrontchannelLogout] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The front-channel logout URL carries a `sid` the RP never saw.";
    CorsMissing "cors-missing" [Cors] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=Some("illegal_origin_browser_request"), outcome=Some("oidc_code_exchange_failure"), param=None,
        "Token, userinfo, introspect, revoke and keys answer without CORS headers, even for trusted origins.";
    ScimDuplicateCreate "scim-duplicate-create" [Provisioning] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "Provisioning a user the app already has sends `POST /Users` anyway (as after a look-up that missed): the app must answer 409 `uniqueness` (RFC 7644 3.3) and keep one account; the IdP then looks the user up and replaces them.";
    ScimRetryAfterTimeout "scim-retry-after-timeout" [Provisioning] any Append scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The answer to the `POST /Users` creating a user is dropped as if it timed out, and the same request is sent again: the app, which did create the user, must answer 409 `uniqueness` (RFC 7644 3.3), not make a second account; the IdP then looks the user up and replaces them.";
    ScimEmailOmitted "scim-email-omitted" [Provisioning] any Remove scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The user is provisioned without `emails` (optional in RFC 7643 4.1.2), as an Okta app whose attribute mapping leaves email out: the app should still link the user's login to the account (by `userName`, or `externalId` against `sub`).";
    ScimUsernameShort "scim-username-short" [Provisioning] any Replace scoped=true signature=false flows=ALL
        oidf=None, okta=None, outcome=None, param=None,
        "The user is provisioned with a `userName` in another format: the login's prefix (`alice` for `alice@example.com`), as Okta's application username format \"Okta username prefix\" sends it; `emails` and `externalId` are unchanged.";
}

impl FaultId {
    /// Whether, while armed, it changes what every user sees: it strikes at a point
    /// where requests cannot be told apart (discovery, keys; `kid-absent-single-key`
    /// trims the JWKS for everyone). Scenarios with such a fault must run alone.
    pub fn affects_everyone(self) -> bool {
        self.doc().strikes.iter().any(|p| p.untargeted())
    }

    /// This fault's documentation.
    pub fn doc(self) -> &'static FaultDoc {
        // The macro writes the enum and the catalog in the same order.
        let doc = &CATALOG[self as usize];
        debug_assert_eq!(doc.id, self);
        doc
    }

    /// Whether it strikes only when the authorization response is a `form_post`.
    pub fn form_post_only(self) -> bool {
        self == FaultId::FormPostOpaqueOrigin
    }

    /// Whether it strikes at `point`.
    pub fn strikes_at(self, point: Strikes) -> bool {
        self.doc().strikes.contains(&point)
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

impl schemars::JsonSchema for FaultId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FaultId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::schema::one_of_strings(
            "A fault of the catalog (docs/faults.md).",
            FaultId::ALL.iter().map(|id| id.as_str()),
        )
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
    out.push_str(
        "\n*Strikes at* names the points where the fault acts; the journal entry of every answer\n\
         it changes lists it, which is how the harness proves that a scenario's faults struck\n\
         (with *every*, each point must show it). Faults marked *signature* are about\n\
         verifying the ID token's signature: only an RP that fetches the keys is tested by them.\n",
    );
    let mut section = None;
    for d in CATALOG {
        let title = d.strikes[0].title();
        if section != Some(title) {
            section = Some(title);
            out.push_str(&format!(
                "\n## {title}\n\n| fault | what it does | strikes at | style | outcome | references |\n|---|---|---|---|---|---|\n",
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
        if d.flows != FlowSet::ALL {
            what.push_str(&format!(" Flows: {}.", d.flows.describe()));
        }
        let mut at: Vec<String> = d
            .strikes
            .iter()
            .map(|p| format!("`{}`", p.as_str()))
            .collect();
        if d.strikes.len() > 1 {
            at.push(match d.witness {
                Witness::Any => "(any)".into(),
                Witness::Every => "(every)".into(),
                Witness::First => "(first)".into(),
            });
        }
        if d.signature {
            at.push("signature".into());
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            d.id,
            what,
            at.join(" "),
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
