//! The OpenID Foundation's relying-party tests: the modules of its conformance suite,
//! the tests of its old (python) suite, and the certification plans that group them by
//! flow. Scenarios name the modules and tests they correspond to (`[oidf]`); from those,
//! `--plan` picks the scenarios of a plan and says whether the RP would pass it, and
//! `docs/oidf-coverage.md` is generated.

use mock_idp::flows::{ResponseMode, ResponseType};
use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::report::ScenarioReport;
use crate::scenario::Scenario;
use crate::verdict::Verdict;

/// One module of the conformance suite.
#[derive(Clone, Copy, Debug)]
pub struct Module {
    /// Its test name (`oidcc-client-test-invalid-iss`).
    pub id: &'static str,
    /// What it checks.
    pub title: &'static str,
    /// The old suite's tests it corresponds to.
    pub old: &'static [&'static str],
    /// Why no scenario covers it, when none does on purpose.
    pub gap: Option<&'static str>,
}

/// One test of the old suite.
#[derive(Clone, Copy, Debug)]
pub struct OldTest {
    /// Its id (`rp-id_token-issuer-mismatch`).
    pub id: &'static str,
    /// Why no scenario covers it, when none does on purpose.
    pub gap: Option<&'static str>,
}

const DYNAMIC: &str =
    "needs dynamic client registration, which Okta-shaped IdPs do not offer to RPs";
const WEBFINGER: &str = "WebFinger discovery: Okta does not serve it";
const REQUEST_OBJECT: &str =
    "request objects (`request_uri`): Okta's authorize does not take them from a URI";
const ENCRYPTION: &str =
    "encrypted tokens (JWE): Okta does not encrypt ID tokens or userinfo for clients";
const SIGNED_USERINFO: &str = "signed userinfo responses: Okta answers userinfo as JSON";
const CLAIM_SOURCES: &str = "aggregated and distributed claims: Okta does not issue them";
const MTLS: &str =
    "mTLS endpoint aliases: needs client certificates (RFC 8705), not part of the Okta shape";
const THIRD_PARTY: &str =
    "third-party-initiated login (the RP's `initiate_login_uri`): not modelled yet";
const CLIENT_JWT: &str = "JWT client authentication (`client_secret_jwt`, `private_key_jwt`): the mock IdP authenticates clients with secrets";
const REFRESH_AUD_AZP: &str = "refresh ID tokens with another `aud` or `azp`: not in the refresh-token plan; the login's `aud` and `azp` scenarios cover the checks";
const OTHER_ALGS: &str =
    "needs a client registered for another ID token algorithm (dynamic registration)";

/// Every module of the conformance suite's RP tests (`openid/client/**` in
/// openid-certification/conformance-suite), in the order of the plans that list them.
pub const MODULES: &[Module] = &[
    m(
        "oidcc-client-test",
        "Success case: a login with the plan's response type",
        &[
            "rp-response_type-code",
            "rp-response_type-id_token",
            "rp-response_type-id_token+token",
            "rp-response_type-code+id_token",
            "rp-response_type-code+token",
            "rp-response_type-code+id_token+token",
            "rp-response_mode-form_post",
        ],
    ),
    m(
        "oidcc-client-test-invalid-iss",
        "Invalid `iss` in the ID token",
        &["rp-id_token-issuer-mismatch"],
    ),
    m(
        "oidcc-client-test-missing-sub",
        "No `sub` in the ID token",
        &["rp-id_token-sub"],
    ),
    m(
        "oidcc-client-test-invalid-aud",
        "Invalid `aud` in the ID token",
        &["rp-id_token-aud"],
    ),
    m(
        "oidcc-client-test-missing-aud",
        "No `aud` in the ID token",
        &["rp-id_token-aud"],
    ),
    m(
        "oidcc-client-test-missing-iat",
        "No `iat` in the ID token",
        &["rp-id_token-iat"],
    ),
    m(
        "oidcc-client-test-kid-absent-single-jwks",
        "No `kid`, one key in the JWKS: accept",
        &["rp-id_token-kid-absent-single-jwks"],
    ),
    m(
        "oidcc-client-test-kid-absent-multiple-jwks",
        "No `kid`, several keys in the JWKS: rejecting is allowed",
        &["rp-id_token-kid-absent-multiple-jwks"],
    ),
    m(
        "oidcc-client-test-idtoken-sig-rs256",
        "An RS256 ID token, RSA keys only: accept",
        &["rp-id_token-sig-rs256"],
    ),
    m(
        "oidcc-client-test-idtoken-sig-none",
        "An unsigned ID token in the code flow, the client registered for `none`",
        &["rp-id_token-sig-none"],
    ),
    m(
        "oidcc-client-test-invalid-sig-rs256",
        "An invalid RS256 signature",
        &["rp-id_token-bad-sig-rs256"],
    ),
    m(
        "oidcc-client-test-invalid-sig-hs256",
        "An invalid HS256 signature",
        &["rp-id_token-bad-sig-hs256"],
    ),
    m(
        "oidcc-client-test-invalid-sig-es256",
        "An invalid ES256 signature",
        &["rp-id_token-bad-sig-es256"],
    ),
    m(
        "oidcc-client-test-userinfo-invalid-sub",
        "Userinfo's `sub` differs from the ID token's",
        &["rp-userinfo-bad-sub-claim"],
    ),
    m(
        "oidcc-client-test-nonce-invalid",
        "Invalid `nonce` in the ID token",
        &["rp-nonce-invalid"],
    ),
    m(
        "oidcc-client-test-nonce-unless-code-flow",
        "The RP sends a nonce in the implicit and hybrid flows",
        &["rp-nonce-unless-code-flow"],
    ),
    m(
        "oidcc-client-test-scope-userinfo-claims",
        "The RP asks for claims with scopes (profile, email, phone, address)",
        &["rp-scope-userinfo-claims"],
    ),
    m(
        "oidcc-client-test-client-secret-basic",
        "The RP authenticates with client_secret_basic",
        &["rp-token_endpoint-client_secret_basic"],
    ),
    m(
        "oidcc-client-test-userinfo-bearer-header",
        "The access token in the Authorization header at userinfo",
        &["rp-userinfo-bearer-header"],
    ),
    m(
        "oidcc-client-test-userinfo-bearer-body",
        "The access token in a form body at userinfo",
        &["rp-userinfo-bearer-body"],
    ),
    m(
        "oidcc-client-test-invalid-chash",
        "Invalid `c_hash` in a hybrid ID token",
        &["rp-id_token-bad-c_hash"],
    ),
    m(
        "oidcc-client-test-missing-chash",
        "No `c_hash` in a hybrid ID token",
        &["rp-id_token-missing-c_hash"],
    ),
    m(
        "oidcc-client-test-invalid-athash",
        "Invalid `at_hash` beside an access token from authorize",
        &["rp-id_token-bad-at_hash"],
    ),
    m(
        "oidcc-client-test-missing-athash",
        "No `at_hash` beside an access token from authorize",
        &["rp-id_token-missing-at_hash"],
    ),
    m(
        "oidcc-client-test-form-post-error",
        "An error delivered by form_post",
        &["rp-response_mode-form_post-error"],
    ),
    gap(
        "oidcc-client-test-aggregated-claims",
        "Aggregated claims",
        &["rp-claims-aggregated"],
        CLAIM_SOURCES,
    ),
    gap(
        "oidcc-client-test-distributed-claims",
        "Distributed claims",
        &["rp-claims-distributed"],
        CLAIM_SOURCES,
    ),
    gap(
        "oidcc-client-test-mtls-endpoint-aliases",
        "mTLS endpoint aliases",
        &[],
        MTLS,
    ),
    m(
        "oidcc-client-test-ignores-unparseable-key-in-jwks",
        "A key the RP cannot parse in the JWKS is ignored",
        &[],
    ),
    m(
        "oidcc-client-test-refresh-token",
        "The RP refreshes its tokens",
        &[],
    ),
    m(
        "oidcc-client-test-refresh-token-invalid-issuer",
        "Another `iss` in the ID token of a refresh",
        &[],
    ),
    m(
        "oidcc-client-test-refresh-token-invalid-sub",
        "Another `sub` in the ID token of a refresh",
        &[],
    ),
    gap(
        "oidcc-client-test-refresh-token-invalid-aud",
        "Another `aud` in the ID token of a refresh",
        &[],
        REFRESH_AUD_AZP,
    ),
    gap(
        "oidcc-client-test-refresh-token-invalid-azp",
        "An `azp` in the ID token of a refresh",
        &[],
        REFRESH_AUD_AZP,
    ),
    gap(
        "oidcc-client-test-request-uri-signed-rs256",
        "A signed request object by reference",
        &["rp-request_uri-sig"],
        REQUEST_OBJECT,
    ),
    gap(
        "oidcc-client-test-request-uri-signed-none",
        "An unsigned request object by reference",
        &["rp-request_uri-unsigned"],
        REQUEST_OBJECT,
    ),
    gap(
        "oidcc-client-test-userinfo-signed",
        "A signed userinfo response",
        &["rp-userinfo-sig"],
        SIGNED_USERINFO,
    ),
    gap(
        "oidcc-client-test-3rd-party-init-login",
        "Third-party-initiated login",
        &["rp-3rd_party-init-login"],
        THIRD_PARTY,
    ),
    m(
        "oidcc-client-test-discovery-openid-config",
        "The RP reads the OpenID Provider configuration",
        &["rp-discovery-openid-configuration"],
    ),
    m(
        "oidcc-client-test-discovery-jwks-uri-keys",
        "The RP finds the keys through `jwks_uri`",
        &["rp-discovery-jwks_uri-keys"],
    ),
    m(
        "oidcc-client-test-discovery-issuer-mismatch",
        "The discovery document names another issuer",
        &["rp-discovery-issuer-not-matching-config"],
    ),
    gap(
        "oidcc-client-test-discovery-webfinger-acct",
        "WebFinger discovery from an acct: identifier",
        &["rp-discovery-webfinger-acct"],
        WEBFINGER,
    ),
    gap(
        "oidcc-client-test-discovery-webfinger-url",
        "WebFinger discovery from a URL",
        &["rp-discovery-webfinger-url"],
        WEBFINGER,
    ),
    gap(
        "oidcc-client-test-dynamic-registration",
        "Dynamic client registration",
        &["rp-registration-dynamic"],
        DYNAMIC,
    ),
    m(
        "oidcc-client-test-signing-key-rotation",
        "The signing key rotates between two logins",
        &["rp-key-rotation-op-sign-key"],
    ),
    m(
        "oidcc-client-test-signing-key-rotation-just-before-signing",
        "The signing key rotates just before the ID token is signed",
        &["rp-key-rotation-op-sign-key-native"],
    ),
    m(
        "oidcc-client-test-rp-init-logout",
        "RP-initiated logout",
        &[],
    ),
    m(
        "oidcc-client-test-rp-init-logout-other-state",
        "RP-initiated logout, another state back",
        &[],
    ),
    m(
        "oidcc-client-test-rp-init-logout-no-state",
        "RP-initiated logout, no state back",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout",
        "Back-channel logout",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-alg-none",
        "Back-channel logout token signed `none`",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-no-event",
        "Back-channel logout token without the event",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce",
        "Back-channel logout token with a nonce",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg",
        "Back-channel logout token with another algorithm",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud",
        "Back-channel logout token for another audience",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event",
        "Back-channel logout token with another event",
        &[],
    ),
    m(
        "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss",
        "Back-channel logout token from another issuer",
        &[],
    ),
    m(
        "oidcc-client-test-rp-frontchannel-rpinitlogout",
        "Front-channel logout, RP-initiated",
        &[],
    ),
    m(
        "oidcc-client-test-rp-frontchannel-opinitlogout",
        "Front-channel logout, OP-initiated",
        &[],
    ),
    m(
        "oidcc-client-test-session-management",
        "Session management (check_session_iframe)",
        &[],
    ),
];

const fn m(id: &'static str, title: &'static str, old: &'static [&'static str]) -> Module {
    Module {
        id,
        title,
        old,
        gap: None,
    }
}

const fn gap(
    id: &'static str,
    title: &'static str,
    old: &'static [&'static str],
    why: &'static str,
) -> Module {
    Module {
        id,
        title,
        old,
        gap: Some(why),
    }
}

const fn old(id: &'static str) -> OldTest {
    OldTest { id, gap: None }
}

const fn old_gap(id: &'static str, why: &'static str) -> OldTest {
    OldTest { id, gap: Some(why) }
}

/// Every test of the old suite's RP profiles (Basic, Implicit, Hybrid, Config, Dynamic).
pub const OLD_TESTS: &[OldTest] = &[
    old("rp-response_type-code"),
    old("rp-response_type-id_token"),
    old("rp-response_type-id_token+token"),
    old("rp-response_type-code+id_token"),
    old("rp-response_type-code+token"),
    old("rp-response_type-code+id_token+token"),
    old("rp-response_mode-form_post"),
    old("rp-response_mode-form_post-error"),
    old("rp-scope-userinfo-claims"),
    old("rp-nonce-unless-code-flow"),
    old("rp-nonce-invalid"),
    old("rp-token_endpoint-client_secret_basic"),
    old_gap(
        "rp-token_endpoint-client_secret_post",
        "the mock IdP enforces the method the profile registers (`auth_method = \"client_secret_post\"`): run the catalog with such a profile; a scenario cannot choose the RP's method",
    ),
    old_gap("rp-token_endpoint-client_secret_jwt", CLIENT_JWT),
    old_gap("rp-token_endpoint-private_key_jwt", CLIENT_JWT),
    old("rp-id_token-issuer-mismatch"),
    old("rp-id_token-sub"),
    old("rp-id_token-aud"),
    old("rp-id_token-iat"),
    old("rp-id_token-kid-absent-single-jwks"),
    old("rp-id_token-kid-absent-multiple-jwks"),
    old("rp-id_token-sig-rs256"),
    old("rp-id_token-sig-es256"),
    old_gap("rp-id_token-sig-hs256", OTHER_ALGS),
    old("rp-id_token-sig-none"),
    old("rp-id_token-bad-sig-rs256"),
    old("rp-id_token-bad-sig-es256"),
    old("rp-id_token-bad-sig-hs256"),
    old("rp-id_token-bad-at_hash"),
    old("rp-id_token-missing-at_hash"),
    old("rp-id_token-bad-c_hash"),
    old("rp-id_token-missing-c_hash"),
    old_gap("rp-id_token-sig+enc", ENCRYPTION),
    old_gap("rp-id_token-sig+enc-a128kw", ENCRYPTION),
    old("rp-userinfo-bearer-header"),
    old("rp-userinfo-bearer-body"),
    old("rp-userinfo-bad-sub-claim"),
    old_gap("rp-userinfo-sig", SIGNED_USERINFO),
    old_gap("rp-userinfo-enc", ENCRYPTION),
    old_gap("rp-userinfo-sig+enc", ENCRYPTION),
    old("rp-discovery-openid-configuration"),
    old("rp-discovery-jwks_uri-keys"),
    old("rp-discovery-issuer-not-matching-config"),
    old_gap("rp-discovery-webfinger-url", WEBFINGER),
    old_gap("rp-discovery-webfinger-acct", WEBFINGER),
    old_gap("rp-discovery-webfinger-http-href", WEBFINGER),
    old_gap("rp-discovery-webfinger-unknown-member", WEBFINGER),
    old_gap("rp-registration-dynamic", DYNAMIC),
    old_gap("rp-request_uri-unsigned", REQUEST_OBJECT),
    old_gap("rp-request_uri-sig", REQUEST_OBJECT),
    old_gap("rp-request_uri-enc", REQUEST_OBJECT),
    old_gap("rp-request_uri-sig+enc", REQUEST_OBJECT),
    old("rp-key-rotation-op-sign-key"),
    old("rp-key-rotation-op-sign-key-native"),
    old_gap("rp-key-rotation-op-enc-key", ENCRYPTION),
    old_gap(
        "rp-claims_request-id_token",
        "the `claims` request parameter: Okta ignores it",
    ),
    old_gap(
        "rp-claims_request-userinfo",
        "the `claims` request parameter: Okta ignores it",
    ),
    old_gap("rp-claims-aggregated", CLAIM_SOURCES),
    old_gap("rp-claims-distributed", CLAIM_SOURCES),
    old_gap("rp-3rd_party-init-login", THIRD_PARTY),
];

/// The module with this id.
pub fn module(id: &str) -> Option<&'static Module> {
    MODULES.iter().find(|m| m.id == id)
}

/// Which response mode a plan's variant wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeRule {
    /// The response type's default (`query` for `code`, `fragment` for the others).
    Default,
    /// `form_post`.
    FormPost,
    /// Any.
    Any,
}

impl ModeRule {
    fn admits(self, rt: ResponseType, mode: ResponseMode) -> bool {
        match self {
            Self::Default => mode == rt.default_mode(),
            Self::FormPost => mode == ResponseMode::FormPost,
            Self::Any => true,
        }
    }

    fn describe(self, rt: ResponseType) -> String {
        match self {
            Self::Default => format!("`{rt}` ({})", rt.default_mode()),
            Self::FormPost => format!("`{rt}` (form_post)"),
            Self::Any => format!("`{rt}`"),
        }
    }
}

/// One (response type, response mode) of a plan, with its modules.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// The response type.
    pub response_type: ResponseType,
    /// The response mode.
    pub mode: ModeRule,
    /// The modules, in the plan's order.
    pub modules: &'static [&'static str],
}

/// A certification plan.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Its name (`oidcc-client-basic-certification-test-plan`).
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Its variants.
    pub variants: &'static [Variant],
}

const T: &str = "oidcc-client-test";
const ISS: &str = "oidcc-client-test-invalid-iss";
const SUB: &str = "oidcc-client-test-missing-sub";
const AUD: &str = "oidcc-client-test-invalid-aud";
const IAT: &str = "oidcc-client-test-missing-iat";
const KID1: &str = "oidcc-client-test-kid-absent-single-jwks";
const KIDN: &str = "oidcc-client-test-kid-absent-multiple-jwks";
const RS256: &str = "oidcc-client-test-idtoken-sig-rs256";
const NONE: &str = "oidcc-client-test-idtoken-sig-none";
const BADSIG: &str = "oidcc-client-test-invalid-sig-rs256";
const UISUB: &str = "oidcc-client-test-userinfo-invalid-sub";
const NONCE: &str = "oidcc-client-test-nonce-invalid";
const NONCE_SENT: &str = "oidcc-client-test-nonce-unless-code-flow";
const SCOPES: &str = "oidcc-client-test-scope-userinfo-claims";
const BASIC_AUTH: &str = "oidcc-client-test-client-secret-basic";
const CHASH: &str = "oidcc-client-test-invalid-chash";
const NO_CHASH: &str = "oidcc-client-test-missing-chash";
const ATHASH: &str = "oidcc-client-test-invalid-athash";
const NO_ATHASH: &str = "oidcc-client-test-missing-athash";

const BASIC: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, RS256, NONE, BADSIG, UISUB, NONCE, SCOPES, BASIC_AUTH,
];
const IMPLICIT_ID_TOKEN: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, RS256, BADSIG, NONCE_SENT, NONCE, SCOPES,
];
const IMPLICIT_ID_TOKEN_TOKEN: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, ATHASH, NO_ATHASH, RS256, BADSIG, UISUB, NONCE_SENT, NONCE,
    SCOPES,
];
const HYBRID_CODE_ID_TOKEN: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, CHASH, NO_CHASH, RS256, BADSIG, UISUB, NONCE_SENT, NONCE,
    SCOPES, BASIC_AUTH,
];
const HYBRID_CODE_TOKEN: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, RS256, BADSIG, UISUB, NONCE_SENT, NONCE, SCOPES, BASIC_AUTH,
];
const HYBRID_ALL: &[&str] = &[
    T, ISS, SUB, AUD, IAT, KID1, KIDN, CHASH, NO_CHASH, ATHASH, NO_ATHASH, RS256, BADSIG, UISUB,
    NONCE_SENT, NONCE, SCOPES, BASIC_AUTH,
];
const CONFIG: &[&str] = &[
    "oidcc-client-test-discovery-openid-config",
    "oidcc-client-test-discovery-jwks-uri-keys",
    "oidcc-client-test-discovery-issuer-mismatch",
    NONE,
    "oidcc-client-test-signing-key-rotation-just-before-signing",
    "oidcc-client-test-signing-key-rotation",
];
const REFRESH: &[&str] = &[
    "oidcc-client-test-refresh-token",
    "oidcc-client-test-refresh-token-invalid-issuer",
    "oidcc-client-test-refresh-token-invalid-sub",
];

const RP_INITIATED_LOGOUT: &[&str] = &[
    "oidcc-client-test-rp-init-logout",
    "oidcc-client-test-rp-init-logout-other-state",
    "oidcc-client-test-rp-init-logout-no-state",
];
const BACK_CHANNEL_LOGOUT: &[&str] = &[
    "oidcc-client-test-rp-backchannel-rpinitlogout",
    "oidcc-client-test-rp-backchannel-rpinitlogout-alg-none",
    "oidcc-client-test-rp-backchannel-rpinitlogout-no-event",
    "oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce",
    "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg",
    "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud",
    "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event",
    "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss",
];
const FRONT_CHANNEL_LOGOUT: &[&str] = &["oidcc-client-test-rp-frontchannel-rpinitlogout"];
const SESSION: &[&str] = &["oidcc-client-test-session-management"];

/// A logout plan's variants: the module list in each flow of a profile (the logout plans
/// do not vary the response mode).
const fn logout_basic(modules: &'static [&'static str]) -> [Variant; 1] {
    [v(Code, Any, modules)]
}

const fn logout_implicit(modules: &'static [&'static str]) -> [Variant; 2] {
    [v(IdToken, Any, modules), v(IdTokenToken, Any, modules)]
}

const fn logout_hybrid(modules: &'static [&'static str]) -> [Variant; 3] {
    [
        v(CodeIdToken, Any, modules),
        v(CodeToken, Any, modules),
        v(CodeIdTokenToken, Any, modules),
    ]
}

const fn v(
    response_type: ResponseType,
    mode: ModeRule,
    modules: &'static [&'static str],
) -> Variant {
    Variant {
        response_type,
        mode,
        modules,
    }
}

use ModeRule::{Any, Default as Dflt, FormPost};
use ResponseType::{Code, CodeIdToken, CodeIdTokenToken, CodeToken, IdToken, IdTokenToken};

const fn basic(mode: ModeRule) -> [Variant; 1] {
    [v(Code, mode, BASIC)]
}

const fn implicit(mode: ModeRule) -> [Variant; 2] {
    [
        v(IdToken, mode, IMPLICIT_ID_TOKEN),
        v(IdTokenToken, mode, IMPLICIT_ID_TOKEN_TOKEN),
    ]
}

const fn hybrid(mode: ModeRule) -> [Variant; 3] {
    [
        v(CodeIdToken, mode, HYBRID_CODE_ID_TOKEN),
        v(CodeToken, mode, HYBRID_CODE_TOKEN),
        v(CodeIdTokenToken, mode, HYBRID_ALL),
    ]
}

/// The plans `--plan` knows. The Form Post plans are the Basic, Implicit and Hybrid ones
/// with `form_post`, as the OpenID suite derives them; the logout plans come in Basic,
/// Implicit and Hybrid flavours, by response type.
pub const PLANS: &[Plan] = &[
    Plan {
        id: "oidcc-client-basic-certification-test-plan",
        title: "OpenID Connect Core: Basic Certification Profile Relying Party Tests",
        variants: &basic(Dflt),
    },
    Plan {
        id: "oidcc-client-implicit-certification-test-plan",
        title: "OpenID Connect Core: Implicit Certification Profile Relying Party Tests",
        variants: &implicit(Dflt),
    },
    Plan {
        id: "oidcc-client-hybrid-certification-test-plan",
        title: "OpenID Connect Core: Hybrid Certification Profile Relying Party Tests",
        variants: &hybrid(Dflt),
    },
    Plan {
        id: "oidcc-client-formpost-basic-certification-test-plan",
        title: "OpenID Connect Core: Form Post Basic Certification Profile Relying Party Tests",
        variants: &basic(FormPost),
    },
    Plan {
        id: "oidcc-client-formpost-implicit-certification-test-plan",
        title: "OpenID Connect Core: Form Post Implicit Certification Profile Relying Party Tests",
        variants: &implicit(FormPost),
    },
    Plan {
        id: "oidcc-client-formpost-hybrid-certification-test-plan",
        title: "OpenID Connect Core: Form Post Hybrid Certification Profile Relying Party Tests",
        variants: &hybrid(FormPost),
    },
    Plan {
        id: "oidcc-client-config-certification-test-plan",
        title: "OpenID Connect Core: Configuration Certification Profile Relying Party Tests",
        variants: &[v(Code, Any, CONFIG)],
    },
    Plan {
        id: "oidcc-client-refreshtoken-test-plan",
        title: "OpenID Connect Core Client Refresh Token Profile Tests",
        variants: &[
            v(Code, Any, REFRESH),
            v(CodeIdToken, Any, REFRESH),
            v(CodeToken, Any, REFRESH),
            v(CodeIdTokenToken, Any, REFRESH),
        ],
    },
    Plan {
        id: "oidcc-client-rp-initiated-logout-rp-basic",
        title: "OpenID Connect Core: RP Initiated Logout RP Certification Profile Relying Party Tests (Basic)",
        variants: &logout_basic(RP_INITIATED_LOGOUT),
    },
    Plan {
        id: "oidcc-client-rp-initiated-logout-rp-implicit",
        title: "OpenID Connect Core: RP Initiated Logout RP Certification Profile Relying Party Tests (Implicit)",
        variants: &logout_implicit(RP_INITIATED_LOGOUT),
    },
    Plan {
        id: "oidcc-client-rp-initiated-logout-rp-hybrid",
        title: "OpenID Connect Core: RP Initiated Logout RP Certification Profile Relying Party Tests (Hybrid)",
        variants: &logout_hybrid(RP_INITIATED_LOGOUT),
    },
    Plan {
        id: "oidcc-client-back-channel-logout-rp-basic",
        title: "OpenID Connect Core: Back Channel Logout RP Certification Profile Relying Party Tests (Basic)",
        variants: &logout_basic(BACK_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-back-channel-logout-rp-implicit",
        title: "OpenID Connect Core: Back Channel Logout RP Certification Profile Relying Party Tests (Implicit)",
        variants: &logout_implicit(BACK_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-back-channel-logout-rp-hybrid",
        title: "OpenID Connect Core: Back Channel Logout RP Certification Profile Relying Party Tests (Hybrid)",
        variants: &logout_hybrid(BACK_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-front-channel-logout-rp-basic",
        title: "OpenID Connect Core: Front Channel Logout RP Certification Profile Relying Party Tests (Basic)",
        variants: &logout_basic(FRONT_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-front-channel-logout-rp-implicit",
        title: "OpenID Connect Core: Front Channel Logout RP Certification Profile Relying Party Tests (Implicit)",
        variants: &logout_implicit(FRONT_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-front-channel-logout-rp-hybrid",
        title: "OpenID Connect Core: Front Channel Logout RP Certification Profile Relying Party Tests (Hybrid)",
        variants: &logout_hybrid(FRONT_CHANNEL_LOGOUT),
    },
    Plan {
        id: "oidcc-client-rp-session-management-rp-basic",
        title: "OpenID Connect Core: Session Management RP Certification Profile Relying Party Tests (Basic)",
        variants: &logout_basic(SESSION),
    },
    Plan {
        id: "oidcc-client-rp-session-management-rp-implicit",
        title: "OpenID Connect Core: Session Management RP Certification Profile Relying Party Tests (Implicit)",
        variants: &logout_implicit(SESSION),
    },
    Plan {
        id: "oidcc-client-rp-session-management-rp-hybrid",
        title: "OpenID Connect Core: Session Management RP Certification Profile Relying Party Tests (Hybrid)",
        variants: &logout_hybrid(SESSION),
    },
];

/// The plan with this id.
pub fn plan(id: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.id == id)
}

/// A plan id that is not known: the error, with the closest id.
pub fn unknown_plan(id: &str) -> String {
    let mut msg = format!("`{id}` is not a plan this harness runs");
    if let Some(s) = mock_idp::diag::did_you_mean(id, PLANS.iter().map(|p| p.id)) {
        msg.push_str(&format!("; did you mean `{s}`?"));
    }
    msg.push_str(" (`oidc-harness list --plans` lists them)");
    msg
}

impl Plan {
    /// The variants that apply to an RP with this profile.
    pub fn applicable(&self, profile: &Profile) -> Vec<&'static Variant> {
        let variants: &'static [Variant] = plan(self.id).map_or(&[], |p| p.variants);
        variants
            .iter()
            .filter(|v| {
                profile.response_types.contains(&v.response_type)
                    && v.mode
                        .admits(v.response_type, profile.mode_for(v.response_type))
            })
            .collect()
    }

    /// The flows it is for, in words.
    pub fn flows_text(&self) -> String {
        self.variants
            .iter()
            .map(|v| v.mode.describe(v.response_type))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a scenario belongs to the plan for this RP: it names a module of an
    /// applicable variant and is about that variant's flow.
    pub fn selects(&self, profile: &Profile, s: &Scenario) -> bool {
        self.applicable(profile).iter().any(|v| {
            s.flow_set().contains(v.response_type)
                && s.oidf
                    .modules
                    .iter()
                    .any(|m| v.modules.contains(&m.as_str()))
        })
    }
}

/// The state of one module in a plan run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleVerdict {
    /// Every scenario of it passed.
    Pass,
    /// A scenario of it failed.
    Fail,
    /// None failed, but one could not decide (inconclusive, error, skipped).
    Undecided,
    /// No scenario corresponds to it.
    NotCovered,
}

impl ModuleVerdict {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Undecided => "undecided",
            Self::NotCovered => "not-covered",
        }
    }
}

/// One module of a plan, after a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleResult {
    /// The module.
    pub module: String,
    /// The response type of the plan's variant it was run for.
    pub response_type: String,
    /// The scenarios that correspond to it, `id=verdict`.
    pub scenarios: Vec<String>,
    /// Its state.
    pub verdict: ModuleVerdict,
    /// Why, when it did not pass, and how a scenario differs from the module.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How the RP stands against a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanVerdict {
    /// It would pass: every module passed.
    Pass,
    /// It would fail: a module failed.
    Fail,
    /// Something stands in the way of a verdict (see the modules).
    Undecided,
    /// The plan is for other flows than the RP's.
    NotApplicable,
}

impl PlanVerdict {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Undecided => "undecided",
            Self::NotApplicable => "not-applicable",
        }
    }
}

/// A plan, after a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The plan's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The verdict.
    pub verdict: PlanVerdict,
    /// What decided it, in a sentence.
    pub summary: String,
    /// Its modules for the RP's flows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleResult>,
}

/// Judges `plan` from the reports of a run against the RP of `profile`.
pub fn evaluate(
    plan: &Plan,
    profile: &Profile,
    scenarios: &[Scenario],
    reports: &[ScenarioReport],
) -> PlanReport {
    let variants = plan.applicable(profile);
    let mut out = PlanReport {
        id: plan.id.into(),
        title: plan.title.into(),
        verdict: PlanVerdict::NotApplicable,
        summary: String::new(),
        modules: Vec::new(),
    };
    if variants.is_empty() {
        out.summary = format!(
            "the plan is for {}; the RP uses {}",
            plan.flows_text(),
            profile.flows_text()
        );
        return out;
    }
    for v in &variants {
        for &id in v.modules {
            let mapped: Vec<&Scenario> = scenarios
                .iter()
                .filter(|s| {
                    s.oidf.modules.iter().any(|m| m == id) && s.flow_set().contains(v.response_type)
                })
                .collect();
            out.modules
                .push(module_result(id, v.response_type, &mapped, reports));
        }
    }
    (out.verdict, out.summary) = plan_verdict(&out.modules);
    out
}

fn plan_verdict(modules: &[ModuleResult]) -> (PlanVerdict, String) {
    let count = |verdict: ModuleVerdict| modules.iter().filter(|m| m.verdict == verdict).count();
    let (failed, undecided, uncovered) = (
        count(ModuleVerdict::Fail),
        count(ModuleVerdict::Undecided),
        count(ModuleVerdict::NotCovered),
    );
    let total = modules.len();
    let caveats = modules
        .iter()
        .filter(|m| !m.notes.is_empty() && m.verdict == ModuleVerdict::Pass)
        .count();
    if failed > 0 {
        (
            PlanVerdict::Fail,
            format!("the RP would fail: {failed} of {total} module(s) failed"),
        )
    } else if undecided + uncovered > 0 {
        (
            PlanVerdict::Undecided,
            format!(
                "{} of {total} module(s) passed; {} could not be decided here (see each module)",
                total - undecided - uncovered,
                undecided + uncovered
            ),
        )
    } else if caveats > 0 {
        (
            PlanVerdict::Pass,
            format!(
                "the RP would pass all {total} module(s); {caveats} of them checked differently than the OpenID suite does (see their notes)"
            ),
        )
    } else {
        (
            PlanVerdict::Pass,
            format!("the RP would pass all {total} module(s)"),
        )
    }
}

fn module_result(
    id: &str,
    rt: ResponseType,
    mapped: &[&Scenario],
    reports: &[ScenarioReport],
) -> ModuleResult {
    let mut r = ModuleResult {
        module: id.into(),
        response_type: rt.as_str().into(),
        scenarios: Vec::new(),
        verdict: ModuleVerdict::NotCovered,
        notes: Vec::new(),
    };
    if mapped.is_empty() {
        r.notes.push(
            module(id)
                .and_then(|m| m.gap)
                .unwrap_or("no scenario corresponds to it")
                .to_string(),
        );
        return r;
    }
    let mut verdicts = Vec::new();
    for s in mapped {
        match reports.iter().find(|rep| rep.id == s.id) {
            Some(rep) => {
                r.scenarios
                    .push(format!("{}={}", s.id, rep.verdict.as_str()));
                verdicts.push(rep.verdict);
                if !matches!(rep.verdict, Verdict::Pass | Verdict::Warn) {
                    if let Some(n) = rep.notes.first() {
                        r.notes.push(format!("{}: {n}", s.id));
                    }
                }
                if let Some(d) = &s.oidf.differs {
                    r.notes.push(format!("{}: {d}", s.id));
                }
                let missed = rep.verdict == Verdict::Warn
                    || (rep.verdict == Verdict::Pass && !rep.hardening.is_empty());
                if s.oidf.strict && missed {
                    // The OpenID suite fails what the spec leaves optional here.
                    verdicts.pop();
                    verdicts.push(Verdict::Fail);
                    let what: Vec<&String> = rep.hardening.iter().chain(&rep.notes).collect();
                    r.notes.push(format!(
                        "{}: the OpenID suite requires what the spec leaves optional here: {}",
                        s.id,
                        what.iter()
                            .map(|w| w.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
            }
            None => {
                r.scenarios.push(format!("{}=not-run", s.id));
                verdicts.push(Verdict::Skip);
                r.notes.push(format!("{}: not run", s.id));
            }
        }
    }
    r.verdict = verdict_of(&verdicts);
    r
}

/// `docs/oidf-coverage.md`: every module and old test with the scenarios that correspond
/// to it, generated from the scenario files (a test keeps the file equal).
pub fn coverage_markdown(scenarios: &[Scenario]) -> String {
    let mut out = String::from(
        "# OpenID Foundation RP tests: coverage\n\n\
         Generated from the scenario files' `[oidf]` tables and `harness/src/oidf.rs` (a test\n\
         fails when this file differs; `UPDATE_DOCS=1 cargo test -p harness --test oidf`\n\
         rewrites it). `oidc-harness run --plan ID` runs the scenarios of a plan for the RP's\n\
         flows and says whether the RP would pass it.\n",
    );
    let by_module = |id: &str| -> Vec<&Scenario> {
        scenarios
            .iter()
            .filter(|s| s.oidf.modules.iter().any(|m| m == id))
            .collect()
    };
    let scenario_cell = |list: &[&Scenario]| -> String {
        list.iter()
            .map(|s| {
                let flows = s.flow_set();
                let mut cell = format!("`{}`", s.id);
                if flows != mock_idp::flows::FlowSet::ALL {
                    cell.push_str(&format!(
                        " ({})",
                        flows
                            .types()
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if let Some(m) = s.modes() {
                    cell.push_str(&format!(
                        " [{}]",
                        m.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                cell
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    out.push_str("\n## Plans\n\n| plan | flows | modules | covered |\n|---|---|---|---|\n");
    for p in PLANS {
        let mut modules: Vec<&str> = p
            .variants
            .iter()
            .flat_map(|v| v.modules.iter().copied())
            .collect();
        modules.sort_unstable();
        modules.dedup();
        let covered = modules.iter().filter(|m| !by_module(m).is_empty()).count();
        out.push_str(&format!(
            "| `{}` | {} | {} | {covered} |\n",
            p.id,
            p.flows_text(),
            modules.len()
        ));
    }
    let covered = MODULES
        .iter()
        .filter(|m| !by_module(m.id).is_empty())
        .count();
    out.push_str(&format!(
        "\n## Modules of the conformance suite\n\n{covered} of {} modules have a scenario. A flow list after a scenario\n\
         means it runs only for RPs using those response types; `[form_post]`, only in that mode.\n\n\
         | module | old suite | in plans | scenarios |\n|---|---|---|---|\n",
        MODULES.len()
    ));
    for m in MODULES {
        let plans: Vec<String> = PLANS
            .iter()
            .filter(|p| p.variants.iter().any(|v| v.modules.contains(&m.id)))
            .map(|p| {
                p.id.trim_start_matches("oidcc-client-")
                    .trim_end_matches("-test-plan")
                    .trim_end_matches("-certification")
                    .to_string()
            })
            .collect();
        let list = by_module(m.id);
        let cell = if list.is_empty() {
            format!("— {}", m.gap.unwrap_or("not covered yet"))
        } else {
            let mut c = scenario_cell(&list);
            for s in &list {
                if let Some(d) = &s.oidf.differs {
                    c.push_str(&format!("<br>*differs:* {d}"));
                }
            }
            c
        };
        out.push_str(&format!(
            "| `{}`<br>{} | {} | {} | {} |\n",
            m.id,
            m.title,
            if m.old.is_empty() {
                "—".to_string()
            } else {
                m.old
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join("<br>")
            },
            if plans.is_empty() {
                "—".to_string()
            } else {
                plans.join(", ")
            },
            cell.replace('|', "\\|")
        ));
    }
    let old_covered = OLD_TESTS
        .iter()
        .filter(|t| {
            scenarios
                .iter()
                .any(|s| s.oidf.old.iter().any(|o| o == t.id))
        })
        .count();
    out.push_str(&format!(
        "\n## Tests of the old suite\n\n{old_covered} of {} tests have a scenario.\n\n| test | scenarios |\n|---|---|\n",
        OLD_TESTS.len()
    ));
    for t in OLD_TESTS {
        let list: Vec<&Scenario> = scenarios
            .iter()
            .filter(|s| s.oidf.old.iter().any(|o| o == t.id))
            .collect();
        let cell = if list.is_empty() {
            format!("— {}", t.gap.unwrap_or("not covered yet"))
        } else {
            scenario_cell(&list)
        };
        out.push_str(&format!("| `{}` | {} |\n", t.id, cell.replace('|', "\\|")));
    }
    out
}

/// Plans of several partial runs (the partitions of a CI matrix) as one: each module's
/// scenarios take their verdicts from the merged reports, and a plan's verdict follows.
pub fn merge_plans(plans: Vec<PlanReport>, reports: &[ScenarioReport]) -> Vec<PlanReport> {
    let mut out: Vec<PlanReport> = Vec::new();
    for p in plans {
        match out.iter_mut().find(|o| o.id == p.id) {
            None => out.push(p),
            Some(o) => {
                for m in p.modules {
                    match o
                        .modules
                        .iter_mut()
                        .find(|x| x.module == m.module && x.response_type == m.response_type)
                    {
                        None => o.modules.push(m),
                        Some(x) => {
                            // A module judged failed by a part stays failed (a strict
                            // module fails on what only its run saw).
                            if m.verdict == ModuleVerdict::Fail {
                                x.verdict = ModuleVerdict::Fail;
                            }
                            for n in m.notes {
                                if !x.notes.contains(&n) {
                                    x.notes.push(n);
                                }
                            }
                            for sc in m.scenarios {
                                if !x.scenarios.contains(&sc) {
                                    x.scenarios.push(sc);
                                }
                            }
                        }
                    }
                }
                if o.verdict == PlanVerdict::NotApplicable {
                    o.verdict = p.verdict;
                    o.summary = p.summary;
                }
            }
        }
    }
    for p in &mut out {
        if p.verdict == PlanVerdict::NotApplicable {
            continue;
        }
        for m in &mut p.modules {
            let mut verdicts: Vec<Verdict> = Vec::new();
            let mut seen: Vec<String> = Vec::new();
            for entry in &m.scenarios {
                let id = entry.split('=').next().unwrap_or_default().to_string();
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id.clone());
                verdicts.push(
                    reports
                        .iter()
                        .find(|r| r.id == id)
                        .map_or(Verdict::Skip, |r| r.verdict),
                );
            }
            m.scenarios = seen
                .iter()
                .zip(&verdicts)
                .map(|(id, v)| format!("{id}={}", v.as_str()))
                .collect();
            if m.verdict == ModuleVerdict::Fail || m.verdict == ModuleVerdict::NotCovered {
                continue;
            }
            m.verdict = verdict_of(&verdicts);
        }
        (p.verdict, p.summary) = plan_verdict(&p.modules);
    }
    out
}

fn verdict_of(verdicts: &[Verdict]) -> ModuleVerdict {
    if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Fail | Verdict::WrongCode))
    {
        ModuleVerdict::Fail
    } else if !verdicts.is_empty()
        && verdicts
            .iter()
            .all(|v| matches!(v, Verdict::Pass | Verdict::Warn))
    {
        ModuleVerdict::Pass
    } else {
        ModuleVerdict::Undecided
    }
}
