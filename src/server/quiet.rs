//! Giving memory back when the last client has gone: pages, pulls and publishes free
//! their buffers into the allocator, which keeps them in RSS until it is asked to trim,
//! and the read connections free their page caches only when they close.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::store::READERS_CLOSED_WITHIN;
use crate::system::allocator;

/// How long the server must stay without an open connection before it trims, so a
/// client that reconnects at once does not pay for a trim it did not need.
const QUIET: Duration = Duration::from_secs(1);

/// Trims the allocator once every connection slot has been free for `QUIET`, and again
/// once the idle read connections have closed, unless a client came back meanwhile.
pub async fn trim_when_quiet(
    slots: Arc<Semaphore>,
    max: usize,
    last_left: Arc<Notify>,
    stop: CancellationToken,
) {
    let idle = || slots.available_permits() == max;
    loop {
        tokio::select! {
            _ = last_left.notified() => {}
            _ = stop.cancelled() => return,
        }
        for wait in [QUIET, READERS_CLOSED_WITHIN] {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.cancelled() => return,
            }
            if !idle() {
                break;
            }
            let _ = tokio::task::spawn_blocking(allocator::release_freed).await;
        }
    }
}
