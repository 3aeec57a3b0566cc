//! The `oidc-harness` binary: help, exit codes, and the `idp` subcommand serving.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn harness() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
}

#[test]
fn help_lists_the_idp_command() {
    let out = harness().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("idp"), "{text}");
    let out = harness().args(["idp", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--tenant",
        "--addr",
        "--tls",
        "--frozen-clock",
        "--admin-token",
    ] {
        assert!(text.contains(option), "{option} in {text}");
    }
}

/// `oidc-harness schema` prints what `schemas/` holds, writes all four with --write, and
/// says what it needs when given nothing.
#[test]
fn schema_prints_and_writes_the_shipped_schemas() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = harness().args(["schema", "rp-profile"]).output().unwrap();
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(root.join("schemas/rp-profile.schema.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), shipped);
    let dir = std::env::temp_dir().join(format!("oidc-harness-schemas-{}", std::process::id()));
    let out = harness()
        .args(["schema", "--write"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["scenario", "rp-profile", "tenant", "product"] {
        let name = format!("{f}.schema.json");
        assert_eq!(
            std::fs::read_to_string(dir.join(&name)).unwrap(),
            std::fs::read_to_string(root.join("schemas").join(&name)).unwrap(),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let out = harness().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<FORMAT>"));
}

#[test]
fn a_missing_tenant_file_is_bad_input() {
    let out = harness()
        .args([
            "idp",
            "--addr",
            "127.0.0.1:0",
            "--tenant",
            "no/such/tenant.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no/such/tenant.toml: cannot read the tenant file"),
        "{err}"
    );
}

#[test]
fn a_bad_option_is_bad_input() {
    let out = harness()
        .args(["idp", "--addr", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // No scenario at once is not a run: refused before anything starts.
    let out = harness()
        .args(["run", "--rp", "fixtures/rps/sample-rp.toml", "--jobs", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("'0' for '--jobs <JOBS>'"), "{err}");
}

/// `oidc-harness list | head`, or an error said to a closed stderr: once the reader is
/// gone, the harness stops quietly with 141 (as a shell shows for a C tool cut off by a
/// closed pipe), not with a panic and its backtrace.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // A socket whose other end is gone: a write to it fails as to a pipe nobody reads.
    let closed = || {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(ours);
        Stdio::from(std::os::fd::OwnedFd::from(theirs))
    };
    let out = harness()
        .arg("list")
        .stdout(closed())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = harness()
        .args(["run", "--rp", "no-such-profile.toml"])
        .stderr(closed())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141));
}

/// A running `oidc-harness idp`, stopped when dropped.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `oidc-harness idp` with `args` and reads what it prints before "Press Ctrl-C".
fn idp_lines(args: &[&str]) -> (Kill, Vec<String>) {
    let mut cmd = harness();
    cmd.arg("idp").args(args);
    let (child, _, mut lines) = lines_until(cmd, "Press Ctrl-C");
    if lines.last().is_some_and(|l| l.contains("Press Ctrl-C")) {
        lines.pop();
    }
    (child, lines)
}

/// Starts `cmd` and reads its output up to the line holding `marker` (included): the
/// process, the rest of its output, and the lines read.
fn lines_until(
    mut cmd: Command,
    marker: &str,
) -> (Kill, BufReader<std::process::ChildStdout>, Vec<String>) {
    let mut child = Kill(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..30 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let done = line.contains(marker);
        lines.push(line);
        if done {
            break;
        }
    }
    (child, reader, lines)
}

/// Faults armed at start from the environment, as a container is configured: several,
/// `;`-separated, one with a comma-separated parameter.
#[test]
fn idp_arms_the_faults_of_oidc_harness_faults() {
    let mut cmd = harness();
    cmd.args(["idp", "--addr", "127.0.0.1:0"]).env(
        "OIDC_HARNESS_FAULTS",
        "state-missing:alice@example.com;groups-changed=Everyone,ops",
    );
    let (_idp, _, lines) = lines_until(cmd, "Press Ctrl-C");
    let armed: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split("fault armed").nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(
        armed,
        [
            "state-missing:alice@example.com",
            "groups-changed=Everyone,ops"
        ],
        "{lines:?}"
    );
    let mut cmd = harness();
    cmd.args(["idp", "--addr", "127.0.0.1:0"])
        .env("OIDC_HARNESS_FAULTS", "no-such-fault");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-fault"));
}

#[test]
fn idp_prints_its_issuers_and_serves_them() {
    let (_idp, lines) = idp_lines(&["--addr", "127.0.0.1:0"]);
    let issuer = lines
        .iter()
        .find(|l| l.contains("issuer oauth2/default"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no default issuer in {lines:?}"))
        .to_string();
    let try_it = lines
        .iter()
        .find(|l| l.contains("try it in a browser"))
        .expect("a URL to try");
    assert!(
        try_it.contains("/oauth2/default/v1/authorize?client_id="),
        "{try_it}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let doc: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(doc["issuer"], issuer);
}

#[test]
fn idp_personality_prints_its_hosts_and_serves_the_idps_discovery() {
    let (_idp, lines) = idp_lines(&["--addr", "127.0.0.1:0", "--personality", "google"]);
    assert!(lines[0].contains("(Google on the wire)"), "{lines:?}");
    let hosts = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("host "))
        .count();
    assert_eq!(hosts, 3, "Google's three other hosts: {lines:?}");
    let discovery = lines
        .iter()
        .find(|l| l.contains("discovery (default)"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no discovery URL in {lines:?}"))
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let doc: serde_json::Value = rt.block_on(async {
        reqwest::get(&discovery)
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert!(
        doc["authorization_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/o/oauth2/v2/auth")
    );
    assert!(doc.get("end_session_endpoint").is_none());
}

#[test]
fn an_unknown_personality_names_the_known_ones() {
    let out = harness()
        .args(["idp", "--personality", "okra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("okra") && err.contains("entra") && err.contains("keycloak"),
        "{err}"
    );
}

mod support;

fn catalog_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[test]
fn list_filters_by_outcome_code_and_fault() {
    let out = harness()
        .arg("list")
        .arg("--suite")
        .arg(catalog_dir())
        .args(["--code", "oidc_state_missing"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(rows.len() >= 4, "{text}");
    assert!(
        rows.iter().all(|r| r.contains("reject oidc_state_missing")),
        "{text}"
    );
    let out = harness()
        .arg("list")
        .arg("--suite")
        .arg(catalog_dir())
        .args(["--fault", "alg-none"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    let out = harness()
        .arg("list")
        .arg("--suite")
        .arg(catalog_dir())
        .args(["--code", "oidc_nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reproduce_shows_what_the_rp_did_step_by_step() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-reproduce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("state", "naive")).unwrap();
    let reproduce = |args: &[&str]| {
        harness()
            .arg("reproduce")
            .args(args)
            .arg("--rp")
            .arg(&profile)
            .arg("--suite")
            .arg(catalog_dir())
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap()
    };
    let out = reproduce(&["oidc_state_missing"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let written = |f: &str| dir.join("out").join(f).exists();
    let reports = ["report.html", "summary.md", "report.json", "rp.log"].map(written);
    let out2 = reproduce(&["--scenario", "callback-replayed"]);
    let replay = String::from_utf8_lossy(&out2.stdout).into_owned();
    let out3 = reproduce(&["--scenario", "callback-replay"]);
    let typo = String::from_utf8_lossy(&out3.stderr).into_owned();
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(out.status.code(), Some(1), "the naive RP fails: {text}");
    assert!(text.contains("== state-missing (fail)"), "{text}");
    assert!(text.contains("   step 1 login: "), "{text}");
    assert!(text.contains("browser → IdP: POST /signin → 302"), "{text}");
    assert!(text.contains("[fault: state-missing]"), "{text}");
    assert!(text.contains("RP → IdP: token → 200 ok"), "{text}");
    assert!(!text.contains(support::SECRET));
    assert_eq!(reports, [true; 4], "the reproduction's reports");

    // One scenario by id: the first login's token and userinfo requests are under the
    // login, not under the replay that follows it.
    // The naive RP (no state check) redeems the replayed code: wrong code, exit 1.
    assert_eq!(out2.status.code(), Some(1), "{replay}");
    assert!(
        replay.contains("== callback-replayed (wrong-code)"),
        "{replay}"
    );
    let login = replay.find("   step 1 login").expect("step 1");
    let again = replay.find("   step 2 replay-callback").expect("step 2");
    let token = replay.find("RP → IdP: token").expect("the token request");
    assert!(login < token && token < again, "{replay}");
    // The refusal the RP logged is under the step it happened in: the replay, which the
    // naive RP tried to redeem again.
    let logged = replay
        .find("      RP log: login refused: oidc_code_exchange_failure")
        .expect("the RP's log line");
    assert!(again < logged, "{replay}");
    assert!(!replay.contains("== state-missing"), "{replay}");
    assert_eq!(out3.status.code(), Some(2));
    assert!(typo.contains("did you mean `callback-replayed`?"), "{typo}");
}

fn scenario_file(suite: &str, id: &str) -> std::path::PathBuf {
    catalog_dir().join(suite).join(format!("{id}.toml"))
}

/// `oidc-harness run` of `happy-path` alone against `profile`, its reports in `out`.
fn run_happy_path(profile: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    harness()
        .args(["run", "--rp"])
        .arg(profile)
        .arg("--scenario")
        .arg(scenario_file("oidc-core", "happy-path"))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_report_that_cannot_be_written_fails_the_run_and_is_never_said_written() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-unwritable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    // A regular file where the report folder should be.
    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    let out = run_happy_path(&profile, &blocker.join("reports"));
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("wrote "), "{err}");
    assert!(err.contains("not-a-folder/reports"), "{err}");
}

/// A profile's build is named on the terminal before it runs, with where its output goes,
/// and how long it took after: the first run on a fresh machine compiles the RP, which is
/// otherwise a silent minute.
#[test]
fn the_build_is_named_on_the_terminal_with_where_its_output_goes() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-building-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    let text = support::profile_text("", "sample-rp").replacen(
        "[start]\n",
        "[start]\nbuild = [\"sh\", \"-c\", \"echo compiling the RP\"]\n",
        1,
    );
    std::fs::write(&profile, text).unwrap();
    let reports = dir.join("reports");
    let out = run_happy_path(&profile, &reports);
    let rp_log = std::fs::read_to_string(reports.join("rp.log")).unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let building = format!(
        "building the RP: `sh -c echo compiling the RP` (its output goes to {})",
        reports.join("rp.log").display()
    );
    let lines: Vec<&str> = err.lines().collect();
    let at = lines.iter().position(|l| *l == building);
    assert!(at.is_some(), "{err}");
    let took = lines[at.unwrap() + 1];
    assert!(
        took.starts_with("the RP's build took ") && took.ends_with(" s"),
        "{err}"
    );
    // The build's own words are in the RP's log, not on the terminal.
    assert!(!err.contains("compiling the RP\n"), "{err}");
    assert!(rp_log.contains("compiling the RP"), "{rp_log}");
}

/// On one CPU (a pinned process, a one-CPU CI container) the run still takes two
/// scenarios at once by default, and passes: one at a time, each scenario also waits for
/// the RP's log to settle, which made the sample RP's catalog ten times slower there.
#[test]
fn one_cpu_runs_two_scenarios_at_once_by_default() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-one-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    let out = Command::new("taskset")
        .args(["-c", "0"])
        .arg(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(["run", "--rp"])
        .arg(&profile)
        .arg("--scenario")
        .arg(scenario_file("oidc-core", "happy-path"))
        .arg("--scenario")
        .arg(scenario_file("troubleshooting", "state-mismatch"))
        .args(["--format", "json", "--out"])
        .arg(dir.join("reports"))
        .output()
        .expect("taskset (util-linux) runs the harness on one CPU");
    let report = std::fs::read_to_string(dir.join("reports/report.json")).unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("running 2 scenario(s) against sample-rp, up to 2 at once"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let verdicts: Vec<(&str, &str)> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [("happy-path", "pass"), ("state-mismatch", "pass")],
        "{err}"
    );
}

#[test]
fn inconclusive_fails_the_run_only_when_asked() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-failon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    // An RP that sends no nonce: the nonce fault has nothing to strike.
    let text = support::profile_text("", "no-nonce")
        .replace("[start.env]", "[start.env]\nQUIRKS = \"no-nonce\"");
    std::fs::write(&profile, text).unwrap();
    let run = |extra: &[&str]| {
        harness()
            .args(["run", "--rp"])
            .arg(&profile)
            .arg("--scenario")
            .arg(scenario_file("troubleshooting", "nonce-mismatch"))
            .arg("--out")
            .arg(dir.join("reports"))
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let default = run(&[]);
    let text = String::from_utf8_lossy(&default.stdout);
    assert_eq!(default.status.code(), Some(0), "{text}");
    assert!(text.contains("inconclusive 1:"), "its own line: {text}");
    assert!(text.contains("INCONCLUSIVE"), "{text}");
    assert!(text.contains("nonce-mismatch×0 (not exercised)"), "{text}");
    assert_eq!(run(&["--fail-on", "inconclusive"]).status.code(), Some(1));
    assert_eq!(run(&["--strict"]).status.code(), Some(1));
    let bad = run(&["--fail-on", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`nope` is not a verdict"));
    assert!(dir.join("reports/rp.log").exists(), "the RP's log is kept");
    std::fs::remove_dir_all(&dir).ok();
}

/// Sends `signal` to a run as soon as its first scenario finished; returns its exit code,
/// its report, the processes it had started and what of its own it left in its temporary
/// folder (`TMPDIR`, a folder of the test's: browser profiles, the CA file), for the
/// caller to check they are gone. (A killed Chromium leaves its `org.chromium.Chromium.*`
/// folders there too; they are not the run's to delete.)
fn interrupt_run(
    signal: &str,
    driver: &str,
) -> (Option<i32>, serde_json::Value, Vec<u32>, Vec<String>) {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!(
        "oidc-harness-signal-{}-{signal}-{driver}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = harness()
        .env("TMPDIR", &tmp)
        .args(["run", "--rp"])
        .arg(&profile)
        .arg("--suite")
        .arg(catalog_dir())
        .args(["--driver", driver, "--jobs", "1", "--out"])
        .arg(dir.join("reports"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = said.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains('/') && line.contains(" pass ") {
                let _ = tx.send(());
            }
            lines.lock().unwrap().push(line);
        }
    });
    // Bounded: the first scenario passes within a minute even with Chromium. If the run
    // ends or stalls first, what it printed says why.
    if let Err(e) = rx.recv_timeout(std::time::Duration::from_secs(60)) {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "no scenario finished ({e}); the run printed:\n{}",
            said.lock().unwrap().join("\n")
        );
    }
    let family = harness::procs::descendants(pid);
    assert!(!family.is_empty(), "the run started processes");
    std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the run stops within 30 s of {signal}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reports/report.json")).unwrap())
            .unwrap();
    let left = std::fs::read_dir(&tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("oidc-harness"))
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    (code, report, family, left)
}

/// A browser run that ends by itself leaves nothing in its temporary folder: neither its
/// browsers' profiles nor Chromium's own `org.chromium.Chromium.*` folders (the Chromium it
/// keeps between scenarios is closed at the end, not killed).
#[test]
fn a_browser_run_leaves_its_temporary_folder_empty() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-tmpdir-{}", std::process::id()));
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    let out = harness()
        .env("TMPDIR", &tmp)
        .args(["run", "--rp"])
        .arg(&profile)
        .arg("--scenario")
        .arg(scenario_file("oidc-core", "happy-path"))
        .arg("--scenario")
        .arg(scenario_file("oidc-core", "bad-signature"))
        .args(["--driver", "browser", "--jobs", "1", "--out"])
        .arg(dir.join("reports"))
        .output()
        .unwrap();
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(left.is_empty(), "left in its temporary folder: {left:?}");
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn sigint_stops_every_process_and_reports_what_finished() {
    let (code, report, family, left) = interrupt_run("-INT", "http");
    assert!(left.is_empty(), "left in its temporary folder: {left:?}");
    assert_eq!(code, Some(130));
    assert_eq!(report["interrupted"], "SIGINT");
    // Some finished, not all: the run stopped part-way (how far depends on the machine).
    let done = report["scenarios"].as_array().unwrap().len();
    let all = support::catalog().len();
    assert!(
        (1..all).contains(&done),
        "{done} of {all} scenarios in the report"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left: Vec<u32> = family.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left: {left:?}");
}

#[test]
fn sigterm_stops_chromium_too() {
    let (code, report, family, profiles) = interrupt_run("-TERM", "browser");
    assert_eq!(code, Some(143));
    assert_eq!(report["interrupted"], "SIGTERM");
    assert!(
        profiles.is_empty(),
        "left in its temporary folder: {profiles:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left: Vec<u32> = family.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left: {left:?}");
}

#[test]
fn another_program_on_the_rps_port_is_not_blamed_on_the_rp() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-busy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = support::profile_text("", "sample-rp");
    let port: u16 = text
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    // Another server already answers there.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, text).unwrap();
    let out = harness()
        .args(["run", "--rp"])
        .arg(&profile)
        .arg("--scenario")
        .arg(scenario_file("oidc-core", "happy-path"))
        .arg("--out")
        .arg(dir.join("reports"))
        .output()
        .unwrap();
    drop(squatter);
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("port {port} is already in use by another process")),
        "{err}"
    );
}

#[test]
fn plans_by_name_run_and_report() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-plans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    let run = |plan: &str| {
        harness()
            .args(["run", "--rp"])
            .arg(&profile)
            .arg("--suite")
            .arg(catalog_dir())
            .args(["--plan", plan, "--format", "json", "--out"])
            .arg(dir.join("reports"))
            .output()
            .unwrap()
    };
    // A misspelt plan: bad input, with the closest one.
    let typo = run("oidcc-client-basic-certification-tst-plan");
    assert_eq!(typo.status.code(), Some(2));
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("did you mean `oidcc-client-basic-certification-test-plan`"),
        "{err}"
    );
    // A plan for other flows than the RP's: bad input, saying both.
    let other = run("oidcc-client-hybrid-certification-test-plan");
    assert_eq!(other.status.code(), Some(2));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("the RP's profile uses `code` (query)"),
        "{err}"
    );
    assert!(err.contains("is for `code id_token` (fragment)"), "{err}");
    // The Basic plan: its scenarios only, and a verdict.
    let basic = run("oidcc-client-basic-certification-test-plan");
    let out = String::from_utf8_lossy(&basic.stdout);
    assert_eq!(basic.status.code(), Some(0), "{out}");
    assert!(
        out.contains("plan oidcc-client-basic-certification-test-plan: PASS"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reports/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["plans"][0]["verdict"], "pass");
    assert_eq!(report["plans"][0]["modules"].as_array().unwrap().len(), 14);
    let ran = report["scenarios"].as_array().unwrap().len();
    assert!((10..30).contains(&ran), "the plan's scenarios only: {ran}");
    // `list --plans` names every plan and the scenarios of its modules.
    let list = harness()
        .args(["list", "--plans", "--suite"])
        .arg(catalog_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    for p in harness::oidf::PLANS {
        assert!(text.contains(p.id), "{} in {text}", p.id);
    }
    assert!(text.contains("oidcc-client-test-invalid-iss"), "{text}");
    assert!(text.contains("iss-mismatch"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_access_rule_the_idp_cannot_serve_stops_the_run_and_says_why() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-access-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = support::profile_text("", "sample-rp");
    for (name, text, idp, says) in [
        (
            "group.toml",
            support::with_group(&base),
            "google",
            "Google sends no groups",
        ),
        (
            "workspace.toml",
            support::with_workspace(&base),
            "okta",
            "only Google's `hd` claim says",
        ),
    ] {
        let profile = dir.join(name);
        std::fs::write(&profile, text).unwrap();
        let out = harness()
            .args(["run", "--idp", idp, "--rp"])
            .arg(&profile)
            .arg("--scenario")
            .arg(scenario_file("oidc-core", "happy-path"))
            .arg("--out")
            .arg(dir.join("reports"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(says), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts scim2-server (fixtures/scim-server/run.sh installs it on first use); its base
/// URL and a guard that stops it.
fn scim_server(token: &str) -> (Kill, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/scim-server/run.sh"
    ))
    .args(["--port", &port.to_string(), "--bearer-token", token])
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let guard = Kill(child);
    let base = format!("http://127.0.0.1:{port}/v2");
    // Installing on first use can take minutes; then it answers within a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "scim2-server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    (guard, base)
}

#[test]
fn scim_provisions_a_tenant_user_and_prints_each_request_without_the_token() {
    let token = "cli-scim-token-for-tests";
    let (_server, base) = scim_server(token);
    let scim = |args: &[&str], auth: &str| {
        harness()
            .arg("scim")
            .args(args)
            .args(["--url", &base])
            .env("OIDC_HARNESS_SCIM_AUTHORIZATION", auth)
            .output()
            .unwrap()
    };
    let bearer = format!("Bearer {token}");
    let out = scim(&["provision", "alice@example.com"], &bearer);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("scim GET /Users?filter=userName eq \"alice@example.com\" → 200 ok"),
        "{text}"
    );
    assert!(text.contains("scim POST /Users → 201 ok"), "{text}");
    assert!(!text.contains(token), "{text}");

    // A duplicate create, refused as RFC 7644 3.3 says.
    let out = scim(
        &[
            "provision",
            "alice@example.com",
            "--fault",
            "scim-duplicate-create",
        ],
        &bearer,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("scim POST /Users → 409 scim_409_uniqueness [fault: scim-duplicate-create]"),
        "{text}"
    );

    // A wrong token: exit 1, the refusal named; a user the tenant lacks and a fault
    // that is not about provisioning: bad input.
    let out = scim(&["provision", "alice@example.com"], "Bearer wrong");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("answered 401"), "{err}");
    let out = scim(&["provision", "nobody@example.com"], &bearer);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user `nobody@example.com`"));
    let out = scim(
        &["provision", "alice@example.com", "--fault", "alg-none"],
        &bearer,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a provisioning fault"));
}

#[test]
fn reproduce_interactive_leaves_the_idp_running_with_the_fault_armed() {
    let dir = std::env::temp_dir().join(format!("oidc-harness-interactive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "by-hand")).unwrap();
    let mut cmd = harness();
    cmd.args(["reproduce", "--interactive", "--scenario", "state-mismatch"])
        .arg("--rp")
        .arg(&profile)
        .arg("--suite")
        .arg(catalog_dir());
    let (mut child, mut reader, head) = lines_until(cmd, "Ctrl-C stops");
    let text = head.concat();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        text.contains("faults armed:  state-mismatch (aimed at that user)"),
        "{text}"
    );
    assert!(
        text.contains("sign in as:    state-mismatch@harness.test"),
        "{text}"
    );
    assert!(
        text.contains("refuses the login and reports oidc_state_missing"),
        "{text}"
    );
    assert!(!text.contains(support::SECRET), "{text}");
    let issuer = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("issuer:"))
        .map(str::trim)
        .expect("the issuer line")
        .to_string();
    // The IdP answers, and says so as it happens.
    let url = format!("{issuer}/.well-known/openid-configuration");
    let status = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(&url).await.unwrap().status() });
    assert!(status.is_success());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("IdP: GET discovery → 200 ok"), "{line}");
    // Ctrl-C: it stops, saying the fault never struck (nobody signed in).
    let pid = child.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert!(rest.contains("`state-mismatch` never struck"), "{rest}");
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
}

#[test]
fn a_product_playbook_lists_its_errors_and_reproduces_them_in_its_own_words() {
    let out = harness()
        .args(["list", "--product", "databricks", "--suite"])
        .arg(catalog_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("Databricks (playbook: docs/playbooks/databricks.md)"),
        "{text}"
    );
    assert_eq!(text.matches("\n  oidc_").count(), 10, "ten codes: {text}");
    assert!(
        text.contains("      nonce-missing, nonce-mismatch"),
        "{text}"
    );
    let out = harness()
        .args(["list", "--product", "databrick", "--suite"])
        .arg(catalog_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `databricks`?"));

    // The product's words, part of them: the scenarios of that row, one at a time.
    let dir = std::env::temp_dir().join(format!("oidc-harness-product-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "sample-rp")).unwrap();
    let out = harness()
        .args(["reproduce", "--product", "databricks", "NONCE", "--rp"])
        .arg(&profile)
        .arg("--suite")
        .arg(catalog_dir())
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("Databricks: oidc_nonce_missing ("),
        "{text}"
    );
    assert!(text.contains("== nonce-missing (pass)"), "{text}");
    assert!(text.contains("== nonce-mismatch (pass)"), "{text}");
    assert!(!text.contains("== state-missing"), "{text}");

    // A manifest naming a scenario that does not exist: refused, pointing at the name.
    let suite = dir.join("suite");
    std::fs::create_dir_all(suite.join("vendors/acme")).unwrap();
    std::fs::write(
        suite.join("ok.toml"),
        "id = \"ok\"\ntitle = \"t\"\n\n[expect]\nresult = \"accept\"\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("vendors/acme/product.toml"),
        "name = \"Acme\"\nplaybook = \"docs/x.md\"\n\n[[errors]]\nsays = \"E1\"\nsymptom = \"s\"\nscenarios = [\"okk\"]\n",
    )
    .unwrap();
    let out = harness()
        .args(["list", "--product", "acme", "--suite"])
        .arg(&suite)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("product.toml:7:"), "{err}");
    assert!(err.contains("no scenario `okk`"), "{err}");
    assert!(err.contains("did you mean `ok`?"), "{err}");
}

#[test]
fn a_playbook_tenant_prints_what_to_paste_in_the_products_words() {
    let tenant = catalog_dir().join("../fixtures/tenants/databricks.toml");
    let (_idp, lines) = idp_lines(&[
        "--addr",
        "127.0.0.1:0",
        "--tenant",
        tenant.to_str().unwrap(),
    ]);
    let text = lines.concat();
    let issuer = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("issuer oauth2/default"))
        .map(str::trim)
        .expect("the default issuer")
        .to_string();
    assert!(
        text.contains("Paste into the Databricks SSO form:"),
        "{text}"
    );
    assert!(
        text.contains("  Client ID                    0oa1databricks00000"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  OpenID issuer URL            {issuer}\n")),
        "{text}"
    );
    // A placeholder the IdP does not know: refused, naming the field.
    let dir = std::env::temp_dir().join(format!("oidc-harness-form-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("t.toml");
    let text = std::fs::read_to_string(&tenant)
        .unwrap()
        .replace("value = \"{issuer}\"", "value = \"{isuser}\"");
    std::fs::write(&bad, text).unwrap();
    let out = harness()
        .args(["idp", "--addr", "127.0.0.1:0", "--tenant"])
        .arg(&bad)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown placeholder `{isuser}`"), "{err}");
}

#[test]
fn runs_from_any_directory_with_the_built_in_catalog() {
    // An empty directory: no scenarios/ on disk, so the binary's own catalog is read.
    let dir = std::env::temp_dir().join(format!("oidc-harness-anywhere-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("rp.toml");
    std::fs::write(&profile, support::profile_text("", "anywhere")).unwrap();
    let version = harness().arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.contains("(catalog of "), "{version}");
    let list = harness()
        .current_dir(&dir)
        .args(["list", "--product", "clearml"])
        .output()
        .unwrap();
    assert_eq!(
        list.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let run = harness()
        .current_dir(&dir)
        .args(["run", "--rp", "rp.toml", "--suite", "scenarios/oidc-core"])
        .args([
            "--scenario",
            "scenarios/troubleshooting/state-mismatch.toml",
        ])
        .args(["--out", "reports", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reports/report.json")).unwrap())
            .unwrap();
    let ids: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"happy-path") && ids.contains(&"state-mismatch"),
        "{ids:?}"
    );
    // A folder on disk wins over the built-in one.
    std::fs::create_dir_all(dir.join("scenarios/mine")).unwrap();
    std::fs::copy(
        scenario_file("oidc-core", "happy-path"),
        dir.join("scenarios/mine/happy-path.toml"),
    )
    .unwrap();
    let mine = harness().current_dir(&dir).args(["list"]).output().unwrap();
    let mine = String::from_utf8_lossy(&mine.stdout);
    assert!(
        mine.contains("mine") && !mine.contains("state-mismatch"),
        "{mine}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
