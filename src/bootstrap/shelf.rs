//! Archives on disk: `<media>/archives/<deck id>-<version tag>.zip`, written as hidden
//! `.….tmp` files and renamed into place, kept within a byte budget.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use crate::store::DeckId;

/// The archive directory and its budget.
pub struct Shelf {
    dir: PathBuf,
    budget: u64,
    accel_prefix: String,
}

/// An archive found on disk.
#[derive(Debug)]
pub struct Shelved {
    pub path: PathBuf,
    pub deck: DeckId,
    pub tag: String,
    pub bytes: u64,
    /// When it was last built or served.
    pub used: SystemTime,
}

impl Shelf {
    /// Opens (creating) the directory.
    pub fn open(dir: PathBuf, budget: u64, accel_prefix: String) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating deck archive directory {}", dir.display()))?;
        Ok(Self {
            dir,
            budget,
            accel_prefix,
        })
    }

    /// The directory, where builds write their temporary files too.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes all archives together may use.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    fn file_name(deck: DeckId, tag: &str) -> String {
        format!("{}-{tag}.zip", deck.0)
    }

    /// Where the archive of `deck` at version `tag` lives.
    pub fn path(&self, deck: DeckId, tag: &str) -> PathBuf {
        self.dir.join(Self::file_name(deck, tag))
    }

    /// Whether that archive is on disk.
    pub fn has(&self, deck: DeckId, tag: &str) -> bool {
        self.path(deck, tag).is_file()
    }

    /// The nginx location that sends the archive, under the media one.
    pub fn accel_path(&self, deck: DeckId, tag: &str) -> Option<String> {
        (!self.accel_prefix.is_empty()).then(|| {
            format!(
                "{}archives/{}",
                self.accel_prefix,
                Self::file_name(deck, tag)
            )
        })
    }

    /// Marks an archive as just used, so the budget evicts it last.
    pub fn touch(&self, path: &Path) {
        let now = std::fs::FileTimes::new().set_modified(SystemTime::now());
        if let Err(e) = std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_times(now))
        {
            tracing::debug!(error = %e, path = %path.display(), "could not mark a deck archive as used");
        }
    }

    /// Every finished archive.
    pub fn list(&self) -> std::io::Result<Vec<Shelved>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((deck, tag)) = name
                .strip_suffix(".zip")
                .and_then(|stem| stem.split_once('-'))
            else {
                continue;
            };
            let Ok(deck) = deck.parse() else {
                continue;
            };
            let meta = entry.metadata()?;
            out.push(Shelved {
                path: entry.path(),
                deck: DeckId(deck),
                tag: tag.to_string(),
                bytes: meta.len(),
                used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        Ok(out)
    }

    /// Removes one archive; one already gone is not an error.
    pub fn remove(&self, path: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes the least recently used archives of `kept` until they fit the budget;
    /// answers how many went.
    pub fn fit(&self, mut kept: Vec<Shelved>) -> std::io::Result<usize> {
        kept.sort_by_key(|s| std::cmp::Reverse(s.used));
        let mut total = 0u64;
        let mut removed = 0;
        for s in kept {
            if total + s.bytes > self.budget {
                self.remove(&s.path)?;
                removed += 1;
            } else {
                total += s.bytes;
            }
        }
        Ok(removed)
    }
}
