//! Cheap figures for the service status line and the watchdog's database check.

use super::Db;

/// What `systemctl status` shows about the collection.
#[derive(Debug)]
pub struct Overview {
    /// Published (top-level) decks.
    pub decks: i64,
    /// Suggestions waiting for a maintainer's review.
    pub pending_suggestions: i64,
    /// Accounts; none means the box waits for its setup in the console.
    pub users: i64,
}

/// Counts decks and pending suggestions on the read pool.
pub async fn read(db: &Db) -> sqlx::Result<Overview> {
    let (decks, pending_suggestions, users): (i64, i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM decks WHERE parent IS NULL), (SELECT COUNT(*) FROM commits WHERE status = 'pending'), (SELECT COUNT(*) FROM users)")
            .fetch_one(db.reader())
            .await?;
    Ok(Overview {
        decks,
        pending_suggestions,
        users,
    })
}

/// `SELECT 1` through the read pool: proves a connection can be had and answers.
pub async fn ping(db: &Db) -> sqlx::Result<()> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(db.reader())
        .await
        .map(|_| ())
}
