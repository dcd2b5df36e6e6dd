//! Subscriber counters (the add-on's `/AddSubscription`, keyed by user hash).

use super::Conn;
use super::DeckId;

/// Adds a subscription; duplicates are a no-op.
pub async fn add(conn: &mut Conn, user_hash: &str, deck: DeckId) -> sqlx::Result<()> {
    sqlx::query("INSERT OR IGNORE INTO subscriptions (user_hash, deck) VALUES (?, ?)")
        .bind(user_hash)
        .bind(deck)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a subscription; returns false if there was none.
pub async fn remove(conn: &mut Conn, user_hash: &str, deck: DeckId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM subscriptions WHERE user_hash = ? AND deck = ?")
        .bind(user_hash)
        .bind(deck)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
