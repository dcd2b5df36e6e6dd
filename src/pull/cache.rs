//! A size-bounded cache of full-pull answers. Every new subscriber asks for the whole
//! deck; that answer only changes when the deck does, so it is built once.

use std::collections::HashMap;

use bytes::Bytes;

use crate::store::Micros;

/// What a cached answer depends on: the deck's clock and its newest changelog.
pub type Version = (Micros, i64);

struct Entry {
    version: Version,
    body: Bytes,
    last_used: u64,
}

/// Least-recently-used eviction by total bytes.
pub struct PullCache {
    entries: HashMap<String, Entry>,
    bytes: usize,
    limit: usize,
    clock: u64,
}

impl PullCache {
    pub fn new(limit: usize) -> Self {
        Self {
            entries: HashMap::new(),
            bytes: 0,
            limit,
            clock: 0,
        }
    }

    /// The cached answer for a deck if it is still current.
    pub fn get(&mut self, hash: &str, version: Version) -> Option<Bytes> {
        self.clock += 1;
        let clock = self.clock;
        let e = self.entries.get_mut(hash)?;
        if e.version != version {
            let stale = self.entries.remove(hash).expect("present");
            self.bytes -= stale.body.len();
            return None;
        }
        e.last_used = clock;
        Some(e.body.clone())
    }

    /// Stores an answer, evicting the least recently used ones to stay under the limit.
    pub fn put(&mut self, hash: &str, version: Version, body: Bytes) {
        if body.len() > self.limit {
            return;
        }
        if let Some(old) = self.entries.remove(hash) {
            self.bytes -= old.body.len();
        }
        while self.bytes + body.len() > self.limit {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            let e = self.entries.remove(&oldest).expect("present");
            self.bytes -= e.body.len();
        }
        self.clock += 1;
        self.bytes += body.len();
        self.entries.insert(
            hash.to_string(),
            Entry {
                version,
                body,
                last_used: self.clock,
            },
        );
    }

    /// Drops every entry (memory is short); returns the bytes released.
    pub fn clear(&mut self) -> usize {
        self.entries.clear();
        std::mem::take(&mut self.bytes)
    }

    /// The largest answer worth keeping.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_and_invalidates() {
        let mut c = PullCache::new(10);
        c.put("a", (Micros(1), 0), Bytes::from_static(b"aaaa"));
        c.put("b", (Micros(1), 0), Bytes::from_static(b"bbbb"));
        assert!(c.get("a", (Micros(1), 0)).is_some());
        c.put("c", (Micros(1), 0), Bytes::from_static(b"cccc"));
        assert!(
            c.get("b", (Micros(1), 0)).is_none(),
            "least recently used goes first"
        );
        assert!(
            c.get("a", (Micros(2), 0)).is_none(),
            "a newer deck clock invalidates"
        );
        c.put("huge", (Micros(1), 0), Bytes::from(vec![0; 11]));
        assert!(c.get("huge", (Micros(1), 0)).is_none());
    }

    #[test]
    fn clear_releases_everything_and_the_cache_refills() {
        let mut c = PullCache::new(10);
        c.put("a", (Micros(1), 0), Bytes::from_static(b"aaaa"));
        c.put("b", (Micros(1), 0), Bytes::from_static(b"bb"));
        assert_eq!(c.clear(), 6);
        assert!(c.get("a", (Micros(1), 0)).is_none());
        assert_eq!(c.clear(), 0);
        c.put("a", (Micros(1), 0), Bytes::from_static(b"aaaa"));
        assert!(c.get("a", (Micros(1), 0)).is_some());
    }
}
