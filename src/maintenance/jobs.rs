//! The maintenance jobs. Each works in small batches (one short write transaction
//! each, with a pause between) so requests never wait long behind it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;

use crate::config::Config;
use crate::domain::{self, Actor};
use crate::media::Media;
use crate::store::{self, maintenance as sql, Db, Micros};

/// Rows deleted or pages freed per write transaction.
const BATCH: i64 = 500;
/// Pause between batches so waiting requests get the writer.
const PAUSE: Duration = Duration::from_millis(20);

/// Incremental vacuum until the free list is empty (seed 004), then a WAL checkpoint,
/// which is what actually shortens the database file.
pub async fn compact(db: &Db) -> anyhow::Result<String> {
    let before = sql::pages(db).await?;
    let mut freelist = before.freelist;
    while freelist > 0 {
        sql::incremental_vacuum(db, BATCH).await?;
        let now = sql::pages(db).await?.freelist;
        if now >= freelist {
            break;
        }
        freelist = now;
        tokio::time::sleep(PAUSE).await;
    }
    let after = sql::pages(db).await?;
    let sql::Checkpoint {
        busy,
        log: wal,
        checkpointed: done,
    } = sql::checkpoint(db).await?;
    let freed = (before.page_count - after.page_count) * after.page_size;
    Ok(format!(
        "checkpoint {done}/{wal} WAL pages (busy {busy}); vacuum freed {freed} bytes"
    ))
}

/// Repeats a batch delete until a batch comes back short; returns the total.
async fn in_batches<F>(db: &Db, mut batch: F) -> anyhow::Result<u64>
where
    F: for<'c> FnMut(&'c mut store::Conn) -> futures_util::future::BoxFuture<'c, sqlx::Result<u64>>,
{
    let mut total = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let n = batch(&mut tx).await?;
        tx.commit().await?;
        total += n;
        if n < BATCH as u64 {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Expired tokens and upload batches, and records past the retention period (seed 004).
pub async fn cleanup(db: &Db, config: &Config) -> anyhow::Result<String> {
    let now = Micros::now();
    let cutoff = now - config.retention_days;
    let tokens = in_batches(db, |c| Box::pin(sql::purge_expired_tokens(c, now, BATCH))).await?;
    let batches = in_batches(db, |c| {
        Box::pin(store::media::purge_expired_batches(c, now))
    })
    .await?;
    let read = in_batches(db, |c| {
        Box::pin(sql::purge_read_notifications(c, cutoff, BATCH))
    })
    .await?;
    let stats = in_batches(db, |c| Box::pin(sql::purge_old_stats(c, cutoff, BATCH))).await?;
    let events = in_batches(db, |c| {
        Box::pin(sql::purge_decided_events(c, cutoff, BATCH))
    })
    .await?;
    Ok(format!(
        "removed {tokens} expired tokens, {batches} expired upload batches, {read} read notifications, \
         {stats} statistics uploads and {events} events of decided suggestions"
    ))
}

/// Media GC with the configured grace period (the `deckd media gc` logic).
pub async fn media_gc(db: &Db, media: &Media, config: &Config) -> anyhow::Result<String> {
    let r = domain::media::gc(db, media, Actor::Admin, config.media_gc_grace_hours).await?;
    Ok(format!(
        "removed {} unused media files ({} bytes)",
        r.removed_files, r.removed_bytes
    ))
}

/// A scheduled backup.
pub async fn backup(db: &Db, config: &Config, cancel: Arc<AtomicBool>) -> anyhow::Result<String> {
    let r = domain::backups::take(db, config, Actor::Admin, &ProgressBar::hidden(), cancel).await?;
    Ok(r.summary())
}
