//! The one way deckd stores a moment: unix microseconds in an `INTEGER` column.

use std::ops::{Add, Sub};
use std::time::Duration;

/// A stored instant, microseconds since the unix epoch in UTC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct Micros(pub i64);

impl Micros {
    /// Before anything deckd stored: "since the beginning" in every comparison.
    pub const BEGINNING: Micros = Micros(i64::MIN);

    /// The current time.
    pub fn now() -> Self {
        let now = time::OffsetDateTime::now_utc();
        Micros((now.unix_timestamp_nanos() / 1_000) as i64)
    }

    /// Whole seconds since the epoch, for answers that count in seconds.
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// How long ago `earlier` was, zero if it lies ahead.
    pub fn since(self, earlier: Micros) -> Duration {
        Duration::from_micros(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }
}

fn micros_of(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Add<Duration> for Micros {
    type Output = Micros;
    fn add(self, d: Duration) -> Micros {
        Micros(self.0.saturating_add(micros_of(d)))
    }
}

impl Sub<Duration> for Micros {
    type Output = Micros;
    fn sub(self, d: Duration) -> Micros {
        Micros(self.0.saturating_sub(micros_of(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_counts_microseconds() {
        let t = Micros(1_672_531_199_500_000);
        assert_eq!(t.as_secs(), 1_672_531_199);
        assert_eq!((t + Duration::from_secs(1)).0, 1_672_531_200_500_000);
        assert_eq!(
            t.since(t - Duration::from_millis(3)),
            Duration::from_millis(3)
        );
        assert_eq!(t.since(t + Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(Micros(i64::MAX) + Duration::from_secs(1), Micros(i64::MAX));
        assert_eq!(Micros(-1).as_secs(), -1);
    }
}
