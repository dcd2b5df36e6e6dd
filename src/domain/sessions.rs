//! Sessions of the add-on (and later the console): logging in, trading a refresh token,
//! resolving a bearer token, logging one device out.

use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use super::{DomainError, DomainResult};
use crate::accounts::{token_hash, verify_password, DUMMY_HASH};
use crate::store::{self, Db, Micros, UserId};

/// Access tokens live 30 days, refresh tokens 90 (docs/protocol.md).
const ACCESS_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
const REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 86_400);
/// `last_used_at` is written at most this often per token, to spare the SD card.
const TOUCH_EVERY: Duration = Duration::from_secs(3_600);

/// The `/login` and `/refreshToken` answer.
#[derive(Debug, Serialize)]
pub struct Session {
    pub token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub user_id: UserId,
}

/// A request's authenticated user.
#[derive(Debug)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    /// The token pair this request presented, so logging out ends only this device's session.
    pub token_id: i64,
}

async fn issue(db: &Db, user_id: UserId) -> DomainResult<Session> {
    let mut tx = db.begin_write().await?;
    let session = issue_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(session)
}

/// Stores a fresh pair for `user_id` inside the caller's transaction.
async fn issue_in(conn: &mut store::Conn, user_id: UserId) -> DomainResult<Session> {
    let token = Alphanumeric.sample_string(&mut rand::rng(), 48);
    let refresh_token = Alphanumeric.sample_string(&mut rand::rng(), 64);
    let now = Micros::now();
    let expires = now + ACCESS_LIFETIME;
    store::tokens::insert(
        conn,
        user_id,
        &token_hash(&token),
        &token_hash(&refresh_token),
        expires,
        now + REFRESH_LIFETIME,
    )
    .await?;
    Ok(Session {
        token,
        refresh_token,
        expires_at: expires.as_secs(),
        user_id,
    })
}

/// The enabled account `username` names if `password` is its password. An unknown name
/// costs the same argon2 time as a wrong password, and both answer `BadCredentials`.
pub(crate) async fn check_credentials(
    db: &Db,
    username: &str,
    password: &str,
) -> DomainResult<store::users::User> {
    let name = username.trim().to_lowercase();
    let user = store::users::by_name(&mut *db.reader().acquire().await?, &name).await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(anyhow::Error::from)?;
    match user {
        Some(u) if ok && !u.disabled => Ok(u),
        _ => Err(DomainError::BadCredentials),
    }
}

/// Checks a username and password and opens a new session (other devices stay logged in).
pub async fn login(db: &Db, username: &str, password: &str) -> DomainResult<Session> {
    let user = check_credentials(db, username, password).await?;
    issue(db, user.id).await
}

/// Trades a refresh token for a new pair in one transaction: the old pair stops working
/// only once the new one is stored, so a failed write (a full disk) leaves the old valid.
pub async fn refresh(db: &Db, refresh_token: &str) -> DomainResult<Session> {
    let mut tx = db.begin_write().await?;
    let Some(user_id) = store::tokens::take_refresh(&mut tx, &token_hash(refresh_token)).await?
    else {
        return Err(DomainError::UnknownRefreshToken);
    };
    let session = issue_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(session)
}

/// Resolves a bearer token to its user, or `None` if it is unknown or expired.
pub async fn authenticate(db: &Db, token: &str) -> DomainResult<Option<AuthUser>> {
    if token.is_empty() || token.len() > 1024 {
        return Ok(None);
    }
    let owner =
        store::tokens::owner_of(&mut *db.reader().acquire().await?, &token_hash(token)).await?;
    let Some(owner) = owner else { return Ok(None) };
    if Micros::now().since(owner.last_used_at) > TOUCH_EVERY {
        // Best effort, off the request: a busy writer must never fail or delay a token check.
        let (db, token_id) = (db.clone(), owner.token_id);
        tokio::spawn(async move {
            if let Err(e) = touch(&db, token_id).await {
                tracing::debug!(error = %e, "recording token use failed");
            }
        });
    }
    Ok(Some(AuthUser {
        id: owner.user_id,
        username: owner.username,
        token_id: owner.token_id,
    }))
}

async fn touch(db: &Db, token_id: i64) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    store::tokens::touch(&mut tx, token_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Logs one device out: other profiles and machines of the same user stay signed in.
pub async fn logout(db: &Db, token_id: i64) -> DomainResult<bool> {
    let mut tx = db.begin_write().await?;
    let removed = store::tokens::remove(&mut tx, token_id).await?;
    tx.commit().await?;
    Ok(removed)
}
