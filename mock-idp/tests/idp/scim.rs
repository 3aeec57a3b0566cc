//! Provisioning against a SCIM server nobody here wrote: scim2-server (PyPI, pinned in
//! `fixtures/scim-server/`), which validates every request against RFC 7643/7644. Every
//! request the IdP sends must be accepted, and the resources read back must be what the
//! IdP meant.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mock_idp::scim::{ScimOp, ScimTarget};
use mock_idp::{Endpoint, MockIdp, Secret, Tenant};
use serde_json::Value;

use crate::common::*;

const TOKEN: &str = "scim-token-for-tests-only";

/// The faults `provisioning_faults_send_what_they_say_and_a_real_server_answers_as_rfc_7644_says`
/// covers.
pub const PROVISIONING_FAULTS: [mock_idp::FaultId; 4] = [
    mock_idp::FaultId::ScimDuplicateCreate,
    mock_idp::FaultId::ScimRetryAfterTimeout,
    mock_idp::FaultId::ScimEmailOmitted,
    mock_idp::FaultId::ScimUsernameShort,
];

/// A running scim2-server; stopped when dropped.
struct ScimServer {
    child: Child,
    base: String,
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port for the SCIM server, below the kernel's ephemeral range (from 32768): a port
/// bind(0) picks can be taken as an outgoing connection's source port before the server
/// binds it. 12000-19199, 120 per test process (the harness's tests use 20000-31999).
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 12_000 + (std::process::id() % 60) as u16 * 120;
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

/// Starts scim2-server (installing it on first use) and waits until it answers.
async fn scim_server() -> ScimServer {
    let port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/scim-server/run.sh"
    );
    let child = Command::new(script)
        .args(["--port", &port.to_string(), "--bearer-token", TOKEN])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("fixtures/scim-server/run.sh starts");
    let server = ScimServer {
        child,
        base: format!("http://127.0.0.1:{port}/v2"),
    };
    // The first run installs it (pip, with retries): up to a few minutes.
    let deadline = Instant::now() + Duration::from_secs(300);
    let http = reqwest::Client::new();
    loop {
        let ready = http
            .get(format!("{}/ServiceProviderConfig", server.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return server;
        }
        assert!(Instant::now() < deadline, "scim2-server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn target(base: &str) -> ScimTarget {
    let mut t = ScimTarget::new(base);
    t.authorization = Some(Secret::new(format!("Bearer {TOKEN}")));
    t.retry_ms = 50;
    t
}

async fn get(base: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The tenant's journal of SCIM requests: (method and path, status, outcome).
fn scim_journal(idp: &MockIdp) -> Vec<(String, u16, String)> {
    idp.journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(Endpoint::Scim))
        .map(|e| (e.detail.unwrap_or_default(), e.status, e.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_groups_reach_a_real_scim_server_as_the_idp_meant() {
    let server = scim_server().await;
    let mut tenant = Tenant::fixture();
    for u in tenant.users.iter_mut() {
        u.groups.push("harness-admins".into());
    }
    let idp = MockIdp::builder().tenant(tenant).start().await.unwrap();
    let t = target(&server.base);
    let users: Vec<String> = idp.tenant().users.iter().map(|u| u.login.clone()).collect();
    assert!(users.len() >= 2, "the fixture tenant has users");
    // Okta pushes the active members of a group.
    let active = idp.tenant().users.iter().filter(|u| u.active).count();

    // Every user: created, then (provisioned again) replaced, not duplicated.
    for login in &users {
        let op = ScimOp::Provision {
            user: login.clone(),
        };
        let first = idp.scim(&t, &op).await.unwrap();
        let again = idp.scim(&t, &op).await.unwrap();
        assert_eq!(first.id, again.id, "{login}: one resource");
    }
    let list = get(&server.base, "/Users").await;
    assert_eq!(list["totalResults"], users.len());
    let alice = get(
        &server.base,
        &format!(
            "/Users?filter=userName%20eq%20%22{}%22",
            ALICE.replace('@', "%40")
        ),
    )
    .await;
    let alice = &alice["Resources"][0];
    let ours = idp.tenant().user(ALICE).cloned().unwrap();
    assert_eq!(alice["externalId"], ours.id.as_str());
    assert_eq!(alice["active"], true);
    assert_eq!(alice["emails"][0]["value"], ALICE);
    assert!(alice.get("password").is_none());

    // The group, with every user a member.
    let pushed = idp
        .scim(
            &t,
            &ScimOp::PushGroup {
                group: "harness-admins".into(),
            },
        )
        .await
        .unwrap();
    let gid = pushed.id.unwrap();
    let group = get(&server.base, &format!("/Groups/{gid}")).await;
    assert_eq!(group["displayName"], "harness-admins");
    assert_eq!(group["members"].as_array().unwrap().len(), active);

    // Alice leaves the group: the push removes her.
    let mut alice_user = ours.clone();
    alice_user.groups.retain(|g| g != "harness-admins");
    idp.upsert_user(alice_user).unwrap();
    idp.scim(
        &t,
        &ScimOp::PushGroup {
            group: "harness-admins".into(),
        },
    )
    .await
    .unwrap();
    let group = get(&server.base, &format!("/Groups/{gid}")).await;
    let members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["display"].as_str().or(m["value"].as_str()))
        .collect();
    assert_eq!(members.len(), active - 1, "{members:?}");

    // Deprovisioning deactivates (Okta's default), and deletes where the app wants it.
    let alice_id = alice["id"].as_str().unwrap().to_string();
    idp.scim(&t, &ScimOp::Deprovision { user: ALICE.into() })
        .await
        .unwrap();
    let after = get(&server.base, &format!("/Users/{alice_id}")).await;
    assert_eq!(after["active"], false);
    let mut deleting = t.clone();
    deleting.delete = true;
    idp.scim(&deleting, &ScimOp::Deprovision { user: ALICE.into() })
        .await
        .unwrap();
    let gone = reqwest::Client::new()
        .get(format!("{}/Users/{alice_id}", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // Every request was accepted, and each is in the journal.
    let journal = scim_journal(&idp);
    assert!(journal.len() >= 10, "{journal:?}");
    let refused: Vec<_> = journal.iter().filter(|(_, s, _)| *s >= 400).collect();
    assert!(refused.is_empty(), "scim2-server refused: {refused:?}");
    assert!(
        journal
            .iter()
            .any(|(d, _, _)| d.starts_with("PATCH /Users/"))
    );
    assert!(
        journal
            .iter()
            .any(|(d, _, _)| d.starts_with("POST /Groups"))
    );
    // The token never reaches the journal.
    let all = serde_json::to_string(&idp.journal()).unwrap();
    assert!(!all.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_names_the_request_and_a_missing_server_is_retried() {
    let server = scim_server().await;
    let idp = MockIdp::builder().start().await.unwrap();
    // A wrong token: 401, said with the request.
    let mut wrong = target(&server.base);
    wrong.authorization = Some(Secret::new("Bearer not-the-token"));
    let err = idp
        .scim(&wrong, &ScimOp::Provision { user: ALICE.into() })
        .await
        .unwrap_err();
    assert!(err.0.contains("GET ") && err.0.contains("401"), "{err}");
    // Nobody listening: three tries, then the error.
    let gone = target(&format!("http://127.0.0.1:{}/v2", free_port()));
    let err = idp
        .scim(&gone, &ScimOp::Provision { user: ALICE.into() })
        .await
        .unwrap_err();
    assert!(err.0.contains("no answer after 3 tries"), "{err}");
    let unreachable = scim_journal(&idp)
        .into_iter()
        .filter(|(_, _, o)| o == "unreachable")
        .count();
    assert_eq!(unreachable, 3);
    // A user the tenant does not have.
    let err = idp
        .scim(
            &target(&server.base),
            &ScimOp::Provision {
                user: "nobody".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.0.contains("no user `nobody`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_provisions_and_says_what_failed() {
    let server = scim_server().await;
    let idp = MockIdp::builder().start().await.unwrap();
    let http = reqwest::Client::new();
    let admin = format!("{}/_harness/scim", idp.uri());
    let post = |body: Value| {
        http.post(&admin)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let target =
        serde_json::json!({"url": server.base, "authorization": format!("Bearer {TOKEN}")});
    let r = post(serde_json::json!({"target": target, "op": "provision", "user": ALICE}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert!(out["id"].is_string(), "{out}");
    assert_eq!(out["requests"], 2, "a look-up and a create: {out}");
    // The app refuses: 502, with the request.
    let wrong =
        serde_json::json!({"url": server.base, "authorization": "Bearer wrong", "retry_ms": 10});
    let r = post(serde_json::json!({"target": wrong, "op": "deprovision", "user": ALICE}))
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("401"));
    // An operation it does not know: 400.
    let r = post(serde_json::json!({"target": target, "op": "rename", "user": ALICE}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_tried_again_and_a_4xx_is_not() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    // An app whose POST /Users answers 503 the first time, then 201; and 409 for one user.
    let posts = Arc::new(AtomicU32::new(0));
    let seen = posts.clone();
    let app = axum::Router::new()
        .route(
            "/v2/Users",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": 0, "Resources": []
                }))
            })
            .post(move |body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let user: Value = serde_json::from_slice(&body).unwrap();
                    if user["userName"] == "bob@example.com" {
                        return (
                            axum::http::StatusCode::CONFLICT,
                            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}"#,
                        );
                    }
                    if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "");
                    }
                    (axum::http::StatusCode::CREATED, r#"{"id":"u1"}"#)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let idp = MockIdp::builder().start().await.unwrap();
    let t = target(&base);
    let out = idp
        .scim(&t, &ScimOp::Provision { user: ALICE.into() })
        .await
        .unwrap();
    assert_eq!(out.id.as_deref(), Some("u1"));
    assert_eq!(out.requests, 3, "a look-up, a 503, the retry");
    let err = idp
        .scim(
            &t,
            &ScimOp::Provision {
                user: "bob@example.com".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.0.contains("answered 409: taken"), "{err}");
    let outcomes: Vec<String> = scim_journal(&idp).into_iter().map(|(_, _, o)| o).collect();
    assert_eq!(
        outcomes,
        ["ok", "scim_503", "ok", "ok", "scim_409_uniqueness"],
        "the 409 is not tried again"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_faults_send_what_they_say_and_a_real_server_answers_as_rfc_7644_says() {
    use mock_idp::{Fault, FaultId};
    let server = scim_server().await;
    let idp = MockIdp::builder()
        .tenant(Tenant::fixture())
        .start()
        .await
        .unwrap();
    let t = target(&server.base);
    let provision = |user: &str| ScimOp::Provision { user: user.into() };
    let by_name = |name: &str| {
        format!(
            "/Users?filter=userName%20eq%20%22{}%22",
            name.replace('@', "%40")
        )
    };

    // A create of a user the app has: refused 409 `uniqueness` (RFC 7644 3.3), after
    // which the IdP finds and replaces the user. One account.
    let first = idp.scim(&t, &provision(ALICE)).await.unwrap();
    let _g = idp
        .arm(Fault::new(FaultId::ScimDuplicateCreate).for_user(ALICE))
        .unwrap();
    let again = idp.scim(&t, &provision(ALICE)).await.unwrap();
    assert_eq!(first.id, again.id);
    let dup: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.faults.iter().any(|f| f == "scim-duplicate-create"))
        .collect();
    assert_eq!(dup.len(), 1, "{dup:?}");
    assert_eq!(dup[0].detail.as_deref(), Some("POST /Users"));
    assert_eq!(dup[0].status, 409);
    assert_eq!(dup[0].outcome, "scim_409_uniqueness");
    assert_eq!(get(&server.base, &by_name(ALICE)).await["totalResults"], 1);

    // A create whose answer is dropped and sent again: the second is the duplicate.
    let bob = idp
        .tenant()
        .users
        .iter()
        .find(|u| u.login != ALICE)
        .unwrap()
        .clone();
    let _g = idp
        .arm(Fault::new(FaultId::ScimRetryAfterTimeout).for_user(&bob.login))
        .unwrap();
    idp.scim(&t, &provision(&bob.login)).await.unwrap();
    let retry: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.faults.iter().any(|f| f == "scim-retry-after-timeout"))
        .map(|e| (e.detail.unwrap_or_default(), e.status, e.outcome))
        .collect();
    assert_eq!(
        retry,
        vec![
            ("POST /Users".to_string(), 201, "answer_dropped".to_string()),
            (
                "POST /Users".to_string(),
                409,
                "scim_409_uniqueness".to_string()
            ),
        ]
    );
    assert_eq!(
        get(&server.base, &by_name(&bob.login)).await["totalResults"],
        1
    );

    // Without emails, and under the login's prefix: accepted as sent, and deprovisioned
    // under the same name while the fault is armed.
    let mut carol = mock_idp::User::new("carol.short@example.com", "pw-unused-here");
    carol.profile.email = Some("carol.short@example.com".into());
    idp.upsert_user(carol).unwrap();
    let _g1 = idp
        .arm(Fault::new(FaultId::ScimEmailOmitted).for_user("carol.short@example.com"))
        .unwrap();
    let _g2 = idp
        .arm(Fault::new(FaultId::ScimUsernameShort).for_user("carol.short@example.com"))
        .unwrap();
    let made = idp
        .scim(&t, &provision("carol.short@example.com"))
        .await
        .unwrap();
    let sent = get(
        &server.base,
        &format!("/Users/{}", made.id.clone().unwrap()),
    )
    .await;
    assert_eq!(sent["userName"], "carol.short");
    assert!(sent.get("emails").is_none(), "{sent}");
    idp.scim(
        &t,
        &ScimOp::Deprovision {
            user: "carol.short@example.com".into(),
        },
    )
    .await
    .unwrap();
    let after = get(&server.base, &format!("/Users/{}", made.id.unwrap())).await;
    assert_eq!(after["active"], false);

    // A group pushed before its member is provisioned: Okta skips the member and says
    // so; pushed again once the member exists, the group has them.
    let mut dave = mock_idp::User::new("dave.late@example.com", "pw-unused-here");
    dave.groups.push("late-group".into());
    idp.upsert_user(dave).unwrap();
    let push = ScimOp::PushGroup {
        group: "late-group".into(),
    };
    let early = idp.scim(&t, &push).await.unwrap();
    assert_eq!(early.skipped, vec!["dave.late@example.com".to_string()]);
    let dave_id = idp
        .scim(&t, &provision("dave.late@example.com"))
        .await
        .unwrap()
        .id
        .unwrap();
    let late = idp.scim(&t, &push).await.unwrap();
    assert!(late.skipped.is_empty());
    let group = get(&server.base, &format!("/Groups/{}", late.id.unwrap())).await;
    assert_eq!(group["members"][0]["value"], dave_id.as_str(), "{group}");

    // The real server accepted everything but the duplicates.
    let refused: Vec<_> = scim_journal(&idp)
        .into_iter()
        .filter(|(_, s, _)| *s >= 400)
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
}
