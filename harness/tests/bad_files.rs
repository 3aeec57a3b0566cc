//! Bad scenario and profile files: exit code 2 and a message that points at the text.

use std::path::{Path, PathBuf};
use std::process::Command;

const GOOD_SCENARIO: &str = "id = \"ok\"\ntitle = \"fine\"\n\n[expect]\nresult = \"accept\"\n";
const GOOD_PROFILE: &str = "name = \"p\"\nlogin_url = \"http://127.0.0.1:1/login\"\nredirect_uris = [\"http://127.0.0.1:1/cb\"]\nclient_id = \"c\"\nclient_secret = \"s\"\n\n[success]\nstatus = 200\n";

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!(
        "oidc-harness-bad-{name}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("suite")).unwrap();
    Dir(d)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `oidc-harness run` with these files; returns stderr after checking exit code 2.
fn run(scenarios: &[(&str, &str)], profile: &str) -> String {
    let d = dir(&scenarios.first().map_or("p", |s| s.0).replace('/', "-"));
    for (name, text) in scenarios {
        write(&d.0.join("suite"), name, text);
    }
    let p = write(&d.0, "profile.toml", profile);
    let out = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(["run", "--rp"])
        .arg(&p)
        .arg("--suite")
        .arg(d.0.join("suite"))
        .arg("--out")
        .arg(d.0.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code 2 for bad input; stderr: {err}"
    );
    assert!(!d.0.join("out").exists(), "nothing written for bad input");
    err
}

fn scenario_error(text: &str) -> String {
    run(&[("bad.toml", text)], GOOD_PROFILE)
}

#[test]
fn unknown_field_suggests_the_right_one() {
    let e = scenario_error("id = \"x\"\ntitel = \"t\"\n\n[expect]\nresult = \"accept\"\n");
    assert!(e.contains("bad.toml:2:1: unknown field `titel`"), "{e}");
    assert!(e.contains("did you mean `title`?"), "{e}");
}

#[test]
fn unknown_fault_suggests_the_right_one() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[[faults]]\nid = \"nonce-mismach\"\n\n[expect]\nresult = \"accept\"\n",
    );
    assert!(
        e.contains("bad.toml:5:6: unknown fault `nonce-mismach`; did you mean `nonce-mismatch`?"),
        "{e}"
    );
    assert!(e.contains("5 | id = \"nonce-mismach\""), "{e}");
}

#[test]
fn a_scenario_fault_cannot_name_a_user() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[[faults]]\nid = \"state-missing\"\nuser = \"bob\"\n\n[expect]\nresult = \"accept\"\n",
    );
    assert!(
        e.contains("bad.toml:6:8: a scenario's faults are aimed at its own user"),
        "{e}"
    );
}

#[test]
fn unknown_outcome_code_suggests_the_right_one() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[expect]\nresult = \"reject\"\ncode = \"oidc_state_mising\"\n",
    );
    assert!(e.contains("bad.toml:6:8: expected an outcome code of the troubleshooting table (found `oidc_state_mising`)"), "{e}");
    assert!(e.contains("did you mean `oidc_state_missing`?"), "{e}");
}

#[test]
fn accept_with_a_code_is_refused() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[expect]\nresult = \"accept\"\ncode = \"oidc_auth_error\"\n",
    );
    assert!(
        e.contains("bad.toml:6:8: `code` goes with `result = \"reject\"`"),
        "{e}"
    );
}

#[test]
fn unknown_step_suggests_the_right_one() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\nsteps = [\"log-in\"]\n\n[expect]\nresult = \"accept\"\n",
    );
    assert!(e.contains("bad.toml:3:10: unknown variant `log-in`"), "{e}");
    assert!(e.contains("did you mean `login`?"), "{e}");
}

#[test]
fn a_top_level_key_under_a_table_is_explained() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[expect]\nresult = \"accept\"\nevidence = [\"sends-state\"]\n",
    );
    assert!(e.contains("bad.toml:6:1: unknown field `evidence`"), "{e}");
    assert!(
        e.contains("move `evidence` above the first `[...]` header"),
        "{e}"
    );
}

#[test]
fn missing_expectation_is_reported() {
    let e = scenario_error("id = \"x\"\ntitle = \"t\"\n");
    assert!(e.contains("bad.toml:1:1: missing field `expect`"), "{e}");
}

#[test]
fn toml_syntax_errors_are_located() {
    let e = scenario_error("id = \"x\"\ntitle = \"t\n");
    assert!(e.contains("bad.toml:2:"), "{e}");
}

#[test]
fn ids_must_be_kebab_case() {
    let e =
        scenario_error("id = \"State Missing\"\ntitle = \"t\"\n\n[expect]\nresult = \"accept\"\n");
    assert!(e.contains("bad.toml:1:6: expected a kebab-case id"), "{e}");
}

#[test]
fn duplicate_ids_name_both_files() {
    let e = run(
        &[("a.toml", GOOD_SCENARIO), ("b.toml", GOOD_SCENARIO)],
        GOOD_PROFILE,
    );
    assert!(
        e.contains("b.toml: scenario id `ok` is already used by"),
        "{e}"
    );
    assert!(e.contains("a.toml"), "{e}");
}

#[test]
fn profile_with_a_bad_regex() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &GOOD_PROFILE.replace("status = 200", "url = \"(unclosed\""),
    );
    assert!(
        e.contains("profile.toml:8:7: expected a regular expression"),
        "{e}"
    );
}

#[test]
fn profile_with_a_relative_login_url() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &GOOD_PROFILE.replace("http://127.0.0.1:1/login", "/login"),
    );
    assert!(
        e.contains("profile.toml:2:13: expected an absolute URL (found `/login`"),
        "{e}"
    );
}

#[test]
fn profile_with_an_unknown_capability() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("capabilities = [\"javascrpt\"]\n{GOOD_PROFILE}"),
    );
    assert!(
        e.contains("profile.toml:1:17: unknown variant `javascrpt`"),
        "{e}"
    );
    assert!(e.contains("did you mean `javascript`?"), "{e}");
}

#[test]
fn profile_mapping_to_an_unknown_code() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("{GOOD_PROFILE}\n[[outcome.map]]\nbody = \"state\"\ncode = \"oidc_state\"\n"),
    );
    assert!(e.contains("profile.toml:12:8: expected an outcome code of the troubleshooting table (found `oidc_state`)"), "{e}");
}

#[test]
fn bad_options_are_bad_input() {
    let out = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(["run", "--rp", "x.toml", "--partition", "5/4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected 1 <= K <= N (found 5/4)"));
    let out = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(["run", "--rp", "no/such/profile.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/profile.toml: cannot read"));
}

const START: &str =
    "\n[start]\ncommand = [\"sh\", \"-c\", \"true\"]\nready_url = \"http://127.0.0.1:1/healthz\"\n";

#[test]
fn profile_with_an_unknown_template_variable() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("{GOOD_PROFILE}{START}\n[start.env]\nISSUER = \"{{issuerr}}\"\n"),
    );
    assert!(
        e.contains("profile.toml:15:10: unknown template variable `{issuerr}`"),
        "{e}"
    );
    assert!(e.contains("did you mean `{issuer}`?"), "{e}");
}

#[test]
fn profile_whose_ready_url_is_not_http() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!(
            "{GOOD_PROFILE}{}",
            START.replace("http://127.0.0.1:1/healthz", "ftp://x")
        ),
    );
    assert!(
        e.contains("profile.toml:12:13: expected an http or https URL (found `ftp://x`)"),
        "{e}"
    );
}

#[test]
fn profile_whose_folder_or_program_is_missing() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("{GOOD_PROFILE}{START}cwd = \"no-such-folder\"\n"),
    );
    assert!(e.contains("profile.toml:13:7: expected a folder"), "{e}");
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!(
            "{GOOD_PROFILE}{}",
            START.replace("\"sh\", ", "\"./no-such-rp\", ")
        ),
    );
    assert!(
        e.contains("profile.toml:11:12: expected a program to run (found `./no-such-rp`"),
        "{e}"
    );
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!(
            "{GOOD_PROFILE}{}",
            START.replace("\"sh\", ", "\"no-such-program-anywhere\", ")
        ),
    );
    assert!(e.contains("not on the PATH"), "{e}");
}

#[test]
fn profile_whose_build_is_empty_or_missing() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("{GOOD_PROFILE}{START}build = []\n"),
    );
    assert!(
        e.contains("profile.toml:13:9: expected a program and its arguments (or no `build`)"),
        "{e}"
    );
    // With a build, its program is checked, not the RP's, which the build may make.
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!(
            "{GOOD_PROFILE}{}build = [\"./no-such-build\"]\n",
            START.replace("\"sh\", ", "\"./not-built-yet\", ")
        ),
    );
    assert!(
        e.contains("profile.toml:13:10: expected a program to run (found `./no-such-build`"),
        "{e}"
    );
}

#[test]
fn profile_with_a_zero_timeout() {
    let e = run(
        &[("ok.toml", GOOD_SCENARIO)],
        &format!("timeout_secs = 0\n{GOOD_PROFILE}"),
    );
    assert!(
        e.contains("profile.toml:1:16: expected at least 1 second (found 0)"),
        "{e}"
    );
}

#[test]
fn inputs_that_are_not_regular_files_are_refused_at_once() {
    for special in ["/dev/zero", "/dev/null"] {
        let out = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
            .args(["run", "--rp", special])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a regular file"), "{err}");
    }
    // A FIFO nobody writes to would block a plain read forever.
    let d = dir("fifo");
    let fifo = d.0.join("profile.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_oidc-harness"))
        .args(["run", "--rp"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_huge_line_is_cut_in_the_message() {
    let nested = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let e = run(
        &[("deep.toml", &format!("{nested}{GOOD_SCENARIO}"))],
        GOOD_PROFILE,
    );
    assert!(e.contains("deep.toml:"), "{}", &e[..e.len().min(400)]);
    assert!(e.len() < 4_000, "{} bytes of message", e.len());
}

#[test]
fn group_steps_and_scim_faults_say_what_the_rp_must_offer() {
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\nsteps = [\"login\", \"group-remove\", \"login\"]\n\n[expect]\nresult = \"reject\"\n",
    );
    assert!(e.contains("bad.toml:3:"), "{e}");
    assert!(e.contains("requires = [\"groups\"]"), "{e}");
    let e = scenario_error(
        "id = \"x\"\ntitle = \"t\"\n\n[[faults]]\nid = \"scim-duplicate-create\"\n\n[expect]\nresult = \"accept\"\n",
    );
    assert!(e.contains("bad.toml:"), "{e}");
    assert!(
        e.contains("`scim-duplicate-create` changes what the IdP sends to the RP's SCIM API"),
        "{e}"
    );
    assert!(e.contains("requires = [\"provisioning\"]"), "{e}");
}
