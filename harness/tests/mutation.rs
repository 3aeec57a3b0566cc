//! The mutation check: the whole catalog against the correct sample RP (every scenario
//! passes) and against each naive variant, one check switched off (exactly the
//! scenarios about that check fail, with the expected verdict). Prints the matrix.

mod support;

use std::collections::BTreeMap;

use harness::runner::Options;
use harness::verdict::Verdict;
use support::*;

/// What switching each check off must change: scenario → verdict (every other scenario passes).
fn expected() -> Vec<(&'static str, Vec<(&'static str, Verdict)>)> {
    use Verdict::{Fail, Warn, WrongCode};
    vec![
        (
            "state",
            vec![
                ("callback-replayed", WrongCode),
                ("unsolicited-callback", WrongCode),
                ("rp-cookies-lost", WrongCode),
                ("state-mismatch", Fail),
                ("state-missing", Fail),
            ],
        ),
        (
            "nonce",
            vec![
                ("by-the-book-requests", Fail),
                ("happy-path", Fail),
                ("nonce-missing", Fail),
                ("nonce-mismatch", Fail),
            ],
        ),
        (
            "pkce",
            vec![
                ("by-the-book-requests", Fail),
                ("happy-path", Fail),
                ("pkce-s256-only", Fail),
            ],
        ),
        (
            "signature",
            vec![
                ("bad-signature", Fail),
                ("jwks-unavailable", Fail),
                ("unknown-kid", Fail),
            ],
        ),
        ("iss", vec![("iss-mismatch", Fail)]),
        (
            "aud",
            vec![
                ("aud-mismatch", Fail),
                ("no-userinfo-after-bad-token", Fail),
            ],
        ),
        (
            "exp",
            vec![("exp-missing", Fail), ("expired-id-token", Fail)],
        ),
        (
            "iat",
            vec![("iat-missing", Fail), ("issued-in-future", Fail)],
        ),
        ("at-hash", vec![("at-hash-bad", Fail)]),
        ("userinfo-sub", vec![("userinfo-sub-mismatch", Fail)]),
        ("email", vec![("email-claim-missing", Fail)]),
        ("email-verified", vec![("email-unverified", Warn)]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_switched_off_check_is_caught_and_nothing_else_moves() {
    let catalog = catalog();
    let correct = run(
        profile("", "sample-rp"),
        catalog.clone(),
        Options::default(),
    )
    .await;
    let not_passing: Vec<_> = correct
        .scenarios
        .iter()
        .filter(|s| !matches!(s.verdict, Verdict::Pass | Verdict::Skip))
        .map(|s| (&s.id, s.verdict))
        .collect();
    assert!(
        not_passing.is_empty(),
        "the correct sample RP: {not_passing:?}"
    );
    let mut matrix: BTreeMap<String, BTreeMap<&str, Verdict>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (check, want) in expected() {
        let r = run(
            profile(check, &format!("no-{check}")),
            catalog.clone(),
            Options::default(),
        )
        .await;
        let got: BTreeMap<String, Verdict> = r
            .scenarios
            .iter()
            .filter(|s| !matches!(s.verdict, Verdict::Pass | Verdict::Skip))
            .map(|s| (s.id.clone(), s.verdict))
            .collect();
        let want: BTreeMap<String, Verdict> =
            want.iter().map(|(id, v)| (id.to_string(), *v)).collect();
        if got != want {
            problems.push(format!(
                "--no-check {check}: expected {want:?}, got {got:?}"
            ));
        }
        assert!(
            !got.is_empty(),
            "switching off `{check}` must be caught by some scenario"
        );
        for (id, v) in got {
            matrix.entry(id).or_default().insert(check, v);
        }
    }
    let checks: Vec<&str> = expected().iter().map(|(c, _)| *c).collect();
    println!(
        "\nmutation matrix (rows: scenarios that catch something; columns: the check switched off)\n"
    );
    println!(
        "{:<30} {}",
        "scenario",
        checks
            .iter()
            .map(|c| format!("{c:<15}"))
            .collect::<String>()
    );
    for (id, row) in &matrix {
        let cells: String = checks
            .iter()
            .map(|c| format!("{:<15}", row.get(c).map_or(".", |v| v.as_str())))
            .collect();
        println!("{id:<30} {cells}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
