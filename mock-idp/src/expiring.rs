//! A map whose entries expire, with an index by expiry so that dropping the expired ones
//! costs only what is dropped (no scan of everything on every request), and a cap so that
//! a stranger cannot make it grow without end: past the cap, the entry that would expire
//! first goes.

use std::collections::{BTreeMap, HashMap};

/// Entries keyed by string, each with an expiry (Unix seconds of the IdP's clock).
#[derive(Debug)]
pub struct Expiring<V> {
    entries: HashMap<String, Entry<V>>,
    /// (expiry, insertion number) → key: the soonest first.
    index: BTreeMap<(i64, u64), String>,
    next: u64,
    cap: usize,
}

#[derive(Debug)]
struct Entry<V> {
    expires_at: i64,
    n: u64,
    value: V,
}

impl<V> Expiring<V> {
    /// An empty map holding at most `cap` entries.
    pub fn new(cap: usize) -> Self {
        Self {
            entries: HashMap::new(),
            index: BTreeMap::new(),
            next: 0,
            cap: cap.max(1),
        }
    }

    /// Adds or replaces `key`, expiring at `expires_at`; past the cap, the soonest to
    /// expire goes.
    pub fn insert(&mut self, key: String, expires_at: i64, value: V) {
        self.remove(&key);
        while self.entries.len() >= self.cap {
            let Some((_, oldest)) = self.index.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let n = self.next;
        self.next += 1;
        self.index.insert((expires_at, n), key.clone());
        self.entries.insert(
            key,
            Entry {
                expires_at,
                n,
                value,
            },
        );
    }

    /// The value of `key`, expired or not (callers check the time they care about).
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key).map(|e| &mut e.value)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let e = self.entries.remove(key)?;
        self.index.remove(&(e.expires_at, e.n));
        Some(e.value)
    }

    /// Drops every entry that expired at or before `now`.
    pub fn prune(&mut self, now: i64) {
        while let Some(entry) = self.index.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&key);
        }
    }

    /// Keeps only the entries `keep` says to (a full scan: for rare changes, such as
    /// removing a user's sessions).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &V) -> bool) {
        let gone: Vec<String> = self
            .entries
            .iter()
            .filter(|(k, e)| !keep(k, &e.value))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Expiring;

    #[test]
    fn expired_entries_go_and_the_cap_holds() {
        let mut m = Expiring::new(3);
        m.insert("a".into(), 10, 1);
        m.insert("b".into(), 20, 2);
        m.insert("c".into(), 30, 3);
        m.insert("d".into(), 40, 4);
        assert_eq!(m.len(), 3);
        assert!(m.get("a").is_none(), "the soonest to expire made room");
        m.prune(25);
        assert_eq!(m.len(), 2);
        assert!(m.get("b").is_none() && m.get("c").is_some());
        m.insert("c".into(), 5, 9);
        m.prune(6);
        assert!(
            m.get("c").is_none(),
            "a replaced entry expires by its new time"
        );
        assert_eq!(m.remove("d"), Some(4));
        assert!(m.is_empty());
    }
}
