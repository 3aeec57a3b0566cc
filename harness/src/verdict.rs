//! Verdicts: one function, [`judge`], folds everything observed in a scenario (the page
//! and the identity it shows, the faults that struck, the steps that had to succeed, the
//! evidence rules, the RP's log) into the verdict and the reasons for it. Nothing else
//! decides or edits a verdict.
//!
//! As in TTCN-3's conformance verdicts, the verdict only gets worse as evidence arrives
//! (pass < warn < inconclusive < wrong-code < fail < error), and a scenario that did not
//! test what it is about (a fault that never struck, a step that had to succeed and did
//! not) is `inconclusive`: never a pass.

use serde::{Deserialize, Serialize};

use crate::findings::RuleResult;
use crate::outcome::Shown;
use crate::profile::{IdentityCheck, IdentitySeen, RuleMatch};
use crate::scenario::{Expect, Outcome, Strength};

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The RP did what the scenario expects, and the scenario's faults struck.
    Pass,
    /// The RP accepted a login it must refuse, or refused one it must accept.
    Fail,
    /// The RP refused, but reported another outcome code than documented.
    WrongCode,
    /// A `should` expectation was missed.
    Warn,
    /// The scenario ran but did not test what it is about: never a pass.
    Inconclusive,
    /// The harness could not run the scenario: never a pass.
    Error,
    /// The scenario does not apply to this RP.
    Skip,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 7] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::WrongCode,
        Verdict::Warn,
        Verdict::Inconclusive,
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
            Self::Inconclusive => "inconclusive",
            Self::Error => "error",
            Self::Skip => "skip",
        }
    }

    /// How bad it is, for folding: a verdict only gets worse.
    fn rank(self) -> u8 {
        match self {
            Self::Skip => 0,
            Self::Pass => 1,
            Self::Warn => 2,
            Self::Inconclusive => 3,
            Self::WrongCode => 4,
            Self::Fail => 5,
            Self::Error => 6,
        }
    }
}

/// What the RP decided about the scenario's last login.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// The harness could not tell.
    #[default]
    Unknown,
    /// The login completed.
    Accepted,
    /// The RP refused it.
    Refused,
    /// The RP did not start (exited, or never got ready) with the scenario's faults armed.
    RefusedAtStartup,
    /// At a session check: the RP's protected page showed the user, and the RP did not
    /// ask the IdP for a login.
    SignedIn,
    /// At a session check: the RP's session was over (it asked the IdP for a login, or
    /// its protected page did not show the user).
    SignedOut,
}

impl Decision {
    /// Refused, at the login or at start-up.
    pub fn refused(self) -> bool {
        matches!(self, Self::Refused | Self::RefusedAtStartup)
    }
}

/// What the RP did, as the harness saw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Accepted, refused, refused at start-up.
    pub decision: Decision,
    /// Who the page shows signed in (accepted logins).
    #[serde(default, skip_serializing_if = "is_unchecked")]
    pub identity: IdentitySeen,
    /// What a refusal showed.
    #[serde(default, skip_serializing_if = "is_nothing")]
    pub shown: Shown,
    /// The profile rule that read it, and the text it matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleMatch>,
    /// Where the browser ended (redacted).
    #[serde(default)]
    pub final_url: String,
    /// Its status.
    #[serde(default)]
    pub status: u16,
    /// The start of its text (redacted).
    #[serde(default)]
    pub excerpt: String,
    /// At a session check: the RP sent the browser to the IdP's authorize.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asked_login: bool,
}

fn is_unchecked(i: &IdentitySeen) -> bool {
    i.check == IdentityCheck::Unchecked
}

fn is_nothing(s: &Shown) -> bool {
    *s == Shown::Nothing
}

impl Observed {
    /// What the RP did, with who it shows signed in or the page that refused.
    pub fn detail(&self) -> String {
        match (self.decision, &self.identity.shown) {
            (Decision::Accepted, Some(who)) if self.identity.check == IdentityCheck::Expected => {
                format!("accepted as {who}")
            }
            (Decision::Accepted, _) if self.identity.check == IdentityCheck::Unchecked => {
                format!("accepted («{}»)", clip(&self.excerpt, 80))
            }
            _ => self.text(),
        }
    }

    /// What the RP did, in a few words.
    pub fn text(&self) -> String {
        match self.decision {
            Decision::Accepted => match self.identity.check {
                IdentityCheck::Missing => "accept (no identity)".into(),
                IdentityCheck::Wrong => format!(
                    "accept as {}",
                    self.identity.shown.as_deref().unwrap_or("someone else")
                ),
                _ => "accept".into(),
            },
            Decision::Refused | Decision::RefusedAtStartup => {
                let at = if self.decision == Decision::RefusedAtStartup {
                    " at start-up"
                } else {
                    ""
                };
                match &self.shown {
                    Shown::Code(c) => format!("reject{at} {c}"),
                    Shown::Indistinct => format!("reject{at} (indistinct)"),
                    Shown::Unknown(s) => format!("reject{at} ({s})"),
                    Shown::Nothing => format!("reject{at} (no code)"),
                }
            }
            Decision::SignedIn => "signed in".into(),
            Decision::SignedOut => "signed out".into(),
            Decision::Unknown => "-".into(),
        }
    }

    /// A session check's reading, with what shows it.
    fn session_text(&self) -> String {
        match self.decision {
            Decision::SignedIn => format!(
                "its protected page {} still showed the user ({}) and it did not ask the IdP for a login",
                self.final_url,
                self.identity.shown.as_deref().unwrap_or("signed in")
            ),
            _ if self.asked_login => {
                "it sent the browser to the IdP's authorize to log in again".to_string()
            }
            _ => format!(
                "its protected page ended at {} without the user («{}»)",
                self.final_url,
                clip(&self.excerpt, 80)
            ),
        }
    }
}

/// One step of a scenario, as played.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// Its number, from 1.
    pub step: usize,
    /// `login`, `logout`, `rotate-keys`, `rotate-keys-drop-old`, `replay-callback`,
    /// `unsolicited-login`.
    pub kind: String,
    /// Whether it had to succeed for the scenario to test anything.
    pub must_succeed: bool,
    /// Whether it did (or, for the last login, whether it was played at all).
    pub ok: bool,
    /// What happened, in a few words.
    pub detail: String,
    /// The IdP's journal number when it began: its requests are the flow's entries after
    /// it (up to the next step's).
    #[serde(default)]
    pub seq_from: u64,
    /// The browser hops it began at (index into the trace's hops).
    #[serde(default)]
    pub hops_from: usize,
    /// The RP's own log lines during it (the last few, redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

impl StepReport {
    /// What an act done by the harness itself (provisioning, a group or email change)
    /// gave: its detail, and whether it succeeded.
    pub fn record(&mut self, r: Result<String, String>) {
        self.ok = r.is_ok();
        self.detail = r.unwrap_or_else(|e| e);
    }
}

/// A declared fault (or a step the scenario depends on) and whether it struck.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Struck {
    /// The fault's label (`id` or `id=param`; `ua:…` for the browser's faults), or the step.
    pub fault: String,
    /// How many answers (requests, for the browser) it changed in this flow.
    pub times: u32,
    /// Whether the journal proves the scenario tested it.
    pub exercised: bool,
    /// Why not, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// Whether it is about verifying the ID token's signature.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signature: bool,
}

/// Everything the judge looks at.
#[derive(Clone, Debug)]
pub struct Observation<'a> {
    /// What a correct RP does.
    pub expect: &'a Expect,
    /// What this RP did at the last login (or at start-up).
    pub observed: &'a Observed,
    /// The steps played.
    pub steps: &'a [StepReport],
    /// The declared faults and whether they struck.
    pub struck: &'a [Struck],
    /// The scenario's evidence rules over the journal.
    pub rules: &'a [RuleResult],
    /// Whether the RP fetched the IdP's keys at all in this run (by this flow's end).
    pub keys_fetched_in_run: bool,
    /// The profile says the RP shows only that it refused.
    pub rejections_only: bool,
    /// The journal line that best explains a refusal (the first error answer of the flow).
    pub refusal_hint: Option<String>,
    /// Whether the RP called userinfo in the last login.
    pub userinfo_called: bool,
    /// Why the RP did not start, for a refusal at start-up.
    pub startup_failure: Option<String>,
    /// Why the harness could not play the scenario (driver failure, timeout).
    pub harness_error: Option<&'a str>,
    /// The browser ended on an IdP page: the flow never came back to the RP.
    pub ended_at_idp: bool,
    /// The RP's last log lines of this scenario.
    pub log_tail: &'a [String],
    /// The RP's answer to the last back-channel logout token of the flow: the status
    /// (0: none came) and the journal line.
    pub backchannel_answer: Option<(u16, String)>,
    /// The last login's ID token came from the token endpoint only (the code flow, `code
    /// token`): OIDC Core 3.1.3.7 step 6 lets the TLS server validation of that endpoint
    /// stand in for the signature check.
    pub id_token_from_token_endpoint: bool,
    /// The IdP was served over HTTPS.
    pub idp_tls: bool,
}

/// OIDC Core 3.1.3.7 step 6, on the ID token of the token endpoint.
const TLS_IN_PLACE: &str = "\"If the ID Token is received via direct communication between the Client and the Token Endpoint (which it is in this flow), the TLS server validation MAY be used to validate the issuer in place of checking the token signature.\"";

/// The verdict and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is what it is, each note quoting its evidence.
    pub notes: Vec<String>,
    /// `may` expectations missed: the verdict is not lowered, but an RP would be harder
    /// to attack with them met.
    pub hardening: Vec<String>,
}

impl Judgement {
    fn new() -> Self {
        Self {
            verdict: Verdict::Pass,
            notes: Vec::new(),
            hardening: Vec::new(),
        }
    }

    /// The harness could not run the scenario.
    pub fn error(why: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Error,
            notes: vec![why.into()],
            hardening: Vec::new(),
        }
    }

    /// The scenario does not apply.
    pub fn skip(why: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Skip,
            notes: vec![why.into()],
            hardening: Vec::new(),
        }
    }

    /// Folds in a verdict with its reason: the worse one stays.
    fn worsen(&mut self, v: Verdict, note: impl Into<String>) {
        if v.rank() > self.verdict.rank() {
            self.verdict = v;
        }
        self.notes.push(note.into());
    }

    /// An expectation of `strength` missed.
    fn miss(&mut self, strength: Strength, what: String) {
        match strength {
            Strength::Must => self.worsen(Verdict::Fail, what),
            Strength::Should => self.worsen(Verdict::Warn, what),
            Strength::May => self.hardening.push(what),
        }
    }
}

fn verb(s: Strength) -> &'static str {
    s.word()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

fn identity_text(i: &IdentitySeen) -> String {
    let claim = i.claim.as_deref().unwrap_or("identity");
    match (&i.check, &i.shown) {
        (IdentityCheck::Missing, Some(s)) if !s.is_empty() => {
            format!("the page shows {claim} `{s}`")
        }
        (IdentityCheck::Missing, _) => format!("the page shows no {claim}"),
        (IdentityCheck::Wrong, Some(s)) => format!(
            "the page shows {claim} `{s}`, not `{}`",
            i.expected.as_deref().unwrap_or("the user's")
        ),
        _ => String::new(),
    }
}

/// Decides the verdict of a scenario from everything observed.
pub fn judge(o: &Observation<'_>) -> Judgement {
    let mut j = Judgement::new();
    if let Some(e) = o.harness_error {
        j.worsen(Verdict::Error, e);
        if let Some(h) = &o.refusal_hint {
            j.notes.push(format!("the IdP's journal: {h}"));
        }
    } else if o.expect.result == Outcome::StopsAtIdp {
        decide_stop(o, &mut j);
    } else if o.ended_at_idp {
        j.worsen(
            Verdict::Error,
            format!(
                "the browser ended on an IdP page: the login never came back to the RP ({}: «{}»)",
                o.observed.final_url, o.observed.excerpt
            ),
        );
    } else {
        decide(o, &mut j);
        for r in o.rules.iter().filter(|r| r.broken) {
            let what = format!(
                "evidence rule `{}` ({}) broken: {}",
                r.rule,
                r.strength.word(),
                r.detail
            );
            j.miss(r.strength, what);
        }
    }
    if let Some(fix) = &o.expect.fix {
        let reproduced = o.expect.result == Outcome::StopsAtIdp && j.verdict == Verdict::Pass;
        if reproduced
            || matches!(
                j.verdict,
                Verdict::Fail | Verdict::WrongCode | Verdict::Warn
            )
        {
            j.notes.push(format!("the usual fix: {fix}"));
        }
    }
    if matches!(j.verdict, Verdict::Error | Verdict::Inconclusive) && !o.log_tail.is_empty() {
        j.notes.push(format!(
            "the RP's log meanwhile: {}",
            o.log_tail
                .iter()
                .map(|l| format!("«{l}»"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    j
}

/// A login the IdP must stop on its own page: reproduced when the browser ended there
/// and the scenario's faults struck (something else stopping it proves nothing).
fn decide_stop(o: &Observation<'_>, j: &mut Judgement) {
    let page = format!("{}: «{}»", o.observed.final_url, o.observed.excerpt);
    let unproven: Vec<String> = o
        .struck
        .iter()
        .filter(|s| !s.exercised)
        .map(|s| format!("`{}` never struck", s.fault))
        .collect();
    if !o.ended_at_idp {
        j.worsen(
            Verdict::Error,
            format!(
                "the login was to stop at the IdP, and the browser came back to the RP ({page})"
            ),
        );
    } else if !unproven.is_empty() {
        j.worsen(
            Verdict::Inconclusive,
            format!(
                "the browser ended on an IdP page, but {}: something else stopped it ({page})",
                unproven.join("; ")
            ),
        );
    } else {
        j.notes.push(format!(
            "reproduced: the browser stopped on the IdP's page and never came back to the RP ({page})"
        ));
    }
}

/// A session check after a logout: over, or alive, as the scenario expects; and the
/// RP's answer to the back-channel logout token (Back-Channel Logout 1.0 2.8: 200 when
/// it logged out, 400 when the token failed validation).
fn decide_session(
    o: &Observation<'_>,
    j: &mut Judgement,
    unproven: &[&Struck],
    unproven_text: &str,
) {
    let e = o.expect;
    let seen = o.observed;
    let signed_out = seen.decision == Decision::SignedOut;
    let answer = || {
        o.backchannel_answer
            .as_ref()
            .map(|(_, l)| format!("; the IdP's journal: {l}"))
            .unwrap_or_default()
    };
    match (e.result, signed_out) {
        (Outcome::SignedOut, false) => {
            j.miss(
                e.strength,
                format!(
                    "after the logout the RP's session {} be over, and it was not: {}{}",
                    verb(e.strength),
                    seen.session_text(),
                    answer()
                ),
            );
            return;
        }
        (Outcome::SignedIn, true) if unproven.is_empty() => {
            j.miss(
                e.strength,
                format!(
                    "the RP ended its session on a logout it {} refuse: {}{}",
                    verb(e.strength),
                    seen.session_text(),
                    answer()
                ),
            );
            return;
        }
        _ => {}
    }
    if !unproven.is_empty() {
        j.worsen(
            Verdict::Inconclusive,
            format!("not exercised: {unproven_text}"),
        );
        return;
    }
    let Some(want) = e.answer else { return };
    let Some((got, line)) = &o.backchannel_answer else {
        return;
    };
    let ok = match want {
        200 => matches!(got, 200 | 204),
        w => *got == w,
    };
    if !ok {
        let got_text = if *got == 0 {
            "no answer".to_string()
        } else {
            format!("HTTP {got}")
        };
        j.miss(
            e.strength,
            format!(
                "the RP answered the logout token with {got_text}; Back-Channel Logout 1.0 2.8: it {} answer {want}{} ({line})",
                verb(e.strength),
                if want == 200 { " (or 204)" } else { "" }
            ),
        );
    }
}

fn decide(o: &Observation<'_>, j: &mut Judgement) {
    let e = o.expect;
    if let Some(bad) = o.steps.iter().find(|s| s.must_succeed && !s.ok) {
        // The RP's SCIM API refused what a provisioning fault made the IdP send: that is
        // the RP's answer to the fault, judged as the expectation says.
        let scim_faults: Vec<&str> = o
            .struck
            .iter()
            .filter(|s| s.exercised)
            .filter(|s| {
                s.fault
                    .split('=')
                    .next()
                    .and_then(|id| id.parse::<mock_idp::FaultId>().ok())
                    .is_some_and(|f| f.strikes_at(mock_idp::Strikes::Provisioning))
            })
            .map(|s| s.fault.as_str())
            .collect();
        let scim_step = matches!(bad.kind.as_str(), "provision" | "deprovision");
        if scim_step && !scim_faults.is_empty() && bad.detail.contains(" answered ") {
            j.miss(
                e.strength,
                format!(
                    "the RP's SCIM API refused what the IdP sent under `{}` (step {}, {}): {}",
                    scim_faults.join("`, `"),
                    bad.step,
                    bad.kind,
                    bad.detail
                ),
            );
            return;
        }
        j.worsen(
            Verdict::Inconclusive,
            format!(
                "step {} ({}) had to succeed and did not: {}",
                bad.step, bad.kind, bad.detail
            ),
        );
        if let Some(h) = &o.refusal_hint {
            j.notes.push(format!("the IdP's journal: {h}"));
        }
        return;
    }
    let seen = o.observed;
    if seen.decision == Decision::Unknown {
        j.worsen(
            Verdict::Error,
            "the harness could not tell whether the RP accepted the login",
        );
        return;
    }
    let unproven: Vec<&Struck> = o.struck.iter().filter(|s| !s.exercised).collect();
    let unproven_text = || {
        unproven
            .iter()
            .map(|s| {
                format!(
                    "`{}` never struck ({})",
                    s.fault,
                    s.missing.as_deref().unwrap_or("no evidence in the journal")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if e.result.about_session() {
        decide_session(o, j, &unproven, &unproven_text());
        return;
    }
    let signature = o.struck.iter().any(|s| s.signature);
    let keys_never = signature && !o.keys_fetched_in_run;
    const NO_KEYS: &str = "the RP never fetched the IdP's keys (no keys request in the whole run): it does not verify ID token signatures";
    let refusal = || {
        let mut why = match &seen.shown {
            Shown::Nothing => "it showed no outcome code".to_string(),
            s => format!("it showed {s}"),
        };
        if let Some(h) = &o.refusal_hint {
            why.push_str(&format!("; the IdP's journal: {h}"));
        }
        if let Some(f) = &o.startup_failure {
            why = format!("{f}; {why}");
        }
        why
    };
    if seen.decision == Decision::RefusedAtStartup {
        j.notes.push(format!(
            "the RP refused at start-up, with the faults armed: {}",
            o.startup_failure.as_deref().unwrap_or("it did not start")
        ));
    }
    let accepted = seen.decision == Decision::Accepted;
    let identity_ok = !matches!(
        seen.identity.check,
        IdentityCheck::Missing | IdentityCheck::Wrong
    );
    if !accepted && !unproven.is_empty() {
        j.worsen(
            Verdict::Inconclusive,
            format!(
                "the RP refused, but {}: it refused for something else: {}",
                unproven_text(),
                refusal()
            ),
        );
        return;
    }
    match e.result {
        Outcome::SignedOut | Outcome::SignedIn | Outcome::StopsAtIdp => {}
        Outcome::Accept => {
            if !accepted {
                j.miss(
                    e.strength,
                    format!(
                        "the RP refused a login it {} accept: {}",
                        verb(e.strength),
                        refusal()
                    ),
                );
            } else if !identity_ok {
                let mut why = format!(
                    "the RP logged in without the user's identity: {}",
                    identity_text(&seen.identity)
                );
                if seen.identity.claim.as_deref() == Some("email") && !o.userinfo_called {
                    why.push_str(" (the RP does not read userinfo)");
                }
                j.miss(e.strength, why);
            } else if !unproven.is_empty() {
                j.worsen(
                    Verdict::Inconclusive,
                    format!("not exercised: {}", unproven_text()),
                );
            } else if keys_never {
                j.worsen(
                    Verdict::Inconclusive,
                    format!("not exercised: {NO_KEYS}, so it never checked this token"),
                );
            }
        }
        Outcome::Reject | Outcome::RejectOrIgnore if !accepted => {
            let Some(want) = e.code else {
                return;
            };
            match &seen.shown {
                _ if o.rejections_only => j.notes.push(
                    "the RP shows only that it refused; the outcome code is not distinguishable"
                        .into(),
                ),
                Shown::Indistinct => j.notes.push(format!(
                    "the RP's message stands for several failures; the outcome code is not distinguishable{}",
                    seen.rule
                        .as_ref()
                        .map(|r| format!(" ({} matched «{}»)", r.rule, r.text))
                        .unwrap_or_default()
                )),
                Shown::Code(got) if *got == want => {}
                other => {
                    let read = seen
                        .rule
                        .as_ref()
                        .map(|r| format!(" ({} matched «{}» in the {})", r.rule, r.text, r.on))
                        .unwrap_or_default();
                    let mut why = match other {
                        Shown::Nothing => format!(
                            "expected `{want}`, the RP showed no outcome code the profile recognises"
                        ),
                        got => format!("expected `{want}`, the RP reported {got}{read}"),
                    };
                    if let Some(h) = &o.refusal_hint {
                        why.push_str(&format!("; the IdP's journal: {h}"));
                    }
                    j.worsen(Verdict::WrongCode, why);
                }
            }
        }
        Outcome::RejectOrIgnore => {
            if !unproven.is_empty() {
                j.worsen(
                    Verdict::Inconclusive,
                    format!(
                        "the RP logged in, but {}: the scenario did not test it",
                        unproven_text()
                    ),
                );
            } else if seen.identity.check == IdentityCheck::Unchecked {
                j.worsen(
                    Verdict::Inconclusive,
                    "the RP logged in, and the profile does not say where the identity shows (`[success] identity`): whether it used the changed answer cannot be told",
                );
            } else if identity_ok {
                j.notes.push(format!(
                    "the RP logged in as the user ({}), without using the changed answer",
                    seen.identity.shown.as_deref().unwrap_or("their identity")
                ));
            } else {
                j.miss(
                    e.strength,
                    format!(
                        "the RP used the changed answer: {}",
                        identity_text(&seen.identity)
                    ),
                );
            }
        }
        Outcome::Reject => {
            // Only the signature is wrong, and the token came from the token endpoint:
            // accepting it is allowed where TLS authenticates that endpoint.
            // (The `flow` witness only says the login was in the scenario's flows.)
            let faults: Vec<&Struck> = o.struck.iter().filter(|s| s.fault != "flow").collect();
            // Either the forged token was checked and accepted, or the RP checks no
            // signature at all (it never fetched the keys); a fault that did not strike
            // for another reason (keys kept from before) proves nothing and is not this.
            let tls_stands_in = o.id_token_from_token_endpoint
                && e.strength != Strength::May
                && !faults.is_empty()
                && faults.iter().all(|s| s.signature)
                && (keys_never || faults.iter().all(|s| s.exercised));
            if tls_stands_in {
                let over = if o.idp_tls {
                    "the token endpoint here is HTTPS"
                } else {
                    "the token endpoint here is plain HTTP, where nothing validated the issuer: serve the IdP with --tls to see the RP as deployed"
                };
                let what = if keys_never {
                    NO_KEYS.to_string()
                } else {
                    "the RP accepted an ID token whose signature does not verify".to_string()
                };
                j.miss(
                    Strength::May,
                    format!(
                        "{what}; the ID token came from the token endpoint, where OIDC Core 3.1.3.7 step 6 allows it: {TLS_IN_PLACE} ({over})"
                    ),
                );
                return;
            }
            if !unproven.is_empty() {
                if keys_never && unproven.iter().any(|s| s.signature) {
                    j.miss(
                        e.strength,
                        format!(
                            "the RP accepted a login it {} refuse: {NO_KEYS}",
                            verb(e.strength)
                        ),
                    );
                } else {
                    j.worsen(
                        Verdict::Inconclusive,
                        format!(
                            "the RP logged in, but {}: the scenario did not test it",
                            unproven_text()
                        ),
                    );
                }
                return;
            }
            if keys_never && e.strength == Strength::May {
                // Accepting is allowed, but so is never checking: nothing was tested.
                j.worsen(
                    Verdict::Inconclusive,
                    format!("not exercised: {NO_KEYS}, so it never checked this token"),
                );
                return;
            }
            let mut why = format!(
                "the RP accepted a login it {} refuse (the page: «{}»)",
                verb(e.strength),
                clip(&seen.excerpt, 80)
            );
            if keys_never {
                why.push_str(&format!("; {NO_KEYS}"));
            }
            if !identity_ok {
                why.push_str(&format!("; {}", identity_text(&seen.identity)));
            }
            j.miss(e.strength, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::OutcomeCode;

    fn expect(result: Outcome, code: Option<OutcomeCode>, strength: Strength) -> Expect {
        Expect {
            result,
            code,
            strength,
            fix: None,
            answer: None,
        }
    }

    fn seen(decision: Decision, shown: Shown) -> Observed {
        Observed {
            decision,
            shown,
            ..Observed::default()
        }
    }

    fn struck(exercised: bool, signature: bool) -> Struck {
        Struck {
            fault: "f".into(),
            times: u32::from(exercised),
            exercised,
            missing: (!exercised).then(|| "the RP made no keys request".into()),
            signature,
        }
    }

    /// An observation of `o` against `e` with `faults` struck and nothing else: no steps,
    /// rules, hints or log; the keys fetched, userinfo called, the IdP plain HTTP.
    fn observing<'a>(e: &'a Expect, o: &'a Observed, faults: &'a [Struck]) -> Observation<'a> {
        Observation {
            expect: e,
            observed: o,
            steps: &[],
            struck: faults,
            rules: &[],
            keys_fetched_in_run: true,
            rejections_only: false,
            refusal_hint: None,
            userinfo_called: true,
            startup_failure: None,
            harness_error: None,
            ended_at_idp: false,
            log_tail: &[],
            backchannel_answer: None,
            id_token_from_token_endpoint: false,
            idp_tls: false,
        }
    }

    /// The judgement with nothing else observed; the RP's answer to a back-channel
    /// logout token, if any.
    fn judged(
        e: &Expect,
        o: &Observed,
        faults: &[Struck],
        keys: bool,
        answer: Option<u16>,
    ) -> Judgement {
        judge(&Observation {
            keys_fetched_in_run: keys,
            backchannel_answer: answer.map(|a| (a, format!("POST backchannel_logout → {a}"))),
            ..observing(e, o, faults)
        })
    }

    fn verdict(e: &Expect, o: &Observed, faults: &[Struck], keys: bool) -> Verdict {
        judged(e, o, faults, keys, None).verdict
    }

    fn session_verdict(
        e: &Expect,
        o: &Observed,
        faults: &[Struck],
        answer: Option<u16>,
    ) -> Judgement {
        judged(e, o, faults, true, answer)
    }

    #[test]
    fn a_forged_signature_from_the_token_endpoint_is_the_rps_call_under_tls() {
        let e = expect(Outcome::Reject, None, Strength::Must);
        let accepted = seen(Decision::Accepted, Shown::Nothing);
        let judge_it = |from_token_endpoint: bool, signature: bool| {
            let faults = [struck(true, signature)];
            judge(&Observation {
                id_token_from_token_endpoint: from_token_endpoint,
                idp_tls: true,
                ..observing(&e, &accepted, &faults)
            })
        };
        // OIDC Core 3.1.3.7 step 6: TLS may stand in for the signature at the token endpoint.
        let code = judge_it(true, true);
        assert_eq!(code.verdict, Verdict::Pass);
        assert!(code.hardening[0].contains("MAY be used to validate the issuer"));
        // From the authorization endpoint the signature MUST be checked.
        assert_eq!(judge_it(false, true).verdict, Verdict::Fail);
        // Any other defect is not the signature's.
        assert_eq!(judge_it(true, false).verdict, Verdict::Fail);
    }

    #[test]
    fn a_login_that_must_stop_at_the_idp() {
        let e = expect(Outcome::StopsAtIdp, None, Strength::Must);
        let o = seen(Decision::Refused, Shown::Nothing);
        let at_idp = |faults: &[Struck], ended: bool| {
            judge(&Observation {
                userinfo_called: false,
                ended_at_idp: ended,
                ..observing(&e, &o, faults)
            })
        };
        let stopped = at_idp(&[struck(true, false)], true);
        assert_eq!(stopped.verdict, Verdict::Pass);
        assert!(stopped.notes[0].starts_with("reproduced: the browser stopped"));
        // Stopped by something else than the fault: proves nothing.
        let other = at_idp(&[struck(false, false)], true);
        assert_eq!(other.verdict, Verdict::Inconclusive);
        // Back at the RP: the fault did not do what it says.
        let back = at_idp(&[struck(true, false)], false);
        assert_eq!(back.verdict, Verdict::Error);
    }

    #[test]
    fn session_verdicts() {
        let mut out = expect(Outcome::SignedOut, None, Strength::Must);
        out.answer = Some(200);
        let mut kept = expect(Outcome::SignedIn, None, Strength::Must);
        kept.answer = Some(400);
        let signed_out = seen(Decision::SignedOut, Shown::Nothing);
        let signed_in = seen(Decision::SignedIn, Shown::Nothing);
        let hit = [struck(true, false)];
        let never = [struck(false, false)];
        let v = |e: &Expect, o: &Observed, f: &[Struck], a: Option<u16>| {
            session_verdict(e, o, f, a).verdict
        };
        // A valid token: the session is over, 200 or 204.
        assert_eq!(v(&out, &signed_out, &hit, Some(200)), Verdict::Pass);
        assert_eq!(v(&out, &signed_out, &hit, Some(204)), Verdict::Pass);
        assert_eq!(v(&out, &signed_out, &hit, Some(500)), Verdict::Fail);
        assert_eq!(v(&out, &signed_in, &hit, Some(200)), Verdict::Fail);
        // A token that never reached the RP proves nothing, whatever the session.
        assert_eq!(v(&out, &signed_out, &never, None), Verdict::Inconclusive);
        // A bad token: the session survives and the RP answers 400.
        assert_eq!(v(&kept, &signed_in, &hit, Some(400)), Verdict::Pass);
        assert_eq!(v(&kept, &signed_in, &hit, Some(200)), Verdict::Fail);
        assert_eq!(v(&kept, &signed_out, &hit, Some(400)), Verdict::Fail);
        assert_eq!(v(&kept, &signed_in, &never, None), Verdict::Inconclusive);
        assert_eq!(v(&kept, &signed_out, &never, None), Verdict::Inconclusive);
        // As strict as the sentence cited: a SHOULD missed warns, a MAY only notes.
        let should = expect(Outcome::SignedIn, None, Strength::Should);
        assert_eq!(v(&should, &signed_out, &hit, Some(200)), Verdict::Warn);
        let may = expect(Outcome::SignedIn, None, Strength::May);
        let j = session_verdict(&may, &signed_out, &hit, Some(200));
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(
            j.hardening[0].contains("ended its session"),
            "{:?}",
            j.hardening
        );
        // The note quotes what showed it.
        let mut asked = signed_out.clone();
        asked.asked_login = true;
        let j = session_verdict(&kept, &asked, &hit, Some(400));
        assert!(
            j.notes[0].contains("sent the browser to the IdP's authorize"),
            "{:?}",
            j.notes
        );
    }

    #[test]
    fn verdict_table() {
        use Decision::*;
        use Verdict::*;
        let code = OutcomeCode::StateMissing;
        let rej = expect(Outcome::Reject, Some(code), Strength::Must);
        let hit = [struck(true, false)];
        let miss = [struck(false, false)];
        let right = seen(Refused, Shown::Code(code));
        let other = seen(Refused, Shown::Code(OutcomeCode::AuthError));
        let accepted = seen(Accepted, Shown::Nothing);
        assert_eq!(verdict(&rej, &right, &hit, true), Pass);
        assert_eq!(verdict(&rej, &other, &hit, true), WrongCode);
        assert_eq!(
            verdict(&rej, &seen(Refused, Shown::Nothing), &hit, true),
            WrongCode
        );
        assert_eq!(
            verdict(&rej, &seen(Refused, Shown::Indistinct), &hit, true),
            Pass
        );
        assert_eq!(verdict(&rej, &accepted, &hit, true), Fail);
        assert_eq!(
            verdict(&rej, &seen(Unknown, Shown::Nothing), &hit, true),
            Error
        );
        // A fault that never struck proves nothing, whatever the RP did.
        assert_eq!(verdict(&rej, &right, &miss, true), Inconclusive);
        assert_eq!(verdict(&rej, &accepted, &miss, true), Inconclusive);
        // ... but an RP that never fetched keys accepted a signature fault: it does not check.
        let sig_miss = [struck(false, true)];
        assert_eq!(verdict(&rej, &accepted, &sig_miss, false), Fail);
        assert_eq!(verdict(&rej, &accepted, &sig_miss, true), Inconclusive);
        let should = expect(Outcome::Reject, None, Strength::Should);
        assert_eq!(verdict(&should, &accepted, &hit, true), Warn);
        let may = expect(Outcome::Reject, None, Strength::May);
        assert_eq!(verdict(&may, &accepted, &hit, true), Pass);
        let acc = expect(Outcome::Accept, None, Strength::Must);
        assert_eq!(verdict(&acc, &accepted, &hit, true), Pass);
        assert_eq!(verdict(&acc, &accepted, &miss, true), Inconclusive);
        assert_eq!(
            verdict(&acc, &accepted, &[struck(true, true)], false),
            Inconclusive
        );
        assert_eq!(verdict(&acc, &other, &hit, true), Fail);
        assert_eq!(verdict(&acc, &other, &miss, true), Inconclusive);
        let mut no_identity = accepted.clone();
        no_identity.identity.check = IdentityCheck::Missing;
        assert_eq!(verdict(&acc, &no_identity, &hit, true), Fail);
        let either = expect(Outcome::RejectOrIgnore, None, Strength::Must);
        let mut own = accepted.clone();
        own.identity.check = IdentityCheck::Expected;
        let mut theirs = accepted.clone();
        theirs.identity.check = IdentityCheck::Wrong;
        assert_eq!(verdict(&either, &own, &hit, true), Pass);
        assert_eq!(verdict(&either, &theirs, &hit, true), Fail);
        assert_eq!(verdict(&either, &accepted, &hit, true), Inconclusive);
        assert_eq!(verdict(&either, &right, &hit, true), Pass);
    }

    #[test]
    fn a_step_that_had_to_succeed_makes_it_inconclusive() {
        let e = expect(Outcome::Reject, None, Strength::Must);
        let o = seen(Decision::Refused, Shown::Nothing);
        let steps = [StepReport {
            step: 1,
            kind: "login".into(),
            must_succeed: true,
            ok: false,
            detail: "refused: oidc_auth_error".into(),
            ..StepReport::default()
        }];
        let tail = ["boom".to_string()];
        let j = judge(&Observation {
            steps: &steps,
            refusal_hint: Some("GET authorize → 302 access_denied".into()),
            userinfo_called: false,
            log_tail: &tail,
            ..observing(&e, &o, &[])
        });
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!(j.notes[0].contains("step 1 (login)"), "{:?}", j.notes);
        assert!(
            j.notes.iter().any(|n| n.contains("«boom»")),
            "{:?}",
            j.notes
        );
    }
}
