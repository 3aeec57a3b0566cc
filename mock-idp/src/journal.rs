//! The journal: every request the IdP answered, in OIDC terms.
//!
//! It plays the part of wiremock's `received_requests()`: tests and the harness read it to
//! see what a relying party asked on the back channel, and to lint its requests (state,
//! nonce, PKCE, redirect_uri, client authentication). Tokens and secrets are never stored:
//! a code is recorded by a short fingerprint, an access token by its `jti`.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::footprint::Footprint;

/// Which endpoint a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/.well-known/openid-configuration` or `oauth-authorization-server`.
    Discovery,
    /// `/v1/keys`.
    Keys,
    /// `/v1/authorize`.
    Authorize,
    /// The hosted sign-in form being submitted.
    SignIn,
    /// `/v1/token`.
    Token,
    /// `/v1/userinfo`.
    Userinfo,
    /// `/v1/introspect`.
    Introspect,
    /// `/v1/revoke`.
    Revoke,
    /// `/v1/logout`, and `/login/signout` (the user signing out of the IdP itself).
    Logout,
    /// A logout token the IdP POSTed to an RP's `backchannel_logout_uri`; the status is
    /// the RP's answer.
    BackchannelLogout,
    /// `/v1/check_session`: the check-session iframe (Session Management 1.0) loaded.
    CheckSession,
    /// Where a token's distributed claims point (OIDC Core 5.6.2): Entra's Graph
    /// `getMemberObjects`, read for the groups of a user in too many to list.
    ClaimSource,
    /// A provisioning request the IdP sent to an app's SCIM API ([`crate::scim`]); the
    /// status is the app's answer.
    Scim,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 13] = [
        Self::Discovery,
        Self::Keys,
        Self::Authorize,
        Self::SignIn,
        Self::Token,
        Self::Userinfo,
        Self::Introspect,
        Self::Revoke,
        Self::Logout,
        Self::BackchannelLogout,
        Self::CheckSession,
        Self::ClaimSource,
        Self::Scim,
    ];

    /// The name the journal uses (`token`, `keys`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Keys => "keys",
            Self::Authorize => "authorize",
            Self::SignIn => "sign_in",
            Self::Token => "token",
            Self::Userinfo => "userinfo",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
            Self::Logout => "logout",
            Self::BackchannelLogout => "backchannel_logout",
            Self::CheckSession => "check_session",
            Self::ClaimSource => "claim_source",
            Self::Scim => "scim",
        }
    }
}

/// One answered request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// When, in Unix seconds of the IdP's clock.
    pub at: i64,
    /// `org` or the custom authorization server id.
    pub server: String,
    /// The endpoint.
    pub endpoint: Option<Endpoint>,
    /// HTTP method.
    pub method: String,
    /// HTTP status answered.
    pub status: u16,
    /// `ok`, or Okta's code for the error sent (e.g. `invalid_client_secret`); where Okta's
    /// one code covers cases other IdPs word apart, ours (`authorization_code_redeemed`,
    /// `authorization_code_expired`: Okta's `invalid_authorization_code`).
    pub outcome: String,
    /// The client, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user (id), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// How the client authenticated: `client_secret_basic`, `client_secret_post` or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<String>,
    /// `grant_type` at the token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// `response_type` at authorize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    /// `response_mode` at authorize, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
    /// `scope` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// PKCE: `S256`, `plain`, or absent; at the token endpoint, `verifier` when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkce: Option<String>,
    /// The PKCE `code_challenge` sent at authorize (public: a hash of the secret verifier);
    /// it tells apart logins of one client that send neither state nor nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// The `state` sent at authorize (not a secret; kept to find short or reused states).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The `nonce` sent at authorize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `redirect_uri` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Fingerprint of the authorization code issued (authorize) or redeemed (token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_ref: Option<String>,
    /// `jti` of the access token issued (token) or presented (userinfo, introspect, revoke),
    /// or of the ID token given as `id_token_hint` (logout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_ref: Option<String>,
    /// Where a bearer token was sent at userinfo: `header` or `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<String>,
    /// The `Origin` header, for browser calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The faults that changed this answer (`id` or `id=param`), in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// The ID token sent in this answer, decoded (`{"header": …, "payload": …}`), as
    /// evidence of what the RP was given. The signature is left out, so it is never a
    /// usable token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<serde_json::Value>,
    /// What else the answer did (`2 front-channel logout iframe(s)`), or why a request
    /// the IdP sent (a back-channel logout) got no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A bounded, shared journal. The oldest entries go once `capacity` is reached.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: VecDeque<Stored>,
    next_seq: u64,
    capacity: usize,
    /// The most the entries may hold in memory, in bytes (roughly: their own size and
    /// their strings').
    max_bytes: usize,
    bytes: usize,
    /// Successful answers (below 400) per endpoint, since the start.
    answered: [u64; Endpoint::ALL.len()],
}

/// Roughly what a JSON tree holds in memory, itself included.
fn value_footprint(v: &serde_json::Value) -> usize {
    std::mem::size_of::<serde_json::Value>() + v.heap_bytes()
}

/// The journal's default memory budget: with it and the stores' budget
/// ([`crate::state::DEFAULT_STORE_BYTES`]) the IdP stays under 64 MiB after any traffic.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

impl JournalEntry {
    /// Roughly what the journal holds in memory for it, in bytes: the fields every
    /// request has, and the others only when one of them is set (see [`Stored`]).
    pub fn footprint(&self) -> usize {
        self.footprint_held(self.has_rest())
    }

    /// [`Self::footprint`], told whether the entry has more than the head ([`Self::has_rest`]).
    fn footprint_held(&self, has_rest: bool) -> usize {
        let head = std::mem::size_of::<Stored>()
            + self.server.heap_bytes()
            + self.method.heap_bytes()
            + self.outcome.heap_bytes();
        if !has_rest {
            return head;
        }
        let texts: usize = self.texts().into_iter().map(Footprint::heap_bytes).sum();
        head + std::mem::size_of::<Self>()
            + texts
            + self.faults.heap_bytes()
            // A decoded token's JSON tree.
            + self.id_token.as_ref().map_or(0, value_footprint)
    }

    /// Whether any field beyond those every request has is set.
    fn has_rest(&self) -> bool {
        self.texts().iter().any(|v| v.is_some())
            || !self.faults.is_empty()
            || self.id_token.is_some()
    }

    /// The optional text fields. A field added to the entry is caught by the journal's
    /// round-trip test until it is placed here or beside `faults` and `id_token`.
    fn texts(&self) -> [&Option<String>; 17] {
        [
            &self.client_id,
            &self.user_id,
            &self.client_auth,
            &self.grant_type,
            &self.response_type,
            &self.response_mode,
            &self.scope,
            &self.pkce,
            &self.code_challenge,
            &self.state,
            &self.nonce,
            &self.redirect_uri,
            &self.code_ref,
            &self.token_ref,
            &self.bearer,
            &self.origin,
            &self.detail,
        ]
    }
}

/// An entry as the journal holds it: the fields every request has, inline, and the
/// others boxed, only when one of them is set. Most discovery and JWKS requests set none:
/// their slot in the ring is ~110 bytes instead of ~700, which keeps the ring's writes in
/// cache (copying whole entries into a ring of thousands was most of what the journal
/// cost a discovery request).
#[derive(Debug)]
struct Stored {
    seq: u64,
    at: i64,
    status: u16,
    endpoint: Option<Endpoint>,
    server: String,
    method: String,
    outcome: String,
    rest: Option<Box<JournalEntry>>,
    /// Its [`JournalEntry::footprint`], counted against the journal's budget.
    size: usize,
}

impl Stored {
    fn new(mut e: JournalEntry) -> Self {
        let rest = e.has_rest();
        let size = e.footprint_held(rest);
        let mut stored = Self {
            seq: e.seq,
            at: e.at,
            status: e.status,
            endpoint: e.endpoint,
            server: std::mem::take(&mut e.server),
            method: std::mem::take(&mut e.method),
            outcome: std::mem::take(&mut e.outcome),
            rest: None,
            size,
        };
        if rest {
            stored.rest = Some(Box::new(e));
        }
        stored
    }

    fn entry(&self) -> JournalEntry {
        let mut e = self.rest.as_deref().cloned().unwrap_or_default();
        e.seq = self.seq;
        e.at = self.at;
        e.status = self.status;
        e.endpoint = self.endpoint;
        e.server = self.server.clone();
        e.method = self.method.clone();
        e.outcome = self.outcome.clone();
        e
    }
}

impl Journal {
    /// A journal keeping at most `capacity` entries (and [`DEFAULT_MAX_BYTES`]).
    pub fn new(capacity: usize) -> Self {
        Self::bounded(capacity, DEFAULT_MAX_BYTES)
    }

    /// A journal keeping at most `capacity` entries and about `max_bytes` of memory; the
    /// oldest go first.
    pub fn bounded(capacity: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
                next_seq: 1,
                capacity: capacity.max(1),
                max_bytes: max_bytes.max(1),
                bytes: 0,
                answered: [0; Endpoint::ALL.len()],
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an entry, numbering it. What a stranger sent is kept shortened: the
    /// journal never holds megabytes of someone's `state`.
    pub fn record(&self, mut entry: JournalEntry) {
        for v in [
            &mut entry.client_id,
            &mut entry.response_type,
            &mut entry.response_mode,
            &mut entry.scope,
            &mut entry.pkce,
            &mut entry.state,
            &mut entry.nonce,
            &mut entry.redirect_uri,
            &mut entry.origin,
            &mut entry.grant_type,
        ]
        .into_iter()
        .flatten()
        {
            clip(v);
        }
        // Sized and split before the lock: the lock is held only for the push.
        let mut stored = Stored::new(entry);
        let size = stored.size;
        let mut inner = self.lock();
        stored.seq = inner.next_seq;
        inner.next_seq += 1;
        if let Some(e) = stored.endpoint.filter(|_| stored.status < 400) {
            inner.answered[e as usize] += 1;
        }
        while !inner.entries.is_empty()
            && (inner.entries.len() >= inner.capacity || inner.bytes + size > inner.max_bytes)
        {
            let old = inner.entries.pop_front().map_or(0, |o| o.size);
            inner.bytes = inner.bytes.saturating_sub(old);
        }
        inner.bytes += size;
        inner.entries.push_back(stored);
    }

    /// At most `max` entries with `seq` greater than `after`, in order.
    pub fn chunk(&self, after: u64, max: usize) -> Vec<JournalEntry> {
        let inner = self.lock();
        let first = inner.entries.front().map_or(0, |e| e.seq);
        // Entries are numbered without gaps: skip straight to the first one wanted.
        let skip = (after + 1).saturating_sub(first) as usize;
        inner
            .entries
            .iter()
            .skip(skip)
            .take(max)
            .map(Stored::entry)
            .collect()
    }

    /// Entries with `seq` greater than `after` (0 for all).
    pub fn since(&self, after: u64) -> Vec<JournalEntry> {
        self.chunk(after, usize::MAX)
    }

    /// The number of the last entry recorded (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }

    /// How many requests to `endpoint` were answered successfully (status below 400)
    /// since the IdP started, cleared entries included.
    pub fn answered(&self, endpoint: Endpoint) -> u64 {
        self.lock().answered[endpoint as usize]
    }

    /// Entries held, the bytes counted for them, and the most it may hold of each.
    pub fn usage(&self) -> (usize, usize, usize, usize) {
        let inner = self.lock();
        (
            inner.entries.len(),
            inner.bytes,
            inner.capacity,
            inner.max_bytes,
        )
    }

    /// Forgets every entry (numbering goes on).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.bytes = 0;
    }
}

/// The most of a request's value the journal keeps, in bytes.
pub const MAX_KEPT: usize = 2048;

fn clip(v: &mut String) {
    if v.len() > MAX_KEPT {
        let mut cut = MAX_KEPT;
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
        v.push('…');
    }
}

/// A short, non-reversible fingerprint of a code or token for the journal.
pub fn fingerprint(value: &str) -> String {
    crate::jwt::half_hash(value)[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::{Endpoint, Journal, JournalEntry};

    /// An entry with every field set. Every field is named (no `..`): a field added
    /// later must be set here too, and so is checked below (the journal keeps it only if
    /// `has_rest` and `texts` know it).
    fn full() -> JournalEntry {
        let s = |v: &str| Some(v.to_string());
        JournalEntry {
            seq: 1,
            at: 1_700_000_000,
            server: "default".into(),
            endpoint: Some(Endpoint::Token),
            method: "POST".into(),
            status: 400,
            outcome: "invalid_grant".into(),
            client_id: s("client"),
            user_id: s("user"),
            client_auth: s("client_secret_basic"),
            grant_type: s("authorization_code"),
            response_type: s("code"),
            response_mode: s("query"),
            scope: s("openid"),
            pkce: s("S256"),
            code_challenge: s("challenge"),
            state: s("state"),
            nonce: s("nonce"),
            redirect_uri: s("http://127.0.0.1/cb"),
            code_ref: s("code-ref"),
            token_ref: s("token-ref"),
            bearer: s("header"),
            origin: s("http://127.0.0.1"),
            faults: vec!["expired".into()],
            id_token: Some(serde_json::json!({"header": {"alg": "RS256"}, "payload": {}})),
            detail: s("detail"),
        }
    }

    #[test]
    fn entries_come_back_as_recorded_whichever_fields_they_set() {
        let bare = JournalEntry {
            server: "default".into(),
            endpoint: Some(Endpoint::Discovery),
            method: "GET".into(),
            status: 200,
            outcome: "ok".into(),
            at: 5,
            ..JournalEntry::default()
        };
        assert!(!bare.has_rest());
        assert!(full().has_rest());
        // The bare one (as most discovery requests), the full one, and the bare one with
        // each other field of the full one alone.
        let mut recorded = vec![bare.clone(), full()];
        let whole = serde_json::to_value(full()).unwrap();
        let mut alone = 0;
        for (k, v) in whole.as_object().unwrap() {
            let mut one = serde_json::to_value(&bare).unwrap();
            if one.get(k) == Some(v) {
                continue;
            }
            one[k] = v.clone();
            recorded.push(serde_json::from_value(one).unwrap());
            alone += 1;
        }
        assert!(alone >= 20, "{alone} fields tried alone");
        let j = Journal::new(100);
        for e in &recorded {
            j.record(e.clone());
        }
        let back = j.since(0);
        assert_eq!(back.len(), recorded.len());
        for (n, (mut want, got)) in recorded.into_iter().zip(back).enumerate() {
            want.seq = n as u64 + 1;
            assert_eq!(got, want);
        }
    }
}
