//! Writing one archive: the deck's pull entry is assembled as for a pull (one gzip
//! member) and streamed into the zip while a thread of its own copies the media files
//! after it, each stored as it is (media is compressed already). The zip is a temporary
//! file until it is complete and synced, then renamed into place; the shelf is tidied.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{Archives, Snapshot, DECK_MEMBER, MEDIA_PREFIX};
use crate::pull::{assemble, Plan};
use crate::store::{self, DeckId};
use crate::wire::timestamp::ADDON_FIRST_PULL;

/// Output buffer of the zip writer.
const WRITE_BUFFER: usize = 256 * 1024;

impl Archives {
    /// Builds the archive of `deck` as it is now, unless it exists, has no media or
    /// cannot fit the budget.
    pub(super) async fn build(&self, deck: DeckId, stop: &CancellationToken) -> anyhow::Result<()> {
        // Held from before the files are listed until every one is copied: media GC
        // waits for it, so no listed file goes missing.
        let _pinned = self.media.pin_files().await;
        let mut conn = self.db.reader().acquire().await?;
        let Some(deck) = store::decks::by_id(&mut conn, deck).await? else {
            return Ok(());
        };
        if deck.parent.is_some() || deck.pending_commit.is_some() {
            return Ok(());
        }
        let snapshot = Snapshot::of(&mut conn, &deck).await?;
        let tag = snapshot.tag();
        if snapshot.media.files == 0 || self.shelf.has(deck.id, &tag) {
            return Ok(());
        }
        if snapshot.media.bytes as u64 > self.shelf.budget() {
            tracing::info!(
                deck = %deck.human_hash,
                media_bytes = snapshot.media.bytes,
                budget = self.shelf.budget(),
                "deck media exceed deck_archive_bytes; new subscribers download files one by one"
            );
            return Ok(());
        }
        let files: Vec<(String, PathBuf)> = store::media::tree_files(&mut conn, deck.root)
            .await?
            .into_iter()
            .map(|(name, hash, _)| {
                (
                    format!("{MEDIA_PREFIX}{name}"),
                    self.media.files.path_of(&hash),
                )
            })
            .collect();
        drop(conn);
        let started = std::time::Instant::now();
        let (id, hash) = (deck.id, deck.human_hash.clone());
        let plan = Plan {
            hash: deck.human_hash.clone(),
            since: ADDON_FIRST_PULL,
            deck,
        };
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
        let failed = tx.clone();
        let (done_tx, done_rx) = oneshot::channel();
        let dir = self.shelf.dir().to_path_buf();
        let cancel = stop.clone();
        let count = files.len();
        std::thread::Builder::new()
            .name("deck-archive".into())
            .spawn(move || {
                let _ = done_tx.send(write_zip(&dir, rx, &files, &cancel));
            })
            .context("starting the deck archive thread")?;
        let entry = assemble::stream_member(&self.db, &plan, &self.unfilled, tx).await;
        if let Err(e) = &entry {
            let _ = failed.send(Err(io::Error::other(e.to_string()))).await;
        }
        drop(failed);
        let written = done_rx.await.context("the deck archive thread panicked")?;
        entry.context("assembling the deck entry")?;
        let tmp = written.context("writing the deck archive")?;
        let target = self.shelf.path(id, &tag);
        let bytes = tmp.as_file().metadata()?.len();
        tmp.persist(&target).map_err(|e| e.error)?;
        File::open(self.shelf.dir())?.sync_all()?;
        tracing::info!(
            deck = %hash,
            files = count,
            bytes,
            ms = started.elapsed().as_millis() as u64,
            "deck archive built"
        );
        self.tidy(Some((id, tag))).await
    }

    /// Removes archives of deck versions that are gone (and leaves `built`, just made),
    /// then the least recently used ones beyond the budget.
    pub(super) async fn tidy(&self, built: Option<(DeckId, String)>) -> anyhow::Result<()> {
        let mut kept = Vec::new();
        let mut conn = self.db.reader().acquire().await?;
        for s in self.shelf.list()? {
            let current = match &built {
                Some((deck, tag)) if *deck == s.deck => Some(tag.clone()),
                _ => match store::decks::by_id(&mut conn, s.deck).await? {
                    Some(deck) => Some(Snapshot::of(&mut conn, &deck).await?.tag()),
                    None => None,
                },
            };
            if current.as_deref() == Some(s.tag.as_str()) {
                kept.push(s);
            } else {
                self.shelf.remove(&s.path)?;
            }
        }
        let evicted = self.shelf.fit(kept)?;
        if evicted > 0 {
            tracing::info!(
                evicted,
                "deck archives removed to stay within deck_archive_bytes"
            );
        }
        Ok(())
    }
}

/// Writes the zip into a temporary file in `dir`: the entry from `entry`, then `files`
/// as `(member name, stored path)`. Runs on its own thread.
fn write_zip(
    dir: &std::path::Path,
    mut entry: mpsc::Receiver<io::Result<Bytes>>,
    files: &[(String, PathBuf)],
    cancel: &CancellationToken,
) -> io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    // 0666 less the umask, as for stored media: nginx may send the finished archive.
    let tmp = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(WRITE_BUFFER, tmp));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file(DECK_MEMBER, stored)
        .map_err(io::Error::other)?;
    while let Some(chunk) = entry.blocking_recv() {
        zip.write_all(&chunk?)?;
    }
    for (name, path) in files {
        if cancel.is_cancelled() {
            return Err(io::Error::other("stopped by shutdown"));
        }
        let mut source = File::open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        zip.start_file(name.as_str(), stored)
            .map_err(io::Error::other)?;
        io::copy(&mut source, &mut zip)?;
    }
    let tmp = zip
        .finish()
        .map_err(io::Error::other)?
        .into_inner()
        .map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}
