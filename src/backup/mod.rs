//! Online backups: a consistent snapshot of the database (`VACUUM INTO` on a read
//! connection, which never blocks the writer in WAL mode), the media it references
//! added once to a shared pool, everything verified before older backups are pruned.

pub mod background;
pub mod layout;
pub mod lock;
pub(crate) mod media;
pub mod restore;
pub(crate) mod retention;
pub(crate) mod space;
pub(crate) mod startup;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::media::files::FileStore;
use crate::store::{self, Db};
use layout::{name_for, sync_dir, BackupRoot, Manifest, DB_FILE, TMP_PREFIX};

/// What one successful backup did.
#[derive(Debug)]
pub struct Report {
    pub name: String,
    pub database_bytes: u64,
    pub media_files: u64,
    pub media_bytes: u64,
    pub media_added: u64,
    pub media_added_bytes: u64,
    pub pruned: retention::Pruned,
}

impl Report {
    /// One line for logs and the dashboard.
    pub fn summary(&self) -> String {
        format!(
            "backup {}: database {} bytes, {} media files ({} new), pruned {}",
            self.name,
            self.database_bytes,
            self.media_files,
            self.media_added,
            self.pruned.backups.len()
        )
    }
}

/// Takes, verifies and commits one backup, then applies retention.
pub async fn run(
    db: &Db,
    config: &Config,
    progress: &ProgressBar,
    cancel: Arc<AtomicBool>,
) -> anyhow::Result<Report> {
    let root = BackupRoot::new(config.backup_path());
    std::fs::create_dir_all(root.dir())
        .with_context(|| format!("creating backup directory {}", root.dir().display()))?;
    let _lock = lock::try_lock(&root.dir().join(".lock"))?
        .ok_or_else(|| anyhow::anyhow!("another backup is running in {}", root.dir().display()))?;
    remove_unfinished(&root)?;
    let db_estimate =
        file_len(&config.database_path()) + file_len(&config.data_dir.join("deckd.sqlite3-wal"));
    space::ensure(root.dir(), db_estimate, config.backup_min_free_bytes)?;

    let now = time::OffsetDateTime::now_utc();
    let name = unique_name(&root, now);
    let tmp = root.dir().join(format!("{TMP_PREFIX}{name}"));
    std::fs::create_dir_all(&tmp)?;
    let result = write_backup(db, config, &root, &tmp, now, progress, cancel).await;
    let (manifest, added, added_bytes) = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let final_path = root.dir().join(&name);
    std::fs::rename(&tmp, &final_path)
        .with_context(|| format!("moving the backup into place at {}", final_path.display()))?;
    sync_dir(root.dir())?;
    let pruned = retention::prune(&root, config.backup_keep)?;
    let report = Report {
        name,
        database_bytes: manifest.database_bytes,
        media_files: manifest.media.len() as u64,
        media_bytes: manifest.media_bytes,
        media_added: added,
        media_added_bytes: added_bytes,
        pruned,
    };
    tracing::info!(?report, dir = %root.dir().display(), "backup verified and stored");
    Ok(report)
}

/// Snapshot, media, verification and manifest, all inside the temporary folder.
async fn write_backup(
    db: &Db,
    config: &Config,
    root: &BackupRoot,
    tmp: &Path,
    now: time::OffsetDateTime,
    progress: &ProgressBar,
    cancel: Arc<AtomicBool>,
) -> anyhow::Result<(Manifest, u64, u64)> {
    let db_file = tmp.join(DB_FILE);
    progress.set_message("snapshot of the database");
    store::maintenance::snapshot_into(db, &db_file)
        .await
        .context("taking the database snapshot (VACUUM INTO)")?;
    std::fs::File::open(&db_file)?.sync_all()?;
    let problems = store::maintenance::check_file(&db_file, true)
        .await
        .context("checking the snapshot")?;
    anyhow::ensure!(
        problems.is_empty(),
        "the snapshot failed integrity_check: {}",
        problems.join("; ")
    );

    let media: BTreeMap<String, u64> = store::maintenance::media_in_file(&db_file)
        .await
        .context("listing the snapshot's media")?
        .into_iter()
        .map(|(h, s)| (h, s as u64))
        .collect();
    space::ensure(
        root.dir(),
        media::bytes_to_add(root, &media),
        config.backup_min_free_bytes,
    )?;
    progress.set_length(media.values().sum());
    progress.set_message("media");
    let (root2, live, media2, pb) = (
        root.clone(),
        FileStore::open(config.media_dir())?,
        media.clone(),
        progress.clone(),
    );
    let added = tokio::task::spawn_blocking(move || {
        media::add_to_pool(&root2, &live, &media2, &pb, &cancel)
    })
    .await??;
    let media: BTreeMap<String, u64> = media
        .into_iter()
        .filter(|(h, _)| !added.missing.contains(h))
        .collect();
    if !added.missing.is_empty() {
        tracing::warn!(
            count = added.missing.len(),
            "media files were removed while the backup ran; the backup omits them"
        );
    }
    let bad = media::unverified(root, &media);
    anyhow::ensure!(
        bad.is_empty(),
        "{} media files in the backup pool are missing or have the wrong size",
        bad.len()
    );

    progress.set_message("verifying");
    let database_sha256 = sha256_file(&db_file)?;
    let manifest = Manifest {
        created_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats"),
        created_unix: now.unix_timestamp(),
        deckd_version: env!("CARGO_PKG_VERSION").to_string(),
        database_bytes: file_len(&db_file),
        database_sha256,
        media_bytes: media.values().sum(),
        media,
        media_added: added.files,
        verified: true,
    };
    layout::write_manifest(tmp, &manifest)?;
    sync_dir(tmp)?;
    Ok((manifest, added.files, added.bytes))
}

/// Removes folders of backups that never finished (crash, power cut, full disk).
fn remove_unfinished(root: &BackupRoot) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(root.dir())? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX)
            && entry.file_type()?.is_dir()
        {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// A folder name for `now` that no existing backup uses.
fn unique_name(root: &BackupRoot, now: time::OffsetDateTime) -> String {
    let mut t = now;
    loop {
        let name = name_for(t);
        if !root.dir().join(&name).exists() {
            return name;
        }
        t += time::Duration::milliseconds(1);
    }
}

/// Size of a file, 0 when it does not exist.
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
