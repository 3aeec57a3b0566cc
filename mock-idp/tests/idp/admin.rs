//! The admin API under /_harness/ and the standalone binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mock_idp::MockIdp;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn journal_and_tenant_over_http() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    redeem(&idp, &c, "default", &code, &verifier).await;
    let journal: Value = get_json(&c, format!("{}/_harness/journal", idp.uri())).await;
    let endpoints: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["authorize", "sign_in", "token"]);
    let since: Value = get_json(&c, format!("{}/_harness/journal?since=2", idp.uri())).await;
    assert_eq!(since.as_array().unwrap().len(), 1);
    let tenant = c
        .get(format!("{}/_harness/tenant", idp.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        tenant.contains("\"client_secret\":\"[redacted]\""),
        "secrets are redacted"
    );
    assert!(!tenant.contains(WEB_SECRET) && !tenant.contains(ALICE_PW));
}

#[tokio::test]
async fn users_clients_assignments_keys_and_clock_over_http() {
    let idp = MockIdp::builder()
        .clock(mock_idp::Clock::frozen(1_800_000_000))
        .start()
        .await
        .unwrap();
    let c = browser();
    let base = format!("{}/_harness", idp.uri());
    let r = c
        .put(format!("{base}/users"))
        .json(&json!({"login": "zed@example.com", "password": "zed-pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .put(format!("{base}/clients/{WEB}/users/zed@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        idp.tenant()
            .client(WEB)
            .unwrap()
            .assigned_users
            .contains(&"zed@example.com".to_string())
    );
    let r = c
        .put(format!("{base}/clients/{WEB}/users/nobody@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .put(format!("{base}/clients"))
        .json(&json!({"client_id": "bad", "token_endpoint_auth_method": "client_secret_basic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an invalid client is refused");
    assert!(r.text().await.unwrap().contains("expected a client_secret"));
    let r: Value = c
        .post(format!("{base}/keys/rotate"))
        .json(&json!({"server": "default"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["active_kid"].as_str().unwrap().len(), 43);
    let r: Value = c
        .post(format!("{base}/clock"))
        .json(&json!({"advance": 60}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["now"], 1_800_000_060);
    assert_eq!(status(c.delete(format!("{base}/journal"))).await, 204);
}

#[tokio::test]
async fn admin_token_is_enforced_when_set() {
    let idp = MockIdp::builder()
        .admin_token("let-me-in")
        .start()
        .await
        .unwrap();
    let c = browser();
    let url = format!("{}/_harness/journal", idp.uri());
    assert_eq!(status(c.get(&url)).await, 401);
    assert_eq!(
        c.get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth("let-me-in")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The OIDC endpoints stay open.
    assert_eq!(
        status(c.get(format!("{}/oauth2/v1/keys", idp.uri()))).await,
        200
    );
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_binary(extra: &[&str]) -> (Child, Vec<String>) {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_mock-idp"))
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    (child, lines)
}

fn value_after(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` line in {lines:?}"))
        .split_whitespace()
        .last()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_binary_prints_issuers_and_serves_them() {
    let (_child, lines) = start_binary(&[]);
    let issuer = value_after(&lines, "issuer oauth2/default");
    let doc: Value = get_json(
        &browser(),
        format!("{issuer}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(doc["issuer"], issuer);
}

#[tokio::test]
async fn the_binary_serves_https_and_prints_the_ca_file() {
    let (_child, lines) = start_binary(&["--tls"]);
    let issuer = value_after(&lines, "issuer org");
    assert!(issuer.starts_with("https://127.0.0.1:"));
    let ca = std::fs::read_to_string(value_after(&lines, "CA file")).unwrap();
    let doc: Value = browser_trusting(&ca)
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], issuer);
    assert!(
        browser()
            .get(format!("{issuer}/oauth2/v1/keys"))
            .send()
            .await
            .is_err(),
        "untrusted without the CA"
    );
}

#[tokio::test]
async fn the_journal_streams_as_one_json_array_over_many_chunks() {
    let idp = MockIdp::builder()
        .journal_capacity(5_000)
        .start()
        .await
        .unwrap();
    let c = browser();
    let discovery = format!("{}/.well-known/openid-configuration", idp.issuer("default"));
    for _ in 0..1_234 {
        assert_eq!(status(c.get(&discovery)).await, 200);
    }
    let all: Vec<serde_json::Value> = c
        .get(format!("{}/_harness/journal", idp.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 1_234);
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, none twice"
    );
    let since: Vec<serde_json::Value> = c
        .get(format!("{}/_harness/journal?since=1000", idp.uri()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(since.len(), 234);
    assert_eq!(since[0]["seq"], 1001);
}

#[tokio::test]
async fn the_journal_holds_a_bounded_amount_of_memory() {
    // 32 KiB of journal: old entries go, numbering goes on.
    let idp = MockIdp::builder()
        .journal_bytes(32 * 1024)
        .start()
        .await
        .unwrap();
    let c = browser();
    let discovery = format!("{}/.well-known/openid-configuration", idp.issuer("default"));
    for _ in 0..1500 {
        assert_eq!(status(c.get(&discovery)).await, 200);
    }
    let kept = idp.journal();
    // A discovery request's entry is held in ~40 bytes (its encoding and its place in the
    // index): some 850 fit where entries held as trees of strings (~800 bytes) left 40.
    assert!(kept.len() < 1500 && kept.len() > 400, "{} kept", kept.len());
    let bytes: usize = kept.iter().map(|e| e.footprint()).sum();
    assert!(bytes <= 32 * 1024, "{bytes} bytes");
    assert_eq!(kept.last().unwrap().seq, 1500);
    assert_eq!(kept.first().unwrap().seq, 1501 - kept.len() as u64);
    let memory = get_json(&c, format!("{}/_harness/memory", idp.uri())).await;
    assert_eq!(memory["journal"]["entries"], kept.len());
    assert_eq!(memory["journal"]["bytes"], bytes);
}

#[test]
fn admin_api_doc_matches_the_api() {
    // docs/admin-api.json is generated from the same table the router is built from;
    // `UPDATE_DOCS=1` rewrites it.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/admin-api.json");
    let generated = serde_json::to_string_pretty(&mock_idp::admin_openapi()).unwrap() + "\n";
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/admin-api.json differs from the admin API; run `UPDATE_DOCS=1 cargo test -p mock-idp admin_api_doc`"
    );
}

#[tokio::test]
async fn every_call_of_the_openapi_document_is_served_and_no_other() {
    let idp = MockIdp::start().await;
    let c = browser();
    let doc: Value = get_json(&c, format!("{}/_harness/openapi.json", idp.uri())).await;
    assert_eq!(doc, mock_idp::admin_openapi(), "served as documented");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>(),
        mock_idp::ADMIN_API.len()
    );
    for (path, ops) in paths {
        let concrete = path
            .replace("{user}", "nobody@example.com")
            .replace("{client}", "no-such-client")
            .replace("{id}", "999");
        let url = format!("{}/_harness{concrete}", idp.uri());
        for method in ["get", "put", "post", "delete"] {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = c.request(m, &url);
            if method == "put" || method == "post" {
                req = req
                    .header("content-type", "application/json")
                    .body("{\"not\": \"valid for any call\"}");
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            if ops.get(method).is_some() {
                // A handler may answer 404 about what it was asked for (no such user),
                // never the IdP's own "no such path" (E0000007).
                let unrouted = status == 405 || (status == 404 && body.contains("E0000007"));
                assert!(
                    !unrouted,
                    "{method} {path} is documented and answered {status} {body}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is not documented and answered"
                );
            }
        }
    }
    let unknown = c
        .get(format!("{}/_harness/not-a-call", idp.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn configured_from_the_environment_healthy_and_stopped_by_sigterm() {
    // As a container runs it: the address and the personality from the environment, a
    // health check without a token, `docker stop` sending SIGTERM.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .env("OIDC_HARNESS_ADDR", "127.0.0.1:0")
        .env("OIDC_HARNESS_PERSONALITY", "keycloak")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    assert!(first.contains("Keycloak"), "{first}");
    let health = browser()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(waited < 100, "still running 10 s after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    };
    assert_eq!(status.code(), Some(0), "a clean stop");
}
