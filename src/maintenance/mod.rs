//! One in-process scheduler for the jobs that keep an unattended Pi healthy: hourly
//! checkpoint and vacuum, daily purges and media GC, and backups. Jobs run one at a
//! time, are postponed while the system is under pressure, and report to
//! [`MaintenanceStatus`].

pub mod jobs;
pub(crate) mod status;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::backup::layout::BackupRoot;
use crate::config::Config;
use crate::media::Media;
use crate::store::Db;
pub use status::MaintenanceStatus;

/// Answers whether the system is under pressure right now (memory, CPU, I/O).
pub type Pressure = Arc<dyn Fn() -> bool + Send + Sync>;

/// How long a job waits after being skipped for pressure.
const PRESSURE_RETRY: Duration = Duration::from_secs(300);

/// The jobs, in the order they are due by default.
#[derive(Debug, Clone, Copy)]
enum Job {
    Compact,
    Cleanup,
    MediaGc,
    Backup,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Compact => "compact",
            Job::Cleanup => "cleanup",
            Job::MediaGc => "media_gc",
            Job::Backup => "backup",
        }
    }

    /// None when the job is disabled.
    fn interval(self, c: &Config) -> Option<Duration> {
        match self {
            Job::Compact => Some(c.maintenance_interval_secs),
            Job::Cleanup | Job::MediaGc => Some(c.cleanup_interval_secs),
            Job::Backup => (!c.backup_interval_hours.is_zero()).then_some(c.backup_interval_hours),
        }
    }
}

/// What the scheduler works on.
pub struct Maintenance {
    pub db: Db,
    pub media: Arc<Media>,
    pub config: Arc<Config>,
    pub status: Arc<MaintenanceStatus>,
    pub pressure: Pressure,
}

/// Starts the scheduler; it stops (cancelling a running backup) when `stop` turns true.
pub fn spawn(m: Maintenance, stop: CancellationToken) -> JoinHandle<()> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let watcher = stop.clone();
    tokio::spawn(async move {
        watcher.cancelled().await;
        flag.store(true, Ordering::Relaxed);
    });
    tokio::spawn(async move {
        let newest = BackupRoot::new(m.config.backup_path())
            .good_newest_first()
            .ok()
            .and_then(|g| {
                g.first()
                    .and_then(|b| b.manifest.as_ref().map(|m| m.created_unix))
            });
        m.status.set_last_good_backup(newest);
        let start = Instant::now();
        let mut due: Vec<(Job, Duration, Instant)> =
            [Job::Compact, Job::Cleanup, Job::MediaGc, Job::Backup]
                .into_iter()
                .filter_map(|j| {
                    j.interval(&m.config)
                        .map(|every| (j, every, start + first_delay(j, every, &m.config, newest)))
                })
                .collect();
        tracing::info!(jobs = ?due.iter().map(|(j, every, _)| (j.name(), every.as_secs())).collect::<Vec<_>>(), "maintenance scheduler started");
        while let Some(next) = due
            .iter()
            .enumerate()
            .min_by_key(|(_, d)| d.2)
            .map(|(i, _)| i)
        {
            tokio::select! {
                () = tokio::time::sleep_until(due[next].2) => {}
                _ = stop.cancelled() => break,
            }
            let (job, every, _) = due[next];
            if (m.pressure)() {
                tracing::info!(
                    job = job.name(),
                    "system under pressure; postponing maintenance job"
                );
                m.status.record_skip(job.name());
                due[next].2 = Instant::now() + every.min(PRESSURE_RETRY);
                continue;
            }
            let outcome = run(job, &m, cancel.clone()).await;
            match &outcome {
                Ok(msg) => tracing::info!(job = job.name(), "{msg}"),
                Err(e) => tracing::error!(job = job.name(), error = %e, "maintenance job failed"),
            }
            m.status.record(job.name(), outcome);
            due[next].2 = Instant::now() + every;
        }
    })
}

/// The first run: after one interval, but no later than the configured start delay
/// (a Pi that reboots daily still gets its daily jobs); a backup is due one interval
/// after the newest one.
fn first_delay(job: Job, every: Duration, c: &Config, newest_backup: Option<i64>) -> Duration {
    let soon = every.min(c.maintenance_start_delay_secs);
    match (job, newest_backup) {
        (Job::Backup, Some(t)) => {
            let age = (time::OffsetDateTime::now_utc().unix_timestamp() - t).max(0) as u64;
            every.saturating_sub(Duration::from_secs(age)).max(soon)
        }
        _ => soon,
    }
}

async fn run(job: Job, m: &Maintenance, cancel: Arc<AtomicBool>) -> Result<String, String> {
    let result = match job {
        Job::Compact => jobs::compact(&m.db).await,
        Job::Cleanup => jobs::cleanup(&m.db, &m.config).await,
        Job::MediaGc => jobs::media_gc(&m.db, &m.media, &m.config).await,
        Job::Backup => jobs::backup(&m.db, &m.config, cancel).await,
    };
    result.map_err(|e| format!("{e:#}"))
}
