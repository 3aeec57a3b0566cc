//! The terminal: a progress bar while scenarios run, a summary table at the end.

use std::io::{IsTerminal, Write};

use super::{Event, RunReport, Sink};
use crate::scenario::{Outcome, Strength};
use crate::verdict::Verdict;

/// Progress on stderr, summary on stdout.
pub struct TerminalSink {
    total: usize,
    done: usize,
    tty: bool,
    /// Print the summary table at the end.
    pub summary: bool,
}

impl TerminalSink {
    /// A terminal sink.
    pub fn new() -> Self {
        Self {
            total: 0,
            done: 0,
            tty: std::io::stderr().is_terminal(),
            summary: true,
        }
    }
}

impl Default for TerminalSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for TerminalSink {
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        let mut err = std::io::stderr().lock();
        match event {
            Event::Started {
                total,
                rp,
                idp,
                jobs,
            } => {
                self.total = *total;
                let at_once = if *jobs == 1 {
                    "one at a time".to_string()
                } else {
                    format!("up to {jobs} at once")
                };
                if *idp == mock_idp::Personality::Okta {
                    writeln!(err, "running {total} scenario(s) against {rp}, {at_once}")?;
                } else {
                    writeln!(
                        err,
                        "running {total} scenario(s) against {rp}, {at_once}, the IdP being {}",
                        idp.title()
                    )?;
                }
            }
            Event::Building { command, log } => {
                if self.tty && self.done > 0 {
                    // Over the progress bar of the scenarios skipped so far.
                    write!(err, "\r\x1b[2K")?;
                }
                match log {
                    Some(log) => writeln!(
                        err,
                        "building the RP: `{command}` (its output goes to {})",
                        log.display()
                    )?,
                    None => writeln!(err, "building the RP: `{command}`")?,
                }
            }
            Event::Built { took } => {
                writeln!(err, "the RP's build took {:.1} s", took.as_secs_f64())?;
            }
            Event::Finished(r) => {
                self.done += 1;
                let width = 24;
                let filled = (self.done * width)
                    .checked_div(self.total)
                    .unwrap_or(width)
                    .min(width);
                let bar = format!("[{}{}]", "=".repeat(filled), " ".repeat(width - filled));
                let line = format!(
                    "{bar} {:>3}/{:<3} {:<10} {}/{}",
                    self.done,
                    self.total,
                    r.verdict.as_str(),
                    r.suite,
                    r.id
                );
                if self.tty {
                    write!(err, "\r\x1b[2K{line}")?;
                    if r.verdict != Verdict::Pass && r.verdict != Verdict::Skip {
                        writeln!(err)?;
                    }
                } else {
                    writeln!(err, "{line}")?;
                }
            }
            Event::Done(r) => {
                if self.tty {
                    writeln!(err)?;
                }
                if self.summary {
                    print!("{}", summary(r));
                }
            }
        }
        err.flush()
    }
}

/// What the scenario expects, in a few words.
pub fn expected_text(e: &crate::scenario::Expect) -> String {
    let strength = match e.strength {
        Strength::Must => "",
        Strength::Should => " (should)",
        Strength::May => " (may)",
    };
    let what = match (e.result, &e.code) {
        (Outcome::Accept, _) => "accept".into(),
        (Outcome::SignedOut, _) => "signed out".into(),
        (Outcome::SignedIn, _) => "signed in".into(),
        (Outcome::StopsAtIdp, _) => "stops at the IdP".into(),
        (Outcome::Reject, Some(c)) => format!("reject {c}"),
        (Outcome::Reject, None) => "reject".into(),
        (Outcome::RejectOrIgnore, Some(c)) => format!("reject {c} / ignore"),
        (Outcome::RejectOrIgnore, None) => "reject / ignore".into(),
    };
    format!("{what}{strength}")
}

/// What the RP did, in a few words.
pub fn observed_text(o: &crate::verdict::Observed) -> String {
    o.text()
}

/// The declared faults and how often each struck: `bad-signature×1`, `jwks-unavailable×0`.
pub fn struck_text(r: &super::ScenarioReport) -> String {
    if r.struck.is_empty() {
        return r.faults.join(", ");
    }
    r.struck
        .iter()
        .map(|s| {
            if s.exercised {
                format!("{}×{}", s.fault, s.times)
            } else {
                format!("{}×{} (not exercised)", s.fault, s.times)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary table.
pub fn summary(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "oidc-harness: {} scenario(s) against {} in {:.1} s\n  pass {}  fail {}  wrong-code {}  warn {}  error {}  skip {}\n",
        s.total,
        r.rp,
        r.duration_ms as f64 / 1000.0,
        s.pass,
        s.fail,
        s.wrong_code,
        s.warn,
        s.error,
        s.skip
    );
    if s.inconclusive > 0 {
        out.push_str(&format!(
            "  inconclusive {}: ran, but did not test what they are about (a fault never struck, or a step that had to succeed did not); never a pass\n",
            s.inconclusive
        ));
    }
    if let Some(sig) = &r.interrupted {
        out.push_str(&format!(
            "  interrupted by {sig}: only the scenarios that finished before it are here\n"
        ));
    }
    out.push('\n');
    let rows: Vec<[String; 5]> = r
        .scenarios
        .iter()
        .map(|x| {
            [
                x.verdict.as_str().to_uppercase(),
                format!("{}/{}", x.suite, x.id),
                expected_text(&x.expected),
                observed_text(&x.observed),
                struck_text(x),
            ]
        })
        .collect();
    let header = [
        "VERDICT".to_string(),
        "SCENARIO".into(),
        "EXPECTED".into(),
        "OBSERVED".into(),
        "FAULTS STRUCK".into(),
    ];
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let mut any = false;
    for x in r
        .scenarios
        .iter()
        .filter(|x| !x.notes.is_empty() && x.verdict != Verdict::Pass)
    {
        any = true;
        out.push_str(&format!(
            "\n{} {}: {}",
            x.verdict.as_str(),
            x.id,
            x.notes.join("; ")
        ));
    }
    for x in r.scenarios.iter().filter(|x| !x.hardening.is_empty()) {
        any = true;
        out.push_str(&format!("\nhardening {}: {}", x.id, x.hardening.join("; ")));
    }
    if any {
        out.push('\n');
    }
    out.push_str(&plans_text(r));
    out
}

/// The plans of a run, a line each, with the modules that did not pass.
pub fn plans_text(r: &RunReport) -> String {
    let mut out = String::new();
    for p in &r.plans {
        out.push_str(&format!(
            "\nplan {}: {} ({})\n",
            p.id,
            p.verdict.as_str().to_uppercase(),
            p.summary
        ));
        for m in &p.modules {
            if m.verdict == crate::oidf::ModuleVerdict::Pass && m.notes.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "  {} {} [{}]: {}{}\n",
                m.verdict.as_str(),
                m.module,
                m.response_type,
                if m.scenarios.is_empty() {
                    "no scenario".to_string()
                } else {
                    m.scenarios.join(", ")
                },
                if m.notes.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", m.notes.join("; "))
                }
            ));
        }
    }
    out
}
