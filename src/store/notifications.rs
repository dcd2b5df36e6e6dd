//! Review outcomes delivered to suggestion authors.

use serde::Serialize;
use sqlx::Row;

use super::commits::Decision;
use super::Conn;
use crate::wire::timestamp;

/// One notification as the add-on reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: i64,
    pub commit_id: i64,
    pub deck_id: i64,
    pub deck_name: String,
    pub status: Decision,
    pub reason: Option<String>,
    pub created_at: String,
    pub is_read: bool,
}

/// Notifies a commit's author of a decision.
pub async fn insert(
    conn: &mut Conn,
    user: i64,
    commit: i64,
    deck: i64,
    status: Decision,
    reason: Option<&str>,
    now: i64,
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

const SELECT: &str =
    "SELECT n.id, n.commit_id, n.deck, d.name, n.status, n.reason, n.created_at, n.is_read
     FROM notifications n JOIN decks d ON d.id = n.deck";

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Item {
    Item {
        id: r.get(0),
        commit_id: r.get(1),
        deck_id: r.get(2),
        deck_name: r.get(3),
        status: r.get(4),
        reason: r.get(5),
        created_at: timestamp::rfc3339(r.get(6)),
        is_read: r.get(7),
    }
}

/// Unread notifications of a user, newest first.
pub async fn unread(conn: &mut Conn, user: i64, limit: i64) -> sqlx::Result<Vec<Item>> {
    let sql = format!("{SELECT} WHERE n.user_id = ? AND n.is_read = 0 ORDER BY n.id DESC LIMIT ?");
    Ok(sqlx::query(&sql)
        .bind(user)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// Count of unread notifications of a user.
pub async fn unread_count(conn: &mut Conn, user: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND is_read = 0")
        .bind(user)
        .fetch_one(conn)
        .await
}

/// A page of all notifications of a user, newest first, with the total count.
pub async fn history(
    conn: &mut Conn,
    user: i64,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<Item>)> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = ?")
        .bind(user)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!("{SELECT} WHERE n.user_id = ? ORDER BY n.id DESC LIMIT ? OFFSET ?");
    let items = sqlx::query(&sql)
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect();
    Ok((total, items))
}

/// Marks some of a user's notifications read; returns how many changed.
pub async fn mark_read(conn: &mut Conn, user: i64, ids: &[i64]) -> sqlx::Result<u64> {
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
    user: i64,
    commit: i64,
) -> sqlx::Result<Option<(Decision, Option<String>)>> {
    sqlx::query_as("SELECT status, reason FROM notifications WHERE user_id = ? AND commit_id = ? ORDER BY id DESC LIMIT 1")
        .bind(user)
        .bind(commit)
        .fetch_optional(conn)
        .await
}
