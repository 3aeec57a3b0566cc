//! Redaction from knowledge: the IdP remembers every code, token, stateToken and session it
//! issued and every verifier it was given (and knows its tenant's client secrets and user
//! passwords), so any text can have each of them replaced wherever it appears, raw,
//! URL-encoded or inside an HTTP Basic header, by a stable fingerprint: `[code:3f2a…]`.
//! Patterns alone cannot find an opaque refresh token an RP echoes on its error page;
//! knowledge can.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, MatchKind};
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

/// How many bytes of each secret an automaton holds: its last ones (all of it when
/// shorter). A match of them is a candidate, kept when the text before it holds the rest.
/// Tokens are a kilobyte of text, so the automata are ~30 times smaller than over whole
/// values, and that much quicker to build; an ID token's last bytes are its signature's,
/// unlike its first (every token's header is the same).
pub const ANCHOR: usize = 32;

/// What the IdP issued or was given, in order.
#[derive(Default)]
pub struct Known {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    values: VecDeque<Arc<Secret>>,
    /// How many values were ever remembered: `values[i]` is number `pushed - len + i`.
    pushed: u64,
    /// Bumped when the secrets not remembered here (the tenant's) change.
    statics: u64,
    /// The tenant's secrets, of generation `.0`: their own automaton, so that a tenant
    /// change (a user added for each scenario) rebuilds only it.
    tenant: Option<(u64, Option<Arc<Part>>)>,
    /// The large automaton: the values numbered below `upto`.
    base: Option<Base>,
    /// The matcher handed out last, and the number of values and the tenant generation it
    /// covers.
    current: Option<(u64, u64, Arc<Matcher>)>,
    /// How many times the large automaton and the tenant's were built (for tests).
    base_builds: u64,
    tenant_builds: u64,
}

struct Base {
    upto: u64,
    part: Option<Arc<Part>>,
}

/// A secret, with what redaction derives from it (once, when an automaton first holds it:
/// the IdP that issues it pays nothing for it).
struct Secret {
    kind: &'static str,
    value: String,
    derived: std::sync::OnceLock<Derived>,
}

struct Derived {
    /// What replaces it: `[kind:fingerprint]`.
    label: String,
    /// Its URL-encoded forms, where they differ from it.
    encoded: Vec<String>,
}

impl Secret {
    fn new(kind: &'static str, value: String) -> Self {
        Self {
            kind,
            value,
            derived: std::sync::OnceLock::new(),
        }
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| Derived {
            label: format!("[{}:{}]", self.kind, fingerprint(&self.value)),
            encoded: forms(&self.value).split_off(1),
        })
    }

    /// Form `i`: 0 the value itself, then its encoded forms.
    fn form(&self, i: usize) -> &str {
        match i {
            0 => &self.value,
            i => &self.derived().encoded[i - 1],
        }
    }
}

/// One automaton over the secrets' last bytes (their anchors), and what each anchor ends.
struct Part {
    ac: AhoCorasick,
    /// For each anchor (by pattern id): the secrets with a form that ends with it (the
    /// form's number), in the order they were given.
    ends: Vec<Vec<(Arc<Secret>, usize)>>,
}

/// The last `window` bytes of `form`, widened to a character boundary.
fn anchor(form: &str, window: usize) -> &str {
    let mut at = form.len().saturating_sub(window);
    while !form.is_char_boundary(at) {
        at -= 1;
    }
    &form[at..]
}

impl Part {
    fn build<'a>(secrets: impl IntoIterator<Item = &'a Arc<Secret>>) -> Option<Self> {
        Self::build_with(secrets, ANCHOR)
    }

    fn build_with<'a>(
        secrets: impl IntoIterator<Item = &'a Arc<Secret>>,
        window: usize,
    ) -> Option<Self> {
        let mut patterns: Vec<&str> = Vec::new();
        let mut ids: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut ends: Vec<Vec<(Arc<Secret>, usize)>> = Vec::new();
        for secret in secrets {
            for i in 0..=secret.derived().encoded.len() {
                let a = anchor(secret.form(i), window);
                let id = *ids.entry(a).or_insert_with(|| {
                    patterns.push(a);
                    ends.push(Vec::new());
                    patterns.len() - 1
                });
                ends[id].push((secret.clone(), i));
            }
        }
        if patterns.is_empty() {
            return None;
        }
        // The plain NFA: built in a fraction of the time of the faster-searching kinds,
        // while what it searches is short. Every occurrence is wanted (overlapping), and
        // the leftmost-longest choice is made over whole secrets in `Matcher::redact`.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(&patterns)
            .expect("literal patterns always build");
        Some(Self { ac, ends })
    }

    /// Every occurrence in `text` of a whole secret of this part: start, end, label.
    fn occurrences<'a>(&'a self, text: &str, out: &mut Vec<(usize, usize, &'a str)>) {
        let bytes = text.as_bytes();
        for m in self.ac.find_overlapping_iter(text) {
            for (secret, i) in &self.ends[m.pattern().as_usize()] {
                let form = secret.form(*i);
                // A form is valid UTF-8, so equal bytes start and end on character
                // boundaries of `text`.
                let Some(start) = m.end().checked_sub(form.len()) else {
                    continue;
                };
                if &bytes[start..m.end()] == form.as_bytes() {
                    out.push((start, m.end(), &secret.derived().label));
                }
            }
        }
    }
}

/// The secrets known at one moment, ready to replace (see [`crate::Redactor::snapshot`]).
///
/// It searches with up to three automata (the tenant's secrets, everything issued when the
/// large one was built, and what was issued since) as if they were one leftmost-longest
/// search over whole secrets: every occurrence of every secret is found, then the
/// leftmost is replaced (the longest of those starting there; the first given where
/// equal) and the choice goes on after it. So a secret is replaced whole even when a
/// shorter one inside it, or one overlapping it, is known too.
pub struct Matcher {
    parts: Vec<Arc<Part>>,
}

impl Matcher {
    /// `text` with every secret of this snapshot replaced by its fingerprint.
    pub fn redact(&self, text: &str) -> String {
        let mut found = Vec::new();
        for p in &self.parts {
            p.occurrences(text, &mut found);
        }
        if found.is_empty() {
            return text.to_string();
        }
        // Stable: of equal occurrences (one secret given twice), the first given wins.
        found.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (start, end, label) in found {
            if start < done {
                continue;
            }
            out.push_str(&text[done..start]);
            out.push_str(label);
            done = end;
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
        inner
            .values
            .push_back(Arc::new(Secret::new(kind, value.to_string())));
        inner.pushed += 1;
    }

    /// Something else secret changed (the tenant).
    pub fn touch(&self) {
        self.lock().statics += 1;
    }

    /// How many times the large automaton and the tenant's were built so far.
    #[cfg(test)]
    fn builds(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.base_builds, inner.tenant_builds)
    }

    /// The secrets known now, ready to replace, with `statics` giving the secrets not
    /// remembered here (the tenant's; called only when they changed, after
    /// [`Known::touch`]).
    pub fn matcher(&self, statics: impl FnOnce() -> Vec<(&'static str, String)>) -> Arc<Matcher> {
        let mut inner = self.lock();
        let (pushed, generation) = (inner.pushed, inner.statics);
        let fresh = |b: &Base| pushed - b.upto <= RECENT_MAX as u64;
        if let Some((covers, tenant, m)) = &inner.current {
            if (*covers, *tenant) == (pushed, generation) && inner.base.as_ref().is_some_and(fresh)
            {
                return m.clone();
            }
        }
        if inner.tenant.as_ref().is_none_or(|(g, _)| *g != generation) {
            inner.tenant_builds += 1;
            let secrets: Vec<Arc<Secret>> = statics()
                .into_iter()
                .map(|(kind, value)| Arc::new(Secret::new(kind, value)))
                .collect();
            inner.tenant = Some((generation, Part::build(&secrets).map(Arc::new)));
        }
        let first = pushed - inner.values.len() as u64;
        if !inner.base.as_ref().is_some_and(fresh) {
            inner.base_builds += 1;
            let part = Part::build(&inner.values).map(Arc::new);
            inner.base = Some(Base { upto: pushed, part });
        }
        let base = inner.base.as_ref().expect("built above");
        let skip = base.upto.saturating_sub(first) as usize;
        let recent = Part::build(inner.values.iter().skip(skip)).map(Arc::new);
        let tenant = inner.tenant.as_ref().and_then(|(_, p)| p.clone());
        let parts = [tenant, base.part.clone(), recent]
            .into_iter()
            .flatten()
            .collect();
        let m = Arc::new(Matcher { parts });
        inner.current = Some((pushed, generation, m.clone()));
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
            .map(|s| s.value.clone())
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
    use super::{Known, Matcher, Part, RECENT_MAX, Secret, forms};
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;
    use std::sync::Arc;

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

    /// Texts made of secrets, whole or cut, so that matches are common.
    fn text_of(secrets: &[&String], text: &str, glue: &[(usize, String)]) -> String {
        let mut text = text.to_string();
        for (i, g) in glue {
            text.push_str(secrets[i % secrets.len()]);
            text.push_str(g);
        }
        text
    }

    proptest! {
        /// Secrets over a two-letter alphabet overlap and contain one another all the
        /// time; split between the tenant's automaton, the large one and the recent one,
        /// they are replaced exactly as one automaton over all of them replaces them:
        /// never a secret cut in two, its rest left in the text.
        #[test]
        fn three_parts_replace_as_one(
            old in prop::collection::vec("[ab]{8,11}", 1..6),
            new in prop::collection::vec("[ab]{8,11}", 1..6),
            text in "[abc]{0,60}",
            glue in prop::collection::vec((0usize..12, "[abc]{0,3}"), 0..6),
        ) {
            let pool: Vec<&String> = old.iter().chain(&new).collect();
            let text = text_of(&pool, &text, &glue);
            let known = Known::default();
            for v in &old {
                known.remember("code", v);
            }
            known.matcher(statics);
            for v in &new {
                known.remember("access_token", v);
            }
            let m = known.matcher(statics);
            prop_assert_eq!(m.parts.len(), 3, "the tenant's part, a large one and a recent one");
            let mut all = statics();
            all.extend(old.iter().map(|v| ("code", v.clone())));
            all.extend(new.iter().map(|v| ("access_token", v.clone())));
            prop_assert_eq!(m.redact(&text), one_automaton(&all, &text));
        }

        /// Secrets longer than their anchor, with anchors three bytes long over a
        /// three-letter alphabet (`é` two bytes long): most anchors are shared by several
        /// secrets and found where no secret is, and each candidate is checked against the
        /// text before it. Still exactly what one automaton over the whole secrets
        /// replaces, including a secret given twice under two kinds (the first given wins)
        /// and a two-byte character cut by the anchor's window.
        #[test]
        fn short_anchors_replace_as_whole_secrets(
            first in prop::collection::vec("[ab\u{e9}]{4,14}", 1..6),
            second in prop::collection::vec("[ab\u{e9}]{4,14}", 1..6),
            text in "[ab\u{e9}c]{0,40}",
            glue in prop::collection::vec((0usize..12, "[abc]{0,3}"), 0..8),
        ) {
            let pool: Vec<&String> = first.iter().chain(&second).collect();
            let text = text_of(&pool, &text, &glue);
            let one: Vec<(&'static str, String)> =
                first.iter().map(|v| ("code", v.clone())).collect();
            let mut two: Vec<(&'static str, String)> =
                second.iter().map(|v| ("refresh_token", v.clone())).collect();
            two.push(("password", first[0].clone()));
            let part = |secrets: &[(&'static str, String)]| {
                let secrets: Vec<Arc<Secret>> =
                    secrets.iter().map(|(k, v)| Arc::new(Secret::new(k, v.clone()))).collect();
                Part::build_with(&secrets, 3).map(Arc::new)
            };
            let m = Matcher {
                parts: [part(&one), part(&two)].into_iter().flatten().collect(),
            };
            let all: Vec<(&'static str, String)> = one.into_iter().chain(two).collect();
            prop_assert_eq!(m.redact(&text), one_automaton(&all, &text));
        }
    }

    #[test]
    fn a_token_is_replaced_whole_and_only_where_it_all_is() {
        // Two tokens with the same kilobyte of header and claims, told apart by their
        // last bytes; and the first again, its start cut off.
        let head = format!("eyJhbGciOiJSUzI1NiJ9.{}", "x".repeat(900));
        let t1 = format!("{head}.signature-one-{}", "1".repeat(40));
        let t2 = format!("{head}.signature-two-{}", "2".repeat(40));
        let known = Known::default();
        known.remember("access_token", &t1);
        known.remember("id_token", &t2);
        let m = known.matcher(statics);
        let cut = &t1[10..];
        let fp = crate::journal::fingerprint;
        assert_eq!(
            m.redact(&format!("a={t1}&b={t2}&c={cut}")),
            format!(
                "a=[access_token:{}]&b=[id_token:{}]&c={cut}",
                fp(&t1),
                fp(&t2)
            )
        );
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
        assert_eq!(
            known.builds(),
            (1 + ((n - 1) / (RECENT_MAX + 1)) as u64, 1),
            "the tenant's automaton is built once"
        );
        // Nothing new: the same matcher.
        let a = known.matcher(statics);
        assert!(std::sync::Arc::ptr_eq(&a, &known.matcher(statics)));
    }

    #[test]
    fn a_tenant_change_rebuilds_only_the_tenants_automaton() {
        let known = Known::default();
        known.remember("code", "issued-value-1");
        assert!(
            !known
                .matcher(statics)
                .redact("static-secret-1")
                .contains("static")
        );
        assert_eq!(known.builds(), (1, 1));
        known.touch();
        let m = known.matcher(|| vec![("password", "new-password".to_string())]);
        assert_eq!(
            known.builds(),
            (1, 2),
            "the issued values are not searched again"
        );
        assert!(!m.redact("new-password").contains("new-password"));
        assert_eq!(
            m.redact("static-secret-1"),
            "static-secret-1",
            "gone with the tenant"
        );
        assert!(
            !m.redact("issued-value-1").contains("issued"),
            "remembered values stay"
        );
    }
}
