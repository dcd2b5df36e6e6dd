//! Changelog messages of a deck, delivered with pulls.

use super::Conn;
use super::{DeckId, Micros};

/// Adds a message to a root deck.
pub async fn insert(conn: &mut Conn, root: DeckId, message: &str, now: Micros) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO changelogs (deck, message, created_at) VALUES (?, ?, ?)")
        .bind(root)
        .bind(message)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Messages newer than `since`, newest first, as `(created_at, message)`.
pub async fn since(
    conn: &mut Conn,
    root: DeckId,
    since: Micros,
) -> sqlx::Result<Vec<(Micros, String)>> {
    sqlx::query_as("SELECT created_at, message FROM changelogs WHERE deck = ? AND created_at > ? ORDER BY created_at DESC, id DESC")
        .bind(root)
        .bind(since)
        .fetch_all(conn)
        .await
}

/// Id of the newest message of a deck (part of the pull cache's key).
pub async fn latest_id(conn: &mut Conn, root: DeckId) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM changelogs WHERE deck = ?")
        .bind(root)
        .fetch_one(conn)
        .await
}

/// A posted changelog message.
#[derive(Debug, sqlx::FromRow)]
pub struct Changelog {
    pub id: i64,
    pub message: String,
    pub created_at: Micros,
}

/// A deck's newest messages, newest first.
pub async fn list(conn: &mut Conn, deck: DeckId, limit: i64) -> sqlx::Result<Vec<Changelog>> {
    sqlx::query_as(
        "SELECT id, message, created_at FROM changelogs WHERE deck = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(deck)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Deletes one message of a deck; false if the deck has no such message.
pub async fn delete(conn: &mut Conn, deck: DeckId, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM changelogs WHERE deck = ? AND id = ?")
        .bind(deck)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
