//! Review outcomes delivered to suggestion authors.

use super::{CommitId, DeckId, Micros, UserId};
use serde::Serialize;

use super::commits::Decision;
use super::Conn;
use crate::wire::timestamp;

/// One notification as the add-on reads it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub commit_id: CommitId,
    pub deck_id: DeckId,
    pub deck_name: String,
    pub status: Decision,
    pub reason: Option<String>,
    #[serde(serialize_with = "timestamp::serialize_rfc3339")]
    pub created_at: Micros,
    pub is_read: bool,
}

/// Notifies a commit's author of a decision.
pub async fn insert(
    conn: &mut Conn,
    user: UserId,
    commit: CommitId,
    deck: DeckId,
    status: Decision,
    reason: Option<&str>,
    now: Micros,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO notifications (user_id, commit_id, deck, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(user)
        .bind(commit)
        .bind(deck)
        .bind(status)
        .bind(reason)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

const SELECT: &str = "SELECT n.id AS id, n.commit_id AS commit_id, n.deck AS deck_id,
        d.name AS deck_name, n.status AS status, n.reason AS reason,
        n.created_at AS created_at, n.is_read AS is_read
     FROM notifications n JOIN decks d ON d.id = n.deck";

/// Unread notifications of a user, newest first.
pub async fn unread(conn: &mut Conn, user: UserId, limit: i64) -> sqlx::Result<Vec<Item>> {
    let sql = format!("{SELECT} WHERE n.user_id = ? AND n.is_read = 0 ORDER BY n.id DESC LIMIT ?");
    sqlx::query_as(&sql)
        .bind(user)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Count of unread notifications of a user.
pub async fn unread_count(conn: &mut Conn, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND is_read = 0")
        .bind(user)
        .fetch_one(conn)
        .await
}

/// A page of all notifications of a user, newest first, with the total count.
pub async fn history(
    conn: &mut Conn,
    user: UserId,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<Item>)> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = ?")
        .bind(user)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{SELECT} WHERE n.user_id = ? ORDER BY n.id DESC LIMIT ? OFFSET ?");
    let items = sqlx::query_as(&sql)
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    Ok((total, items))
}

/// Marks some of a user's notifications read; returns how many changed.
pub async fn mark_read(conn: &mut Conn, user: UserId, ids: &[i64]) -> sqlx::Result<u64> {
    let json = serde_json::to_string(ids).expect("ids serialise");
    let done = sqlx::query("UPDATE notifications SET is_read = 1 WHERE user_id = ? AND is_read = 0 AND id IN (SELECT value FROM json_each(?))")
        .bind(user)
        .bind(json)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The decision a user was notified of for a commit, if any: `(status, reason)`.
pub async fn for_commit(
    conn: &mut Conn,
    user: UserId,
    commit: CommitId,
) -> sqlx::Result<Option<(Decision, Option<String>)>> {
    sqlx::query_as("SELECT status, reason FROM notifications WHERE user_id = ? AND commit_id = ? ORDER BY id DESC LIMIT 1")
        .bind(user)
        .bind(commit)
        .fetch_optional(conn)
        .await
}
