//! The start-up check: `PRAGMA quick_check` before the pools open. A damaged database
//! is moved aside and replaced by the newest backup that still verifies; without one
//! the server refuses to start rather than begin again with an empty database.

use anyhow::Context;
use indicatif::ProgressBar;

use super::layout::BackupRoot;
use super::restore::restore;
use crate::config::Config;
use crate::store;

/// What the check found.
#[derive(Debug)]
pub enum Health {
    Healthy,
    /// No database yet: a first start.
    Absent,
    Damaged(String),
}

/// Runs `quick_check`; errors that are not about corruption (permissions, I/O) are returned, not judged.
pub async fn diagnose(config: &Config) -> anyhow::Result<Health> {
    let path = config.database_path();
    if !path.exists() {
        return Ok(Health::Absent);
    }
    match store::maintenance::check_file(&path, false).await {
        Ok(problems) if problems.is_empty() => Ok(Health::Healthy),
        Ok(problems) => Ok(Health::Damaged(problems.join("; "))),
        Err(e) if is_corruption(&e) => Ok(Health::Damaged(e.to_string())),
        Err(e) => Err(e).with_context(|| format!("checking database {}", path.display())),
    }
}

/// SQLITE_CORRUPT (11) or SQLITE_NOTADB (26), including their extended codes.
fn is_corruption(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
    matches!(code & 0xff, 11 | 26)
}

/// Makes sure the server starts on a healthy database, restoring one when allowed.
pub async fn ensure_healthy(config: &Config) -> anyhow::Result<()> {
    let why = match diagnose(config).await? {
        Health::Healthy | Health::Absent => return Ok(()),
        Health::Damaged(why) => why,
    };
    let path = config.database_path();
    tracing::error!(database = %path.display(), problem = %why, "THE DATABASE IS DAMAGED");
    anyhow::ensure!(
        config.restore_on_corruption,
        "database {} is damaged ({why}) and restore_on_corruption is off; restore a backup with `deckd restore <BACKUP>` (see `deckd backup list`)",
        path.display()
    );
    let root = BackupRoot::new(config.backup_path());
    for candidate in root.good_newest_first()? {
        match restore(config, &candidate.path, "damaged", &ProgressBar::hidden()).await {
            Ok(done) => {
                tracing::error!(
                    backup = %done.backup.display(),
                    damaged_copy = ?done.aside,
                    media_restored = done.media_restored,
                    "THE DAMAGED DATABASE WAS REPLACED BY BACKUP {}; changes made after it are lost, the damaged file is kept",
                    candidate.name
                );
                return Ok(());
            }
            Err(e) => {
                tracing::error!(backup = %candidate.path.display(), error = %format!("{e:#}"), "backup unusable; trying an older one")
            }
        }
    }
    anyhow::bail!(
        "database {} is damaged ({why}) and no verified backup in {} could be restored; refusing to start with an empty database. \
         Restore one by hand with `deckd restore <BACKUP>`, or move the damaged file away to start empty",
        path.display(),
        root.dir().display()
    )
}

/// Before the server opens the database: take the server lock (so `deckd restore`
/// knows we run) and make sure the database is healthy. Hold the result while serving.
pub async fn prepare(config: &Config) -> anyhow::Result<super::lock::Held> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let pid_file = config.data_dir.join(super::lock::PID_FILE);
    let held = super::lock::try_lock(&pid_file)?.ok_or_else(|| {
        anyhow::anyhow!(
            "another deckd (PID {}) is serving or restoring {}",
            super::lock::holder_pid(&pid_file).map_or("unknown".to_string(), |p| p.to_string()),
            config.data_dir.display()
        )
    })?;
    ensure_healthy(config).await?;
    Ok(held)
}
