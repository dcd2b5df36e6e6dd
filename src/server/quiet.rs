//! Giving memory back once requests stop: pages, pulls and publishes free their buffers
//! into the allocator, which keeps them in RSS until it is asked to trim, and SQLite
//! connections keep the pages they read until told to let them go or closed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::store::{Db, READERS_CLOSED_WITHIN};
use crate::system::allocator;

/// How often the task looks at the request count; a trim waits for one look without a
/// new request, so a busy server never pays for one.
const LOOK: Duration = Duration::from_secs(2);

/// Closes idle SQLite read connections and trims the allocator once no request has
/// started for a while, and again once the connections busy then have timed out;
/// `started` counts requests.
pub async fn trim_when_quiet(db: Db, started: Arc<AtomicU64>, stop: CancellationToken) {
    let mut looks = tokio::time::interval(LOOK);
    looks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seen = started.load(Ordering::Relaxed);
    let mut due: Vec<Instant> = Vec::new();
    loop {
        tokio::select! {
            now = looks.tick() => {
                let count = started.load(Ordering::Relaxed);
                if count != seen {
                    seen = count;
                    due = vec![now + LOOK, now + READERS_CLOSED_WITHIN];
                } else if due.first().is_some_and(|&at| now >= at) {
                    due.remove(0);
                    if let Err(e) = db.release_idle_connections().await {
                        tracing::debug!(error = %e, "closing idle SQLite connections failed");
                    }
                    let _ = tokio::task::spawn_blocking(allocator::release_freed).await;
                }
            }
            _ = stop.cancelled() => return,
        }
    }
}
