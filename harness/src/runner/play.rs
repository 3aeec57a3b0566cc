//! Playing a scenario: its steps through a [`Driver`], each step's page read with the
//! profile's rules, then the flow's journal, the witnesses, the findings and the judge.

use std::sync::Arc;
use std::time::Instant;

use mock_idp::Endpoint;

use super::provision::{self, Prepared};
use super::{Ctx, elapsed_ms, trace};
use crate::driver::http::HttpDriver;
use crate::driver::{Driver, DriverError, Page, Party, text_of};
use crate::findings::{self, FlowFacts, FlowJournal};
use crate::outcome::Shown;
use crate::profile::{IdentityCheck, Who};
use crate::report::{ScenarioReport, Trace, redact};
use crate::scenario::{Evidence, Scenario, Step};
use crate::verdict::{Decision, Judgement, Observation, Observed, StepReport, Struck, judge};

/// At most this many of the RP's log lines go into a scenario's report.
const LOG_LINES: usize = 60;

/// A report of `s` without a flow (skipped, or the harness failed before it began).
pub(crate) fn report_without_flow(s: &Scenario, j: Judgement, ms: u64) -> ScenarioReport {
    ScenarioReport {
        id: s.id.clone(),
        title: s.title.clone(),
        suite: s.suite_name().to_string(),
        references: s.references.clone(),
        verdict: j.verdict,
        expected: s.expect.clone(),
        observed: Observed::default(),
        notes: j.notes,
        hardening: j.hardening,
        screenshot: None,
        findings: vec![],
        faults: s.fault_labels(),
        struck: vec![],
        steps: vec![],
        rp_log: vec![],
        duration_ms: ms,
        trace: Trace::default(),
    }
}

/// One scenario in a task of its own: a panic in it becomes an `error` verdict for that
/// scenario, and the run goes on. `prepared` when it was provisioned already (scenarios
/// that run alone are, before the RP restarts).
pub(crate) async fn isolated(
    ctx: Arc<Ctx>,
    s: Scenario,
    prepared: Option<Prepared>,
) -> ScenarioReport {
    let inner = {
        let s = s.clone();
        tokio::spawn(async move { bounded(&ctx, &s, prepared).await })
    };
    // Dropped (an interrupted run), the scenario's task goes too.
    let _abort = AbortOnDrop(inner.abort_handle());
    match inner.await {
        Ok(r) => r,
        Err(e) => report_without_flow(
            &s,
            Judgement::error(format!("the harness failed on this scenario: {e}")),
            0,
        ),
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What playing the steps gave.
#[derive(Default)]
struct Played {
    steps: Vec<StepReport>,
    /// The journal's last number before each step.
    starts: Vec<u64>,
    /// The last login's (or replay's) page, read.
    observed: Observed,
    /// The browser's own faults, and whether they struck.
    ua: Vec<Struck>,
    /// Rotation steps: (kind, journal number when rotated).
    rotations: Vec<(String, u64)>,
    /// The steps that are logins.
    logins: Vec<usize>,
    /// The steps that are refreshes.
    refreshes: Vec<usize>,
    /// The steps that check the RP's session.
    checks: Vec<usize>,
    /// The step the verdict is about.
    last: usize,
    /// The harness could not go on.
    error: Option<String>,
    /// A final page on the IdP: the flow never came back to the RP.
    ended_at_idp: bool,
    hops: Vec<crate::driver::Hop>,
    /// The RP log's mark when each step began.
    log_marks: Vec<usize>,
    /// Who the RP must show, once an `update-email` step changed it.
    who: Option<Who>,
    /// The emails the user had before and after `update-email` steps.
    emails: Vec<String>,
    /// The user's accounts at the RP's SCIM API after the flow (`one-account`), or why
    /// they could not be counted.
    accounts: Option<Result<Vec<String>, String>>,
}

/// One scenario within the timeout; an RP that hangs gives an `error` verdict.
async fn bounded(ctx: &Arc<Ctx>, s: &Scenario, prepared: Option<Prepared>) -> ScenarioReport {
    let started = Instant::now();
    let p = match prepared {
        Some(p) => p,
        None => match provision::prepare(ctx, s) {
            Ok(p) => p,
            Err(e) => return report_without_flow(s, Judgement::error(e), elapsed_ms(started)),
        },
    };
    let mut played = Played::default();
    // `timeout_secs` for each step: a scenario of six steps (log in, log out at the IdP,
    // log in again, ...) does six times the work of a login, and should not hit a limit
    // that a slow machine leaves a plain login far from.
    let steps = u32::try_from(s.steps.len().max(1)).unwrap_or(u32::MAX);
    let timeout = ctx.timeout.saturating_mul(steps);
    let timed_out = || {
        let per_step = if steps > 1 {
            format!(
                " ({} s for each of its {steps} steps)",
                ctx.timeout.as_secs()
            )
        } else {
            String::new()
        };
        format!(
            "timed out after {} s{per_step}: the RP did not finish the flow",
            timeout.as_secs()
        )
    };
    match &ctx.chrome {
        Some(chrome) => {
            let tab = chrome.lock().await.tab(ctx.profile.profile.idp_tls).await;
            let mut tab = match tab {
                Ok(t) => t,
                Err(e) => {
                    played.error = Some(e);
                    return finish(ctx, s, p, played, started, None);
                }
            };
            let mut d = crate::driver::chromium::ChromiumDriver::new(
                &mut tab,
                ctx.idp.origins(),
                ctx.rp_origins.clone(),
                secrets(ctx, &p),
                ctx.profile.profile.settled_when.clone(),
            );
            d.finish_by(std::time::Instant::now() + timeout);
            if tokio::time::timeout(timeout, play(ctx, s, &p, &mut d, &mut played))
                .await
                .is_err()
            {
                played.error = Some(timed_out());
            }
            played.hops = d.hops().to_vec();
            let mut report = finish(ctx, s, p, played, started, None);
            if report.verdict != crate::verdict::Verdict::Pass && ctx.out_dir.is_some() {
                let mut secrets = ctx.idp.redactor().forms();
                secrets.extend(ctx.secrets.iter().cloned());
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), d.blank(&secrets))
                    .await;
                if let (Ok(Some(png)), Some(dir)) = (
                    tokio::time::timeout(std::time::Duration::from_secs(5), d.screenshot()).await,
                    &ctx.out_dir,
                ) {
                    report.screenshot = save_screenshot(dir, &s.id, &png);
                }
            }
            drop(d);
            // Its browser context goes whatever happened, with all the scenario left in
            // the browser; the Chromium stays for the next scenario.
            let back = async { chrome.lock().await.give_back(tab).await };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), back).await;
            report
        }
        None => {
            match HttpDriver::new(
                ctx.idp.origins(),
                ctx.rp_origins.clone(),
                ctx.idp.ca_pem(),
                secrets(ctx, &p),
            ) {
                Ok(mut d) => {
                    if tokio::time::timeout(timeout, play(ctx, s, &p, &mut d, &mut played))
                        .await
                        .is_err()
                    {
                        played.error = Some(timed_out());
                    }
                    played.hops = d.hops;
                }
                Err(e) => played.error = Some(format!("cannot build the HTTP driver: {e}")),
            }
            finish(ctx, s, p, played, started, None)
        }
    }
}

fn secrets(ctx: &Ctx, p: &Prepared) -> Vec<String> {
    let mut s = ctx.secrets.clone();
    s.push(p.password.clone());
    s
}

/// What a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Login {
        lose_rp_cookies: bool,
    },
    Unsolicited,
    Logout,
    IdpLogout,
    IdpLogoutElsewhere,
    CheckSession,
    Rotate {
        keep_old: bool,
    },
    Replay,
    Refresh,
    /// Provision (`false`) or deprovision (`true`) the user at the RP's SCIM API.
    Scim {
        remove: bool,
    },
    /// Add the user to (`true`) or remove them from (`false`) the required group.
    Group {
        member: bool,
    },
    /// Change the user's email at the IdP.
    UpdateEmail,
}

impl Act {
    fn kind(self) -> &'static str {
        match self {
            Act::Login { .. } => "login",
            Act::Unsolicited => "unsolicited-login",
            Act::Logout => "logout",
            Act::IdpLogout => "idp-logout",
            Act::IdpLogoutElsewhere => "idp-logout-elsewhere",
            Act::CheckSession => "check-session",
            Act::Rotate { keep_old: true } => "rotate-keys",
            Act::Rotate { keep_old: false } => "rotate-keys-drop-old",
            Act::Replay => "replay-callback",
            Act::Refresh => "refresh",
            Act::Scim { remove: false } => "provision",
            Act::Scim { remove: true } => "deprovision",
            Act::Group { member: true } => "group-add",
            Act::Group { member: false } => "group-remove",
            Act::UpdateEmail => "update-email",
        }
    }

    /// Whether its page is read as a login's: accepted (as whom) or refused (why).
    fn reads_login(self) -> bool {
        matches!(
            self,
            Act::Login { .. } | Act::Unsolicited | Act::Replay | Act::Refresh | Act::CheckSession
        )
    }
}

/// The scenario's steps as acts: the verdict is about the last login (or the replay of
/// its callback) or refresh; every login and refresh before it must succeed. With
/// `provision_first` (an RP with a SCIM API), the user is provisioned there first, once
/// the RP runs (a restart empties an in-memory one), in the flow so that the journal and
/// the report show the requests.
fn acts(s: &Scenario, provision_first: bool) -> Vec<(Act, bool)> {
    let ua = &s.user_agent;
    let last = s
        .steps
        .iter()
        .rposition(|st| matches!(st, Step::Login | Step::Refresh | Step::CheckSession))
        .unwrap_or(0);
    let mut out = Vec::new();
    if provision_first && s.user.provisioned {
        out.push((Act::Scim { remove: false }, true));
    }
    for (i, step) in s.steps.iter().enumerate() {
        match step {
            Step::Login if i == last && ua.unsolicited_callback => {
                out.push((Act::Unsolicited, false))
            }
            Step::Login if i == last && ua.replay_callback => {
                out.push((
                    Act::Login {
                        lose_rp_cookies: false,
                    },
                    true,
                ));
                out.push((Act::Replay, false));
            }
            Step::Login if i == last => out.push((
                Act::Login {
                    lose_rp_cookies: ua.lose_rp_cookies,
                },
                false,
            )),
            Step::Login => out.push((
                Act::Login {
                    lose_rp_cookies: false,
                },
                true,
            )),
            Step::Logout => out.push((Act::Logout, false)),
            Step::IdpLogout => out.push((Act::IdpLogout, false)),
            Step::IdpLogoutElsewhere => out.push((Act::IdpLogoutElsewhere, false)),
            Step::CheckSession => out.push((Act::CheckSession, i != last)),
            Step::RotateKeys => out.push((Act::Rotate { keep_old: true }, false)),
            Step::RotateKeysDropOld => out.push((Act::Rotate { keep_old: false }, false)),
            Step::Refresh => out.push((Act::Refresh, i != last)),
            Step::Provision => out.push((Act::Scim { remove: false }, true)),
            Step::Deprovision => out.push((Act::Scim { remove: true }, true)),
            Step::GroupAdd => out.push((Act::Group { member: true }, true)),
            Step::GroupRemove => out.push((Act::Group { member: false }, true)),
            Step::UpdateEmail => out.push((Act::UpdateEmail, true)),
        }
    }
    out
}

/// Plays the steps; fills `out` as it goes, so a timeout keeps what was seen.
async fn play<D: Driver>(ctx: &Ctx, s: &Scenario, p: &Prepared, d: &mut D, out: &mut Played) {
    let acts = acts(s, ctx.profile.profile.provisioning.is_some());
    let verdict_step = acts.iter().rposition(|(a, _)| a.reads_login()).unwrap_or(0) + 1;
    out.last = verdict_step;
    for (i, (act, must_succeed)) in acts.into_iter().enumerate() {
        let n = i + 1;
        out.starts.push(ctx.idp.journal_seq());
        if matches!(act, Act::Login { .. } | Act::Unsolicited) {
            out.logins.push(n);
        }
        let hops_before = d.hops().len();
        out.log_marks.push(ctx.log.mark());
        let mut step = StepReport {
            step: n,
            kind: act.kind().into(),
            must_succeed,
            ok: true,
            detail: String::new(),
            seq_from: *out.starts.last().unwrap_or(&0),
            hops_from: hops_before,
            log: Vec::new(),
        };
        let page: Result<Option<Page>, DriverError> = match act {
            Act::Login { lose_rp_cookies } => {
                let r = d
                    .login(
                        &ctx.profile.profile.login_url,
                        &p.login,
                        &p.password,
                        lose_rp_cookies,
                    )
                    .await;
                if lose_rp_cookies {
                    let dropped = r.as_ref().ok().and_then(|l| l.cookies_dropped);
                    out.ua.push(Struck {
                        fault: "ua:lose-rp-cookies".into(),
                        times: dropped.unwrap_or(0) as u32,
                        exercised: dropped.is_some_and(|n| n > 0),
                        missing: match dropped {
                            None => Some("the login never came back from the IdP to the RP".into()),
                            Some(0) => Some("the RP had set no cookie before the callback".into()),
                            Some(_) => None,
                        },
                        signature: false,
                    });
                }
                r.map(|l| Some(l.page))
            }
            Act::Unsolicited => {
                let r = d
                    .login(&unsolicited_url(ctx), &p.login, &p.password, false)
                    .await;
                let delivered = reached_rp_from_idp(&d.hops()[hops_before..]);
                out.ua.push(Struck {
                    fault: "ua:unsolicited-callback".into(),
                    times: u32::from(delivered),
                    exercised: delivered,
                    missing: (!delivered)
                        .then(|| "the IdP's answer never reached the RP's callback".into()),
                    signature: false,
                });
                r.map(|l| Some(l.page))
            }
            Act::Replay => {
                let r = d.replay_callback().await;
                let sent = matches!(r, Ok(Some(_)));
                out.ua.push(Struck {
                    fault: "ua:replay-callback".into(),
                    times: u32::from(sent),
                    exercised: sent,
                    missing: (!sent)
                        .then(|| "the login before it never reached the callback".into()),
                    signature: false,
                });
                r
            }
            Act::Refresh => {
                out.refreshes.push(n);
                let p = &ctx.profile.profile;
                if let Some(l) = p.access_token_lifetime_secs {
                    // Past the access token's life: the RP must refresh to go on.
                    tokio::time::sleep(std::time::Duration::from_secs(u64::from(l) + 1)).await;
                    step.detail = format!("waited {} s, past the access token's life; ", l + 1);
                }
                match &p.refresh_url {
                    Some(u) => d.visit(u).await.map(Some),
                    None => {
                        step.ok = false;
                        step.detail = "the profile has no refresh_url".into();
                        Ok(None)
                    }
                }
            }
            Act::IdpLogout => d
                .visit(&format!("{}/login/signout", ctx.idp.uri()))
                .await
                .map(Some),
            Act::IdpLogoutElsewhere => {
                d.elsewhere(&format!("{}/login/signout", ctx.idp.uri()), SESSION_WATCH)
                    .await
            }
            Act::CheckSession => {
                out.checks.push(n);
                match &ctx.profile.profile.protected_url {
                    Some(u) => d.visit(u).await.map(Some),
                    None => {
                        step.ok = false;
                        step.detail = "the profile has no protected_url".into();
                        Ok(None)
                    }
                }
            }
            Act::UpdateEmail => {
                let provisioned = s.user.provisioned || s.steps.contains(&Step::Provision);
                let r = provision::update_email(ctx, s, &p.login, provisioned).await;
                if let Ok((email, _)) = &r {
                    let who = out.who.get_or_insert_with(|| p.who.clone());
                    out.emails.extend(who.email.replace(email.clone()));
                    out.emails.push(email.clone());
                }
                step.record(r.map(|(_, done)| done));
                Ok(None)
            }
            Act::Group { member } => {
                step.record(provision::regroup(ctx, &p.login, member).await);
                Ok(None)
            }
            Act::Scim { remove } => {
                step.record(provision::scim(ctx, &p.login, remove).await);
                Ok(None)
            }
            Act::Logout => match &ctx.profile.profile.logout_url {
                Some(u) => d.visit(u).await.map(Some),
                None => {
                    step.ok = false;
                    step.detail = "the profile has no logout_url".into();
                    Ok(None)
                }
            },
            Act::Rotate { keep_old } => {
                match ctx.idp.rotate_keys(&ctx.server, keep_old) {
                    Ok(kid) => {
                        step.detail = format!("the IdP now signs with key `{kid}`");
                        out.rotations
                            .push((act.kind().to_string(), ctx.idp.journal_seq()));
                    }
                    Err(e) => out.error = Some(format!("cannot rotate keys: {e}")),
                }
                Ok(None)
            }
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                out.error = Some(format!(
                    "the browser could not finish step {n} ({}): {e}",
                    act.kind()
                ));
                step.ok = false;
                step.detail = e.to_string();
                out.steps.push(step);
                break;
            }
        };
        if let Some(page) = page {
            let seen = read_page(ctx, &page, p, out.who.as_ref().unwrap_or(&p.who));
            let at_idp = url::Url::parse(&page.url).is_ok_and(|u| {
                ctx.idp
                    .origins()
                    .contains(&u.origin().ascii_serialization())
            });
            if act.reads_login() {
                let accepted = seen.decision == Decision::Accepted
                    && !matches!(
                        seen.identity.check,
                        IdentityCheck::Missing | IdentityCheck::Wrong
                    );
                step.ok = accepted || !must_succeed;
                let before = std::mem::take(&mut step.detail);
                step.detail = before
                    + &if at_idp {
                        format!(
                            "ended on the IdP's page {}: {}",
                            seen.final_url, seen.excerpt
                        )
                    } else {
                        seen.detail()
                    };
                if must_succeed && !accepted && !seen.excerpt.is_empty() && !at_idp {
                    step.detail.push_str(&format!(" («{}»)", seen.excerpt));
                }
            } else {
                step.detail = format!("{} {}", seen.status, seen.final_url);
            }
            if n == verdict_step {
                // A session check that ends at the IdP's sign-in page is the answer (the
                // RP asked for a login), not a flow that never came back.
                out.ended_at_idp = at_idp && act != Act::CheckSession;
                out.observed = seen;
            }
        }
        let stop = out.error.is_some() || !step.ok && step.must_succeed;
        out.steps.push(step);
        if stop {
            break;
        }
    }
    if ctx.step_logs {
        settle_log(ctx).await;
    }
    if s.evidence.contains(&Evidence::OneAccount) && out.error.is_none() {
        let mut names = vec![p.login.clone()];
        names.extend(p.who.email.clone());
        names.extend(out.emails.iter().cloned());
        out.accounts = Some(provision::accounts(ctx, &p.login, &names).await);
    }
}

/// Waits (at most a quarter of a second) until the RP's log has been quiet for 50 ms: a
/// line the RP wrote as it answered the last request may still be in the pipe, and the
/// last step's log lines are cut from it.
async fn settle_log(ctx: &Ctx) {
    let quiet = std::time::Duration::from_millis(50);
    let mut seen = ctx.log.mark();
    for _ in 0..5 {
        tokio::time::sleep(quiet).await;
        let now = ctx.log.mark();
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// The RP's log lines a step's report keeps (its last ones).
const STEP_LOG_LINES: usize = 20;

/// How long an `idp-logout-elsewhere` step watches the RP's page for a reaction (an RP
/// polling its check-session iframe every few seconds notices within it).
const SESSION_WATCH: std::time::Duration = std::time::Duration::from_secs(6);

/// Reads the `check-session` steps with the journal: the RP's session was alive when its
/// protected page showed the user and the RP did not send the browser to the IdP's
/// authorize (an IdP session that outlived a logout would sign the user in again
/// silently: the authorize request is what shows the RP's own session was over).
fn session_checks(played: &mut Played, flow: &FlowJournal) {
    for &n in &played.checks {
        let asked = flow
            .step(n)
            .any(|e| e.endpoint == Some(Endpoint::Authorize));
        let Some(step) = played.steps.iter_mut().find(|st| st.step == n) else {
            continue;
        };
        let shown = step.ok;
        if asked {
            step.detail = format!(
                "the RP sent the browser to the IdP to log in again: its session was over; {}",
                step.detail
            );
        }
        let signed_in = shown && !asked;
        if step.must_succeed {
            step.ok = signed_in;
        }
        if n == played.last {
            let seen = &mut played.observed;
            seen.decision = if seen.decision == Decision::Accepted
                && !asked
                && !matches!(
                    seen.identity.check,
                    IdentityCheck::Missing | IdentityCheck::Wrong
                ) {
                Decision::SignedIn
            } else if seen.decision == Decision::Unknown {
                Decision::Unknown
            } else {
                Decision::SignedOut
            };
            seen.asked_login = asked;
        }
    }
}

/// Whether, among these hops, the IdP sent the browser to the RP.
fn reached_rp_from_idp(hops: &[crate::driver::Hop]) -> bool {
    let first_idp = hops.iter().position(|h| h.to == Party::Idp);
    first_idp.is_some_and(|i| hops[i..].iter().any(|h| h.to == Party::Rp))
}

/// Reads a page with the profile's rules: accepted (and as whom) or refused (and why).
fn read_page(ctx: &Ctx, page: &Page, p: &Prepared, who: &Who) -> Observed {
    let prof = &ctx.profile;
    let email = who.email.clone().unwrap_or_default();
    let accepted = prof.is_success(page.status, &page.url, &page.body, &email);
    let secrets = secrets(ctx, p);
    let excerpt: String = redact::text(&text_of(&page.body), &secrets)
        .chars()
        .take(240)
        .collect();
    let (shown, rule) = if accepted {
        (Shown::Nothing, None)
    } else {
        prof.shown_on_page(&page.url, &page.body)
    };
    Observed {
        decision: if accepted {
            Decision::Accepted
        } else {
            Decision::Refused
        },
        identity: if accepted {
            prof.identity(&page.body, who)
        } else {
            Default::default()
        },
        shown,
        rule: rule.map(|mut r| {
            r.text = redact::text(&r.text, &secrets);
            r
        }),
        final_url: redact::text(&redact::url(&page.url), &secrets),
        status: page.status,
        excerpt,
        asked_login: false,
    }
}

/// An authorization request the RP never made, answered to its redirect URI.
fn unsolicited_url(ctx: &Ctx) -> String {
    let base = ctx
        .idp
        .endpoint_url(&ctx.server, mock_idp::Endpoint::Authorize)
        .expect("every IdP has an authorization endpoint");
    let mut u = url::Url::parse(&base).expect("the IdP's URL parses");
    u.query_pairs_mut()
        .append_pair("client_id", &ctx.profile.profile.client_id)
        .append_pair("redirect_uri", &ctx.profile.profile.redirect_uris[0])
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("state", &mock_idp::ids::random_b64(16))
        .append_pair("nonce", &mock_idp::ids::random_b64(16))
        // A challenge, so that public clients (which must use PKCE) get a code too.
        .append_pair("code_challenge", &mock_idp::ids::random_b64(32))
        .append_pair("code_challenge_method", "S256");
    u.into()
}

/// An RP that did not start with the scenario's faults armed: a refusal, read from its log.
pub(crate) fn refused_at_startup(
    ctx: &Ctx,
    s: &Scenario,
    p: Prepared,
    why: String,
    started: Instant,
) -> ScenarioReport {
    let log = ctx.log.since(p.log_mark).join("\n");
    let (shown, rule) = ctx.profile.shown_in_log(&log);
    let played = Played {
        observed: Observed {
            decision: Decision::RefusedAtStartup,
            shown,
            rule,
            ..Observed::default()
        },
        steps: vec![StepReport {
            step: 1,
            kind: "start".into(),
            must_succeed: false,
            ok: false,
            detail: why.clone(),
            seq_from: p.before,
            ..StepReport::default()
        }],
        starts: vec![p.before],
        last: 1,
        ..Played::default()
    };
    finish(ctx, s, p, played, started, Some(why))
}

/// The flow's journal, the witnesses, the findings and the verdict, into a report.
fn finish(
    ctx: &Ctx,
    s: &Scenario,
    p: Prepared,
    mut played: Played,
    started: Instant,
    startup_failure: Option<String>,
) -> ScenarioReport {
    if played.starts.is_empty() {
        played.starts.push(p.before);
    }
    let flow: FlowJournal = trace::flow(ctx, s, &played.hops, &p, played.starts.clone());
    session_checks(&mut played, &flow);
    // Witnesses are read while the faults are armed (the IdP's counts live with them).
    let mut struck = trace::struck(&p, &flow);
    let accepted = played.observed.decision == Decision::Accepted;
    struck.extend(trace::groups_overage(ctx, s, &p, &flow, accepted));
    drop(p.guards);
    struck.extend(played.ua.iter().cloned());
    struck.extend(trace::rotation(
        &played.rotations,
        &flow,
        ctx.idp.answered(Endpoint::Keys) > 0,
    ));
    struck.extend(trace::refreshes(&played.refreshes, &flow));
    struck.extend(trace::logout_messages(s, &ctx.profile.profile, &flow));
    struck.extend(trace::flow_used(s, &flow, &played.logins));
    // Accounts that could not be counted prove nothing about a second one.
    if let Some(a) = &played.accounts {
        let missing = match a {
            Ok(a) if a.is_empty() => Some(
                "the RP's SCIM API lists no user under the user's login or emails: the accounts it made are not visible there".to_string(),
            ),
            Ok(_) => None,
            Err(e) => Some(format!("the RP's SCIM API could not be asked: {e}")),
        };
        struck.push(Struck {
            fault: "rp:accounts".into(),
            times: 1,
            exercised: missing.is_none(),
            missing,
            signature: false,
        });
    }
    let last = played.last.max(1);
    let final_entries: Vec<_> = flow.step(last).collect();
    let facts = FlowFacts {
        logins: &played.logins,
        last,
        refused: played.observed.decision.refused(),
        tokens_invalid: trace::tokens_invalid(final_entries.iter().copied()),
        public_client: ctx.public_client(),
        discovery_in_run: ctx.idp.answered(Endpoint::Discovery) > 0,
        accounts: match &played.accounts {
            Some(Ok(a)) if !a.is_empty() => Some(a.as_slice()),
            _ => None,
        },
    };
    let rules = findings::rules(&s.evidence, &flow, facts);
    let found = findings::findings(&flow, facts, &ctx.states);
    let refusal_hint = trace::first_error(final_entries.iter().copied())
        .or_else(|| trace::first_error(flow.entries.iter()));
    let userinfo_called = final_entries
        .iter()
        .any(|e| e.endpoint == Some(Endpoint::Userinfo));
    // Each step's log lines, cut by where the log was when each began (read now, so that
    // a line the RP wrote as a step ended is in); only when scenarios run one at a time.
    for (i, step) in played.steps.iter_mut().enumerate() {
        let Some(&from) = played.log_marks.get(i).filter(|_| ctx.step_logs) else {
            continue;
        };
        let lines = ctx.log.between(from, played.log_marks.get(i + 1).copied());
        step.log = lines
            .iter()
            .skip(lines.len().saturating_sub(STEP_LOG_LINES))
            .cloned()
            .collect();
    }
    let log = ctx.log.since(p.log_mark);
    let tail: Vec<String> = log.iter().rev().take(3).rev().cloned().collect();
    let j = judge(&Observation {
        expect: &s.expect,
        observed: &played.observed,
        steps: &played.steps,
        struck: &struck,
        rules: &rules,
        keys_fetched_in_run: ctx.idp.answered(Endpoint::Keys) > 0,
        rejections_only: ctx.profile.profile.outcome.rejections_only,
        refusal_hint,
        userinfo_called,
        startup_failure,
        harness_error: played.error.as_deref(),
        ended_at_idp: played.ended_at_idp,
        log_tail: &tail,
        backchannel_answer: trace::backchannel_answer(&flow),
        id_token_from_token_endpoint: id_token_from_token_endpoint(&final_entries),
        idp_tls: ctx.profile.profile.idp_tls,
    });
    let skipped = log.len().saturating_sub(LOG_LINES);
    let redactor = ctx.idp.redactor();
    let mut rp_log: Vec<String> = log.into_iter().skip(skipped).collect();
    if skipped > 0 {
        rp_log.insert(0, format!("({skipped} earlier line(s) in rp.log)"));
    }
    let report = ScenarioReport {
        observed: played.observed,
        notes: j.notes,
        hardening: j.hardening,
        verdict: j.verdict,
        findings: found,
        struck,
        steps: played.steps,
        rp_log,
        trace: Trace {
            hops: played.hops,
            journal: flow.entries,
        },
        ..report_without_flow(s, j_empty(), elapsed_ms(started))
    };
    // Whatever the RP echoed (a code, a refresh token, its secret) goes, in every form.
    redact::known(report, &redactor)
}

/// A judgement whose fields the caller replaces.
fn j_empty() -> Judgement {
    Judgement::skip(String::new())
}

/// Saves a PNG of the final page under the report folder; its path relative to it.
fn save_screenshot(dir: &std::path::Path, id: &str, png: &[u8]) -> Option<String> {
    let rel = format!("screenshots/{id}.png");
    std::fs::create_dir_all(dir.join("screenshots")).ok()?;
    mock_idp::cli::write_atomic(&dir.join(&rel), png).ok()?;
    Some(rel)
}

/// Whether the login's authorization requests asked for no ID token from the authorization
/// endpoint (`code`, `code token`): its ID token came from the token endpoint only.
fn id_token_from_token_endpoint(entries: &[&mock_idp::JournalEntry]) -> bool {
    let asked: Vec<&str> = entries
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .filter_map(|e| e.response_type.as_deref())
        .collect();
    !asked.is_empty()
        && asked
            .iter()
            .all(|rt| !rt.split(' ').any(|w| w == "id_token"))
}
