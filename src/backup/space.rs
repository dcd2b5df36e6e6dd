//! Free-space checks, so a backup never fills the disk it writes to.

use std::path::Path;

use anyhow::Context;

/// Bytes available to this process on the file system holding `dir`.
pub fn available(dir: &Path) -> anyhow::Result<u64> {
    let st = nix::sys::statvfs::statvfs(dir)
        .with_context(|| format!("checking free space on {}", dir.display()))?;
    Ok((st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64))
}

/// Fails unless writing `needed` bytes to `dir` still leaves `reserve` bytes free.
pub fn ensure(dir: &Path, needed: u64, reserve: u64) -> anyhow::Result<()> {
    let free = available(dir)?;
    anyhow::ensure!(
        free >= needed.saturating_add(reserve),
        "not enough free space in {}: {free} bytes free, the backup needs {needed} bytes plus the {reserve} bytes kept free (backup_min_free_bytes)",
        dir.display()
    );
    Ok(())
}
