//! What every test needs: an HTTP client that follows nothing, a browser-like sign-in,
//! PKCE values, and readers for redirects and pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_idp::{MockIdp, jwt};
use reqwest::header::LOCATION;
use serde_json::Value;
use url::Url;

pub const WEB: &str = "0oa1harnessweb00000";
pub const WEB_SECRET: &str = "harness-web-secret-0000000000000000000000";
pub const WEB_CB: &str = "http://127.0.0.1:8080/callback";
pub const SPA: &str = "0oa1harnessspa00000";
pub const SPA_CB: &str = "http://127.0.0.1:8081/callback";
pub const SERVICE: &str = "0oa1harnessservice0";
pub const SERVICE_SECRET: &str = "harness-service-secret-00000000000000000";
pub const ALICE: &str = "alice@example.com";
pub const ALICE_PW: &str = "correct horse battery staple";

/// A client that never follows redirects (every hop is asserted) and keeps cookies.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The same, trusting `ca_pem`.
pub fn browser_trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(10))
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// A fresh (verifier, S256 challenge) pair.
pub fn pkce() -> (String, String) {
    let verifier = mock_idp::ids::random_b64(32);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

/// The authorization endpoint with `params` (Okta: `{issuer}/v1/authorize`; the
/// personality's own path otherwise).
pub fn authorize_url(idp: &MockIdp, server: &str, params: &[(&str, &str)]) -> String {
    let base = endpoint(idp, server, "authorize");
    let mut url = Url::parse(&base).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// An endpoint of a server by its Okta name (`token`, `keys`…), as the IdP's
/// personality spells it (Okta: `{issuer}/v1/{name}`).
pub fn endpoint(idp: &MockIdp, server: &str, name: &str) -> String {
    use mock_idp::Endpoint as E;
    let e = match name {
        "authorize" => E::Authorize,
        "token" => E::Token,
        "keys" => E::Keys,
        "userinfo" => E::Userinfo,
        "introspect" => E::Introspect,
        "revoke" => E::Revoke,
        "logout" => E::Logout,
        "check_session" => E::CheckSession,
        other => panic!("no endpoint {other}"),
    };
    idp.endpoint_url(server, e)
        .unwrap_or_else(|| panic!("{} has no {name} endpoint", idp.personality()))
}

/// The standard code-flow parameters for the web client, with a state and nonce.
pub fn code_params(challenge: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", WEB),
        ("redirect_uri", WEB_CB),
        ("response_type", "code"),
        ("scope", "openid profile email offline_access"),
        ("state", "state-0123456789abcdef"),
        ("nonce", "nonce-0123456789abcdef"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// The value of input `name` in an HTML page.
pub fn form_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Opens `authorize_url`, expects the sign-in page, submits the credentials, and returns
/// the IdP's answer to the form.
pub async fn sign_in(
    client: &reqwest::Client,
    authorize_url: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = client.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200, "expected the sign-in page");
    let origin = {
        let u = Url::parse(authorize_url).unwrap();
        u.origin().ascii_serialization()
    };
    let html = page.text().await.unwrap();
    let token = form_value(&html, "stateToken").expect("sign-in page has a stateToken");
    client
        .post(format!("{origin}/signin"))
        .form(&[
            ("stateToken", token.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// The Location of a redirect.
pub fn location(resp: &reqwest::Response) -> Url {
    assert!(
        resp.status().is_redirection(),
        "expected a redirect, got {}",
        resp.status()
    );
    Url::parse(resp.headers()[LOCATION].to_str().unwrap()).unwrap()
}

/// A query parameter of a URL.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A fragment parameter of a URL.
pub fn fragment(url: &Url, name: &str) -> Option<String> {
    url::form_urlencoded::parse(url.fragment()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Signs Alice in on the web client and returns the code and the PKCE verifier.
pub async fn alice_code(idp: &MockIdp, client: &reqwest::Client, server: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(idp, server, &code_params(&challenge));
    let resp = sign_in(client, &url, ALICE, ALICE_PW).await;
    let loc = location(&resp);
    (query(&loc, "code").expect("a code"), verifier)
}

/// Signs Alice in on the web client and redeems the code: the token response.
pub async fn alice_tokens(idp: &MockIdp, client: &reqwest::Client, server: &str) -> Value {
    let (code, verifier) = alice_code(idp, client, server).await;
    let resp = redeem(idp, client, server, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// POSTs a token request with Basic credentials of the web client.
pub async fn redeem(
    idp: &MockIdp,
    client: &reqwest::Client,
    server: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    client
        .post(endpoint(idp, server, "token"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

/// POSTs `form` to the default server's token endpoint with the web client's Basic credentials.
pub async fn web_token(
    idp: &MockIdp,
    client: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(endpoint(idp, "default", "token"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// GETs `url` and parses the JSON answer.
pub async fn get_json(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Sends a request and returns the HTTP status.
pub async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.unwrap().status().as_u16()
}

/// Decodes a JWT's payload without verification.
pub fn claims(token: &str) -> serde_json::Map<String, Value> {
    jwt::decode_unverified(token).expect("a JWT").1
}

/// Asserts an RFC 6749 JSON error.
pub async fn assert_json_error(
    resp: reqwest::Response,
    status: u16,
    error: &str,
    description: &str,
) {
    assert_eq!(resp.status(), status, "status");
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/json;charset=UTF-8");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], error, "error in {body}");
    assert_eq!(
        body["error_description"], description,
        "description in {body}"
    );
}

/// Asserts Okta's HTML error page (400, not redirected).
pub async fn assert_error_page(resp: reqwest::Response, error: &str, description: &str) {
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers().get(LOCATION).is_none(),
        "an error page is never redirected"
    );
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(&format!("<dd id=\"error-code\">{error}</dd>")),
        "error code {error} in {html}"
    );
    let escaped = mock_idp::errors::html_escape(description);
    assert!(
        html.contains(&format!("<dd id=\"error-description\">{escaped}</dd>")),
        "description {description} in {html}"
    );
}

/// Asserts an error redirected to the client in the query, with or without state.
pub fn assert_redirect_error(loc: &Url, state: Option<&str>, error: &str, description: &str) {
    assert_eq!(
        query(loc, "error").as_deref(),
        Some(error),
        "error in {loc}"
    );
    assert_eq!(
        query(loc, "error_description").as_deref(),
        Some(description),
        "description in {loc}"
    );
    assert_eq!(query(loc, "state").as_deref(), state, "state in {loc}");
    if state.is_some() {
        assert!(
            loc.query().unwrap().starts_with("state="),
            "Okta puts state first: {loc}"
        );
    }
}

/// RP-initiated logout at `default`: the hint, the web client's post-logout URI and
/// `state=bye`.
pub fn logout_url(idp: &MockIdp, id_token: &str) -> Url {
    let mut url = Url::parse(&endpoint(idp, "default", "logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:8080/")
        .append_pair("state", "bye");
    url
}
