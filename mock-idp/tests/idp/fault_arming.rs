//! Arming faults: targets (user, client, everyone), counts (once, n, until disarmed),
//! composition, the guard, the admin API, tenant files and the command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mock_idp::faults::{Fault, FaultError, FaultId};
use mock_idp::{Client, MockIdp, Tenant, TenantError};
use serde_json::{Value, json};

use crate::common::*;

async fn callback_state(idp: &MockIdp, client_id: &str, user: &str, pw: &str) -> Option<String> {
    let (_, challenge) = pkce();
    let mut params = code_params(&challenge);
    params[0] = ("client_id", client_id);
    let resp = sign_in(
        &browser(),
        &authorize_url(idp, "default", &params),
        user,
        pw,
    )
    .await;
    query(&location(&resp), "state")
}

#[tokio::test]
async fn a_fault_for_one_user_leaves_others_alone() {
    let idp = MockIdp::start().await;
    let _g = idp
        .arm(Fault::new(FaultId::StateMissing).for_user(ALICE))
        .unwrap();
    assert_eq!(callback_state(&idp, WEB, ALICE, ALICE_PW).await, None);
    assert!(
        callback_state(&idp, WEB, "carol@example.com", "carol-password-1")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_fault_for_one_client_leaves_other_clients_alone() {
    let idp = MockIdp::start().await;
    idp.upsert_client(Client::confidential("0oaSECOND", "s", WEB_CB))
        .unwrap();
    let _g = idp
        .arm(Fault::new(FaultId::StateMissing).for_client("0oaSECOND"))
        .unwrap();
    assert!(callback_state(&idp, WEB, ALICE, ALICE_PW).await.is_some());
    assert_eq!(
        callback_state(&idp, "0oaSECOND", ALICE, ALICE_PW).await,
        None
    );
}

#[tokio::test]
async fn times_limits_firings_and_the_guard_counts_them() {
    let idp = MockIdp::start().await;
    let g = idp.arm(Fault::new(FaultId::StateMissing).times(2)).unwrap();
    assert_eq!(callback_state(&idp, WEB, ALICE, ALICE_PW).await, None);
    assert_eq!(callback_state(&idp, WEB, ALICE, ALICE_PW).await, None);
    assert!(
        callback_state(&idp, WEB, ALICE, ALICE_PW).await.is_some(),
        "spent after two"
    );
    assert_eq!(g.fired(), 2);
    assert_eq!(idp.armed_faults().len(), 1, "listed until disarmed");
    drop(g);
    assert!(idp.armed_faults().is_empty(), "the guard disarms on drop");
}

#[tokio::test]
async fn until_disarmed_and_keep() {
    let idp = MockIdp::start().await;
    let id = idp.arm(Fault::new(FaultId::StateMissing)).unwrap().keep();
    for _ in 0..3 {
        assert_eq!(callback_state(&idp, WEB, ALICE, ALICE_PW).await, None);
    }
    assert_eq!(idp.armed_faults()[0].armed_id, id);
    assert_eq!(idp.armed_faults()[0].fired, 3);
    idp.disarm_all();
    assert!(callback_state(&idp, WEB, ALICE, ALICE_PW).await.is_some());
}

#[tokio::test]
async fn faults_compose() {
    let idp = MockIdp::start().await;
    let _a = idp
        .arm(Fault::new(FaultId::NonceMismatch).for_user(ALICE))
        .unwrap();
    let _b = idp
        .arm(Fault::new(FaultId::AudMissing).for_user(ALICE))
        .unwrap();
    let _c = idp
        .arm(Fault::new(FaultId::StateMismatch).for_user(ALICE))
        .unwrap();
    let c = browser();
    let (verifier, challenge) = pkce();
    let loc = location(
        &sign_in(
            &c,
            &authorize_url(&idp, "default", &code_params(&challenge)),
            ALICE,
            ALICE_PW,
        )
        .await,
    );
    assert_ne!(query(&loc, "state").unwrap(), "state-0123456789abcdef");
    let body: Value = redeem(
        &idp,
        &c,
        "default",
        &query(&loc, "code").unwrap(),
        &verifier,
    )
    .await
    .json()
    .await
    .unwrap();
    let id = claims(body["id_token"].as_str().unwrap());
    assert_ne!(id["nonce"], "nonce-0123456789abcdef");
    assert!(id.get("aud").is_none());
    let token = idp
        .journal()
        .into_iter()
        .rev()
        .find(|e| e.endpoint == Some(mock_idp::Endpoint::Token))
        .unwrap();
    assert_eq!(
        token.faults,
        ["aud-missing", "nonce-mismatch"],
        "catalog order"
    );
}

#[test]
fn bad_faults_are_refused_with_reasons() {
    let err = |s: &str| s.parse::<Fault>().unwrap_err().to_string();
    assert_eq!(
        err("stat-missing"),
        "unknown fault `stat-missing`; did you mean `state-missing`?"
    );
    assert!(err("jwks-unavailable:alice@example.com").contains("arm it for everyone"));
    assert_eq!(
        err("token-endpoint-5xx=404"),
        "`token-endpoint-5xx` takes an HTTP status from 500 to 599 (found `404`)"
    );
    assert!(err("idp-error=nope").contains("one of access_denied"));
    assert_eq!(
        err("state-missing=x"),
        "`state-missing` takes no parameter (found `x`)"
    );
    let f = Fault::new(FaultId::StateMissing)
        .for_user("a")
        .for_client("b");
    assert_eq!(f.validate(), Err(FaultError::TwoTargets));
    assert_eq!(
        Fault::new(FaultId::StateMissing).times(0).validate(),
        Err(FaultError::ZeroTimes)
    );
}

#[tokio::test]
async fn admin_api_arms_lists_and_disarms() {
    let idp = MockIdp::start().await;
    let c = browser();
    let base = format!("{}/_harness/faults", idp.uri());
    let r = c
        .post(&base)
        .json(&json!({"id": "state-missing", "user": ALICE, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["armed_id"]
        .as_u64()
        .unwrap();
    let r = c
        .post(&base)
        .json(&json!({"id": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown fault `nope`"));
    let r = c
        .post(&base)
        .json(&json!({"id": "discovery-malformed", "user": ALICE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(callback_state(&idp, WEB, ALICE, ALICE_PW).await, None);
    let armed: Value = get_json(&c, format!("{base}/armed")).await;
    assert_eq!(
        armed,
        json!([{"armed_id": id, "id": "state-missing", "user": ALICE, "times": 1, "fired": 1}])
    );
    assert_eq!(status(c.delete(format!("{base}/armed/{id}"))).await, 204);
    assert_eq!(status(c.delete(format!("{base}/armed/{id}"))).await, 404);
    c.post(&base)
        .json(&json!({"id": "discovery-unavailable"}))
        .send()
        .await
        .unwrap();
    let disc = c
        .get(format!(
            "{}/.well-known/openid-configuration",
            idp.issuer("default")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(disc.status(), 503);
    assert_eq!(status(c.delete(format!("{base}/armed"))).await, 204);
    let disc = c
        .get(format!(
            "{}/.well-known/openid-configuration",
            idp.issuer("default")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(disc.status(), 200);
}

const TENANT: &str = r#"
[[clients]]
client_id = "c1"
client_secret = "s1"
redirect_uris = ["http://127.0.0.1:8080/callback"]
assigned_groups = ["Everyone"]

[[users]]
login = "alice@example.com"
password = "pw"
"#;

#[tokio::test]
async fn tenant_files_arm_faults_at_start() {
    let text = format!(
        "{TENANT}\n[[faults]]\nid = \"state-missing\"\nuser = \"alice@example.com\"\n\n[[faults]]\nid = \"jwks-unavailable\"\n"
    );
    let tenant = Tenant::from_toml_str("t.toml", &text).unwrap();
    let idp = MockIdp::builder().tenant(tenant).start().await.unwrap();
    let armed: Vec<String> = idp
        .armed_faults()
        .iter()
        .map(|a| a.fault.to_string())
        .collect();
    assert_eq!(
        armed,
        ["state-missing:alice@example.com", "jwks-unavailable"]
    );
    assert_eq!(
        callback_state(&idp, "c1", "alice@example.com", "pw").await,
        None
    );
}

#[test]
fn bad_faults_in_tenant_files_are_located() {
    let bad = |faults: &str| match Tenant::from_toml_str("t.toml", &format!("{TENANT}{faults}")) {
        Err(TenantError::Invalid(d)) => d.to_string(),
        other => panic!("{other:?}"),
    };
    let e = bad("[[faults]]\nid = \"nonce-mismach\"\n");
    assert!(
        e.starts_with("t.toml:12:6: unknown fault `nonce-mismach`; did you mean `nonce-mismatch`?"),
        "{e}"
    );
    let e = bad("[[faults]]\nid = \"state-missing\"\nuser = \"bob@example.com\"\n");
    assert!(
        e.starts_with("t.toml:13:8: no user `bob@example.com` in this tenant"),
        "{e}"
    );
    let e = bad("[[faults]]\nid = \"token-endpoint-slow\"\nparam = \"forever\"\n");
    assert!(
        e.starts_with("t.toml:13:9: `token-endpoint-slow` takes a delay in milliseconds"),
        "{e}"
    );
    let e = bad("[[faults]]\nid = \"discovery-unavailable\"\nclient = \"c1\"\n");
    assert!(
        e.starts_with("t.toml:13:10: `discovery-unavailable` strikes discovery or keys"),
        "{e}"
    );
}

#[test]
fn the_command_line_arms_faults_and_refuses_bad_ones() {
    let bin = env!("CARGO_BIN_EXE_mock-idp");
    let out = Command::new(bin)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--fault",
            "state-missing:nobody@example.com",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no user `nobody@example.com` in this tenant")
    );
    let out = Command::new(bin)
        .args(["--addr", "127.0.0.1:0", "--fault", "state-mising"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `state-missing`?"));
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(
        Command::new(bin)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--fault",
                "state-missing:alice@example.com",
                "--fault",
                "idp-error=login_required",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let reader = BufReader::new(child.0.stdout.take().unwrap());
    let lines: Vec<String> = reader
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Press Ctrl-C"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("fault armed") && l.ends_with("state-missing:alice@example.com")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("fault armed") && l.ends_with("idp-error=login_required")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn nonce_faults_strike_only_when_the_rp_sent_a_nonce() {
    // OIDC Core 3.1.3.7 step 11 binds the nonce check to a nonce sent: without one, a
    // nonce fault would test nothing, so it does not strike (nor count).
    let idp = MockIdp::start().await;
    for id in [FaultId::NonceMismatch, FaultId::NonceMissing] {
        let guard = idp.arm(Fault::new(id).for_user(ALICE)).unwrap();
        let c = browser();
        let (verifier, challenge) = pkce();
        let mut params = code_params(&challenge);
        params.retain(|(k, _)| *k != "nonce");
        let resp = sign_in(
            &c,
            &authorize_url(&idp, "default", &params),
            ALICE,
            ALICE_PW,
        )
        .await;
        let code = query(&location(&resp), "code").unwrap();
        let body: Value = redeem(&idp, &c, "default", &code, &verifier)
            .await
            .json()
            .await
            .unwrap();
        let id_token = claims(body["id_token"].as_str().unwrap());
        assert!(!id_token.contains_key("nonce"), "{id}: {id_token:?}");
        assert_eq!(guard.fired(), 0, "{id} did not strike");
        // With a nonce, it does.
        let tokens = alice_tokens(&idp, &browser(), "default").await;
        let with = claims(tokens["id_token"].as_str().unwrap());
        assert_ne!(
            with.get("nonce").and_then(Value::as_str),
            Some("nonce-0123456789abcdef"),
            "{id}"
        );
        assert_eq!(guard.fired(), 1, "{id} struck once");
    }
}
