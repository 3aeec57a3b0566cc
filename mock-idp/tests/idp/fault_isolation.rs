//! Isolation: 50+ logins at once, by as many users, each with a different fault aimed at that
//! user. Every flow must see its own fault, exactly as the single-fault case says, and
//! the journal must show no other fault on that user's requests.

use std::sync::Arc;

use mock_idp::faults::{Fault, FaultId};
use mock_idp::{Clock, MockIdp, User};
use serde_json::{Value, json};

use crate::fault_cases::{Case, NOW, cases, check, observe};

const PASSWORD: &str = "isolation-password";

/// At least fifty (case, fault) pairs: every fault that can be aimed at one user (but
/// `kid-absent-single-key`, which trims the JWKS for everyone while armed), plus
/// parameter variants.
fn fifty() -> Vec<(Case, Fault)> {
    let mut out = Vec::new();
    for c in cases() {
        if c.fault.id.affects_everyone() {
            continue;
        }
        let mut f = c.fault.clone();
        if f.id == FaultId::TokenEndpointSlow {
            f = f.param("200");
        }
        out.push((c, f));
    }
    let variant = |id: FaultId, param: &str, pointer: &'static str, want: Value| {
        let mut c = cases().into_iter().find(|c| c.fault.id == id).unwrap();
        c.after = vec![(pointer, want)];
        (c, Fault::new(id).param(param))
    };
    for e in [
        "access_denied",
        "login_required",
        "consent_required",
        "interaction_required",
        "temporarily_unavailable",
    ] {
        out.push(variant(FaultId::IdpError, e, "/callback/error", json!(e)));
    }
    for s in [502, 503] {
        out.push(variant(
            FaultId::TokenEndpoint5xx,
            &s.to_string(),
            "/token/status",
            json!(s),
        ));
    }
    out.push(variant(
        FaultId::AudMismatch,
        "0oaIsolationAudience",
        "/token/body/id_token/payload/aud",
        json!("0oaIsolationAudience"),
    ));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_logins_each_see_only_their_own_fault() {
    let plan = fifty();
    assert!(plan.len() >= 50, "at least fifty different faults");
    let idp = Arc::new(
        MockIdp::builder()
            .clock(Clock::frozen(NOW))
            .start()
            .await
            .unwrap(),
    );
    crate::fault_cases::add_app_claims(&idp);
    let logins: Vec<String> = (0..plan.len())
        .map(|i| format!("user{i:02}@example.com"))
        .collect();
    for login in &logins {
        let mut u = User::new(login, PASSWORD);
        u.groups = vec!["Engineering".into()];
        u.profile.given_name = Some("Iso".into());
        idp.upsert_user(u).unwrap();
    }
    let run_all = |idp: Arc<MockIdp>| {
        let flows: Vec<_> = plan.iter().map(|(c, _)| c.flow).collect();
        let logins = logins.clone();
        async move {
            let mut set = tokio::task::JoinSet::new();
            for (i, (flow, login)) in flows.into_iter().zip(logins).enumerate() {
                let idp = idp.clone();
                set.spawn(async move { (i, observe(&idp, flow, &login, PASSWORD).await) });
            }
            let mut out = vec![Value::Null; set.len()];
            while let Some(r) = set.join_next().await {
                let (i, obs) = r.unwrap();
                out[i] = obs;
            }
            out
        }
    };
    let bases = run_all(idp.clone()).await;
    let before = idp.journal().last().map_or(0, |e| e.seq);
    for ((_, fault), login) in plan.iter().zip(&logins) {
        idp.arm(fault.clone().for_user(login.clone()))
            .unwrap()
            .keep();
    }
    let faulted = run_all(idp.clone()).await;
    let journal = idp.journal_since(before);
    let tenant = idp.tenant();
    for (i, ((case, fault), login)) in plan.iter().zip(&logins).enumerate() {
        if let Err(e) = check(case, &bases[i], &faulted[i]) {
            panic!(
                "{login} with {fault}: {e}\nbase:    {}\nfaulted: {}",
                bases[i], faulted[i]
            );
        }
        let uid = &tenant.user(login).unwrap().id;
        let seen: Vec<&String> = journal
            .iter()
            .filter(|e| e.user_id.as_ref() == Some(uid))
            .flat_map(|e| &e.faults)
            .collect();
        assert!(
            !seen.is_empty(),
            "{login}: the journal shows {fault} firing"
        );
        assert!(
            seen.iter().all(|f| **f == fault.label()),
            "{login} saw {seen:?}, armed only {}",
            fault.label()
        );
    }
    assert!(
        journal
            .iter()
            .filter(|e| e.user_id.is_none())
            .all(|e| e.faults.is_empty()),
        "no fault on requests of nobody"
    );
}
