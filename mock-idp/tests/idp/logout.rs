//! Channel logout seen from a relying party: the logout tokens the IdP POSTs to a real
//! listener, checked with the `jsonwebtoken` crate against the published JWKS, the
//! front-channel iframes of its logout page, and each logout fault's one change.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use mock_idp::faults::{CATALOG, Strikes};
use mock_idp::{Endpoint, Fault, FaultId, MockIdp};
use serde_json::{Map, Value};

use crate::common::*;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A relying party's back-channel endpoint: records each `logout_token`, answers `status`.
struct Listener {
    url: String,
    tokens: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listener(status: u16) -> Listener {
    type Seen = Arc<Mutex<Vec<String>>>;
    async fn post(
        State((seen, status)): State<(Seen, u16)>,
        axum::Form(f): axum::Form<std::collections::HashMap<String, String>>,
    ) -> axum::http::StatusCode {
        seen.lock()
            .unwrap()
            .push(f.get("logout_token").cloned().unwrap_or_default());
        axum::http::StatusCode::from_u16(status).unwrap()
    }
    let tokens: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/bcl", axum::routing::post(post))
        .with_state((tokens.clone(), status));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bcl", l.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(l, app).await.unwrap();
    });
    Listener { url, tokens, task }
}

/// The web client, changed by `change`.
fn change_web(idp: &MockIdp, change: impl FnOnce(&mut mock_idp::Client)) {
    let mut c = idp
        .tenant()
        .clients
        .into_iter()
        .find(|c| c.client_id == WEB)
        .unwrap();
    change(&mut c);
    idp.upsert_client(c).unwrap();
}

/// The web client, registered for back-channel logout at `bcl` and front-channel at
/// `fcl` (either may be absent).
fn register(idp: &MockIdp, bcl: Option<&str>, fcl: Option<&str>) {
    change_web(idp, |c| {
        c.backchannel_logout_uri = bcl.map(str::to_string);
        c.frontchannel_logout_uri = fcl.map(str::to_string);
    });
}

/// Alice signs in on the web client (the ID token's claims), then signs out at the IdP
/// (`/login/signout`): the page it answered.
async fn login_then_signout(idp: &MockIdp) -> (Map<String, Value>, String) {
    let c = browser();
    let body = alice_tokens(idp, &c, "default").await;
    let id_token = claims(body["id_token"].as_str().unwrap());
    let page = c
        .get(format!("{}/login/signout", idp.uri()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (id_token, page)
}

/// Verifies a logout token RS256 against the JWKS of `default`, with `jsonwebtoken`.
async fn verified(idp: &MockIdp, token: &str) -> Result<Map<String, Value>, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(get_json(&browser(), endpoint(idp, "default", "keys")).await)
            .unwrap();
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks.find(&kid).ok_or("kid not published")?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[WEB]);
    v.set_issuer(&[idp.issuer("default")]);
    jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn signout_posts_a_logout_token_the_rp_can_verify() {
    let idp = MockIdp::start().await;
    let rp = listener(200).await;
    register(&idp, Some(&rp.url), None);
    let discovery = get_json(
        &browser(),
        format!("{}/.well-known/openid-configuration", idp.issuer("default")),
    )
    .await;
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);
    assert!(discovery.get("frontchannel_logout_supported").is_none());
    let (id_token, _) = login_then_signout(&idp).await;
    let sid = id_token["sid"]
        .as_str()
        .expect("the ID token names the session");
    let tokens = rp.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 1, "one logout token");
    let header = jsonwebtoken::decode_header(&tokens[0]).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let c = verified(&idp, &tokens[0]).await.expect("it verifies");
    assert_eq!(c["sub"], id_token["sub"]);
    assert_eq!(c["sid"], sid);
    assert_eq!(c["events"][EVENT], Value::Object(Map::new()));
    assert!(c.get("nonce").is_none());
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let exp = c["exp"].as_i64().unwrap();
    let iat = c["iat"].as_i64().unwrap();
    assert!(exp > iat && exp - iat <= 120, "short-lived: {iat}..{exp}");
    let posts: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(Endpoint::BackchannelLogout))
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!((posts[0].status, posts[0].outcome.as_str()), (200, "ok"));
    assert!(
        !format!("{posts:?}").contains(&tokens[0]),
        "the journal keeps the decoded token, never the token"
    );
    // The session is over: the next authorize shows the sign-in page.
    let (_, challenge) = pkce();
    let again = browser()
        .get(authorize_url(&idp, "default", &code_params(&challenge)))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn an_rp_that_refuses_or_is_gone_is_journaled() {
    let idp = MockIdp::start().await;
    let rp = listener(400).await;
    register(&idp, Some(&rp.url), None);
    login_then_signout(&idp).await;
    let gone = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/bcl", l.local_addr().unwrap())
    };
    register(&idp, Some(&gone), None);
    login_then_signout(&idp).await;
    let posts: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(Endpoint::BackchannelLogout))
        .map(|e| (e.status, e.outcome, e.detail.is_some()))
        .collect();
    assert_eq!(
        posts,
        vec![
            (400, "rp_answered_400".to_string(), false),
            (0, "unreachable".to_string(), true)
        ]
    );
}

#[tokio::test]
async fn rp_initiated_logout_tells_the_rp_too() {
    let idp = MockIdp::start().await;
    let rp = listener(200).await;
    register(&idp, Some(&rp.url), None);
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let url = logout_url(&idp, body["id_token"].as_str().unwrap());
    let resp = c.get(url).send().await.unwrap();
    assert_eq!(location(&resp).as_str(), "http://127.0.0.1:8080/?state=bye");
    assert_eq!(rp.tokens.lock().unwrap().len(), 1);
}

/// What each logout token fault changes, seen by a relying party.
fn token_change(
    id: FaultId,
    header: &Map<String, Value>,
    c: &Map<String, Value>,
    base_sid: &str,
) -> bool {
    match id {
        FaultId::LogoutTokenAlgNone => header["alg"] == "none",
        FaultId::LogoutTokenHs256 => header["alg"] == "HS256",
        FaultId::LogoutTokenBadSignature => header["alg"] == "RS256",
        FaultId::LogoutTokenEventsMissing => c.get("events").is_none(),
        FaultId::LogoutTokenEventOther => c["events"]
            .as_object()
            .is_some_and(|e| !e.contains_key(EVENT) && !e.is_empty()),
        FaultId::LogoutTokenNonce => c.get("nonce").is_some(),
        FaultId::LogoutTokenAudOther => c["aud"] != WEB,
        FaultId::LogoutTokenIssOther => c["iss"]
            .as_str()
            .is_some_and(|i| !i.ends_with("/oauth2/default")),
        FaultId::LogoutTokenExpired => c["exp"].as_i64().unwrap() < chrono_now(),
        FaultId::LogoutTokenSidOnly => c.get("sub").is_none() && c["sid"] == base_sid,
        FaultId::LogoutTokenSubOnly => c.get("sid").is_none() && c.get("sub").is_some(),
        FaultId::LogoutTokenSidUnknown => c["sid"] != base_sid && c.get("sub").is_some(),
        _ => false,
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn each_logout_token_fault_changes_its_one_thing() {
    let idp = MockIdp::start().await;
    let rp = listener(200).await;
    register(&idp, Some(&rp.url), None);
    for &id in LOGOUT_TOKEN_FAULTS {
        if id == FaultId::LogoutTokenJtiReplayed {
            continue;
        }
        rp.tokens.lock().unwrap().clear();
        let guard = idp.arm(Fault::new(id).for_user(ALICE)).unwrap();
        let (id_token, _) = login_then_signout(&idp).await;
        let token = rp.tokens.lock().unwrap().pop().expect("a token");
        let (header, c) = jwt_parts(&token);
        assert!(
            token_change(id, &header, &c, id_token["sid"].as_str().unwrap()),
            "{id}: {header:?} {c:?}"
        );
        // A JWT library's checks (jsonwebtoken: RS256, the JWKS, iss, aud, exp) refuse
        // the signature and claim faults; what is left to the RP's logout checks (sub or
        // sid, events, nonce) it lets through.
        let jwt_valid = matches!(
            id,
            FaultId::LogoutTokenSidOnly
                | FaultId::LogoutTokenSubOnly
                | FaultId::LogoutTokenSidUnknown
                | FaultId::LogoutTokenEventsMissing
                | FaultId::LogoutTokenEventOther
                | FaultId::LogoutTokenNonce
        );
        assert_eq!(verified(&idp, &token).await.is_ok(), jwt_valid, "{id}");
        assert_eq!(guard.fired(), 1, "{id}: struck once");
        let last = idp
            .journal()
            .into_iter()
            .rev()
            .find(|e| e.endpoint == Some(Endpoint::BackchannelLogout))
            .unwrap();
        assert_eq!(last.faults, vec![id.as_str().to_string()], "{id}");
    }
}

fn jwt_parts(token: &str) -> (Map<String, Value>, Map<String, Value>) {
    mock_idp::jwt::decode_unverified(token).expect("a JWT")
}

#[tokio::test]
async fn a_replayed_jti_strikes_from_the_second_logout() {
    let idp = MockIdp::start().await;
    let rp = listener(200).await;
    register(&idp, Some(&rp.url), None);
    let guard = idp
        .arm(Fault::new(FaultId::LogoutTokenJtiReplayed).for_user(ALICE))
        .unwrap();
    login_then_signout(&idp).await;
    assert_eq!(guard.fired(), 0, "nothing to replay at the first logout");
    login_then_signout(&idp).await;
    assert_eq!(guard.fired(), 1);
    let tokens = rp.tokens.lock().unwrap().clone();
    let jti = |t: &str| jwt_parts(t).1["jti"].clone();
    assert_eq!(jti(&tokens[0]), jti(&tokens[1]));
}

#[tokio::test]
async fn the_signout_page_loads_front_channel_uris() {
    let idp = MockIdp::start().await;
    register(&idp, None, Some("http://127.0.0.1:8080/fcl?x=1"));
    let discovery = get_json(
        &browser(),
        format!("{}/.well-known/openid-configuration", idp.issuer("default")),
    )
    .await;
    assert_eq!(discovery["frontchannel_logout_supported"], true);
    let frame = |page: &str| -> url::Url {
        let src = page
            .split("<iframe src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("an iframe")
            .replace("&amp;", "&");
        url::Url::parse(&src).unwrap()
    };
    let (id_token, page) = login_then_signout(&idp).await;
    let u = frame(&page);
    assert_eq!(u.path(), "/fcl");
    assert_eq!(query(&u, "x").as_deref(), Some("1"));
    assert_eq!(query(&u, "iss"), Some(idp.issuer("default")));
    assert_eq!(query(&u, "sid").as_deref(), id_token["sid"].as_str());
    for id in [FaultId::FrontchannelIssOther, FaultId::FrontchannelSidOther] {
        let guard = idp.arm(Fault::new(id).for_user(ALICE)).unwrap();
        let (id_token, page) = login_then_signout(&idp).await;
        let u = frame(&page);
        let (iss, sid) = (query(&u, "iss"), query(&u, "sid"));
        match id {
            FaultId::FrontchannelIssOther => {
                assert_ne!(iss, Some(idp.issuer("default")));
                assert_eq!(sid.as_deref(), id_token["sid"].as_str());
            }
            _ => {
                assert_eq!(iss, Some(idp.issuer("default")));
                assert_ne!(sid.as_deref(), id_token["sid"].as_str());
            }
        }
        assert_eq!(guard.fired(), 1, "{id}");
    }
}

/// The faults of the logout channels, each tested above (the other logout faults have
/// their case in `fault_cases`).
pub const LOGOUT_TOKEN_FAULTS: &[FaultId] = &[
    FaultId::LogoutTokenBadSignature,
    FaultId::LogoutTokenAlgNone,
    FaultId::LogoutTokenHs256,
    FaultId::LogoutTokenEventsMissing,
    FaultId::LogoutTokenEventOther,
    FaultId::LogoutTokenNonce,
    FaultId::LogoutTokenAudOther,
    FaultId::LogoutTokenIssOther,
    FaultId::LogoutTokenExpired,
    FaultId::LogoutTokenSidOnly,
    FaultId::LogoutTokenSubOnly,
    FaultId::LogoutTokenSidUnknown,
    FaultId::LogoutTokenJtiReplayed,
];

#[test]
fn every_channel_fault_is_tested_here() {
    let channel: Vec<FaultId> = CATALOG
        .iter()
        .filter(|d| {
            d.strikes
                .iter()
                .any(|s| matches!(s, Strikes::LogoutToken | Strikes::FrontchannelLogout))
        })
        .map(|d| d.id)
        .collect();
    let mut tested: Vec<FaultId> = LOGOUT_TOKEN_FAULTS.to_vec();
    tested.extend([FaultId::FrontchannelIssOther, FaultId::FrontchannelSidOther]);
    tested.sort();
    let mut channel = channel;
    channel.sort();
    assert_eq!(tested, channel);
}

#[tokio::test]
async fn session_state_matches_the_browser_state_until_signout() {
    let idp = MockIdp::start().await;
    change_web(&idp, |c| c.session_management = true);
    let discovery = get_json(
        &browser(),
        format!("{}/.well-known/openid-configuration", idp.issuer("default")),
    )
    .await;
    let frame = discovery["check_session_iframe"].as_str().expect("offered");
    assert_eq!(frame, format!("{}/v1/check_session", idp.issuer("default")));
    // Sign in: the callback carries session_state, and the browser the state cookie.
    let c = browser();
    let (_, challenge) = pkce();
    let resp = sign_in(
        &c,
        &authorize_url(&idp, "default", &code_params(&challenge)),
        ALICE,
        ALICE_PW,
    )
    .await;
    let opbs_cookie = format!("{}_opbs=", idp.session_cookie_name());
    let opbs = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(opbs_cookie.as_str()))
        .and_then(|v| v.split(';').next())
        .expect("the browser state cookie")
        .to_string();
    let state = query(&location(&resp), "session_state").expect("session_state");
    let (hash, salt) = state.split_once('.').unwrap();
    // What the iframe computes (Session Management 1.0 3): the RP's origin from its
    // redirect URI.
    let input = format!("{WEB} http://127.0.0.1:8080 {opbs} {salt}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref()),
        hash
    );
    // The iframe's page reads that cookie; it is journaled with the user.
    let page = c.get(frame).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&opbs_cookie), "{page}");
    let loads: Vec<_> = idp
        .journal()
        .into_iter()
        .filter(|e| e.endpoint == Some(Endpoint::CheckSession))
        .collect();
    assert_eq!(loads.len(), 1);
    assert!(loads[0].user_id.is_some());
    // Signing out at the IdP expires the state cookie: the iframe then answers changed.
    let out = c
        .get(format!("{}/login/signout", idp.uri()))
        .send()
        .await
        .unwrap();
    assert!(
        out.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.starts_with(&opbs_cookie) && v.contains("Max-Age=0")),
        "the state cookie expires"
    );
}
