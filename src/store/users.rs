//! Accounts.

use super::Conn;
use super::{Micros, UserId};

/// An account as the admin CLI and the auth layer see it.
#[derive(Debug, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub created_at: Micros,
    pub is_admin: bool,
    pub disabled: bool,
}

const USER: &str = "SELECT id, username, password_hash, created_at, is_admin, disabled FROM users";

/// Inserts an account; fails on a duplicate name.
pub async fn insert(conn: &mut Conn, username: &str, password_hash: &str) -> sqlx::Result<UserId> {
    sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(Micros::now())
    .fetch_one(conn)
    .await
}

/// Looks an account up by its (already lower-cased) name.
pub async fn by_name(conn: &mut Conn, username: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("{USER} WHERE username = ?"))
        .bind(username)
        .fetch_optional(conn)
        .await
}

/// Every account, oldest first.
pub async fn list(conn: &mut Conn) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!("{USER} ORDER BY id"))
        .fetch_all(conn)
        .await
}

/// Replaces the password hash; returns false when no such user exists.
pub async fn set_password(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE username = ?")
        .bind(password_hash)
        .bind(username)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an account and its tokens; its decks go with it.
pub async fn remove(conn: &mut Conn, username: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE username = ?")
        .bind(username)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The name behind an id, for notifications and snapshots.
pub async fn name_of(conn: &mut Conn, id: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT username FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Whether the account may administer the box (an unknown id may not).
pub async fn is_admin(conn: &mut Conn, id: UserId) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND is_admin = 1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// How many accounts exist: none means the box still waits for its setup.
pub async fn count(conn: &mut Conn) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await
}

/// Makes an account an administrator of the box, or an ordinary account again.
pub async fn set_admin(conn: &mut Conn, id: UserId, admin: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET is_admin = ? WHERE id = ?")
        .bind(admin)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Switches an account off or on; false when no such user exists.
pub async fn set_disabled(conn: &mut Conn, username: &str, disabled: bool) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET disabled = ? WHERE username = ?")
        .bind(disabled)
        .bind(username)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
