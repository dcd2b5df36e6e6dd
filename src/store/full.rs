//! Telling a full disk apart from other failures: SQLite's SQLITE_FULL and the file
//! system's ENOSPC/EDQUOT become one domain error, so a full SD card is answered as
//! "try again later" rather than as a server fault.

use std::error::Error;
use std::io;

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i32 = 13;

/// The data directory's file system has no room for a write.
#[derive(Debug, thiserror::Error)]
#[error("The server's disk is full; try again later.")]
pub struct StorageFull;

/// Whether `e` or any error it was caused by says the disk is full.
pub fn is_storage_full(e: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if is_full_here(err) {
            return true;
        }
        cause = err.source();
    }
    false
}

/// Whether an `anyhow` chain holds a full-disk error anywhere.
pub fn anyhow_is_storage_full(e: &anyhow::Error) -> bool {
    e.chain().any(is_storage_full)
}

fn is_full_here(err: &(dyn Error + 'static)) -> bool {
    if err.is::<StorageFull>() {
        return true;
    }
    if let Some(io) = err.downcast_ref::<io::Error>() {
        return io_is_full(io);
    }
    match err.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == SQLITE_FULL),
        Some(sqlx::Error::Io(io)) => io_is_full(io),
        _ => false,
    }
}

fn io_is_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_and_edquot_are_full_anywhere_in_a_chain() {
        let enospc = io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(is_storage_full(&enospc));
        assert!(is_storage_full(&io::Error::from_raw_os_error(libc::EDQUOT)));
        assert!(anyhow_is_storage_full(
            &anyhow::Error::new(enospc).context("persisting an upload")
        ));
        assert!(is_storage_full(&sqlx::Error::Io(
            io::Error::from_raw_os_error(libc::ENOSPC)
        )));
        assert!(anyhow_is_storage_full(&anyhow::Error::new(StorageFull)));
    }

    #[tokio::test]
    async fn sqlite_full_is_full() {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = "sqlite::memory:"
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (b BLOB)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("PRAGMA max_page_count = 3")
            .execute(&mut conn)
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(is_storage_full(&e), "{e:?}");
        conn.close().await.unwrap();
    }

    #[test]
    fn other_errors_are_not_full() {
        assert!(!is_storage_full(&io::Error::from_raw_os_error(
            libc::EACCES
        )));
        assert!(!is_storage_full(&sqlx::Error::RowNotFound));
        assert!(!anyhow_is_storage_full(&anyhow::anyhow!(
            "disk is full, says the message only"
        )));
    }
}
