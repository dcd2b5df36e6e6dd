//! SQL for housekeeping: vacuum, checkpoints, expiry and retention purges, and the
//! snapshot/check statements backups and the start-up check run on database files.

use super::Micros;
use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Conn, Db};

/// Page counts that tell how much an incremental vacuum can give back.
#[derive(Debug)]
pub struct Pages {
    pub page_count: i64,
    pub freelist: i64,
    pub page_size: i64,
}

/// The database's page totals, read on the writer so they are current.
pub async fn pages(db: &Db) -> sqlx::Result<Pages> {
    let mut conn = db.writer.acquire().await?;
    Ok(Pages {
        page_count: sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *conn)
            .await?,
        freelist: sqlx::query_scalar("PRAGMA freelist_count")
            .fetch_one(&mut *conn)
            .await?,
        page_size: sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&mut *conn)
            .await?,
    })
}

/// Frees up to `max_pages` pages at the end of the file; one short write lock per call.
pub async fn incremental_vacuum(db: &Db, max_pages: i64) -> sqlx::Result<()> {
    let mut conn = db.writer.acquire().await?;
    sqlx::query(&format!("PRAGMA incremental_vacuum({max_pages})"))
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// What `PRAGMA wal_checkpoint` reports, for the maintenance log (fields named as its columns).
#[derive(Debug, sqlx::FromRow)]
pub struct Checkpoint {
    /// 1 when a reader or writer kept the checkpoint from completing, else 0.
    pub busy: i64,
    /// Pages the WAL held when the checkpoint ran.
    pub log: i64,
    /// Of those, the pages copied back into the database.
    pub checkpointed: i64,
}

/// Copies the WAL back into the database and truncates it.
pub async fn checkpoint(db: &Db) -> sqlx::Result<Checkpoint> {
    let mut conn = db.writer.acquire().await?;
    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await
}

/// Copies what the WAL holds back into the database without waiting for readers; once
/// every frame is copied and they have moved on, the WAL is reused from its start.
pub async fn checkpoint_passive(conn: &mut Conn) -> sqlx::Result<Checkpoint> {
    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await
}

/// Deletes up to `limit` token pairs whose refresh token has expired.
pub async fn purge_expired_tokens(conn: &mut Conn, now: Micros, limit: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM auth_tokens WHERE id IN (SELECT id FROM auth_tokens WHERE refresh_expires_at < ? LIMIT ?)")
        .bind(now)
        .bind(limit)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` read notifications created before `cutoff`.
pub async fn purge_read_notifications(
    conn: &mut Conn,
    cutoff: Micros,
    limit: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE is_read = 1 AND created_at < ? LIMIT ?)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` review-statistics uploads older than `cutoff`.
pub async fn purge_old_stats(conn: &mut Conn, cutoff: Micros, limit: i64) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM note_stats WHERE (note, user_hash) IN (SELECT note, user_hash FROM note_stats WHERE uploaded_at < ? LIMIT ?)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` history events of suggestions decided before `cutoff` (never deck content).
pub async fn purge_decided_events(
    conn: &mut Conn,
    cutoff: Micros,
    limit: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM note_events WHERE id IN (
             SELECT e.id FROM note_events e JOIN commits c ON c.id = e.commit_id
             WHERE c.status IN ('approved', 'denied') AND c.decided_at < ? LIMIT ?)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Writes a consistent copy of the live database to `target` without blocking writers (WAL).
pub async fn snapshot_into(db: &Db, target: &Path) -> sqlx::Result<()> {
    let mut conn = db.reader.acquire().await?;
    sqlx::query("VACUUM INTO ?")
        .bind(target.to_string_lossy().into_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Opens a database file that must already exist, outside the pools.
async fn open_file(path: &Path) -> sqlx::Result<sqlx::SqliteConnection> {
    SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await
}

/// `PRAGMA integrity_check` (thorough) or `quick_check` on a file: the problems found, empty when healthy.
pub async fn check_file(path: &Path, thorough: bool) -> sqlx::Result<Vec<String>> {
    let mut conn = open_file(path).await?;
    let sql = if thorough {
        "PRAGMA integrity_check"
    } else {
        "PRAGMA quick_check"
    };
    let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await?;
    conn.close().await?;
    Ok(rows.into_iter().filter(|r| r != "ok").collect())
}

/// Every media file (`hash`, `size`) a database file records, e.g. a fresh snapshot.
pub async fn media_in_file(path: &Path) -> sqlx::Result<Vec<(String, i64)>> {
    let mut conn = open_file(path).await?;
    let rows = sqlx::query_as("SELECT hash, size FROM media_files ORDER BY hash")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    Ok(rows)
}
