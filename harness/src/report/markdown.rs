//! Markdown that fits a CI step summary.

use super::RunReport;
use super::terminal::{expected_text, observed_text, struck_text};
use crate::verdict::Verdict;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::WrongCode => "🟠",
        Verdict::Warn => "⚠️",
        Verdict::Inconclusive => "❔",
        Verdict::Error => "💥",
        Verdict::Skip => "⏭️",
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the run as Markdown.
pub fn render(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "## oidc-harness: {}\n\n{} scenario(s): **{} pass**, {} fail, {} wrong-code, {} warn, {} error, {} skip\n",
        cell(&r.rp),
        s.total,
        s.pass,
        s.fail,
        s.wrong_code,
        s.warn,
        s.error,
        s.skip
    );
    if r.idp != mock_idp::Personality::Okta {
        out.push_str(&format!(
            "\nThe IdP: {} (personality `{}`).\n",
            r.idp.title(),
            r.idp
        ));
    }
    if s.inconclusive > 0 {
        out.push_str(&format!(
            "\n**{} inconclusive**: ran, but did not test what they are about (never a pass).\n",
            s.inconclusive
        ));
    }
    if let Some(sig) = &r.interrupted {
        out.push_str(&format!(
            "\n**Interrupted by {sig}**: only the scenarios that finished before it are here.\n"
        ));
    }
    for p in &r.plans {
        out.push_str(&format!(
            "\n### Plan `{}`: {}\n\n{}: {}.\n",
            p.id,
            p.verdict.as_str(),
            cell(&p.title),
            cell(&p.summary)
        ));
        if !p.modules.is_empty() {
            out.push_str(
                "\n| module | flow | verdict | scenarios | notes |\n|---|---|---|---|---|\n",
            );
            for m in &p.modules {
                out.push_str(&format!(
                    "| `{}` | `{}` | {} | {} | {} |\n",
                    m.module,
                    m.response_type,
                    m.verdict.as_str(),
                    cell(&m.scenarios.join(", ")),
                    cell(&m.notes.join("; "))
                ));
            }
        }
    }
    out.push_str("\n| verdict | scenario | expected | observed | faults struck | notes |\n|---|---|---|---|---|---|\n");
    for x in &r.scenarios {
        let mut notes = x.notes.clone();
        notes.extend(x.hardening.iter().map(|h| format!("hardening: {h}")));
        out.push_str(&format!(
            "| {} {} | `{}/{}` | {} | {} | {} | {} |\n",
            icon(x.verdict),
            x.verdict.as_str(),
            cell(&x.suite),
            cell(&x.id),
            cell(&expected_text(&x.expected)),
            cell(&observed_text(&x.observed)),
            cell(&struck_text(x)),
            cell(&notes.join("; "))
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for f in r.scenarios.iter().flat_map(|x| &x.findings) {
        seen.entry(f.id)
            .or_insert_with(|| (f.severity, f.detail.clone(), 0usize))
            .2 += 1;
    }
    if !seen.is_empty() {
        out.push_str("\n### Findings on the RP's own requests\n\n| finding | severity | flows | example |\n|---|---|---|---|\n");
        for (id, (sev, detail, n)) in seen {
            out.push_str(&format!(
                "| `{}` | {} | {n} | {} |\n",
                id.as_str(),
                sev.as_str(),
                cell(&detail)
            ));
        }
    }
    out
}

/// One row per scenario, one column per RP (each report is one RP's run); `—` where a
/// run did not include the scenario.
pub fn matrix(reports: &[RunReport]) -> String {
    let mut rows: std::collections::BTreeMap<(String, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for s in &r.scenarios {
            let cell = match (s.verdict, s.observed.shown.code()) {
                (Verdict::WrongCode, Some(c)) => format!("{} wrong-code (`{c}`)", icon(s.verdict)),
                (Verdict::Pass, _) if !s.hardening.is_empty() => {
                    format!("{} pass (hardening)", icon(Verdict::Pass))
                }
                (v, _) => format!("{} {}", icon(v), v.as_str()),
            };
            let row = rows
                .entry((s.suite.clone(), s.id.clone()))
                .or_insert_with(|| vec!["—".to_string(); reports.len()]);
            row[i] = cell;
        }
    }
    let mut out = String::from("| scenario |");
    for r in reports {
        if r.idp == mock_idp::Personality::Okta {
            out.push_str(&format!(" {} |", cell(&r.rp)));
        } else {
            out.push_str(&format!(" {} ({}) |", cell(&r.rp), r.idp));
        }
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(reports.len()));
    out.push('\n');
    for ((suite, id), cells) in rows {
        out.push_str(&format!("| `{}/{}` |", cell(&suite), cell(&id)));
        for c in cells {
            out.push_str(&format!(" {c} |"));
        }
        out.push('\n');
    }
    out.push('|');
    out.push_str(" **totals** |");
    for r in reports {
        let s = &r.summary;
        out.push_str(&format!(
            " {} pass, {} fail, {} wrong-code, {} warn, {} inconclusive, {} error, {} skip |",
            s.pass, s.fail, s.wrong_code, s.warn, s.inconclusive, s.error, s.skip
        ));
    }
    out.push('\n');
    out
}
