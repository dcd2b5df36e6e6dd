//! The backup directory: one folder per backup (`<UTC time>/deckd.sqlite3` and
//! `manifest.json`), a shared content-addressed media pool (`media/<aa>/<md5>`), and
//! `.tmp-*` folders for backups still being written.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The database file inside a backup folder.
pub const DB_FILE: &str = "deckd.sqlite3";
/// What a backup contains and whether it was verified.
pub const MANIFEST: &str = "manifest.json";
/// Prefix of folders still being written; never listed, removed by the next backup.
pub const TMP_PREFIX: &str = ".tmp-";

/// `manifest.json`: everything needed to check and restore one backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    pub created_unix: i64,
    pub deckd_version: String,
    pub database_bytes: u64,
    pub database_sha256: String,
    /// Every media file the snapshot records: MD5 → size. The files live in the pool.
    pub media: BTreeMap<String, u64>,
    pub media_bytes: u64,
    /// Files this backup had to add to the pool (the rest were already there).
    pub media_added: u64,
    /// Set only after `integrity_check` and the size checks passed.
    pub verified: bool,
}

/// One backup folder and its manifest (absent when the folder is not a complete backup).
#[derive(Debug)]
pub struct Listed {
    pub name: String,
    pub path: PathBuf,
    pub manifest: Option<Manifest>,
}

impl Listed {
    /// Verified and its database file still has the recorded size.
    pub fn is_good(&self) -> bool {
        self.manifest.as_ref().is_some_and(|m| {
            m.verified
                && std::fs::metadata(self.path.join(DB_FILE))
                    .is_ok_and(|md| md.len() == m.database_bytes)
        })
    }
}

/// The configured backup directory.
#[derive(Debug, Clone)]
pub struct BackupRoot {
    dir: PathBuf,
}

impl BackupRoot {
    /// The backup directory at `dir` (not created).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pool copy of the media file with this MD5.
    pub fn pool_file(&self, hash: &str) -> PathBuf {
        self.dir.join("media").join(&hash[..2]).join(hash)
    }

    /// The pool root.
    pub fn pool_dir(&self) -> PathBuf {
        self.dir.join("media")
    }

    /// Complete and incomplete backups, oldest first (names are sortable UTC times).
    pub fn list(&self) -> anyhow::Result<Vec<Listed>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading backup directory {}", self.dir.display()))
            }
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() || name == "media" || name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let manifest = read_manifest(&path).ok();
            out.push(Listed {
                name,
                path,
                manifest,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Good backups, newest first: the order to try when restoring automatically.
    pub fn good_newest_first(&self) -> anyhow::Result<Vec<Listed>> {
        let mut good: Vec<Listed> = self.list()?.into_iter().filter(Listed::is_good).collect();
        good.reverse();
        Ok(good)
    }

    /// A backup named on the command line: a folder name in this directory or a path.
    pub fn resolve(&self, name: &str) -> anyhow::Result<PathBuf> {
        let inside = self.dir.join(name);
        let path = if inside.join(MANIFEST).is_file() {
            inside
        } else {
            PathBuf::from(name)
        };
        anyhow::ensure!(
            path.join(MANIFEST).is_file(),
            "{name} is not a backup (no {MANIFEST} in {} or {}); see `deckd backup list`",
            self.dir.join(name).display(),
            PathBuf::from(name).display()
        );
        Ok(path)
    }
}

/// Reads a backup folder's manifest.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read(dir.join(MANIFEST))
        .with_context(|| format!("reading {}", dir.join(MANIFEST).display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("parsing {}", dir.join(MANIFEST).display()))
}

/// Writes a manifest durably.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST);
    let mut f =
        std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(&serde_json::to_vec_pretty(manifest).expect("manifest serialises"))?;
    f.sync_all()?;
    Ok(())
}

/// Makes directory entries (renames, new files) durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// A backup folder name for `t`: UTC, sortable, safe on FAT-formatted USB sticks.
pub fn name_for(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .expect("formats")
}
