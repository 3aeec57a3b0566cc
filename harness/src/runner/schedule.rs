//! Which scenarios run, and how: skipped (a capability or the driver is missing), in
//! parallel (faults aimed at their own user), or alone (faults everyone sees), with the
//! RP restarted for each of those after their faults are armed.

use std::sync::Arc;

use super::{Ctx, Rp, play, provision};
use crate::profile::Profile;
use crate::report::ScenarioReport;
use crate::scenario::{Capability, Loaded, Scenario, Step};
use crate::verdict::Judgement;
use mock_idp::flows::{ResponseMode, ResponseType};

/// Whether a scenario id falls in partition `k` of `n` (FNV-1a of the id, so a slice
/// does not move when other scenarios are added).
pub fn in_partition(id: &str, k: usize, n: usize) -> bool {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    (h % n as u64) as usize == k - 1
}

/// The scenarios of slice `k/n`, or all.
pub(crate) fn partition(all: Vec<Loaded>, p: Option<(usize, usize)>) -> Vec<Loaded> {
    match p {
        Some((k, n)) => all
            .into_iter()
            .filter(|l| in_partition(&l.scenario.id, k, n))
            .collect(),
        None => all,
    }
}

/// A run's scenarios, sorted by how they run.
pub(crate) struct Plan {
    /// Reports of the scenarios that do not apply.
    pub skipped: Vec<ScenarioReport>,
    /// Run at once, `--jobs` at a time.
    pub parallel: Vec<Scenario>,
    /// Run one by one, afterwards.
    pub exclusive: Vec<Scenario>,
}

pub(crate) fn plan(ctx: &Ctx, scenarios: Vec<Loaded>) -> Plan {
    let caps = ctx.profile.profile.capabilities();
    let mut plan = Plan {
        skipped: Vec::new(),
        parallel: Vec::new(),
        exclusive: Vec::new(),
    };
    for l in scenarios {
        let s = l.scenario;
        let skip = if let Some(missing) = s.requires.iter().find(|c| !caps.contains(c)) {
            let implied_by = match missing {
                Capability::Logout => Some("logout_url"),
                Capability::BackchannelLogout => Some("backchannel_logout_uri"),
                Capability::FrontchannelLogout => Some("frontchannel_logout_uri"),
                Capability::SessionManagement => Some("session_management = true"),
                _ => None,
            };
            Some(match implied_by {
                Some(field) => format!("the RP's profile has no `{field}`"),
                None => format!(
                    "the RP's profile does not declare the `{}` capability",
                    capability_name(*missing)
                ),
            })
        } else if let Some(why) = flow_skip(&ctx.profile.profile, &s, ctx.chrome.is_some()) {
            Some(why)
        } else if let Some(why) = idp_skip(ctx.idp.personality(), &s) {
            Some(why)
        } else {
            driver_skip(&s, ctx.chrome.is_some()).map(str::to_string)
        };
        match skip {
            Some(why) => plan
                .skipped
                .push(play::report_without_flow(&s, Judgement::skip(why), 0)),
            None if s.exclusive() => plan.exclusive.push(s),
            None => plan.parallel.push(s),
        }
    }
    plan
}

fn capability_name(c: Capability) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Why a scenario does not apply under the IdP's personality, if so: a suite of another
/// IdP's ways, an RP-initiated logout at an IdP that advertises no end-session endpoint
/// (Google has none; Cognito's and PingFederate's go by other names, which RPs only use
/// when told to), or a logout token HS256-signed where the IdP offers HS256 itself (the
/// scenario's premise is an algorithm the IdP does not use).
pub(crate) fn idp_skip(idp: mock_idp::Personality, s: &Scenario) -> Option<String> {
    if !s.idps.is_empty() && !s.idps.contains(&idp) {
        return Some(format!(
            "it is about {}; the IdP here is {} (run it with --idp {})",
            s.idps
                .iter()
                .map(|p| p.title())
                .collect::<Vec<_>>()
                .join(" or "),
            idp.title(),
            s.idps[0].name()
        ));
    }
    let lacks = [
        (
            Capability::BackchannelLogout,
            idp.backchannel_logout(),
            "back-channel logout",
        ),
        (
            Capability::FrontchannelLogout,
            idp.frontchannel_logout(),
            "front-channel logout",
        ),
        (
            Capability::SessionManagement,
            idp.session_management(),
            "session management (check_session_iframe)",
        ),
    ]
    .into_iter()
    .find(|(c, has, _)| s.requires.contains(c) && !has);
    if let Some((_, _, what)) = lacks {
        return Some(format!(
            "it is about {what}, which {} does not offer",
            idp.title()
        ));
    }
    if s.requires.contains(&Capability::Groups) && idp.groups_at().is_none() {
        return Some(format!(
            "it is about the groups in tokens, which {} does not send",
            idp.title()
        ));
    }
    let at_end_session = s.steps.contains(&Step::Logout)
        && (s
            .faults
            .iter()
            .any(|f| f.id.strikes_at(mock_idp::faults::Strikes::Logout))
            || s.evidence.iter().any(|e| {
                matches!(
                    e,
                    crate::scenario::Evidence::SendsIdTokenHint
                        | crate::scenario::Evidence::ReturnsAfterLogout
                )
            }));
    if at_end_session && !idp.advertises_end_session() {
        return Some(format!(
            "it is about the IdP's end-session endpoint, and {} advertises none in its discovery document (RPs log out locally)",
            idp.title()
        ));
    }
    if s.faults
        .iter()
        .any(|f| f.id == mock_idp::FaultId::LogoutTokenHs256)
        && idp.offers_id_token_alg("HS256")
    {
        return Some(format!(
            "its premise is a logout token in an algorithm the IdP does not use, and {} offers HS256 (id_token_signing_alg_values_supported)",
            idp.title()
        ));
    }
    None
}

/// Why a scenario does not apply to the RP's flows, or cannot be played in them, if so.
pub(crate) fn flow_skip(p: &Profile, s: &Scenario, browser: bool) -> Option<String> {
    let about = s.flow_set();
    let modes = s.modes();
    let usable: Vec<ResponseType> = p
        .response_types
        .iter()
        .copied()
        .filter(|rt| about.contains(*rt))
        .filter(|rt| modes.as_ref().is_none_or(|m| m.contains(&p.mode_for(*rt))))
        .collect();
    if usable.is_empty() {
        let mut about = about.describe();
        if let Some(m) = &modes {
            about.push_str(&format!(
                " in response_mode {}",
                m.iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        return Some(format!(
            "it is about {about}; the RP's profile uses {}",
            p.flows_text()
        ));
    }
    if s.evidence
        .contains(&crate::scenario::Evidence::ClientSecretBasic)
    {
        let secret = p.client_secret.as_deref().is_some_and(|x| !x.is_empty());
        let method = p.auth_method.unwrap_or(if secret {
            mock_idp::AuthMethod::ClientSecretBasic
        } else {
            mock_idp::AuthMethod::None
        });
        if method != mock_idp::AuthMethod::ClientSecretBasic {
            return Some(format!(
                "the RP's client is registered for {} (profile `auth_method`), not client_secret_basic",
                method.as_str()
            ));
        }
    }
    if s.steps.contains(&Step::CheckSession) && p.protected_url.is_none() {
        return Some(
            "it checks the RP's session (`check-session`), and the RP's profile has no `protected_url` to check it at"
                .into(),
        );
    }
    // With both channels registered, the IdP ends the session by the one the scenario is
    // not about, whatever it does to the other: a session that must survive cannot.
    let both = p.backchannel_logout_uri.is_some() && p.frontchannel_logout_uri.is_some();
    if both && s.expect.result == crate::scenario::Outcome::SignedIn {
        return Some(
            "the profile registers both back-channel and front-channel logout, so the other channel ends the session whatever this scenario does to one: run it from a profile with one of them"
                .into(),
        );
    }
    let channel = p.backchannel_logout_uri.is_some() || p.frontchannel_logout_uri.is_some();
    if channel && s.requires.contains(&Capability::SessionManagement) {
        return Some(
            "the profile registers a logout channel, which would end the session however the RP watches the IdP's: run it from a profile without channel logout URIs"
                .into(),
        );
    }
    if s.steps.contains(&Step::Logout) && p.logout_url.is_none() {
        return Some("it logs out through the RP, and the RP's profile has no `logout_url`".into());
    }
    if s.steps.contains(&Step::Refresh) && p.refresh_url.is_none() {
        return Some(
            "it has a `refresh` step, and the RP's profile has no `refresh_url` that makes it refresh"
                .into(),
        );
    }
    if !browser
        && usable
            .iter()
            .all(|rt| p.mode_for(*rt) == ResponseMode::Fragment)
    {
        return Some(
            "the RP gets its authorization response in the URL fragment, which a browser never sends to a server (the RP's page reads it with JavaScript): run with --driver browser"
                .into(),
        );
    }
    None
}

/// Why a scenario cannot run with this driver, if it cannot.
fn driver_skip(s: &Scenario, browser: bool) -> Option<&'static str> {
    if !browser && s.requires.contains(&Capability::Javascript) {
        return Some("it needs a browser that runs JavaScript: run with --driver browser");
    }
    if !browser && s.steps.contains(&Step::IdpLogoutElsewhere) {
        return Some(
            "it watches the RP's page react to a sign-out in another tab, which takes a browser that runs the page's scripts: run with --driver browser",
        );
    }
    if browser && s.user_agent.replay_callback {
        return Some(
            "the browser driver cannot replay a callback (WebDriver does not show the redirect): run it with the HTTP driver",
        );
    }
    None
}

/// One scenario that runs alone: its faults armed first, then the RP (re)started, so an
/// RP that reads discovery and keys at start-up sees them; an RP that cannot start with
/// them armed has refused at start-up.
pub(crate) async fn alone(
    ctx: &Arc<Ctx>,
    rp: &mut Rp,
    restart: bool,
    s: Scenario,
) -> ScenarioReport {
    let started = std::time::Instant::now();
    let prepared = match provision::prepare(ctx, &s) {
        Ok(p) => p,
        Err(e) => {
            return play::report_without_flow(&s, Judgement::error(e), super::elapsed_ms(started));
        }
    };
    if restart {
        match rp.start(ctx, &format!("restart for {}", s.id)).await {
            Ok(()) => {}
            Err(crate::rp::StartError::NotReady(why)) => {
                return play::refused_at_startup(ctx, &s, prepared, why, started);
            }
            Err(e) => {
                drop(prepared);
                return play::report_without_flow(
                    &s,
                    Judgement::error(format!("the RP could not be restarted: {e}")),
                    super::elapsed_ms(started),
                );
            }
        }
    }
    play::isolated(ctx.clone(), s, Some(prepared)).await
}
