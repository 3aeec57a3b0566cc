//! Verdicts (what the RP did against what the scenario expects) and findings (what the
//! journal shows about the RP's own requests, on every flow).

use std::collections::HashSet;
use std::sync::Mutex;

use mock_idp::{Endpoint, JournalEntry};
use serde::{Deserialize, Serialize};

use crate::scenario::{Evidence, Expect, Outcome, Strength};

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The RP did what the scenario expects.
    Pass,
    /// The RP accepted a login it must refuse, or refused one it must accept.
    Fail,
    /// The RP refused, but reported another outcome code than documented.
    WrongCode,
    /// A `should` expectation was missed.
    Warn,
    /// The harness could not run the scenario: never a pass.
    Error,
    /// The scenario does not apply to this RP.
    Skip,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::WrongCode,
        Verdict::Warn,
        Verdict::Error,
        Verdict::Skip,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::WrongCode => "wrong-code",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Skip => "skip",
        }
    }
}

/// What the RP did, as the harness saw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Accepted or rejected (absent when the harness could not tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    /// The outcome code the RP showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Where the browser ended (redacted).
    #[serde(default)]
    pub final_url: String,
    /// Its status.
    #[serde(default)]
    pub status: u16,
    /// The start of its text (redacted).
    #[serde(default)]
    pub excerpt: String,
}

/// Judges an observation; returns the verdict and notes explaining it.
pub fn judge(
    expect: &Expect,
    observed: &Observed,
    rejections_only: bool,
) -> (Verdict, Vec<String>) {
    let missed = match expect.strength {
        Strength::Must => Verdict::Fail,
        Strength::Should => Verdict::Warn,
    };
    match (expect.result, observed.result) {
        (_, None) => (
            Verdict::Error,
            vec!["the harness could not tell whether the RP accepted the login".into()],
        ),
        (Outcome::Accept, Some(Outcome::Accept)) => (Verdict::Pass, vec![]),
        (Outcome::Accept, Some(Outcome::Reject)) => (
            missed,
            vec![format!(
                "the RP refused a login it {} accept",
                verb(expect.strength)
            )],
        ),
        (Outcome::Reject, Some(Outcome::Accept)) => (
            missed,
            vec![format!(
                "the RP accepted a login it {} refuse",
                verb(expect.strength)
            )],
        ),
        (Outcome::Reject, Some(Outcome::Reject)) => match (&expect.code, &observed.code) {
            (None, _) => (Verdict::Pass, vec![]),
            (Some(_), got)
                if rejections_only || got.as_deref() == Some(crate::profile::INDISTINCT) =>
            {
                (
                    Verdict::Pass,
                    vec![
                    "the RP shows only that it refused; the outcome code is not distinguishable"
                        .into(),
                ],
                )
            }
            (Some(want), Some(got)) if want == got => (Verdict::Pass, vec![]),
            (Some(want), Some(got)) => (
                Verdict::WrongCode,
                vec![format!("expected `{want}`, the RP reported `{got}`")],
            ),
            (Some(want), None) => (
                Verdict::WrongCode,
                vec![format!("expected `{want}`, the RP showed no outcome code")],
            ),
        },
    }
}

fn verb(s: Strength) -> &'static str {
    match s {
        Strength::Must => "must",
        Strength::Should => "should",
    }
}

/// Something the journal shows about the RP's own requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: `no-state`, `short-state`, `reused-state`, `no-nonce`, `no-pkce`,
    /// `plain-pkce`, `redirect-uri-differs`, `client-auth`, `code-reused`,
    /// `userinfo-after-reject`.
    pub id: String,
    /// `info` or `warning`.
    pub severity: String,
    /// What was seen.
    pub detail: String,
}

fn finding(id: &str, severity: &str, detail: String) -> Finding {
    Finding {
        id: id.into(),
        severity: severity.into(),
        detail,
    }
}

/// The findings of one flow. `states` holds every state seen in the run (for reuse).
pub fn findings(
    journal: &[JournalEntry],
    states: &Mutex<HashSet<String>>,
    rejected: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let authorizes: Vec<&JournalEntry> = journal
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .collect();
    for a in &authorizes {
        match a.state.as_deref() {
            None | Some("") => out.push(finding(
                "no-state",
                "warning",
                "the RP sent no state at authorize".into(),
            )),
            Some(s) => {
                if s.len() < 16 {
                    out.push(finding(
                        "short-state",
                        "warning",
                        format!(
                            "the state has {} characters (fewer than 16 is guessable)",
                            s.len()
                        ),
                    ));
                }
                let fresh = states
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(s.to_string());
                if !fresh {
                    out.push(finding(
                        "reused-state",
                        "warning",
                        "the RP sent a state it had already used".into(),
                    ));
                }
            }
        }
        if a.nonce.as_deref().is_none_or(str::is_empty) {
            out.push(finding(
                "no-nonce",
                "warning",
                "the RP sent no nonce".into(),
            ));
        }
        match a.pkce.as_deref() {
            None => out.push(finding("no-pkce", "warning", "the RP used no PKCE".into())),
            Some("S256") => {}
            Some(m) => out.push(finding(
                "plain-pkce",
                "warning",
                format!("the RP used PKCE method `{m}` (only S256 protects the code)"),
            )),
        }
    }
    let tokens: Vec<&JournalEntry> = journal
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Token))
        .collect();
    for t in &tokens {
        if let (Some(a), Some(r)) = (authorizes.last(), t.redirect_uri.as_deref()) {
            if a.redirect_uri.as_deref().is_some_and(|ar| ar != r) {
                out.push(finding(
                    "redirect-uri-differs",
                    "warning",
                    format!(
                        "redirect_uri `{r}` at the token endpoint differs from the one at authorize"
                    ),
                ));
            }
        }
        if let Some(m) = &t.client_auth {
            let f = finding(
                "client-auth",
                "info",
                format!("the RP authenticated with {m}"),
            );
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    let mut codes = HashSet::new();
    for t in tokens.iter().filter_map(|t| t.code_ref.as_ref()) {
        if !codes.insert(t) {
            out.push(finding(
                "code-reused",
                "info",
                "the same code was sent to the token endpoint twice".into(),
            ));
        }
    }
    if rejected && userinfo_with_refused_token(journal) {
        out.push(finding(
            "userinfo-after-reject",
            "warning",
            "the RP called userinfo with the token of a login it refused".into(),
        ));
    }
    out
}

/// Whether userinfo answered for the access token of the last token exchange (the one
/// of the login the RP refused).
fn userinfo_with_refused_token(journal: &[JournalEntry]) -> bool {
    let last = journal
        .iter()
        .rev()
        .find(|e| e.endpoint == Some(Endpoint::Token));
    let Some(jti) = last
        .filter(|t| t.status == 200)
        .and_then(|t| t.token_ref.as_ref())
    else {
        return false;
    };
    journal.iter().any(|e| {
        e.endpoint == Some(Endpoint::Userinfo)
            && e.status == 200
            && e.token_ref.as_ref() == Some(jti)
    })
}

/// Checks the scenario's evidence rules; returns a note for each one broken.
pub fn evidence(rules: &[Evidence], journal: &[JournalEntry], rejected: bool) -> Vec<String> {
    let authz: Vec<&JournalEntry> = journal
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .collect();
    let mut broken = Vec::new();
    for rule in rules {
        let ok = match rule {
            Evidence::NoUserinfoAfterReject => !(rejected && userinfo_with_refused_token(journal)),
            Evidence::SendsNonce => authz
                .iter()
                .all(|a| a.nonce.as_deref().is_some_and(|n| !n.is_empty())),
            Evidence::UsesPkce => authz.iter().all(|a| a.pkce.as_deref() == Some("S256")),
            Evidence::SendsState => authz
                .iter()
                .all(|a| a.state.as_deref().is_some_and(|n| !n.is_empty())),
            Evidence::SameRedirectUri => {
                let first = authz.first().and_then(|a| a.redirect_uri.clone());
                journal
                    .iter()
                    .filter(|e| e.endpoint == Some(Endpoint::Token))
                    .all(|t| t.redirect_uri == first)
            }
        };
        if !ok {
            let name = serde_json::to_value(rule)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            broken.push(format!("evidence rule `{name}` broken"));
        }
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(result: Outcome, code: Option<&str>, strength: Strength) -> Expect {
        Expect {
            result,
            code: code.map(str::to_string),
            strength,
        }
    }

    fn seen(result: Option<Outcome>, code: Option<&str>) -> Observed {
        Observed {
            result,
            code: code.map(str::to_string),
            ..Observed::default()
        }
    }

    #[test]
    fn verdict_table() {
        use Outcome::*;
        let e = expect(Reject, Some("oidc_state_missing"), Strength::Must);
        assert_eq!(
            judge(&e, &seen(Some(Reject), Some("oidc_state_missing")), false).0,
            Verdict::Pass
        );
        assert_eq!(
            judge(&e, &seen(Some(Reject), Some("oidc_auth_error")), false).0,
            Verdict::WrongCode
        );
        assert_eq!(
            judge(&e, &seen(Some(Reject), None), false).0,
            Verdict::WrongCode
        );
        assert_eq!(judge(&e, &seen(Some(Reject), None), true).0, Verdict::Pass);
        assert_eq!(judge(&e, &seen(Some(Accept), None), false).0, Verdict::Fail);
        assert_eq!(judge(&e, &seen(None, None), false).0, Verdict::Error);
        let should = expect(Reject, None, Strength::Should);
        assert_eq!(
            judge(&should, &seen(Some(Accept), None), false).0,
            Verdict::Warn
        );
        let accept = expect(Accept, None, Strength::Must);
        assert_eq!(
            judge(&accept, &seen(Some(Accept), None), false).0,
            Verdict::Pass
        );
        assert_eq!(
            judge(&accept, &seen(Some(Reject), Some("x")), false).0,
            Verdict::Fail
        );
    }
}
