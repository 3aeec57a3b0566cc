//! The journal of one flow, and what it proves: which of the scenario's faults struck,
//! what a refusal answered, whether the RP fetched keys after a rotation.

use mock_idp::faults::Witness;
use mock_idp::{Endpoint, FaultId, JournalEntry};

use super::Ctx;
use super::provision::Prepared;
use crate::driver::{Hop, Party};
use crate::findings::FlowJournal;
use crate::report::redact;
use crate::scenario::Scenario;
use crate::verdict::Struck;

/// The journal of this flow: the user's entries, plus the authorize requests this
/// browser sent (journaled before anyone signed in, so without a user), matched by
/// client, state, nonce, PKCE challenge and redirect URI, and made after the flow began
/// (an RP that sends none of the three leaves nothing else to tell two logins apart); with
/// everything else when the scenario ran alone. `starts` cuts it by step.
pub(crate) fn flow(
    ctx: &Ctx,
    s: &Scenario,
    hops: &[Hop],
    p: &Prepared,
    starts: Vec<u64>,
) -> FlowJournal {
    let exclusive = s.exclusive();
    // The authorization endpoint as the IdP's personality spells it.
    let authorize = ctx
        .idp
        .endpoint_url(&ctx.server, Endpoint::Authorize)
        .unwrap_or_default();
    let mut sent: Vec<Vec<(String, String)>> = hops
        .iter()
        .filter(|h| h.to == Party::Idp && h.url.split('?').next() == Some(authorize.as_str()))
        .filter_map(|h| url::Url::parse(&h.url).ok())
        .map(|u| u.query_pairs().into_owned().collect())
        .collect();
    let began = starts.first().copied().unwrap_or(0);
    let entries = ctx
        .idp
        .journal_since(p.before)
        .into_iter()
        .filter(|e| {
            e.user_id.as_deref() == Some(p.user_id.as_str())
                || (exclusive && e.user_id.is_none())
                || sent_from_here(e, &mut sent, began)
        })
        .map(|mut e| {
            if let Some(u) = e.redirect_uri.take() {
                e.redirect_uri = Some(redact::url(&u));
            }
            e
        })
        .collect();
    FlowJournal { entries, starts }
}

/// A SCIM request as journaled (`GET /Users?filter=userName+eq+…&startIndex=1&count=100`),
/// readable: `GET /Users?filter=userName eq "…"`.
pub fn scim_request(detail: &str) -> String {
    match detail.split_once('?') {
        Some((path, query)) => {
            let filter = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| format!("?filter={v}"))
                .unwrap_or_default();
            format!("{path}{filter}")
        }
        None => detail.to_string(),
    }
}

/// One journal entry in a line: `POST token → 401 invalid_client [fault: x]`.
pub fn line(e: &JournalEntry) -> String {
    let faults = if e.faults.is_empty() {
        String::new()
    } else {
        format!(" [fault: {}]", e.faults.join(", "))
    };
    let what = match (e.endpoint, e.detail.as_deref()) {
        // The IdP's request to the app: its method and path are the detail.
        (Some(Endpoint::Scim), Some(d)) => {
            return format!(
                "scim {} → {} {}{faults}",
                scim_request(d),
                e.status,
                e.outcome
            );
        }
        (Some(ep), _) => ep.as_str().to_string(),
        (None, Some(d)) => d.strip_prefix("no such path: ").unwrap_or(d).to_string(),
        (None, None) => "?".to_string(),
    };
    // A token refusal that was the IdP's own doing (a token it forgot to stay within its
    // memory) says so, or it would pass for the RP's mistake.
    let why = match (e.endpoint, e.detail.as_deref()) {
        (Some(Endpoint::Token | Endpoint::Userinfo | Endpoint::Introspect), Some(d)) => {
            format!(" ({d})")
        }
        _ => String::new(),
    };
    format!(
        "{} {what} → {} {}{why}{faults}",
        e.method, e.status, e.outcome
    )
}

/// The first answer of these entries that was an error: what a refusal was about.
pub(crate) fn first_error<'a>(
    entries: impl IntoIterator<Item = &'a JournalEntry>,
) -> Option<String> {
    entries
        .into_iter()
        .filter(|e| !browser_noise(e))
        .find(|e| e.endpoint != Some(Endpoint::SignIn) && (e.status >= 400 || e.outcome != "ok"))
        .map(line)
}

/// What a browser asks by itself (its tab icon), never an RP's doing.
fn browser_noise(e: &JournalEntry) -> bool {
    e.endpoint.is_none()
        && e.detail
            .as_deref()
            .is_some_and(|d| d.ends_with("/favicon.ico"))
}

fn endpoint_names(endpoints: &[Endpoint]) -> String {
    let names: Vec<&str> = endpoints.iter().map(|e| e.as_str()).collect();
    names.join(" or ")
}

/// Whether each armed IdP fault struck in this flow, from the journal (every answer a
/// fault changed names it), cross-checked with the IdP's own count.
pub(crate) fn struck(p: &Prepared, flow: &FlowJournal) -> Vec<Struck> {
    p.guards
        .iter()
        .map(|(label, id, guard)| witness(label, *id, guard.fired(), &flow.entries))
        .collect()
}

fn witness(label: &str, id: FaultId, fired: u32, entries: &[JournalEntry]) -> Struck {
    let doc = id.doc();
    let hits: Vec<&JournalEntry> = entries
        .iter()
        .filter(|e| e.faults.iter().any(|f| f == label))
        .collect();
    let mut missing = None;
    let points_missed: Vec<_> = doc
        .strikes
        .iter()
        .filter(|point| {
            !hits
                .iter()
                .any(|e| e.endpoint.is_some_and(|ep| point.endpoints().contains(&ep)))
        })
        .collect();
    let exercised = match doc.witness {
        Witness::Any => points_missed.len() < doc.strikes.len(),
        Witness::Every => points_missed.is_empty(),
        Witness::First => !points_missed.contains(&&doc.strikes[0]),
    };
    if !exercised {
        let point = match doc.witness {
            Witness::First => &doc.strikes[0],
            _ => points_missed[0],
        };
        let at = point.endpoints();
        let asked: Vec<&JournalEntry> = entries
            .iter()
            .filter(|e| e.endpoint.is_some_and(|ep| at.contains(&ep)))
            .collect();
        let logout_state = matches!(id, FaultId::LogoutStateMissing | FaultId::LogoutStateOther);
        let login_state = matches!(id, FaultId::StateMissing | FaultId::StateMismatch);
        let authorize_asked = || {
            entries
                .iter()
                .filter(|e| e.endpoint == Some(Endpoint::Authorize))
                .collect::<Vec<_>>()
        };
        let mut why = if asked.is_empty() {
            format!("the RP made no {} request", endpoint_names(at))
        } else if logout_state && asked.iter().all(|e| e.state.is_none()) {
            // RP-Initiated Logout 1.0 2: state is OPTIONAL; without one there is none to
            // change on the way back.
            "the RP sent no `state` to the end-session endpoint, so there was none to send back changed or missing".to_string()
        } else if login_state
            && !authorize_asked().is_empty()
            && authorize_asked().iter().all(|e| e.state.is_none())
        {
            // RFC 6749 4.1.1: state is RECOMMENDED, not required (PKCE also stops CSRF).
            "the RP sent no `state` to the authorization endpoint, so there was none to send back changed or missing".to_string()
        } else {
            let errors = first_error(asked.iter().copied());
            match errors {
                Some(l) => format!(
                    "the RP's {} request did not get as far as the {} ({l})",
                    endpoint_names(at),
                    point.as_str().replace('-', " ")
                ),
                None => format!(
                    "the RP's {} requests never reached the {}",
                    endpoint_names(at),
                    point.as_str().replace('-', " ")
                ),
            }
        };
        if fired as usize > hits.len() {
            why.push_str(&format!(
                " (the IdP counted {fired} strike(s) outside this flow's journal)"
            ));
        }
        missing = Some(why);
    }
    Struck {
        fault: label.to_string(),
        times: hits.len() as u32,
        exercised,
        missing,
        signature: doc.signature,
    }
}

/// Key rotation steps: (kind, journal number when rotated). The IdP publishes its next
/// key ahead (as Okta does), so after one rotation an RP may verify from the keys it
/// cached; after two or more, the key that signs was never published while the RP last
/// read them: an RP that reads keys (`keys_read`: it did in this run) meets a key it has
/// never seen, and must fetch them again; one that never reads keys is not tested.
pub(crate) fn rotation(
    rotations: &[(String, u64)],
    flow: &FlowJournal,
    keys_read: bool,
) -> Option<Struck> {
    let (kind, last) = rotations.last()?;
    let keys = |e: &&JournalEntry| e.endpoint == Some(Endpoint::Keys) && e.status == 200;
    let fetched_between = rotations.windows(2).any(|w| {
        flow.entries
            .iter()
            .filter(keys)
            .any(|e| e.seq > w[0].1 && e.seq <= w[1].1)
    });
    let unseen_key = rotations.len() >= 2 && !fetched_between;
    let after = flow
        .entries
        .iter()
        .filter(keys)
        .filter(|e| e.seq > *last)
        .count();
    let exercised = !unseen_key || after > 0 || keys_read;
    Some(Struck {
        fault: format!("step:{kind}"),
        times: after as u32,
        exercised,
        missing: (!exercised).then(|| {
            format!(
                "the RP made no keys request in the whole run, so the {} rotations, which put a key it had never been shown to signing, tested nothing",
                rotations.len()
            )
        }),
        signature: true,
    })
}

/// Whether a fault that struck in these entries makes the tokens it touched invalid (a
/// validating RP refuses them: OIDC Core 3.1.3.7), rather than changing a claim an RP
/// reads after validation.
pub(crate) fn tokens_invalid<'a>(entries: impl IntoIterator<Item = &'a JournalEntry>) -> bool {
    entries.into_iter().flat_map(|e| &e.faults).any(|label| {
        let id = label.split('=').next().unwrap_or_default();
        id.parse::<FaultId>().is_ok_and(|id| {
            matches!(
                id.doc().outcome,
                Some("oidc_generic_token_failure")
                    | Some("oidc_nonce_missing")
                    | Some("oidc_code_exchange_token_missing")
            ) && id.doc().strikes.iter().any(|p| {
                matches!(
                    p,
                    mock_idp::faults::Strikes::IdTokenClaims
                        | mock_idp::faults::Strikes::IdTokenSignature
                        | mock_idp::faults::Strikes::TokenResponse
                )
            })
        })
    })
}

/// Refresh steps: each must have made the RP refresh (a `refresh_token` grant at the
/// token endpoint), or the step tested nothing.
pub(crate) fn refreshes(steps: &[usize], flow: &FlowJournal) -> Vec<Struck> {
    steps
        .iter()
        .map(|&n| {
            let grants = flow
                .step(n)
                .filter(|e| {
                    e.endpoint == Some(Endpoint::Token)
                        && e.grant_type.as_deref() == Some("refresh_token")
                })
                .count();
            let exercised = grants > 0;
            Struck {
                fault: format!("step:refresh ({n})"),
                times: grants as u32,
                exercised,
                missing: (!exercised).then(|| {
                    "the RP made no refresh_token request at the token endpoint during the refresh step (it asked for no refresh token, or did not use it)".to_string()
                }),
                signature: false,
            }
        })
        .collect()
}

/// Entra's groups overage: a user in more groups than its tokens carry gets a pointer to
/// Graph instead (`_claim_sources`). It strikes with every token response to the user's
/// logins; but an RP that admits a member without reading the groups there has not shown
/// that it decides by them (it may check no groups at all): not exercised.
pub(crate) fn groups_overage(
    ctx: &Ctx,
    s: &Scenario,
    p: &Prepared,
    flow: &FlowJournal,
    accepted: bool,
) -> Option<Struck> {
    let idp = ctx.profile.profile.idp;
    let limit = mock_idp::personality::claims::ENTRA_GROUPS_LIMIT;
    if idp != mock_idp::Personality::Entra
        || ctx.profile.profile.required_group.is_none()
        || p.groups <= limit
    {
        return None;
    }
    let count = |endpoint| {
        flow.entries
            .iter()
            .filter(|e| e.endpoint == Some(endpoint) && e.status == 200)
            .count()
    };
    let (delivered, reads) = (count(Endpoint::Token), count(Endpoint::ClaimSource));
    let vacuous = s.expect.result == crate::scenario::Outcome::Accept && accepted && reads == 0;
    let missing = if delivered == 0 {
        Some("no token response reached the RP".to_string())
    } else if vacuous {
        Some(format!(
            "the user is in {} groups, so the ID token named Graph's getMemberObjects (`_claim_sources`) instead of listing them, and the RP admitted the user without reading them there: it did not decide by the groups",
            p.groups
        ))
    } else {
        None
    };
    Some(Struck {
        fault: "idp:groups-overage".into(),
        times: delivered as u32,
        exercised: missing.is_none(),
        missing,
        signature: false,
    })
}

/// Whether the RP's logins used a flow the scenario is about: a scenario about `code
/// id_token` proves nothing about an RP that asked for `code`. `None` when the scenario
/// is about every flow and mode.
pub(crate) fn flow_used(s: &Scenario, flow: &FlowJournal, logins: &[usize]) -> Option<Struck> {
    let flows = s.flow_set();
    let modes = s.modes();
    if flows == mock_idp::flows::FlowSet::ALL && modes.is_none() {
        return None;
    }
    let asked: Vec<(
        Option<mock_idp::flows::ResponseType>,
        mock_idp::flows::ResponseMode,
    )> = logins
        .iter()
        .flat_map(|&n| flow.step(n))
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .map(|e| {
            let rt = e.response_type.as_deref().and_then(|r| r.parse().ok());
            let mode = e
                .response_mode
                .as_deref()
                .and_then(|m| serde_json::from_value(serde_json::Value::from(m)).ok())
                .or_else(|| rt.map(|r: mock_idp::flows::ResponseType| r.default_mode()))
                .unwrap_or(mock_idp::flows::ResponseMode::Query);
            (rt, mode)
        })
        .collect();
    if asked.is_empty() {
        // No authorization request of this flow was seen (an unsolicited callback, or
        // one the journal could not tie to this scenario): the other witnesses decide.
        return None;
    }
    let wrong = asked.iter().find(|(rt, mode)| {
        !rt.is_some_and(|r| flows.contains(r)) || modes.as_ref().is_some_and(|m| !m.contains(mode))
    });
    Some(Struck {
        fault: "flow".into(),
        times: (asked.len() - usize::from(wrong.is_some())) as u32,
        exercised: wrong.is_none(),
        missing: wrong.map(|(rt, mode)| {
            let about = match &modes {
                Some(m) => format!(
                    "{} in response_mode {}",
                    flows.describe(),
                    m.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(" or ")
                ),
                None => flows.describe(),
            };
            format!(
                "the RP asked for response_type `{}` (response_mode {mode}); this scenario is about {about}",
                rt.map_or("?", |r| r.as_str())
            )
        }),
        signature: false,
    })
}

/// Whether the logout messages a logout scenario is about were sent: a back-channel
/// logout token that reached the RP (the IdP journals each POST and the RP's answer), a
/// logout page that loaded the RP's front-channel URI. Without them a session that
/// survived proves nothing.
pub(crate) fn logout_messages(
    s: &Scenario,
    profile: &crate::profile::Profile,
    flow: &FlowJournal,
) -> Vec<Struck> {
    use crate::scenario::{Capability, Step};
    if !s.steps.iter().any(|st| {
        matches!(
            st,
            Step::Logout | Step::IdpLogout | Step::IdpLogoutElsewhere
        )
    }) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if s.requires.contains(&Capability::SessionManagement) {
        let loads = flow
            .entries
            .iter()
            .filter(|e| e.endpoint == Some(Endpoint::CheckSession) && e.status == 200)
            .count();
        out.push(Struck {
            fault: "step:check-session-iframe".into(),
            times: loads as u32,
            exercised: loads > 0,
            missing: (loads == 0).then(|| {
                "the RP never loaded the IdP's check_session_iframe while the user was signed in, so nothing watched the IdP session".into()
            }),
            signature: false,
        });
    }
    if s.requires.contains(&Capability::BackchannelLogout) {
        let posts: Vec<&JournalEntry> = flow
            .entries
            .iter()
            .filter(|e| e.endpoint == Some(Endpoint::BackchannelLogout))
            .collect();
        let reached = posts.iter().filter(|e| e.status != 0).count();
        out.push(Struck {
            fault: "step:backchannel-logout".into(),
            times: reached as u32,
            exercised: reached > 0,
            missing: (reached == 0).then(|| match posts.first() {
                Some(e) => format!(
                    "the logout token never reached the RP's backchannel_logout_uri ({})",
                    e.detail.as_deref().unwrap_or("no answer")
                ),
                None if profile.backchannel_logout_uri.is_none() => {
                    "the profile has no backchannel_logout_uri".into()
                }
                None => "the IdP sent no logout token: the logout ended no IdP session that had signed in to the RP".into(),
            }),
            signature: false,
        });
    }
    if s.requires.contains(&Capability::FrontchannelLogout) {
        let pages = flow
            .entries
            .iter()
            .filter(|e| {
                e.endpoint == Some(Endpoint::Logout)
                    && e.detail
                        .as_deref()
                        .is_some_and(|d| d.contains("front-channel logout iframe"))
            })
            .count();
        out.push(Struck {
            fault: "step:frontchannel-logout".into(),
            times: pages as u32,
            exercised: pages > 0,
            missing: (pages == 0).then(|| {
                "no logout page of the IdP loaded the RP's frontchannel_logout_uri: the logout ended no IdP session that had signed in to the RP".into()
            }),
            signature: false,
        });
    }
    out
}

/// Whether `e` is an authorize request of those this browser `sent` (each counted once),
/// made after the flow `began`.
fn sent_from_here(e: &JournalEntry, sent: &mut Vec<Vec<(String, String)>>, began: u64) -> bool {
    if e.endpoint != Some(Endpoint::Authorize) || e.user_id.is_some() || e.seq <= began {
        return false;
    }
    let param =
        |q: &[(String, String)], k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let hit = sent.iter().position(|q| {
        param(q, "client_id") == e.client_id
            && param(q, "state") == e.state
            && param(q, "nonce") == e.nonce
            && param(q, "code_challenge") == e.code_challenge
            && param(q, "redirect_uri") == e.redirect_uri
    });
    hit.map(|i| sent.remove(i)).is_some()
}

/// The RP's answer to the last back-channel logout token of the flow.
pub(crate) fn backchannel_answer(flow: &FlowJournal) -> Option<(u16, String)> {
    flow.entries
        .iter()
        .rev()
        .find(|e| e.endpoint == Some(Endpoint::BackchannelLogout))
        .map(|e| (e.status, line(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_without_state_or_nonce_are_told_apart_by_their_pkce_challenge() {
        let authorize = |seq, challenge: &str| JournalEntry {
            seq,
            endpoint: Some(Endpoint::Authorize),
            client_id: Some("app".into()),
            redirect_uri: Some("http://rp/cb".into()),
            code_challenge: Some(challenge.into()),
            ..JournalEntry::default()
        };
        let query = |challenge: &str| {
            vec![
                ("client_id".to_string(), "app".to_string()),
                ("redirect_uri".to_string(), "http://rp/cb".to_string()),
                ("code_challenge".to_string(), challenge.to_string()),
            ]
        };
        // Another login of the same client, concurrent with this one, came first.
        let mut sent = vec![query("mine")];
        assert!(!sent_from_here(&authorize(11, "theirs"), &mut sent, 10));
        assert!(sent_from_here(&authorize(12, "mine"), &mut sent, 10));
        // Each request counts once, and none from before the flow began.
        assert!(!sent_from_here(&authorize(13, "mine"), &mut sent, 10));
        let mut sent = vec![query("mine")];
        assert!(!sent_from_here(&authorize(9, "mine"), &mut sent, 10));
    }

    #[test]
    fn a_browsers_icon_request_explains_no_refusal_other_paths_are_named_and_forgetting_is_said() {
        let favicon = JournalEntry {
            method: "GET".into(),
            status: 404,
            outcome: "E0000007".into(),
            detail: Some("no such path: /favicon.ico".into()),
            ..JournalEntry::default()
        };
        let typo = JournalEntry {
            detail: Some("no such path: /oauth2/default/.well-known/openid-configuratio".into()),
            ..favicon.clone()
        };
        let forgotten = JournalEntry {
            method: "POST".into(),
            endpoint: Some(Endpoint::Token),
            status: 400,
            outcome: "invalid_grant".into(),
            detail: Some("it has forgotten the 3 oldest it issued".into()),
            ..JournalEntry::default()
        };
        assert_eq!(
            first_error([&forgotten]).as_deref(),
            Some("POST token → 400 invalid_grant (it has forgotten the 3 oldest it issued)")
        );
        assert_eq!(first_error([&favicon]), None);
        assert_eq!(
            first_error([&favicon, &typo]).as_deref(),
            Some("GET /oauth2/default/.well-known/openid-configuratio → 404 E0000007")
        );
    }
}
