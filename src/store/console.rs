//! Browser sessions of the web console and one-time invite links, both stored only as
//! SHA-256 hashes of the secret a browser holds.

use super::{Conn, Micros, UserId};

/// The account behind a live console session, with the session's CSRF secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionOwner {
    pub session_id: i64,
    pub user_id: UserId,
    pub username: String,
    pub is_admin: bool,
    pub csrf: Vec<u8>,
    pub last_seen_at: Micros,
}

/// A session as its owner sees it in the list of their devices.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_agent: String,
    pub created_at: Micros,
    pub last_seen_at: Micros,
}

/// What a new session stores.
#[derive(Debug)]
pub struct NewSession<'a> {
    pub user: UserId,
    pub token_hash: &'a [u8],
    pub csrf: &'a [u8],
    pub user_agent: &'a str,
    pub now: Micros,
    pub expires_at: Micros,
}

/// Stores a session; answers its id.
pub async fn insert_session(conn: &mut Conn, s: NewSession<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO console_sessions (user_id, token_hash, csrf, user_agent, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(s.user)
    .bind(s.token_hash)
    .bind(s.csrf)
    .bind(s.user_agent)
    .bind(s.now)
    .bind(s.now)
    .bind(s.expires_at)
    .fetch_one(conn)
    .await
}

/// The owner of an unexpired session of an enabled account.
pub async fn session_owner(
    conn: &mut Conn,
    token_hash: &[u8],
    now: Micros,
) -> sqlx::Result<Option<SessionOwner>> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, u.username, u.is_admin, s.csrf, s.last_seen_at
         FROM console_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Records that a session was used (written at most hourly by the caller).
pub async fn touch_session(conn: &mut Conn, id: i64, now: Micros) -> sqlx::Result<()> {
    sqlx::query("UPDATE console_sessions SET last_seen_at = ? WHERE id = ?")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Ends one session of `user`; false when it is not theirs or already gone.
pub async fn delete_session(conn: &mut Conn, user: UserId, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE id = ? AND user_id = ?")
        .bind(id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every console session of `user`.
pub async fn delete_sessions_of(conn: &mut Conn, user: UserId) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE user_id = ?")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The live sessions of `user`, newest first.
pub async fn sessions_of(
    conn: &mut Conn,
    user: UserId,
    now: Micros,
) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as(
        "SELECT id, user_agent, created_at, last_seen_at FROM console_sessions
         WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC",
    )
    .bind(user)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// An invite link as the administrator sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRow {
    pub id: i64,
    pub created_by: Option<String>,
    pub created_at: Micros,
    pub expires_at: Micros,
    pub used_by: Option<String>,
}

/// Stores an invite.
pub async fn insert_invite(
    conn: &mut Conn,
    token_hash: &[u8],
    by: Option<UserId>,
    now: Micros,
    expires_at: Micros,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO invites (token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(token_hash)
    .bind(by)
    .bind(now)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// Whether an invite can still be used.
pub async fn invite_open(conn: &mut Conn, token_hash: &[u8], now: Micros) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Marks an open invite used by `user`; false when it was used, expired or never existed.
pub async fn take_invite(
    conn: &mut Conn,
    token_hash: &[u8],
    user: UserId,
    now: Micros,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
    )
    .bind(user)
    .bind(now)
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Withdraws an unused invite.
pub async fn delete_invite(conn: &mut Conn, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM invites WHERE id = ? AND used_at IS NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every invite, newest first.
pub async fn invites(conn: &mut Conn) -> sqlx::Result<Vec<InviteRow>> {
    sqlx::query_as(
        "SELECT i.id, c.username AS created_by, i.created_at, i.expires_at, u.username AS used_by
         FROM invites i LEFT JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by
         ORDER BY i.id DESC",
    )
    .fetch_all(conn)
    .await
}
