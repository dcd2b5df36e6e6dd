//! Access and refresh tokens, stored only as SHA-256 hashes.

use super::Conn;
use super::{Micros, UserId};

/// Who a valid access token belongs to.
#[derive(Debug, sqlx::FromRow)]
pub struct TokenOwner {
    pub token_id: i64,
    pub user_id: UserId,
    pub username: String,
    pub last_used_at: Micros,
}

/// Stores a freshly issued token pair.
pub async fn insert(
    conn: &mut Conn,
    user_id: UserId,
    token_hash: &[u8],
    refresh_hash: &[u8],
    expires_at: Micros,
    refresh_expires_at: Micros,
) -> sqlx::Result<()> {
    let now = Micros::now();
    sqlx::query(
        "INSERT INTO auth_tokens (user_id, token_hash, refresh_hash, expires_at, refresh_expires_at, created_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(refresh_hash)
    .bind(expires_at)
    .bind(refresh_expires_at)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resolves an unexpired access token.
pub async fn owner_of(conn: &mut Conn, token_hash: &[u8]) -> sqlx::Result<Option<TokenOwner>> {
    sqlx::query_as(
        "SELECT t.id AS token_id, t.user_id, u.username, t.last_used_at
         FROM auth_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND t.expires_at > ? AND u.disabled = 0",
    )
    .bind(token_hash)
    .bind(Micros::now())
    .fetch_optional(conn)
    .await
}

/// Records that a token was used (callers throttle this to spare the SD card).
pub async fn touch(conn: &mut Conn, token_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE auth_tokens SET last_used_at = ? WHERE id = ?")
        .bind(Micros::now())
        .bind(token_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Consumes an unexpired refresh token, returning its user; the old pair is deleted.
pub async fn take_refresh(conn: &mut Conn, refresh_hash: &[u8]) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar("DELETE FROM auth_tokens WHERE refresh_hash = ? AND refresh_expires_at > ? RETURNING user_id")
        .bind(refresh_hash)
        .bind(Micros::now())
        .fetch_optional(conn)
        .await
}

/// Removes one token pair; false if it was already gone.
pub async fn remove(conn: &mut Conn, token_id: i64) -> sqlx::Result<bool> {
    Ok(sqlx::query("DELETE FROM auth_tokens WHERE id = ?")
        .bind(token_id)
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}

/// Logs a user out everywhere; returns how many token pairs were removed.
pub async fn remove_all_of(conn: &mut Conn, user_id: UserId) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM auth_tokens WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
}

/// An add-on login as its owner sees it in the list of their devices.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: i64,
    pub created_at: Micros,
    pub last_used_at: Micros,
}

/// The add-on logins of `user` whose refresh token still works, newest use first.
pub async fn devices_of(conn: &mut Conn, user: UserId) -> sqlx::Result<Vec<DeviceRow>> {
    sqlx::query_as(
        "SELECT id, created_at, last_used_at FROM auth_tokens
         WHERE user_id = ? AND refresh_expires_at > ? ORDER BY last_used_at DESC",
    )
    .bind(user)
    .bind(Micros::now())
    .fetch_all(conn)
    .await
}

/// Removes one token pair of `user`; false when it is not theirs or already gone.
pub async fn remove_of(conn: &mut Conn, user: UserId, token_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM auth_tokens WHERE id = ? AND user_id = ?")
        .bind(token_id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
