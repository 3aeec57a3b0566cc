//! The parts of the benchmark (`scripts/bench`) that need Rust; the script pins each to a
//! core and runs the rest (wrk, the peers, openssl) itself.
//!
//! - `bench sign SECONDS`: RS256 signatures/s with the IdP's own key and code (aws-lc, the
//!   key parsed once): the ceiling of token issuance on one core.
//! - `bench logins ORIGIN SECONDS CONNECTIONS [SCOPE]`: full code + PKCE logins/s against a
//!   running mock IdP (authorize, the sign-in form, the token exchange: two signatures);
//!   SCOPE (default `openid profile email`) with `offline_access` leaves a refresh token
//!   behind each, the most an RP's logins make the IdP keep.
//! - `bench bare ADDR FILE [JWKS_FILE]`: a bare axum server answering `/jwks` with
//!   JWKS_FILE's bytes and every other GET with FILE's, as JSON: the practical limit of this
//!   machine and load generator for a prepared answer of that size. It also answers the
//!   three requests of `bench logins` and client_credentials token requests, signing the
//!   same tokens with the same key but checking and remembering nothing: the practical
//!   limit of token issuance and logins.
//! - `bench work KIND N`: N in-process requests of KIND (`sign`, `token`, `login`,
//!   `discovery`, `authorize`, and `bare` and `bare-login`: the bare server's discovery
//!   and logins), no network, for `valgrind --tool=callgrind` to count the instructions
//!   each costs: the IdP's own work beside its signatures, free of this machine's noise.
//!
//! - `bench redact N`: the IdP remembers N issued values, then each of 1,000 more is
//!   followed by redacting an RP log line (as the harness does with what an RP prints):
//!   microseconds per value, what redaction costs a long run. The values are a login's:
//!   for every two codes or refresh tokens (43 characters), an access token and an ID
//!   token (JWTs of about a kilobyte that share their header).
//!
//! Every loop is bounded in time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;

const WEB: &str = "0oa1harnessweb00000";
const WEB_SECRET: &str = "harness-web-secret-0000000000000000000000";
const WEB_CB: &str = "http://127.0.0.1:8080/callback";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("sign") => println!("{:.0}", sign(num(1, 3))),
        Some("logins") => {
            let origin = args
                .get(1)
                .expect("bench logins ORIGIN SECONDS CONNECTIONS [SCOPE]");
            let scope = args
                .get(4)
                .cloned()
                .unwrap_or_else(|| "openid profile email".into());
            let rt = runtime(1);
            println!(
                "{:.0}",
                rt.block_on(logins(origin.clone(), num(2, 5), num(3, 8) as usize, scope))
            );
        }
        Some("work") => {
            let kind = args.get(1).cloned().unwrap_or_default();
            let n = num(2, 100);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(work(&kind, n));
        }
        Some("redact") => println!("{:.1}", redact(num(1, 10_000) as usize)),
        Some("bare") => {
            let (addr, file) = (
                args.get(1).expect("bench bare ADDR FILE [JWKS_FILE]"),
                args.get(2).expect("bench bare ADDR FILE [JWKS_FILE]"),
            );
            let body = std::fs::read(file).expect("the body file");
            let jwks = args
                .get(3)
                .map(|f| std::fs::read(f).expect("the JWKS file"))
                .unwrap_or_else(|| body.clone());
            // The IdP's own choice of scheduler (the current-thread one when pinned to a
            // core), so that the yardstick has what the IdP has.
            mock_idp::cli::runtime().expect("a runtime").block_on(bare(
                addr.parse().expect("an address"),
                body,
                jwks,
            ));
        }
        _ => {
            eprintln!(
                "usage: bench sign SECONDS | bench logins ORIGIN SECONDS CONNECTIONS [SCOPE] | bench bare ADDR FILE | bench redact N"
            );
            std::process::exit(2);
        }
    }
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Microseconds per issued value when each is followed by a redaction, with `n` values
/// already remembered (see the module's documentation).
fn redact(n: usize) -> f64 {
    let known = mock_idp::known::Known::default();
    let statics = || vec![("client_secret", WEB_SECRET.to_string())];
    let value = |i: usize| match i % 4 {
        0 | 3 => format!("{i:043}"),
        kind => format!(
            "eyJraWQiOiJRQ3dBd05EUEdWcWUwZmlMSk43VmlUTFZMWE1XT3BialNDcUJnZ1dra2oyMCIsImFsZyI6IlJTMjU2In0.{}.{i:0342}",
            "eyJzdWIiOiIwMHUxYWxpY2UiLCJ2ZXIiOjF9".repeat(12 + kind)
        ),
    };
    for i in 0..n {
        known.remember("access_token", &value(i));
    }
    known.matcher(statics);
    let start = Instant::now();
    let mut done = 0;
    while done < 1000 && start.elapsed() < Duration::from_secs(60) {
        let v = value(n + done);
        known.remember("access_token", &v);
        let line = format!("GET /callback?code={v}&state=bench-state-0123456789 200");
        std::hint::black_box(known.matcher(statics).redact(&line));
        done += 1;
    }
    start.elapsed().as_secs_f64() * 1e6 / done as f64
}

/// RS256 signatures/s on this thread, with the IdP's fixture key parsed once.
fn sign(seconds: u64) -> f64 {
    let key = mock_idp::keys::fixture_keys().remove(2);
    let message = [b'x'; 600];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        for _ in 0..50 {
            std::hint::black_box(key.sign_rs256(&message));
        }
        n += 50;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// A PKCE pair.
fn pkce() -> (String, String) {
    let verifier = mock_idp::ids::random_b64(32);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    (verifier, challenge)
}

/// One full login of the fixture's Alice; true when a token response came back.
async fn login(c: &reqwest::Client, origin: &str, scope: &str) -> Option<()> {
    let (verifier, challenge) = pkce();
    let mut url = url::Url::parse(&format!("{origin}/oauth2/default/v1/authorize")).ok()?;
    url.query_pairs_mut()
        .append_pair("client_id", WEB)
        .append_pair("redirect_uri", WEB_CB)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "bench-state-0123456789")
        .append_pair("nonce", "bench-nonce-0123456789")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let page = c.get(url).send().await.ok()?;
    let cookie = page
        .headers()
        .get(reqwest::header::SET_COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .next()?
        .to_string();
    let html = page.text().await.ok()?;
    let marker = "name=\"stateToken\" value=\"";
    let start = html.find(marker)? + marker.len();
    let token = &html[start..start + html[start..].find('"')?];
    let signed = c
        .post(format!("{origin}/signin"))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[
            ("stateToken", token),
            ("username", "alice@example.com"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .ok()?;
    let loc = url::Url::parse(
        signed
            .headers()
            .get(reqwest::header::LOCATION)?
            .to_str()
            .ok()?,
    )
    .ok()?;
    let code = loc.query_pairs().find(|(k, _)| k == "code")?.1.into_owned();
    let tokens = c
        .post(format!("{origin}/oauth2/default/v1/token"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_CB),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .ok()?;
    tokens.status().is_success().then_some(())
}

/// Logins/s over `seconds` with `connections` at once.
async fn logins(origin: String, seconds: u64, connections: usize, scope: String) -> f64 {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()
        .expect("a client");
    // Warm-up: one login, which must work.
    login(&c, &origin, &scope)
        .await
        .expect("a login through the IdP");
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (c, origin, done, scope) = (c.clone(), origin.clone(), done.clone(), scope.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if login(&c, &origin, &scope).await.is_some() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Sends `req` through the router and returns the answer's headers and body.
async fn call(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> (axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt;
    let r = app.clone().oneshot(req).await.expect("the router answers");
    let headers = r.headers().clone();
    let body = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("a body");
    (headers, body.to_vec())
}

/// N in-process requests of one kind (see the module's documentation).
async fn work(kind: &str, n: u64) {
    use axum::body::Body;
    use axum::http::{Request, header};
    // A small journal, full after the first thousand requests: each request then also
    // drops the oldest entry, as in a long-lived IdP.
    let app = mock_idp::MockIdp::builder()
        .journal_capacity(1000)
        .into_router("http://127.0.0.1:9000");
    let bare = bare_router(
        call(
            &app,
            Request::get("/oauth2/default/.well-known/openid-configuration")
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .1,
        Vec::new(),
    );
    let key = mock_idp::keys::fixture_keys().remove(2);
    let form = "application/x-www-form-urlencoded";
    let mut done = 0u64;
    for _ in 0..n {
        match kind {
            "sign" => {
                std::hint::black_box(key.sign_rs256(&[b'x'; 600]));
            }
            "authorize" => {
                let q = "client_id=0oa1harnessweb00000&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&response_type=code&scope=openid&state=bench-state-0123456789";
                let req = Request::get(format!("/oauth2/default/v1/authorize?{q}"))
                    .body(Body::empty())
                    .expect("a request");
                let (_, page) = call(&app, req).await;
                assert!(
                    String::from_utf8_lossy(&page).contains("stateToken"),
                    "a sign-in page"
                );
                // Every thousandth request ends a window (see `window_end`).
                if done % 1000 == 999 {
                    window_end(done);
                }
                done += 1;
            }
            "discovery" | "bare" => {
                let req = Request::get("/oauth2/default/.well-known/openid-configuration")
                    .body(Body::empty())
                    .expect("a request");
                let (_, doc) = call(if kind == "bare" { &bare } else { &app }, req).await;
                assert!(doc.starts_with(b"{\"issuer\""), "a discovery document");
            }
            "token" => {
                let body = "grant_type=client_credentials&scope=harness%3Aread&client_id=0oa1harnessservice0&client_secret=harness-service-secret-00000000000000000";
                let req = Request::post("/oauth2/default/v1/token")
                    .header(header::CONTENT_TYPE, form)
                    .body(Body::from(body))
                    .expect("a request");
                let (_, tokens) = call(&app, req).await;
                assert!(
                    String::from_utf8_lossy(&tokens).contains("\"access_token\""),
                    "a token: {}",
                    String::from_utf8_lossy(&tokens)
                );
            }
            "login" | "bare-login" => {
                let app = if kind == "bare-login" { &bare } else { &app };
                let (verifier, challenge) = pkce();
                let q = format!(
                    "client_id={WEB}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&response_type=code&scope=openid+profile+email&state=bench-state-0123456789&nonce=bench-nonce-0123456789&code_challenge={challenge}&code_challenge_method=S256"
                );
                let (h, page) = call(
                    app,
                    Request::get(format!("/oauth2/default/v1/authorize?{q}"))
                        .body(Body::empty())
                        .expect("a request"),
                )
                .await;
                let cookie = h[header::SET_COOKIE]
                    .to_str()
                    .unwrap_or_default()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let page = String::from_utf8_lossy(&page);
                let marker = "name=\"stateToken\" value=\"";
                let start = page.find(marker).expect("a sign-in page") + marker.len();
                let token = &page[start..start + page[start..].find('"').unwrap_or(0)];
                let body = format!(
                    "stateToken={token}&username=alice%40example.com&password=correct+horse+battery+staple"
                );
                let (h, _) = call(
                    app,
                    Request::post("/signin")
                        .header(header::CONTENT_TYPE, form)
                        .header(header::COOKIE, cookie)
                        .body(Body::from(body))
                        .expect("a request"),
                )
                .await;
                let loc = url::Url::parse(h[header::LOCATION].to_str().unwrap_or_default())
                    .expect("a redirect");
                let code = loc
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .expect("a code")
                    .1
                    .into_owned();
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{WEB}:{WEB_SECRET}"));
                let body = format!(
                    "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&code_verifier={verifier}"
                );
                let (_, tokens) = call(
                    app,
                    Request::post("/oauth2/default/v1/token")
                        .header(header::CONTENT_TYPE, form)
                        .header(header::AUTHORIZATION, format!("Basic {basic}"))
                        .body(Body::from(body))
                        .expect("a request"),
                )
                .await;
                assert!(
                    String::from_utf8_lossy(&tokens).contains("\"id_token\""),
                    "a login ends with tokens: {}",
                    String::from_utf8_lossy(&tokens)
                );
            }
            other => {
                panic!(
                    "unknown kind `{other}` (sign, token, login, discovery, authorize, bare, bare-login)"
                )
            }
        }
    }
}

/// Marks the end of a thousand requests, for `valgrind --tool=callgrind
/// --dump-after=window_end` to count each thousand's instructions apart.
#[inline(never)]
fn window_end(done: u64) {
    std::hint::black_box(done);
}

/// The same bytes for every request: the bare server.
async fn bare(addr: std::net::SocketAddr, body: Vec<u8>, jwks: Vec<u8>) {
    let app = bare_router(body, jwks);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the bare server binds");
    println!(
        "bare server on http://{}",
        listener.local_addr().expect("bound")
    );
    let _ = axum::serve(listener, app).await;
}

/// The bare server's routes: `/jwks` answers `jwks`, every other GET `body`, as JSON;
/// `/signin`, the authorize GET and the token POST are the bare login (`bare_login_routes`).
fn bare_router(body: Vec<u8>, jwks: Vec<u8>) -> axum::Router {
    let (body, jwks) = (axum::body::Bytes::from(body), axum::body::Bytes::from(jwks));
    let json = || {
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json;charset=UTF-8",
        )]
    };
    axum::Router::new()
        .route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { (json(), jwks) }
            }),
        )
        .merge(bare_login_routes())
        .fallback(move || {
            let body = body.clone();
            async move { (json(), body) }
        })
}

/// The least a login costs on this machine: the three requests `bench logins` sends,
/// answered with what it reads (a sign-in page with a state token and a cookie, a redirect
/// with a code, tokens), and the same signatures as the IdP's (the IdP's key, claims of the
/// same size, the ID token's at_hash hashed from its access token); nothing is remembered
/// or checked. The token POST answers a client_credentials grant with one signed access
/// token and a code with an ID token too: the practical limit of token issuance, as the
/// bare discovery handler is of discovery.
fn bare_login_routes() -> axum::Router {
    use axum::http::header;
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    let key = mock_idp::keys::fixture_keys().remove(2);
    let issuer = "http://127.0.0.1/oauth2/default";
    let token = move |form: HashMap<String, String>| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let header = mock_idp::jwt::rs256_header(&key);
        let client = form.get("client_id").map_or(WEB, String::as_str);
        let mut access = mock_idp::jwt::Claims::new();
        access.insert("ver".into(), 1.into());
        access.insert(
            "jti".into(),
            format!("AT.{}", mock_idp::ids::random_b64(32)).into(),
        );
        access.insert("iss".into(), issuer.into());
        access.insert("aud".into(), "api://default".into());
        access.insert("iat".into(), now.into());
        access.insert("exp".into(), (now + 3600).into());
        access.insert("cid".into(), client.into());
        access.insert("scp".into(), vec!["openid", "profile", "email"].into());
        access.insert("sub".into(), "alice@example.com".into());
        let mut out = serde_json::Map::new();
        out.insert("token_type".into(), "Bearer".into());
        out.insert("expires_in".into(), 3600.into());
        out.insert(
            "access_token".into(),
            mock_idp::jwt::sign_rs256(&header, &access, &key).into(),
        );
        out.insert("scope".into(), "openid profile email".into());
        if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
            let mut id = mock_idp::jwt::Claims::new();
            id.insert("sub".into(), "00u1alice000000000000".into());
            id.insert("name".into(), "Alice Example".into());
            id.insert("email".into(), "alice@example.com".into());
            id.insert("ver".into(), 1.into());
            id.insert("iss".into(), issuer.into());
            id.insert("aud".into(), WEB.into());
            id.insert("iat".into(), now.into());
            id.insert("exp".into(), (now + 3600).into());
            id.insert(
                "jti".into(),
                format!("ID.{}", mock_idp::ids::random_b64(32)).into(),
            );
            id.insert("amr".into(), vec!["pwd"].into());
            id.insert("idp".into(), "00o1harnessidp000000".into());
            id.insert("nonce".into(), "bench-nonce-0123456789".into());
            id.insert("preferred_username".into(), "alice@example.com".into());
            id.insert("auth_time".into(), now.into());
            // The hash of this very access token (OIDC Core 3.3.2.11), as the IdP's.
            let access_token = out["access_token"].as_str().unwrap_or_default();
            id.insert(
                "at_hash".into(),
                mock_idp::jwt::half_hash(access_token).into(),
            );
            out.insert(
                "id_token".into(),
                mock_idp::jwt::sign_rs256(&header, &id, &key).into(),
            );
        }
        axum::Json(out)
    };
    axum::Router::new()
        .route(
            "/oauth2/default/v1/authorize",
            axum::routing::get(|| async {
                let state = mock_idp::ids::random_b64(32);
                let page = format!(
                    "<!doctype html><form method=\"post\" action=\"/signin\">\
                     <input type=\"hidden\" name=\"stateToken\" value=\"{state}\">\
                     <input name=\"username\"><input name=\"password\" type=\"password\"></form>"
                );
                (
                    [(
                        header::SET_COOKIE,
                        format!("sid={}; Path=/; HttpOnly", mock_idp::ids::random_b64(32)),
                    )],
                    axum::response::Html(page),
                )
            }),
        )
        .route(
            "/signin",
            axum::routing::post(
                |axum::Form(_form): axum::Form<HashMap<String, String>>| async move {
                    let to = format!(
                        "{WEB_CB}?code={}&state=bench-state-0123456789",
                        mock_idp::ids::random_b64(32)
                    );
                    (axum::http::StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
                },
            ),
        )
        .route(
            "/oauth2/default/v1/token",
            axum::routing::post(
                move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                    let token = token.clone();
                    async move { token(form) }
                },
            ),
        )
}
