//! RP profiles: how to start a relying party, where it logs in, how it shows success and
//! which outcome code it reports. Format: `docs/rp-profile.md`.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::files::{InputError, at_path, parse_toml, read};
use crate::outcome::{OutcomeCode, Shown};
use crate::scenario::Capability;
use mock_idp::flows::{FlowSet, ResponseMode, ResponseType};

/// A relying party under test.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// A page only a signed-in user sees, showing the user as after a login: logout
    /// scenarios visit it (`check-session` steps) to see whether the RP's session is over.
    #[serde(default)]
    pub protected_url: Option<String>,
    /// Where the IdP POSTs logout tokens (Back-Channel Logout 1.0); registered in the
    /// mock IdP, and implies the `backchannel-logout` capability.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// What the IdP's logout page loads in an iframe (Front-Channel Logout 1.0); implies
    /// the `frontchannel-logout` capability.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    /// Session Management 1.0: the IdP returns `session_state` and offers its
    /// `check_session_iframe`; implies the `session-management` capability.
    #[serde(default)]
    pub session_management: bool,
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
    /// The response types the RP asks for (default `["code"]`): scenarios about other
    /// flows are skipped, and a scenario whose flow the RP did not use proves nothing.
    #[serde(default = "default_response_types")]
    pub response_types: Vec<ResponseType>,
    /// The response mode it asks for (default: each response type's own, `query` for
    /// `code` and `fragment` for the others).
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
    /// A URL that makes the RP refresh its tokens and then show the signed-in user (for
    /// scenarios with a `refresh` step); with `access_token_lifetime_secs`, any page that
    /// needs a live access token.
    #[serde(default)]
    pub refresh_url: Option<String>,
    /// How long the IdP's access tokens for this RP live (default an hour): an RP that
    /// refreshes by itself when its token expired is made to, by a `refresh` step that
    /// waits this long before visiting `refresh_url`.
    #[serde(default)]
    pub access_token_lifetime_secs: Option<u32>,
    /// Which IdP the mock is for this RP: `okta` (default), `entra`, `adfs`, `auth0`,
    /// `keycloak`, `google`, `cognito`, `pingfederate`, `pingone` or `generic`
    /// (docs/personalities.md); `run --idp` overrides it.
    #[serde(default)]
    pub idp: mock_idp::Personality,
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
    /// The group the RP admits (named as in the tenant, e.g. `harness-admins`): every
    /// scenario's user is in it unless the scenario says `in_required_group = false`, the
    /// IdP sends groups, and `{required_group}` in `start` is its id at the IdP (Entra:
    /// an object id). Implies the `groups` capability.
    #[serde(default)]
    pub required_group: Option<String>,
    /// The Google Workspace domain the RP admits (the `hd` claim); implies the
    /// `hosted-domain` capability. The harness's users are at `harness.test`.
    #[serde(default)]
    pub hosted_domain: Option<String>,
    /// The RP's app signs with a key of its own (Entra's custom signing key): its ID
    /// tokens are verifiable only with the keys its metadata names when read with
    /// `?appid={client_id}`; implies the `app-signing-key` capability. Give the RP its
    /// issuer as `{issuer}?appid={client_id}` (Databricks' form).
    #[serde(default)]
    pub app_signing_key: bool,
    /// Claims the IdP's app sends under names of its own, as the RP's claim mapping
    /// expects them (`{ mail = "email" }`: the user's email in `mail` too); implies the
    /// `mapped-claims` capability.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claim_names: BTreeMap<String, String>,
    /// The RP's SCIM API, where the IdP provisions each scenario's user before it starts
    /// (`url`, `authorization`, `patch`, `delete`: docs/provisioning.md); implies the
    /// `provisioning` capability.
    #[serde(default)]
    pub provisioning: Option<mock_idp::scim::ScimTarget>,
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
    /// Seconds a scenario may take for each of its steps (default 20; a plain login is one
    /// step).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_response_types() -> Vec<ResponseType> {
    vec![ResponseType::Code]
}

fn default_server() -> String {
    "default".into()
}

fn default_timeout() -> u64 {
    20
}

impl Profile {
    /// What it can do: the declared capabilities, with the ones its fields imply
    /// (`logout_url`: logout; the channel logout URIs: their channels).
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut caps = self.capabilities.clone();
        for (on, c) in [
            (self.logout_url.is_some(), Capability::Logout),
            (
                self.backchannel_logout_uri.is_some(),
                Capability::BackchannelLogout,
            ),
            (
                self.frontchannel_logout_uri.is_some(),
                Capability::FrontchannelLogout,
            ),
            (self.session_management, Capability::SessionManagement),
            (self.required_group.is_some(), Capability::Groups),
            (self.hosted_domain.is_some(), Capability::HostedDomain),
            (self.provisioning.is_some(), Capability::Provisioning),
            (self.app_signing_key, Capability::AppSigningKey),
            (!self.claim_names.is_empty(), Capability::MappedClaims),
        ] {
            if on && !caps.contains(&c) {
                caps.push(c);
            }
        }
        caps
    }

    /// The flows the RP uses.
    pub fn flows(&self) -> FlowSet {
        self.response_types.iter().copied().collect()
    }

    /// The response mode the RP uses with `rt`.
    pub fn mode_for(&self, rt: ResponseType) -> ResponseMode {
        self.response_mode.unwrap_or_else(|| rt.default_mode())
    }

    /// Its flows in words: "`code` (query)".
    pub fn flows_text(&self) -> String {
        self.response_types
            .iter()
            .map(|rt| format!("`{rt}` ({})", self.mode_for(*rt)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The driver that plays the browser.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// reqwest, redirects one at a time (fast; no JavaScript).
    #[default]
    Http,
    /// Headless Chromium through ChromeDriver.
    Browser,
}

/// Starting the RP.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// The program and its arguments (templated).
    pub command: Vec<String>,
    /// Run to its end once, before the RP first starts (templated, in `cwd`, with `env`):
    /// a build, so that `command` starts the built RP at once however often it restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Vec<String>>,
    /// Environment (templated): `{issuer}`, `{client_id}`, `{client_secret}`,
    /// `{redirect_uri}`, `{ca_file}`, `{profile_dir}`, `{required_group}`,
    /// `{groups_token}`, `{groups_claim}`, `{end_session_endpoint}`,
    /// `{logout_return_param}`.
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
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// Start once.
    Never,
    /// Restart around exclusive scenarios.
    #[default]
    Exclusive,
}

/// How success shows: all given conditions must hold on the final page.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Where the signed-in identity shows: a regex on the final page where `{email}`,
    /// `{sub}` and `{name}` stand for what the RP shows (or named groups
    /// `(?P<email>…)`). A login whose page does not show the user's own identity there is
    /// not a success.
    #[serde(default)]
    pub identity: Option<String>,
}

/// How the outcome code shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRules {
    /// The RP only shows that it refused, not why: a rejection then passes with a note.
    #[serde(default)]
    pub rejections_only: bool,
    /// A regex on the final page (body, then URL) whose first group is the outcome code.
    #[serde(default)]
    pub pattern: Option<String>,
    /// A regex on the RP's log whose first group is the outcome code, for an RP that
    /// refuses at start-up (it exits, or never gets ready, with a fault armed).
    #[serde(default)]
    pub log: Option<String>,
    /// The RP's own messages mapped to outcome codes, tried in order (before `pattern`).
    #[serde(default)]
    pub map: Vec<MapRule>,
}

/// One message → code rule: every condition given must hold.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MapRule {
    /// Regex on the final page's body.
    #[serde(default)]
    pub body: Option<String>,
    /// Regex on the final URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Regex on the RP's log, for refusals at start-up (where there is no page, a rule
    /// without `log` tries its `body` on the log).
    #[serde(default)]
    pub log: Option<String>,
    /// The outcome code it means.
    #[serde(default)]
    pub code: Option<OutcomeCode>,
    /// The message does not say which failure it was (instead of `code`): a refusal with
    /// it passes with a note, as with `rejections_only`.
    #[serde(default)]
    pub indistinct: bool,
}

/// Which profile rule read what, for reports ("which rule matched which text").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    /// The rule: `outcome.map[2]`, `outcome.pattern`, `outcome.log`.
    pub rule: String,
    /// What it read: `body`, `url` or `log`.
    pub on: String,
    /// The text it matched (redacted, shortened).
    pub text: String,
}

/// The identity a scenario's user must show after a login.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Who {
    /// Their email (none for users without one).
    pub email: Option<String>,
    /// Their `sub`.
    pub sub: String,
    /// Their display name.
    pub name: Option<String>,
}

impl Who {
    fn get(&self, claim: &str) -> Option<&str> {
        match claim {
            "email" => self.email.as_deref(),
            "sub" => Some(&self.sub),
            "name" => self.name.as_deref(),
            _ => None,
        }
    }
}

/// What the page says about who is signed in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityCheck {
    /// The profile does not say where the identity shows.
    #[default]
    Unchecked,
    /// The user's own identity shows.
    Expected,
    /// No identity shows (nothing, empty, `undefined`, `None`, `null`).
    Missing,
    /// Another identity shows.
    Wrong,
}

/// The identity read from the final page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySeen {
    /// The verdict on it.
    pub check: IdentityCheck,
    /// The claim that decided (`email`, `sub`, `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// What the page shows for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    /// What it should show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

/// Words RPs print for a value they do not have.
const NO_VALUE: [&str; 7] = ["", "undefined", "null", "None", "nil", "(null)", "unknown"];

/// A rule of `outcome.map`, compiled.
#[derive(Clone, Debug)]
struct Map {
    body: Option<Regex>,
    url: Option<Regex>,
    log: Option<Regex>,
    shown: Shown,
}

/// A profile with its regexes compiled.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The profile.
    pub profile: Profile,
    /// Its folder (for relative paths in `start`).
    pub dir: std::path::PathBuf,
    success_url: Option<Regex>,
    identity: Option<Regex>,
    pattern: Option<Regex>,
    log: Option<Regex>,
    map: Vec<Map>,
}

/// The start of a matched text, for reports.
fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}

impl Compiled {
    /// Whether the final page shows a completed login (status, URL and body rules;
    /// `{email}` in `body` is the user's email).
    pub fn is_success(&self, status: u16, url: &str, body: &str, email: &str) -> bool {
        let s = &self.profile.success;
        s.status.is_none_or(|x| x == status)
            && self.success_url.as_ref().is_none_or(|r| r.is_match(url))
            && s.body
                .as_ref()
                .is_none_or(|b| body.contains(&b.replace("{email}", email)))
    }

    /// Whether the profile says where the identity shows.
    pub fn checks_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// Reads the identity on a page of a completed login.
    pub fn identity(&self, body: &str, who: &Who) -> IdentitySeen {
        let Some(re) = &self.identity else {
            return IdentitySeen::default();
        };
        let claims: Vec<&str> = re.capture_names().flatten().collect();
        let Some(caps) = re.captures(body) else {
            return IdentitySeen {
                check: IdentityCheck::Missing,
                claim: claims.first().map(|c| c.to_string()),
                shown: None,
                expected: claims.first().and_then(|c| who.get(c)).map(str::to_string),
            };
        };
        let mut seen = IdentitySeen {
            check: IdentityCheck::Expected,
            ..IdentitySeen::default()
        };
        for claim in claims {
            let shown = caps
                .name(claim)
                .map(|m| crate::driver::unescape(m.as_str()).trim().to_string());
            let expected = who.get(claim).map(str::to_string);
            let check = match (&shown, &expected) {
                (Some(s), _) if NO_VALUE.contains(&s.as_str()) => IdentityCheck::Missing,
                (None, _) => IdentityCheck::Missing,
                (Some(s), Some(e)) if s.eq_ignore_ascii_case(e) => IdentityCheck::Expected,
                (Some(_), None) if claim != "email" && claim != "sub" && claim != "name" => {
                    IdentityCheck::Expected
                }
                (Some(_), _) => IdentityCheck::Wrong,
            };
            if check != IdentityCheck::Expected {
                return IdentitySeen {
                    check,
                    claim: Some(claim.to_string()),
                    shown,
                    expected,
                };
            }
            seen.claim.get_or_insert_with(|| claim.to_string());
            seen.shown.get_or_insert_with(|| shown.unwrap_or_default());
            seen.expected = expected;
        }
        seen
    }

    /// What a refusal page shows, and the rule that read it.
    pub fn shown_on_page(&self, url: &str, body: &str) -> (Shown, Option<RuleMatch>) {
        for (i, m) in self.map.iter().enumerate() {
            if m.body.is_none() && m.url.is_none() {
                continue;
            }
            let b = m.body.as_ref().map(|r| r.find(body));
            let u = m.url.as_ref().map(|r| r.find(url));
            if b.is_some_and(|x| x.is_none()) || u.is_some_and(|x| x.is_none()) {
                continue;
            }
            let (on, text) = match (b.flatten(), u.flatten()) {
                (Some(hit), _) => ("body", hit.as_str()),
                (None, Some(hit)) => ("url", hit.as_str()),
                (None, None) => continue,
            };
            return (
                m.shown.clone(),
                Some(RuleMatch {
                    rule: format!("outcome.map[{i}]"),
                    on: on.into(),
                    text: clip(text),
                }),
            );
        }
        if let Some(p) = &self.pattern {
            for (on, text) in [("body", body), ("url", url)] {
                if let Some(c) = p.captures(text) {
                    let whole = c.get(0).map_or("", |m| m.as_str());
                    let code = c.get(1).map_or(whole, |m| m.as_str());
                    return (
                        shown_text(code),
                        Some(RuleMatch {
                            rule: "outcome.pattern".into(),
                            on: on.into(),
                            text: clip(whole),
                        }),
                    );
                }
            }
        }
        (Shown::Nothing, None)
    }

    /// What the RP's log shows, for a refusal at start-up: `outcome.map` rules by their
    /// `log` regex (or their `body` regex on the log), then `outcome.log`.
    pub fn shown_in_log(&self, log: &str) -> (Shown, Option<RuleMatch>) {
        for (i, m) in self.map.iter().enumerate() {
            let Some(re) = m.log.as_ref().or(m.body.as_ref()) else {
                continue;
            };
            if let Some(hit) = re.find(log) {
                return (
                    m.shown.clone(),
                    Some(RuleMatch {
                        rule: format!("outcome.map[{i}]"),
                        on: "log".into(),
                        text: clip(hit.as_str()),
                    }),
                );
            }
        }
        if let Some(p) = &self.log {
            if let Some(c) = p.captures(log) {
                let whole = c.get(0).map_or("", |m| m.as_str());
                let code = c.get(1).map_or(whole, |m| m.as_str());
                return (
                    shown_text(code),
                    Some(RuleMatch {
                        rule: "outcome.log".into(),
                        on: "log".into(),
                        text: clip(whole),
                    }),
                );
            }
        }
        (Shown::Nothing, None)
    }
}

fn shown_text(code: &str) -> Shown {
    code.parse()
        .map(Shown::Code)
        .unwrap_or_else(|_| Shown::Unknown(clip(code)))
}

/// Turns `identity` into a regex: `{email}`, `{sub}` and `{name}` become named groups.
fn identity_regex(src: &str) -> String {
    src.replace("{email}", r#"(?P<email>[^<>"'\s]*)"#)
        .replace("{sub}", r#"(?P<sub>[^<>"'\s]*)"#)
        .replace("{name}", r#"(?P<name>[^<>\n]*)"#)
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
    check_start(&c, &file, &text)?;
    Ok(c)
}

/// The start command's folder and program exist, before anything runs (the build's
/// program, when there is a build: the RP's may be what it builds).
fn check_start(c: &Compiled, file: &str, text: &str) -> Result<(), InputError> {
    let Some(start) = &c.profile.start else {
        return Ok(());
    };
    let cwd = match &start.cwd {
        Some(d) => c.dir.join(d),
        None => c.dir.clone(),
    };
    if !cwd.is_dir() {
        return Err(at_path(
            file,
            text,
            &["start", "cwd"],
            format!(
                "expected a folder (relative to the profile's) (found `{}`, which does not exist)",
                cwd.display()
            ),
            None,
        ));
    }
    let (field, argv) = match &start.build {
        Some(build) => ("build", build),
        None => ("command", &start.command),
    };
    let mut vars = BTreeMap::new();
    vars.insert("profile_dir", c.dir.display().to_string());
    let program = template(&argv[0], &vars);
    if program.contains('{') {
        return Ok(());
    }
    let found = if program.contains('/') {
        cwd.join(&program).is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(&program).is_file()))
    };
    if !found {
        return Err(at_path(
            file,
            text,
            &["start", field, "0"],
            format!(
                "expected a program to run (found `{program}`: {})",
                if program.contains('/') {
                    format!("no such file from {}", cwd.display())
                } else {
                    "not on the PATH".to_string()
                }
            ),
            None,
        ));
    }
    Ok(())
}

/// The variables `start.command`, `start.build` and `start.env` may use.
pub const TEMPLATE_VARS: [&str; 11] = [
    "issuer",
    "client_id",
    "client_secret",
    "redirect_uri",
    "ca_file",
    "profile_dir",
    "required_group",
    "groups_token",
    "groups_claim",
    "end_session_endpoint",
    "logout_return_param",
];

/// The first `{name}` in `s` that is not a template variable.
fn unknown_var(s: &str) -> Option<String> {
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        let looks_like_var =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if looks_like_var && !TEMPLATE_VARS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[close + 1..];
    }
    None
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
    let http = |path: &[&str], u: &str| {
        url(path, u)?;
        match url::Url::parse(u)
            .map(|u| u.scheme().to_string())
            .as_deref()
        {
            Ok("http" | "https") => Ok(()),
            _ => Err(at_path(
                file,
                text,
                path,
                format!("expected an http or https URL (found `{u}`)"),
                None,
            )),
        }
    };
    http(&["login_url"], &profile.login_url)?;
    for (field, u) in [
        ("logout_url", &profile.logout_url),
        ("protected_url", &profile.protected_url),
        ("backchannel_logout_uri", &profile.backchannel_logout_uri),
        ("frontchannel_logout_uri", &profile.frontchannel_logout_uri),
    ] {
        if let Some(u) = u {
            http(&[field], u)?;
        }
    }
    if profile.timeout_secs == 0 {
        return Err(at_path(
            file,
            text,
            &["timeout_secs"],
            "expected at least 1 second (found 0)".into(),
            None,
        ));
    }
    if let Some(u) = &profile.refresh_url {
        http(&["refresh_url"], u)?;
    }
    if let Some(l) = profile.access_token_lifetime_secs {
        // A refresh step waits it out within the scenario's time.
        if l == 0 || u64::from(l) + 3 > profile.timeout_secs {
            return Err(at_path(
                file,
                text,
                &["access_token_lifetime_secs"],
                format!(
                    "expected at least 1 second, and 3 less than timeout_secs ({}), since a refresh step waits it out (found {l})",
                    profile.timeout_secs
                ),
                None,
            ));
        }
    }
    if profile.response_types.is_empty() {
        return Err(at_path(
            file,
            text,
            &["response_types"],
            "expected at least one response type (e.g. [\"code\"])".into(),
            None,
        ));
    }
    if profile.response_mode == Some(ResponseMode::Query) {
        if let Some((i, rt)) = profile
            .response_types
            .iter()
            .enumerate()
            .find(|(_, rt)| **rt != ResponseType::Code)
        {
            return Err(at_path(
                file,
                text,
                &["response_types", &i.to_string()],
                format!(
                    "`{rt}` returns tokens, which never travel in the query (OAuth 2.0 Multiple Response Types 5; Okta refuses it): use response_mode \"fragment\" or \"form_post\""
                ),
                None,
            ));
        }
    }
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
        if s.build.as_ref().is_some_and(Vec::is_empty) {
            return Err(at_path(
                file,
                text,
                &["start", "build"],
                "expected a program and its arguments (or no `build`)".into(),
                None,
            ));
        }
        http(&["start", "ready_url"], &s.ready_url)?;
        if s.ready_timeout_secs == 0 {
            return Err(at_path(
                file,
                text,
                &["start", "ready_timeout_secs"],
                "expected at least 1 second (found 0)".into(),
                None,
            ));
        }
        fn args<'a>(
            field: &'static str,
            argv: &'a [String],
        ) -> impl Iterator<Item = (Vec<String>, &'a String)> {
            argv.iter()
                .enumerate()
                .map(move |(i, a)| (vec!["start".to_string(), field.into(), i.to_string()], a))
        }
        let vars_in = args("command", &s.command)
            .chain(args("build", s.build.as_deref().unwrap_or_default()))
            .chain(
                s.env
                    .iter()
                    .map(|(k, v)| (vec!["start".to_string(), "env".into(), k.clone()], v)),
            );
        for (path, value) in vars_in {
            if let Some(name) = unknown_var(value) {
                let help = mock_idp::diag::did_you_mean(&name, TEMPLATE_VARS)
                    .map(|m| format!("did you mean `{{{m}}}`?"))
                    .or_else(|| {
                        Some(format!(
                            "known: {}",
                            TEMPLATE_VARS.map(|v| format!("{{{v}}}")).join(", ")
                        ))
                    });
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                return Err(at_path(
                    file,
                    text,
                    &path,
                    format!("unknown template variable `{{{name}}}`"),
                    help,
                ));
            }
        }
    }
    let success_url = profile
        .success
        .url
        .as_deref()
        .map(|u| re(&["success", "url"], u))
        .transpose()?;
    let identity = profile
        .success
        .identity
        .as_deref()
        .map(|u| re(&["success", "identity"], &identity_regex(u)))
        .transpose()?;
    if let Some(r) = &identity {
        let names: Vec<&str> = r.capture_names().flatten().collect();
        if names.is_empty() {
            return Err(at_path(
                file,
                text,
                &["success", "identity"],
                "expected `{email}`, `{sub}` or `{name}` (or a named group such as `(?P<email>\\S+)`) where the identity shows".into(),
                None,
            ));
        }
    }
    let pattern = profile
        .outcome
        .pattern
        .as_deref()
        .map(|p| re(&["outcome", "pattern"], p))
        .transpose()?;
    let log = profile
        .outcome
        .log
        .as_deref()
        .map(|p| re(&["outcome", "log"], p))
        .transpose()?;
    let mut map = Vec::new();
    for (i, m) in profile.outcome.map.iter().enumerate() {
        let i = i.to_string();
        let shown = match (&m.code, m.indistinct) {
            (Some(_), true) | (None, false) => {
                return Err(at_path(
                    file,
                    text,
                    &["outcome", "map", &i],
                    "expected either `code` or `indistinct = true`".into(),
                    None,
                ));
            }
            (None, true) => Shown::Indistinct,
            (Some(code), false) => Shown::Code(*code),
        };
        if m.body.is_none() && m.url.is_none() && m.log.is_none() {
            return Err(at_path(
                file,
                text,
                &["outcome", "map", &i],
                "expected `body`, `url` or `log` to match (all given must match)".into(),
                None,
            ));
        }
        let compile = |field: &str, src: &Option<String>| {
            src.as_deref()
                .map(|r| re(&["outcome", "map", &i, field], r))
                .transpose()
        };
        map.push(Map {
            body: compile("body", &m.body)?,
            url: compile("url", &m.url)?,
            log: compile("log", &m.log)?,
            shown,
        });
    }
    Ok(Compiled {
        profile,
        dir: std::path::PathBuf::from("."),
        success_url,
        identity,
        pattern,
        log,
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
