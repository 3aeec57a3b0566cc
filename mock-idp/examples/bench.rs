//! Benchmark of the mock IdP (not a test): `scripts/bench` builds the release binary and
//! runs this. It prints
//! - process start to first discovery answer (the release `mock-idp` binary, 10 starts);
//! - discovery requests/s and client_credentials tokens/s with the server on one core
//!   (a single-threaded runtime on its own thread; the load comes from another thread);
//! - raw RS256 signing speed on one core with the same key, and issuance as a share of it.
//!
//! Every loop is bounded in time and count, and the servers it starts are stopped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The fixture service client (client_secret_post) asking for a custom scope.
const TOKEN_FORM: &str = "grant_type=client_credentials&scope=harness%3Aread&client_id=0oa1harnessservice0&client_secret=harness-service-secret-00000000000000000";
const LOAD_SECONDS: u64 = 3;
const CONNECTIONS: usize = 16;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "mock IdP benchmark ({} cores seen)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    startup(&rt);
    let (url, stop) = server_on_one_core();
    let discovery = format!("{url}/oauth2/default/.well-known/openid-configuration");
    let disc = rt.block_on(load(discovery, None));
    println!(
        "discovery: {disc:.0} requests/s (server on one core, {CONNECTIONS} keep-alive connections, {LOAD_SECONDS} s)"
    );
    let token_url = format!("{url}/oauth2/default/v1/token");
    let tokens = rt.block_on(load(token_url, Some(TOKEN_FORM)));
    println!("client_credentials: {tokens:.0} tokens/s (RS256 access tokens, server on one core)");
    drop(stop);
    let raw = raw_signing();
    println!("raw RS256 signing: {raw:.0} signatures/s (aws-lc, one core, key parsed once)");
    println!(
        "token issuance / raw signing: {:.0}% (target: at least 85%)",
        100.0 * tokens / raw
    );
}

fn release_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/release/examples/bench -> target/release/mock-idp
    exe.parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("mock-idp")
}

fn startup(rt: &tokio::runtime::Runtime) {
    let bin = release_binary();
    if !bin.exists() {
        println!(
            "startup: skipped ({} not built; run scripts/bench)",
            bin.display()
        );
        return;
    }
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let mut child = Command::new(&bin)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string();
        let ok = rt.block_on(async {
            for _ in 0..200 {
                if let Ok(r) = client
                    .get(format!("{url}/.well-known/openid-configuration"))
                    .send()
                    .await
                {
                    if r.status().is_success() {
                        return true;
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            false
        });
        let elapsed = start.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        if ok {
            times.push(elapsed);
        }
    }
    times.sort();
    if times.is_empty() {
        println!("startup: the binary never answered");
        return;
    }
    println!(
        "startup: process start to first discovery answer: median {:.1} ms, best {:.1} ms, worst {:.1} ms ({} starts; target under 50 ms)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Stop(
    Option<tokio::sync::oneshot::Sender<()>>,
    Option<std::thread::JoinHandle<()>>,
);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

fn server_on_one_core() -> (String, Stop) {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let idp = mock_idp::MockIdp::builder()
                .journal_capacity(1000)
                .start()
                .await
                .unwrap();
            url_tx.send(idp.uri().to_string()).unwrap();
            let _ = stop_rx.await;
            drop(idp);
        });
    });
    (url_rx.recv().unwrap(), Stop(Some(stop_tx), Some(handle)))
}

async fn load(url: String, form: Option<&'static str>) -> f64 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    // Warm-up: one request per connection.
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, done) = (client.clone(), url.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let req = match form {
                    Some(body) => client
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body),
                    None => client.get(&url),
                };
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => panic!("{url} answered {}", r.status()),
                    Err(e) => panic!("{url}: {e}"),
                }
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn raw_signing() -> f64 {
    let key = mock_idp::keys::fixture_keys().remove(2);
    let message = [b'x'; 600];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(LOAD_SECONDS) {
        for _ in 0..100 {
            std::hint::black_box(key.sign_rs256(&message));
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}
