//! RP profiles: how to start a relying party, where it logs in, how it shows success and
//! which outcome code it reports. Format: `docs/rp-profile.md`.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::files::{InputError, at_path, parse_toml, read};
use crate::scenario::{Capability, OUTCOME_CODES};

/// A relying party under test.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A short name for reports.
    pub name: String,
    /// Where a login starts (the RP redirects to the IdP from there).
    pub login_url: String,
    /// Where logout starts, for scenarios with a `logout` step.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// The RP's redirect URIs (registered in the mock IdP).
    pub redirect_uris: Vec<String>,
    /// The RP's post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Origins allowed to call the IdP from a browser (CORS), for single-page RPs.
    #[serde(default)]
    pub trusted_origins: Vec<String>,
    /// The client id registered for it.
    pub client_id: String,
    /// Its secret (absent: a public client).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Token endpoint authentication (default `client_secret_basic`, `none` without a secret).
    #[serde(default)]
    pub auth_method: Option<mock_idp::AuthMethod>,
    /// The authorization server it uses: `org`, `default` (default) or a custom id.
    #[serde(default = "default_server")]
    pub authorization_server: String,
    /// How to start it (absent: it is already running).
    #[serde(default)]
    pub start: Option<Start>,
    /// How a completed login shows.
    pub success: Success,
    /// How the RP reports why a login failed.
    #[serde(default)]
    pub outcome: OutcomeRules,
    /// What it can do; scenarios that need more are skipped.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Where the mock IdP listens (default `127.0.0.1:0`, a free port). Set it when the
    /// RP is already running and configured with a fixed issuer.
    #[serde(default)]
    pub idp_addr: Option<std::net::SocketAddr>,
    /// Serve the mock IdP over HTTPS (fixture CA; its file is `{ca_file}` in `start`).
    #[serde(default)]
    pub idp_tls: bool,
    /// How to play the browser: `http` (default) or `browser` (Chromium, for RPs that
    /// need JavaScript).
    #[serde(default)]
    pub driver: Driver,
    /// Browser driver: a CSS selector that appears when the RP's page is final (for RPs
    /// that finish the flow in JavaScript), e.g. `"#who, #outcome"`.
    #[serde(default)]
    pub settled_when: Option<String>,
    /// Seconds one scenario may take (default 20).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_server() -> String {
    "default".into()
}

fn default_timeout() -> u64 {
    20
}

/// The driver that plays the browser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// reqwest, redirects one at a time (fast; no JavaScript).
    #[default]
    Http,
    /// Headless Chromium through ChromeDriver.
    Browser,
}

/// Starting the RP.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// The program and its arguments (templated).
    pub command: Vec<String>,
    /// Environment (templated): `{issuer}`, `{client_id}`, `{client_secret}`,
    /// `{redirect_uri}`, `{ca_file}`, `{profile_dir}`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory, relative to the profile file (default: its folder).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Polled until it answers below 500.
    pub ready_url: String,
    /// Seconds to wait for readiness (default 60).
    #[serde(default = "default_ready")]
    pub ready_timeout_secs: u64,
    /// When to restart it: `never`, or `exclusive` (before and after every scenario
    /// that runs alone, since an RP caches discovery and keys).
    #[serde(default)]
    pub restart: Restart,
}

fn default_ready() -> u64 {
    60
}

/// Restart policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Start once.
    Never,
    /// Restart around exclusive scenarios.
    #[default]
    Exclusive,
}

/// How success shows: all given conditions must hold on the final page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Success {
    /// HTTP status of the final page.
    #[serde(default)]
    pub status: Option<u16>,
    /// Regex on the final URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Text the final page contains; `{email}` is the user's email.
    #[serde(default)]
    pub body: Option<String>,
}

/// How the outcome code shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRules {
    /// The RP only shows that it refused, not why: a rejection then passes with a note.
    #[serde(default)]
    pub rejections_only: bool,
    /// A regex on the final page (body, then URL) whose first group is the outcome code.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The RP's own messages mapped to outcome codes, tried in order.
    #[serde(default)]
    pub map: Vec<MapRule>,
}

/// One message → code rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapRule {
    /// Regex on the final page's body.
    #[serde(default)]
    pub body: Option<String>,
    /// Regex on the final URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The outcome code it means.
    #[serde(default)]
    pub code: Option<String>,
    /// The message does not say which failure it was (instead of `code`): a refusal with
    /// it passes with a note, as with `rejections_only`.
    #[serde(default)]
    pub indistinct: bool,
}

/// What [`Compiled::outcome_code`] returns for a message marked `indistinct`.
pub const INDISTINCT: &str = "(indistinct)";

/// A profile with its regexes compiled.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The profile.
    pub profile: Profile,
    /// Its folder (for relative paths in `start`).
    pub dir: std::path::PathBuf,
    success_url: Option<Regex>,
    pattern: Option<Regex>,
    map: Vec<(Option<Regex>, Option<Regex>, String)>,
}

impl Compiled {
    /// Whether the final page shows a completed login for `email`.
    pub fn is_success(&self, status: u16, url: &str, body: &str, email: &str) -> bool {
        let s = &self.profile.success;
        s.status.is_none_or(|x| x == status)
            && self.success_url.as_ref().is_none_or(|r| r.is_match(url))
            && s.body
                .as_ref()
                .is_none_or(|b| body.contains(&b.replace("{email}", email)))
    }

    /// The outcome code the final page shows, if any.
    pub fn outcome_code(&self, url: &str, body: &str) -> Option<String> {
        for (b, u, code) in &self.map {
            let hit = b.as_ref().is_some_and(|r| r.is_match(body))
                || u.as_ref().is_some_and(|r| r.is_match(url));
            if hit {
                return Some(code.clone());
            }
        }
        let p = self.pattern.as_ref()?;
        p.captures(body)
            .or_else(|| p.captures(url))
            .and_then(|c| c.get(1).or_else(|| c.get(0)))
            .map(|m| m.as_str().to_string())
    }
}

/// Loads and checks a profile file.
pub fn load(path: &Path) -> Result<Compiled, InputError> {
    let text = read(path)?;
    let file = path.display().to_string();
    let mut c = parse(&file, &text)?;
    c.dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), Path::to_path_buf);
    Ok(c)
}

/// Parses profile text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Compiled, InputError> {
    let profile: Profile = parse_toml(file, text)?;
    let re = |path: &[&str], src: &str| {
        Regex::new(src).map_err(|e| {
            at_path(
                file,
                text,
                path,
                format!(
                    "expected a regular expression: {}",
                    first_line(&e.to_string())
                ),
                None,
            )
        })
    };
    let url = |path: &[&str], u: &str| {
        url::Url::parse(u).map(|_| ()).map_err(|e| {
            at_path(
                file,
                text,
                path,
                format!("expected an absolute URL (found `{u}`: {e})"),
                None,
            )
        })
    };
    url(&["login_url"], &profile.login_url)?;
    for (i, u) in profile.redirect_uris.iter().enumerate() {
        url(&["redirect_uris", &i.to_string()], u)?;
    }
    if profile.redirect_uris.is_empty() {
        return Err(at_path(
            file,
            text,
            &["redirect_uris"],
            "expected at least one redirect URI".into(),
            None,
        ));
    }
    if let Some(s) = &profile.start {
        if s.command.is_empty() {
            return Err(at_path(
                file,
                text,
                &["start", "command"],
                "expected a program and its arguments".into(),
                None,
            ));
        }
        url(&["start", "ready_url"], &s.ready_url)?;
    }
    let success_url = profile
        .success
        .url
        .as_deref()
        .map(|u| re(&["success", "url"], u))
        .transpose()?;
    let pattern = profile
        .outcome
        .pattern
        .as_deref()
        .map(|p| re(&["outcome", "pattern"], p))
        .transpose()?;
    let mut map = Vec::new();
    for (i, m) in profile.outcome.map.iter().enumerate() {
        let i = i.to_string();
        let code = match (&m.code, m.indistinct) {
            (Some(_), true) | (None, false) => {
                return Err(at_path(
                    file,
                    text,
                    &["outcome", "map", &i],
                    "expected either `code` or `indistinct = true`".into(),
                    None,
                ));
            }
            (None, true) => INDISTINCT.to_string(),
            (Some(code), false) if !OUTCOME_CODES.contains(&code.as_str()) => {
                let help = mock_idp::diag::did_you_mean(code, OUTCOME_CODES)
                    .map(|c| format!("did you mean `{c}`?"));
                return Err(at_path(
                    file,
                    text,
                    &["outcome", "map", &i, "code"],
                    format!(
                        "expected an outcome code of the troubleshooting table (found `{code}`)"
                    ),
                    help,
                ));
            }
            (Some(code), false) => code.clone(),
        };
        if m.body.is_none() && m.url.is_none() {
            return Err(at_path(
                file,
                text,
                &["outcome", "map", &i],
                "expected `body` or `url` to match".into(),
                None,
            ));
        }
        let b = m
            .body
            .as_deref()
            .map(|r| re(&["outcome", "map", &i, "body"], r))
            .transpose()?;
        let u = m
            .url
            .as_deref()
            .map(|r| re(&["outcome", "map", &i, "url"], r))
            .transpose()?;
        map.push((b, u, code));
    }
    Ok(Compiled {
        profile,
        dir: std::path::PathBuf::from("."),
        success_url,
        pattern,
        map,
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// Replaces `{name}` placeholders.
pub fn template(s: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}
