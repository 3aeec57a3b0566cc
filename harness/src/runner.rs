//! Runs scenarios against one relying party: starts the mock IdP and the RP, provisions
//! a user per scenario, arms its faults, drives the browser, judges, and streams events.
//!
//! Scenarios whose faults can be aimed at their own user run in parallel (`--jobs`);
//! those that change what every user sees (discovery, keys, rotation) run alone,
//! afterwards, with the RP restarted around them when its profile says so (RPs cache
//! discovery documents and keys).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_idp::{Client, JournalEntry, MockIdp, Tenant, User};

use crate::driver::{Browser, Mischief, Page, text_of};
use crate::profile::Compiled;
use crate::report::{Event, RunReport, ScenarioReport, Sink, Summary, Trace, redact, rfc3339};
use crate::rp::RpProcess;
use crate::scenario::{Loaded, Outcome, Scenario, Step};
use crate::verdict::{Observed, Verdict, evidence, findings, judge};

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenarios at once (default: the number of cores).
    pub jobs: usize,
    /// Run only slice `k` of `n` (1-based), chosen by a stable hash of the scenario id.
    pub partition: Option<(usize, usize)>,
    /// Per-scenario timeout, overriding the profile's.
    pub timeout: Option<Duration>,
    /// The password of every scenario user (default: a random one per scenario).
    pub user_password: Option<String>,
    /// The driver, overriding the profile's.
    pub driver: Option<crate::profile::Driver>,
    /// Where screenshots of scenarios that do not pass go (browser driver), usually the
    /// report folder.
    pub screenshots: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            partition: None,
            timeout: None,
            user_password: None,
            driver: None,
            screenshots: None,
        }
    }
}

/// The harness could not run at all (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// The group of the users assigned to the RP's app.
const ASSIGNED: &str = "harness-assigned";

struct Ctx {
    idp: MockIdp,
    profile: Compiled,
    states: Mutex<HashSet<String>>,
    rp_origins: Vec<String>,
    secrets: Vec<String>,
    server: String,
    timeout: Duration,
    password: Option<String>,
    screenshots: Option<std::path::PathBuf>,
    chrome: Option<tokio::sync::Mutex<crate::browser::ChromeDriver>>,
}

/// Whether a scenario id falls in partition `k` of `n` (FNV-1a of the id, so a slice
/// does not move when other scenarios are added).
pub fn in_partition(id: &str, k: usize, n: usize) -> bool {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    (h % n as u64) as usize == k - 1
}

fn client_of(p: &Compiled) -> Client {
    let prof = &p.profile;
    Client {
        client_id: prof.client_id.clone(),
        client_secret: prof.client_secret.as_ref().map(mock_idp::Secret::new),
        token_endpoint_auth_method: prof.auth_method,
        redirect_uris: prof.redirect_uris.clone(),
        post_logout_redirect_uris: prof.post_logout_redirect_uris.clone(),
        grant_types: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "implicit".into(),
        ],
        response_types: [
            "code",
            "id_token",
            "token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        pkce_required: false,
        trusted_origins: prof.trusted_origins.clone(),
        assigned_users: vec![],
        assigned_groups: vec![ASSIGNED.into()],
    }
}

async fn start_rp(ctx: &Ctx, vars: &BTreeMap<&str, String>) -> Result<Option<RpProcess>, RunError> {
    let Some(start) = &ctx.profile.profile.start else {
        return Ok(None);
    };
    let mut rp = RpProcess::start(start, vars, &ctx.profile.dir).map_err(RunError)?;
    rp.wait_ready(
        &start.ready_url,
        Duration::from_secs(start.ready_timeout_secs),
    )
    .await
    .map_err(RunError)?;
    Ok(Some(rp))
}

/// Runs `scenarios` against the RP of `profile`, streaming events to `sinks`.
pub async fn run(
    profile: Compiled,
    scenarios: Vec<Loaded>,
    opts: &Options,
    sinks: &mut [Box<dyn Sink>],
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    );
    let scenarios: Vec<Loaded> = match opts.partition {
        Some((k, n)) => scenarios
            .into_iter()
            .filter(|l| in_partition(&l.scenario.id, k, n))
            .collect(),
        None => scenarios,
    };
    let server = profile.profile.authorization_server.clone();
    let mut tenant = Tenant::default();
    if server != "org" && server != "default" {
        tenant
            .authorization_servers
            .push(mock_idp::AuthorizationServer::new(&server));
    }
    tenant.clients.push(client_of(&profile));
    let tenant = tenant
        .validated()
        .map_err(|e| RunError(format!("the profile's client is not valid: {e}")))?;
    let addr = profile
        .profile
        .idp_addr
        .unwrap_or_else(|| "127.0.0.1:0".parse().expect("valid address"));
    let mut builder = MockIdp::builder().tenant(tenant).addr(addr);
    if profile.profile.idp_tls {
        builder = builder.tls(mock_idp::TlsConfig::fixture());
    }
    let idp = builder
        .start()
        .await
        .map_err(|e| RunError(format!("the mock IdP could not start: {e}")))?;
    let issuer = idp.issuer(&server);
    let mut rp_origins: Vec<String> = std::iter::once(&profile.profile.login_url)
        .chain(&profile.profile.redirect_uris)
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    rp_origins.dedup();
    let mut secrets: Vec<String> = profile.profile.client_secret.iter().cloned().collect();
    secrets.retain(|s| !s.is_empty());
    let timeout = opts
        .timeout
        .unwrap_or(Duration::from_secs(profile.profile.timeout_secs));
    let driver = opts.driver.unwrap_or(profile.profile.driver);
    let chrome = match driver {
        crate::profile::Driver::Browser => Some(tokio::sync::Mutex::new(
            crate::browser::ChromeDriver::start()
                .await
                .map_err(RunError)?,
        )),
        crate::profile::Driver::Http => None,
    };
    let ctx = Arc::new(Ctx {
        idp,
        profile,
        states: Mutex::default(),
        rp_origins,
        secrets,
        server,
        timeout,
        password: opts.user_password.clone(),
        screenshots: opts.screenshots.clone(),
        chrome,
    });
    let mut vars = BTreeMap::new();
    vars.insert("issuer", issuer.clone());
    vars.insert("client_id", ctx.profile.profile.client_id.clone());
    vars.insert(
        "client_secret",
        ctx.profile
            .profile
            .client_secret
            .clone()
            .unwrap_or_default(),
    );
    vars.insert("redirect_uri", ctx.profile.profile.redirect_uris[0].clone());
    let ca_file = match ctx.idp.ca_pem() {
        Some(pem) => {
            let path =
                std::env::temp_dir().join(format!("oidc-harness-ca-{}.pem", std::process::id()));
            mock_idp::cli::write_atomic(&path, pem.as_bytes()).map_err(|e| {
                RunError(format!("{}: cannot write the CA file: {e}", path.display()))
            })?;
            path.display().to_string()
        }
        None => String::new(),
    };
    vars.insert("ca_file", ca_file);
    vars.insert("profile_dir", ctx.profile.dir.display().to_string());
    let mut rp = start_rp(&ctx, &vars).await?;

    let rp_name = ctx.profile.profile.name.clone();
    for s in sinks.iter_mut() {
        let _ = s.event(&Event::Started {
            total: scenarios.len(),
            rp: &rp_name,
        });
    }
    let caps = &ctx.profile.profile.capabilities;
    let mut results = Vec::new();
    let (mut exclusive, mut parallel) = (Vec::new(), Vec::new());
    for l in scenarios {
        if let Some(missing) = l.scenario.requires.iter().find(|c| !caps.contains(c)) {
            let name = serde_json::to_value(missing)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let r = blank(
                &l.scenario,
                Verdict::Skip,
                format!("the RP's profile does not declare the `{name}` capability"),
                0,
            );
            emit(sinks, &r);
            results.push(r);
        } else if let Some(why) = driver_skip(&l.scenario, ctx.chrome.is_some()) {
            let r = blank(&l.scenario, Verdict::Skip, why.into(), 0);
            emit(sinks, &r);
            results.push(r);
        } else if l.scenario.exclusive() {
            exclusive.push(l);
        } else {
            parallel.push(l);
        }
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for l in parallel {
        let (ctx, permits) = (ctx.clone(), permits.clone());
        set.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            isolated(ctx, l.scenario).await
        });
    }
    while let Some(done) = set.join_next().await {
        let r = done.map_err(|e| RunError(format!("a scenario task failed: {e}")))?;
        emit(sinks, &r);
        results.push(r);
    }
    let restart = ctx
        .profile
        .profile
        .start
        .as_ref()
        .is_some_and(|s| s.restart == crate::profile::Restart::Exclusive);
    for l in exclusive {
        if restart {
            if let Some(p) = rp.take() {
                p.stop().await;
            }
            rp = start_rp(&ctx, &vars).await?;
        }
        let r = isolated(ctx.clone(), l.scenario.clone()).await;
        emit(sinks, &r);
        results.push(r);
    }
    if let Some(p) = rp.take() {
        p.stop().await;
    }
    results.sort_by(|a, b| a.suite.cmp(&b.suite).then(a.id.cmp(&b.id)));
    let report = RunReport {
        tool: "oidc-harness".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        rp: rp_name,
        issuer,
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        summary: Summary::of(&results),
        scenarios: results,
    };
    for s in sinks.iter_mut() {
        let _ = s.event(&Event::Done(&report));
    }
    Ok(report)
}

fn emit(sinks: &mut [Box<dyn Sink>], r: &ScenarioReport) {
    for s in sinks.iter_mut() {
        let _ = s.event(&Event::Finished(r));
    }
}

/// A report of `s` with nothing observed yet.
fn blank(s: &Scenario, verdict: Verdict, note: String, ms: u64) -> ScenarioReport {
    ScenarioReport {
        id: s.id.clone(),
        title: s.title.clone(),
        suite: s.suite_name().to_string(),
        references: s.references.clone(),
        verdict,
        expected: s.expect.clone(),
        observed: Observed::default(),
        notes: if note.is_empty() { vec![] } else { vec![note] },
        screenshot: None,
        findings: vec![],
        faults: s.fault_labels(),
        duration_ms: ms,
        trace: Trace::default(),
    }
}

/// Why a scenario cannot run with this driver, if it cannot.
fn driver_skip(s: &Scenario, browser: bool) -> Option<&'static str> {
    if !browser
        && s.requires
            .contains(&crate::scenario::Capability::Javascript)
    {
        return Some("it needs a browser that runs JavaScript: run with --driver browser");
    }
    if browser && s.user_agent.replay_callback {
        return Some(
            "the browser driver cannot replay a callback (WebDriver does not show the redirect): run it with the HTTP driver",
        );
    }
    None
}

/// One scenario in a task of its own: a panic in it becomes an `error` verdict for that
/// scenario, and the run goes on.
async fn isolated(ctx: Arc<Ctx>, s: Scenario) -> ScenarioReport {
    let inner = {
        let s = s.clone();
        tokio::spawn(async move { bounded(&ctx, &s).await })
    };
    match inner.await {
        Ok(r) => r,
        Err(e) => blank(
            &s,
            Verdict::Error,
            format!("the harness failed on this scenario: {e}"),
            0,
        ),
    }
}

/// One scenario within the timeout; an RP that hangs gives an `error` verdict.
async fn bounded(ctx: &Arc<Ctx>, s: &Scenario) -> ScenarioReport {
    let started = Instant::now();
    let before = ctx.idp.journal_seq();
    let session = match &ctx.chrome {
        Some(chrome) => match chrome
            .lock()
            .await
            .session(ctx.profile.profile.idp_tls)
            .await
        {
            Ok(c) => Some(c),
            Err(e) => return blank(s, Verdict::Error, e, started.elapsed().as_millis() as u64),
        },
        None => None,
    };
    let outcome =
        tokio::time::timeout(ctx.timeout, run_one(ctx, s, before, session.as_ref())).await;
    if let Some(c) = session {
        // Closed whatever happened in the scenario (its profile folder goes with ChromeDriver).
        let _ = c.close().await;
    }
    match outcome {
        Ok(r) => r,
        Err(_) => {
            let ms = started.elapsed().as_millis() as u64;
            let mut r = blank(
                s,
                Verdict::Error,
                format!(
                    "timed out after {} s: the RP did not finish the flow",
                    ctx.timeout.as_secs()
                ),
                ms,
            );
            r.trace.journal = ctx
                .idp
                .journal_since(before)
                .into_iter()
                .filter(|e| {
                    e.user_id.as_deref()
                        == Some(mock_idp::ids::stable_okta_id("00u", &login_of(s)).as_str())
                })
                .collect();
            r
        }
    }
}

/// The browser of one scenario: the HTTP driver, or a Chromium session.
enum Agent<'a> {
    Http(Browser),
    Web(crate::browser::WebBrowser<'a>),
}

impl Agent<'_> {
    async fn login(
        &mut self,
        start: &str,
        user: &str,
        password: &str,
        m: Mischief,
    ) -> Result<Page, crate::driver::DriverError> {
        match self {
            Agent::Http(b) => b.login(start, user, password, m).await,
            Agent::Web(b) => b.login(start, user, password, m.lose_rp_cookies).await,
        }
    }

    async fn visit(&mut self, url: &str) -> Result<Page, crate::driver::DriverError> {
        match self {
            Agent::Http(b) => b.visit(url).await,
            Agent::Web(b) => b.visit(url).await,
        }
    }

    fn hops(&self) -> &[crate::driver::Hop] {
        match self {
            Agent::Http(b) => &b.hops,
            Agent::Web(b) => &b.hops,
        }
    }
}

/// Saves a PNG of the browser's final page (browser driver only) and returns its path
/// relative to the report folder.
async fn shoot(ctx: &Ctx, s: &Scenario, agent: &Agent<'_>) -> Option<String> {
    let (Agent::Web(b), Some(dir)) = (agent, &ctx.screenshots) else {
        return None;
    };
    let png = b.screenshot().await?;
    let rel = format!("screenshots/{}.png", s.id);
    std::fs::create_dir_all(dir.join("screenshots")).ok()?;
    mock_idp::cli::write_atomic(&dir.join(&rel), &png).ok()?;
    Some(rel)
}

/// The login of a scenario's user (an email unless the scenario wants none).
fn login_of(s: &Scenario) -> String {
    if s.user.email {
        format!("{}@harness.test", s.id)
    } else {
        format!("{}.harness", s.id)
    }
}

async fn run_one(
    ctx: &Ctx,
    s: &Scenario,
    before: u64,
    session: Option<&fantoccini::Client>,
) -> ScenarioReport {
    let started = Instant::now();
    let ms = || started.elapsed().as_millis() as u64;
    let email = format!("{}@harness.test", s.id);
    let login = login_of(s);
    let password = ctx
        .password
        .clone()
        .unwrap_or_else(|| mock_idp::ids::random_b64(18));
    let mut user = User::new(&login, &password);
    user.profile.given_name = Some("Harness".into());
    user.profile.family_name = Some(s.id.clone());
    user.profile.email = s.user.email.then(|| email.clone());
    user.profile.email_verified = s.user.email_verified;
    user.groups = s.user.groups.clone();
    if s.user.assigned {
        user.groups.push(ASSIGNED.into());
    }
    let user_id = user.id.clone();
    if let Err(e) = ctx.idp.upsert_user(user) {
        return blank(
            s,
            Verdict::Error,
            format!("cannot provision the scenario's user: {e}"),
            ms(),
        );
    }
    let mut guards = Vec::new();
    for f in &s.faults {
        let f = if f.id.doc().scoped {
            f.clone().for_user(login.clone())
        } else {
            f.clone()
        };
        match ctx.idp.arm(f) {
            Ok(g) => guards.push(g),
            Err(e) => return blank(s, Verdict::Error, format!("cannot arm a fault: {e}"), ms()),
        }
    }
    let mut secrets = ctx.secrets.clone();
    secrets.push(password.clone());
    let http = match session {
        Some(_) => Ok(None),
        None => Browser::new(
            ctx.idp.uri(),
            ctx.rp_origins.clone(),
            ctx.idp.ca_pem(),
            secrets.clone(),
        )
        .map(Some),
    };
    let mut browser = match http {
        Ok(Some(b)) => Agent::Http(b),
        Ok(None) => Agent::Web(crate::browser::WebBrowser::new(
            session.expect("a session in browser mode"),
            ctx.idp.uri(),
            ctx.rp_origins.clone(),
            secrets.clone(),
            ctx.profile.profile.settled_when.clone(),
        )),
        Err(e) => {
            return blank(
                s,
                Verdict::Error,
                format!("cannot build the HTTP driver: {e}"),
                ms(),
            );
        }
    };
    let last_login = s
        .steps
        .iter()
        .rposition(|st| *st == Step::Login)
        .unwrap_or(0);
    let mut observed = Observed::default();
    let mut notes = Vec::new();
    let mut early_refusal = false;
    for (i, step) in s.steps.iter().enumerate() {
        let result = match step {
            Step::Login if i == last_login && s.user_agent.unsolicited_callback => {
                let url = unsolicited_url(ctx);
                browser
                    .login(&url, &login, &password, Mischief::default())
                    .await
            }
            Step::Login => {
                let mischief = if i == last_login {
                    Mischief {
                        lose_rp_cookies: s.user_agent.lose_rp_cookies,
                        replay_callback: s.user_agent.replay_callback,
                    }
                } else {
                    Mischief::default()
                };
                browser
                    .login(&ctx.profile.profile.login_url, &login, &password, mischief)
                    .await
            }
            Step::Logout => match &ctx.profile.profile.logout_url {
                Some(u) => browser.visit(u).await,
                None => {
                    notes.push("the profile has no logout_url".into());
                    continue;
                }
            },
            Step::RotateKeys | Step::RotateKeysDropOld => {
                if let Err(e) = ctx.idp.rotate_keys(&ctx.server, *step == Step::RotateKeys) {
                    notes.push(format!("cannot rotate keys: {e}"));
                }
                continue;
            }
        };
        let page = match result {
            Ok(p) => p,
            Err(e) => {
                let mut r = blank(
                    s,
                    Verdict::Error,
                    format!("the browser could not finish: {e}"),
                    ms(),
                );
                r.trace = trace(ctx, s, browser.hops(), before, &user_id);
                r.screenshot = shoot(ctx, s, &browser).await;
                return r;
            }
        };
        if *step == Step::Login {
            observed = observe(ctx, &page, &email, &secrets);
            if i != last_login && observed.result != Some(Outcome::Accept) {
                early_refusal = true;
                notes.push(format!(
                    "login step {} was refused before the scenario's last login",
                    i + 1
                ));
                break;
            }
        }
    }
    drop(guards);
    let trace = trace(ctx, s, browser.hops(), before, &user_id);
    let rejected = observed.result == Some(Outcome::Reject);
    let (mut verdict, mut why) = judge(
        &s.expect,
        &observed,
        ctx.profile.profile.outcome.rejections_only,
    );
    if early_refusal {
        verdict = Verdict::Fail;
    }
    if observed.result.is_some()
        && url::Url::parse(&observed.final_url)
            .is_ok_and(|u| u.origin().ascii_serialization() == ctx.idp.uri())
    {
        verdict = Verdict::Error;
        why.push("the browser ended on an IdP page: the login never came back to the RP".into());
    }
    let broken = evidence(&s.evidence, &trace.journal, rejected);
    if !broken.is_empty() && verdict == Verdict::Pass {
        verdict = Verdict::Fail;
    }
    notes.extend(why);
    notes.extend(broken);
    let findings = findings(&trace.journal, &ctx.states, rejected);
    let screenshot = if verdict == Verdict::Pass {
        None
    } else {
        shoot(ctx, s, &browser).await
    };
    ScenarioReport {
        screenshot,
        observed,
        notes,
        findings,
        trace,
        ..blank(s, verdict, String::new(), ms())
    }
}

fn observe(ctx: &Ctx, page: &Page, email: &str, secrets: &[String]) -> Observed {
    let p = &ctx.profile;
    let accepted = p.is_success(page.status, &page.url, &page.body, email);
    let text = text_of(&page.body);
    let excerpt: String = redact::text(&text, secrets).chars().take(240).collect();
    Observed {
        result: Some(if accepted {
            Outcome::Accept
        } else {
            Outcome::Reject
        }),
        code: if accepted {
            None
        } else {
            p.outcome_code(&page.url, &page.body)
        },
        final_url: redact::text(&redact::url(&page.url), secrets),
        status: page.status,
        excerpt,
    }
}

/// An authorization request the RP never made, answered to its redirect URI.
fn unsolicited_url(ctx: &Ctx) -> String {
    let base = if ctx.server == "org" {
        format!("{}/oauth2/v1/authorize", ctx.idp.uri())
    } else {
        format!("{}/v1/authorize", ctx.idp.issuer(&ctx.server))
    };
    let mut u = url::Url::parse(&base).expect("the IdP's URL parses");
    u.query_pairs_mut()
        .append_pair("client_id", &ctx.profile.profile.client_id)
        .append_pair("redirect_uri", &ctx.profile.profile.redirect_uris[0])
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("state", &mock_idp::ids::random_b64(16))
        .append_pair("nonce", &mock_idp::ids::random_b64(16))
        // A challenge, so that public clients (which must use PKCE) get a code too.
        .append_pair("code_challenge", &mock_idp::ids::random_b64(32))
        .append_pair("code_challenge_method", "S256");
    u.into()
}

/// The journal of this flow: the user's entries, plus the authorize requests this
/// browser sent (journaled before anyone signed in, so without a user), matched by
/// client, state, nonce and redirect URI; with everything else when the scenario ran alone.
fn trace(
    ctx: &Ctx,
    s: &Scenario,
    hops: &[crate::driver::Hop],
    before: u64,
    user_id: &str,
) -> Trace {
    let exclusive = s.exclusive();
    let mut sent: Vec<Vec<(String, String)>> = hops
        .iter()
        .filter(|h| h.to == crate::driver::Party::Idp && h.url.contains("/v1/authorize"))
        .filter_map(|h| url::Url::parse(&h.url).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .collect();
    let param =
        |q: &[(String, String)], k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let journal: Vec<JournalEntry> = ctx
        .idp
        .journal_since(before)
        .into_iter()
        .filter(|e| {
            if e.user_id.as_deref() == Some(user_id) || (exclusive && e.user_id.is_none()) {
                return true;
            }
            if e.endpoint != Some(mock_idp::Endpoint::Authorize) || e.user_id.is_some() {
                return false;
            }
            let hit = sent.iter().position(|q| {
                param(q, "client_id") == e.client_id
                    && param(q, "state") == e.state
                    && param(q, "nonce") == e.nonce
                    && param(q, "redirect_uri") == e.redirect_uri
            });
            hit.map(|i| sent.remove(i)).is_some()
        })
        .map(|mut e| {
            if let Some(u) = e.redirect_uri.take() {
                e.redirect_uri = Some(redact::url(&u));
            }
            e
        })
        .collect();
    Trace {
        hops: hops.to_vec(),
        journal,
    }
}
