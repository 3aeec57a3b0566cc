//! JUnit XML (quick-junit): one suite per scenario suite, one case per scenario.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use super::terminal::{expected_text, observed_text, struck_text};
use crate::verdict::Verdict;

/// Renders the run as JUnit XML.
pub fn render(r: &RunReport) -> String {
    let mut report = Report::new(format!("oidc-harness: {}", r.rp));
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for s in &r.scenarios {
        let message = if s.notes.is_empty() {
            s.title.clone()
        } else {
            s.notes.join("; ")
        };
        let status = match s.verdict {
            Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
            Verdict::Fail | Verdict::WrongCode => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_type(s.verdict.as_str());
                st.set_message(message.clone());
                st
            }
            Verdict::Error => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                st.set_type("error");
                st.set_message(message.clone());
                st
            }
            Verdict::Skip => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(message.clone());
                st
            }
            // Not a pass, not a failure of the RP: the scenario did not test anything.
            Verdict::Inconclusive => {
                let mut st = TestCaseStatus::skipped();
                st.set_type("inconclusive");
                st.set_message(format!("inconclusive: {message}"));
                st
            }
        };
        let mut case = TestCase::new(s.id.clone(), status);
        case.set_classname(format!("{}.{}", r.rp, s.suite));
        case.set_time(Duration::from_millis(s.duration_ms));
        let mut out = format!(
            "{}\nexpected: {}\nobserved: {} (status {} at {})\nfaults struck: {}\npage: {}",
            s.title,
            expected_text(&s.expected),
            observed_text(&s.observed),
            s.observed.status,
            s.observed.final_url,
            struck_text(s),
            s.observed.excerpt
        );
        if s.verdict == Verdict::Warn {
            out.push_str(&format!("\nwarning: {message}"));
        }
        for h in &s.hardening {
            out.push_str(&format!("\nhardening: {h}"));
        }
        for f in &s.findings {
            out.push_str(&format!("\nfinding {}: {}", f.id.as_str(), f.detail));
        }
        if !s.rp_log.is_empty() {
            out.push_str("\nthe RP's log:\n");
            out.push_str(&s.rp_log.join("\n"));
        }
        case.set_system_out(out);
        suites
            .entry(s.suite.as_str())
            .or_insert_with(|| TestSuite::new(s.suite.clone()))
            .add_test_case(case);
    }
    report.add_test_suites(suites.into_values());
    report.to_string().unwrap_or_default()
}
