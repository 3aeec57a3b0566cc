//! Runs scenarios against one relying party, in four jobs, one module each:
//! [`schedule`] (which scenarios run, alone or in parallel, and the RP's restarts),
//! [`provision`] (the mock IdP, the RP's client, a user and armed faults per scenario),
//! [`play`] (the steps, through either driver) and [`trace`] (the journal of a flow, cut
//! by step, and which faults it proves struck). The verdict is [`crate::verdict::judge`]'s.
//!
//! Scenarios whose faults can be aimed at their own user run in parallel (`--jobs`);
//! those that change what every user sees (discovery, keys, rotation) run alone,
//! afterwards, each with its faults armed *before* the RP is restarted (an RP reads
//! discovery and keys when it starts): an RP that cannot start with them has refused.

pub mod play;
pub mod provision;
pub mod schedule;
pub mod trace;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_idp::MockIdp;

pub use schedule::in_partition;

use crate::profile::Compiled;
use crate::report::{Event, RunReport, Sink, Summary, rfc3339};
use crate::rp::{RpLog, RpProcess, StartError};
use crate::scenario::Loaded;

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenarios at once (default: [`default_jobs`] of the CPUs this process may use).
    pub jobs: usize,
    /// Run only slice `k` of `n` (1-based), chosen by a stable hash of the scenario id.
    pub partition: Option<(usize, usize)>,
    /// Per-scenario timeout, overriding the profile's.
    pub timeout: Option<Duration>,
    /// The password of every scenario user (default: a random one per scenario).
    pub user_password: Option<String>,
    /// The driver, overriding the profile's.
    pub driver: Option<crate::profile::Driver>,
    /// The report folder: the RP's log (`rp.log`) and screenshots of scenarios that do
    /// not pass go there. Without it they stay in memory (and in the reports).
    pub out_dir: Option<PathBuf>,
    /// On SIGINT or SIGTERM, stop everything the run started and report what finished,
    /// marked `interrupted` (the command line sets it; a library caller keeps its own
    /// signal handling).
    pub handle_signals: bool,
    /// OpenID Foundation plans to judge from the scenarios' verdicts (the report says
    /// whether the RP would pass each).
    pub plans: Vec<&'static crate::oidf::Plan>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            jobs: default_jobs(std::thread::available_parallelism().map_or(2, |n| n.get())),
            partition: None,
            timeout: None,
            user_password: None,
            driver: None,
            out_dir: None,
            handle_signals: false,
            plans: Vec::new(),
        }
    }
}

/// Scenarios at once by default: one per CPU, and never fewer than two. A scenario mostly
/// waits on the RP and the IdP, and one at a time also makes each wait ~50 ms for the RP's
/// log to settle (so that every step keeps its own log lines): on one CPU the sample RP's
/// catalog took 8.0 s one at a time and 0.7-0.8 s two at once.
pub fn default_jobs(cpus: usize) -> usize {
    cpus.max(2)
}

/// The harness could not run at all (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// What every scenario of a run shares.
pub(crate) struct Ctx {
    pub idp: MockIdp,
    pub profile: Compiled,
    pub states: Mutex<HashSet<String>>,
    pub rp_origins: Vec<String>,
    pub secrets: Vec<String>,
    pub server: String,
    pub timeout: Duration,
    pub password: Option<String>,
    pub out_dir: Option<PathBuf>,
    pub chrome: Option<tokio::sync::Mutex<crate::driver::chromium::ChromeDriver>>,
    /// Stops ChromeDriver and its browsers (and deletes their profiles) even while a
    /// task holds it.
    pub chrome_stopper: Option<crate::driver::chromium::Stopper>,
    pub log: RpLog,
    /// Scenarios run one at a time, so each step's RP log lines are its own (with
    /// several at once they interleave, and steps keep none).
    pub step_logs: bool,
}

impl Ctx {
    /// Whether the RP is a public client (no secret).
    pub fn public_client(&self) -> bool {
        let p = &self.profile.profile;
        p.client_secret.as_deref().is_none_or(str::is_empty)
            || p.auth_method == Some(mock_idp::AuthMethod::None)
    }
}

/// The RP process of a run, restarted by the scheduler.
pub(crate) struct Rp {
    vars: BTreeMap<&'static str, String>,
    process: Option<RpProcess>,
    /// How long its first start took to get ready: a restart that takes far longer is a
    /// refusal at start-up, not something to wait the whole `ready_timeout_secs` for
    /// (that budget is for first runs that install the RP).
    first_ready: Option<Duration>,
    /// The CA file `{ca_file}` names, deleted with the run's `Rp`.
    _ca_file: Option<provision::RunFile>,
}

impl Rp {
    /// Starts the RP (when its profile says how) and waits until it is ready. Its port
    /// must be free first: another program's answers must not be blamed on the RP. On
    /// failure the process is gone and the error says why, quoting its last log lines.
    pub async fn start(&mut self, ctx: &Ctx, why: &str) -> Result<(), StartError> {
        let restart = self.process.is_some();
        self.stop().await;
        let Some(start) = &ctx.profile.profile.start else {
            return Ok(());
        };
        // A stopped RP's port may take a moment to close.
        let grace = Duration::from_secs(if restart { 3 } else { 0 });
        crate::rp::ensure_port_free(&start.ready_url, grace).await?;
        ctx.log.note(why);
        let mark = ctx.log.mark();
        let configured = Duration::from_secs(start.ready_timeout_secs);
        let timeout = match self.first_ready {
            Some(d) => configured.min((d * 4).max(Duration::from_secs(10))),
            None => configured,
        };
        let mut p = RpProcess::start(start, &self.vars, &ctx.profile.dir, &ctx.log)?;
        match p.wait_ready(&start.ready_url, timeout).await {
            Ok(took) => {
                self.first_ready.get_or_insert(took);
                self.process = Some(p);
                Ok(())
            }
            Err(e) => {
                p.stop().await;
                Err(match e {
                    StartError::NotReady(m) => {
                        StartError::NotReady(format!("{m}{}", last_words(ctx, mark)))
                    }
                    other => other,
                })
            }
        }
    }

    /// Runs the profile's `build`, once in a run, before the RP first starts (and before
    /// any fault is armed: a build that fails is the run's error, not the RP's refusal).
    pub async fn build(
        &self,
        ctx: &Ctx,
        start: &crate::profile::Start,
        build: &[String],
    ) -> Result<(), StartError> {
        ctx.log.note("build");
        let mark = ctx.log.mark();
        let timeout = Duration::from_secs(start.ready_timeout_secs);
        RpProcess::build(
            build,
            start,
            &self.vars,
            &ctx.profile.dir,
            &ctx.log,
            timeout,
        )
        .await
        .map_err(|e| match e {
            StartError::Build(m) => StartError::Build(format!("{m}{}", last_words(ctx, mark))),
            other => other,
        })
    }

    /// Stops it, if it runs.
    pub async fn stop(&mut self) {
        if let Some(p) = self.process.take() {
            p.stop().await;
        }
    }
}

/// The RP's last log lines since `mark`, to quote in an error.
fn last_words(ctx: &Ctx, mark: usize) -> String {
    let tail = ctx.log.since(mark);
    let tail: Vec<&String> = tail.iter().rev().take(8).rev().collect();
    if tail.is_empty() {
        " (it printed nothing)".to_string()
    } else {
        format!(
            "; its last words: {}",
            tail.iter()
                .map(|l| format!("«{l}»"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

/// Collects what sinks could not do: a report not written is an error of the run.
struct Sinks<'a> {
    sinks: &'a mut [Box<dyn Sink>],
    errors: Vec<String>,
}

impl Sinks<'_> {
    fn send(&mut self, event: &Event<'_>) {
        for s in self.sinks.iter_mut() {
            if let Err(e) = s.event(event) {
                let what = s.name();
                if !self.errors.iter().any(|x| x.starts_with(&what)) {
                    self.errors.push(format!("{what}: {e}"));
                }
            }
        }
    }
}

/// Runs `scenarios` against the RP of `profile`, streaming events to `sinks`. A sink
/// that fails (a report that cannot be written) makes the run fail, after the others
/// were given every event.
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
    let scenarios = schedule::partition(scenarios, opts.partition);
    let defined: Vec<crate::scenario::Scenario> =
        scenarios.iter().map(|l| l.scenario.clone()).collect();
    let (idp, server) = provision::start_idp(&profile).await?;
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
        crate::profile::Driver::Browser => Some(
            crate::driver::chromium::ChromeDriver::start()
                .await
                .map_err(RunError)?,
        ),
        crate::profile::Driver::Http => None,
    };
    let chrome_stopper = chrome.as_ref().map(|c| c.stopper());
    let chrome = chrome.map(tokio::sync::Mutex::new);
    let log =
        RpLog::new(opts.out_dir.as_ref().map(|d| d.join("rp.log")).as_deref()).map_err(RunError)?;
    for s in &secrets {
        log.add_secret(s);
    }
    log.set_redactor(idp.redactor());
    let ctx = Arc::new(Ctx {
        idp,
        profile,
        states: Mutex::default(),
        rp_origins,
        secrets,
        server,
        timeout,
        password: opts.user_password.clone(),
        out_dir: opts.out_dir.clone(),
        chrome,
        chrome_stopper,
        log,
        step_logs: opts.jobs <= 1,
    });
    let (vars, ca_file) = provision::rp_vars(&ctx, &issuer)?;
    let mut rp = Rp {
        vars,
        process: None,
        first_ready: None,
        _ca_file: ca_file,
    };
    let rp_name = ctx.profile.profile.name.clone();
    let mut out = Sinks {
        sinks,
        errors: Vec::new(),
    };
    out.send(&Event::Started {
        total: scenarios.len(),
        rp: &rp_name,
        idp: ctx.idp.personality(),
        jobs: opts.jobs,
    });
    let mut plan = schedule::plan(&ctx, scenarios);
    let mut results = Vec::new();
    for r in std::mem::take(&mut plan.skipped) {
        out.send(&Event::Finished(&r));
        results.push(r);
    }
    let restart = ctx
        .profile
        .profile
        .start
        .as_ref()
        .is_some_and(|s| s.restart == crate::profile::Restart::Exclusive);
    let total = plan.parallel.len() + plan.exclusive.len() + results.len();
    let work = execute(
        &ctx,
        &mut rp,
        plan,
        restart,
        opts.jobs,
        &mut out,
        &mut results,
    );
    let interrupted = if opts.handle_signals {
        tokio::select! {
            done = work => {
                done?;
                None
            }
            signal = shutdown_signal() => Some(signal),
        }
    } else {
        work.await?;
        None
    };
    if let Some(signal) = interrupted {
        // Whatever was running is dropped (its tasks aborted); stop every process the
        // run started, and delete the browsers' profiles, before writing what finished.
        if let Some(stopper) = &ctx.chrome_stopper {
            stopper.stop();
        }
        ctx.log.note(&format!("interrupted by {signal}"));
        eprintln!(
            "\ninterrupted by {signal}: {} of {total} scenario(s) finished; stopping every process the run started",
            results.len()
        );
    }
    if interrupted.is_none() {
        if let Some(chrome) = &ctx.chrome {
            chrome.lock().await.close().await;
        }
    }
    rp.stop().await;
    results.sort_by(|a, b| a.suite.cmp(&b.suite).then(a.id.cmp(&b.id)));
    let plans = opts
        .plans
        .iter()
        .map(|p| crate::oidf::evaluate(p, &ctx.profile.profile, &defined, &results))
        .collect();
    let report = RunReport {
        tool: "oidc-harness".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        rp: rp_name,
        issuer,
        idp: ctx.idp.personality(),
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        summary: Summary::of(&results),
        scenarios: results,
        interrupted: interrupted.map(str::to_string),
        plans,
    };
    out.send(&Event::Done(&report));
    if let Some(e) = ctx.log.write_error() {
        out.errors
            .push(format!("the RP's log was not written to the end: {e}"));
    }
    if !out.errors.is_empty() {
        return Err(RunError(format!(
            "the run finished, but {}",
            out.errors.join("; ")
        )));
    }
    Ok(report)
}

/// Starts the RP, runs the parallel scenarios, then those that run alone; every finished
/// report goes to the sinks and into `results` at once (so an interrupted run keeps them).
async fn execute(
    ctx: &Arc<Ctx>,
    rp: &mut Rp,
    plan: schedule::Plan,
    restart: bool,
    jobs: usize,
    out: &mut Sinks<'_>,
    results: &mut Vec<crate::report::ScenarioReport>,
) -> Result<(), RunError> {
    if let Some((start, build)) = ctx
        .profile
        .profile
        .start
        .as_ref()
        .and_then(|s| Some((s, s.build.as_deref()?)))
    {
        let log = ctx.out_dir.as_ref().map(|d| d.join("rp.log"));
        out.send(&Event::Building {
            command: &build.join(" "),
            log: log.as_deref(),
        });
        let began = Instant::now();
        if let Err(e) = rp.build(ctx, start, build).await {
            return Err(RunError(format!("the RP could not start: {e}")));
        }
        out.send(&Event::Built {
            took: began.elapsed(),
        });
    }
    if !plan.parallel.is_empty() || !restart {
        if let Err(e) = rp.start(ctx, "start").await {
            return Err(RunError(match e {
                StartError::PortInUse(m) => m,
                other => format!("the RP could not start: {other}"),
            }));
        }
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for s in plan.parallel {
        let (ctx, permits) = (ctx.clone(), permits.clone());
        set.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            play::isolated(ctx, s, None).await
        });
    }
    while let Some(done) = set.join_next().await {
        let r = done.map_err(|e| RunError(format!("a scenario task failed: {e}")))?;
        out.send(&Event::Finished(&r));
        results.push(r);
    }
    for s in plan.exclusive {
        let r = schedule::alone(ctx, rp, restart, s).await;
        out.send(&Event::Finished(&r));
        results.push(r);
    }
    Ok(())
}

/// The first SIGINT or SIGTERM: its name.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// Milliseconds since `since`.
pub(crate) fn elapsed_ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// `reproduce --interactive`: the mock IdP with the profile's client and the scenario's
/// user, its faults armed, until Ctrl-C (or SIGTERM), so that a person can click through
/// the product by hand. Prints what to try, then each request the IdP answers as it
/// comes, and at the end which faults struck.
pub async fn interactive(profile: Compiled, s: &crate::scenario::Scenario) -> Result<(), RunError> {
    let (idp, server) = provision::start_idp(&profile).await?;
    let login = provision::login_of(s);
    let password = mock_idp::ids::random_b64(18);
    let user = provision::scenario_user(&profile, s, &login, &password);
    idp.upsert_user(user)
        .map_err(|e| RunError(format!("cannot create the scenario's user: {e}")))?;
    let guards = provision::arm(&idp, s, &login).map_err(RunError)?;
    let p = &profile.profile;
    let expect = match (&s.expect.result, s.expect.code) {
        (crate::scenario::Outcome::Accept, _) => {
            "lets the user in and shows who they are".to_string()
        }
        (crate::scenario::Outcome::StopsAtIdp, _) => {
            "nothing: the IdP stops the login on its own error page".to_string()
        }
        (_, Some(c)) => format!("refuses the login and reports {c}"),
        (r, None) => format!("{r:?}").to_lowercase(),
    };
    let faults = if guards.is_empty() {
        "none".to_string()
    } else {
        guards
            .iter()
            .map(|(l, id, _)| {
                if id.doc().scoped {
                    format!("{l} (aimed at that user)")
                } else {
                    format!("{l} (for everyone)")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("The mock IdP runs `{}` by hand: {}", s.id, s.title);
    println!("  issuer:        {}", idp.issuer(&server));
    println!(
        "  client id:     {} (the client secret: the profile's `client_secret`)",
        p.client_id
    );
    println!("  redirect URIs: {}", p.redirect_uris.join(", "));
    println!("  sign in as:    {login}  password {password}  (made for this session)");
    println!("  faults armed:  {faults}");
    if !s.steps.is_empty() {
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|st| {
                serde_json::to_value(st)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect();
        println!(
            "  steps:         {} (the harness plays them in order)",
            steps.join(", ")
        );
    }
    println!(
        "What to try: point the RP at the issuer with that client, open {} and sign in as the user above.",
        p.login_url
    );
    println!("A correct RP {expect}.");
    if let Some(fix) = &s.expect.fix {
        println!("The usual fix: {fix}.");
    }
    println!("Each request the IdP answers follows; Ctrl-C stops.");
    let mut seen = idp.journal_seq();
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                for e in idp.journal_since(seen) {
                    seen = seen.max(e.seq);
                    println!("  IdP: {}", trace::line(&e));
                }
            }
        }
    }
    for (label, _, g) in &guards {
        match g.fired() {
            0 => println!("`{label}` never struck: the RP did not reach the point where it acts"),
            n => println!("`{label}` struck {n} time(s)"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::default_jobs;

    #[test]
    fn jobs_default_to_one_per_cpu_and_never_fewer_than_two() {
        assert_eq!(default_jobs(1), 2);
        assert_eq!(default_jobs(2), 2);
        assert_eq!(default_jobs(3), 3);
        assert_eq!(default_jobs(16), 16);
    }
}
