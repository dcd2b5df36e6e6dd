//! What a crash leaves behind: a `kill -9` or power cut in the middle of an upload
//! keeps its temporary file in `<media>/tmp`, a preview being written keeps its
//! `.…tmp` in `<media>/thumbs`, a deck archive being built keeps its `.…tmp` in
//! `<media>/archives`, and a publish spool keeps a `.tmpXXXXXX` in the data
//! dir where the file system has no unnamed files. Swept at start-up, before serving,
//! while the server lock guarantees nothing else is writing them.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;

/// Removes every leftover temporary file; answers how many there were.
pub fn sweep(config: &Config) -> anyhow::Result<u64> {
    let media = config.media_dir();
    let mut removed = remove_matching(&media.join("tmp"), |_| true)?;
    for dir in ["thumbs", "archives"] {
        removed += remove_matching(&media.join(dir), |name| {
            name.starts_with('.') && name.ends_with(".tmp")
        })?;
    }
    removed += remove_matching(&config.data_dir, is_spool_name)?;
    if removed > 0 {
        tracing::info!(
            removed,
            "removed temporary files left by an interrupted run"
        );
    }
    Ok(removed)
}

/// The names `tempfile` gives a spool when it cannot be unnamed: `.tmp` and six letters or digits.
fn is_spool_name(name: &str) -> bool {
    name.len() == 10
        && name.starts_with(".tmp")
        && name[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Removes the regular files of `dir` whose name passes `doomed`; a missing `dir` has none.
fn remove_matching(dir: &Path, doomed: impl Fn(&str) -> bool) -> anyhow::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        other => other.with_context(|| format!("listing {}", dir.display()))?,
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_file() && doomed(&name.to_string_lossy()) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_temporaries_and_keeps_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_data_dir(dir.path());
        let media = config.media_dir();
        for d in ["tmp", "thumbs", "archives", "ab"] {
            std::fs::create_dir_all(media.join(d)).unwrap();
        }
        let doomed = [
            media.join("tmp/up-1234"),
            media.join("tmp/restore-ab"),
            media.join("thumbs/.x.tmp"),
            media.join("archives/.a1B2c3.tmp"),
            dir.path().join(".tmpA1b2C3"),
        ];
        let kept = [
            media.join("ab/ab0123"),
            media.join("thumbs/ab0123.png"),
            media.join("archives/3-1_0_2_4.zip"),
            dir.path().join("deckd.sqlite3"),
            dir.path().join(".tmp-backup"),
        ];
        for f in doomed.iter().chain(&kept) {
            std::fs::write(f, b"x").unwrap();
        }
        assert_eq!(sweep(&config).unwrap(), doomed.len() as u64);
        assert!(doomed.iter().all(|f| !f.exists()));
        assert!(kept.iter().all(|f| f.exists()));
        assert_eq!(sweep(&config).unwrap(), 0);
    }
}
