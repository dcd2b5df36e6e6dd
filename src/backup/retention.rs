//! Retention: keep the newest `keep` good backups, delete older ones, then drop pool
//! files no remaining backup lists. Runs only right after a new backup verified, so
//! the newest good backup is never among the deleted.

use std::collections::HashSet;

use anyhow::Context;

use super::layout::BackupRoot;

/// What pruning removed.
#[derive(Debug, Default)]
pub struct Pruned {
    pub backups: Vec<String>,
    pub pool_files: u64,
}

/// Deletes all but the newest `keep` (at least one) good backups and unreferenced pool files.
pub fn prune(root: &BackupRoot, keep: usize) -> anyhow::Result<Pruned> {
    let mut pruned = Pruned::default();
    let good: Vec<_> = root.list()?.into_iter().filter(|b| b.is_good()).collect();
    let excess = good.len().saturating_sub(keep.max(1));
    for old in &good[..excess] {
        std::fs::remove_dir_all(&old.path)
            .with_context(|| format!("removing old backup {}", old.path.display()))?;
        pruned.backups.push(old.name.clone());
    }
    // Every remaining folder's manifest counts, good or not, so nothing still listed disappears.
    let mut wanted = HashSet::new();
    for b in root.list()? {
        if let Some(m) = b.manifest {
            wanted.extend(m.media.into_keys());
        }
    }
    pruned.pool_files = sweep_pool(root, &wanted)?;
    Ok(pruned)
}

fn sweep_pool(root: &BackupRoot, wanted: &HashSet<String>) -> anyhow::Result<u64> {
    let mut removed = 0;
    let Ok(dirs) = std::fs::read_dir(root.pool_dir()) else {
        return Ok(0);
    };
    for dir in dirs {
        let dir = dir?;
        if !dir.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())? {
            let file = file?;
            if !wanted.contains(file.file_name().to_string_lossy().as_ref()) {
                std::fs::remove_file(file.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
