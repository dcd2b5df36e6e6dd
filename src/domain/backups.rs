//! Backups: taking one, listing them and restoring one, for the box's administrator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::ProgressBar;

use super::{require_admin, Actor, DomainError, DomainResult};
use crate::backup::background::Background;
use crate::backup::layout::{BackupRoot, Listed};
use crate::backup::lock::Held;
use crate::backup::restore::Restored;
use crate::backup::{self, Report};
use crate::config::Config;
use crate::store::Db;

/// Takes, verifies and keeps one backup (safe while the server runs), then prunes old ones.
pub async fn take(
    db: &Db,
    config: &Config,
    actor: Actor,
    progress: &ProgressBar,
    cancel: Arc<AtomicBool>,
) -> DomainResult<Report> {
    require_admin(db, actor).await?;
    Ok(backup::run(db, config, progress, cancel).await?)
}

/// Starts [`take`] on a task of its own (the console's "Back up now"), so no request
/// waits for it; its progress is in `background`, its outcome is recorded like a
/// scheduled backup's.
pub async fn start(
    db: &Db,
    config: &Arc<Config>,
    actor: Actor,
    background: &Arc<Background>,
) -> DomainResult<()> {
    require_admin(db, actor).await?;
    let claim = background.claim().ok_or(DomainError::BackupRunning)?;
    let (db, config, background) = (db.clone(), config.clone(), background.clone());
    tokio::spawn(async move {
        let cancel = Arc::new(AtomicBool::new(false));
        let (flag, stop) = (cancel.clone(), background.stop.clone());
        let watcher = tokio::spawn(async move {
            stop.cancelled().await;
            flag.store(true, Ordering::Relaxed);
        });
        let outcome = take(&db, &config, actor, &claim.progress, cancel).await;
        watcher.abort();
        match &outcome {
            Ok(r) => tracing::info!(job = "backup", "{}", r.summary()),
            Err(e) => tracing::error!(job = "backup", error = %e, "backup failed"),
        }
        background.status.record(
            "backup",
            outcome
                .map(|r| r.summary())
                .map_err(|e| format!("{:#}", anyhow::Error::from(e))),
        );
        drop(claim);
    });
    Ok(())
}

/// Every backup in the backup directory, verified or not, oldest first.
pub async fn list(db: &Db, config: &Config, actor: Actor) -> DomainResult<Vec<Listed>> {
    require_admin(db, actor).await?;
    Ok(BackupRoot::new(config.backup_path()).list()?)
}

/// Replaces the database with the backup `name` (a folder name or a path). Only the
/// administrator at the box may: no account can vouch for itself while its database
/// is being replaced, and `server_lock` proves no server is reading it meanwhile.
pub async fn restore(
    config: &Config,
    actor: Actor,
    name: &str,
    _server_lock: &Held,
    progress: &ProgressBar,
) -> DomainResult<Restored> {
    if actor != Actor::Admin {
        return Err(DomainError::NotAdmin);
    }
    let backup = BackupRoot::new(config.backup_path()).resolve(name)?;
    Ok(backup::restore::restore(config, &backup, "pre-restore", progress).await?)
}
