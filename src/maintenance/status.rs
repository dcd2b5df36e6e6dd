//! What maintenance has done, shared with whoever reports it (STATUS=, /metrics, logs).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The last runs of each job and the backup outcome; cheap to read from any thread.
#[derive(Debug, Default)]
pub struct MaintenanceStatus {
    inner: Mutex<Snapshot>,
}

/// A copy of the status at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Per job name (`compact`, `cleanup`, `media_gc`, `backup`).
    pub jobs: BTreeMap<&'static str, JobRuns>,
    /// Unix seconds of the newest verified backup (scheduled, or found on disk at start).
    pub last_good_backup: Option<i64>,
    /// The error of the last backup attempt, cleared by the next success.
    pub backup_error: Option<String>,
    /// Unix seconds and error of the latest failed backup since start, kept after a success.
    pub last_backup_failure: Option<(i64, String)>,
}

/// Counters and the last outcome of one job.
#[derive(Debug, Clone, Default)]
pub struct JobRuns {
    pub runs: u64,
    pub failures: u64,
    /// Runs postponed because the system was under pressure.
    pub skipped: u64,
    pub last_run: Option<i64>,
    pub last_success: Option<i64>,
    /// What the last run did, or why it failed.
    pub last_message: String,
    pub last_ok: bool,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl MaintenanceStatus {
    /// A consistent copy for reporting.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.lock().expect("status lock").clone()
    }

    /// Records the outcome of a job run.
    pub fn record(&self, job: &'static str, outcome: Result<String, String>) {
        let mut s = self.inner.lock().expect("status lock");
        let t = now();
        let runs = s.jobs.entry(job).or_default();
        runs.runs += 1;
        runs.last_run = Some(t);
        runs.last_ok = outcome.is_ok();
        match outcome {
            Ok(msg) => {
                runs.last_success = Some(t);
                runs.last_message = msg;
                if job == "backup" {
                    s.last_good_backup = Some(t);
                    s.backup_error = None;
                }
            }
            Err(msg) => {
                runs.failures += 1;
                runs.last_message = msg.clone();
                if job == "backup" {
                    s.last_backup_failure = Some((t, msg.clone()));
                    s.backup_error = Some(msg);
                }
            }
        }
    }

    /// Records that a job was postponed because the system was under pressure.
    pub fn record_skip(&self, job: &'static str) {
        self.inner
            .lock()
            .expect("status lock")
            .jobs
            .entry(job)
            .or_default()
            .skipped += 1;
    }

    /// Seeds the newest good backup found on disk at start.
    pub fn set_last_good_backup(&self, unix: Option<i64>) {
        self.inner.lock().expect("status lock").last_good_backup = unix;
    }

    /// One short line for systemd's `STATUS=`: backup age, or the failure.
    pub fn status_line(&self) -> String {
        let s = self.snapshot();
        match (&s.backup_error, s.last_good_backup) {
            (Some(e), _) => format!("BACKUP FAILED: {e}"),
            (None, Some(t)) => format!("last backup {}h ago", (now() - t).max(0) / 3600),
            (None, None) => "no backup yet".to_string(),
        }
    }
}
