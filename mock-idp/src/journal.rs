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

/// A bounded, shared journal. The oldest entries go once `capacity` entries or its bytes
/// are reached.
///
/// Entries are held encoded, one after the other, in one ring of bytes ([`encode`]): adding
/// one copies its bytes in, and forgetting the oldest moves the ring's start past it. Nothing
/// is allocated or freed per entry once the ring has grown to its budget; held as a tree of
/// strings, each forgotten entry freed a dozen to forty blocks long out of the cache, which
/// made a long-lived IdP answer /authorize some 5% slower than a fresh one.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The entries held, encoded, oldest first.
    ring: VecDeque<u8>,
    /// Where each entry held starts, counted in bytes ever written to the ring.
    starts: VecDeque<u64>,
    /// Bytes ever dropped from the ring's front: where `ring[0]` is in that count.
    dropped: u64,
    next_seq: u64,
    capacity: usize,
    /// The most the ring and its index may hold, in bytes.
    max_bytes: usize,
    /// Successful answers (below 400) per endpoint, since the start.
    answered: [u64; Endpoint::ALL.len()],
}

/// The journal's default memory budget: with it and the stores' budget
/// ([`crate::state::DEFAULT_STORE_BYTES`]) the IdP stays under 64 MiB after any traffic.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// What the journal holds for an entry besides its bytes: where it starts.
const INDEX_BYTES: usize = std::mem::size_of::<u64>();

impl JournalEntry {
    /// What the journal holds in memory for it, in bytes: its encoding and its place in
    /// the index.
    pub fn footprint(&self) -> usize {
        let mut buf = Vec::new();
        encode(self, &mut buf);
        buf.len() + INDEX_BYTES
    }

    /// The optional text fields, in the order they are encoded. A field added to the entry
    /// is caught by the journal's round-trip test until it is placed here or beside `faults`
    /// and `id_token`.
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

    /// [`Self::texts`], to fill in, in the same order.
    fn texts_mut(&mut self) -> [&mut Option<String>; 17] {
        [
            &mut self.client_id,
            &mut self.user_id,
            &mut self.client_auth,
            &mut self.grant_type,
            &mut self.response_type,
            &mut self.response_mode,
            &mut self.scope,
            &mut self.pkce,
            &mut self.code_challenge,
            &mut self.state,
            &mut self.nonce,
            &mut self.redirect_uri,
            &mut self.code_ref,
            &mut self.token_ref,
            &mut self.bearer,
            &mut self.origin,
            &mut self.detail,
        ]
    }
}

/// Appends `n` as LEB128 (seven bits a byte, low first).
#[inline]
fn put_len(buf: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        // Most lengths: one byte.
        buf.push(n as u8);
        return;
    }
    let (bytes, used) = varint(n);
    buf.extend_from_slice(&bytes[..used]);
}

/// `n` in seven-bit groups, least significant first, the high bit set on all but the
/// last: the bytes and how many of them are used.
fn varint(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    (out, i + 1)
}

#[inline]
fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_len(buf, s.len());
    buf.extend_from_slice(s.as_bytes());
}

thread_local! {
    /// Where [`Journal::record`] encodes an entry, kept from one to the next.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Bits of an entry's presence mask beyond its texts': faults, and a decoded ID token.
const HAS_FAULTS: u32 = 1 << 17;
const HAS_ID_TOKEN: u32 = 1 << 18;

/// Appends `e`'s encoding to `buf` (`seq` is not part of it: the journal numbers entries
/// by their place): `at` and `status` in little-endian, the endpoint as its place in
/// [`Endpoint::ALL`] (255 for none), the three texts every entry has, then a mask of which
/// others it has (bit `i` for [`JournalEntry::texts`]' `i`th, then [`HAS_FAULTS`] and
/// [`HAS_ID_TOKEN`]) and those only: the texts, the faults' count and texts, and the ID
/// token as JSON text. Most discovery and JWKS entries have none: 30 bytes.
fn encode(e: &JournalEntry, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&e.at.to_le_bytes());
    buf.extend_from_slice(&e.status.to_le_bytes());
    buf.push(e.endpoint.map_or(u8::MAX, |p| p as u8));
    put_str(buf, &e.server);
    put_str(buf, &e.method);
    put_str(buf, &e.outcome);
    let texts = e.texts();
    let mut mask = 0u32;
    for (i, t) in texts.iter().enumerate() {
        if t.is_some() {
            mask |= 1 << i;
        }
    }
    if !e.faults.is_empty() {
        mask |= HAS_FAULTS;
    }
    if e.id_token.is_some() {
        mask |= HAS_ID_TOKEN;
    }
    buf.extend_from_slice(&mask.to_le_bytes());
    if mask == 0 {
        return;
    }
    for t in texts.into_iter().flatten() {
        put_str(buf, t);
    }
    if !e.faults.is_empty() {
        put_len(buf, e.faults.len());
        for f in &e.faults {
            put_str(buf, f);
        }
    }
    if let Some(token) = &e.id_token {
        // Written in place, then prefixed with its length: `to_string` would go through
        // `fmt::Write`, a call and a check for room per piece, into a string of its own.
        let start = buf.len();
        serde_json::to_writer(&mut *buf, token).expect("a JSON value always serializes");
        let (len, used) = varint(buf.len() - start);
        buf.splice(start..start, len[..used].iter().copied());
    }
}

/// Reads what [`encode`] wrote.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let [b] = self.bytes::<1>()?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn text(&mut self, len: usize) -> Option<String> {
        let (s, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }

    fn str(&mut self) -> Option<String> {
        let n = self.len()?;
        self.text(n)
    }
}

fn decode(bytes: &[u8], seq: u64) -> Option<JournalEntry> {
    let mut r = Reader(bytes);
    let mut e = JournalEntry {
        seq,
        at: i64::from_le_bytes(r.bytes()?),
        status: u16::from_le_bytes(r.bytes()?),
        ..JournalEntry::default()
    };
    let [endpoint] = r.bytes::<1>()?;
    e.endpoint = Endpoint::ALL.get(usize::from(endpoint)).copied();
    e.server = r.str()?;
    e.method = r.str()?;
    e.outcome = r.str()?;
    let mask = u32::from_le_bytes(r.bytes()?);
    for (i, t) in e.texts_mut().into_iter().enumerate() {
        if mask & (1 << i) != 0 {
            *t = Some(r.str()?);
        }
    }
    if mask & HAS_FAULTS != 0 {
        let faults = r.len()?;
        e.faults = (0..faults).map(|_| r.str()).collect::<Option<_>>()?;
    }
    if mask & HAS_ID_TOKEN != 0 {
        e.id_token = Some(serde_json::from_str(&r.str()?).ok()?);
    }
    r.0.is_empty().then_some(e)
}

impl Journal {
    /// A journal keeping at most `capacity` entries (and [`DEFAULT_MAX_BYTES`]).
    pub fn new(capacity: usize) -> Self {
        Self::bounded(capacity, DEFAULT_MAX_BYTES)
    }

    /// A journal keeping at most `capacity` entries and `max_bytes` of memory for them;
    /// the oldest go first.
    pub fn bounded(capacity: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                ring: VecDeque::new(),
                starts: VecDeque::new(),
                dropped: 0,
                next_seq: 1,
                capacity: capacity.max(1),
                max_bytes: max_bytes.max(1),
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
        let answered = entry.endpoint.filter(|_| entry.status < 400);
        // Encoded before the lock, into this thread's buffer: the lock is held only to copy
        // the bytes in.
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            encode(&entry, buf);
            let mut inner = self.lock();
            inner.next_seq += 1;
            if let Some(e) = answered {
                inner.answered[e as usize] += 1;
            }
            inner.push(buf);
            drop(inner);
            // An entry of long values (up to 17 of 2 KB) leaves no large buffer behind.
            if buf.capacity() > 8192 {
                *buf = Vec::new();
            }
        });
    }

    /// At most `max` entries with `seq` greater than `after`, in order.
    pub fn chunk(&self, after: u64, max: usize) -> Vec<JournalEntry> {
        // Their bytes are copied out under the lock and decoded after it.
        let (bytes, ends, first_seq) = {
            let inner = self.lock();
            let first = inner.next_seq - inner.starts.len() as u64;
            // Entries are numbered without gaps: skip straight to the first one wanted.
            let skip = ((after + 1).saturating_sub(first) as usize).min(inner.starts.len());
            let take = max.min(inner.starts.len() - skip);
            let at = |i: usize| {
                inner
                    .starts
                    .get(i)
                    .map_or(inner.ring.len(), |s| (s - inner.dropped) as usize)
            };
            let (from, to) = (at(skip), at(skip + take));
            let mut bytes = Vec::with_capacity(to - from);
            let (a, b) = inner.ring.as_slices();
            if from < a.len() {
                bytes.extend_from_slice(&a[from..to.min(a.len())]);
            }
            if to > a.len() {
                bytes.extend_from_slice(&b[from.saturating_sub(a.len())..to - a.len()]);
            }
            let ends: Vec<usize> = (skip + 1..=skip + take).map(|i| at(i) - from).collect();
            (bytes, ends, first + skip as u64)
        };
        let mut start = 0;
        ends.into_iter()
            .enumerate()
            .map(|(n, end)| {
                let seq = first_seq + n as u64;
                let e = decode(&bytes[start..end], seq);
                start = end;
                // Its own bytes, written just before: not reached.
                e.unwrap_or(JournalEntry {
                    seq,
                    outcome: "unreadable".into(),
                    ..JournalEntry::default()
                })
            })
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
            inner.starts.len(),
            inner.held(),
            inner.capacity,
            inner.max_bytes,
        )
    }

    /// Forgets every entry (numbering goes on).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.dropped += inner.ring.len() as u64;
        inner.ring.clear();
        inner.starts.clear();
    }
}

impl Inner {
    /// The bytes counted against the budget: the entries' and their index's.
    fn held(&self) -> usize {
        self.ring.len() + self.starts.len() * INDEX_BYTES
    }

    /// Adds an encoded entry, forgetting the oldest ones until it fits (an entry alone
    /// larger than the budget is still kept, alone).
    fn push(&mut self, entry: &[u8]) {
        let size = entry.len() + INDEX_BYTES;
        while !self.starts.is_empty()
            && (self.starts.len() >= self.capacity || self.held() + size > self.max_bytes)
        {
            self.starts.pop_front();
            let next = self
                .starts
                .front()
                .map_or(self.ring.len(), |s| (s - self.dropped) as usize);
            self.ring.drain(..next);
            self.dropped += next as u64;
        }
        // Grown to the budget and no further (its own doubling could take twice that).
        let need = self.ring.len() + entry.len();
        if need > self.ring.capacity() {
            let grown = (self.ring.capacity() * 2)
                .max(4096)
                .min(self.max_bytes)
                .max(need);
            self.ring.reserve_exact(grown - self.ring.len());
        }
        self.starts.push_back(self.dropped + self.ring.len() as u64);
        self.ring.extend(entry);
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
        // Decoded ID tokens as long as a login's and past 16 KiB: lengths of two and three
        // bytes before JSON written in place.
        for size in [300, 20_000] {
            let mut e = full();
            let payload = serde_json::json!({"sub": "00u1", "name": "é".repeat(size)});
            e.id_token = Some(serde_json::json!({"header": {"alg": "RS256"}, "payload": payload}));
            recorded.push(e);
        }
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

    #[test]
    fn the_oldest_entries_go_first_and_the_rest_read_back_across_the_rings_wrap() {
        // A budget of ~20 entries of varied sizes, far more recorded: the ring wraps many
        // times, and whatever is held reads back whole, numbered, in order, in any chunk.
        let j = Journal::bounded(1000, 4096);
        let mut recorded = Vec::new();
        for n in 0..2000u64 {
            let mut e = full();
            e.state = Some("s".repeat((n % 97) as usize));
            e.faults = (0..n % 3).map(|f| format!("fault-{f}")).collect();
            e.at = n as i64;
            j.record(e.clone());
            e.seq = n + 1;
            recorded.push(e);
        }
        let held = j.since(0);
        let (entries, bytes, _, budget) = j.usage();
        assert_eq!(held.len(), entries);
        assert!(bytes <= budget, "{bytes} of {budget}");
        assert!(entries > 10, "{entries} held");
        assert_eq!(held.last(), recorded.last());
        assert_eq!(held[..], recorded[recorded.len() - entries..]);
        assert_eq!(
            bytes,
            held.iter().map(JournalEntry::footprint).sum::<usize>()
        );
        for (after, max) in [(1990, 3), (0, 1), (1999, 5), (2000, 5), (1000, 2)] {
            let want: Vec<_> = held
                .iter()
                .filter(|e| e.seq > after)
                .take(max)
                .cloned()
                .collect();
            assert_eq!(j.chunk(after, max), want, "after {after}, {max}");
        }
        // The count cap too (in a budget smaller than the ring's first growth); clearing
        // keeps the numbering.
        let small = Journal::bounded(3, 2000);
        for e in &recorded[..10] {
            small.record(e.clone());
        }
        assert_eq!(small.since(0), recorded[7..10]);
        small.clear();
        assert!(small.since(0).is_empty());
        small.record(full());
        assert_eq!(small.since(0)[0].seq, 11);
        assert_eq!(small.usage().1, full().footprint());
        // An entry larger than the whole budget is kept, alone, until the next.
        let tiny = Journal::bounded(10, 64);
        assert!(full().footprint() > 64);
        tiny.record(full());
        tiny.record(full());
        let held = tiny.since(0);
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].seq, 2);
        assert_eq!(held[0].state, full().state);
    }
}
