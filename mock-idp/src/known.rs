//! Redaction from knowledge: the IdP remembers every code, token, stateToken and session it
//! issued and every verifier it was given (and knows its tenant's client secrets and user
//! passwords), so any text can have each of them replaced wherever it appears, raw,
//! URL-encoded or inside an HTTP Basic header, by a stable fingerprint: `[code:3f2a…]`.
//! Patterns alone cannot find an opaque refresh token an RP echoes on its error page;
//! knowledge can.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind};
use base64::Engine as _;

use crate::journal::fingerprint;
use crate::state::Shared;

/// At most this many issued values are remembered (the oldest go first): a run's worth,
/// in a few MiB.
pub const MAX_REMEMBERED: usize = 10_000;

/// Values issued since the large automaton was built are searched by a small one, rebuilt
/// at each change; past this many, the large one is rebuilt over everything. A change
/// thus costs a build over at most this many values, plus a build over all of them once
/// every this many changes, instead of a build over all of them every time.
pub const RECENT_MAX: usize = 256;

/// What the IdP issued or was given, in order.
#[derive(Default)]
pub struct Known {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    values: VecDeque<(&'static str, String)>,
    /// How many values were ever remembered: `values[i]` is number `pushed - len + i`.
    pushed: u64,
    /// Bumped when the secrets not remembered here (the tenant's) change.
    statics: u64,
    /// The large automaton: the static secrets of generation `statics` and the values
    /// numbered below `upto`.
    base: Option<Base>,
    /// The matcher handed out last, and the number of values it covers.
    current: Option<(u64, Arc<Matcher>)>,
    /// How many times the large automaton was built (for tests).
    base_builds: u64,
}

struct Base {
    statics: u64,
    upto: u64,
    part: Option<Arc<Part>>,
}

/// One automaton and the label of each of its patterns.
struct Part {
    ac: AhoCorasick,
    replacements: Vec<String>,
}

impl Part {
    fn build(secrets: impl IntoIterator<Item = (&'static str, String)>) -> Option<Self> {
        let mut patterns = Vec::new();
        let mut replacements = Vec::new();
        for (kind, value) in secrets {
            let label = format!("[{kind}:{}]", fingerprint(&value));
            for f in forms(&value) {
                patterns.push(f);
                replacements.push(label.clone());
            }
        }
        if patterns.is_empty() {
            return None;
        }
        // The plain NFA: built in a fraction of the time of the faster-searching kinds,
        // while what it searches is short.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(&patterns)
            .expect("literal patterns always build");
        Some(Self { ac, replacements })
    }
}

/// The secrets known at one moment, ready to replace (see [`crate::Redactor::snapshot`]).
///
/// It searches with up to two automata (everything known when the large one was built,
/// and what was issued since) as if they were one: at each step the leftmost match of
/// either, the longer one where both start at the same place, and the search goes on
/// after it. So a secret is replaced whole even when a shorter one inside it, or one
/// overlapping it, is known to the other automaton.
pub struct Matcher {
    parts: Vec<Arc<Part>>,
}

impl Matcher {
    /// `text` with every secret of this snapshot replaced by its fingerprint.
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::new();
        let mut done = 0;
        // The next match of each part at or after `done` (None: none left).
        let mut next: Vec<Option<aho_corasick::Match>> = self
            .parts
            .iter()
            .map(|p| p.ac.find(Input::new(text).anchored(Anchored::No)))
            .collect();
        loop {
            let best = next
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.map(|m| (i, m)))
                .min_by_key(|(_, m)| (m.start(), std::cmp::Reverse(m.end())));
            let Some((i, m)) = best else { break };
            out.push_str(&text[done..m.start()]);
            out.push_str(&self.parts[i].replacements[m.pattern().as_usize()]);
            done = m.end();
            // A part's pending match still holds if it starts after this one; otherwise
            // the part searches again from here.
            for (part, pending) in self.parts.iter().zip(next.iter_mut()) {
                if pending.is_some_and(|p| p.start() < done) {
                    *pending = part.ac.find(Input::new(text).range(done..));
                }
            }
        }
        if done == 0 {
            return text.to_string();
        }
        out.push_str(&text[done..]);
        out
    }
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Known { .. }")
    }
}

impl Known {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers a value of `kind` (`code`, `access_token`, …).
    pub fn remember(&self, kind: &'static str, value: &str) {
        // Too short to be a secret, or too long to be one the IdP issued (a stranger's
        // megabytes are not kept).
        if value.len() < 8 || value.len() > 8192 {
            return;
        }
        let mut inner = self.lock();
        if inner.values.len() >= MAX_REMEMBERED {
            inner.values.pop_front();
        }
        inner.values.push_back((kind, value.to_string()));
        inner.pushed += 1;
    }

    /// Something else secret changed (the tenant).
    pub fn touch(&self) {
        self.lock().statics += 1;
    }

    /// How many times the large automaton was built so far.
    #[cfg(test)]
    fn full_builds(&self) -> u64 {
        self.lock().base_builds
    }

    /// The secrets known now, ready to replace, with `statics` giving the secrets not
    /// remembered here (the tenant's; called only when the large automaton is rebuilt:
    /// after [`Known::touch`], or past [`RECENT_MAX`] new values).
    pub fn matcher(&self, statics: impl FnOnce() -> Vec<(&'static str, String)>) -> Arc<Matcher> {
        let mut inner = self.lock();
        let pushed = inner.pushed;
        let fresh = |b: &Base| b.statics == inner.statics && pushed - b.upto <= RECENT_MAX as u64;
        if let Some((covers, m)) = &inner.current {
            if *covers == pushed && inner.base.as_ref().is_some_and(fresh) {
                return m.clone();
            }
        }
        let first = pushed - inner.values.len() as u64;
        if !inner.base.as_ref().is_some_and(fresh) {
            let mut all = statics();
            all.extend(inner.values.iter().cloned());
            inner.base_builds += 1;
            inner.base = Some(Base {
                statics: inner.statics,
                upto: pushed,
                part: Part::build(all).map(Arc::new),
            });
        }
        let base = inner.base.as_ref().expect("built above");
        let skip = base.upto.saturating_sub(first) as usize;
        let recent = Part::build(inner.values.iter().skip(skip).cloned()).map(Arc::new);
        let parts = [base.part.clone(), recent].into_iter().flatten().collect();
        let m = Arc::new(Matcher { parts });
        inner.current = Some((pushed, m.clone()));
        m
    }
}

/// Every form a secret takes in text: raw, URL-encoded (`+` or `%20` for spaces).
fn forms(value: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut out = vec![value.to_string()];
    if encoded != value {
        out.push(encoded.replace('+', "%20"));
        out.push(encoded);
    }
    out
}

impl Shared {
    /// The secrets the IdP knows without remembering them: the tenant's client secrets
    /// (and the Basic credentials made of them), its users' passwords, the admin token.
    fn static_secrets(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let tenant = self.tenant();
        for c in &tenant.clients {
            if let Some(s) = &c.client_secret {
                let secret = s.expose().to_string();
                // RFC 6749 2.3.1: Basic credentials, raw and form-URL-encoded, in base64
                // with and without padding, standard or URL-safe.
                use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
                let enc = |s: &str| -> String {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
                };
                for pair in [
                    format!("{}:{secret}", c.client_id),
                    format!("{}:{}", enc(&c.client_id), enc(&secret)),
                ] {
                    for b64 in [
                        STANDARD.encode(&pair),
                        STANDARD_NO_PAD.encode(&pair),
                        URL_SAFE_NO_PAD.encode(&pair),
                    ] {
                        out.push(("basic_credentials", b64));
                    }
                }
                out.push(("client_secret", secret));
            }
        }
        for u in &tenant.users {
            out.push(("password", u.password.expose().to_string()));
        }
        if let Some(t) = &self.admin_token {
            out.push(("admin_token", t.clone()));
        }
        out.retain(|(_, v)| v.len() >= 4);
        out
    }

    /// The secrets known now, ready to replace (only what changed is rebuilt).
    pub fn matcher(&self) -> Arc<Matcher> {
        self.known.matcher(|| self.static_secrets())
    }

    /// `text` with every secret the IdP knows replaced by its fingerprint.
    pub fn redact_known(&self, text: &str) -> String {
        self.matcher().redact(text)
    }

    /// Every secret the IdP knows, in every form it takes in text (for a browser to blank
    /// them out of a page before a screenshot).
    pub fn known_forms(&self) -> Vec<String> {
        let remembered: Vec<String> = self
            .known
            .lock()
            .values
            .iter()
            .map(|(_, v)| v.clone())
            .collect();
        self.static_secrets()
            .into_iter()
            .map(|(_, v)| v)
            .chain(remembered)
            .flat_map(|v| forms(&v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Known, RECENT_MAX, forms};
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;

    #[test]
    fn a_secret_has_its_encoded_forms() {
        assert_eq!(forms("abc"), vec!["abc"]);
        assert_eq!(forms("a b/c"), vec!["a b/c", "a%20b%2Fc", "a+b%2Fc"]);
    }

    fn statics() -> Vec<(&'static str, String)> {
        vec![("client_secret", "static-secret-1".to_string())]
    }

    /// One leftmost-longest automaton over every secret: what the two parts must equal.
    fn one_automaton(known: &[(&'static str, String)], text: &str) -> String {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(known.iter().map(|(_, v)| v))
            .unwrap();
        let labels: Vec<String> = known
            .iter()
            .map(|(k, v)| format!("[{k}:{}]", crate::journal::fingerprint(v)))
            .collect();
        ac.replace_all(text, &labels)
    }

    proptest! {
        /// Secrets over a two-letter alphabet overlap and contain one another all the
        /// time; split between the large automaton and the recent one, they are replaced
        /// exactly as one automaton over all of them replaces them: never a secret cut
        /// in two, its rest left in the text.
        #[test]
        fn two_parts_replace_as_one(
            old in prop::collection::vec("[ab]{8,11}", 1..6),
            new in prop::collection::vec("[ab]{8,11}", 1..6),
            text in "[abc]{0,60}",
            glue in prop::collection::vec((0usize..12, "[abc]{0,3}"), 0..6),
        ) {
            // Texts made of secrets, whole or cut, so that matches are common.
            let pool: Vec<&String> = old.iter().chain(&new).collect();
            let mut text = text;
            for (i, g) in &glue {
                text.push_str(pool[i % pool.len()]);
                text.push_str(g);
            }
            let known = Known::default();
            for v in &old {
                known.remember("code", v);
            }
            known.matcher(statics);
            for v in &new {
                known.remember("access_token", v);
            }
            let m = known.matcher(statics);
            prop_assert_eq!(m.parts.len(), 2, "a large part and a recent one");
            let mut all = statics();
            all.extend(old.iter().map(|v| ("code", v.clone())));
            all.extend(new.iter().map(|v| ("access_token", v.clone())));
            prop_assert_eq!(m.redact(&text), one_automaton(&all, &text));
        }
    }

    #[test]
    fn the_large_automaton_is_rebuilt_once_per_recent_max_values() {
        let known = Known::default();
        let n = 4 * RECENT_MAX + 10;
        for i in 0..n {
            let v = format!("issued-value-{i:06}");
            known.remember("code", &v);
            let text = format!("the RP logged {v} and static-secret-1");
            let out = known.matcher(statics).redact(&text);
            assert!(
                !out.contains(&v) && !out.contains("static-secret-1"),
                "value {i} is replaced at once: {out}"
            );
        }
        // The first build, then one per RECENT_MAX values past the first.
        assert_eq!(known.full_builds(), 1 + ((n - 1) / (RECENT_MAX + 1)) as u64);
        // Nothing new: the same matcher.
        let a = known.matcher(statics);
        assert!(std::sync::Arc::ptr_eq(&a, &known.matcher(statics)));
    }

    #[test]
    fn a_tenant_change_rebuilds_the_large_automaton() {
        let known = Known::default();
        known.remember("code", "issued-value-1");
        assert!(
            !known
                .matcher(statics)
                .redact("static-secret-1")
                .contains("static")
        );
        known.touch();
        let m = known.matcher(|| vec![("password", "new-password".to_string())]);
        assert_eq!(known.full_builds(), 2);
        assert!(!m.redact("new-password").contains("new-password"));
        assert!(
            !m.redact("issued-value-1").contains("issued"),
            "remembered values stay"
        );
    }
}
