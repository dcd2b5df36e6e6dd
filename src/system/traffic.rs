//! Requests per minute over the last 24 hours, and how many of them were slow, for the
//! console's dashboard: at most 1,440 small counters, in memory only.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::monitor::history::MINUTES;

/// One minute's answered requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minute {
    /// Unix time of the minute's start.
    pub at: i64,
    pub requests: u32,
    /// Those slower than `slow_request_ms`.
    pub slow: u32,
}

/// The day of request counts the timing middleware feeds.
#[derive(Debug, Default)]
pub struct Traffic {
    minutes: Mutex<VecDeque<Minute>>,
}

impl Traffic {
    /// Counts one request answered at `unix` seconds.
    pub fn count(&self, unix: i64, slow: bool) {
        let at = unix.div_euclid(60) * 60;
        let mut minutes = self.minutes.lock().expect("traffic lock");
        if minutes.back().is_some_and(|last| last.at > at) {
            // The clock went back (a Pi without a battery clock before NTP): start over.
            minutes.clear();
        }
        if minutes.back().is_none_or(|last| last.at != at) {
            minutes.push_back(Minute {
                at,
                requests: 0,
                slow: 0,
            });
        }
        let current = minutes.back_mut().expect("just pushed");
        current.requests = current.requests.saturating_add(1);
        current.slow = current.slow.saturating_add(u32::from(slow));
        while minutes.len() > MINUTES {
            minutes.pop_front();
        }
    }

    /// The minutes of the 24 hours before `unix` that had requests, oldest first.
    pub fn last_day(&self, unix: i64) -> Vec<Minute> {
        let since = unix - (MINUTES as i64) * 60;
        self.minutes
            .lock()
            .expect("traffic lock")
            .iter()
            .filter(|m| m.at > since)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_minute_for_one_day() {
        let t = Traffic::default();
        t.count(600, false);
        t.count(630, true);
        t.count(660, false);
        assert_eq!(
            t.last_day(700),
            vec![
                Minute {
                    at: 600,
                    requests: 2,
                    slow: 1
                },
                Minute {
                    at: 660,
                    requests: 1,
                    slow: 0
                }
            ]
        );
        assert_eq!(t.last_day(600 + 86_400).len(), 1, "a day later");
        t.count(0, false);
        assert_eq!(t.last_day(60).len(), 1, "the clock went back");
    }
}
