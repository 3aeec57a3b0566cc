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
    /// `/v1/logout`.
    Logout,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 9] = [
        Self::Discovery,
        Self::Keys,
        Self::Authorize,
        Self::SignIn,
        Self::Token,
        Self::Userinfo,
        Self::Introspect,
        Self::Revoke,
        Self::Logout,
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
    /// `ok`, or Okta's code for the error sent (e.g. `invalid_client_secret`).
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
    /// `jti` of the access token issued (token) or presented (userinfo, introspect, revoke).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_ref: Option<String>,
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
    /// Successful answers (below 400) per endpoint, since the start.
    answered: [u64; Endpoint::ALL.len()],
}

impl Journal {
    /// A journal keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
                next_seq: 1,
                capacity: capacity.max(1),
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
        let mut inner = self.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if let Some(e) = entry.endpoint.filter(|_| entry.status < 400) {
            inner.answered[e as usize] += 1;
        }
        if inner.entries.len() == inner.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Entries with `seq` greater than `after` (0 for all).
    pub fn since(&self, after: u64) -> Vec<JournalEntry> {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.seq > after)
            .cloned()
            .collect()
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
        self.lock().entries.clear();
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
