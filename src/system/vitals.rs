//! Shared live figures: counted by the HTTP layer, read by the monitor and the
//! load-shedding middleware.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::traffic::Traffic;

/// Requests served so far and whether memory is short right now.
#[derive(Debug, Default)]
pub struct Vitals {
    requests: AtomicU64,
    memory_pressure: AtomicBool,
    /// Requests and slow requests per minute, for the console's dashboard.
    pub traffic: Traffic,
}

impl Vitals {
    /// Counts one answered request for the status line and the dashboard.
    pub fn count_request(&self, slow: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.traffic
            .count(time::OffsetDateTime::now_utc().unix_timestamp(), slow);
    }

    /// Requests answered since start (health probes excluded).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// True while large uploads must be refused to keep the process alive.
    pub fn under_memory_pressure(&self) -> bool {
        self.memory_pressure.load(Ordering::Relaxed)
    }

    /// Sets the pressure flag; returns the previous value so callers log changes once.
    pub fn set_memory_pressure(&self, on: bool) -> bool {
        self.memory_pressure.swap(on, Ordering::Relaxed)
    }
}
