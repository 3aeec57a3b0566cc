//! The journal: every request the IdP answered, in OIDC terms.
//!
//! It plays the part of wiremock's `received_requests()`: tests and the harness read it to
//! see what a relying party asked on the back channel, and to lint its requests (state,
//! nonce, PKCE, redirect_uri, client authentication). Tokens and secrets are never stored:
//! a code is recorded by a short fingerprint, an access token by its `jti`.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

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
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
    capacity: usize,
    /// The most the entries may hold in memory, in bytes (roughly: their own size and
    /// their strings').
    max_bytes: usize,
    bytes: usize,
    /// The footprint of each entry, in order (computed once).
    sizes: VecDeque<usize>,
    /// Successful answers (below 400) per endpoint, since the start.
    answered: [u64; Endpoint::ALL.len()],
}

/// Roughly what a JSON tree holds in memory.
fn value_footprint(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    std::mem::size_of::<Value>()
        + match v {
            Value::String(s) => s.capacity(),
            Value::Array(a) => a.iter().map(value_footprint).sum(),
            Value::Object(o) => o
                .iter()
                .map(|(k, v)| 48 + k.capacity() + value_footprint(v))
                .sum(),
            _ => 0,
        }
}

/// The journal's default memory budget: with it the IdP stays well under 64 MiB after
/// any traffic.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

impl JournalEntry {
    /// Roughly what it holds in memory, in bytes.
    pub fn footprint(&self) -> usize {
        let s = |v: &Option<String>| v.as_ref().map_or(0, String::capacity);
        std::mem::size_of::<Self>()
            + self.server.capacity()
            + self.method.capacity()
            + self.outcome.capacity()
            + [
                &self.client_id,
                &self.user_id,
                &self.client_auth,
                &self.grant_type,
                &self.response_type,
                &self.response_mode,
                &self.scope,
                &self.pkce,
                &self.state,
                &self.nonce,
                &self.redirect_uri,
                &self.code_ref,
                &self.token_ref,
                &self.origin,
            ]
            .into_iter()
            .map(s)
            .sum::<usize>()
            + self.faults.iter().map(|f| f.capacity() + 24).sum::<usize>()
            // A decoded token's JSON tree.
            + self.id_token.as_ref().map_or(0, value_footprint)
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
                sizes: VecDeque::new(),
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
        // Sized before the lock: the lock is held only for the push.
        let size = entry.footprint();
        let mut inner = self.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if let Some(e) = entry.endpoint.filter(|_| entry.status < 400) {
            inner.answered[e as usize] += 1;
        }
        while !inner.entries.is_empty()
            && (inner.entries.len() >= inner.capacity || inner.bytes + size > inner.max_bytes)
        {
            inner.entries.pop_front();
            let old = inner.sizes.pop_front().unwrap_or(0);
            inner.bytes = inner.bytes.saturating_sub(old);
        }
        inner.bytes += size;
        inner.sizes.push_back(size);
        inner.entries.push_back(entry);
    }

    /// At most `max` entries with `seq` greater than `after`, in order.
    pub fn chunk(&self, after: u64, max: usize) -> Vec<JournalEntry> {
        let inner = self.lock();
        let first = inner.entries.front().map_or(0, |e| e.seq);
        // Entries are numbered without gaps: skip straight to the first one wanted.
        let skip = (after + 1).saturating_sub(first) as usize;
        inner.entries.iter().skip(skip).take(max).cloned().collect()
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

    /// Forgets every entry (numbering goes on).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.sizes.clear();
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
