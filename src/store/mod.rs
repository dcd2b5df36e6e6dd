//! SQLite access: the pools and every SQL statement deckd runs. Nothing outside
//! this module writes SQL.

pub mod browse;
pub mod changelogs;
pub mod commits;
pub mod console;
pub mod deck_links;
pub mod deck_stats;
pub mod decks;
pub(crate) mod full;
pub mod ids;
pub mod instant;
pub(crate) mod maintenance;
pub mod media;
pub mod new_note_triggers;
pub mod notes;
pub(crate) mod notetype_edits;
pub(crate) mod notetypes;
pub mod notifications;
pub(crate) mod overview;
pub(crate) mod pull;
pub mod rationale;
pub mod review;
pub(crate) mod stats;
pub(crate) mod subscriptions;
pub(crate) mod tokens;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

pub use ids::{CommitId, DeckId, LinkId, NoteId, NotetypeId, UserId};
pub use instant::Micros;

/// A write transaction; one per write request.
pub type Tx = Transaction<'static, Sqlite>;
/// Any connection a query can run on (a pooled one or an open transaction).
pub type Conn = SqliteConnection;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// One writer connection (SQLite allows one writer anyway) and a small read pool.
#[derive(Clone, Debug)]
pub struct Db {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Read connections long responses may hold: one fewer than the pool, so a
    /// token check never waits behind slow pull clients (a failed one logs the add-on out).
    stream_slots: Arc<Semaphore>,
    /// Deck trees whose review queue just changed, for the console's live counts.
    queue: broadcast::Sender<DeckId>,
}

/// How long a read connection may stay idle before it closes: each holds up to 2 MiB of
/// page cache and a thread, which an idle box should not keep; reopening costs a
/// millisecond.
const READER_IDLE: Duration = Duration::from_secs(15);

/// Upper bound on how long an unused read connection stays open: the pool checks for
/// idle connections once per `READER_IDLE`.
pub const READERS_CLOSED_WITHIN: Duration = Duration::from_secs(2 * READER_IDLE.as_secs() + 1);

/// A read transaction held for the length of a streamed response.
pub struct StreamRead {
    pub tx: Transaction<'static, Sqlite>,
    _slot: OwnedSemaphorePermit,
}

impl Db {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let path = config.database_path();
        let common = SqliteConnectOptions::from_str("sqlite://")?
            .filename(&path)
            .foreign_keys(true)
            .busy_timeout(config.busy_timeout_ms)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-2048")
            .statement_cache_capacity(64);
        // Pragmas that write (auto_vacuum, journal_mode) only on the writer; WAL mode persists in the file.
        let writer_options = common
            .clone()
            .create_if_missing(true)
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .after_release(|conn, _| Box::pin(back_to_pool(conn)))
            .connect_with(writer_options)
            .await
            .with_context(|| format!("opening database {}", path.display()))?;
        MIGRATOR
            .run(&writer)
            .await
            .context("applying database migrations")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(config.read_connections)
            .min_connections(0)
            .idle_timeout(READER_IDLE)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(common.read_only(true))
            .await
            .context("opening read connections")?;
        let stream_slots = Arc::new(Semaphore::new(
            config.read_connections.saturating_sub(1).max(1) as usize,
        ));
        Ok(Self {
            writer,
            reader,
            stream_slots,
            queue: broadcast::channel(64).0,
        })
    }

    /// Starts a write transaction that holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Tells open console pages that the review queue of deck tree `root` changed (a
    /// suggestion arrived or was decided); nobody listening is fine.
    pub fn announce_queue(&self, root: DeckId) {
        let _ = self.queue.send(root);
    }

    /// Review-queue changes from now on, for one console page's event stream.
    pub fn queue_changes(&self) -> broadcast::Receiver<DeckId> {
        self.queue.subscribe()
    }

    /// The read pool, for queries that never write.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Starts a read transaction for a streamed response, waiting for a stream slot first.
    pub async fn begin_stream(&self) -> sqlx::Result<StreamRead> {
        let slot = self
            .stream_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        Ok(StreamRead {
            tx: self.reader.begin().await?,
            _slot: slot,
        })
    }

    /// True when the database answers and every embedded migration is applied.
    pub async fn is_ready(&self) -> bool {
        let applied: Result<i64, _> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.reader)
                .await;
        matches!(applied, Ok(n) if n as usize == MIGRATOR.iter().count())
    }

    /// Closes the read connections nobody is using and empties the writer's page cache and
    /// statement cache, so an idle server keeps neither the pages, the prepared statements
    /// nor the threads of a burst of work; the next read opens a fresh connection and the
    /// writer prepares its statements again.
    pub async fn release_idle_connections(&self) -> sqlx::Result<()> {
        let idle: Vec<_> = (0..self.reader.num_idle())
            .map_while(|_| self.reader.try_acquire())
            .collect();
        for conn in idle {
            conn.close().await?;
        }
        if let Some(mut writer) = self.writer.try_acquire() {
            writer.clear_cached_statements().await?;
            sqlx::query("PRAGMA shrink_memory")
                .persistent(false)
                .execute(&mut *writer)
                .await?;
        }
        Ok(())
    }

    /// Copies a big commit's WAL frames back into the database on the writer, in a task of
    /// its own so the request that wrote them can answer first (see [`defer_checkpoint`]).
    pub fn checkpoint_soon(&self) {
        let writer = self.writer.clone();
        tokio::spawn(async move {
            let done: sqlx::Result<maintenance::Checkpoint> = async {
                let mut conn = writer.acquire().await?;
                maintenance::checkpoint_passive(&mut conn).await
            }
            .await;
            match done {
                Ok(c) => {
                    tracing::debug!(pages = c.checkpointed, of = c.log, "background checkpoint")
                }
                // Shutting down: closing the last connection checkpoints anyway.
                Err(sqlx::Error::PoolClosed) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "background checkpoint failed; the next commit or the maintenance checkpoint will copy the WAL back")
                }
            }
        });
    }

    /// Closes both pools, checkpointing the WAL on the last connection.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Turns SQLite's automatic checkpoint back on at its default: a commit that leaves more
/// than 1,000 pages in the WAL copies them back into the database itself.
const AUTOCHECKPOINT_ON: &str = "PRAGMA wal_autocheckpoint = 1000";

/// Leaves this transaction's copy of the WAL back into the database to
/// [`Db::checkpoint_soon`] instead of its COMMIT. A 50,000-note publish writes about 85 MB
/// of WAL, and copying it back and syncing the database took a sixth of its answer time
/// here (more on an SD card). The writer turns the automatic checkpoint back on when it
/// returns to the pool.
pub async fn defer_checkpoint(tx: &mut Conn) -> sqlx::Result<()> {
    sqlx::query("PRAGMA wal_autocheckpoint = 0")
        .execute(tx)
        .await?;
    Ok(())
}

/// What the writer's pool runs before taking it back: it must still be usable, and it
/// checkpoints by itself again whatever the last transaction deferred.
async fn back_to_pool(conn: &mut SqliteConnection) -> sqlx::Result<bool> {
    if !still_usable(conn).await? {
        return Ok(false);
    }
    sqlx::query(AUTOCHECKPOINT_ON).execute(&mut *conn).await?;
    Ok(true)
}

/// Whether the writer can go back to the pool. When SQLite rolls a transaction back by
/// itself (a COMMIT or statement that failed with SQLITE_FULL), sqlx's ROLLBACK fails and
/// its transaction depth stays above zero, so every later `BEGIN` would be refused until
/// a restart; such a connection is closed instead and the pool opens a fresh one.
async fn still_usable(conn: &mut SqliteConnection) -> sqlx::Result<bool> {
    // The rollback of a dropped transaction is queued on the connection's worker; a ping
    // runs after it, so the depth read below is the one that rollback left.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("the writer connection was left inside a transaction (SQLite rolled it back itself); reopening it");
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes about 8 MB (2,000 WAL pages, twice the automatic checkpoint's threshold).
    async fn write_8_mb(conn: &mut Conn) {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO filler SELECT randomblob(4000) FROM n",
        )
        .execute(conn)
        .await
        .unwrap();
    }

    /// The writer's automatic-checkpoint setting as the pool hands the writer out.
    async fn autocheckpoint_pages(db: &Db) -> i64 {
        sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&db.writer)
            .await
            .unwrap()
    }

    async fn insert_probe(conn: &mut Conn, n: i64) {
        sqlx::query("INSERT INTO quiet_probe (n) VALUES (?)")
            .bind(n)
            .execute(conn)
            .await
            .unwrap();
    }

    /// Statements the writer keeps prepared, once the pool has it back.
    async fn cached(db: &Db) -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(writer) = db.writer.try_acquire() {
                return writer.cached_statements_size();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never came back"
            );
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_quiet_writer_lets_its_prepared_statements_go_and_still_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&Config::for_data_dir(dir.path())).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE quiet_probe (n INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        insert_probe(&mut tx, 1).await;
        tx.commit().await.unwrap();
        let before = cached(&db).await;
        assert!(before > 1, "the insert was not kept prepared");

        // The pool takes a connection back in a task of its own, and a busy writer is
        // left alone: wait until it is idle, as it is when the server is quiet.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while db.writer.num_idle() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never came back"
            );
            tokio::task::yield_now().await;
        }
        db.release_idle_connections().await.unwrap();
        // Only the statement the pool runs when it takes the writer back is prepared again.
        assert!(
            cached(&db).await <= 1,
            "the quiet writer kept its prepared statements ({before} before)"
        );

        let mut tx = db.begin_write().await.unwrap();
        insert_probe(&mut tx, 2).await;
        tx.commit().await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM quiet_probe")
            .fetch_one(&db.reader)
            .await
            .unwrap();
        assert_eq!(rows, 2);
    }

    #[tokio::test]
    async fn a_deferred_checkpoint_runs_after_the_commit_and_the_writer_checkpoints_again() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::for_data_dir(dir.path());
        let db = Db::open(&config).await.unwrap();
        let db_bytes = || std::fs::metadata(config.database_path()).unwrap().len();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(&mut *tx)
            .await
            .unwrap();
        defer_checkpoint(&mut tx).await.unwrap();
        write_8_mb(&mut tx).await;
        tx.commit().await.unwrap();
        assert!(
            db_bytes() < 4_000_000,
            "the commit copied the WAL back itself: {} bytes",
            db_bytes()
        );

        let pages = autocheckpoint_pages(&db).await;
        assert_eq!(
            pages, 1000,
            "the writer went back to the pool without its automatic checkpoint"
        );

        db.checkpoint_soon();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while db_bytes() < 8_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the background checkpoint never ran"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // A transaction that defers and then fails is rolled back: the writer still goes
        // back to the pool checkpointing by itself.
        let mut tx = db.begin_write().await.unwrap();
        defer_checkpoint(&mut tx).await.unwrap();
        drop(tx);
        let pages = autocheckpoint_pages(&db).await;
        assert_eq!(
            pages, 1000,
            "a dropped transaction left the automatic checkpoint off"
        );

        // Without deferring, the commit copies its frames back before it returns.
        let before = db_bytes();
        let mut tx = db.begin_write().await.unwrap();
        write_8_mb(&mut tx).await;
        tx.commit().await.unwrap();
        assert!(
            db_bytes() > before + 7_000_000,
            "an ordinary commit no longer checkpoints"
        );
    }

    #[tokio::test]
    async fn the_writer_recovers_after_sqlite_rolled_back_a_full_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&Config::for_data_dir(dir.path())).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // The database may not grow on this connection: the insert fails with SQLITE_FULL
        // and SQLite rolls the whole transaction back by itself.
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("PRAGMA max_page_count = 1")
            .execute(&mut *tx)
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO filler VALUES (zeroblob(1000000))")
            .execute(&mut *tx)
            .await
            .unwrap_err();
        assert!(full::is_storage_full(&e), "{e:?}");
        drop(tx);

        for _ in 0..3 {
            let mut tx = db
                .begin_write()
                .await
                .expect("a write transaction after the full one");
            sqlx::query("INSERT INTO filler VALUES (zeroblob(10000))")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM filler")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(rows, 3);
        db.close().await;
    }
}
