//! The browser driver, for real: Debian's Chromium through ChromeDriver (installed by
//! scripts/install-browser, which the README's test command runs first).

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use harness::driver::Party;
use harness::profile::Driver;
use harness::report::{self, Format, RunReport};
use harness::runner::Options;
use harness::verdict::Verdict;
use support::*;

fn spa_profile() -> harness::profile::Compiled {
    spa_flow_profile("code", None, "")
}

/// The SPA in a flow: `response_type`, `response_mode`, and the origins its server lets
/// post a callback besides its own and the issuer's.
fn spa_flow_profile(rt: &str, mode: Option<&str>, allowed: &str) -> harness::profile::Compiled {
    harness::profile::parse("spa.toml", &spa_text(rt, mode, allowed)).unwrap()
}

/// A profile registered for Session Management instead of a logout channel.
fn watching(text: &str) -> harness::profile::Compiled {
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("backchannel_logout_uri") || l.starts_with("frontchannel_logout_uri") {
                "session_management = true"
            } else if l.starts_with("timeout_secs") {
                // The scenario watches the RP for 6 s after a sign-out elsewhere, on top
                // of two logins in Chromium: room for a loaded 2-core machine.
                "timeout_secs = 40"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    harness::profile::parse("watching.toml", &text).unwrap()
}

fn spa_text(rt: &str, mode: Option<&str>, allowed: &str) -> String {
    let port = free_port();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/spa-rp");
    let mode_line = mode
        .map(|m| format!("response_mode = \"{m}\"\n"))
        .unwrap_or_default();
    let mode_env = mode
        .map(|m| format!("RESPONSE_MODE = \"{m}\"\n"))
        .unwrap_or_default();
    let text = format!(
        r##"name = "spa-rp {rt}"
driver = "browser"
login_url = "http://127.0.0.1:{port}/login"
logout_url = "http://127.0.0.1:{port}/logout"
redirect_uris = ["http://127.0.0.1:{port}/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:{port}/"]
protected_url = "http://127.0.0.1:{port}/account"
frontchannel_logout_uri = "http://127.0.0.1:{port}/frontchannel-logout"
trusted_origins = ["http://127.0.0.1:{port}"]
client_id = "spa-rp"
response_types = ["{rt}"]
{mode_line}capabilities = ["javascript", "userinfo"]
settled_when = "#who, #outcome, #signed-out"

[start]
command = ["node", "{server}"]
ready_url = "http://127.0.0.1:{port}/healthz"

[start.env]
ISSUER = "{{issuer}}"
CLIENT_ID = "{{client_id}}"
PORT = "{port}"
RESPONSE_TYPE = "{rt}"
{mode_env}ALLOWED_ORIGINS = "{allowed}"

[success]
body = "Logged in as "
identity = "Logged in as {{email}}"

[outcome]
pattern = '<p id="outcome">(oidc_[a-z_]+)</p>'
"##,
        server = dir.join("server.js").display()
    );
    text
}

fn verdicts(r: &RunReport) -> BTreeMap<String, Verdict> {
    r.scenarios
        .iter()
        .map(|s| (s.id.clone(), s.verdict))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_logs_in_and_catches_cors_state_and_nonce_faults() {
    let ids = [
        "spa-login",
        "happy-path",
        "cors-missing",
        "state-missing",
        "state-mismatch",
        "nonce-mismatch",
        "nonce-missing",
        "bad-signature",
        // Logout: RP-initiated, and front-channel in the IdP's logout page (its session
        // lives in sessionStorage, which the iframe clears).
        "rp-init-logout",
        "logout-session-kept",
        "frontchannel-logout-opinit",
        "frontchannel-logout-rpinit",
        "frontchannel-logout-iss-other",
        "frontchannel-logout-sid-other",
    ];
    let r = run(spa_profile(), scenarios(&ids), Options::default()).await;
    let v = verdicts(&r);
    assert_eq!(v.len(), ids.len());
    let notes: Vec<_> = r
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Pass)
        .map(|s| (&s.id, &s.notes, &s.observed))
        .collect();
    assert!(v.values().all(|x| *x == Verdict::Pass), "{v:?} {notes:?}");
    let cors = r.scenarios.iter().find(|s| s.id == "cors-missing").unwrap();
    assert_eq!(
        cors.observed.shown.code(),
        Some(harness::outcome::OutcomeCode::CodeExchangeFailure)
    );
    assert!(
        cors.trace
            .journal
            .iter()
            .any(|e| e.faults.iter().any(|f| f == "cors-missing")),
        "the IdP's journal shows the fault firing"
    );
    // The trace reads in the order things happened: the sign-in form's POST went to the
    // IdP, at its sign-in page's origin, after that page and before the RP's pages.
    let happy = r.scenarios.iter().find(|s| s.id == "happy-path").unwrap();
    let hops = &happy.trace.hops;
    let post = hops
        .iter()
        .position(|h| h.method == "POST")
        .expect("the sign-in's POST");
    let idp = url::Url::parse(&r.issuer).unwrap().origin();
    assert_eq!(
        (hops[post].to, hops[post].url.as_str()),
        (
            Party::Idp,
            format!("{}/signin", idp.ascii_serialization()).as_str()
        ),
        "{hops:#?}"
    );
    assert!(
        hops[..post].iter().any(|h| h.to == Party::Idp)
            && hops[post + 1..].iter().any(|h| h.to == Party::Rp),
        "{hops:#?}"
    );
    // Without the browser, the SPA scenarios do not apply.
    let http = run(
        spa_profile(),
        scenarios(&["spa-login", "cors-missing"]),
        Options {
            driver: Some(Driver::Http),
            ..Options::default()
        },
    )
    .await;
    assert!(http.scenarios.iter().all(|s| s.verdict == Verdict::Skip));
}

fn not_passing(r: &RunReport) -> Vec<(String, Verdict, Vec<String>)> {
    r.scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Pass)
        .map(|s| (s.id.clone(), s.verdict, s.notes.clone()))
        .collect()
}

/// The SPA in the implicit flow (`id_token token` in the fragment) and the hybrid flow
/// (`code id_token` posted to its server) through Chromium: it logs in and catches the
/// faults of each flow; with `null` missing from its origin allowlist, the sandboxed
/// form_post page's login fails, and the note names the usual fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_in_implicit_and_hybrid_flows() {
    let implicit = [
        "happy-path",
        "nonce-sent-unless-code-flow",
        "at-hash-invalid",
        "at-hash-missing",
        "nonce-mismatch",
        "state-mismatch",
        "bad-signature",
        "userinfo-sub-mismatch",
        "rp-init-logout",
        "frontchannel-logout-opinit",
    ];
    let r = run(
        spa_flow_profile("id_token token", None, ""),
        scenarios(&implicit),
        Options::default(),
    )
    .await;
    assert_eq!(r.scenarios.len(), implicit.len());
    assert!(
        not_passing(&r).is_empty(),
        "implicit: {:?}",
        not_passing(&r)
    );
    let hybrid = [
        "happy-path",
        "c-hash-invalid",
        "c-hash-missing",
        "nonce-mismatch",
        "state-mismatch",
        "form-post-error",
        "form-post-origin-null",
        "cors-missing",
    ];
    let r = run(
        spa_flow_profile("code id_token", Some("form_post"), "null"),
        scenarios(&hybrid),
        Options::default(),
    )
    .await;
    assert_eq!(r.scenarios.len(), hybrid.len());
    assert!(not_passing(&r).is_empty(), "hybrid: {:?}", not_passing(&r));
    // Without `null` in its allowlist, the opaque-origin post is refused: a failure, with
    // the fix named.
    let r = run(
        spa_flow_profile("code id_token", Some("form_post"), ""),
        scenarios(&["form-post-origin-null", "happy-path"]),
        Options::default(),
    )
    .await;
    let null = r
        .scenarios
        .iter()
        .find(|s| s.id == "form-post-origin-null")
        .unwrap();
    assert_eq!(null.verdict, Verdict::Fail, "{:?}", null.notes);
    assert!(
        null.notes
            .iter()
            .any(|n| n.contains("the usual fix") && n.contains("null")),
        "{:?}",
        null.notes
    );
    assert!(
        null.observed.excerpt.contains("invalid origin: null")
            || null
                .rp_log
                .iter()
                .any(|l| l.contains("invalid origin: null")),
        "the RP's own words: {:?} {:?}",
        null.observed.excerpt,
        null.rp_log
    );
    let happy = r.scenarios.iter().find(|s| s.id == "happy-path").unwrap();
    assert_eq!(happy.verdict, Verdict::Pass, "{:?}", happy.notes);
}

/// Runs a plan's scenarios through Chromium against the RP of `profile`; it must pass.
async fn passes_plan_in_the_browser(id: &str, profile: harness::profile::Compiled) {
    let plan = harness::oidf::plan(id).unwrap();
    let selected: Vec<_> = catalog()
        .into_iter()
        .filter(|l| plan.selects(&profile.profile, &l.scenario))
        .collect();
    let opts = Options {
        driver: Some(Driver::Browser),
        plans: vec![plan],
        ..Options::default()
    };
    let r = run(profile, selected, opts).await;
    let p = &r.plans[0];
    assert_eq!(
        p.verdict,
        harness::oidf::PlanVerdict::Pass,
        "{id}: {}: {:?}",
        p.summary,
        not_passing(&r)
    );
}

/// The sample RP in a fragment flow: its callback page posts the fragment back.
fn sample_in_fragment(rt: &str) -> harness::profile::Compiled {
    let text = support::profile_text("", &format!("sample-rp {rt}"))
        .replace(
            "capabilities = [",
            &format!("response_types = [\"{rt}\"]\ncapabilities = ["),
        )
        .replace(
            "[start.env]",
            &format!("[start.env]\nRESPONSE_TYPE = \"{rt}\""),
        );
    harness::profile::parse("fragment.toml", &text).unwrap()
}

/// The plans whose default mode is the fragment, through Chromium: the SPA and the
/// sample RP pass the Implicit plan for `id_token token`, the sample RP the Hybrid plan
/// for `code id_token token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_in_the_fragment_through_the_browser() {
    let implicit = "oidcc-client-implicit-certification-test-plan";
    passes_plan_in_the_browser(implicit, spa_flow_profile("id_token token", None, "")).await;
    passes_plan_in_the_browser(implicit, sample_in_fragment("id_token token")).await;
    passes_plan_in_the_browser(
        "oidcc-client-hybrid-certification-test-plan",
        sample_in_fragment("code id_token token"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_and_browser_drivers_agree_on_the_whole_catalog() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-browser-{}", std::process::id()));
    let naive = "nonce,signature,state";
    let http = run(profile(naive, "naive"), catalog(), Options::default()).await;
    let browser = run(
        profile(naive, "naive"),
        catalog(),
        Options {
            driver: Some(Driver::Browser),
            out_dir: Some(dir.clone()),
            ..Options::default()
        },
    )
    .await;
    let (h, b) = (verdicts(&http), verdicts(&browser));
    let notes = |r: &harness::report::RunReport, id: &str| {
        r.scenarios
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.notes.join("; "))
            .unwrap_or_default()
    };
    let mut compared = 0;
    for (id, hv) in &h {
        let bv = b[id];
        if hv == &Verdict::Skip || bv == Verdict::Skip {
            continue;
        }
        assert_eq!(
            *hv,
            bv,
            "{id}: http says {hv:?} ({}), browser says {bv:?} ({})",
            notes(&http, id),
            notes(&browser, id)
        );
        compared += 1;
    }
    assert!(compared >= 40, "compared {compared} scenarios");
    assert!(
        b.values().any(|v| *v == Verdict::Fail),
        "the naive RP fails something"
    );
    // Every scenario that does not pass has a screenshot, and the HTML report embeds it.
    let not_passing: Vec<_> = browser
        .scenarios
        .iter()
        .filter(|s| !matches!(s.verdict, Verdict::Pass | Verdict::Skip))
        .collect();
    assert!(
        not_passing
            .iter()
            .all(|s| s.screenshot.as_ref().is_some_and(|p| dir.join(p).exists())),
        "screenshots saved"
    );
    let html =
        std::fs::read_to_string(report::write(&dir, Format::Html, &browser).unwrap()).unwrap();
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        not_passing.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_blanked_out_of_the_page_before_a_screenshot() {
    let mut chrome = harness::driver::chromium::ChromeDriver::start()
        .await
        .unwrap();
    let mut tab = chrome.tab(false).await.unwrap();
    let client = tab.client().clone();
    let d = harness::driver::chromium::ChromiumDriver::new(
        &mut tab,
        &["http://127.0.0.1:1".to_string()],
        vec![],
        vec![],
        None,
    );
    let secret = "opaque-refresh-token-0123456789";
    let page = format!(
        "data:text/html,<p>token {secret} here</p><input id=\"i\" value=\"{secret}\"><textarea>{secret}</textarea>"
    );
    client.goto(&page).await.unwrap();
    d.blank(&[secret.to_string()]).await;
    let source = client.source().await.unwrap();
    let value = client
        .execute("return document.getElementById('i').value", vec![])
        .await
        .unwrap();
    drop(d);
    chrome.give_back(tab).await;
    chrome.close().await;
    assert!(!source.contains(secret), "{source}");
    assert_eq!(value, "[redacted]");
}

/// Front-channel logout in Chromium: the IdP's logout page loads the RP's URI in an
/// iframe, and that alone ends the RP's session (its own logout is switched off, so an
/// RP-initiated logout that keeps the IdP session fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_through_chromium() {
    let logout: Vec<_> = catalog()
        .into_iter()
        .filter(|l| l.scenario.suite_name() == "logout")
        .collect();
    let opts = || Options {
        driver: Some(Driver::Browser),
        ..Options::default()
    };
    let r = run(
        frontchannel_profile("logout-local", "front-channel"),
        logout.clone(),
        opts(),
    )
    .await;
    let v = verdicts(&r);
    for id in [
        "frontchannel-logout-opinit",
        "frontchannel-logout-rpinit",
        "frontchannel-logout-iss-other",
        "frontchannel-logout-sid-other",
        "rp-init-logout",
    ] {
        assert_eq!(
            v[id],
            Verdict::Pass,
            "{id}: {:?}",
            r.scenarios.iter().find(|s| s.id == id).map(|s| &s.notes)
        );
    }
    assert_eq!(v["logout-session-kept"], Verdict::Fail);
    assert!(
        v.iter()
            .filter(|(id, _)| id.starts_with("backchannel-"))
            .all(|(_, v)| *v == Verdict::Skip),
        "no back-channel URI registered"
    );
}

/// Session Management in Chromium: the sample RP's pages and the SPA watch the IdP's
/// check_session_iframe, and a sign-out at the IdP in another tab ends their sessions too;
/// with the sample RP's watch switched off the session survives (a SHOULD: warn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_management_through_chromium() {
    let opts = || Options {
        driver: Some(Driver::Browser),
        ..Options::default()
    };
    let ids = ["session-management", "rp-init-logout"];
    for (profile, want) in [
        (watching(&profile_text("", "watching")), Verdict::Pass),
        (
            watching(&profile_text("session-management", "not watching")),
            Verdict::Warn,
        ),
        (watching(&spa_text("code", None, "")), Verdict::Pass),
    ] {
        let name = profile.profile.name.clone();
        let r = run(profile, scenarios(&ids), opts()).await;
        let v = verdicts(&r);
        let sm = r
            .scenarios
            .iter()
            .find(|s| s.id == "session-management")
            .unwrap();
        assert_eq!(v["session-management"], want, "{name}: {:?}", sm.notes);
        assert_eq!(v["rp-init-logout"], Verdict::Pass, "{name}");
    }
    // The HTTP driver runs no page scripts: the scenario does not apply.
    let http = run(
        watching(&profile_text("", "http")),
        scenarios(&ids),
        Options::default(),
    )
    .await;
    assert_eq!(verdicts(&http)["session-management"], Verdict::Skip);
}

/// The SPA's back-channel logout: its server takes the logout token (checked as
/// Back-Channel Logout 1.0 2.6 says, in Node), and its page, on load, ends a session the
/// server was told about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_takes_back_channel_logout_tokens() {
    let text = spa_text("code", None, "")
        .replace("frontchannel_logout_uri", "backchannel_logout_uri")
        .replace("/frontchannel-logout", "/backchannel-logout");
    let profile = harness::profile::parse("spa-backchannel.toml", &text).unwrap();
    let ids = [
        "backchannel-logout",
        "backchannel-logout-alg-none",
        "backchannel-logout-wrong-aud",
        "backchannel-logout-sid-only",
        "backchannel-logout-sub-only",
        "backchannel-logout-sid-unknown",
    ];
    let r = run(profile, scenarios(&ids), Options::default()).await;
    assert_eq!(r.scenarios.len(), ids.len());
    assert!(not_passing(&r).is_empty(), "{:?}", not_passing(&r));
}

/// The SPA's logout checks, each switched off (its server's NO_CHECKS), are caught by the
/// scenarios about them, and only those among the ones run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spas_switched_off_logout_checks_are_caught() {
    let naive = |text: String, check: &str| {
        text.replace(
            "[start.env]\n",
            &format!("[start.env]\nNO_CHECKS = \"{check}\"\n"),
        )
    };
    let back = |check: &str| {
        let text = naive(spa_text("code", None, ""), check)
            .replace("frontchannel_logout_uri", "backchannel_logout_uri")
            .replace("/frontchannel-logout", "/backchannel-logout");
        harness::profile::parse("spa-naive.toml", &text).unwrap()
    };
    let front = |check: &str| {
        harness::profile::parse("spa-naive.toml", &naive(spa_text("code", None, ""), check))
            .unwrap()
    };
    let cases = [
        (
            back("logout-token-signature"),
            &["backchannel-logout", "backchannel-logout-alg-none"][..],
            &[("backchannel-logout-alg-none", Verdict::Fail)][..],
        ),
        (
            back("logout-token-aud"),
            &["backchannel-logout", "backchannel-logout-wrong-aud"][..],
            &[("backchannel-logout-wrong-aud", Verdict::Fail)][..],
        ),
        (
            front("frontchannel-sid"),
            &[
                "frontchannel-logout-opinit",
                "frontchannel-logout-sid-other",
            ][..],
            &[("frontchannel-logout-sid-other", Verdict::Warn)][..],
        ),
        (
            watching(&naive(spa_text("code", None, ""), "session-management")),
            &["rp-init-logout", "session-management"][..],
            &[("session-management", Verdict::Warn)][..],
        ),
    ];
    for (profile, ids, moved) in cases {
        let r = run(profile, scenarios(ids), Options::default()).await;
        for s in &r.scenarios {
            let want = moved
                .iter()
                .find(|(id, _)| *id == s.id)
                .map_or(Verdict::Pass, |(_, v)| *v);
            assert_eq!(s.verdict, want, "{}: {:?}", s.id, s.notes);
        }
    }
}

/// A stand-in for Chromium that dies at start the first `fails` times (writing a line to
/// its log as Chromium does), then runs the real one; it counts its starts in `dir`.
fn flaky_chromium(dir: &std::path::Path, fails: u32) -> String {
    let script = dir.join("chromium");
    let count = dir.join("starts");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
n=$(( $(cat '{count}' 2>/dev/null || echo 0) + 1 )); echo $n > '{count}'
if [ $n -le {fails} ]; then
  for a in "$@"; do case "$a" in --user-data-dir=*) d="${{a#--user-data-dir=}}";; esac; done
  mkdir -p "$d"
  echo "[1:1:ERROR:dbus/bus.cc:405] Failed to connect to the bus" >> "$d/chrome_debug.log"
  echo "[1:1:FATAL:stand_in.cc:1] start $n died on purpose" >> "$d/chrome_debug.log"
  exit 1
fi
exec /usr/bin/chromium "$@"
"#,
            count = count.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

/// A fresh folder for a stand-in Chromium (`flaky_chromium`) to count its starts in.
fn stand_in_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oidc-harness-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How many times the stand-in in `dir` started.
fn started(dir: &std::path::Path) -> u32 {
    std::fs::read_to_string(dir.join("starts"))
        .map(|s| s.trim().parse::<u32>().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chromium_that_dies_at_start_is_started_again_and_quoted_when_it_never_starts() {
    use harness::driver::chromium::{ChromeDriver, SESSION_ATTEMPTS};
    let dir = stand_in_folder("flaky");
    let starts = || started(&dir);
    // Dies once: the second start gives a session that works.
    let mut chrome = ChromeDriver::start().await.unwrap();
    chrome.use_chromium(flaky_chromium(&dir, 1));
    let c = chrome.session(false).await.expect("a second start");
    c.goto("about:blank").await.unwrap();
    c.close().await.unwrap();
    assert_eq!(starts(), 2);
    // Never starts: the error says how often it was tried and quotes each start's log,
    // without the D-Bus noise.
    std::fs::remove_file(dir.join("starts")).unwrap();
    chrome.use_chromium(flaky_chromium(&dir, 99));
    let e = chrome.session(false).await.expect_err("no session");
    assert_eq!(starts(), SESSION_ATTEMPTS, "{e}");
    assert!(e.contains(&format!("({SESSION_ATTEMPTS} attempts)")), "{e}");
    for n in 1..=SESSION_ATTEMPTS {
        assert!(e.contains(&format!("start {n} died on purpose")), "{e}");
    }
    assert!(!e.contains("dbus"), "{e}");
    drop(chrome);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A page that says in its title what the browser held before its own script ran (the
/// cookies sent with it, and how many values its origin's local and session storage
/// hold), then leaves a cookie and a value in each; its response sets a cookie too. It
/// serves at most `visits` requests.
async fn leaving_page(visits: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let body = "<html><body><script>\
            document.title = document.cookie + '|' + localStorage.length + '|' + sessionStorage.length;\
            document.cookie = 'from_script=1; max-age=3600';\
            localStorage.setItem('left', '1'); sessionStorage.setItem('left', '1');\
            </script></body></html>";
        for _ in 0..visits {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 2048];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: from_server=1; Max-Age=3600\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
        }
    });
    url
}

/// What a tab's visit to `page` (see `leaving_page`) finds there.
async fn visit(tab: &harness::driver::chromium::Tab, page: &str) -> String {
    tab.client().goto(page).await.unwrap();
    tab.client().title().await.unwrap()
}

/// What a visit finds in a tab that holds nothing yet: only the response's own cookie.
const EMPTY: &str = "from_server=1|0|0";

/// Two tabs open at once, each found empty.
async fn two_empty_tabs(
    chrome: &mut harness::driver::chromium::ChromeDriver,
    page: &str,
) -> (
    harness::driver::chromium::Tab,
    harness::driver::chromium::Tab,
) {
    let (a, b) = (
        chrome.tab(false).await.unwrap(),
        chrome.tab(false).await.unwrap(),
    );
    assert_eq!(visit(&a, page).await, EMPTY);
    assert_eq!(visit(&b, page).await, EMPTY);
    (a, b)
}

/// A scenario's browser keeps nothing of the scenario before it: each tab is a fresh
/// browser context, though the Chromium it runs in is kept for the run (started only when
/// none is free, and replaced when it no longer answers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tab_starts_empty_in_a_kept_chromium() {
    use harness::driver::chromium::ChromeDriver;
    let dir = stand_in_folder("kept");
    let starts = || started(&dir);
    let page = leaving_page(20).await;
    let mut chrome = ChromeDriver::start().await.unwrap();
    chrome.use_chromium(flaky_chromium(&dir, 0));
    // Within a tab, what a page leaves is there on its next visit (so the check below
    // can fail)...
    let tab = chrome.tab(false).await.unwrap();
    assert_eq!(visit(&tab, &page).await, EMPTY);
    let again = visit(&tab, &page).await;
    assert!(
        again.contains("from_script=1") && again.ends_with("|1|1"),
        "{again}"
    );
    chrome.give_back(tab).await;
    // ...and the next tab, in the same Chromium, has none of it.
    for _ in 0..2 {
        let tab = chrome.tab(false).await.unwrap();
        assert_eq!(visit(&tab, &page).await, EMPTY);
        chrome.give_back(tab).await;
    }
    assert_eq!(starts(), 1);
    // Two tabs at once take two Chromiums, both kept.
    let (a, b) = two_empty_tabs(&mut chrome, &page).await;
    assert_eq!(starts(), 2);
    // One of them ends (its Chromium gone): it is not kept, and a new one takes its place.
    b.client().clone().close().await.unwrap();
    chrome.give_back(a).await;
    chrome.give_back(b).await;
    let (a, b) = two_empty_tabs(&mut chrome, &page).await;
    assert_eq!(starts(), 3);
    chrome.give_back(a).await;
    chrome.give_back(b).await;
    chrome.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A page that never shows what `settled_when` waits for (an RP that waits forever) is
/// judged from what it shows before the scenario's time is up, not left to whichever of
/// the page's wait (15 s) and the scenario's timeout runs out first. The timeout is below
/// the page's wait, and leaves a loaded machine (CI: two browser tests at once beside a
/// release build) 9 s for the login before the wait (8 s once proved too few).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_never_settles_is_judged_before_the_scenario_times_out() {
    let text = spa_text("code", None, "").replace(
        "settled_when = \"#who, #outcome, #signed-out\"",
        "settled_when = \"#never-shown\"\ntimeout_secs = 12",
    );
    assert!(text.contains("#never-shown"));
    let profile = harness::profile::parse("never-settles.toml", &text).unwrap();
    let r = run(profile, scenarios(&["spa-login"]), Options::default()).await;
    let s = &r.scenarios[0];
    // The signed-in page, judged: a pass, where the 12 s timeout used to strike first
    // (an error) while the driver still waited for `#never-shown`.
    assert_eq!(s.verdict, Verdict::Pass, "{:?}", s.notes);
}
