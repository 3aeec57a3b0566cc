//! Reports: one event stream, many sinks (the terminal, JSON, JUnit XML, Markdown, HTML).

pub mod html;
pub mod junit;
pub mod markdown;
pub mod redact;
pub mod terminal;

use std::path::{Path, PathBuf};

use mock_idp::JournalEntry;
use serde::{Deserialize, Serialize};

use crate::driver::Hop;
use crate::findings::Finding;
use crate::scenario::Expect;
use crate::verdict::{Observed, StepReport, Struck, Verdict};

/// The report of one run (`report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `oidc-harness`.
    pub tool: String,
    /// Its version.
    pub version: String,
    /// The RP profile's name (several, comma-separated, after a merge).
    pub rp: String,
    /// The issuer the RP used.
    pub issuer: String,
    /// Which IdP the mock was (absent: Okta).
    #[serde(default, skip_serializing_if = "is_okta")]
    pub idp: mock_idp::Personality,
    /// When the run started (UTC, RFC 3339).
    pub started_at: String,
    /// How long it took.
    pub duration_ms: u64,
    /// Counts per verdict.
    pub summary: Summary,
    /// One entry per scenario.
    pub scenarios: Vec<ScenarioReport>,
    /// The signal that stopped the run early (`SIGINT`, `SIGTERM`): the report holds the
    /// scenarios that finished before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The OpenID Foundation plans asked for (`--plan`), judged from the scenarios.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<crate::oidf::PlanReport>,
}

/// Counts per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios in all.
    pub total: usize,
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Wrong outcome code.
    pub wrong_code: usize,
    /// Warnings.
    pub warn: usize,
    /// Ran, but did not test what they are about.
    #[serde(default)]
    pub inconclusive: usize,
    /// Could not run.
    pub error: usize,
    /// Did not apply.
    pub skip: usize,
}

impl Summary {
    /// Counts the verdicts of `scenarios`.
    pub fn of(scenarios: &[ScenarioReport]) -> Self {
        let mut s = Summary {
            total: scenarios.len(),
            ..Summary::default()
        };
        for r in scenarios {
            *match r.verdict {
                Verdict::Pass => &mut s.pass,
                Verdict::Fail => &mut s.fail,
                Verdict::WrongCode => &mut s.wrong_code,
                Verdict::Warn => &mut s.warn,
                Verdict::Inconclusive => &mut s.inconclusive,
                Verdict::Error => &mut s.error,
                Verdict::Skip => &mut s.skip,
            } += 1;
        }
        s
    }

    /// The count of one verdict.
    pub fn count(&self, v: Verdict) -> usize {
        match v {
            Verdict::Pass => self.pass,
            Verdict::Fail => self.fail,
            Verdict::WrongCode => self.wrong_code,
            Verdict::Warn => self.warn,
            Verdict::Inconclusive => self.inconclusive,
            Verdict::Error => self.error,
            Verdict::Skip => self.skip,
        }
    }
}

/// The report of one scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its suite.
    pub suite: String,
    /// Its references.
    #[serde(default)]
    pub references: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// What a correct RP does.
    pub expected: Expect,
    /// What this RP did.
    pub observed: Observed,
    /// Why the verdict is what it is, each note quoting its evidence.
    #[serde(default)]
    pub notes: Vec<String>,
    /// `may` expectations missed: not held against the verdict, worth hardening.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hardening: Vec<String>,
    /// What the journal shows about the RP's requests.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Faults declared (IdP faults by id, user-agent faults as `ua:…`).
    #[serde(default)]
    pub faults: Vec<String>,
    /// Each declared fault (and each key rotation step): whether it struck, how often.
    #[serde(default)]
    pub struck: Vec<Struck>,
    /// The steps as played (a login alone is one step).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepReport>,
    /// What the RP printed while the scenario ran (redacted; other scenarios running at
    /// the same time may have written lines of their own). The whole log is `rp.log`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rp_log: Vec<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// Every hop and every request the IdP saw in this flow.
    pub trace: Trace,
    /// A PNG of the final page (browser driver, scenarios that do not pass), relative to
    /// the report folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

/// The flow of one scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Browser hops (redacted).
    pub hops: Vec<Hop>,
    /// The IdP's journal of this flow (it holds no codes or tokens, only fingerprints).
    pub journal: Vec<JournalEntry>,
}

/// One thing that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// The run starts with this many scenarios.
    Started {
        /// Scenarios to run.
        total: usize,
        /// The RP.
        rp: &'a str,
        /// Which IdP the mock is.
        idp: mock_idp::Personality,
        /// Scenarios at once.
        jobs: usize,
    },
    /// The profile's `build` starts (once in a run, before the RP first starts).
    Building {
        /// The build, as the profile writes it.
        command: &'a str,
        /// Where its output goes (`rp.log`), when the run writes reports.
        log: Option<&'a std::path::Path>,
    },
    /// The build exited 0, after this long.
    Built {
        /// How long it took.
        took: std::time::Duration,
    },
    /// A scenario finished.
    Finished(&'a ScenarioReport),
    /// The run is over.
    Done(&'a RunReport),
}

/// Receives every event of a run.
pub trait Sink: Send {
    /// Handles one event.
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()>;

    /// What it writes, for error messages.
    fn name(&self) -> String {
        "a report sink".into()
    }
}

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `report.json`.
    Json,
    /// `junit.xml`.
    Junit,
    /// `summary.md`.
    Markdown,
    /// `report.html`.
    Html,
}

impl Format {
    /// Parses `json`, `junit`, `md` (or `markdown`), `html`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "json" => Self::Json,
            "junit" | "xml" => Self::Junit,
            "md" | "markdown" => Self::Markdown,
            "html" => Self::Html,
            _ => return None,
        })
    }

    /// The file it writes.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Json => "report.json",
            Self::Junit => "junit.xml",
            Self::Markdown => "summary.md",
            Self::Html => "report.html",
        }
    }

    /// Renders a report.
    pub fn render(self, r: &RunReport) -> String {
        match self {
            Self::Json => {
                serde_json::to_string_pretty(r).expect("a report always serializes") + "\n"
            }
            Self::Junit => junit::render(r),
            Self::Markdown => markdown::render(r),
            Self::Html => html::render(r),
        }
    }
}

/// Writes one format when the run is done (atomically: a temporary file, then rename),
/// and says so on stderr only once the file is there.
pub struct FileSink {
    /// The format.
    pub format: Format,
    /// The folder.
    pub dir: PathBuf,
    /// Where it wrote, once done.
    pub written: Option<PathBuf>,
}

impl Sink for FileSink {
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Event::Done(r) = event {
            let path = write(&self.dir, self.format, r)?;
            eprintln!("wrote {}", path.display());
            self.written = Some(path);
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!(
            "{} was not written",
            self.dir.join(self.format.file_name()).display()
        )
    }
}

/// Writes `r` in `format` under `dir`; returns the file.
pub fn write(dir: &Path, format: Format, r: &RunReport) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format.file_name());
    let text = match format {
        Format::Html => html::render_in(r, Some(dir)),
        _ => format.render(r),
    };
    mock_idp::cli::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Merges reports of several runs (partitions, or several RPs) into one.
pub fn merge(reports: Vec<RunReport>) -> Option<RunReport> {
    let mut it = reports.into_iter();
    let mut out = it.next()?;
    for r in it {
        if !out.rp.split(", ").any(|x| x == r.rp) {
            out.rp = format!("{}, {}", out.rp, r.rp);
        }
        out.duration_ms = out.duration_ms.max(r.duration_ms);
        out.started_at = out.started_at.min(r.started_at);
        out.scenarios.extend(r.scenarios);
        out.plans.extend(r.plans);
    }
    out.scenarios
        .sort_by(|a, b| a.suite.cmp(&b.suite).then(a.id.cmp(&b.id)));
    out.summary = Summary::of(&out.scenarios);
    out.plans = crate::oidf::merge_plans(std::mem::take(&mut out.plans), &out.scenarios);
    Some(out)
}

/// The same report with what changes from run to run (ports, times, durations, random
/// values in URLs) replaced, for snapshots and for diffing two runs.
pub fn stable(r: &RunReport) -> RunReport {
    let mut text = serde_json::to_string(r).expect("a report always serializes");
    for (re, with) in [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"127\.0\.0\.1%3A\d+", "127.0.0.1%3APORT"),
        (r"mockidp_sid_\d+", "mockidp_sid_PORT"),
    ] {
        text = regex::Regex::new(re)
            .expect("valid regex")
            .replace_all(&text, with)
            .into_owned();
    }
    for name in ["state", "nonce", "code_challenge", "stateToken"] {
        let re = regex::Regex::new(&format!(r"([?&#]{name}=)[^&#\\\x22]+")).expect("valid regex");
        text = re
            .replace_all(&text, format!("${{1}}<{name}>"))
            .into_owned();
    }
    let mut out: RunReport = serde_json::from_str(&text).expect("round-trips");
    out.started_at = "2026-01-01T00:00:00Z".into();
    out.duration_ms = 0;
    out.version = "VERSION".into();
    for s in &mut out.scenarios {
        s.duration_ms = 0;
        s.rp_log.clear();
        // Steps begin after as many of the flow's entries as came before them (the
        // journal is renumbered below), and their RP log lines go with the rest of it.
        for st in &mut s.steps {
            st.seq_from = s
                .trace
                .journal
                .iter()
                .filter(|e| e.seq <= st.seq_from)
                .count() as u64;
            st.log.clear();
        }
        for (i, e) in s.trace.journal.iter_mut().enumerate() {
            e.at = 0;
            e.seq = i as u64 + 1;
            for v in [
                &mut e.state,
                &mut e.nonce,
                &mut e.code_challenge,
                &mut e.code_ref,
                &mut e.token_ref,
            ]
            .into_iter()
            .flatten()
            {
                *v = "<random>".into();
            }
            if let Some(payload) = e
                .id_token
                .as_mut()
                .and_then(|t| t.get_mut("payload"))
                .and_then(|p| p.as_object_mut())
            {
                for k in [
                    "jti",
                    "at_hash",
                    "c_hash",
                    "nonce",
                    "iat",
                    "exp",
                    "auth_time",
                    "sid",
                ] {
                    if let Some(v) = payload.get_mut(k) {
                        *v = "<random>".into();
                    }
                }
            }
        }
    }
    out
}

/// UTC time as RFC 3339, from Unix seconds.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn is_okta(p: &mock_idp::Personality) -> bool {
    *p == mock_idp::Personality::Okta
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
    }
}
