//! Which scenarios run, and how: skipped (a capability or the driver is missing), in
//! parallel (faults aimed at their own user), or alone (faults everyone sees), with the
//! RP restarted for each of those after their faults are armed.

use std::sync::Arc;

use super::{Ctx, Rp, play, provision};
use crate::report::ScenarioReport;
use crate::scenario::{Capability, Loaded, Scenario};
use crate::verdict::Judgement;

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
    let caps = &ctx.profile.profile.capabilities;
    let mut plan = Plan {
        skipped: Vec::new(),
        parallel: Vec::new(),
        exclusive: Vec::new(),
    };
    for l in scenarios {
        let s = l.scenario;
        let skip = if let Some(missing) = s.requires.iter().find(|c| !caps.contains(c)) {
            Some(format!(
                "the RP's profile does not declare the `{}` capability",
                capability_name(*missing)
            ))
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

/// Why a scenario cannot run with this driver, if it cannot.
fn driver_skip(s: &Scenario, browser: bool) -> Option<&'static str> {
    if !browser && s.requires.contains(&Capability::Javascript) {
        return Some("it needs a browser that runs JavaScript: run with --driver browser");
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
