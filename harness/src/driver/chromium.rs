//! The browser driver: Debian's Chromium through ChromeDriver (fantoccini), for relying
//! parties that run the flow in JavaScript. It plays the same steps as the HTTP driver
//! through the real sign-in page, records the navigations it sees, and takes a PNG of the
//! final page. One ChromeDriver per run. Each scenario gets a fresh browser context (its
//! own cookies, storage and cache, as a fresh profile has) in a Chromium the run keeps:
//! a Chromium and its profile folder are started only when no kept one is free, so a run
//! starts as many as it plays scenarios at once. The context is disposed of after the
//! scenario whatever happened. A run that ends closes the Chromiums it kept; then (or at
//! once, on an interruption) ChromeDriver's whole process group is killed.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::error::NewSessionError;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use super::{Driver, DriverError, Hop, Login, MAX_HOPS, Page, Party};
use crate::report::redact;

/// Chromium's flags: headless, and kept off the network (it is closed here anyway).
const FLAGS: [&str; 12] = [
    "--headless=new",
    "--enable-logging",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1100,900",
];

/// A running ChromeDriver.
pub struct ChromeDriver {
    child: tokio::process::Child,
    port: u16,
    /// Every session's profile folder, deleted when ChromeDriver is dropped.
    profiles: Arc<Mutex<Vec<PathBuf>>>,
    /// Chromium's binary (`$CHROME_BIN`, else Debian's `/usr/bin/chromium` when there);
    /// `None` lets ChromeDriver look for it.
    chromium: Option<String>,
    /// Set by the first [`Stopper::stop`]: ChromeDriver's process id may be another
    /// process's after that.
    stopped: Arc<std::sync::atomic::AtomicBool>,
    /// Chromiums no scenario is using, kept for the next ones.
    idle: Vec<Browser>,
}

impl ChromeDriver {
    /// Starts `chromedriver` (or `$CHROMEDRIVER`) on a free loopback port.
    pub async fn start() -> Result<Self, String> {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = tokio::process::Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .map_err(|e| {
                format!("cannot start `{bin}` ({e}); install it with scripts/install-browser")
            })?;
        let http = mock_idp::http_client::build(reqwest::Client::builder(), None)?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if http
                .get(format!("http://127.0.0.1:{port}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(Self {
                    child,
                    port,
                    profiles: Arc::default(),
                    chromium: std::env::var("CHROME_BIN").ok().or_else(|| {
                        std::path::Path::new("/usr/bin/chromium")
                            .exists()
                            .then(|| "/usr/bin/chromium".to_string())
                    }),
                    stopped: Arc::default(),
                    idle: Vec::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("`{bin}` did not answer on port {port} within 10 s"))
    }

    /// A new Chromium session with a fresh profile folder. A Chromium that dies while
    /// starting (ChromeDriver's "DevToolsActivePort file doesn't exist", seen once in a
    /// loaded CI run) is started again, at most [`SESSION_ATTEMPTS`] times in all; the
    /// error then quotes what each attempt's Chromium logged.
    pub async fn session(&mut self, accept_insecure_certs: bool) -> Result<Client, String> {
        let mut failures = Vec::new();
        for attempt in 1..=SESSION_ATTEMPTS {
            let dir = self.new_profile();
            match self.connect(&dir, accept_insecure_certs).await {
                Ok(c) => return Ok(c),
                Err(Refused::NotCreated(e)) => {
                    let mut failure = format!("attempt {attempt}: {e}");
                    if let Some(log) = chromium_log_tail(&dir) {
                        failure.push_str(&format!(" (Chromium's log: {log})"));
                    }
                    failures.push(failure);
                    if attempt < SESSION_ATTEMPTS {
                        tokio::time::sleep(Duration::from_secs(attempt as u64)).await;
                    }
                }
                Err(Refused::Other(e)) => {
                    return Err(format!("cannot open a Chromium session: {e}"));
                }
            }
        }
        Err(format!(
            "cannot open a Chromium session ({SESSION_ATTEMPTS} attempts): {}",
            failures.join("; ")
        ))
    }

    /// A profile folder no other session (of this run or of another process) uses,
    /// deleted when ChromeDriver is dropped.
    fn new_profile(&self) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("oidc-harness-chromium-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        self.profiles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.clone());
        dir
    }

    async fn connect(
        &self,
        profile: &std::path::Path,
        accept_insecure_certs: bool,
    ) -> Result<Client, Refused> {
        // With every crate's features unified, rustls may see two crypto providers and
        // refuse to pick one: choose aws-lc-rs (as the rest of the workspace does).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut options = json!({"args": args});
        if let Some(bin) = &self.chromium {
            options["binary"] = json!(bin);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        caps.insert("acceptInsecureCerts".into(), json!(accept_insecure_certs));
        let mut builder = ClientBuilder::rustls().map_err(|e| Refused::Other(e.to_string()))?;
        builder.capabilities(caps);
        builder
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .map_err(|e| match e {
                NewSessionError::SessionNotCreated(e) => Refused::NotCreated(e.to_string()),
                e => Refused::Other(e.to_string()),
            })
    }
}

/// Why ChromeDriver gave no session: Chromium did not start (worth another try), or
/// anything else (ChromeDriver unreachable, a bad answer).
enum Refused {
    NotCreated(String),
    Other(String),
}

/// How many times a session is tried when Chromium does not start.
pub const SESSION_ATTEMPTS: u32 = 3;

/// The last lines Chromium wrote to its log in `profile` (`--enable-logging` writes
/// `chrome_debug.log` there), without the D-Bus complaints every start makes in a
/// container; at most five lines, each cut to 300 characters. Nothing secret is there
/// yet: the session had not started.
fn chromium_log_tail(profile: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(profile.join("chrome_debug.log")).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("dbus/"))
        .collect();
    let tail: Vec<String> = lines[lines.len().saturating_sub(5)..]
        .iter()
        .map(|l| l.chars().take(300).collect())
        .collect();
    (!tail.is_empty()).then(|| tail.join(" | "))
}

impl ChromeDriver {
    /// Starts sessions with this Chromium binary instead (an embedder's own build, or a
    /// wrapper script).
    pub fn use_chromium(&mut self, bin: impl Into<String>) {
        self.chromium = Some(bin.into());
    }

    /// A browser for one scenario: a fresh browser context in a kept Chromium when one
    /// is free (one that no longer answers is closed and the next tried), else in a
    /// Chromium started for it ([`ChromeDriver::session`]). Give it back with
    /// [`ChromeDriver::give_back`].
    pub async fn tab(&mut self, accept_insecure_certs: bool) -> Result<Tab, String> {
        while let Some(i) = self
            .idle
            .iter()
            .position(|b| b.insecure == accept_insecure_certs)
        {
            let mut browser = self.idle.swap_remove(i);
            match browser.open_context().await {
                Ok(context) => return Ok(Tab { browser, context }),
                Err(_) => browser.quit().await,
            }
        }
        let client = self.session(accept_insecure_certs).await?;
        let mut browser = match Browser::new(client.clone(), accept_insecure_certs).await {
            Ok(b) => b,
            Err(e) => {
                let _ = client.close().await;
                return Err(format!("cannot reach the new Chromium's DevTools: {e}"));
            }
        };
        match browser.open_context().await {
            Ok(context) => Ok(Tab { browser, context }),
            Err(e) => {
                browser.quit().await;
                Err(format!("cannot open a browser context in Chromium: {e}"))
            }
        }
    }

    /// Ends a scenario's browser: its context goes, with every window, cookie and stored
    /// value the scenario left, and its Chromium is kept for the next scenario; a
    /// Chromium that does not answer is closed instead.
    pub async fn give_back(&mut self, tab: Tab) {
        let Tab {
            mut browser,
            context,
        } = tab;
        match browser.close_context(&context).await {
            Ok(()) => self.idle.push(browser),
            Err(_) => browser.quit().await,
        }
    }

    /// Ends the session of every kept Chromium, which then quits as a closed browser does
    /// and removes its own temporary folders (`org.chromium.Chromium.*`; a killed one
    /// leaves them). Called when a run ends; what is left is stopped on drop.
    pub async fn close(&mut self) {
        for browser in std::mem::take(&mut self.idle) {
            browser.quit().await;
        }
    }

    /// What stops ChromeDriver and its browsers and deletes their profile folders, for
    /// use while a task holds this (an interrupted run).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            pid: self.child.id(),
            profiles: self.profiles.clone(),
            stopped: self.stopped.clone(),
        }
    }
}

/// One scenario's browser (see [`ChromeDriver::tab`]): a window in a browser context of
/// its own, which WebDriver's commands act on.
pub struct Tab {
    browser: Browser,
    context: String,
}

impl Tab {
    /// The WebDriver session, its current window the scenario's.
    pub fn client(&self) -> &Client {
        &self.browser.client
    }

    /// Another window in the tab's browser context, sharing its cookies and storage
    /// (WebDriver's own new window would open in the browser's first context, without
    /// them); WebDriver's current window stays where it was.
    pub async fn new_window(&mut self) -> Result<WindowHandle, String> {
        self.browser.window_in(&self.context).await
    }
}

/// A Chromium the run keeps, between the scenarios it serves.
struct Browser {
    client: Client,
    /// Its DevTools connection, for what WebDriver cannot ask: browser contexts.
    cdp: Cdp,
    /// The window it opened with, kept open while the scenarios' windows come and go (a
    /// session whose last window closes ends).
    anchor: WindowHandle,
    insecure: bool,
}

impl Browser {
    async fn new(client: Client, insecure: bool) -> Result<Self, String> {
        let address = client
            .capabilities()
            .and_then(|c| c.get("goog:chromeOptions"))
            .and_then(|o| o.get("debuggerAddress"))
            .and_then(Value::as_str)
            .ok_or("ChromeDriver's session names no debuggerAddress")?
            .to_string();
        // The session's acceptInsecureCerts holds in the contexts made over DevTools too
        // (okta-auth-js, whose IdP serves TLS, passes in them without more).
        let cdp = Cdp::connect(&address).await?;
        let anchor = client.window().await.map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            cdp,
            anchor,
            insecure,
        })
    }

    /// A new browser context with one window, made WebDriver's current window; its id.
    async fn open_context(&mut self) -> Result<String, String> {
        let context = self
            .cdp
            .call("Target.createBrowserContext", json!({}))
            .await?["browserContextId"]
            .as_str()
            .ok_or("no browserContextId")?
            .to_string();
        let window = self.window_in(&context).await?;
        self.client
            .switch_to_window(window)
            .await
            .map_err(|e| e.to_string())?;
        Ok(context)
    }

    /// A new window (blank, of the size the flags give the first) in `context`.
    async fn window_in(&mut self, context: &str) -> Result<WindowHandle, String> {
        let target = self
            .cdp
            .call(
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": context,
                       "newWindow": true, "width": 1100, "height": 900}),
            )
            .await?["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        // ChromeDriver's window handles are DevTools target ids.
        WindowHandle::try_from(target).map_err(|e| e.to_string())
    }

    /// Back to the first window, and the context disposed of (its windows closed, its
    /// cookies, storage and cache gone).
    async fn close_context(&mut self, context: &str) -> Result<(), String> {
        self.client
            .switch_to_window(self.anchor.clone())
            .await
            .map_err(|e| e.to_string())?;
        self.cdp
            .call(
                "Target.disposeBrowserContext",
                json!({"browserContextId": context}),
            )
            .await
            .map(|_| ())
    }

    /// Ends the session, and with it this Chromium (ChromeDriver's stop kills what is
    /// left).
    async fn quit(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.close()).await;
    }
}

/// A DevTools (CDP) connection to a Chromium's browser target.
struct Cdp {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

/// The longest wait for an answer from Chromium's DevTools.
const CDP_WAIT: Duration = Duration::from_secs(10);

impl Cdp {
    /// Connects to the browser at `address` (host:port, as ChromeDriver reports it),
    /// whose `/json/version` names its WebSocket.
    async fn connect(address: &str) -> Result<Self, String> {
        let http =
            mock_idp::http_client::build(reqwest::Client::builder().timeout(CDP_WAIT), None)?;
        let version: Value = http
            .get(format!("http://{address}/json/version"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let url = version["webSocketDebuggerUrl"]
            .as_str()
            .ok_or("/json/version names no webSocketDebuggerUrl")?;
        let (ws, _) = tokio::time::timeout(CDP_WAIT, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| format!("{url} did not answer within {CDP_WAIT:?}"))?
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(Self { ws, next_id: 0 })
    }

    /// Calls `method` and waits for its answer (events, which nothing here subscribes
    /// to, are passed over); its `result`, or its error quoted.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let ask = json!({"id": id, "method": method, "params": params}).to_string();
        let answer = async {
            self.ws
                .send(Message::text(ask))
                .await
                .map_err(|e| e.to_string())?;
            while let Some(message) = self.ws.next().await {
                let Message::Text(text) = message.map_err(|e| e.to_string())? else {
                    continue;
                };
                let mut v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if v["id"] == id {
                    if let Some(e) = v.get("error") {
                        return Err(e.to_string());
                    }
                    return Ok(v["result"].take());
                }
            }
            Err("the connection closed".to_string())
        };
        tokio::time::timeout(CDP_WAIT, answer)
            .await
            .map_err(|_| format!("no answer within {CDP_WAIT:?}"))?
            .map_err(|e| format!("{method}: {e}"))
    }
}

/// Stops ChromeDriver, every Chromium it started and their helpers, and deletes the
/// sessions' profile folders (see [`ChromeDriver::stopper`]).
pub struct Stopper {
    pid: Option<u32>,
    profiles: Arc<Mutex<Vec<PathBuf>>>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl Stopper {
    /// Kills the processes and deletes the profile folders; once only, whichever stopper
    /// of the ChromeDriver comes first.
    pub fn stop(&self) {
        if self.stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Some(pid) = self.pid {
            crate::procs::kill_tree(pid);
        }
        let profiles =
            std::mem::take(&mut *self.profiles.lock().unwrap_or_else(|e| e.into_inner()));
        for d in profiles {
            // A browser killed a moment ago may still be writing there: tried again,
            // for half a second at most.
            for _ in 0..20 {
                if std::fs::remove_dir_all(&d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        self.stopper().stop();
    }
}

/// One scenario's browser.
pub struct ChromiumDriver<'a> {
    tab: &'a mut Tab,
    /// Navigations seen, redacted.
    pub hops: Vec<Hop>,
    /// The IdP's origins (a personality may spread its endpoints over several hosts).
    idp_origins: Vec<String>,
    rp_origins: Vec<String>,
    secrets: Vec<String>,
    last_url: String,
    settled_when: Option<String>,
    /// When the scenario's time is up (see [`ChromiumDriver::finish_by`]).
    deadline: Option<Instant>,
}

/// The longest wait for one page to settle or to leave the sign-in form.
const PAGE_WAIT: Duration = Duration::from_secs(15);
/// Time kept for what follows a page's wait before the scenario's deadline: judging the
/// page the RP stopped on is the scenario's answer, not a timeout.
const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

fn cmd(e: impl std::fmt::Display) -> DriverError {
    DriverError::Unreachable {
        url: "(browser)".into(),
        reason: e.to_string(),
    }
}

impl<'a> ChromiumDriver<'a> {
    /// Wraps a session. `settled_when` is the profile's selector of a final RP page.
    pub fn new(
        tab: &'a mut Tab,
        idp_origins: &[String],
        rp_origins: Vec<String>,
        secrets: Vec<String>,
        settled_when: Option<String>,
    ) -> Self {
        Self {
            tab,
            hops: Vec::new(),
            idp_origins: idp_origins.to_vec(),
            rp_origins,
            secrets,
            last_url: String::new(),
            settled_when,
            deadline: None,
        }
    }

    /// The scenario must be done by `deadline`: a page that never settles (an RP that
    /// waits forever) is waited for only until shortly before it, so the verdict is
    /// decided from the page the RP stopped on, whatever the machine's load, rather than
    /// by which of two timers ran out first.
    pub fn finish_by(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// How long a page may be waited for from now.
    fn page_wait(&self) -> Duration {
        self.deadline.map_or(PAGE_WAIT, |d| {
            d.saturating_duration_since(Instant::now())
                .saturating_sub(DEADLINE_MARGIN)
                .clamp(Duration::from_millis(500), PAGE_WAIT)
        })
    }

    fn party(&self, url: &str) -> Party {
        let origin = Url::parse(url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if self.idp_origins.contains(&origin) {
            Party::Idp
        } else if self.rp_origins.contains(&origin) {
            Party::Rp
        } else {
            Party::Other
        }
    }

    /// The tab's WebDriver session.
    fn client(&self) -> &Client {
        self.tab.client()
    }

    /// Whether this page is the IdP's sign-in form.
    fn on_sign_in(&self, url: &str, source: &str) -> bool {
        self.party(url) == Party::Idp && source.contains("okta-signin-username")
    }

    async fn status(&self) -> u16 {
        let js = "const n = performance.getEntriesByType('navigation')[0]; return n && n.responseStatus ? n.responseStatus : 0;";
        self.client()
            .execute(js, vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u16
    }

    async fn note_navigation(
        &mut self,
        method: &str,
        note: Option<String>,
    ) -> Result<String, DriverError> {
        let url = self.client().current_url().await.map_err(cmd)?.to_string();
        if url != self.last_url || note.is_some() {
            let status = self.status().await;
            let red = redact::text(&redact::url(&url), &self.secrets);
            self.hops.push(Hop {
                to: self.party(&url),
                method: method.into(),
                url: red,
                status,
                location: None,
                cookies_set: vec![],
                note,
            });
            self.last_url = url.clone();
        }
        Ok(url)
    }

    /// One look at the page: URL, source, readiness. `None` while Chromium is between
    /// documents (WebDriver then answers errors such as "target frame detached").
    async fn look(&mut self) -> Option<(String, String, bool)> {
        let url = self.note_navigation("GET", None).await.ok()?;
        let source = self.client().source().await.ok()?;
        let ready = self
            .client()
            .execute("return document.readyState", vec![])
            .await
            .ok()?;
        Some((url, source, ready.as_str() == Some("complete")))
    }

    /// Waits until the page is final: the IdP's sign-in page once loaded; on an RP page
    /// with `settled_when`, until that element appears; otherwise until URL and page stay
    /// the same for three looks.
    /// Transient WebDriver errors during navigation are waited out. Bounded by
    /// [`PAGE_WAIT`] and the scenario's deadline.
    async fn settle(&mut self) -> Result<(String, String), DriverError> {
        let (started, wait) = (Instant::now(), self.page_wait());
        let mut last = (String::new(), String::new());
        let mut stable = 0;
        while started.elapsed() < wait {
            let Some((url, source, ready)) = self.look().await else {
                stable = 0;
                tokio::time::sleep(Duration::from_millis(60)).await;
                continue;
            };
            if ready {
                if self.on_sign_in(&url, &source) {
                    // The IdP's sign-in page runs no script: loaded, it is final.
                    return Ok((url, source));
                }
                if let (Some(sel), Party::Rp) = (&self.settled_when, self.party(&url)) {
                    let found = self
                        .client()
                        .execute(
                            "return document.querySelector(arguments[0]) !== null",
                            vec![json!(sel)],
                        )
                        .await
                        .ok()
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false);
                    if found {
                        // The page may have changed since `source` was read: read it again.
                        if let Ok(source) = self.client().source().await {
                            return Ok((url, source));
                        }
                    }
                } else if (url.clone(), source.clone()) == last {
                    stable += 1;
                    if stable >= 3 {
                        return Ok((url, source));
                    }
                } else {
                    stable = 0;
                }
            } else {
                stable = 0;
            }
            last = (url, source);
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        Ok(last)
    }

    /// After submitting the sign-in form: waits until that page is gone (the old
    /// document stays on screen until the IdP answers). Bounded.
    async fn leave_sign_in(&mut self) {
        let (started, wait) = (Instant::now(), self.page_wait());
        while started.elapsed() < wait {
            if let Some((url, source, _)) = self.look().await {
                if !self.on_sign_in(&url, &source) {
                    return;
                }
                // The IdP answered with the form again (wrong credentials): its message shows.
                if source.contains("Unable to sign in") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Logs in from `start`: fills the IdP's sign-in page, optionally dropping the RP's
    /// cookies (and storage) first, and ends on the page the RP settles on.
    pub async fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        lose_rp_cookies: bool,
    ) -> Result<Login, DriverError> {
        self.client().goto(start).await.map_err(cmd)?;
        let mut signed_in = false;
        let mut dropped = None;
        for _ in 0..MAX_HOPS {
            let (url, source) = self.settle().await?;
            if !self.on_sign_in(&url, &source) {
                return Ok(Login {
                    page: Page {
                        status: self.status().await,
                        url,
                        body: source,
                    },
                    cookies_dropped: dropped,
                });
            }
            if signed_in {
                return Err(DriverError::SignInRefused);
            }
            let mut note = format!("signed in as {user}");
            if lose_rp_cookies {
                let n = self.drop_rp_cookies().await?;
                dropped = Some(n);
                note = format!("user agent dropped {n} RP cookie(s) before the callback; {note}");
            }
            // Both fields filled at once, as a password manager fills them (typing them
            // key by key took WebDriver half a second a login); the page runs no script
            // that could tell, and the form posts the same fields.
            let fill = "document.getElementById('okta-signin-username').value = arguments[0]; \
                        document.getElementById('okta-signin-password').value = arguments[1];";
            self.client()
                .execute(fill, vec![json!(user), json!(password)])
                .await
                .map_err(cmd)?;
            self.client()
                .find(Locator::Id("okta-signin-submit"))
                .await
                .map_err(cmd)?
                .click()
                .await
                .map_err(cmd)?;
            signed_in = true;
            // The form's POST, recorded before the pages it leads to (`leave_sign_in`
            // records those), at the sign-in page's origin as the HTTP driver does.
            self.hops.push(Hop {
                to: Party::Idp,
                method: "POST".into(),
                url: Url::parse(&url)
                    .and_then(|u| u.join("/signin"))
                    .map_or_else(|_| format!("{}/signin", self.idp_origins[0]), String::from),
                status: 0,
                location: None,
                cookies_set: vec![],
                note: Some(note),
            });
            self.leave_sign_in().await;
        }
        Err(DriverError::TooManyHops)
    }

    /// Drops every cookie but the IdP's session (IdP and RP share the host, so the jar is
    /// one), and the RP origins' web storage.
    async fn drop_rp_cookies(&mut self) -> Result<usize, DriverError> {
        let cookies = self.client().get_all_cookies().await.map_err(cmd)?;
        let mut n = 0;
        for c in cookies
            .iter()
            .filter(|c| !c.name().starts_with("mockidp_sid_"))
        {
            self.client().delete_cookie(c.name()).await.map_err(cmd)?;
            n += 1;
        }
        Ok(n)
    }

    /// A plain navigation (logout, unsolicited callbacks).
    pub async fn visit(&mut self, url: &str) -> Result<Page, DriverError> {
        self.client().goto(url).await.map_err(cmd)?;
        let (url, body) = self.settle().await?;
        Ok(Page {
            status: self.status().await,
            url,
            body,
        })
    }

    /// Visits `url` in a new tab, closes it, and watches this tab's page for up to
    /// `watch` until its source changes.
    pub async fn elsewhere(&mut self, url: &str, watch: Duration) -> Result<Page, DriverError> {
        let before = self.client().source().await.map_err(cmd)?;
        let here = self.client().window().await.map_err(cmd)?;
        let other = self.tab.new_window().await.map_err(cmd)?;
        self.client().switch_to_window(other).await.map_err(cmd)?;
        self.client().goto(url).await.map_err(cmd)?;
        self.note_navigation("GET", Some("in another tab".into()))
            .await?;
        self.client().close_window().await.map_err(cmd)?;
        self.client().switch_to_window(here).await.map_err(cmd)?;
        let started = Instant::now();
        let mut source = before.clone();
        while started.elapsed() < watch {
            tokio::time::sleep(Duration::from_millis(200)).await;
            source = self.client().source().await.map_err(cmd)?;
            if source != before {
                break;
            }
        }
        let url = self.client().current_url().await.map_err(cmd)?.to_string();
        self.last_url = url.clone();
        Ok(Page {
            status: self.status().await,
            url,
            body: source,
        })
    }

    /// A PNG of the current page.
    pub async fn screenshot(&self) -> Option<Vec<u8>> {
        self.client().screenshot().await.ok()
    }

    /// Replaces `secrets` wherever they show on the page (text and form values), so a
    /// screenshot shows none of them.
    pub async fn blank(&self, secrets: &[String]) {
        const JS: &str = "const s = arguments[0].filter((x) => x.length >= 4);\n\
            const clean = (t) => s.reduce((acc, x) => acc.split(x).join('[redacted]'), t);\n\
            const walk = (n) => {\n\
              if (n.nodeType === 3) { n.nodeValue = clean(n.nodeValue); return; }\n\
              if (typeof n.value === 'string') { try { n.value = clean(n.value); } catch (e) {} }\n\
              if (n.attributes) for (const a of Array.from(n.attributes)) {\n\
                const c = clean(a.value); if (c !== a.value) n.setAttribute(a.name, c);\n\
              }\n\
              for (const c of n.childNodes) walk(c);\n\
            };\n\
            if (document.documentElement) walk(document.documentElement);";
        let _ = self.client().execute(JS, vec![json!(secrets)]).await;
    }
}

impl Driver for ChromiumDriver<'_> {
    async fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        lose_rp_cookies: bool,
    ) -> Result<Login, DriverError> {
        ChromiumDriver::login(self, start, user, password, lose_rp_cookies).await
    }

    async fn visit(&mut self, url: &str) -> Result<Page, DriverError> {
        ChromiumDriver::visit(self, url).await
    }

    async fn elsewhere(&mut self, url: &str, watch: Duration) -> Result<Option<Page>, DriverError> {
        ChromiumDriver::elsewhere(self, url, watch).await.map(Some)
    }

    async fn replay_callback(&mut self) -> Result<Option<Page>, DriverError> {
        Err(DriverError::Unsupported(
            "the browser driver cannot replay a callback (WebDriver does not show the redirect): run it with the HTTP driver",
        ))
    }

    fn hops(&self) -> &[Hop] {
        &self.hops
    }

    async fn screenshot(&self) -> Option<Vec<u8>> {
        ChromiumDriver::screenshot(self).await
    }
}
