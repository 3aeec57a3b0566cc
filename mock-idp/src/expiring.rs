//! A map whose entries expire, with an index by expiry so that dropping the expired ones
//! costs only what is dropped (no scan of everything on every request), and caps so that
//! a stranger cannot make it grow without end: past its count or its bytes, the entry that
//! would expire first goes.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::footprint::{Footprint, heap};

/// Entries keyed by string, each with an expiry (Unix seconds of the IdP's clock).
#[derive(Debug)]
pub struct Expiring<V> {
    /// The key's one block is shared with the index.
    entries: HashMap<Arc<str>, Entry<V>>,
    /// (expiry, insertion number) → key: the soonest first.
    index: BTreeMap<(i64, u64), Arc<str>>,
    next: u64,
    cap: usize,
    /// The most the entries may hold, in bytes (see [`Self::cost`]).
    budget: usize,
    bytes: usize,
    /// How many entries went to make room for others (not by expiry or removal).
    dropped: u64,
}

#[derive(Debug)]
struct Entry<V> {
    expires_at: i64,
    n: u64,
    /// Its cost when last counted.
    bytes: usize,
    value: V,
}

impl<V: Footprint> Expiring<V> {
    /// An empty map holding at most `cap` entries and `budget` bytes.
    pub fn new(cap: usize, budget: usize) -> Self {
        Self {
            entries: HashMap::new(),
            index: BTreeMap::new(),
            next: 0,
            cap: cap.max(1),
            budget,
            bytes: 0,
            dropped: 0,
        }
    }

    /// What an entry costs: its slot in the table, twice (a table is between 7/16 and 7/8
    /// full), its element in the index with its node's share, the key's block, and what
    /// the value owns.
    fn cost(key: &str, value: &V) -> usize {
        2 * std::mem::size_of::<(Arc<str>, Entry<V>)>()
            + 48
            + heap(16 + key.len())
            + value.heap_bytes()
    }

    /// Adds or replaces `key`, expiring at `expires_at`; past the cap or the budget, the
    /// soonest to expire go.
    pub fn insert(&mut self, key: impl Into<Arc<str>>, expires_at: i64, value: V) {
        let key: Arc<str> = key.into();
        self.remove(&key);
        let bytes = Self::cost(&key, &value);
        while !self.entries.is_empty()
            && (self.entries.len() >= self.cap || self.bytes + bytes > self.budget)
        {
            let Some((_, oldest)) = self.index.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.bytes -= e.bytes;
                self.dropped += 1;
            }
        }
        let n = self.next;
        self.next += 1;
        self.index.insert((expires_at, n), key.clone());
        self.bytes += bytes;
        self.entries.insert(
            key,
            Entry {
                expires_at,
                n,
                bytes,
                value,
            },
        );
    }

    /// The value of `key`, expired or not (callers check the time they care about).
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The value of `key`, to change it; what it owns is counted again when the guard
    /// goes.
    pub fn get_mut(&mut self, key: &str) -> Option<EntryMut<'_, V>> {
        let entry = self.entries.get_mut(key)?;
        let before = entry.value.heap_bytes();
        Some(EntryMut {
            entry,
            total: &mut self.bytes,
            before,
        })
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let e = self.entries.remove(key)?;
        self.index.remove(&(e.expires_at, e.n));
        self.bytes -= e.bytes;
        Some(e.value)
    }

    /// Drops every entry that expired at or before `now`.
    pub fn prune(&mut self, now: i64) {
        while let Some(entry) = self.index.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            if let Some(e) = self.entries.remove(&key) {
                self.bytes -= e.bytes;
            }
        }
    }

    /// Keeps only the entries `keep` says to (a full scan: for rare changes, such as
    /// removing a user's sessions).
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &V) -> bool) {
        let gone: Vec<Arc<str>> = self
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

    /// What its entries hold, in bytes, as counted against its budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// What it may hold: entries and bytes.
    pub fn limits(&self) -> (usize, usize) {
        (self.cap, self.budget)
    }

    /// How many entries went, since it was made, to keep it within its cap or budget.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// When entries went to keep it within its limits, saying so for the journal:
    /// `it has forgotten the N {which}, to keep within CAP entries and M MiB`.
    pub fn forgetting(&self, which: &str) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "it has forgotten the {} {which}, to keep within {} entries and {}",
                self.dropped,
                self.cap,
                binary_size(self.budget)
            )
        })
    }
}

/// `bytes` in MiB or KiB, with a decimal only where a whole number would round it
/// (`9 MiB`, `3.8 MiB`, `6 KiB`).
fn binary_size(bytes: usize) -> String {
    let (unit, name) = if bytes >= 1 << 20 {
        (1 << 20, "MiB")
    } else {
        (1 << 10, "KiB")
    };
    if bytes % unit == 0 {
        format!("{} {name}", bytes / unit)
    } else {
        format!("{:.1} {name}", bytes as f64 / unit as f64)
    }
}

/// A value being changed in place; on drop, the map counts what it owns again.
pub struct EntryMut<'a, V: Footprint> {
    entry: &'a mut Entry<V>,
    total: &'a mut usize,
    before: usize,
}

impl<V: Footprint> Deref for EntryMut<'_, V> {
    type Target = V;
    fn deref(&self) -> &V {
        &self.entry.value
    }
}

impl<V: Footprint> DerefMut for EntryMut<'_, V> {
    fn deref_mut(&mut self) -> &mut V {
        &mut self.entry.value
    }
}

impl<V: Footprint> Drop for EntryMut<'_, V> {
    fn drop(&mut self) {
        let after = self.entry.value.heap_bytes();
        self.entry.bytes = self.entry.bytes - self.before + after;
        *self.total = *self.total - self.before + after;
    }
}

#[cfg(test)]
mod tests {
    use super::{Expiring, binary_size};

    #[test]
    fn a_budget_is_said_without_rounding_it_away() {
        assert_eq!(binary_size(9 << 20), "9 MiB");
        assert_eq!(binary_size(3_932_160), "3.8 MiB");
        assert_eq!(binary_size(6 << 10), "6 KiB");
        assert_eq!(binary_size(1536), "1.5 KiB");
    }

    #[test]
    fn expired_entries_go_and_the_cap_holds() {
        let mut m = Expiring::new(3, usize::MAX);
        m.insert("a", 10, 1i64);
        m.insert("b", 20, 2i64);
        m.insert("c", 30, 3i64);
        m.insert("d", 40, 4i64);
        assert_eq!(m.len(), 3);
        assert!(m.get("a").is_none(), "the soonest to expire made room");
        m.prune(25);
        assert_eq!(m.len(), 2);
        assert!(m.get("b").is_none() && m.get("c").is_some());
        m.insert("c", 5, 9i64);
        m.prune(6);
        assert!(
            m.get("c").is_none(),
            "a replaced entry expires by its new time"
        );
        assert_eq!(m.remove("d"), Some(4));
        assert!(m.is_empty());
        assert_eq!(m.bytes(), 0, "every byte counted in was counted out");
    }

    #[test]
    fn the_budget_holds_and_the_soonest_to_expire_make_room() {
        let entry = |n: usize| "x".repeat(n);
        let one = Expiring::<String>::cost("k0", &entry(100));
        let mut m = Expiring::new(1000, 3 * one);
        for i in 0..3 {
            m.insert(format!("k{i}"), 10 + i, entry(100));
        }
        assert_eq!((m.len(), m.bytes(), m.dropped()), (3, 3 * one, 0));
        m.insert("k3", 5, entry(100));
        assert_eq!(m.len(), 3, "one made room");
        assert_eq!(m.dropped(), 1);
        assert!(m.get("k0").is_none() && m.get("k3").is_some());
        // A large value takes the room of several.
        m.insert("big", 50, entry(250));
        assert!(m.bytes() <= 3 * one, "{} > {}", m.bytes(), 3 * one);
        assert!(m.get("big").is_some() && m.get("k2").is_some());
        assert_eq!(m.len(), 2, "two 100-byte entries made room for 250 bytes");
        assert!(m.get("k3").is_none(), "the soonest to expire went first");
        // A value grown in place is counted again.
        let before = m.bytes();
        m.get_mut("big").expect("present").push_str(&entry(200));
        assert!(m.bytes() > before);
        m.remove("big");
        m.remove("k2");
        assert_eq!(m.bytes(), 0, "the grown entry left with what it grew by");
    }
}
