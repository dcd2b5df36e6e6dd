//! Subscriber counters (the add-on's `/AddSubscription`, keyed by user hash).

use super::Conn;
use super::{DeckId, Micros};

/// Adds a subscription dated `now`; duplicates are a no-op and keep the first date.
pub async fn add(conn: &mut Conn, user_hash: &str, deck: DeckId, now: Micros) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO subscriptions (user_hash, deck, subscribed_at) VALUES (?, ?, ?)",
    )
    .bind(user_hash)
    .bind(deck)
    .bind(now)
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
