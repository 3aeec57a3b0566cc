//! What a value holds in memory, roughly, so that the IdP's stores can be capped in bytes:
//! the journal, and the codes, sessions, pending sign-ins and tokens it remembers
//! ([`crate::expiring::Expiring`]). The estimates follow glibc's malloc (see [`heap`]) and
//! count what a value owns beyond its own inline size.

/// What the allocator spends on a block of `n` bytes: glibc's malloc adds an 8-byte
/// header, rounds to 16 and hands out at least 32 (short strings such as `GET` or `ok`
/// cost 32 bytes each, not 3 or 2).
pub fn heap(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).div_ceil(16).max(2) * 16
    }
}

/// The bytes a value owns on the heap (its inline size is counted by its container).
pub trait Footprint {
    /// Its heap blocks, as malloc hands them out.
    fn heap_bytes(&self) -> usize;
}

impl Footprint for () {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Footprint for i64 {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Footprint for String {
    fn heap_bytes(&self) -> usize {
        heap(self.capacity())
    }
}

impl Footprint for Box<str> {
    fn heap_bytes(&self) -> usize {
        heap(self.len())
    }
}

impl<T: Footprint> Footprint for Option<T> {
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, T::heap_bytes)
    }
}

impl<T: Footprint> Footprint for Vec<T> {
    fn heap_bytes(&self) -> usize {
        heap(self.capacity() * std::mem::size_of::<T>())
            + self.iter().map(T::heap_bytes).sum::<usize>()
    }
}

impl<A: Footprint, B: Footprint> Footprint for (A, B) {
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes() + self.1.heap_bytes()
    }
}

impl<A: Footprint, B: Footprint, C: Footprint> Footprint for (A, B, C) {
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes() + self.1.heap_bytes() + self.2.heap_bytes()
    }
}

impl Footprint for serde_json::Value {
    fn heap_bytes(&self) -> usize {
        use serde_json::Value;
        match self {
            Value::String(s) => s.heap_bytes(),
            Value::Array(a) => {
                heap(a.capacity() * std::mem::size_of::<Value>())
                    + a.iter().map(Value::heap_bytes).sum::<usize>()
            }
            Value::Object(o) => o.heap_bytes(),
            _ => 0,
        }
    }
}

impl Footprint for serde_json::Map<String, serde_json::Value> {
    /// Each member: its key and value inline, the map's bookkeeping (with
    /// `preserve_order`, its hash and its slot in the index: ~24 bytes), and what the key
    /// and value own.
    fn heap_bytes(&self) -> usize {
        self.iter()
            .map(|(k, v)| {
                std::mem::size_of::<(String, serde_json::Value)>()
                    + 24
                    + k.heap_bytes()
                    + v.heap_bytes()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::{Footprint, heap};

    #[test]
    fn blocks_are_counted_as_malloc_hands_them_out() {
        assert_eq!(heap(0), 0);
        assert_eq!(heap(1), 32, "the smallest block");
        assert_eq!(heap(24), 32);
        assert_eq!(heap(25), 48);
        let v = vec![String::from("openid"), String::from("profile")];
        assert_eq!(v.heap_bytes(), heap(v.capacity() * 24) + 32 + 32);
        let json = serde_json::json!({"sub": "00u1alice", "scp": ["openid"]});
        assert!(json.heap_bytes() > 2 * 80, "members and their strings");
    }
}
