//! SQLite access: the pools and every SQL statement deckd runs. Nothing outside
//! this module writes SQL.

pub mod changelogs;
pub mod commits;
pub mod decks;
pub mod maintenance;
pub mod media;
pub mod notes;
pub mod notetypes;
pub mod notifications;
pub mod overview;
pub mod pull;
pub mod stats;
pub mod subscriptions;
pub mod tokens;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;

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
}

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
            .busy_timeout(Duration::from_millis(config.busy_timeout_ms))
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
            .idle_timeout(Duration::from_secs(300))
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
        })
    }

    /// Starts a write transaction that holds the write lock from its first statement.
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
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

    /// Closes both pools, checkpointing the WAL on the last connection.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Current time as integer unix microseconds, the unit of every stored time.
pub fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}
