//! Markdown that fits a CI step summary.

use super::RunReport;
use super::terminal::observed_text;
use crate::scenario::Outcome;
use crate::verdict::Verdict;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::WrongCode => "🟠",
        Verdict::Warn => "⚠️",
        Verdict::Error => "💥",
        Verdict::Skip => "⏭️",
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the run as Markdown.
pub fn render(r: &RunReport) -> String {
    let s = &r.summary;
    let mut out = format!(
        "## oidc-harness: {}\n\n{} scenario(s): **{} pass**, {} fail, {} wrong-code, {} warn, {} error, {} skip\n\n",
        cell(&r.rp),
        s.total,
        s.pass,
        s.fail,
        s.wrong_code,
        s.warn,
        s.error,
        s.skip
    );
    out.push_str("| verdict | scenario | expected | observed | notes |\n|---|---|---|---|---|\n");
    for x in &r.scenarios {
        let expected = match (x.expected.result, &x.expected.code) {
            (Outcome::Accept, _) => "accept".to_string(),
            (Outcome::Reject, Some(c)) => format!("reject `{c}`"),
            (Outcome::Reject, None) => "reject".to_string(),
        };
        out.push_str(&format!(
            "| {} {} | `{}/{}` | {} | {} | {} |\n",
            icon(x.verdict),
            x.verdict.as_str(),
            cell(&x.suite),
            cell(&x.id),
            expected,
            cell(&observed_text(&x.observed)),
            cell(&x.notes.join("; "))
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for f in r.scenarios.iter().flat_map(|x| &x.findings) {
        seen.entry(f.id.clone())
            .or_insert_with(|| (f.severity.clone(), f.detail.clone(), 0usize))
            .2 += 1;
    }
    if !seen.is_empty() {
        out.push_str("\n### Findings on the RP's own requests\n\n| finding | severity | flows | example |\n|---|---|---|---|\n");
        for (id, (sev, detail, n)) in seen {
            out.push_str(&format!("| `{id}` | {sev} | {n} | {} |\n", cell(&detail)));
        }
    }
    out
}

/// One row per scenario, one column per RP (each report is one RP's run).
pub fn matrix(reports: &[RunReport]) -> String {
    let mut rows: std::collections::BTreeMap<(String, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        for s in &r.scenarios {
            let cell = match (s.verdict, &s.observed.code) {
                (Verdict::WrongCode, Some(c)) => format!("{} wrong-code (`{c}`)", icon(s.verdict)),
                (v, _) => format!("{} {}", icon(v), v.as_str()),
            };
            let row = rows
                .entry((s.suite.clone(), s.id.clone()))
                .or_insert_with(|| vec![String::new(); reports.len()]);
            row[i] = cell;
        }
    }
    let mut out = String::from("| scenario |");
    for r in reports {
        out.push_str(&format!(" {} |", cell(&r.rp)));
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
            " {} pass, {} fail, {} wrong-code, {} warn, {} error, {} skip |",
            s.pass, s.fail, s.wrong_code, s.warn, s.error, s.skip
        ));
    }
    out.push('\n');
    out
}
