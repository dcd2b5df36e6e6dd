//! Reclaiming media nothing uses: mark files without a live note, delete those still
//! unused after the grace period, and sweep abandoned temporary uploads and stray files.
//! Deletions happen while holding the database write lock, which a PUT also takes
//! before moving a file into place, so the two never race — even across processes —
//! and after every deck archive build that is copying stored files has finished.

use std::time::{Duration, SystemTime};

use anyhow::Context;

use super::names::is_md5_hex;
use super::{today, Media};
use crate::store::{self, Db, Micros};

/// Files deleted per write transaction, so requests never wait long behind GC.
const BATCH: i64 = 200;
/// A temporary upload this old belongs to nobody.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);

/// What one GC run did.
#[derive(Debug, Default)]
pub struct GcReport {
    pub newly_orphaned: u64,
    pub revived: u64,
    pub removed_files: u64,
    pub removed_bytes: u64,
    pub stale_uploads: u64,
    pub stray_files: u64,
}

impl Media {
    /// One full GC pass with the given grace period.
    pub async fn gc(&self, db: &Db, grace: Duration) -> anyhow::Result<GcReport> {
        let mut report = GcReport::default();
        let now = Micros::now();
        let mut tx = db.begin_write().await?;
        (report.newly_orphaned, report.revived) = store::media::mark_orphans(&mut tx, now).await?;
        store::media::purge_expired_batches(&mut tx, now).await?;
        store::media::purge_usage(&mut tx, today() - 2).await?;
        tx.commit().await?;

        let cutoff = now - grace;
        let _no_archive_reads = self.lock_for_deletion().await;
        loop {
            let mut tx = db.begin_write().await?;
            let doomed = store::media::expired_orphans(&mut tx, cutoff, BATCH).await?;
            for f in &doomed {
                store::media::delete_file(&mut tx, f.id).await?;
                self.files
                    .remove(&f.hash)
                    .with_context(|| format!("removing media file {}", f.hash))?;
                report.removed_files += 1;
                report.removed_bytes += f.size as u64;
            }
            tx.commit().await?;
            if (doomed.len() as i64) < BATCH {
                break;
            }
        }
        report.stale_uploads = self.sweep_stale_uploads()?;
        report.stray_files = self.sweep_stray_files(db, grace).await?;
        tracing::info!(?report, "media gc finished");
        Ok(report)
    }

    fn sweep_stale_uploads(&self) -> anyhow::Result<u64> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.files.tmp_dir())? {
            let entry = entry?;
            if older_than(&entry, STALE_UPLOAD) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Files on disk without a row (left by a crash between rename and commit).
    async fn sweep_stray_files(&self, db: &Db, grace: Duration) -> anyhow::Result<u64> {
        let mut candidates = Vec::new();
        for dir in std::fs::read_dir(self.files.root())? {
            let dir = dir?;
            let name = dir.file_name();
            if name.len() != 2 || !dir.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(dir.path())? {
                let entry = entry?;
                let hash = entry.file_name().to_string_lossy().into_owned();
                if is_md5_hex(&hash) && older_than(&entry, grace) {
                    candidates.push(hash);
                }
            }
        }
        let mut removed = 0;
        for chunk in candidates.chunks(BATCH as usize) {
            let mut tx = db.begin_write().await?;
            let list = serde_json::to_string(chunk).expect("strings serialise");
            let known: std::collections::HashSet<String> =
                store::media::known_hashes(&mut tx, &list)
                    .await?
                    .into_iter()
                    .collect();
            for hash in chunk.iter().filter(|h| !known.contains(*h)) {
                self.files.remove(hash)?;
                removed += 1;
            }
            tx.commit().await?;
        }
        Ok(removed)
    }
}

fn older_than(entry: &std::fs::DirEntry, age: Duration) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= age)
        .unwrap_or(false)
}
