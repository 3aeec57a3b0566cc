//! What the IdP's journal shows about the RP's own requests: findings (reported on every
//! flow, beside the verdict) and the scenarios' evidence rules (which weigh on it, as
//! strongly as the spec sentence behind each rule says).
//!
//! Both judge the flow step by step: requests of an earlier login are that login's, so a
//! replayed callback is not blamed for the userinfo call of the login before it.

use std::collections::HashSet;
use std::sync::Mutex;

use mock_idp::{Endpoint, JournalEntry};
use serde::{Deserialize, Serialize};

use crate::scenario::{Evidence, Strength};

/// Which finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingId {
    /// No `state` at authorize.
    NoState,
    /// A `state` shorter than 16 characters.
    ShortState,
    /// A `state` already used in this run.
    ReusedState,
    /// No `nonce` at authorize.
    NoNonce,
    /// No PKCE.
    NoPkce,
    /// PKCE `plain`.
    PlainPkce,
    /// `redirect_uri` at the token endpoint differs from authorize's.
    RedirectUriDiffers,
    /// How the client authenticated.
    ClientAuth,
    /// A code sent to the token endpoint twice.
    CodeReused,
    /// Userinfo called with the access token of a token response the RP refused.
    UserinfoAfterReject,
}

impl FindingId {
    /// The kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoState => "no-state",
            Self::ShortState => "short-state",
            Self::ReusedState => "reused-state",
            Self::NoNonce => "no-nonce",
            Self::NoPkce => "no-pkce",
            Self::PlainPkce => "plain-pkce",
            Self::RedirectUriDiffers => "redirect-uri-differs",
            Self::ClientAuth => "client-auth",
            Self::CodeReused => "code-reused",
            Self::UserinfoAfterReject => "userinfo-after-reject",
        }
    }
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth fixing.
    Warning,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
        }
    }
}

/// Something the journal shows about the RP's own requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Which.
    pub id: FindingId,
    /// How much it matters.
    pub severity: Severity,
    /// What was seen.
    pub detail: String,
    /// The step it was seen in, when the scenario has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

/// One evidence rule of a scenario, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule (`uses-pkce`, …).
    pub rule: String,
    /// How strong it is for this RP.
    pub strength: Strength,
    /// Whether the journal breaks it.
    pub broken: bool,
    /// What was seen.
    pub detail: String,
}

/// The journal of one flow, cut by step.
#[derive(Clone, Debug, Default)]
pub struct FlowJournal {
    /// Every entry of the flow, in order.
    pub entries: Vec<JournalEntry>,
    /// For each step (from 1): the last journal number before it began.
    pub starts: Vec<u64>,
}

impl FlowJournal {
    /// The entries of step `n` (from 1).
    pub fn step(&self, n: usize) -> impl Iterator<Item = &JournalEntry> {
        let from = self.starts.get(n - 1).copied().unwrap_or(u64::MAX);
        let to = self.starts.get(n).copied().unwrap_or(u64::MAX);
        self.entries
            .iter()
            .filter(move |e| e.seq > from && e.seq <= to)
    }
}

/// What a flow's findings and rules need to know about it.
#[derive(Clone, Copy, Debug)]
pub struct FlowFacts<'a> {
    /// The steps that are logins (from 1).
    pub logins: &'a [usize],
    /// The step the verdict is about.
    pub last: usize,
    /// Whether the RP refused at that step.
    pub refused: bool,
    /// Whether a fault that makes the tokens of that step invalid struck (the RP had to
    /// refuse them, so using the access token is using what failed validation).
    pub tokens_invalid: bool,
    /// A public client (no secret).
    pub public_client: bool,
    /// The RP read the discovery document at least once in the whole run (it may have
    /// done so before this flow, or at start-up).
    pub discovery_in_run: bool,
    /// The user's accounts at the RP's SCIM API after the flow (`id (userName)`), when
    /// the scenario counts them.
    pub accounts: Option<&'a [String]>,
}

fn finding(id: FindingId, severity: Severity, detail: String, step: Option<usize>) -> Finding {
    Finding {
        id,
        severity,
        detail,
        step,
    }
}

/// The findings of one flow, each once. `states` holds every state seen in the run (for
/// reuse).
pub fn findings(
    flow: &FlowJournal,
    facts: FlowFacts<'_>,
    states: &Mutex<HashSet<String>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let several = flow.starts.len() > 1;
    let steps: Vec<usize> = (1..=flow.starts.len()).collect();
    for &n in &steps {
        let at = several.then_some(n);
        let entries: Vec<&JournalEntry> = flow.step(n).collect();
        let authorizes: Vec<&JournalEntry> = entries
            .iter()
            .copied()
            .filter(|e| e.endpoint == Some(Endpoint::Authorize))
            .collect();
        for a in &authorizes {
            match a.state.as_deref() {
                None | Some("") => out.push(finding(
                    FindingId::NoState,
                    Severity::Warning,
                    "the RP sent no state at authorize".into(),
                    at,
                )),
                Some(s) => {
                    if s.len() < 16 {
                        out.push(finding(
                            FindingId::ShortState,
                            Severity::Warning,
                            format!(
                                "the state has {} characters (fewer than 16 is guessable)",
                                s.len()
                            ),
                            at,
                        ));
                    }
                    let fresh = states
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(s.to_string());
                    if !fresh {
                        out.push(finding(
                            FindingId::ReusedState,
                            Severity::Warning,
                            "the RP sent a state it had already used".into(),
                            at,
                        ));
                    }
                }
            }
            if a.nonce.as_deref().is_none_or(str::is_empty) {
                out.push(finding(
                    FindingId::NoNonce,
                    Severity::Warning,
                    "the RP sent no nonce".into(),
                    at,
                ));
            }
            match a.pkce.as_deref() {
                // No code, nothing for PKCE to protect (implicit flows).
                _ if !has_code(a) => {}
                None => out.push(finding(
                    FindingId::NoPkce,
                    Severity::Warning,
                    "the RP used no PKCE".into(),
                    at,
                )),
                Some("S256") => {}
                Some(m) => out.push(finding(
                    FindingId::PlainPkce,
                    Severity::Warning,
                    format!("the RP used PKCE method `{m}` (only S256 protects the code)"),
                    at,
                )),
            }
        }
        let tokens: Vec<&JournalEntry> = entries
            .iter()
            .copied()
            .filter(|e| e.endpoint == Some(Endpoint::Token))
            .collect();
        for t in &tokens {
            if let (Some(a), Some(r)) = (authorizes.last(), t.redirect_uri.as_deref()) {
                if a.redirect_uri.as_deref().is_some_and(|ar| ar != r) {
                    out.push(finding(
                        FindingId::RedirectUriDiffers,
                        Severity::Warning,
                        format!(
                            "redirect_uri `{r}` at the token endpoint differs from the one at authorize"
                        ),
                        at,
                    ));
                }
            }
            if let Some(m) = &t.client_auth {
                let f = finding(
                    FindingId::ClientAuth,
                    Severity::Info,
                    format!("the RP authenticated with {m}"),
                    None,
                );
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        if n == facts.last && facts.refused && facts.tokens_invalid {
            if let Some(detail) = userinfo_with_refused_token(&entries) {
                out.push(finding(
                    FindingId::UserinfoAfterReject,
                    Severity::Warning,
                    detail,
                    at,
                ));
            }
        }
    }
    // A code redeemed twice, across steps (a replayed callback sends it again).
    let mut codes = HashSet::new();
    for t in flow
        .entries
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Token))
        .filter_map(|t| t.code_ref.as_ref())
    {
        if !codes.insert(t) {
            out.push(finding(
                FindingId::CodeReused,
                Severity::Info,
                "the same code was sent to the token endpoint twice".into(),
                None,
            ));
        }
    }
    // One of each: an RP that loops through authorize says the same thing each time.
    let mut unique: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out {
        if !unique.contains(&f) {
            unique.push(f);
        }
    }
    unique
}

/// Whether userinfo answered, unchanged by any fault, for the access token of the step's
/// last successful token exchange: the RP used the access token of a token response it
/// refused. A userinfo answer that a fault changed is what the RP may have refused for.
fn userinfo_with_refused_token(entries: &[&JournalEntry]) -> Option<String> {
    let last = entries
        .iter()
        .rev()
        .find(|e| e.endpoint == Some(Endpoint::Token))?;
    let jti = last.token_ref.as_ref().filter(|_| last.status == 200)?;
    entries
        .iter()
        .any(|e| {
            e.endpoint == Some(Endpoint::Userinfo)
                && e.status == 200
                && e.faults.is_empty()
                && e.token_ref.as_ref() == Some(jti)
        })
        .then(|| {
            "the RP called userinfo with the access token of a token response it refused".into()
        })
}

/// Whether an authorization request asked for a code (a response type with `code`).
fn has_code(a: &JournalEntry) -> bool {
    a.response_type
        .as_deref()
        .is_none_or(|rt| rt.split(' ').any(|w| w == "code"))
}

/// Whether an authorization request asked for the code flow alone.
fn code_only(a: &JournalEntry) -> bool {
    a.response_type
        .as_deref()
        .is_none_or(|rt| rt.trim() == "code")
}

/// How strong a rule is for this RP, as its spec sentence says. `implicit_or_hybrid`:
/// the RP used a flow that returns tokens from authorize.
pub fn rule_strength(
    rule: Evidence,
    public_client: bool,
    sends_nonce: bool,
    implicit_or_hybrid: bool,
) -> Strength {
    match rule {
        // RFC 6749 4.1.1: state is RECOMMENDED (RFC 9700 4.7.1: CSRF protection is a MUST,
        // which PKCE or the nonce also give).
        Evidence::SendsState => Strength::Should,
        // OIDC Core 3.2.2.1 and 3.3.2.11: REQUIRED in the implicit and hybrid flows.
        Evidence::SendsNonce if implicit_or_hybrid => Strength::Must,
        // OIDC Core 3.1.2.1: nonce is OPTIONAL in the code flow.
        Evidence::SendsNonce => Strength::May,
        // OIDC Core 5.4: the RP MAY ask for claims with scope values (the OpenID suite's
        // scope-userinfo-claims module requires it: the scenario is strict for plans).
        Evidence::RequestsClaimsByScope => Strength::May,
        // OIDC Discovery 4: the RP MAY read the configuration (the OpenID suite's
        // discovery-openid-config module requires it).
        Evidence::ReadsDiscovery => Strength::May,
        // OIDC Core 9: a client registered for client_secret_basic (the default) uses it.
        Evidence::ClientSecretBasic => Strength::Must,
        // RFC 9700 2.1.1: public clients MUST use PKCE; for confidential clients it is
        // RECOMMENDED, and they MAY use the nonce instead: without either, a MUST is missed.
        Evidence::UsesPkce if public_client || !sends_nonce => Strength::Must,
        Evidence::UsesPkce => Strength::Should,
        // RFC 6749 4.1.3: the redirect_uri values MUST be identical.
        Evidence::SameRedirectUri => Strength::Must,
        // OIDC Core 3.1.3.7: what failed validation MUST NOT be used; calling userinfo with
        // the access token that came with it is not forbidden as such, but unwise.
        Evidence::NoUserinfoAfterReject => Strength::Should,
        // RP-Initiated Logout 1.0 2: id_token_hint is RECOMMENDED.
        Evidence::SendsIdTokenHint => Strength::Should,
        // RP-Initiated Logout 1.0 2: post_logout_redirect_uri is OPTIONAL.
        Evidence::ReturnsAfterLogout => Strength::May,
        // RP-Initiated Logout 1.0 2: an RP that logs the user out asks the OP to log them out
        // too; a request the OP refuses leaves them signed in there.
        Evidence::EndsIdpSession => Strength::Should,
        // RFC 7644 3.3: a creation that conflicts with an existing resource (a duplicate
        // userName) MUST be answered 409 with the scimType `uniqueness`.
        Evidence::ScimConflict => Strength::Must,
        // OIDC Core 5.7: only `iss` and `sub` identify the user for good; an account keyed
        // on the email splits in two when it changes. No MUST says so.
        Evidence::OneAccount => Strength::Should,
        // RFC 7009 1: revoking is how a client tells the server a token "is no longer
        // needed"; no spec makes an RP do it, but a profile declaring `revocation` says the
        // RP is set to (ClearML's Revocation Endpoint): a setting that does nothing fails.
        Evidence::RevokesTokens => Strength::Must,
    }
}

/// The rule's name, as scenario files write it.
pub fn rule_name(rule: Evidence) -> &'static str {
    match rule {
        Evidence::NoUserinfoAfterReject => "no-userinfo-after-reject",
        Evidence::RequestsClaimsByScope => "requests-claims-by-scope",
        Evidence::ReadsDiscovery => "reads-discovery",
        Evidence::ClientSecretBasic => "client-secret-basic",
        Evidence::SendsNonce => "sends-nonce",
        Evidence::UsesPkce => "uses-pkce",
        Evidence::SendsState => "sends-state",
        Evidence::SameRedirectUri => "same-redirect-uri",
        Evidence::SendsIdTokenHint => "sends-id-token-hint",
        Evidence::ReturnsAfterLogout => "returns-after-logout",
        Evidence::EndsIdpSession => "ends-idp-session",
        Evidence::ScimConflict => "scim-conflict",
        Evidence::OneAccount => "one-account",
        Evidence::RevokesTokens => "revokes-tokens",
    }
}

/// Checks a scenario's evidence rules over the logins of its flow.
pub fn rules(rules: &[Evidence], flow: &FlowJournal, facts: FlowFacts<'_>) -> Vec<RuleResult> {
    let logins: Vec<Vec<&JournalEntry>> = facts
        .logins
        .iter()
        .map(|&n| flow.step(n).collect())
        .collect();
    let authz: Vec<&JournalEntry> = logins
        .iter()
        .flatten()
        .copied()
        .filter(|e| e.endpoint == Some(Endpoint::Authorize))
        .collect();
    let sends_nonce = !authz.is_empty()
        && authz
            .iter()
            .all(|a| a.nonce.as_deref().is_some_and(|n| !n.is_empty()));
    let implicit_or_hybrid = authz.iter().any(|a| !code_only(a));
    let with_code: Vec<&JournalEntry> = authz.iter().copied().filter(|a| has_code(a)).collect();
    // The RP's end-session requests (a sign-out at the IdP itself names no client).
    let ends: Vec<&JournalEntry> = flow
        .entries
        .iter()
        .filter(|e| e.endpoint == Some(Endpoint::Logout) && e.client_id.is_some())
        .collect();
    let no_end = || {
        (
            true,
            "the RP never sent the browser to the IdP's end-session endpoint".to_string(),
        )
    };
    rules
        .iter()
        .map(|&rule| {
            let strength = rule_strength(
                rule,
                facts.public_client,
                sends_nonce,
                implicit_or_hybrid,
            );
            let (broken, detail) = match rule {
                Evidence::NoUserinfoAfterReject => {
                    let last: Vec<&JournalEntry> = flow.step(facts.last).collect();
                    match userinfo_with_refused_token(&last) {
                        Some(d) if facts.refused && facts.tokens_invalid => (true, d),
                        _ => (false, "no userinfo call with a refused token".into()),
                    }
                }
                Evidence::SendsNonce => {
                    let n = authz
                        .iter()
                        .filter(|a| a.nonce.as_deref().is_none_or(str::is_empty))
                        .count();
                    (
                        n > 0,
                        format!("{n} authorization request(s) without a nonce"),
                    )
                }
                Evidence::UsesPkce if with_code.is_empty() && !authz.is_empty() => (
                    false,
                    "no code was asked for (implicit flow): nothing for PKCE to protect".into(),
                ),
                Evidence::UsesPkce => {
                    let n = with_code
                        .iter()
                        .filter(|a| a.pkce.as_deref() != Some("S256"))
                        .count();
                    let why = if facts.public_client {
                        "a public client"
                    } else if sends_nonce {
                        "a confidential client that sends a nonce"
                    } else {
                        "a confidential client without a nonce either"
                    };
                    (
                        n > 0,
                        format!("{n} authorization request(s) without S256 PKCE, from {why}"),
                    )
                }
                Evidence::RequestsClaimsByScope => {
                    let n = authz
                        .iter()
                        .filter(|a| {
                            !a.scope.as_deref().is_some_and(|s| {
                                s.split(' ')
                                    .any(|w| ["profile", "email", "phone", "address"].contains(&w))
                            })
                        })
                        .count();
                    (
                        n > 0,
                        format!(
                            "{n} authorization request(s) without profile, email, phone or address in the scope"
                        ),
                    )
                }
                Evidence::ReadsDiscovery => (
                    !facts.discovery_in_run,
                    if facts.discovery_in_run {
                        "the RP read the discovery document".into()
                    } else {
                        "the RP never read the discovery document in this run".into()
                    },
                ),
                Evidence::ClientSecretBasic => {
                    let tokens: Vec<&JournalEntry> = logins
                        .iter()
                        .flatten()
                        .copied()
                        .filter(|e| e.endpoint == Some(Endpoint::Token))
                        .collect();
                    let other: Vec<String> = tokens
                        .iter()
                        .filter_map(|t| t.client_auth.clone())
                        .filter(|m| m != "client_secret_basic")
                        .collect();
                    if tokens.is_empty() {
                        (true, "the RP made no token request".into())
                    } else if let Some(m) = other.first() {
                        (true, format!("the RP authenticated with {m}"))
                    } else {
                        (false, "the RP authenticated with client_secret_basic".into())
                    }
                }
                Evidence::SendsState => {
                    let n = authz
                        .iter()
                        .filter(|a| a.state.as_deref().is_none_or(str::is_empty))
                        .count();
                    (
                        n > 0,
                        format!("{n} authorization request(s) without a state"),
                    )
                }
                Evidence::SendsIdTokenHint if ends.is_empty() => no_end(),
                Evidence::SendsIdTokenHint => {
                    let n = ends.iter().filter(|e| e.token_ref.is_none()).count();
                    (n > 0, format!("{n} end-session request(s) without id_token_hint"))
                }
                Evidence::ReturnsAfterLogout if ends.is_empty() => no_end(),
                Evidence::ReturnsAfterLogout => {
                    let n = ends.iter().filter(|e| e.redirect_uri.is_none()).count();
                    (
                        n > 0,
                        format!(
                            "{n} end-session request(s) without post_logout_redirect_uri: the user stays on the IdP's signed-out page"
                        ),
                    )
                }
                Evidence::EndsIdpSession if ends.is_empty() => (
                    true,
                    "no logout request naming the RP's client reached the IdP's logout endpoint: the user is still signed in there".to_string(),
                ),
                Evidence::EndsIdpSession => {
                    let refused: Vec<String> = ends
                        .iter()
                        .filter(|e| e.outcome != "ok")
                        .map(|e| format!("#{} {} {}", e.seq, e.status, e.outcome))
                        .collect();
                    (
                        refused.len() == ends.len(),
                        format!(
                            "the IdP refused every logout request of the RP ({}): the user is still signed in there",
                            refused.join(", ")
                        ),
                    )
                }
                Evidence::OneAccount => match facts.accounts {
                    Some(a) if a.len() > 1 => (
                        true,
                        format!(
                            "the RP has {} accounts for the user: {}",
                            a.len(),
                            a.join(", ")
                        ),
                    ),
                    Some(a) => (false, format!("the RP has one account for the user: {}", a.join(", "))),
                    None => (false, "the RP's accounts were not counted".into()),
                },
                Evidence::RevokesTokens => {
                    let issued: Vec<&str> = flow
                        .entries
                        .iter()
                        .filter(|e| e.endpoint == Some(Endpoint::Token) && e.status == 200)
                        .filter_map(|e| e.token_ref.as_deref())
                        .collect();
                    let revocations: Vec<&JournalEntry> = flow
                        .entries
                        .iter()
                        .filter(|e| e.endpoint == Some(Endpoint::Revoke))
                        .collect();
                    let revoked = revocations.iter().find(|e| {
                        e.status == 200 && e.token_ref.as_deref().is_some_and(|t| issued.contains(&t))
                    });
                    match revoked {
                        Some(e) => (
                            false,
                            format!("#{} revoke: the RP revoked the login's access token", e.seq),
                        ),
                        None if revocations.is_empty() => (
                            true,
                            "the RP made no revocation request: its tokens stay valid after the logout".into(),
                        ),
                        None => (
                            true,
                            format!(
                                "no revocation request named an access token of the login ({})",
                                revocations
                                    .iter()
                                    .map(|e| format!("#{} {} {}", e.seq, e.status, e.outcome))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    }
                }
                Evidence::ScimConflict => {
                    let dups: Vec<&JournalEntry> = flow
                        .entries
                        .iter()
                        .filter(|e| e.endpoint == Some(Endpoint::Scim))
                        .filter(|e| e.outcome != "answer_dropped")
                        .filter(|e| {
                            e.faults.iter().any(|f| {
                                f == "scim-duplicate-create" || f == "scim-retry-after-timeout"
                            })
                        })
                        .collect();
                    let wrong: Vec<String> = dups
                        .iter()
                        .filter(|e| e.outcome != "scim_409_uniqueness")
                        .map(|e| {
                            format!(
                                "#{} {} answered {} {}",
                                e.seq,
                                e.detail.as_deref().unwrap_or("?"),
                                e.status,
                                e.outcome
                            )
                        })
                        .collect();
                    if dups.is_empty() {
                        (false, "the IdP sent no duplicate create".into())
                    } else if wrong.is_empty() {
                        (
                            false,
                            format!(
                                "the RP answered each of {} duplicate create(s) 409 uniqueness",
                                dups.len()
                            ),
                        )
                    } else {
                        (
                            true,
                            format!(
                                "a create of a user the RP has was not refused 409 uniqueness: {}",
                                wrong.join("; ")
                            ),
                        )
                    }
                }
                Evidence::SameRedirectUri => {
                    let mut differs = 0;
                    for login in &logins {
                        let first = login
                            .iter()
                            .find(|e| e.endpoint == Some(Endpoint::Authorize))
                            .and_then(|a| a.redirect_uri.clone());
                        differs += login
                            .iter()
                            .filter(|e| e.endpoint == Some(Endpoint::Token))
                            .filter(|t| t.redirect_uri != first)
                            .count();
                    }
                    (
                        differs > 0,
                        format!(
                            "{differs} token request(s) with another redirect_uri than authorize"
                        ),
                    )
                }
            };
            RuleResult {
                rule: rule_name(rule).into(),
                strength,
                broken,
                detail,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looping_rp_gets_each_finding_once() {
        let authorize = |seq| JournalEntry {
            seq,
            endpoint: Some(Endpoint::Authorize),
            client_id: Some("app".into()),
            ..JournalEntry::default()
        };
        let flow = FlowJournal {
            entries: (1..=25).map(authorize).collect(),
            starts: vec![0],
        };
        let facts = FlowFacts {
            logins: &[1],
            last: 1,
            refused: false,
            tokens_invalid: false,
            public_client: false,
            discovery_in_run: true,
            accounts: None,
        };
        let found = findings(&flow, facts, &Mutex::new(HashSet::new()));
        let no_state = found.iter().filter(|f| f.id == FindingId::NoState).count();
        assert_eq!(no_state, 1, "{found:?}");
    }
}
