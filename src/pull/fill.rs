//! Stores the pulled JSON object of notes that have none (new or changed notes), off the
//! request path: a pull that had to build objects wakes this task, which fills them in
//! small write transactions so other writers wait at most a few milliseconds.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::{self, Db, NoteId};

/// Notes stored per write transaction.
const NOTES_PER_FILL: i64 = 500;

/// Runs until `stop`; fills once at start (a database from before `pulled_notes`, or
/// notes written while the server was down) and again each time `wake` is notified.
pub async fn run(db: Db, wake: Arc<Notify>, stop: CancellationToken) {
    loop {
        if let Err(e) = fill_all(&db, &stop).await {
            tracing::debug!(error = %e, "storing pulled notes failed; pulls build them meanwhile");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// One pass in note id order; a copy deleted behind the pass is stored on the next wake.
async fn fill_all(db: &Db, stop: &CancellationToken) -> sqlx::Result<()> {
    let large = super::assemble::BATCH_BYTES;
    let mut after = NoteId::BEFORE_ALL;
    while !stop.is_cancelled() {
        let mut tx = db.begin_write().await?;
        let (stored, last) =
            store::pull::fill_pulled_notes(&mut tx, after, NOTES_PER_FILL, large).await?;
        tx.commit().await?;
        match last {
            Some(last) if stored == NOTES_PER_FILL as u64 => after = last,
            _ => break,
        }
        tokio::task::yield_now().await;
    }
    fill_large(db, stop, large).await
}

/// Notes of `large` bytes or more, one per transaction, built outside SQLite.
async fn fill_large(db: &Db, stop: &CancellationToken, large: i64) -> sqlx::Result<()> {
    let mut after = NoteId::BEFORE_ALL;
    while !stop.is_cancelled() {
        let mut tx = db.begin_write().await?;
        let Some(note) = store::pull::next_large_unfilled(&mut tx, after, large).await? else {
            return Ok(());
        };
        let json = super::note_object::build(&mut tx, note).await?;
        store::pull::store_copy(&mut tx, note, &json).await?;
        tx.commit().await?;
        after = note;
        tokio::task::yield_now().await;
    }
    Ok(())
}
