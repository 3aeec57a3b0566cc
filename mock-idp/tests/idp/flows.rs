//! The flows of point 5: code + PKCE, implicit, hybrid, the response modes, refresh,
//! client credentials, client authentication styles, sessions, prompt, logout, and
//! run-time control (rotation, assignment) seen through the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mock_idp::{Client, Endpoint, MockIdp, User, jwt};
use serde_json::Value;

use crate::common::*;

fn verify_with_jwks(jwks: &Value, token: &str) -> serde_json::Map<String, Value> {
    let (header, _) = jwt::decode_unverified(token).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &v)
        .expect("signature verifies")
        .claims
}

async fn jwks(idp: &MockIdp, server: &str) -> Value {
    get_json(&browser(), endpoint(idp, server, "keys")).await
}

async fn implicit(
    idp: &MockIdp,
    c: &reqwest::Client,
    rt: &str,
    mode: Option<&str>,
) -> reqwest::Response {
    let mut params = vec![
        ("client_id", WEB),
        ("redirect_uri", WEB_CB),
        ("response_type", rt),
        ("scope", "openid profile email"),
        ("state", "st-1"),
        ("nonce", "nonce-1"),
    ];
    if let Some(m) = mode {
        params.push(("response_mode", m));
    }
    sign_in(c, &authorize_url(idp, "default", &params), ALICE, ALICE_PW).await
}

#[tokio::test]
async fn implicit_id_token_is_fat_and_signed() {
    let idp = MockIdp::start().await;
    let loc = location(&implicit(&idp, &browser(), "id_token", None).await);
    assert!(loc.query().is_none());
    let token = fragment(&loc, "id_token").unwrap();
    let claims = verify_with_jwks(&jwks(&idp, "default").await, &token);
    assert_eq!(claims["nonce"], "nonce-1");
    assert_eq!(
        claims["given_name"], "Alice",
        "no access token beside it: fat"
    );
    assert_eq!(claims["email_verified"], true);
    assert!(claims.get("at_hash").is_none());
    assert_eq!(fragment(&loc, "state").as_deref(), Some("st-1"));
}

#[tokio::test]
async fn implicit_id_token_token_is_thin_with_at_hash() {
    let idp = MockIdp::start().await;
    let loc = location(&implicit(&idp, &browser(), "id_token token", None).await);
    let at = fragment(&loc, "access_token").unwrap();
    let id = claims(&fragment(&loc, "id_token").unwrap());
    assert_eq!(id["at_hash"], jwt::half_hash(&at));
    assert!(
        id.get("given_name").is_none(),
        "thin: the rest is at /userinfo"
    );
    assert_eq!(id["name"], "Alice Anders");
    assert_eq!(fragment(&loc, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(fragment(&loc, "expires_in").as_deref(), Some("3600"));
    let access = claims(&at);
    assert_eq!(access["sub"], ALICE);
    assert_eq!(access["aud"], "api://default");
}

#[tokio::test]
async fn hybrid_code_id_token_has_c_hash_and_a_redeemable_code() {
    let idp = MockIdp::start().await;
    let c = browser();
    let loc = location(&implicit(&idp, &c, "code id_token", None).await);
    let code = fragment(&loc, "code").unwrap();
    let id = claims(&fragment(&loc, "id_token").unwrap());
    assert_eq!(id["c_hash"], jwt::half_hash(&code));
    let resp = web_token(
        &idp,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn form_post_delivers_an_auto_submitting_form() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let mut params = code_params(&challenge);
    params.push(("response_mode", "form_post"));
    let resp = sign_in(
        &browser(),
        &authorize_url(&idp, "default", &params),
        ALICE,
        ALICE_PW,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(&format!("<form method=\"post\" action=\"{WEB_CB}\">")),
        "{html}"
    );
    assert!(form_value(&html, "code").is_some());
    assert_eq!(
        form_value(&html, "state").as_deref(),
        Some("state-0123456789abcdef")
    );
    assert!(html.contains("document.forms[0].submit()"));
}

#[tokio::test]
async fn fragment_mode_for_code_and_post_message_for_tokens() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let mut params = code_params(&challenge);
    params.push(("response_mode", "fragment"));
    let loc = location(
        &sign_in(
            &browser(),
            &authorize_url(&idp, "default", &params),
            ALICE,
            ALICE_PW,
        )
        .await,
    );
    assert!(fragment(&loc, "code").is_some());
    let resp = implicit(&idp, &browser(), "id_token", Some("okta_post_message")).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("postMessage({\"id_token\":"), "{html}");
    assert!(
        html.contains("\"http://127.0.0.1:8080\""),
        "posted to the redirect URI's origin"
    );
}

#[tokio::test]
async fn wrong_password_and_inactive_user_cannot_sign_in() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&idp, "default", &code_params(&challenge));
    for (user, pw) in [
        (ALICE, "wrong"),
        ("dave@example.com", "dave-password-1"),
        ("nobody@example.com", "x"),
    ] {
        let resp = sign_in(&browser(), &url, user, pw).await;
        assert_eq!(resp.status(), 401, "{user}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("Unable to sign in"));
        assert!(
            form_value(&html, "stateToken").is_some(),
            "the form is shown again"
        );
    }
}

#[tokio::test]
async fn session_makes_the_second_login_silent_and_prompt_login_asks_again() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(&idp, "default", &code_params(&challenge));
    let first = sign_in(&c, &url, ALICE, ALICE_PW).await;
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with(&format!("mockidp_sid_{}=", idp.address().port())),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"));
    // Silent: straight back to the client with a code.
    let second = c.get(&url).send().await.unwrap();
    assert!(query(&location(&second), "code").is_some());
    // prompt=none works with a session.
    let none = c.get(format!("{url}&prompt=none")).send().await.unwrap();
    assert!(query(&location(&none), "code").is_some());
    // prompt=login shows the form, pre-filled from login_hint.
    let again = c
        .get(format!("{url}&prompt=login&login_hint=carol%40example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let html = again.text().await.unwrap();
    assert_eq!(
        form_value(&html, "username").as_deref(),
        Some("carol@example.com")
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_with_state() {
    let idp = MockIdp::start().await;
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let url = logout_url(&idp, body["id_token"].as_str().unwrap());
    let resp = c.get(url).send().await.unwrap();
    assert_eq!(location(&resp).as_str(), "http://127.0.0.1:8080/?state=bye");
    let (_, challenge) = pkce();
    let again = c
        .get(authorize_url(&idp, "default", &code_params(&challenge)))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "signed out: the sign-in page again");
}

#[tokio::test]
async fn refresh_token_grant_issues_new_tokens() {
    let idp = MockIdp::start().await;
    let c = browser();
    let first = alice_tokens(&idp, &c, "default").await;
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "token_type",
            "expires_in",
            "access_token",
            "scope",
            "refresh_token",
            "id_token"
        ]
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    let resp = web_token(
        &idp,
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["scope"], "openid email");
    assert!(second.get("id_token").is_some());
    let resp = web_token(
        &idp,
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "openid phone"),
        ],
    )
    .await;
    assert_json_error(resp, 400, "access_denied", "Some of the scopes requested for the refresh request were not granted in the original authorize request. Denied scopes: phone.").await;
}

/// Refresh tokens never expire, so the IdP keeps them up to a memory budget and then
/// forgets the oldest. The refusal of a forgotten one must say so in the journal, or a
/// long-lived IdP's memory limit would pass for the RP's mistake.
#[tokio::test]
async fn a_refresh_token_forgotten_to_keep_the_budget_is_refused_and_the_journal_says_why() {
    async fn refresh_with(idp: &MockIdp, c: &reqwest::Client, token: &str) -> reqwest::Response {
        web_token(
            idp,
            c,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
        .await
    }
    let last_token_detail = |idp: &MockIdp| {
        idp.journal()
            .into_iter()
            .rev()
            .find(|e| e.endpoint == Some(Endpoint::Token))
            .and_then(|e| e.detail)
    };
    // 16 KiB for the stores: room for about a dozen refresh tokens.
    let small = MockIdp::builder()
        .store_bytes(16 * 1024)
        .start()
        .await
        .unwrap();
    let roomy = MockIdp::start().await;
    for idp in [&small, &roomy] {
        let c = browser();
        let first = alice_tokens(idp, &c, "default").await;
        let first = first["refresh_token"].as_str().unwrap().to_string();
        let mut last = String::new();
        for _ in 0..40 {
            // A new browser each time: a new session, code and refresh token.
            last = alice_tokens(idp, &browser(), "default").await["refresh_token"]
                .as_str()
                .unwrap()
                .to_string();
        }
        assert_eq!(
            refresh_with(idp, &c, &last).await.status(),
            200,
            "the newest is kept"
        );
        // The admin API tells what the stores hold and how much they forgot.
        let memory = get_json(&c, format!("{}/_harness/memory", idp.uri())).await;
        let refresh = &memory["refresh_tokens"];
        assert!(
            refresh["bytes"].as_u64() <= refresh["max_bytes"].as_u64(),
            "{memory}"
        );
        let forgot = refresh["forgotten"].as_u64().unwrap();
        assert_eq!(forgot > 0, std::ptr::eq(idp, &small), "{memory}");
        assert!(
            memory["journal"]["entries"].as_u64().unwrap() > 0,
            "{memory}"
        );
        let resp = refresh_with(idp, &c, &first).await;
        if std::ptr::eq(idp, &small) {
            assert_json_error(
                resp,
                400,
                "invalid_grant",
                "The refresh token is invalid or expired.",
            )
            .await;
            let detail = last_token_detail(idp).expect("the refusal says why");
            assert!(
                detail.contains("forgotten the") && detail.contains("oldest"),
                "{detail}"
            );
        } else {
            assert_eq!(
                resp.status(),
                200,
                "within the default budget, the first is kept"
            );
        }
    }
    // A token the IdP never issued is refused without blaming the budget when nothing was
    // forgotten.
    let c = browser();
    let resp = refresh_with(&roomy, &c, "never-issued").await;
    assert_eq!(resp.status(), 400);
    assert_eq!(last_token_detail(&roomy), None);
}

#[tokio::test]
async fn client_credentials_on_custom_servers_only() {
    let idp = MockIdp::start().await;
    let c = browser();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", SERVICE),
        ("client_secret", SERVICE_SECRET),
        ("scope", "harness:read"),
    ];
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], SERVICE);
    assert_eq!(at["cid"], SERVICE);
    assert!(at.get("uid").is_none());
    assert_eq!(at["scp"], serde_json::json!(["harness:read"]));
    let resp = c
        .post(endpoint(&idp, "org", "token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_json_error(
        resp,
        400,
        "unsupported_grant_type",
        "'client_credentials' grant type can only be used with a custom authorization server.",
    )
    .await;
    let mut openid = form;
    openid[3] = ("scope", "openid");
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .form(&openid)
        .send()
        .await
        .unwrap();
    assert_json_error(
        resp,
        400,
        "invalid_scope",
        "Cannot request 'openid' scopes using client credentials.",
    )
    .await;
    let web = [
        ("grant_type", "client_credentials"),
        ("scope", "harness:read"),
    ];
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&web)
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 400, "unauthorized_client", "The client is not authorized to use the provided grant type. Configured grant types: [authorization_code, refresh_token, implicit].").await;
}

#[tokio::test]
async fn basic_credentials_are_form_url_decoded() {
    let idp = MockIdp::start().await;
    idp.upsert_client(Client::confidential("my-client", "p@ss word:+%", WEB_CB))
        .unwrap();
    let c = browser();
    let (verifier, challenge) = pkce();
    let mut params = code_params(&challenge);
    params[0] = ("client_id", "my-client");
    let code = query(
        &location(
            &sign_in(
                &c,
                &authorize_url(&idp, "default", &params),
                ALICE,
                ALICE_PW,
            )
            .await,
        ),
        "code",
    )
    .unwrap();
    // RFC 6749 2.3.1: id and secret are form-urlencoded before base64 (as express-openid-connect does).
    let encoded = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "my%2Dclient:p%40ss+word%3A%2B%25",
    );
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .header("authorization", format!("Basic {encoded}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

#[tokio::test]
async fn public_client_uses_pkce_and_no_secret() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (verifier, challenge) = pkce();
    let params = [
        ("client_id", SPA),
        ("redirect_uri", SPA_CB),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "spa-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = query(
        &location(
            &sign_in(
                &c,
                &authorize_url(&idp, "default", &params),
                ALICE,
                ALICE_PW,
            )
            .await,
        ),
        "code",
    )
    .unwrap();
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .header("origin", "http://127.0.0.1:8081")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", SPA_CB),
            ("code_verifier", verifier.as_str()),
            ("client_id", SPA),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8081",
        "trusted origin gets CORS"
    );
    let entry = idp
        .journal()
        .into_iter()
        .rev()
        .find(|e| e.endpoint == Some(Endpoint::Token))
        .unwrap();
    assert_eq!(entry.client_auth.as_deref(), Some("none"));
    // Okta's browser SDK names a public client to /revoke as `Basic base64(client_id)`,
    // with no colon and no secret; the token endpoint takes no such header.
    let body: Value = resp.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap();
    let bare = format!("Basic {}", STANDARD.encode(SPA));
    let revoked = c
        .post(endpoint(&idp, "default", "revoke"))
        .header("authorization", &bare)
        .form(&[("token", at), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200, "{}", revoked.text().await.unwrap());
    let userinfo = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "the token was revoked");
    let token = c
        .post(endpoint(&idp, "default", "token"))
        .header("authorization", &bare)
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);
    let error: Value = token.json().await.unwrap();
    assert_eq!(error["error"], "invalid_client");
}

#[tokio::test]
async fn introspect_and_revoke() {
    let idp = MockIdp::start().await;
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let at = body["access_token"].as_str().unwrap();
    let introspect = |token: String| {
        let c = c.clone();
        let url = endpoint(&idp, "default", "introspect");
        async move {
            let r = c
                .post(url)
                .basic_auth(WEB, Some(WEB_SECRET))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let active = introspect(at.to_string()).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["username"], ALICE);
    assert_eq!(active["client_id"], WEB);
    let resp = c
        .post(endpoint(&idp, "default", "revoke"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().is_empty());
    assert_eq!(
        introspect(at.to_string()).await,
        serde_json::json!({"active": false})
    );
    let userinfo = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    let unknown = c
        .post(endpoint(&idp, "default", "revoke"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        200,
        "Okta answers 200 even for unknown tokens"
    );
}

#[tokio::test]
async fn userinfo_claims_in_oktas_order() {
    let idp = MockIdp::start().await;
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let info: Value = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "sub",
            "name",
            "locale",
            "email",
            "preferred_username",
            "given_name",
            "family_name",
            "zoneinfo",
            "email_verified",
            "groups"
        ]
    );
    assert_eq!(
        info["groups"],
        serde_json::json!(["Everyone", "Engineering"])
    );
}

#[tokio::test]
async fn journal_ties_authorize_to_token() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    redeem(&idp, &c, "default", &code, &verifier).await;
    let journal = idp.journal();
    let signin = journal
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::SignIn))
        .unwrap();
    let token = journal
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::Token))
        .unwrap();
    let authz = journal
        .iter()
        .find(|e| e.endpoint == Some(Endpoint::Authorize))
        .unwrap();
    assert_eq!(authz.state.as_deref(), Some("state-0123456789abcdef"));
    assert_eq!(authz.nonce.as_deref(), Some("nonce-0123456789abcdef"));
    assert_eq!(authz.pkce.as_deref(), Some("S256"));
    assert_eq!(authz.redirect_uri.as_deref(), Some(WEB_CB));
    assert_eq!(
        signin.code_ref, token.code_ref,
        "the code issued is the code redeemed"
    );
    assert!(
        signin
            .code_ref
            .as_deref()
            .is_some_and(|r| !code.contains(r)),
        "the journal never holds the code"
    );
    assert_eq!(token.client_auth.as_deref(), Some("client_secret_basic"));
    assert_eq!(token.user_id, signin.user_id);
    assert_eq!(token.outcome, "ok");
    let text = serde_json::to_string(&journal).unwrap();
    assert!(
        !text.contains(&code) && !text.contains(WEB_SECRET) && !text.contains(ALICE_PW),
        "no secrets in the journal"
    );
}

#[tokio::test]
async fn key_rotation_keeps_or_drops_the_old_key() {
    let idp = MockIdp::start().await;
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let at = body["access_token"].as_str().unwrap();
    let old_kid = jwt::decode_unverified(at).unwrap().0["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let next_kid = jwks(&idp, "default").await["keys"][1]["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let new_kid = idp.rotate_keys("default", true).unwrap();
    assert_eq!(new_kid, next_kid, "the published next key becomes active");
    let kids: Vec<String> = jwks(&idp, "default").await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid));
    assert_eq!(
        c.get(endpoint(&idp, "default", "userinfo"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    idp.rotate_keys("default", false).unwrap();
    let kids = jwks(&idp, "default").await.to_string();
    assert!(!kids.contains(&old_kid));
    assert_eq!(
        c.get(endpoint(&idp, "default", "userinfo"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // The org server's keys did not move.
    assert!(!jwks(&idp, "org").await.to_string().contains(&new_kid));
}

#[tokio::test]
async fn assignment_changes_at_run_time() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&idp, "default", &code_params(&challenge));
    idp.assign(WEB, "bob@example.com").unwrap();
    assert!(
        query(
            &location(&sign_in(&browser(), &url, "bob@example.com", "bob-password-1").await),
            "code"
        )
        .is_some()
    );
    idp.unassign(WEB, "bob@example.com").unwrap();
    let loc = location(&sign_in(&browser(), &url, "bob@example.com", "bob-password-1").await);
    assert_eq!(query(&loc, "error").as_deref(), Some("access_denied"));
    idp.upsert_user(User::new("erin@example.com", "erin-pw"))
        .unwrap();
    idp.assign(WEB, "erin@example.com").unwrap();
    assert!(
        query(
            &location(&sign_in(&browser(), &url, "erin@example.com", "erin-pw").await),
            "code"
        )
        .is_some()
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let idp = MockIdp::start().await;
    let addr = idp.address();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(idp);
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "the port is closed after drop");
}

#[tokio::test]
async fn a_clients_access_token_lifetime_is_its_tokens_life() {
    let idp = MockIdp::start().await;
    let mut service = idp.tenant().client(SERVICE).unwrap().clone();
    service.access_token_lifetime_secs = Some(7);
    idp.upsert_client(service).unwrap();
    let resp = browser()
        .post(endpoint(&idp, "default", "token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", SERVICE),
            ("client_secret", SERVICE_SECRET),
            ("scope", "harness:read"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 7);
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(), 7);
    // Zero is no lifetime: refused, naming the field.
    let mut zero = idp.tenant().client(SERVICE).unwrap().clone();
    zero.access_token_lifetime_secs = Some(0);
    let err = idp.upsert_client(zero).unwrap_err().to_string();
    assert!(err.contains("access_token_lifetime_secs"), "{err}");
}
