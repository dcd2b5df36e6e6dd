//! The backup the console starts: one at a time, run on a task of its own so no page
//! waits for it, its progress readable while it runs.

use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use tokio_util::sync::CancellationToken;

use crate::maintenance::MaintenanceStatus;

/// The console's backup slot, and where its outcomes go.
#[derive(Debug)]
pub struct Background {
    running: Mutex<Option<Running>>,
    /// Outcomes are recorded here as the scheduler's are (STATUS=, /metrics, dashboard).
    pub status: Arc<MaintenanceStatus>,
    /// Cancelled at shutdown; a running backup then stops and cleans up.
    pub stop: CancellationToken,
}

#[derive(Debug, Clone)]
struct Running {
    started: i64,
    progress: ProgressBar,
}

/// What a running backup is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Unix seconds it started at.
    pub started: i64,
    /// The step it is at (`snapshot of the database`, `media`, `verifying`).
    pub step: String,
    /// Bytes of media copied so far, of `total`.
    pub done: u64,
    pub total: u64,
}

/// The slot held by a running backup; dropping it frees the slot.
pub struct Claim {
    owner: Arc<Background>,
    /// What the backup reports its progress to.
    pub progress: ProgressBar,
}

impl Drop for Claim {
    fn drop(&mut self) {
        *self.owner.running.lock().expect("backup slot") = None;
    }
}

impl Background {
    /// An empty slot reporting to `status`, stopped by `stop`.
    pub fn new(status: Arc<MaintenanceStatus>, stop: CancellationToken) -> Self {
        Self {
            running: Mutex::new(None),
            status,
            stop,
        }
    }

    /// Takes the slot; `None` while a backup started here still runs.
    pub fn claim(self: &Arc<Self>) -> Option<Claim> {
        let mut slot = self.running.lock().expect("backup slot");
        if slot.is_some() {
            return None;
        }
        let progress = ProgressBar::hidden();
        *slot = Some(Running {
            started: time::OffsetDateTime::now_utc().unix_timestamp(),
            progress: progress.clone(),
        });
        Some(Claim {
            owner: self.clone(),
            progress,
        })
    }

    /// The running backup's progress, if one runs.
    pub fn progress(&self) -> Option<Progress> {
        let slot = self.running.lock().expect("backup slot");
        slot.as_ref().map(|r| Progress {
            started: r.started,
            step: r.progress.message(),
            done: r.progress.position(),
            total: r.progress.length().unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_backup_at_a_time_and_the_slot_frees_itself() {
        let b = Arc::new(Background::new(Arc::default(), CancellationToken::new()));
        assert_eq!(b.progress(), None);
        let claim = b.claim().expect("free slot");
        assert!(b.claim().is_none(), "taken");
        claim.progress.set_message("media");
        claim.progress.set_length(10);
        claim.progress.set_position(4);
        let p = b.progress().unwrap();
        assert_eq!((p.step.as_str(), p.done, p.total), ("media", 4, 10));
        drop(claim);
        assert!(b.claim().is_some(), "free again");
    }
}
