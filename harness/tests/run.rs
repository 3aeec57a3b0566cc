//! The harness against the real sample RP: verdicts, snapshots of every report, secrets,
//! a hanging RP, determinism, partitions.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::report::{self, Format, RunReport};
use harness::runner::Options;
use harness::verdict::Verdict;
use support::*;

fn verdicts(r: &RunReport) -> BTreeMap<String, Verdict> {
    r.scenarios
        .iter()
        .map(|s| (s.id.clone(), s.verdict))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_sample_rp_passes_the_whole_catalog() {
    let r = run(profile("", "sample-rp"), catalog(), Options::default()).await;
    let bad: Vec<_> = r
        .scenarios
        .iter()
        .filter(|s| !matches!(s.verdict, Verdict::Pass | Verdict::Skip))
        .map(|s| (s.id.clone(), s.verdict, s.notes.clone()))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert!(r.summary.total >= 40);
    for code in harness::outcome::OutcomeCode::ALL {
        assert!(
            r.scenarios
                .iter()
                .any(|s| s.observed.shown.code() == Some(code)),
            "no scenario makes the sample RP report `{code}`"
        );
    }
    // Every pass proves its faults struck.
    for s in r.scenarios.iter().filter(|s| s.verdict == Verdict::Pass) {
        assert!(
            s.struck.iter().all(|x| x.exercised && x.times > 0),
            "{}: {:?}",
            s.id,
            s.struck
        );
        assert_eq!(
            s.struck
                .iter()
                .filter(|x| !x.fault.starts_with("step:") && x.fault != "flow")
                .count(),
            s.faults.len(),
            "{}",
            s.id
        );
    }
}

/// A small fixed run with every verdict but warn: a naive RP that ignores state, and a
/// scenario needing JavaScript.
async fn small_run() -> RunReport {
    let mut s = scenarios(&[
        "happy-path",
        "state-missing",
        "alg-none",
        "callback-replayed",
    ]);
    let mut js = s[0].clone();
    js.scenario.id = "needs-javascript".into();
    js.scenario.title = "A scenario for single-page RPs".into();
    js.scenario.requires = vec![harness::scenario::Capability::Javascript];
    s.push(js);
    run(
        profile("state", "sample-rp-no-state-check"),
        s,
        Options {
            jobs: 2,
            ..Options::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_of_every_report() {
    let r = small_run().await;
    let v = verdicts(&r);
    assert_eq!(v["happy-path"], Verdict::Pass);
    assert_eq!(v["state-missing"], Verdict::Fail);
    assert_eq!(v["callback-replayed"], Verdict::WrongCode);
    assert_eq!(v["needs-javascript"], Verdict::Skip);
    let stable = report::stable(&r);
    insta::assert_snapshot!("terminal", report::terminal::summary(&stable));
    insta::assert_snapshot!("json", Format::Json.render(&stable));
    insta::assert_snapshot!("junit", Format::Junit.render(&stable));
    insta::assert_snapshot!("markdown", Format::Markdown.render(&stable));
    insta::assert_snapshot!("html", Format::Html.render(&stable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_any_report() {
    let password = "Known-User-Password-0123";
    let opts = Options {
        user_password: Some(password.into()),
        ..Options::default()
    };
    let r = run(profile("", "sample-rp"), catalog(), opts).await;
    let dir = std::env::temp_dir().join(format!("oidc-harness-secrets-{}", std::process::id()));
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.").unwrap();
    let code = regex::Regex::new(r"[?&#]code=([^&#\x22\s<)]+)").unwrap();
    for f in [Format::Json, Format::Junit, Format::Markdown, Format::Html] {
        let path = report::write(&dir, f, &r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(SECRET),
            "client secret in {}",
            path.display()
        );
        assert!(!text.contains(password), "password in {}", path.display());
        assert!(!jwt.is_match(&text), "a whole token in {}", path.display());
        for c in code.captures_iter(&text) {
            assert_eq!(
                &c[1],
                "%5Bredacted%5D",
                "an authorization code in {}",
                path.display()
            );
        }
    }
    let summary = report::terminal::summary(&r);
    assert!(!summary.contains(SECRET) && !summary.contains(password));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_that_hangs_gives_error_and_the_run_goes_on() {
    // An RP that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let text = format!(
        "name = \"hangs\"\nlogin_url = \"http://127.0.0.1:{port}/login\"\nredirect_uris = [\"http://127.0.0.1:{port}/callback\"]\nclient_id = \"c\"\nclient_secret = \"s\"\n[success]\nstatus = 200\n"
    );
    let p = harness::profile::parse("hangs.toml", &text).unwrap();
    let started = Instant::now();
    let opts = Options {
        timeout: Some(Duration::from_secs(2)),
        jobs: 1,
        ..Options::default()
    };
    let r = run(
        p,
        scenarios(&[
            "happy-path",
            "state-missing",
            "key-rotation-just-before-signing",
        ]),
        opts,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded by the timeout"
    );
    assert_eq!(
        r.scenarios.len(),
        3,
        "the run went on after the first timeout"
    );
    for s in &r.scenarios {
        assert_eq!(s.verdict, Verdict::Error, "{}", s.id);
        // The timeout is for each step: four steps, four times as long.
        let expected = if s.id == "key-rotation-just-before-signing" {
            "timed out after 8 s (2 s for each of its 4 steps)"
        } else {
            "timed out after 2 s:"
        };
        assert!(s.notes[0].contains(expected), "{:?}", s.notes);
    }
    assert_eq!(
        harness::cli::exit_code(&r, &harness::cli::failing_verdicts(false, None)),
        harness::cli::EXIT_COULD_NOT_RUN
    );
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_catalog_twice_gives_the_same_verdicts_at_jobs_8() {
    let opts = || Options {
        jobs: 8,
        ..Options::default()
    };
    let naive = "nonce,signature";
    let first = verdicts(&run(profile(naive, "naive"), catalog(), opts()).await);
    let second = verdicts(&run(profile(naive, "naive"), catalog(), opts()).await);
    assert_eq!(first, second);
    assert!(
        first.values().any(|v| *v == Verdict::Fail),
        "the naive RP fails something"
    );
}

#[test]
fn partitions_split_the_catalog_without_overlap() {
    let all = catalog();
    let mut seen = Vec::new();
    for k in 1..=3 {
        seen.extend(
            all.iter()
                .filter(|l| harness::runner::in_partition(&l.scenario.id, k, 3))
                .map(|l| l.scenario.id.clone()),
        );
    }
    seen.sort();
    let mut ids: Vec<String> = all.iter().map(|l| l.scenario.id.clone()).collect();
    ids.sort();
    assert_eq!(seen, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_merge_and_round_trip_through_json() {
    let r = small_run().await;
    let mut other = r.clone();
    other.rp = "other-rp".into();
    for s in &mut other.scenarios {
        s.suite = format!("{}-2", s.suite);
    }
    let merged = report::merge(vec![r.clone(), other]).unwrap();
    assert_eq!(merged.summary.total, 2 * r.summary.total);
    assert_eq!(merged.rp, format!("{}, other-rp", r.rp));
    let back: RunReport = serde_json::from_str(&Format::Json.render(&merged)).unwrap();
    assert_eq!(back, merged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_over_https_with_the_ca_file_templated() {
    let text = profile_text("", "sample-rp-tls")
        .replace("[start]", "idp_tls = true\n\n[start]")
        .replace("[start.env]", "[start.env]\nCA_FILE = \"{ca_file}\"");
    let p = harness::profile::parse("tls.toml", &text).unwrap();
    let r = run(
        p,
        scenarios(&["happy-path", "state-missing", "alg-none"]),
        Options::default(),
    )
    .await;
    assert!(r.issuer.starts_with("https://127.0.0.1:"), "{}", r.issuer);
    assert!(
        r.scenarios.iter().all(|s| s.verdict == Verdict::Pass),
        "{:?}",
        verdicts(&r)
    );
    // The CA file the RP trusted (it passed over HTTPS) goes when the run ends; no other
    // test of this process runs over HTTPS.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("oidc-harness-ca-{}", std::process::id())))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_that_echoes_every_secret_leaks_none_of_them_into_the_output_folder() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-echo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let password = "Known-Echo-Password-0123";
    let text = profile_text("", "echo-rp")
        .replace("[start.env]", "[start.env]\nQUIRKS = \"echo-secrets\"");
    let p = harness::profile::parse("echo.toml", &text).unwrap();
    let opts = Options {
        user_password: Some(password.into()),
        out_dir: Some(dir.clone()),
        jobs: 1,
        ..Options::default()
    };
    let ids = [
        "happy-path",
        "state-missing",
        "alg-none",
        "token-endpoint-down",
        "access-token-missing",
        "callback-replayed",
    ];
    let r = run(p, scenarios(&ids), opts).await;
    assert_eq!(r.scenarios.len(), ids.len());
    for f in [Format::Json, Format::Junit, Format::Markdown, Format::Html] {
        report::write(&dir, f, &r).unwrap();
    }
    let echo = regex::Regex::new(
        r"echo (code|client_secret|basic|access_token|id_token|refresh_token)=(Basic )?(\S{1,12})",
    )
    .unwrap();
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+").unwrap();
    let mut echoes = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        assert!(
            !text.contains(SECRET),
            "client secret in {}",
            path.display()
        );
        assert!(!text.contains(password), "password in {}", path.display());
        assert!(!jwt.is_match(&text), "a token in {}", path.display());
        for c in echo.captures_iter(&text) {
            echoes += 1;
            assert!(
                c[3].starts_with('['),
                "{} echoed in {}: {}",
                &c[1],
                path.display(),
                &c[0]
            );
        }
        for key in ["refresh_token", "access_token", "id_token"] {
            let raw = format!("\"{key}\":\"");
            for (i, _) in text.match_indices(&raw) {
                let rest = &text[i + raw.len()..];
                assert!(
                    rest.starts_with('[') || rest.starts_with("\\u") || rest.starts_with('"'),
                    "{key} in {}: {}",
                    path.display(),
                    &rest[..rest.len().min(30)]
                );
            }
        }
    }
    assert!(
        echoes >= 6,
        "the RP echoed ({echoes} echoes found, redacted)"
    );
    let log = std::fs::read_to_string(dir.join("rp.log")).unwrap();
    assert!(log.contains("\"refresh_token\":\"[refresh_token:"), "{log}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The profile's `build` runs once in a run, before the RP's first start, however often
/// the RP restarts (here for two scenarios that run alone); a build that fails is the
/// run's error, quoting what the build printed, and the RP is never started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_build_runs_once_before_the_first_start_and_its_failure_is_quoted() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("builds");
    let with_build = |build: &str| {
        let text = profile_text("", "sample-rp").replacen(
            "[start]\n",
            &format!("[start]\nbuild = {build}\n"),
            1,
        );
        harness::profile::parse("built.toml", &text).unwrap()
    };
    let p = with_build(&format!(
        "[\"sh\", \"-c\", \"echo built >> {}\"]",
        marker.display()
    ));
    let ids = ["happy-path", "jwks-unavailable", "discovery-malformed"];
    let out = dir.join("out");
    let opts = Options {
        out_dir: Some(out.clone()),
        ..Options::default()
    };
    let r = run(p, scenarios(&ids), opts).await;
    assert!(
        r.scenarios.iter().all(|s| s.verdict == Verdict::Pass),
        "{:?}",
        verdicts(&r)
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "built\n");
    let log = std::fs::read_to_string(out.join("rp.log")).unwrap();
    let notes: Vec<&str> = log.lines().filter(|l| l.starts_with("── ")).collect();
    assert_eq!(notes[0], "── oidc-harness: build ──", "{notes:?}");
    assert_eq!(
        notes.iter().filter(|l| l.contains("restart for")).count(),
        2,
        "{notes:?}"
    );

    let p = with_build(r#"["sh", "-c", "echo 'error[E0425]: cannot find value' >&2; exit 101"]"#);
    let mut sinks: Vec<Box<dyn harness::report::Sink>> = Vec::new();
    let e = harness::runner::run(p, scenarios(&ids), &Options::default(), &mut sinks)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the RP could not start: its build `sh -c echo 'error[E0425]: cannot find value' >&2; exit 101` exited with exit status: 101")
            && e.contains("its last words: «error[E0425]: cannot find value»"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
