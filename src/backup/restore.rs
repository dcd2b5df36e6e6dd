//! Restoring a backup into the data directory: check the backup, keep the current
//! database aside (never deleted), move the copy into place, bring back missing
//! media, and check the result. The caller makes sure no server is running.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::ProgressBar;

use super::layout::{read_manifest, sync_dir, BackupRoot, DB_FILE};
use super::{media, sha256_file};
use crate::config::Config;
use crate::media::files::FileStore;
use crate::store;

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub backup: PathBuf,
    /// Where the previous database files were moved (None when there were none).
    pub aside: Option<PathBuf>,
    pub media_restored: u64,
}

/// The database file and its WAL companions, which must move together.
const DB_FILES: [&str; 3] = ["deckd.sqlite3", "deckd.sqlite3-wal", "deckd.sqlite3-shm"];

/// Restores the backup folder `backup`; the current database goes to `<data_dir>/<label>-<time>/`.
pub async fn restore(
    config: &Config,
    backup: &Path,
    label: &str,
    progress: &ProgressBar,
) -> anyhow::Result<Restored> {
    let manifest = read_manifest(backup)?;
    anyhow::ensure!(
        manifest.verified,
        "backup {} was never verified; refusing to restore it",
        backup.display()
    );
    std::fs::create_dir_all(&config.data_dir)?;
    let staged = config.data_dir.join("deckd.sqlite3.restoring");
    progress.set_message("copying the database");
    std::fs::copy(backup.join(DB_FILE), &staged)
        .with_context(|| format!("copying {}", backup.join(DB_FILE).display()))?;
    std::fs::File::open(&staged)?.sync_all()?;
    let checked = check_copy(&staged, &manifest.database_sha256).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&staged);
        return Err(e.context(format!("backup {} is damaged", backup.display())));
    }

    let aside = move_aside(&config.data_dir, label)?;
    std::fs::rename(&staged, config.database_path())?;
    sync_dir(&config.data_dir)?;

    progress.set_message("media");
    progress.set_length(manifest.media_bytes);
    let root = BackupRoot::new(backup.parent().map(Path::to_path_buf).unwrap_or_default());
    let live = FileStore::open(config.media_dir())?;
    let (pb, files) = (progress.clone(), manifest.media.clone());
    let media_restored =
        tokio::task::spawn_blocking(move || media::restore_from_pool(&root, &live, &files, &pb))
            .await??;

    progress.set_message("verifying the restored database");
    let problems = store::maintenance::check_file(&config.database_path(), true).await?;
    anyhow::ensure!(
        problems.is_empty(),
        "the restored database failed integrity_check: {}",
        problems.join("; ")
    );
    Ok(Restored {
        backup: backup.to_path_buf(),
        aside,
        media_restored,
    })
}

/// The copy must hash as recorded and pass `integrity_check`.
async fn check_copy(path: &Path, sha256: &str) -> anyhow::Result<()> {
    let got = sha256_file(path)?;
    anyhow::ensure!(
        got == sha256,
        "database file has SHA-256 {got}, the manifest says {sha256}"
    );
    let problems = store::maintenance::check_file(path, true).await?;
    anyhow::ensure!(
        problems.is_empty(),
        "integrity_check: {}",
        problems.join("; ")
    );
    Ok(())
}

/// Moves the database and its WAL files into a new folder; None when there was no database.
pub fn move_aside(data_dir: &Path, label: &str) -> anyhow::Result<Option<PathBuf>> {
    if !data_dir.join(DB_FILES[0]).exists() {
        return Ok(None);
    }
    let stamp = super::layout::name_for(time::OffsetDateTime::now_utc());
    let dir = data_dir.join(format!("{label}-{stamp}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for name in DB_FILES {
        let from = data_dir.join(name);
        if from.exists() {
            std::fs::rename(&from, dir.join(name))
                .with_context(|| format!("moving {} aside", from.display()))?;
        }
    }
    sync_dir(&dir)?;
    sync_dir(data_dir)?;
    Ok(Some(dir))
}
