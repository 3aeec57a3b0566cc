//! Runs the harness against the real sample RP binary, with free ports.

#![allow(dead_code)]

use std::path::PathBuf;

use harness::profile::Compiled;
use harness::report::{RunReport, Sink};
use harness::runner::{self, Options};
use harness::scenario::Loaded;

pub const SECRET: &str = "S3cr3t-client-secret-for-the-harness-tests";

/// The sample RP binary built next to this test.
pub fn sample_rp_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|p| p.parent()).unwrap();
    let bin = dir.join("sample-rp");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// A port nobody listens on, for an RP to bind, below the kernel's ephemeral range
/// (32768-60999 on Linux). A port from `bind(0)` is in that range, where any outgoing
/// connection of any test may take it as its source port before the RP binds it, and the
/// run then stops with "port N is already in use by another process" (seen once in CI).
/// Each test process walks its own 120 ports (by its id), skipping any in use.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 100) as u16 * 120;
    for _ in 0..120 {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 120;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A profile starting the sample RP on a free port, with `no_checks` switched off.
/// `text` (a profile) for an RP that admits the group `harness-admins` only, told where
/// the IdP sends groups and the group's id there.
pub fn with_group(text: &str) -> String {
    text.replace(
        "capabilities = [",
        "required_group = \"harness-admins\"\ncapabilities = [",
    )
    .replace(
        "[start.env]",
        "[start.env]\nREQUIRED_GROUP = \"{required_group}\"\nGROUPS_CLAIM = \"{groups_token}:{groups_claim}\"",
    )
}

/// `text` (a profile) for an RP that admits the Google Workspace domain `harness.test`
/// only.
pub fn with_workspace(text: &str) -> String {
    text.replace(
        "capabilities = [",
        "hosted_domain = \"harness.test\"\ncapabilities = [",
    )
    .replace(
        "[start.env]",
        "[start.env]\nHOSTED_DOMAIN = \"harness.test\"",
    )
}

/// `text` (a profile) for an RP that admits provisioned users only: the IdP provisions
/// each scenario's user at its SCIM endpoint.
pub fn with_provisioning(text: &str) -> String {
    with_scim(text, "provisioned-only", "PROVISIONED_ONLY")
}

/// `text` (a profile) for an RP that creates accounts at a first login, listed at its SCIM
/// endpoint (where the IdP provisions each scenario's user too).
pub fn with_accounts(text: &str) -> String {
    with_scim(text, "create-on-login", "CREATE_ON_LOGIN")
}

fn with_scim(text: &str, capability: &str, env: &str) -> String {
    let base = text
        .split("login_url = \"")
        .nth(1)
        .and_then(|r| r.split("/login\"").next())
        .expect("a login_url");
    text.replace(
        "[start]",
        &format!(
            "[provisioning]\nurl = \"{base}/scim/v2\"\nauthorization = \"Bearer scim-token-for-tests\"\nretry_ms = 100\n\n[start]"
        ),
    )
    .replace(
        "capabilities = [",
        &format!("capabilities = [\"{capability}\", "),
    )
    .replace(
        "[start.env]",
        &format!("[start.env]\nSCIM_TOKEN = \"scim-token-for-tests\"\n{env} = \"true\""),
    )
}

pub fn profile_text(no_checks: &str, name: &str) -> String {
    let port = free_port();
    format!(
        r#"name = "{name}"
login_url = "http://127.0.0.1:{port}/login"
logout_url = "http://127.0.0.1:{port}/logout"
refresh_url = "http://127.0.0.1:{port}/refresh"
redirect_uris = ["http://127.0.0.1:{port}/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:{port}/"]
protected_url = "http://127.0.0.1:{port}/account"
backchannel_logout_uri = "http://127.0.0.1:{port}/backchannel-logout"
client_id = "sample-rp"
client_secret = "{SECRET}"
capabilities = ["logout", "userinfo"]
timeout_secs = 15

[start]
command = ["{bin}"]
ready_url = "http://127.0.0.1:{port}/healthz"
ready_timeout_secs = 30

[start.env]
ISSUER = "{{issuer}}"
CLIENT_ID = "{{client_id}}"
CLIENT_SECRET = "{{client_secret}}"
END_SESSION_ENDPOINT = "{{end_session_endpoint}}"
LOGOUT_RETURN_PARAM = "{{logout_return_param}}"
LISTEN = "127.0.0.1:{port}"
NO_CHECKS = "{no_checks}"

[success]
status = 200
body = "Logged in as "
identity = "Logged in as {{email}}"

[outcome]
pattern = '<p id="outcome">(oidc_[a-z_]+)</p>'
log = 'error: (oidc_[a-z_]+)'
"#,
        bin = sample_rp_bin().display()
    )
}

pub fn profile(no_checks: &str, name: &str) -> Compiled {
    harness::profile::parse("test-profile.toml", &profile_text(no_checks, name)).unwrap()
}

/// The sample RP registered for front-channel logout instead of back-channel.
pub fn frontchannel_profile(no_checks: &str, name: &str) -> Compiled {
    let text = profile_text(no_checks, name)
        .replace("backchannel_logout_uri", "frontchannel_logout_uri")
        .replace("/backchannel-logout", "/frontchannel-logout");
    harness::profile::parse("test-profile.toml", &text).unwrap()
}

pub fn catalog() -> Vec<Loaded> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    harness::cli::load_scenarios(&[dir], &[]).unwrap()
}

pub fn scenarios(ids: &[&str]) -> Vec<Loaded> {
    catalog()
        .into_iter()
        .filter(|l| ids.contains(&l.scenario.id.as_str()))
        .collect()
}

pub async fn run(profile: Compiled, scenarios: Vec<Loaded>, opts: Options) -> RunReport {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    runner::run(profile, scenarios, &opts, &mut sinks)
        .await
        .unwrap()
}
