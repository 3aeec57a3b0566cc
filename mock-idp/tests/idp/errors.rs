//! Every error of the mock IdP issue, point 7: status, `error`, description and delivery
//! exactly as Okta sends them.

use mock_idp::{Client, Clock, MockIdp};
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::Value;

use crate::common::*;

fn without<'a>(params: &[(&'a str, &'a str)], name: &str) -> Vec<(&'a str, &'a str)> {
    params.iter().filter(|(k, _)| *k != name).cloned().collect()
}

fn with<'a>(
    params: &[(&'a str, &'a str)],
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut p = without(params, name);
    p.push((name, value));
    p
}

async fn authorize(idp: &MockIdp, params: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .get(authorize_url(idp, "default", params))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn missing_state_is_redirected_without_state() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let resp = authorize(&idp, &without(&code_params(&challenge), "state")).await;
    assert_eq!(resp.status(), 302);
    let loc = location(&resp);
    assert!(loc.as_str().starts_with(WEB_CB));
    assert_redirect_error(
        &loc,
        None,
        "invalid_request",
        "The authentication request has an invalid 'state' parameter.",
    );
}

#[tokio::test]
async fn unassigned_user_is_redirected_with_access_denied() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let resp = sign_in(
        &browser(),
        &authorize_url(&idp, "default", &code_params(&challenge)),
        "bob@example.com",
        "bob-password-1",
    )
    .await;
    assert_redirect_error(
        &location(&resp),
        Some("state-0123456789abcdef"),
        "access_denied",
        "User is not assigned to the client application.",
    );
    assert_eq!(idp.journal().last().unwrap().outcome, "user_not_assigned");
}

#[tokio::test]
async fn unknown_client_gets_the_okta_error_page() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let resp = authorize(
        &idp,
        &with(&code_params(&challenge), "client_id", "0oaNOPE"),
    )
    .await;
    assert_error_page(
        resp,
        "invalid_client",
        "Invalid value for 'client_id' parameter.",
    )
    .await;
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_the_okta_error_page() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let resp = authorize(
        &idp,
        &with(
            &code_params(&challenge),
            "redirect_uri",
            "http://127.0.0.1:8080/other",
        ),
    )
    .await;
    let admin = format!(
        "{}/admin/app/oidc_client/instance/{WEB}#tab-general",
        idp.uri()
    );
    let desc = format!(
        "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: {admin}"
    );
    assert_error_page(resp, "invalid_request", &desc).await;
}

#[tokio::test]
async fn wrong_secret_is_401_invalid_client() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .basic_auth(WEB, Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_json_error(
        resp,
        401,
        "invalid_client",
        "The client secret supplied for a confidential client is invalid.",
    )
    .await;
    // The code survives a failed authentication: the right secret still redeems it.
    assert_eq!(
        redeem(&idp, &c, "default", &code, &verifier).await.status(),
        200
    );
}

#[tokio::test]
async fn no_credentials_is_401() {
    let idp = MockIdp::start().await;
    let resp = browser()
        .post(endpoint(&idp, "default", "token"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 401, "invalid_client", "No client credentials found.").await;
}

#[tokio::test]
async fn credentials_given_twice_are_refused() {
    let idp = MockIdp::start().await;
    let resp = browser()
        .post(endpoint(&idp, "default", "token"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let text = resp.text().await.unwrap();
    assert!(
        text.starts_with("{\"error_description\""),
        "Okta sends this one description-first: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body."
    );
}

#[tokio::test]
async fn unknown_client_at_the_token_endpoint_gets_the_api_error_shape() {
    let idp = MockIdp::start().await;
    let resp = browser()
        .post(endpoint(&idp, "default", "token"))
        .basic_auth("0oaNOPE", Some("x"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errorCode"], "invalid_client");
    assert_eq!(
        body["errorSummary"],
        "Invalid value for 'client_id' parameter."
    );
    assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
}

const BAD_CODE: &str = "The authorization code is invalid or has expired.";

#[tokio::test]
async fn invalid_code_is_invalid_grant() {
    let idp = MockIdp::start().await;
    let resp = redeem(&idp, &browser(), "default", "no-such-code", "v").await;
    assert_json_error(resp, 400, "invalid_grant", BAD_CODE).await;
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let clock = Clock::frozen(1_800_000_000);
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    clock.advance(301);
    assert_json_error(
        redeem(&idp, &c, "default", &code, &verifier).await,
        400,
        "invalid_grant",
        BAD_CODE,
    )
    .await;
}

#[tokio::test]
async fn code_still_valid_just_before_300_seconds() {
    let clock = Clock::frozen(1_800_000_000);
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    clock.advance(299);
    assert_eq!(
        redeem(&idp, &c, "default", &code, &verifier).await.status(),
        200
    );
}

#[tokio::test]
async fn reused_code_is_refused_and_revokes_what_it_issued() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    let first: Value = redeem(&idp, &c, "default", &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let at = first["access_token"].as_str().unwrap();
    let before = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);
    assert_json_error(
        redeem(&idp, &c, "default", &code, &verifier).await,
        400,
        "invalid_grant",
        BAD_CODE,
    )
    .await;
    let after = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        401,
        "the access token of a replayed code is revoked"
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    let resp = web_token(
        &idp,
        &c,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_json_error(
        resp,
        400,
        "invalid_grant",
        "The refresh token is invalid or expired.",
    )
    .await;
}

#[tokio::test]
async fn redirect_uri_mismatch_at_the_token_endpoint() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    let resp = web_token(
        &idp,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:8080/callback"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_json_error(
        resp,
        400,
        "invalid_grant",
        "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
    )
    .await;
}

#[tokio::test]
async fn code_of_another_client_is_refused() {
    let idp = MockIdp::start().await;
    idp.upsert_client(Client::confidential("0oaOTHER", "other-secret", WEB_CB))
        .unwrap();
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .basic_auth("0oaOTHER", Some("other-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_json_error(resp, 400, "invalid_grant", "The grant was issued to another client. Please make sure the 'client_id' matches the one used at the authorize request.").await;
}

#[tokio::test]
async fn wrong_pkce_verifier_fails_verification() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, _) = alice_code(&idp, &c, "default").await;
    let (other, _) = pkce();
    assert_json_error(
        redeem(&idp, &c, "default", &code, &other).await,
        400,
        "invalid_grant",
        "PKCE verification failed.",
    )
    .await;
}

#[tokio::test]
async fn missing_pkce_verifier_is_required() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, _) = alice_code(&idp, &c, "default").await;
    let resp = web_token(
        &idp,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_json_error(
        resp,
        400,
        "invalid_request",
        "PKCE code verifier is required by the application.",
    )
    .await;
}

#[tokio::test]
async fn plain_pkce_challenge_is_refused() {
    let idp = MockIdp::start().await;
    let (verifier, _) = pkce();
    let resp = authorize(
        &idp,
        &with(&code_params(&verifier), "code_challenge_method", "plain"),
    )
    .await;
    assert_redirect_error(
        &location(&resp),
        Some("state-0123456789abcdef"),
        "invalid_request",
        "PKCE code challenge method is not supported. Valid values: [S256]",
    );
}

#[tokio::test]
async fn public_client_without_pkce_is_refused() {
    let idp = MockIdp::start().await;
    let params = [
        ("client_id", SPA),
        ("redirect_uri", SPA_CB),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s1"),
    ];
    let resp = authorize(&idp, &params).await;
    assert_redirect_error(
        &location(&resp),
        Some("s1"),
        "invalid_request",
        "PKCE code challenge is required by the application.",
    );
}

#[tokio::test]
async fn nonce_is_required_in_implicit_and_hybrid_flows() {
    let idp = MockIdp::start().await;
    for rt in ["id_token", "id_token token", "code id_token"] {
        let params = [
            ("client_id", WEB),
            ("redirect_uri", WEB_CB),
            ("response_type", rt),
            ("scope", "openid"),
            ("state", "s1"),
        ];
        let loc = location(&authorize(&idp, &params).await);
        assert!(loc.query().is_none(), "{rt}: delivered in the fragment");
        assert_eq!(
            fragment(&loc, "error").as_deref(),
            Some("invalid_request"),
            "{rt}"
        );
        assert_eq!(
            fragment(&loc, "error_description").as_deref(),
            Some(
                "The 'nonce' parameter is required for authorize requests with either the 'id_token' or 'token' response types.."
            ),
            "{rt}"
        );
        assert_eq!(fragment(&loc, "state").as_deref(), Some("s1"));
    }
}

#[tokio::test]
async fn unsupported_response_type_and_mode() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let base = code_params(&challenge);
    let loc = location(&authorize(&idp, &with(&base, "response_type", "code banana")).await);
    assert_redirect_error(
        &loc,
        Some("state-0123456789abcdef"),
        "unsupported_response_type",
        "The response type is not supported by the authorization server. Configured response types: [code, id_token, token, id_token token, code id_token, code token, code id_token token].",
    );
    let loc = location(&authorize(&idp, &with(&base, "response_mode", "carrier_pigeon")).await);
    assert_redirect_error(
        &loc,
        Some("state-0123456789abcdef"),
        "unsupported_response_mode",
        "The response mode is not supported by the authorization server. Valid response modes: [query, fragment, form_post, okta_post_message].",
    );
    let spa = [
        ("client_id", SPA),
        ("redirect_uri", SPA_CB),
        ("response_type", "id_token"),
        ("scope", "openid"),
        ("state", "s2"),
        ("nonce", "n"),
    ];
    let loc = location(&authorize(&idp, &spa).await);
    assert_eq!(
        fragment(&loc, "error").as_deref(),
        Some("unsupported_response_type"),
        "the SPA is configured for code only"
    );
    let query_tokens = [
        ("client_id", WEB),
        ("redirect_uri", WEB_CB),
        ("response_type", "id_token"),
        ("response_mode", "query"),
        ("scope", "openid"),
        ("state", "s3"),
        ("nonce", "n"),
    ];
    let loc = location(&authorize(&idp, &query_tokens).await);
    assert_eq!(
        fragment(&loc, "error_description").as_deref(),
        Some(
            "'query' response mode cannot be used with either the 'id_token' or 'token' response types."
        )
    );
}

#[tokio::test]
async fn invalid_scope_is_redirected() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let loc = location(
        &authorize(
            &idp,
            &with(&code_params(&challenge), "scope", "openid banana"),
        )
        .await,
    );
    assert_redirect_error(
        &loc,
        Some("state-0123456789abcdef"),
        "invalid_scope",
        "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.",
    );
    let loc = location(
        &authorize(
            &idp,
            &with(&code_params(&challenge), "scope", "profile email"),
        )
        .await,
    );
    assert_redirect_error(
        &loc,
        Some("state-0123456789abcdef"),
        "invalid_scope",
        "Requests for ID tokens or access tokens with OpenID scopes require the 'openid' scope.",
    );
}

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let loc = location(&authorize(&idp, &with(&code_params(&challenge), "prompt", "none")).await);
    assert_redirect_error(
        &loc,
        Some("state-0123456789abcdef"),
        "login_required",
        "The client specified not to prompt, but the user is not logged in.",
    );
}

#[tokio::test]
async fn userinfo_refuses_invalid_tokens_with_www_authenticate() {
    let idp = MockIdp::start().await;
    let c = browser();
    for token in ["garbage", "a.b.c"] {
        let resp = c
            .get(endpoint(&idp, "default", "userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\", error_description=\"The access token is invalid.\""
        );
        assert!(resp.text().await.unwrap().is_empty(), "empty body");
    }
    // A genuine token of another authorization server is not valid here either.
    let body = alice_tokens(&idp, &c, "org").await;
    let resp = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn userinfo_with_openid_only_is_insufficient_scope() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &idp,
        "default",
        &with(&code_params(&challenge), "scope", "openid"),
    );
    let code = query(&location(&sign_in(&c, &url, ALICE, ALICE_PW).await), "code").unwrap();
    let body: Value = redeem(&idp, &c, "default", &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let resp = c
        .get(endpoint(&idp, "default", "userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()[WWW_AUTHENTICATE],
        "Bearer error=\"insufficient_scope\", error_description=\"The access token must provide access to at least one of these scopes - profile, email, address or phone\""
    );
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uri_gets_the_error_page() {
    let idp = MockIdp::start().await;
    let c = browser();
    let body = alice_tokens(&idp, &c, "default").await;
    let mut url = url::Url::parse(&endpoint(&idp, "default", "logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", body["id_token"].as_str().unwrap())
        .append_pair(
            "post_logout_redirect_uri",
            "http://127.0.0.1:8080/elsewhere",
        );
    let resp = c.get(url).send().await.unwrap();
    assert_error_page(resp, "invalid_request", "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.").await;
}

#[tokio::test]
async fn unknown_authorization_server_is_e0000007() {
    let idp = MockIdp::start().await;
    for path in [
        "/oauth2/ausNOPE/v1/keys",
        "/oauth2/ausNOPE/.well-known/openid-configuration",
        "/oauth2/ausNOPE/v1/authorize?client_id=x",
    ] {
        let resp = browser()
            .get(format!("{}{path}", idp.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000007");
        assert_eq!(
            body["errorSummary"],
            "Not found: Resource not found: ausNOPE (AuthorizationServer)"
        );
        assert_eq!(body["errorLink"], "E0000007");
        assert_eq!(body["errorCauses"], serde_json::json!([]));
    }
    let journal = idp.journal();
    assert_eq!(journal.len(), 3, "unknown servers are journaled too");
    assert!(
        journal
            .iter()
            .all(|e| e.server == "ausNOPE" && e.status == 404 && e.outcome == "E0000007")
    );
    assert_eq!(journal[0].endpoint, Some(mock_idp::Endpoint::Keys));
}

#[tokio::test]
async fn wrong_auth_method_for_the_client_is_refused() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (code, verifier) = alice_code(&idp, &c, "default").await;
    let resp = c
        .post(endpoint(&idp, "default", "token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier.as_str()),
            ("client_id", WEB),
            ("client_secret", WEB_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_json_error(
        resp,
        401,
        "invalid_client",
        "Client authentication failed. Either the client or the client credentials are invalid.",
    )
    .await;
}
