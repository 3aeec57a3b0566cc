//! The IdP against hostile input: login CSRF, framing, the admin API from other origins
//! and hosts, stalled connections, huge parameters, raw garbage on the socket; and its
//! memory stays bounded while it takes it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mock_idp::{MockIdp, TlsConfig};
use reqwest::header;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_sign_in_form_works_only_from_the_browser_it_was_shown_to() {
    let idp = MockIdp::start().await;
    let (_, challenge) = pkce();
    let url = authorize_url(&idp, "default", &code_params(&challenge));
    let victim = browser();
    let page = victim.get(&url).send().await.unwrap();
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(
        page.headers()[header::CONTENT_SECURITY_POLICY],
        "frame-ancestors 'none'"
    );
    let token = form_value(&page.text().await.unwrap(), "stateToken").unwrap();
    let form = [
        ("stateToken", token.as_str()),
        ("username", ALICE),
        ("password", ALICE_PW),
    ];
    // Another browser (a cross-site form post) with that stateToken: refused.
    let attacker = browser()
        .post(format!("{}/signin", idp.uri()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_error_page(
        attacker,
        "login_required",
        "Request expired, please start over and try again.",
    )
    .await;
    // The browser that asked for the form signs in.
    let ok = victim
        .post(format!("{}/signin", idp.uri()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(location(&ok).as_str().starts_with(WEB_CB));
}

#[tokio::test]
async fn every_cookie_is_secure_under_tls() {
    let idp = MockIdp::builder()
        .tls(TlsConfig::fixture())
        .start()
        .await
        .unwrap();
    let c = browser_trusting(idp.ca_pem().unwrap());
    let (_, challenge) = pkce();
    let page = c
        .get(authorize_url(&idp, "default", &code_params(&challenge)))
        .send()
        .await
        .unwrap();
    let mut cookies: Vec<String> = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let logout = c
        .get(format!(
            "{}?client_id={WEB}",
            endpoint(&idp, "default", "logout")
        ))
        .header(header::COOKIE, format!("{}=x", idp.session_cookie_name()))
        .send()
        .await
        .unwrap();
    cookies.extend(
        logout
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string()),
    );
    assert!(cookies.len() >= 2, "{cookies:?}");
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn the_admin_api_refuses_other_hosts_origins_and_simple_posts() {
    let idp = MockIdp::start().await;
    let port = idp.address().port();
    let arm = format!("{}/_harness/faults", idp.uri());
    let fault = json!({"id": "state-missing"});
    let c = browser();
    // DNS rebinding: a name that resolves here, but is not this IdP's.
    let r = c
        .post(&arm)
        .header(header::HOST, format!("attacker.example:{port}"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A page of another origin.
    let r = c
        .post(&arm)
        .header(header::ORIGIN, "http://attacker.example")
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A "simple" cross-origin POST, which no browser preflights.
    let r = c
        .post(&arm)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(idp.armed_faults().is_empty(), "nothing was armed");
    // Its own host, by any loopback name, as JSON: fine.
    let r = c
        .post(&arm)
        .header(header::HOST, format!("localhost:{port}"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(idp.armed_faults().len(), 1);
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let idp = MockIdp::builder()
        .header_read_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let addr = idp.address();
    let stalled = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 512];
        // The server closes it (0 bytes, or a 408) long before the 5 s read timeout.
        let n = s.read(&mut buf).unwrap_or(0);
        (
            started.elapsed(),
            String::from_utf8_lossy(&buf[..n]).into_owned(),
        )
    })
    .await
    .unwrap();
    assert!(stalled.0 < Duration::from_secs(5), "{stalled:?}");
    assert!(
        stalled.1.is_empty() || stalled.1.starts_with("HTTP/1.1 408"),
        "{stalled:?}"
    );
}

#[tokio::test]
async fn huge_parameters_are_refused_not_kept() {
    let idp = MockIdp::start().await;
    let c = browser();
    let (_, challenge) = pkce();
    let big = "s".repeat(3_000);
    let mut params = code_params(&challenge);
    params.retain(|(k, _)| *k != "state");
    params.push(("state", big.as_str()));
    let r = c
        .get(authorize_url(&idp, "default", &params))
        .send()
        .await
        .unwrap();
    let loc = location(&r);
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&loc, "state"), None, "a refused state is not echoed");
    // A body past the cap (64 KiB; axum's own default would take 2 MB) is refused before
    // it is read, at every endpoint that reads one.
    let huge = "x".repeat(1_900_000);
    let mut urls: Vec<String> = ["authorize", "token", "introspect", "revoke", "userinfo"]
        .iter()
        .map(|e| endpoint(&idp, "default", e))
        .collect();
    urls.push(format!("{}/signin", idp.uri()));
    for url in urls {
        let r = c
            .post(&url)
            .form(&[("state", huge.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{url}");
    }
    // Userinfo reads a GET's body as well.
    let r = c
        .get(endpoint(&idp, "default", "userinfo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// The IdP as its own process, so its memory can be read.
struct Child(std::process::Child, String);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_idp() -> Child {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let uri = line.split_whitespace().last().unwrap().to_string();
    // Keep reading what it prints, so it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Child(child, uri)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_huge_and_garbage_requests() {
    let idp = spawn_idp();
    let (pid, uri) = (idp.0.id(), idp.1.clone());
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The huge uploads on connections of their own (the server drops a connection whose
    // body it refused, and the others must not be reused after it).
    let big = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let huge = "s".repeat(1_900_000);
    let before = rss_kib(pid);
    for i in 0..300 {
        let r = big
            .post(format!("{uri}/oauth2/default/v1/authorize"))
            .form(&[
                ("client_id", WEB),
                ("redirect_uri", WEB_CB),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", huge.as_str()),
            ])
            .send()
            .await;
        // Refused before it is read: the connection may be closed under the upload.
        if let Ok(r) = r {
            assert!(r.status().as_u16() < 500, "request {i}: {}", r.status());
        }
        let q = format!(
            "client_id={WEB}&redirect_uri={}&response_type=code&scope=openid&state={}",
            url::form_urlencoded::byte_serialize(WEB_CB.as_bytes()).collect::<String>(),
            "t".repeat(2_000)
        );
        let r = c
            .get(format!("{uri}/oauth2/default/v1/authorize?{q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a sign-in page");
    }
    // Garbage on raw sockets: the server answers what it can, never with a 5xx.
    let addr: std::net::SocketAddr = uri.trim_start_matches("http://").parse().unwrap();
    let answers = tokio::task::spawn_blocking(move || {
        let mut statuses = Vec::new();
        for i in 0..200u32 {
            let Ok(mut s) = TcpStream::connect(addr) else {
                continue;
            };
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let junk: Vec<u8> = (0..(i * 37 % 3000)).map(|j| (j * 31 + i) as u8).collect();
            let payload = match i % 4 {
                0 => junk,
                1 => [b"GET /".as_slice(), &junk, b" HTTP/1.1\r\nHost: x\r\n\r\n"].concat(),
                2 => [
                    b"POST /oauth2/v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                        .as_slice(),
                    &junk,
                ]
                .concat(),
                _ => format!(
                    "GET /oauth2/v1/authorize?{} HTTP/1.1\r\nHost: x\r\n\r\n",
                    "a=".repeat(40_000)
                )
                .into_bytes(),
            };
            let _ = s.write_all(&payload);
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf) {
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                if let Some(code) = head.strip_prefix("HTTP/1.1 ").and_then(|r| r.get(..3)) {
                    statuses.push(code.to_string());
                }
            }
        }
        statuses
    })
    .await
    .unwrap();
    assert!(answers.iter().all(|s| !s.starts_with('5')), "{answers:?}");
    let ok = c
        .get(format!("{uri}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "still serving");
    let after = rss_kib(pid);
    eprintln!("RSS of the IdP: {before} KiB before, {after} KiB after");
    assert!(
        after < 64 * 1024,
        "RSS {before} KiB before, {after} KiB after (at most 64 MiB)"
    );
}
