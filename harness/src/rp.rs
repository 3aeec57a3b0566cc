//! The relying party's process: started from its profile, polled until ready, stopped
//! with its whole process group.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::profile::{Start, template};

/// A running RP process.
pub struct RpProcess {
    child: tokio::process::Child,
    pgid: Option<u32>,
    /// Where its output goes.
    pub log: PathBuf,
}

impl RpProcess {
    /// Starts the RP in a process group of its own, its output in a log file.
    pub fn start(start: &Start, vars: &BTreeMap<&str, String>, dir: &Path) -> Result<Self, String> {
        let argv: Vec<String> = start.command.iter().map(|a| template(a, vars)).collect();
        let cwd = match &start.cwd {
            Some(c) => dir.join(c),
            None => dir.to_path_buf(),
        };
        let log = std::env::temp_dir().join(format!("oidc-harness-rp-{}.log", std::process::id()));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .process_group(0);
        for (k, v) in &start.env {
            cmd.env(k, template(v, vars));
        }
        let child = cmd.spawn().map_err(|e| {
            format!(
                "cannot start `{}` in {}: {e}",
                argv.join(" "),
                cwd.display()
            )
        })?;
        let pgid = child.id();
        Ok(Self { child, pgid, log })
    }

    /// Polls `url` until it answers below 500, the process dies, or `timeout` passes.
    pub async fn wait_ready(&mut self, url: &str, timeout: Duration) -> Result<Duration, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the RP exited with {status} before it was ready (its output: {})",
                    self.log.display()
                ));
            }
            if let Ok(r) = client.get(url).send().await {
                if r.status().as_u16() < 500 {
                    return Ok(started.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the RP did not answer {url} within {} s (its output: {})",
            timeout.as_secs(),
            self.log.display()
        ))
    }

    /// Stops the whole process group: TERM, then KILL after two seconds.
    pub async fn stop(mut self) {
        if let Some(pgid) = self.pgid.take() {
            signal_group(pgid, "-TERM");
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    signal_group(pgid, "-KILL");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            signal_group(pgid, "-KILL");
            let _ = self.child.wait().await;
        }
    }
}

impl Drop for RpProcess {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            signal_group(pgid, "-KILL");
        }
    }
}

fn signal_group(pgid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
