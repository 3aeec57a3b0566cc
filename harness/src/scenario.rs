//! Scenario files: one login (or a few steps) through the relying party, the faults to
//! inject, and what a correct RP does about them. Format: `docs/scenario-format.md`.

use std::path::{Path, PathBuf};

use mock_idp::faults::{Fault, FaultId};
use serde::{Deserialize, Serialize};

use crate::files::{InputError, at_path, parse_toml, read};
use crate::outcome::OutcomeCode;

/// One scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable id, unique in a catalog (kebab-case).
    pub id: String,
    /// What it checks, in one line.
    pub title: String,
    /// The suite (by default the scenario's folder name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// Where the case comes from: OpenID RP test ids, Okta errors, vendor docs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The user who logs in (a fresh one per scenario run).
    #[serde(default, skip_serializing_if = "UserSpec::is_default")]
    pub user: UserSpec,
    /// IdP faults, aimed at this scenario's user (those on discovery and keys hit
    /// everyone, so the scenario runs alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// Faults the browser commits.
    #[serde(default, skip_serializing_if = "UserAgent::is_default")]
    pub user_agent: UserAgent,
    /// What happens, in order (default: one login). The expectation is about the last
    /// login; earlier logins must succeed (else the scenario is inconclusive).
    #[serde(default = "default_steps", skip_serializing_if = "is_default_steps")]
    pub steps: Vec<Step>,
    /// What a correct RP does.
    pub expect: Expect,
    /// Rules over what the RP asked the IdP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Capabilities the RP needs for this scenario to apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Capability>,
}

fn default_steps() -> Vec<Step> {
    vec![Step::Login]
}

fn is_default_steps(s: &[Step]) -> bool {
    s == [Step::Login]
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The scenario's user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Assigned to the RP's app (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub assigned: bool,
    /// Has an email in the profile (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub email: bool,
    /// `email_verified` (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub email_verified: bool,
    /// Groups besides `Everyone`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl Default for UserSpec {
    fn default() -> Self {
        Self {
            assigned: true,
            email: true,
            email_verified: true,
            groups: Vec::new(),
        }
    }
}

impl UserSpec {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Faults of the user agent (the driver commits them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAgent {
    /// Drop the RP's cookies between authorize and callback (the "expired nonce" case).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lose_rp_cookies: bool,
    /// After the login, send the same callback again from a fresh browser (a stolen
    /// callback URL replayed elsewhere).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replay_callback: bool,
    /// Deliver a callback the RP never asked for (IdP-initiated; no login started).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsolicited_callback: bool,
}

impl UserAgent {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A step of a multi-step scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Log in through the RP.
    Login,
    /// Log out through the RP.
    Logout,
    /// Rotate the IdP's keys, keeping the old one published.
    RotateKeys,
    /// Rotate the IdP's keys and drop the old one.
    RotateKeysDropOld,
}

/// What a correct RP does with the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The login completes, showing the user's identity.
    Accept,
    /// The RP refuses it.
    Reject,
    /// The RP refuses it, or completes it without using what the fault changed: the page
    /// shows the user's own identity (OIDC Core 5.3.2: a userinfo answer for another
    /// `sub` MUST NOT be used; refusing the login is not required).
    RejectOrIgnore,
}

/// How bad it is to miss the expectation, as the spec sentence the scenario cites says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// MUST: missing it is a failure (a security hole, or a broken login).
    #[default]
    Must,
    /// SHOULD / RECOMMENDED: missing it is a warning.
    Should,
    /// MAY / OPTIONAL: missing it still passes, with a hardening note.
    May,
}

impl Strength {
    /// The spec's word.
    pub fn word(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
        }
    }
}

/// What a correct RP does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Accept or reject.
    pub result: Outcome,
    /// With `reject`: the outcome code the RP reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<OutcomeCode>,
    /// `must` (default), `should` or `may`.
    #[serde(default, skip_serializing_if = "is_must")]
    pub strength: Strength,
}

fn is_must(s: &Strength) -> bool {
    *s == Strength::Must
}

/// A rule over the journal of the RP's requests (each rule's strength is the one its
/// spec sentence gives: see [`crate::findings::rule_strength`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// After refusing the login, the RP did not call userinfo.
    NoUserinfoAfterReject,
    /// The RP sent a nonce at authorize.
    SendsNonce,
    /// The RP used PKCE (S256).
    UsesPkce,
    /// The RP sent a state at authorize.
    SendsState,
    /// The RP sent the same redirect_uri at authorize and token.
    SameRedirectUri,
}

/// What an RP can do (declared in its profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Needs a browser that runs JavaScript.
    Javascript,
    /// RP-initiated logout.
    Logout,
    /// Back-channel logout.
    BackchannelLogout,
    /// The RP calls the userinfo endpoint during login.
    Userinfo,
}

impl Scenario {
    /// Parses a scenario file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, InputError> {
        let s: Scenario = parse_toml(file, text).map_err(top_level_hint)?;
        s.check(file, text)?;
        Ok(s)
    }

    /// The scenario as TOML (parses back to the same scenario).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario always serializes")
    }

    /// Whether a fault hits more than this scenario's user (it then runs alone).
    pub fn exclusive(&self) -> bool {
        self.faults.iter().any(|f| f.id.affects_everyone())
            || self
                .steps
                .iter()
                .any(|s| matches!(s, Step::RotateKeys | Step::RotateKeysDropOld))
    }

    /// The faults injected, for reports: IdP faults by label, user-agent faults as `ua:…`.
    pub fn fault_labels(&self) -> Vec<String> {
        let mut out: Vec<String> = self.faults.iter().map(Fault::label).collect();
        let ua = &self.user_agent;
        for (on, name) in [
            (ua.lose_rp_cookies, "ua:lose-rp-cookies"),
            (ua.replay_callback, "ua:replay-callback"),
            (ua.unsolicited_callback, "ua:unsolicited-callback"),
        ] {
            if on {
                out.push(name.into());
            }
        }
        out
    }

    /// The suite name (declared, or the folder's).
    pub fn suite_name(&self) -> &str {
        self.suite.as_deref().unwrap_or("default")
    }

    fn check(&self, file: &str, text: &str) -> Result<(), InputError> {
        let id_ok = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(at_path(
                file,
                text,
                &["id"],
                format!(
                    "expected a kebab-case id of lowercase letters, digits and `-` (found `{}`)",
                    self.id
                ),
                None,
            ));
        }
        for (i, f) in self.faults.iter().enumerate() {
            let i = i.to_string();
            if f.user.is_some() || f.client.is_some() {
                let field = if f.user.is_some() { "user" } else { "client" };
                return Err(at_path(
                    file,
                    text,
                    &["faults", &i, field],
                    "a scenario's faults are aimed at its own user: leave `user` and `client` out"
                        .into(),
                    None,
                ));
            }
            if let Err(e) = f.validate() {
                return Err(at_path(
                    file,
                    text,
                    &["faults", &i, if f.param.is_some() { "param" } else { "id" }],
                    e.to_string(),
                    None,
                ));
            }
        }
        if let (Outcome::Accept, Some(_)) = (self.expect.result, &self.expect.code) {
            return Err(at_path(
                file,
                text,
                &["expect", "code"],
                "`code` goes with `result = \"reject\"`: an accepted login has no outcome code"
                    .into(),
                None,
            ));
        }
        if !self.steps.contains(&Step::Login) {
            return Err(at_path(
                file,
                text,
                &["steps"],
                "expected at least one `login` step".into(),
                None,
            ));
        }
        Ok(())
    }
}

const TOP_LEVEL: [&str; 11] = [
    "id",
    "title",
    "suite",
    "references",
    "user",
    "faults",
    "user_agent",
    "steps",
    "expect",
    "evidence",
    "requires",
];

/// A top-level key written under a table (`evidence = …` after `[expect]`) is a classic
/// TOML trap: say so.
fn top_level_hint(e: InputError) -> InputError {
    match e {
        InputError::Invalid(mut d) if d.help.is_none() => {
            let field = d
                .message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
                .map(str::to_string);
            if let Some(f) = field.filter(|f| TOP_LEVEL.contains(&f.as_str())) {
                d.help = Some(format!(
                    "`{f}` is a top-level key: in TOML every key after a `[table]` header belongs to that table, so move `{f}` above the first `[...]` header"
                ));
            }
            InputError::Invalid(d)
        }
        other => other,
    }
}

/// A scenario and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Its file.
    pub path: PathBuf,
}

/// Loads one scenario file; the suite defaults to the folder name.
pub fn load_file(path: &Path) -> Result<Loaded, InputError> {
    let text = read(path)?;
    let mut scenario = Scenario::parse(&path.display().to_string(), &text)?;
    if scenario.suite.is_none() {
        scenario.suite = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
    }
    Ok(Loaded {
        scenario,
        path: path.to_path_buf(),
    })
}

/// Loads every `*.toml` under `dir` (recursively, sorted), refusing duplicate ids.
pub fn load_dir(dir: &Path) -> Result<Vec<Loaded>, InputError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(InputError::Other(format!(
            "{}: no scenario files (*.toml) found",
            dir.display()
        )));
    }
    files.iter().map(|f| load_file(f)).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| InputError::Read {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Refuses two scenarios with one id.
pub fn check_unique(all: &[Loaded]) -> Result<(), InputError> {
    let mut seen = std::collections::HashMap::new();
    for l in all {
        if let Some(first) = seen.insert(l.scenario.id.clone(), l.path.clone()) {
            return Err(InputError::Other(format!(
                "{}: scenario id `{}` is already used by {}",
                l.path.display(),
                l.scenario.id,
                first.display()
            )));
        }
    }
    Ok(())
}

/// Whether a fault id is used by the scenario.
pub fn uses_fault(s: &Scenario, id: FaultId) -> bool {
    s.faults.iter().any(|f| f.id == id)
}
