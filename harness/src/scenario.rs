//! Scenario files: one login (or a few steps) through the relying party, the faults to
//! inject, and what a correct RP does about them. Format: `docs/scenario-format.md`.

use std::path::{Path, PathBuf};

use mock_idp::faults::{Fault, FaultId};
use mock_idp::flows::{FlowSet, ResponseMode, ResponseType};
use serde::{Deserialize, Serialize};

use crate::files::{InputError, at_path, parse_toml, read};
use crate::outcome::OutcomeCode;

/// One scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The response types it is about (default: every flow its faults and steps can
    /// act in; see [`Scenario::flow_set`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<ResponseType>>,
    /// The response modes it is about (default: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_modes: Option<Vec<ResponseMode>>,
    /// The IdPs (personalities) it is about, for scenarios of one IdP's ways (default:
    /// every IdP); under another it is skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idps: Vec<mock_idp::Personality>,
    /// The OpenID Foundation RP tests it corresponds to.
    #[serde(default, skip_serializing_if = "Oidf::is_empty")]
    pub oidf: Oidf,
}

/// Where a scenario stands among the OpenID Foundation's RP tests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Oidf {
    /// Module ids of the conformance suite, as it spells them
    /// (`oidcc-client-test-invalid-iss`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    /// Test ids of the old (python) suite (`rp-id_token-issuer-mismatch`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub old: Vec<String>,
    /// How this scenario's check differs from the module's, when it does (plan reports
    /// quote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs: Option<String>,
    /// For plans, every miss counts as a failure (the OpenID suite requires what the
    /// spec leaves optional, e.g. asking for claims by scope).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
}

impl Oidf {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// In the group the RP's profile requires (`required_group`; default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub in_required_group: bool,
    /// As many more groups (`harness-group-1`, …), to be in more groups than a token
    /// carries (Entra's groups overage above 200).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_groups: u32,
    /// The account is managed by its email's domain (default true); `false` at Google is
    /// a personal account with a work address: no `hd` claim.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub managed: bool,
    /// Provisioned at the RP's SCIM API before the scenario (default true, for a profile
    /// with `[provisioning]`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub provisioned: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Default for UserSpec {
    fn default() -> Self {
        Self {
            assigned: true,
            email: true,
            email_verified: true,
            groups: Vec::new(),
            in_required_group: true,
            extra_groups: 0,
            managed: true,
            provisioned: true,
        }
    }
}

impl UserSpec {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Faults of the user agent (the driver commits them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Log in through the RP.
    Login,
    /// Log out through the RP (its `logout_url`: RP-initiated logout).
    Logout,
    /// Sign out at the IdP itself (OP-initiated logout): the IdP ends its session and
    /// tells the RP by back-channel logout token and front-channel iframe.
    IdpLogout,
    /// Sign out at the IdP in another tab, and watch the RP's page in this one for a few
    /// seconds (an RP watching the IdP session through its check-session iframe reacts).
    IdpLogoutElsewhere,
    /// Visit the RP's `protected_url` and read whether its session is alive: signed in
    /// when the page shows the user and the RP did not send the browser to the IdP's
    /// authorize; signed out otherwise. Before the last step it must find the user signed
    /// in (proving the page shows a session); the last one is what the verdict is about.
    CheckSession,
    /// Rotate the IdP's keys, keeping the old one published.
    RotateKeys,
    /// Rotate the IdP's keys and drop the old one.
    RotateKeysDropOld,
    /// Make the RP refresh its tokens (the profile's `refresh_url`), then read its page
    /// as after a login.
    Refresh,
    /// The IdP provisions the scenario's user at the RP's SCIM API (the profile's
    /// `[provisioning]`): created, or replaced when the RP has them.
    Provision,
    /// The IdP deprovisions the scenario's user at the RP's SCIM API: deactivated (and
    /// deleted where the profile says `delete = true`).
    Deprovision,
    /// The IdP adds the scenario's user to the RP's required group (the profile's
    /// `required_group`); with `[provisioning]`, it pushes the group to the RP too.
    GroupAdd,
    /// The IdP removes the scenario's user from the RP's required group; with
    /// `[provisioning]`, it pushes the group to the RP too.
    GroupRemove,
    /// The IdP changes the scenario's user's email (to `{id}.renamed@harness.test`; the
    /// login and `sub` stay), and pushes the change to the RP's SCIM API when the user
    /// was provisioned there. From then on the RP must show the new email.
    UpdateEmail,
}

/// What a correct RP does with the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// At the last `check-session` step, the RP's session is over (after a logout).
    SignedOut,
    /// At the last `check-session` step, the RP's session is alive (a logout message it
    /// must refuse did not end it).
    SignedIn,
    /// The IdP refuses the request on its own error page and never sends the browser back
    /// to the RP (RFC 6749 3.1.2.4: not to a redirect URI it does not know): a setup error
    /// only the IdP's admin can fix. The scenario reproduces what the user sees; the RP is
    /// not judged.
    StopsAtIdp,
}

impl Outcome {
    /// Whether it is about the RP's session (read at a `check-session` step), not a login.
    pub fn about_session(self) -> bool {
        matches!(self, Self::SignedOut | Self::SignedIn)
    }
}

/// How bad it is to miss the expectation, as the spec sentence the scenario cites says.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The usual fix, quoted when the RP misses the expectation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The status the RP must answer the IdP's back-channel logout token with: 200 (204
    /// also counts, Back-Channel Logout 1.0 2.8) or 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<u16>,
}

fn is_must(s: &Strength) -> bool {
    *s == Strength::Must
}

/// A rule over the journal of the RP's requests (each rule's strength is the one its
/// spec sentence gives: see [`crate::findings::rule_strength`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The RP asked for claims with scope values (profile, email, phone, address).
    RequestsClaimsByScope,
    /// The RP read the discovery document (in this run).
    ReadsDiscovery,
    /// The RP authenticated at the token endpoint with client_secret_basic.
    ClientSecretBasic,
    /// The RP's end-session request carried its ID token as `id_token_hint`.
    SendsIdTokenHint,
    /// The RP's end-session request named a `post_logout_redirect_uri`, so the user
    /// comes back to it.
    ReturnsAfterLogout,
    /// The RP's logout reached the IdP's logout endpoint in a form it accepts, so the
    /// IdP's session ended too.
    EndsIdpSession,
    /// The RP's SCIM API refused the IdP's second create of a user it has with 409
    /// `uniqueness` (RFC 7644 3.3), instead of making a second account.
    ScimConflict,
    /// After the flow, the RP has one account for the user (its SCIM API, looked up by
    /// each email the user had): a changed email did not make a second one.
    OneAccount,
    /// The RP revoked an access token of the flow at the IdP's revocation endpoint
    /// (RFC 7009), as a profile with the `revocation` capability says it does at logout.
    RevokesTokens,
}

/// What an RP can do (declared in its profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Needs a browser that runs JavaScript.
    Javascript,
    /// RP-initiated logout.
    Logout,
    /// Back-channel logout (implied by the profile's `backchannel_logout_uri`).
    BackchannelLogout,
    /// Front-channel logout (implied by the profile's `frontchannel_logout_uri`).
    FrontchannelLogout,
    /// Session Management 1.0 (implied by the profile's `session_management`).
    SessionManagement,
    /// The RP calls the userinfo endpoint during login.
    Userinfo,
    /// The RP sends the access token to userinfo in a form body (RFC 6750 2.2).
    UserinfoBody,
    /// The RP admits only the users of one group (implied by the profile's
    /// `required_group`).
    Groups,
    /// The RP admits only the accounts of one Google Workspace domain (implied by the
    /// profile's `hosted_domain`).
    HostedDomain,
    /// The RP has a SCIM API the IdP provisions users at (implied by the profile's
    /// `[provisioning]`).
    Provisioning,
    /// The RP admits only the users provisioned at it (Determined, Databricks): a user
    /// the IdP signs in but never provisioned is refused.
    ProvisionedOnly,
    /// The RP gives a user signing in for the first time an account (ClearML's "create
    /// users on first login").
    CreateOnLogin,
    /// The RP's app signs with a key of its own, read through metadata asked with
    /// `?appid=` (implied by the profile's `app_signing_key`).
    AppSigningKey,
    /// The RP reads the user's email from a claim the IdP's app adds under a name of its
    /// own (a claim mapping: ClearML's, Databricks' username claim; implied by the
    /// profile's `claim_names`).
    MappedClaims,
    /// The RP revokes its tokens at the IdP's revocation endpoint when the user logs out
    /// (RFC 7009; ClearML's "Revocation Endpoint").
    Revocation,
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

    /// The flows its faults and steps can act in: where each fault can strike (the
    /// catalog says), a `refresh` step needs a code flow, and userinfo an access token.
    pub fn can_act_in(&self) -> FlowSet {
        let mut set = FlowSet::ALL;
        for f in &self.faults {
            set = set.and(f.id.doc().flows);
        }
        if self.steps.contains(&Step::Refresh) {
            set = set.and(FlowSet::CODE);
        }
        if self
            .requires
            .iter()
            .any(|c| matches!(c, Capability::Userinfo | Capability::UserinfoBody))
        {
            set = set.and(FlowSet::ACCESS_TOKEN);
        }
        set
    }

    /// The flows it is about: the ones it names, else every flow it can act in.
    pub fn flow_set(&self) -> FlowSet {
        match &self.flows {
            Some(f) => f.iter().copied().collect(),
            None => self.can_act_in(),
        }
    }

    /// The response modes it is about (`None`: any): the ones it names, else `form_post`
    /// when a fault strikes only there.
    pub fn modes(&self) -> Option<Vec<ResponseMode>> {
        if let Some(m) = &self.response_modes {
            return Some(m.clone());
        }
        self.faults
            .iter()
            .any(|f| f.id.form_post_only())
            .then(|| vec![ResponseMode::FormPost])
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
        // The user fields about an RP's access rules mean something only with the rule.
        let needs = [
            (
                !self.user.in_required_group,
                "in_required_group",
                Capability::Groups,
                "groups",
            ),
            (
                self.user.extra_groups > 0,
                "extra_groups",
                Capability::Groups,
                "groups",
            ),
            (
                !self.user.managed,
                "managed",
                Capability::HostedDomain,
                "hosted-domain",
            ),
            (
                !self.user.provisioned,
                "provisioned",
                Capability::Provisioning,
                "provisioning",
            ),
        ];
        for (set, field, cap, name) in needs {
            if set && !self.requires.contains(&cap) {
                return Err(at_path(
                    file,
                    text,
                    &["user", field],
                    format!(
                        "`{field}` is about an RP's access rule: add `requires = [\"{name}\"]` so that RPs without one skip the scenario"
                    ),
                    None,
                ));
            }
        }
        let provisions = self
            .steps
            .iter()
            .any(|s| matches!(s, Step::Provision | Step::Deprovision));
        if self.evidence.contains(&Evidence::OneAccount)
            && !self.requires.contains(&Capability::Provisioning)
        {
            return Err(at_path(
                file,
                text,
                &["evidence"],
                "`one-account` counts the RP's accounts at its SCIM API: add `requires = [\"provisioning\"]`".into(),
                None,
            ));
        }
        if self.evidence.contains(&Evidence::RevokesTokens)
            && !self.requires.contains(&Capability::Revocation)
        {
            return Err(at_path(
                file,
                text,
                &["evidence"],
                "`revokes-tokens` holds the RP to a revocation it says it makes: add `requires = [\"revocation\"]`".into(),
                None,
            ));
        }
        if provisions && !self.requires.contains(&Capability::Provisioning) {
            return Err(at_path(
                file,
                text,
                &["steps"],
                "`provision` and `deprovision` steps need the RP's SCIM API: add `requires = [\"provisioning\"]`".into(),
                None,
            ));
        }
        let regroups = self
            .steps
            .iter()
            .any(|s| matches!(s, Step::GroupAdd | Step::GroupRemove));
        if regroups && !self.requires.contains(&Capability::Groups) {
            return Err(at_path(
                file,
                text,
                &["steps"],
                "`group-add` and `group-remove` steps change the user's membership of the RP's required group: add `requires = [\"groups\"]`".into(),
                None,
            ));
        }
        if let Some(f) = self
            .faults
            .iter()
            .find(|f| f.id.strikes_at(mock_idp::Strikes::Provisioning))
            && !self.requires.contains(&Capability::Provisioning)
        {
            return Err(at_path(
                file,
                text,
                &["faults"],
                format!(
                    "`{}` changes what the IdP sends to the RP's SCIM API: add `requires = [\"provisioning\"]`",
                    f.id
                ),
                None,
            ));
        }
        let checks = self
            .steps
            .iter()
            .filter(|s| **s == Step::CheckSession)
            .count();
        let last_checks = self.steps.last() == Some(&Step::CheckSession);
        if self.expect.result.about_session() != (checks > 0 && last_checks) {
            return Err(at_path(
                file,
                text,
                &["expect", "result"],
                if self.expect.result.about_session() {
                    "`signed-out` and `signed-in` are read at a last `check-session` step: end `steps` with one".into()
                } else {
                    "a scenario ending with `check-session` is about the RP's session: expect `signed-out` or `signed-in`".into()
                },
                None,
            ));
        }
        if let Some(a) = self.expect.answer {
            if !matches!(a, 200 | 400) {
                return Err(at_path(
                    file,
                    text,
                    &["expect", "answer"],
                    format!(
                        "expected 200 or 400, the answers Back-Channel Logout 1.0 2.8 defines (found {a})"
                    ),
                    None,
                ));
            }
        }
        if self.expect.result.about_session() && self.expect.code.is_some() {
            return Err(at_path(
                file,
                text,
                &["expect", "code"],
                "`code` goes with `result = \"reject\"`: a session check has no outcome code"
                    .into(),
                None,
            ));
        }
        if self.expect.result == Outcome::StopsAtIdp
            && (self.expect.code.is_some() || self.faults.is_empty())
        {
            return Err(at_path(
                file,
                text,
                &["expect", "result"],
                "`stops-at-idp` needs a fault that stops the login at the IdP (e.g. `redirect-uri-unregistered`) and no `code`: the RP never sees the login".into(),
                None,
            ));
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
        let can = self.can_act_in();
        if can.is_empty() {
            return Err(at_path(
                file,
                text,
                &["faults"],
                "these faults and steps have no flow in common (docs/faults.md lists where each fault strikes)".into(),
                None,
            ));
        }
        if let Some(flows) = &self.flows {
            if flows.is_empty() {
                return Err(at_path(
                    file,
                    text,
                    &["flows"],
                    "expected at least one response type (or leave `flows` out: every flow the faults can strike in)".into(),
                    None,
                ));
            }
            for (i, rt) in flows.iter().enumerate() {
                if can.contains(*rt) {
                    continue;
                }
                let why = self
                    .faults
                    .iter()
                    .find(|f| !f.id.doc().flows.contains(*rt))
                    .map(|f| {
                        format!(
                            "fault `{}` strikes only in {}",
                            f.id,
                            f.id.doc().flows.describe()
                        )
                    })
                    .unwrap_or_else(|| {
                        format!("its steps and requirements need {}", can.describe())
                    });
                return Err(at_path(
                    file,
                    text,
                    &["flows", &i.to_string()],
                    format!("`{rt}` is not a flow this scenario can test: {why}"),
                    None,
                ));
            }
        }
        if let (Some(modes), Some(f)) = (
            &self.response_modes,
            self.faults.iter().find(|f| f.id.form_post_only()),
        ) {
            if modes.iter().any(|m| *m != ResponseMode::FormPost) {
                return Err(at_path(
                    file,
                    text,
                    &["response_modes"],
                    format!("fault `{}` strikes only in response_mode form_post", f.id),
                    None,
                ));
            }
        }
        for (i, m) in self.oidf.modules.iter().enumerate() {
            if crate::oidf::module(m).is_none() {
                return Err(at_path(
                    file,
                    text,
                    &["oidf", "modules", &i.to_string()],
                    format!(
                        "`{m}` is not a module of the OpenID Foundation's RP tests (docs/oidf-coverage.md lists them)"
                    ),
                    mock_idp::diag::did_you_mean(m, crate::oidf::MODULES.iter().map(|m| m.id))
                        .map(|s| format!("did you mean `{s}`?")),
                ));
            }
        }
        for (i, m) in self.oidf.old.iter().enumerate() {
            if !crate::oidf::OLD_TESTS.iter().any(|t| t.id == m) {
                return Err(at_path(
                    file,
                    text,
                    &["oidf", "old", &i.to_string()],
                    format!(
                        "`{m}` is not a test of the old OpenID RP suite (docs/oidf-coverage.md lists them)"
                    ),
                    mock_idp::diag::did_you_mean(m, crate::oidf::OLD_TESTS.iter().map(|t| t.id))
                        .map(|s| format!("did you mean `{s}`?")),
                ));
            }
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

const TOP_LEVEL: [&str; 13] = [
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
    "flows",
    "response_modes",
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

/// Loads every `*.toml` under `dir` (recursively, sorted; a product's `product.toml` is
/// its playbook's manifest, not a scenario), refusing duplicate ids.
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
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // Not on disk: the built-in catalog's folder, if `dir` is one of its folders.
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && !crate::catalog::under(dir).is_empty() =>
        {
            out.extend(
                crate::catalog::under(dir)
                    .into_iter()
                    .filter(|p| !p.ends_with(&format!("/{}", crate::product::MANIFEST)))
                    .map(PathBuf::from),
            );
            return Ok(());
        }
        Err(e) => {
            return Err(InputError::Read {
                path: dir.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "toml")
            && p.file_name().is_none_or(|n| n != crate::product::MANIFEST)
        {
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
