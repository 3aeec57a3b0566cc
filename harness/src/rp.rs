//! The relying party's process and its own words.
//!
//! The RP is started from its profile in a process group of its own, polled until ready,
//! and stopped with its whole group. Its stdout and stderr are read line by line into one
//! [`RpLog`] for the whole run (appended across restarts, redacted like reports, also
//! written to `rp.log` in the report folder), so each scenario can quote what the RP said
//! while it ran, and a refusal at start-up can be read from it.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::profile::{Start, template};
use crate::report::redact;

/// At most this many lines stay in memory (the file keeps them all).
const KEPT_LINES: usize = 20_000;
/// Longer lines are cut.
const MAX_LINE: usize = 2_000;

/// The RP's output for the whole run: numbered lines, redacted.
#[derive(Clone, Default)]
pub struct RpLog {
    inner: Arc<Mutex<LogInner>>,
}

#[derive(Default)]
struct LogInner {
    lines: VecDeque<String>,
    /// Number of the first line in `lines` (earlier ones were dropped from memory).
    first: usize,
    file: Option<std::fs::File>,
    path: Option<PathBuf>,
    /// The first error writing the file (a full disk): the run reports it.
    write_error: Option<String>,
    secrets: Vec<String>,
    /// What the IdP issued and knows, replaced in every line.
    known: Option<mock_idp::Redactor>,
}

impl std::fmt::Debug for RpLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpLog").field("path", &self.path()).finish()
    }
}

impl RpLog {
    /// A log kept in memory and, when `path` is given, written to that file.
    pub fn new(path: Option<&Path>) -> Result<Self, String> {
        let file = match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
                }
                Some(
                    std::fs::File::create(p)
                        .map_err(|e| format!("{}: cannot write the RP's log: {e}", p.display()))?,
                )
            }
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Mutex::new(LogInner {
                file,
                path: path.map(Path::to_path_buf),
                ..LogInner::default()
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the log is written, if anywhere.
    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// Redacts every line also with what the IdP knows (codes, tokens, secrets it issued).
    pub fn set_redactor(&self, r: mock_idp::Redactor) {
        self.lock().known = Some(r);
    }

    /// Why the file could not be written to the end, if it could not.
    pub fn write_error(&self) -> Option<String> {
        self.lock().write_error.clone()
    }

    /// Adds values that must never appear (passwords of scenario users).
    pub fn add_secret(&self, secret: &str) {
        if secret.len() >= 4 {
            self.lock().secrets.push(secret.to_string());
        }
    }

    /// Appends one line, redacted.
    pub fn push(&self, line: &str) {
        let mut inner = self.lock();
        let mut line = redact::log_line(line.trim_end(), &inner.secrets);
        if let Some(k) = &inner.known {
            line = k.redact(&line);
        }
        if line.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push_str(" …");
        }
        if let Some(f) = inner.file.as_mut() {
            if let Err(e) = writeln!(f, "{line}") {
                let path = inner.path.clone().unwrap_or_default();
                inner.file = None;
                inner.write_error = Some(format!("{}: {e}", path.display()));
            }
        }
        inner.lines.push_back(line);
        if inner.lines.len() > KEPT_LINES {
            inner.lines.pop_front();
            inner.first += 1;
        }
    }

    /// A line of the harness's own, to find one's way in the file.
    pub fn note(&self, what: &str) {
        self.push(&format!("── oidc-harness: {what} ──"));
    }

    /// The number of the next line (a mark to slice from).
    pub fn mark(&self) -> usize {
        let inner = self.lock();
        inner.first + inner.lines.len()
    }

    /// The lines from mark `from` up to mark `to` (to the end without it), the RP's own.
    pub fn between(&self, from: usize, to: Option<usize>) -> Vec<String> {
        let inner = self.lock();
        let skip = from.saturating_sub(inner.first);
        let take = to.map_or(usize::MAX, |t| t.saturating_sub(from.max(inner.first)));
        inner
            .lines
            .iter()
            .skip(skip)
            .take(take)
            .filter(|l| !l.starts_with("── oidc-harness:"))
            .cloned()
            .collect()
    }

    /// The lines from `mark` on (the RP's own, without the harness's markers).
    pub fn since(&self, mark: usize) -> Vec<String> {
        let inner = self.lock();
        let skip = mark.saturating_sub(inner.first);
        inner
            .lines
            .iter()
            .skip(skip)
            .filter(|l| !l.starts_with("── oidc-harness:"))
            .cloned()
            .collect()
    }
}

/// A running RP process.
pub struct RpProcess {
    child: tokio::process::Child,
    pgid: Option<u32>,
    /// The tasks reading its output into the log.
    pumps: Vec<tokio::task::JoinHandle<()>>,
}

/// Why the RP could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// Something else already answers where the RP should listen: nothing was started.
    #[error("{0}")]
    PortInUse(String),
    /// The command could not be run (no such program, no such folder).
    #[error("{0}")]
    Spawn(String),
    /// It started, but exited or never got ready.
    #[error("{0}")]
    NotReady(String),
    /// Its `build` failed or did not finish.
    #[error("{0}")]
    Build(String),
}

/// The `host:port` a URL's server listens on.
fn socket_of(url: &str) -> Option<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let u = url::Url::parse(url).ok()?;
    let port = u.port_or_known_default()?;
    (u.host_str()?, port).to_socket_addrs().ok()?.next()
}

/// Whether something accepts connections at `addr` now.
fn answers(addr: std::net::SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// Fails when another process already listens where the RP's `ready_url` points (waiting
/// up to `grace` for a stopped RP's port to close): its answers would be blamed on the RP.
pub async fn ensure_port_free(ready_url: &str, grace: Duration) -> Result<(), StartError> {
    let Some(addr) = socket_of(ready_url) else {
        return Ok(());
    };
    let started = Instant::now();
    let mut backoff = Backoff::up_to(Duration::from_millis(50));
    while answers(addr) {
        if started.elapsed() >= grace {
            return Err(StartError::PortInUse(format!(
                "port {} is already in use by another process (something answers on {addr} before the RP started; stop it, or give the RP another port)",
                addr.port()
            )));
        }
        backoff.wait().await;
    }
    Ok(())
}

/// The pause between two polls: 2 ms at first, doubling up to a ceiling, so that what
/// is ready at once is seen at once (an RP restarts for every exclusive scenario) and
/// what is slow is not polled hard.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn up_to(max: Duration) -> Self {
        Self {
            next: Duration::from_millis(2).min(max),
            max,
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

impl RpProcess {
    /// Starts the RP in a process group of its own, its output read into `log`.
    pub fn start(
        start: &Start,
        vars: &BTreeMap<&str, String>,
        dir: &Path,
        log: &RpLog,
    ) -> Result<Self, StartError> {
        Self::spawn(&start.command, start, vars, dir, log)
    }

    /// Runs `build` (the profile's) to its end, as the RP is started (in `cwd`, with
    /// `env`, its output read into `log`). It must exit 0 within `timeout`; one that does
    /// not finish is stopped, with whatever it started.
    pub async fn build(
        build: &[String],
        start: &Start,
        vars: &BTreeMap<&str, String>,
        dir: &Path,
        log: &RpLog,
        timeout: Duration,
    ) -> Result<(), StartError> {
        // As written in the profile, not templated: a template may hold the secret.
        let shown = build.join(" ");
        let mut p = Self::spawn(build, start, vars, dir, log)?;
        let done = tokio::time::timeout(timeout, p.child.wait()).await;
        // Its last lines are in the log before they are quoted.
        for pump in std::mem::take(&mut p.pumps) {
            let _ = tokio::time::timeout(Duration::from_secs(1), pump).await;
        }
        p.stop().await;
        match done {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(StartError::Build(format!(
                "its build `{shown}` exited with {status}"
            ))),
            Ok(Err(e)) => Err(StartError::Build(format!(
                "its build `{shown}` could not be waited for: {e}"
            ))),
            Err(_) => Err(StartError::Build(format!(
                "its build `{shown}` did not finish within {} s (`ready_timeout_secs`)",
                timeout.as_secs()
            ))),
        }
    }

    fn spawn(
        command: &[String],
        start: &Start,
        vars: &BTreeMap<&str, String>,
        dir: &Path,
        log: &RpLog,
    ) -> Result<Self, StartError> {
        let argv: Vec<String> = command.iter().map(|a| template(a, vars)).collect();
        let cwd = match &start.cwd {
            Some(c) => dir.join(c),
            None => dir.to_path_buf(),
        };
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        for (k, v) in &start.env {
            cmd.env(k, template(v, vars));
        }
        let mut child = cmd.spawn().map_err(|e| {
            StartError::Spawn(format!(
                "cannot start `{}` in {}: {e}",
                argv.join(" "),
                cwd.display()
            ))
        })?;
        log.note(&format!("started `{}`", argv[0]));
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(out, log.clone())));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(err, log.clone())));
        }
        let pgid = child.id();
        Ok(Self { child, pgid, pumps })
    }

    /// Polls `url` until it answers below 500, the process dies, or `timeout` passes. An
    /// answer counts only while the process it started is alive.
    pub async fn wait_ready(
        &mut self,
        url: &str,
        timeout: Duration,
    ) -> Result<Duration, StartError> {
        let not_ready = StartError::NotReady;
        let client = mock_idp::http_client::build(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .redirect(reqwest::redirect::Policy::none()),
            None,
        )
        .map_err(not_ready)?;
        let started = Instant::now();
        let mut backoff = Backoff::up_to(Duration::from_millis(50));
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(not_ready(format!(
                    "the RP exited with {status} before it was ready"
                )));
            }
            if let Ok(r) = client.get(url).send().await {
                if r.status().as_u16() < 500 {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(not_ready(format!(
                            "the RP exited with {status}, yet something answers {url}: another process"
                        )));
                    }
                    return Ok(started.elapsed());
                }
            }
            backoff.wait().await;
        }
        Err(not_ready(format!(
            "the RP did not answer {url} within {} s",
            timeout.as_secs()
        )))
    }

    /// The process id (the leader of its group).
    pub fn pid(&self) -> Option<u32> {
        self.pgid
    }

    /// Stops the whole process group: TERM, then KILL after two seconds, and every
    /// descendant that left the group.
    pub async fn stop(mut self) {
        if let Some(pgid) = self.pgid.take() {
            let family = crate::procs::descendants(pgid);
            signal_group(pgid, Signal::Term);
            // Its exit is awaited, not polled for.
            let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
            crate::procs::kill_tree(pgid);
            for pid in family {
                crate::procs::kill_tree(pid);
            }
            let _ = self.child.wait().await;
        }
    }
}

/// Reads a pipe line by line into the log, until the process closes it.
async fn pump(pipe: impl AsyncRead + Unpin, log: RpLog) {
    let mut lines = BufReader::new(pipe).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => log.push(&line),
            Ok(None) => break,
            // Not UTF-8: keep going with what can be read.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                log.push("(a line that is not UTF-8)")
            }
            Err(_) => break,
        }
    }
}

impl Drop for RpProcess {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            crate::procs::kill_tree(pgid);
        }
    }
}

use crate::procs::{Signal, signal_group};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_redacted_numbered_and_sliced() {
        let log = RpLog::new(None).unwrap();
        log.add_secret("hunter22");
        log.push("GET /callback?code=abc123&state=s1 HTTP/1.1");
        let mark = log.mark();
        log.note("scenario x");
        log.push("password hunter22 token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln");
        assert_eq!(
            log.since(0)[0],
            "GET /callback?code=[redacted]&state=s1 HTTP/1.1"
        );
        assert_eq!(log.since(mark), vec!["password [redacted] token [jwt]"]);
    }
}
