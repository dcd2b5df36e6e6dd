//! Media in backups: each file is added to the shared pool once (a hard link when the
//! pool is on the same file system, otherwise a copy checked against its MD5 name),
//! and restored from the pool into the live store.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use indicatif::ProgressBar;
use md5::{Digest, Md5};

use super::layout::{sync_dir, BackupRoot};
use crate::media::files::FileStore;

/// What adding a snapshot's media to the pool did.
#[derive(Debug, Default)]
pub struct Added {
    /// Files written into the pool by this backup.
    pub files: u64,
    pub bytes: u64,
    /// Files the snapshot lists but the live store no longer has (removed by GC meanwhile).
    pub missing: Vec<String>,
}

/// Bytes of `media` the pool does not hold yet: what a backup will have to write.
pub fn bytes_to_add(root: &BackupRoot, media: &BTreeMap<String, u64>) -> u64 {
    media
        .iter()
        .filter(|(h, size)| !pool_has(root, h, **size))
        .map(|(_, s)| *s)
        .sum()
}

fn pool_has(root: &BackupRoot, hash: &str, size: u64) -> bool {
    std::fs::metadata(root.pool_file(hash)).is_ok_and(|m| m.len() == size)
}

/// Adds every file of `media` missing from the pool; stops early when `cancel` is set.
pub fn add_to_pool(
    root: &BackupRoot,
    live: &FileStore,
    media: &BTreeMap<String, u64>,
    progress: &ProgressBar,
    cancel: &AtomicBool,
) -> anyhow::Result<Added> {
    let mut added = Added::default();
    let tmp_dir = root.dir().join(".tmp-pool");
    std::fs::create_dir_all(&tmp_dir)?;
    for (hash, &size) in media {
        anyhow::ensure!(
            !cancel.load(Ordering::Relaxed),
            "backup cancelled by shutdown"
        );
        progress.inc(size);
        if pool_has(root, hash, size) {
            continue;
        }
        let source = live.path_of(hash);
        if !source.is_file() {
            added.missing.push(hash.clone());
            continue;
        }
        let target = root.pool_file(hash);
        let dir = target.parent().expect("pool paths have a parent");
        std::fs::create_dir_all(dir)?;
        let tmp = tmp_dir.join(hash);
        let _ = std::fs::remove_file(&tmp);
        if std::fs::hard_link(&source, &tmp).is_err() {
            copy_checked(&source, &tmp, hash)
                .with_context(|| format!("copying media file {hash} into the backup"))?;
        }
        std::fs::rename(&tmp, &target)?;
        sync_dir(dir)?;
        added.files += 1;
        added.bytes += size;
    }
    let _ = std::fs::remove_dir(&tmp_dir);
    Ok(added)
}

/// Copies `from` to `to`, fsyncs, and fails unless the bytes hash to `md5_hex`.
pub fn copy_checked(from: &Path, to: &Path, md5_hex: &str) -> anyhow::Result<()> {
    let mut input = std::fs::File::open(from)?;
    let mut output = std::fs::File::create(to)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        output.write_all(&buf[..n])?;
    }
    output.sync_all()?;
    let got = hex::encode(md5.finalize());
    if got != md5_hex {
        let _ = std::fs::remove_file(to);
        anyhow::bail!("{} has MD5 {got}, not {md5_hex}", from.display());
    }
    Ok(())
}

/// Media of a manifest that is absent from the pool or has the wrong size.
pub fn unverified(root: &BackupRoot, media: &BTreeMap<String, u64>) -> Vec<String> {
    media
        .iter()
        .filter(|(h, size)| !pool_has(root, h, **size))
        .map(|(h, _)| h.clone())
        .collect()
}

/// Copies back every file of `media` the live store lacks; returns how many.
pub fn restore_from_pool(
    root: &BackupRoot,
    live: &FileStore,
    media: &BTreeMap<String, u64>,
    progress: &ProgressBar,
) -> anyhow::Result<u64> {
    let mut restored = 0;
    for (hash, &size) in media {
        progress.inc(size);
        if live.contains(hash) {
            continue;
        }
        let source = root.pool_file(hash);
        if !source.is_file() {
            tracing::warn!(
                hash,
                "media file missing from the backup pool; it stays missing"
            );
            continue;
        }
        let tmp = live.tmp_dir().join(format!("restore-{hash}"));
        copy_checked(&source, &tmp, hash)
            .with_context(|| format!("restoring media file {hash}"))?;
        let target = live.path_of(hash);
        let dir = target.parent().expect("media paths have a parent");
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&tmp, &target)?;
        sync_dir(dir)?;
        restored += 1;
    }
    Ok(restored)
}
