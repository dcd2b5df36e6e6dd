//! Bounded shares per key (a client address, an account): how many of something each
//! holds at once, so that one of them cannot take everything the box has.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// At most `max` held at once per key.
pub struct Shares<K> {
    held: Arc<Mutex<HashMap<K, usize>>>,
    max: usize,
}

/// One share; dropping it gives it back to its key.
pub struct Share<K: Hash + Eq> {
    held: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

impl<K: Hash + Eq + Copy> Shares<K> {
    /// Each key holds at most `max` shares.
    pub fn new(max: usize) -> Self {
        Self {
            held: Arc::default(),
            max,
        }
    }

    /// A share for `key`, or `None` when it already holds `max`.
    pub fn take(&self, key: K) -> Option<Share<K>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Share {
            held: self.held.clone(),
            key,
        })
    }
}

impl<K: Hash + Eq> Drop for Share<K> {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_its_share_and_gets_it_back_and_forgets_it_when_none_is_held() {
        let shares = Shares::new(2);
        let first = shares.take(7).unwrap();
        let second = shares.take(7).unwrap();
        assert!(shares.take(7).is_none(), "a third share was given");
        assert!(
            shares.take(8).is_some(),
            "another key shares the first's count"
        );
        drop(first);
        let third = shares.take(7).expect("a dropped share was not given back");
        drop((second, third));
        assert!(
            shares.held.lock().unwrap().is_empty(),
            "keys holding nothing are remembered"
        );
    }
}
