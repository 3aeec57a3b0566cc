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
/// run alone, and what must move (every other scenario passes).
struct Variant {
    name: &'static str,
    no_checks: &'static str,
    quirks: &'static str,
    restart: bool,
    moves: Vec<(&'static str, &'static str)>,
}

fn variants() -> Vec<Variant> {
    const FAIL: &str = "fail";
    const WRONG: &str = "wrong-code";
    const WARN: &str = "warn";
    const INCONC: &str = "inconclusive";
    const HARD: &str = "hardening";
    let check = |c: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
        name: c,
        no_checks: c,
        quirks: "",
        restart: true,
        moves,
    };
    let quirk = |q: &'static str, moves: Vec<(&'static str, &'static str)>| Variant {
        name: q,
        no_checks: "",
        quirks: q,
        restart: true,
        moves,
    };
    vec![
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
        // never exercises. alg-none-with-at-hash is refused, for at_hash.
        check(
            "signature",
            vec![
                ("alg-none", FAIL),
                ("bad-signature", FAIL),
                ("jwks-unavailable", FAIL),
                ("unknown-kid", FAIL),
                ("key-rotation", INCONC),
                ("kid-absent-several-keys", INCONC),
                ("kid-absent-single-key", INCONC),
            ],
        ),
        check("iss", vec![("iss-mismatch", FAIL)]),
        check(
            "aud",
            vec![
                ("aud-mismatch", FAIL),
                ("no-userinfo-after-bad-token", FAIL),
            ],
        ),
        check(
            "exp",
            vec![("exp-missing", FAIL), ("expired-id-token", FAIL)],
        ),
        // iat in the future: OIDC Core 3.1.3.7 step 10 says MAY.
        check(
            "iat",
            vec![("iat-missing", FAIL), ("issued-in-future", HARD)],
        ),
        // at_hash in the code flow: OIDC Core 3.1.3.8 says MAY.
        check("at-hash", vec![("at-hash-bad", HARD)]),
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
                ("userinfo-sub-mismatch", INCONC),
                ("userinfo-unauthorized", INCONC),
            ],
        ),
        // Right, and graded so: discards the other user's answer (OIDC Core 5.3.2) ...
        quirk("discard-bad-userinfo", vec![]),
        // ... and reads discovery once, at start-up: with the faults armed before it
        // restarts, it refuses to start, which is a refusal.
        quirk("discovery-at-startup", vec![]),
        // Never restarted, an RP keeps the discovery and keys it read first: the faults
        // on them never strike, and those scenarios test nothing.
        Variant {
            name: "restart = never",
            no_checks: "",
            quirks: "",
            restart: false,
            moves: vec![
                ("discovery-issuer-mismatch", INCONC),
                ("discovery-malformed", INCONC),
                ("discovery-unavailable", INCONC),
                ("jwks-unavailable", INCONC),
                ("kid-absent-single-key", INCONC),
            ],
        },
    ]
}

fn variant_profile(v: &Variant) -> harness::profile::Compiled {
    let mut text = profile_text(v.no_checks, &format!("variant-{}", v.name)).replace(
        "[start.env]",
        &format!("[start.env]\nQUIRKS = \"{}\"", v.quirks),
    );
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
    let variants = variants();
    for v in &variants {
        let r = run(variant_profile(v), catalog.clone(), Options::default()).await;
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
