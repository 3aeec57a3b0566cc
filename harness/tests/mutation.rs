//! The mutation check: the whole catalog against the correct sample RP (every scenario
//! passes) and against variants of it: each check switched off (exactly the scenarios
//! about that check move, with the verdict the rules give), and quirks seen in real RPs,
//! some wrong (caught) and some right (nothing moves). Prints the matrix.

mod support;

use std::collections::BTreeMap;

use harness::report::RunReport;
use harness::runner::Options;
use harness::verdict::Verdict;
use support::*;

/// What a scenario shows in the matrix: its verdict, or `hardening` for a pass with a
/// `may` expectation missed.
fn cell(s: &harness::report::ScenarioReport) -> Option<&'static str> {
    match s.verdict {
        Verdict::Pass if !s.hardening.is_empty() => Some("hardening"),
        Verdict::Pass | Verdict::Skip => None,
        v => Some(v.as_str()),
    }
}

fn moved(r: &RunReport) -> BTreeMap<String, &'static str> {
    r.scenarios
        .iter()
        .filter_map(|s| cell(s).map(|c| (s.id.clone(), c)))
        .collect()
}

/// A variant: `NO_CHECKS`, `QUIRKS`, whether the RP is restarted around the scenarios that
/// run alone, its flow (response type and mode; the code flow by default), capabilities
/// it declares beyond the sample RP's, the scenarios it runs (all by default), and what
/// must move (every other scenario passes).
#[derive(Clone)]
struct Variant {
    name: &'static str,
    no_checks: &'static str,
    quirks: &'static str,
    restart: bool,
    flow: Option<(&'static str, &'static str)>,
    capabilities: &'static str,
    only: Option<&'static [&'static str]>,
    /// Registered for front-channel logout instead of back-channel.
    frontchannel: bool,
    /// The IdP's personality (Okta when absent).
    idp: Option<&'static str>,
    /// The authorization server the RP uses (`default` when absent; Entra's `common`).
    server: Option<&'static str>,
    /// It admits the group `harness-admins` only, reading groups where the IdP sends them.
    group: bool,
    /// It admits the Google Workspace domain `harness.test` only.
    workspace: bool,
    /// It admits the users provisioned at its SCIM endpoint only.
    provisioned: bool,
    /// It creates accounts at a first login, listed at its SCIM endpoint.
    accounts: bool,
    /// Its app signs with a key of its own; its issuer is given as `{issuer}?appid=…`.
    app_key: bool,
    /// More profile lines (top level) and `[start.env]` lines: the product settings of
    /// the ClearML variants.
    profile_lines: &'static str,
    env: &'static str,
    moves: Vec<(&'static str, &'static str)>,
}

/// The provisioning scenarios, and a plain login by a provisioned user.
const PROVISIONING: &[&str] = &[
    "unprovisioned-user-refused",
    "deactivated-user-refused",
    "duplicate-user-conflict",
    "retried-create-conflict",
    "email-omitted",
    "username-other-format",
    "renamed-user-one-account",
    "happy-path",
];

/// The scenarios of an RP that creates accounts at a first login.
const ACCOUNTS: &[&str] = &[
    "created-on-first-login",
    "renamed-user-one-account-first-login",
    "renamed-user-one-account",
    "deactivated-user-refused",
    "duplicate-user-conflict",
    "happy-path",
];

/// The scenarios of an RP that admits one group, under Okta.
const GROUPS_OKTA: &[&str] = &[
    "required-group-non-member",
    "group-removed-refused",
    "group-added-admitted",
    "happy-path",
];

/// The scenarios of an RP that admits one group under Entra.
const GROUPS_ENTRA: &[&str] = &[
    "entra-groups-overage",
    "entra-groups-overage-non-member",
    "required-group-non-member",
    "happy-path",
];

/// The hybrid flow with every token from authorize, posted back: the flow with the
/// most checks (c_hash, at_hash, the nonce required).
const HYBRID: (&str, &str) = ("code id_token token", "form_post");

fn variants() -> Vec<Variant> {
    const FAIL: &str = "fail";
    const WRONG: &str = "wrong-code";
    const WARN: &str = "warn";
    const INCONC: &str = "inconclusive";
    const HARD: &str = "hardening";
    let base = Variant {
        name: "",
        no_checks: "",
        quirks: "",
        restart: true,
        flow: None,
        capabilities: "",
        only: None,
        frontchannel: false,
        idp: None,
        server: None,
        group: false,
        workspace: false,
        provisioned: false,
        accounts: false,
        app_key: false,
        profile_lines: "",
        env: "",
        moves: vec![],
    };
    let check = |c: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
        name: c,
        no_checks: c,
        moves,
        ..base.clone()
    };
    let quirk = |q: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
        name: q,
        quirks: q,
        moves,
        ..base.clone()
    };
    // An RP that admits one group but reads it from `groups` whatever the IdP: the
    // scenario about where that IdP sends groups (the first of `only`) fails.
    let claim_fixed =
        |name: &'static str, idp: &'static str, only: &'static [&'static str]| Variant {
            name,
            quirks: "groups-claim-fixed",
            idp: Some(idp),
            group: true,
            only: Some(only),
            moves: vec![(only[0], FAIL)],
            ..base.clone()
        };
    let front =
        |name: &'static str, c: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
            name,
            no_checks: c,
            frontchannel: true,
            moves,
            ..base.clone()
        };
    let hybrid_check =
        |name: &'static str, c: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
            name,
            no_checks: c,
            flow: Some(HYBRID),
            moves,
            ..base.clone()
        };
    vec![
        Variant {
            name: "hybrid form_post",
            flow: Some(HYBRID),
            ..base.clone()
        },
        check(
            "state",
            vec![
                ("callback-replayed", WRONG),
                ("unsolicited-callback", WRONG),
                ("rp-cookies-lost", WRONG),
                ("state-mismatch", FAIL),
                ("state-missing", FAIL),
            ],
        ),
        check(
            "nonce",
            vec![("nonce-missing", FAIL), ("nonce-mismatch", FAIL)],
        ),
        // A confidential client that sends a nonce: PKCE is RECOMMENDED (RFC 9700 2.1.1).
        check(
            "pkce",
            vec![
                ("by-the-book-requests", WARN),
                ("happy-path", WARN),
                ("pkce-s256-only", WARN),
            ],
        ),
        // It never fetches the JWKS: what it accepts proves it, what is about keys it
        // never exercises. alg-none-with-at-hash is refused, for at_hash. In the code
        // flow the ID token comes from the token endpoint, where TLS may stand in for the
        // signature (OIDC Core 3.1.3.7 step 6): accepting a forged one is a hardening
        // note; from the authorization endpoint it fails (the hybrid variant below).
        check(
            "signature",
            vec![
                ("alg-none", HARD),
                ("bad-signature", HARD),
                ("es256-bad-signature", HARD),
                ("hs256-bad-signature", HARD),
                ("jwks-unavailable", HARD),
                ("unknown-kid", HARD),
                ("es256-signed", INCONC),
                ("jwks-unparseable-key", INCONC),
                ("jwks-uri-moved", INCONC),
                ("key-rotation", INCONC),
                ("key-rotation-just-before-signing", INCONC),
                ("kid-absent-several-keys", INCONC),
                ("kid-absent-single-key", INCONC),
                // Nor does it verify logout tokens.
                ("backchannel-logout-alg-none", FAIL),
                ("backchannel-logout-bad-signature", FAIL),
                ("backchannel-logout-wrong-alg", FAIL),
            ],
        ),
        check("iss", vec![("iss-mismatch", FAIL), ("iss-missing", FAIL)]),
        check(
            "aud",
            vec![
                ("aud-extra-untrusted", FAIL),
                ("aud-mismatch", FAIL),
                ("aud-missing", FAIL),
                ("no-userinfo-after-bad-token", FAIL),
            ],
        ),
        // OIDC Core 3.1.3.7 step 5: SHOULD.
        check("azp", vec![("azp-other-client", WARN)]),
        check("nbf", vec![("nbf-in-future", WARN)]),
        check(
            "exp",
            vec![("exp-missing", FAIL), ("expired-id-token", FAIL)],
        ),
        // iat in the future or long ago: OIDC Core 3.1.3.7 step 10 says MAY.
        check(
            "iat",
            vec![
                ("iat-missing", FAIL),
                ("iat-week-old", HARD),
                ("issued-in-future", HARD),
            ],
        ),
        // at_hash in the code flow: OIDC Core 3.1.3.8 says MAY.
        check("at-hash", vec![("at-hash-bad", HARD)]),
        // OIDC Core 12.2: the refreshed ID token keeps the login's iss and sub.
        check("refresh-iss", vec![("refresh-iss-mismatch", FAIL)]),
        // Its userinfo check still sees another sub, and refuses with its own code.
        check("refresh-sub", vec![("refresh-sub-mismatch", WRONG)]),
        // It uses the other user's userinfo: the page shows someone else.
        check("userinfo-sub", vec![("userinfo-sub-mismatch", FAIL)]),
        check("email", vec![("email-claim-missing", FAIL)]),
        check("email-verified", vec![("email-unverified", WARN)]),
        // No nonce: allowed in the code flow; the nonce faults have nothing to strike.
        quirk(
            "no-nonce",
            vec![
                ("by-the-book-requests", HARD),
                ("happy-path", HARD),
                ("nonce-missing", INCONC),
                ("nonce-mismatch", INCONC),
            ],
        ),
        // Logs in from the ID token only, with or without an email.
        quirk(
            "no-userinfo",
            vec![
                ("email-claim-missing", FAIL),
                ("thin-id-token-without-email", FAIL),
                ("userinfo-bearer-header", INCONC),
                ("userinfo-sub-mismatch", INCONC),
                ("userinfo-unauthorized", INCONC),
            ],
        ),
        // The token in a form body (RFC 6750 2.2): fine where the IdP reads it there, a
        // miss (SHOULD) where it reads the header only.
        Variant {
            name: "userinfo-body",
            quirks: "userinfo-body",
            capabilities: "\"userinfo-body\", ",
            moves: vec![("userinfo-bearer-header", WARN)],
            ..base.clone()
        },
        // Right, and graded so: discards the other user's answer (OIDC Core 5.3.2) ...
        quirk("discard-bad-userinfo", vec![]),
        // ... and reads discovery once, at start-up: with the faults armed before it
        // restarts, it refuses to start, which is a refusal.
        quirk("discovery-at-startup", vec![]),
        // Never restarted, an RP keeps the discovery and keys it read first: the faults
        // on them never strike, and those scenarios test nothing.
        Variant {
            name: "restart = never",
            restart: false,
            moves: vec![
                ("discovery-issuer-mismatch", INCONC),
                ("discovery-malformed", INCONC),
                ("discovery-unavailable", INCONC),
                // The discovery it keeps does not offer ES256: refusing is allowed.
                ("es256-signed", HARD),
                ("jwks-unavailable", INCONC),
                ("jwks-unparseable-key", INCONC),
                ("jwks-uri-moved", INCONC),
                ("kid-absent-single-key", INCONC),
            ],
            ..base.clone()
        },
        // The flows with tokens from authorize bring their own checks.
        // From the authorization endpoint the signature MUST be checked: the same RP fails.
        hybrid_check(
            "hybrid signature",
            "signature",
            vec![
                ("bad-signature", FAIL),
                ("es256-bad-signature", FAIL),
                ("hs256-bad-signature", FAIL),
                ("jwks-unavailable", FAIL),
                ("unknown-kid", FAIL),
                ("es256-signed", INCONC),
                ("jwks-unparseable-key", INCONC),
                ("jwks-uri-moved", INCONC),
                ("key-rotation", INCONC),
                ("key-rotation-just-before-signing", INCONC),
                ("kid-absent-several-keys", INCONC),
                ("kid-absent-single-key", INCONC),
                ("backchannel-logout-alg-none", FAIL),
                ("backchannel-logout-bad-signature", FAIL),
                ("backchannel-logout-wrong-alg", FAIL),
            ],
        ),
        hybrid_check(
            "hybrid c-hash",
            "c-hash",
            vec![("c-hash-invalid", FAIL), ("c-hash-missing", FAIL)],
        ),
        hybrid_check(
            "hybrid at-hash",
            "at-hash",
            vec![("at-hash-invalid", FAIL), ("at-hash-missing", FAIL)],
        ),
        hybrid_check(
            "hybrid nonce",
            "nonce",
            vec![("nonce-missing", FAIL), ("nonce-mismatch", FAIL)],
        ),
        hybrid_check(
            "hybrid userinfo-sub",
            "userinfo-sub",
            vec![("userinfo-sub-mismatch", FAIL)],
        ),
        // Without a nonce the IdP refuses every hybrid login (Okta requires it): the
        // scenario about it fails, and so does any login.
        Variant {
            name: "hybrid no-nonce",
            quirks: "no-nonce",
            flow: Some(HYBRID),
            only: Some(&["nonce-sent-unless-code-flow"]),
            moves: vec![("nonce-sent-unless-code-flow", FAIL)],
            ..base.clone()
        },
        // Logout. It does not end its own session at /logout: where the IdP ends its
        // session, the back-channel token ends the RP's too; where the IdP keeps it or
        // refuses the logout, nothing does.
        check(
            "logout-local",
            vec![
                ("logout-session-kept", FAIL),
                ("post-logout-uri-unregistered", FAIL),
            ],
        ),
        // RP-initiated logout with client_id only: allowed, but no hint (RECOMMENDED: warn),
        // the user left on the IdP's page (a hardening note beside it), and nothing for
        // the faults on the way back to strike.
        quirk(
            "logout-bare",
            vec![
                ("rp-init-logout", WARN),
                ("rp-init-logout-no-state", INCONC),
                ("rp-init-logout-other-state", INCONC),
                ("post-logout-uri-unregistered", INCONC),
            ],
        ),
        // Back-Channel Logout 1.0 2.6: each validation step, MUST.
        check(
            "logout-token-signature",
            vec![
                ("backchannel-logout-alg-none", FAIL),
                ("backchannel-logout-bad-signature", FAIL),
                ("backchannel-logout-wrong-alg", FAIL),
            ],
        ),
        check(
            "logout-token-iss",
            vec![("backchannel-logout-wrong-iss", FAIL)],
        ),
        check(
            "logout-token-aud",
            vec![("backchannel-logout-wrong-aud", FAIL)],
        ),
        check(
            "logout-token-exp",
            vec![("backchannel-logout-expired", FAIL)],
        ),
        check(
            "logout-token-events",
            vec![
                ("backchannel-logout-no-event", FAIL),
                ("backchannel-logout-wrong-event", FAIL),
            ],
        ),
        check(
            "logout-token-nonce",
            vec![("backchannel-logout-with-nonce", FAIL)],
        ),
        // By sub only: a sid-only token ends nothing (MUST), a token naming another
        // session ends the user's (SHOULD, 2.7).
        check(
            "logout-token-sid",
            vec![
                ("backchannel-logout-sid-only", FAIL),
                ("backchannel-logout-sid-unknown", WARN),
            ],
        ),
        // A replayed jti: the RP MAY refuse it.
        check(
            "logout-token-jti",
            vec![("backchannel-logout-jti-replayed", HARD)],
        ),
        // Front-channel logout instead: every scenario still passes ...
        front("frontchannel", "", vec![]),
        // ... and each of its checks is caught (Front-Channel Logout 1.0 2: SHOULD).
        front(
            "frontchannel-iss",
            "frontchannel-iss",
            vec![("frontchannel-logout-iss-other", WARN)],
        ),
        front(
            "frontchannel-sid",
            "frontchannel-sid",
            vec![("frontchannel-logout-sid-other", WARN)],
        ),
        front(
            "frontchannel logout-local",
            "logout-local",
            vec![
                ("logout-session-kept", FAIL),
                ("post-logout-uri-unregistered", FAIL),
            ],
        ),
        // The personality suites, each under its IdP, against the naive behaviour it is
        // about (their scenarios are skipped under the other IdPs).
        Variant {
            name: "auth0 issuer-normalised",
            quirks: "issuer-normalised",
            idp: Some("auth0"),
            only: Some(&["auth0-trailing-slash-issuer", "happy-path"]),
            moves: vec![("auth0-trailing-slash-issuer", FAIL), ("happy-path", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "keycloak first-jwks-key",
            quirks: "first-jwks-key",
            idp: Some("keycloak"),
            only: Some(&["keycloak-encryption-key-first"]),
            moves: vec![("keycloak-encryption-key-first", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "entra iss",
            no_checks: "iss",
            idp: Some("entra"),
            only: Some(&["entra-other-tenant-token", "entra-member-without-email"]),
            moves: vec![("entra-other-tenant-token", FAIL)],
            ..base.clone()
        },
        // At Entra's common endpoint, an RP that compares the issuer template literally
        // refuses every login; at a tenant's own endpoint nothing moves.
        Variant {
            name: "entra common issuer-literal",
            quirks: "issuer-literal",
            idp: Some("entra"),
            server: Some("common"),
            only: Some(&["entra-common-issuer-template", "entra-other-tenant-token"]),
            moves: vec![
                // A should: Microsoft's guidance, against OIDC Discovery 4.3's letter.
                ("entra-common-issuer-template", WARN),
                // Refused at discovery, before the fault could strike.
                ("entra-other-tenant-token", INCONC),
            ],
            ..base.clone()
        },
        Variant {
            name: "entra issuer-literal",
            quirks: "issuer-literal",
            idp: Some("entra"),
            only: Some(&["entra-common-issuer-template", "entra-other-tenant-token"]),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "google issuer-literal",
            quirks: "issuer-literal",
            idp: Some("google"),
            only: Some(&["google-issuer-without-scheme", "happy-path"]),
            moves: vec![("google-issuer-without-scheme", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "entra email",
            no_checks: "email",
            idp: Some("entra"),
            only: Some(&["entra-other-tenant-token", "entra-member-without-email"]),
            moves: vec![("entra-member-without-email", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "google logout-local",
            no_checks: "logout-local",
            idp: Some("google"),
            only: Some(&["no-end-session-logout-is-local"]),
            moves: vec![("no-end-session-logout-is-local", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "cognito access-token-aud-required",
            quirks: "access-token-aud-required",
            idp: Some("cognito"),
            only: Some(&["cognito-access-token-without-aud"]),
            moves: vec![("cognito-access-token-without-aud", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "auth0 access-token-aud-required",
            quirks: "access-token-aud-required",
            idp: Some("auth0"),
            only: Some(&[
                "auth0-access-token-audience-array",
                "auth0-trailing-slash-issuer",
            ]),
            moves: vec![
                ("auth0-access-token-audience-array", FAIL),
                ("auth0-trailing-slash-issuer", FAIL),
            ],
            ..base.clone()
        },
        // Cognito's `/logout` refuses the standard end-session parameters: the user stays
        // signed in at Cognito (a should: the RP's own session is over).
        Variant {
            name: "cognito logout-standard-only",
            quirks: "logout-standard-only",
            idp: Some("cognito"),
            only: Some(&["cognito-logout-uri", "no-end-session-logout-is-local"]),
            moves: vec![("cognito-logout-uri", WARN)],
            ..base.clone()
        },
        Variant {
            name: "cognito logout-local",
            no_checks: "logout-local",
            idp: Some("cognito"),
            only: Some(&["cognito-logout-uri", "no-end-session-logout-is-local"]),
            moves: vec![
                ("cognito-logout-uri", FAIL),
                ("no-end-session-logout-is-local", FAIL),
            ],
            ..base.clone()
        },
        // Entra's access token for OpenID scopes is Graph's: its `aud` is Graph.
        Variant {
            name: "entra access-token-aud-required",
            quirks: "access-token-aud-required",
            idp: Some("entra"),
            only: Some(&["entra-graph-access-token"]),
            moves: vec![("entra-graph-access-token", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "pingone first-response-mode",
            quirks: "first-response-mode",
            idp: Some("pingone"),
            only: Some(&["pingone-pi-flow-listed-first"]),
            moves: vec![("pingone-pi-flow-listed-first", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "adfs email",
            no_checks: "email",
            idp: Some("adfs"),
            only: Some(&["adfs-upn-without-email"]),
            moves: vec![("adfs-upn-without-email", FAIL)],
            ..base.clone()
        },
        // Access rules: one group (read where each IdP sends it), one Workspace domain.
        Variant {
            name: "entra groups-overage",
            no_checks: "groups-overage",
            idp: Some("entra"),
            group: true,
            only: Some(GROUPS_ENTRA),
            moves: vec![("entra-groups-overage", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "entra groups",
            no_checks: "groups",
            idp: Some("entra"),
            group: true,
            only: Some(GROUPS_ENTRA),
            moves: vec![
                ("required-group-non-member", FAIL),
                ("entra-groups-overage-non-member", FAIL),
                // It admitted the member without reading the groups: proves nothing.
                ("entra-groups-overage", INCONC),
            ],
            ..base.clone()
        },
        Variant {
            name: "okta groups",
            no_checks: "groups",
            group: true,
            only: Some(GROUPS_OKTA),
            moves: vec![
                ("required-group-non-member", FAIL),
                ("group-removed-refused", FAIL),
            ],
            ..base.clone()
        },
        // Group sync (ClearML): without it, the groups of the first login stay.
        Variant {
            name: "okta group-sync",
            no_checks: "group-sync",
            group: true,
            only: Some(GROUPS_OKTA),
            moves: vec![("group-removed-refused", FAIL)],
            ..base.clone()
        },
        claim_fixed(
            "auth0 groups-claim-fixed",
            "auth0",
            &["auth0-namespaced-groups", "required-group-non-member"],
        ),
        claim_fixed(
            "cognito groups-claim-fixed",
            "cognito",
            &["cognito-groups", "required-group-non-member"],
        ),
        claim_fixed(
            "keycloak groups-claim-fixed",
            "keycloak",
            &["keycloak-realm-roles", "required-group-non-member"],
        ),
        Variant {
            name: "google domain-from-email",
            quirks: "domain-from-email",
            idp: Some("google"),
            workspace: true,
            only: Some(&["google-personal-account-work-email", "happy-path"]),
            moves: vec![("google-personal-account-work-email", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "google hosted-domain",
            no_checks: "hosted-domain",
            idp: Some("google"),
            workspace: true,
            only: Some(&["google-personal-account-work-email", "happy-path"]),
            moves: vec![("google-personal-account-work-email", FAIL)],
            ..base.clone()
        },
        // Provisioned users only: the correct RP passes the provisioning scenarios (and
        // logs in the users the IdP provisioned); without the check, it lets in users never
        // provisioned or deactivated.
        Variant {
            name: "provisioned-only",
            provisioned: true,
            only: Some(PROVISIONING),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "provisioned",
            no_checks: "provisioned",
            provisioned: true,
            only: Some(PROVISIONING),
            moves: vec![
                ("unprovisioned-user-refused", FAIL),
                ("deactivated-user-refused", FAIL),
            ],
            ..base.clone()
        },
        // Accounts made at a first login: linked by `sub`, the renamed user keeps theirs;
        // linked by email, they get a second one.
        Variant {
            name: "create-on-login",
            accounts: true,
            only: Some(ACCOUNTS),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "account-by-sub",
            no_checks: "account-by-sub",
            accounts: true,
            only: Some(ACCOUNTS),
            moves: vec![("renamed-user-one-account-first-login", WARN)],
            ..base.clone()
        },
        // An app with its own signing key (Entra; Databricks' `?appid=`): the metadata
        // read without the query names keys that cannot verify its tokens.
        Variant {
            name: "entra app-signing-key",
            idp: Some("entra"),
            app_key: true,
            only: Some(&["entra-app-signing-key", "happy-path"]),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "entra issuer-query-dropped",
            quirks: "issuer-query-dropped",
            idp: Some("entra"),
            app_key: true,
            only: Some(&["entra-app-signing-key", "happy-path"]),
            moves: vec![("entra-app-signing-key", FAIL), ("happy-path", FAIL)],
            ..base.clone()
        },
        // A SCIM API without userName uniqueness makes a second account where RFC 7644
        // 3.3 says 409.
        Variant {
            name: "scim-uniqueness",
            no_checks: "scim-uniqueness",
            provisioned: true,
            only: Some(PROVISIONING),
            moves: vec![
                ("duplicate-user-conflict", FAIL),
                ("retried-create-conflict", FAIL),
            ],
            ..base.clone()
        },
        // An origin allowlist without `null` refuses the sandboxed page's post.
        Variant {
            name: "hybrid refuse-null-origin",
            quirks: "refuse-null-origin",
            flow: Some(HYBRID),
            moves: vec![("form-post-origin-null", FAIL)],
            ..base.clone()
        },
        // ClearML's switches (docs/playbooks/clearml.md): set as the IdP's app is, nothing
        // moves; set otherwise, the scenarios of the switch fail.
        Variant {
            name: "clearml claims",
            profile_lines: "claim_names = { mail = \"email\" }",
            env: "CLAIMS = \"user_id=sub,email=mail\"",
            only: Some(&["app-claims-missing", "happy-path", "email-claim-missing"]),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "clearml claims ignored",
            profile_lines: "claim_names = { mail = \"email\" }",
            only: Some(&["app-claims-missing", "happy-path"]),
            moves: vec![("app-claims-missing", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "clearml revocation",
            capabilities: "\"revocation\", ",
            env: "REVOKE_ON_LOGOUT = \"true\"",
            only: Some(&["tokens-revoked-at-logout", "rp-init-logout"]),
            moves: vec![],
            ..base.clone()
        },
        Variant {
            name: "clearml revocation off",
            capabilities: "\"revocation\", ",
            only: Some(&["tokens-revoked-at-logout", "rp-init-logout"]),
            moves: vec![("tokens-revoked-at-logout", FAIL)],
            ..base.clone()
        },
        Variant {
            name: "clearml id-token",
            env: "USER_INFO_FROM = \"id_token\"",
            only: Some(&[
                "thin-id-token-without-email",
                "email-claim-missing",
                "happy-path",
            ]),
            moves: vec![("thin-id-token-without-email", FAIL)],
            ..base.clone()
        },
    ]
}

fn variant_profile(v: &Variant) -> harness::profile::Compiled {
    let mut text = profile_text(v.no_checks, &format!("variant-{}", v.name))
        .replace(
            "[start.env]",
            &format!("[start.env]\nQUIRKS = \"{}\"", v.quirks),
        )
        .replace(
            "capabilities = [",
            &format!("capabilities = [{}", v.capabilities),
        );
    if !v.profile_lines.is_empty() {
        text = text.replace(
            "capabilities = [",
            &format!("{}\ncapabilities = [", v.profile_lines),
        );
    }
    if !v.env.is_empty() {
        text = text.replace("[start.env]", &format!("[start.env]\n{}", v.env));
    }
    if let Some((rt, mode)) = v.flow {
        text = text
            .replace(
                "capabilities = [",
                &format!(
                    "response_types = [\"{rt}\"]\nresponse_mode = \"{mode}\"\ncapabilities = ["
                ),
            )
            .replace(
                "[start.env]",
                &format!("[start.env]\nRESPONSE_TYPE = \"{rt}\"\nRESPONSE_MODE = \"{mode}\""),
            );
    }
    if let Some(server) = v.server {
        text = text.replace(
            "capabilities = [",
            &format!("authorization_server = \"{server}\"\ncapabilities = ["),
        );
    }
    if let Some(idp) = v.idp {
        text = text.replace(
            "capabilities = [",
            &format!("idp = \"{idp}\"\ncapabilities = ["),
        );
    }
    if v.group {
        text = with_group(&text);
    }
    if v.workspace {
        text = with_workspace(&text);
    }
    if v.provisioned {
        text = with_provisioning(&text);
    }
    if v.accounts {
        text = with_accounts(&text);
    }
    if v.app_key {
        text = text
            .replace(
                "capabilities = [",
                "app_signing_key = true\ncapabilities = [",
            )
            .replace(
                "ISSUER = \"{issuer}\"",
                "ISSUER = \"{issuer}?appid={client_id}\"",
            );
    }
    if v.frontchannel {
        text = text
            .replace("backchannel_logout_uri", "frontchannel_logout_uri")
            .replace("/backchannel-logout", "/frontchannel-logout");
    }
    if !v.restart {
        text = text.replace(
            "ready_timeout_secs = 30",
            "ready_timeout_secs = 30\nrestart = \"never\"",
        );
    }
    harness::profile::parse("variant.toml", &text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_moves_exactly_the_scenarios_about_it() {
    let catalog = catalog();
    let correct = run(
        profile("", "sample-rp"),
        catalog.clone(),
        Options::default(),
    )
    .await;
    let not_passing = moved(&correct);
    assert!(
        not_passing.is_empty(),
        "the correct sample RP: {not_passing:?}"
    );
    let mut matrix: BTreeMap<String, BTreeMap<&str, &str>> = BTreeMap::new();
    let mut problems = Vec::new();
    // MUTATION_ONLY=name runs one variant (when looking into it).
    let only = std::env::var("MUTATION_ONLY").ok();
    let variants: Vec<Variant> = variants()
        .into_iter()
        .filter(|v| only.as_deref().is_none_or(|o| o == v.name))
        .collect();
    // Two variants at a time (each on its own ports): a run waits on its RP's restarts
    // and on the browser-less HTTP round trips, so one run alone leaves a core idle.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
    let runs: Vec<_> = variants
        .iter()
        .map(|v| {
            let scenarios = match v.only {
                Some(ids) => catalog
                    .iter()
                    .filter(|l| ids.contains(&l.scenario.id.as_str()))
                    .cloned()
                    .collect(),
                None => catalog.clone(),
            };
            let v = v.clone();
            let slots = slots.clone();
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.unwrap();
                // The profile picks its free port now, just before the RP binds it: a port
                // picked while other variants ran could be taken by then.
                run(variant_profile(&v), scenarios, Options::default()).await
            })
        })
        .collect();
    for (v, r) in variants.iter().zip(runs) {
        let r = r.await.unwrap();
        // A variant's own scenarios must run: a skipped one proves nothing.
        if v.only.is_some() {
            let skipped: Vec<&str> = r
                .scenarios
                .iter()
                .filter(|s| s.verdict == Verdict::Skip)
                .map(|s| s.id.as_str())
                .collect();
            if !skipped.is_empty() {
                problems.push(format!("{}: skipped {skipped:?}", v.name));
            }
        }
        let got = moved(&r);
        let want: BTreeMap<String, &str> =
            v.moves.iter().map(|(id, c)| (id.to_string(), *c)).collect();
        if got != want {
            let why: Vec<String> = r
                .scenarios
                .iter()
                .filter(|s| got.get(&s.id) != want.get(&s.id))
                .map(|s| format!("  {}: {:?} {:?}", s.id, s.notes, s.hardening))
                .collect();
            problems.push(format!(
                "{}: expected {want:?}, got {got:?}\n{}",
                v.name,
                why.join("\n")
            ));
        }
        if v.quirks == "discovery-at-startup" {
            // It refused at start-up, and the outcome code came from its log.
            for id in [
                "discovery-unavailable",
                "discovery-malformed",
                "discovery-issuer-mismatch",
            ] {
                let s = r.scenarios.iter().find(|s| s.id == id).unwrap();
                assert_eq!(
                    s.observed.decision,
                    harness::verdict::Decision::RefusedAtStartup,
                    "{id}: {:?}",
                    s.notes
                );
                assert_eq!(
                    s.observed.rule.as_ref().map(|r| r.on.as_str()),
                    Some("log"),
                    "{id}"
                );
            }
        }
        for (id, c) in got {
            matrix.entry(id).or_default().insert(v.name, c);
        }
    }
    println!("\nmutation matrix (rows: scenarios that move; columns: the variant)\n");
    let names: Vec<&str> = variants.iter().map(|v| v.name).collect();
    let width = |c: &str| c.len().max("inconclusive".len()) + 1;
    println!(
        "{:<30} {}",
        "scenario",
        names
            .iter()
            .map(|c| format!("{c:<w$}", w = width(c)))
            .collect::<String>()
    );
    for (id, row) in &matrix {
        let cells: String = names
            .iter()
            .map(|c| format!("{:<w$}", row.get(c).copied().unwrap_or("."), w = width(c)))
            .collect();
        println!("{id:<30} {cells}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A profile whose `auth_method` is not what the RP sends: the IdP refuses every token
/// request before any token-endpoint or ID token fault can strike, so no scenario that
/// needs tokens may pass (the faults never struck), and the reason names the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_wrong_auth_method_no_token_scenario_passes() {
    use mock_idp::faults::Strikes;
    let text = profile_text("", "wrong-auth-method").replace(
        "client_secret = ",
        "auth_method = \"client_secret_post\"\nclient_secret = ",
    );
    let p = harness::profile::parse("wrong.toml", &text).unwrap();
    let catalog = catalog();
    let r = run(p, catalog.clone(), Options::default()).await;
    let needs_tokens = |s: &harness::scenario::Scenario| {
        s.expect.result == harness::scenario::Outcome::Accept
            || s.faults.iter().any(|f| {
                f.id.doc().strikes.iter().any(|p| {
                    matches!(
                        p,
                        Strikes::ClientAuthentication
                            | Strikes::CodeRedemption
                            | Strikes::TokenResponse
                            | Strikes::IdTokenClaims
                            | Strikes::IdTokenSignature
                            | Strikes::UserinfoAuthorization
                            | Strikes::UserinfoClaims
                    )
                })
            })
    };
    let mut checked = 0;
    for l in catalog.iter().filter(|l| needs_tokens(&l.scenario)) {
        let s = r.scenarios.iter().find(|s| s.id == l.scenario.id).unwrap();
        if s.verdict == Verdict::Skip {
            continue;
        }
        checked += 1;
        assert_ne!(s.verdict, Verdict::Pass, "{}: {:?}", s.id, s.notes);
        if s.verdict == Verdict::Inconclusive {
            assert!(
                s.notes
                    .iter()
                    .any(|n| n.contains("invalid_token_endpoint_auth_method")),
                "{}: the note quotes the journal: {:?}",
                s.id,
                s.notes
            );
        }
    }
    assert!(checked >= 30, "{checked} scenarios need tokens");
    let token = r
        .scenarios
        .iter()
        .find(|s| s.id == "client-secret-rotated")
        .unwrap();
    assert_eq!(token.verdict, Verdict::Inconclusive, "{:?}", token.notes);
    let happy = r.scenarios.iter().find(|s| s.id == "happy-path").unwrap();
    assert_eq!(happy.verdict, Verdict::Fail, "{:?}", happy.notes);
}
