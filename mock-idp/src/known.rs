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

/// What the IdP issued or was given, in order.
#[derive(Default)]
pub struct Known {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    values: VecDeque<(&'static str, String)>,
    /// Bumped on every change (and tenant change), to rebuild the matcher lazily.
    generation: u64,
    matcher: Option<(u64, Arc<Matcher>)>,
}

/// The secrets known at one moment, ready to replace (see [`crate::Redactor::snapshot`]).
pub struct Matcher {
    ac: AhoCorasick,
    replacements: Vec<String>,
}

impl Matcher {
    /// `text` with every secret of this snapshot replaced by its fingerprint.
    pub fn redact(&self, text: &str) -> String {
        if self.replacements.is_empty() {
            return text.to_string();
        }
        self.ac.replace_all(text, &self.replacements)
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
        inner.generation += 1;
    }

    /// Something else secret changed (the tenant).
    pub fn touch(&self) {
        self.lock().generation += 1;
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
    /// Every secret the IdP knows, with its kind.
    fn secrets(
        &self,
        remembered: &VecDeque<(&'static str, String)>,
    ) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = remembered.iter().cloned().collect();
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

    /// The secrets known now, ready to replace (rebuilt only when they changed).
    pub fn matcher(&self) -> Arc<Matcher> {
        let mut inner = self.known.lock();
        if let Some((generation, m)) = &inner.matcher {
            if *generation == inner.generation {
                return m.clone();
            }
        }
        let mut patterns = Vec::new();
        let mut replacements = Vec::new();
        for (kind, value) in self.secrets(&inner.values) {
            let label = format!("[{kind}:{}]", fingerprint(&value));
            for f in forms(&value) {
                patterns.push(f);
                replacements.push(label.clone());
            }
        }
        // The plain NFA: built in a fraction of the time of the faster-searching kinds
        // (the matcher is rebuilt whenever something new was issued, up to every
        // scenario, over up to 10,000 values), while what it searches is short.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(&patterns)
            .expect("literal patterns always build");
        let m = Arc::new(Matcher { ac, replacements });
        inner.matcher = Some((inner.generation, m.clone()));
        m
    }

    /// `text` with every secret the IdP knows replaced by its fingerprint.
    pub fn redact_known(&self, text: &str) -> String {
        self.matcher().redact(text)
    }

    /// Every secret the IdP knows, in every form it takes in text (for a browser to blank
    /// them out of a page before a screenshot).
    pub fn known_forms(&self) -> Vec<String> {
        let inner = self.known.lock();
        self.secrets(&inner.values)
            .into_iter()
            .flat_map(|(_, v)| forms(&v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::forms;

    #[test]
    fn a_secret_has_its_encoded_forms() {
        assert_eq!(forms("abc"), vec!["abc"]);
        assert_eq!(forms("a b/c"), vec!["a b/c", "a%20b%2Fc", "a+b%2Fc"]);
    }
}
