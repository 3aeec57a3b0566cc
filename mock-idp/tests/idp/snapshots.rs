//! Snapshots of what relying parties read: both discovery documents and decoded ID and
//! access tokens. In-process, at a fixed origin, with a frozen clock; random ids redacted.

use axum::body::Body;
use axum::http::{Request, header};
use mock_idp::{Clock, MockIdp};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::*;

const ORIGIN: &str = "http://idp.example.test:9000";

fn app() -> axum::Router {
    MockIdp::builder()
        .clock(Clock::frozen(1_800_000_000))
        .into_router(ORIGIN)
}

async fn call(app: &axum::Router, req: Request<Body>) -> axum::response::Response {
    app.clone().oneshot(req).await.unwrap()
}

async fn body_text(resp: axum::response::Response) -> String {
    String::from_utf8(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

async fn get_json(app: &axum::Router, path: &str) -> Value {
    let resp = call(app, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), 200, "{path}");
    serde_json::from_str(&body_text(resp).await).unwrap()
}

#[tokio::test]
async fn discovery_documents() {
    let app = app();
    insta::assert_json_snapshot!(
        "discovery_org",
        get_json(&app, "/.well-known/openid-configuration").await
    );
    insta::assert_json_snapshot!(
        "discovery_default",
        get_json(&app, "/oauth2/default/.well-known/openid-configuration").await
    );
    insta::assert_json_snapshot!(
        "jwks_default",
        get_json(&app, "/oauth2/default/v1/keys").await
    );
}

/// Signs Alice in through the router and redeems the code; returns the token response.
async fn tokens(app: &axum::Router, server_path: &str, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let mut url = url::Url::parse(&format!("{ORIGIN}{server_path}/v1/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", WEB),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "snapshot-state"),
        ("nonce", "snapshot-nonce"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let page = call(
        app,
        Request::get(&url[url::Position::BeforePath..])
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // The sign-in form works from the browser it was shown to: send its cookie back.
    let browser = page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = form_value(&body_text(page).await, "stateToken").unwrap();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("stateToken", token.as_str()),
            ("username", ALICE),
            ("password", ALICE_PW),
        ])
        .finish();
    let resp = call(
        app,
        Request::post("/signin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, browser)
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    let loc = url::Url::parse(resp.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let code = query(&loc, "code").unwrap();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ])
        .finish();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{WEB}:{WEB_SECRET}"),
    );
    let resp = call(
        app,
        Request::post(format!("{server_path}/v1/token"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    serde_json::from_str(&body_text(resp).await).unwrap()
}

fn decoded(token: &str) -> Value {
    let (h, p) = mock_idp::jwt::decode_unverified(token).unwrap();
    json!({"header": h, "payload": p})
}

#[tokio::test]
async fn tokens_of_the_default_server() {
    let app = app();
    let body = tokens(
        &app,
        "/oauth2/default",
        "openid profile email offline_access",
    )
    .await;
    let settings = redactions();
    settings.bind(|| {
        insta::assert_json_snapshot!("token_response_default", body, {".access_token" => "[jwt]", ".id_token" => "[jwt]", ".refresh_token" => "[opaque]"});
        insta::assert_json_snapshot!("id_token_default", decoded(body["id_token"].as_str().unwrap()));
        insta::assert_json_snapshot!("access_token_default", decoded(body["access_token"].as_str().unwrap()));
    });
}

#[tokio::test]
async fn tokens_of_the_org_server() {
    let app = app();
    let body = tokens(&app, "/oauth2", "openid profile email groups").await;
    redactions().bind(|| {
        insta::assert_json_snapshot!("id_token_org", decoded(body["id_token"].as_str().unwrap()));
        insta::assert_json_snapshot!(
            "access_token_org",
            decoded(body["access_token"].as_str().unwrap())
        );
    });
}

fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_redaction(".payload.jti", "[jti]");
    s.add_redaction(".payload.at_hash", "[at_hash]");
    s
}
