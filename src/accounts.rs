//! Accounts and sessions: argon2id passwords, random tokens stored only as SHA-256.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, BAD_LOGIN, BAD_REFRESH};
use crate::store::{self, now_micros, Db};

/// Access tokens live 30 days, refresh tokens 90 (docs/protocol.md).
const ACCESS_DAYS: i64 = 30;
const REFRESH_DAYS: i64 = 90;
const DAY_MICROS: i64 = 86_400 * 1_000_000;
/// `last_used_at` is written at most this often per token, to spare the SD card.
const TOUCH_EVERY_MICROS: i64 = 3_600 * 1_000_000;

/// argon2id with OWASP's low-memory parameter set (7 MiB, 5 passes): a Pi can afford it.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(7 * 1024, 5, 1, None).expect("valid argon2 params"),
    )
}

/// Used to spend the same time on unknown usernames as on wrong passwords.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").expect("hashing works"));

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?
        .to_string())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// SHA-256 of a token, the only form stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The add-on's user hash: hex SHA-256 of the lower-cased username.
pub fn user_hash(username: &str) -> String {
    hex::encode(Sha256::digest(username.to_lowercase().as_bytes()))
}

/// Normalises and checks a username the way the AnkiCollab website does.
pub fn normalize_username(name: &str) -> anyhow::Result<String> {
    let name = name.trim().to_lowercase();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 30,
        "usernames have 1 to 30 characters"
    );
    anyhow::ensure!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "usernames may contain only letters, digits, '_' and '-'"
    );
    Ok(name)
}

/// Checks a new password.
pub fn check_password_strength(password: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        password.chars().count() >= 8,
        "passwords need at least 8 characters"
    );
    anyhow::ensure!(password.len() <= 1024, "passwords are at most 1024 bytes");
    Ok(())
}

/// The `/login` and `/refreshToken` answer.
#[derive(Debug, Serialize)]
pub struct Session {
    pub token: String,
    pub refresh_token: String,
    pub expires_at: i64,
    pub user_id: i64,
}

/// A request's authenticated user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    /// The token pair this request presented, so logging out ends only this device's session.
    pub token_id: i64,
}

async fn issue(db: &Db, user_id: i64) -> AppResult<Session> {
    let mut tx = db.begin_write().await?;
    let session = issue_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(session)
}

/// Stores a fresh pair for `user_id` inside the caller's transaction.
async fn issue_in(conn: &mut store::Conn, user_id: i64) -> AppResult<Session> {
    let token = Alphanumeric.sample_string(&mut rand::rng(), 48);
    let refresh_token = Alphanumeric.sample_string(&mut rand::rng(), 64);
    let now = now_micros();
    let expires = now + ACCESS_DAYS * DAY_MICROS;
    store::tokens::insert(
        conn,
        user_id,
        &token_hash(&token),
        &token_hash(&refresh_token),
        expires,
        now + REFRESH_DAYS * DAY_MICROS,
    )
    .await?;
    Ok(Session {
        token,
        refresh_token,
        expires_at: expires / 1_000_000,
        user_id,
    })
}

/// Checks a username and password and opens a new session (other devices stay logged in).
pub async fn login(db: &Db, username: &str, password: &str) -> AppResult<Session> {
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
        Some(u) if ok => issue(db, u.id).await,
        _ => Err(AppError::Unauthorized(BAD_LOGIN)),
    }
}

/// Trades a refresh token for a new pair in one transaction: the old pair stops working
/// only once the new one is stored, so a failed write (a full disk) leaves the old valid.
pub async fn refresh(db: &Db, refresh_token: &str) -> AppResult<Session> {
    let mut tx = db.begin_write().await?;
    let Some(user_id) = store::tokens::take_refresh(&mut tx, &token_hash(refresh_token)).await?
    else {
        return Err(AppError::Unauthorized(BAD_REFRESH));
    };
    let session = issue_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(session)
}

/// Resolves a bearer token to its user, or `None` if it is unknown or expired.
pub async fn authenticate(db: &Db, token: &str) -> AppResult<Option<AuthUser>> {
    if token.is_empty() || token.len() > 1024 {
        return Ok(None);
    }
    let owner =
        store::tokens::owner_of(&mut *db.reader().acquire().await?, &token_hash(token)).await?;
    let Some(owner) = owner else { return Ok(None) };
    if now_micros() - owner.last_used_at > TOUCH_EVERY_MICROS {
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

async fn touch(db: &Db, token_id: i64) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    store::tokens::touch(&mut tx, token_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Logs one device out: other profiles and machines of the same user stay signed in.
pub async fn logout(db: &Db, token_id: i64) -> AppResult<bool> {
    let mut tx = db.begin_write().await?;
    let removed = store::tokens::remove(&mut tx, token_id).await?;
    tx.commit().await?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_hash_vector() {
        assert_eq!(
            user_hash("Alice"),
            "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
        );
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username(&"x".repeat(31)).is_err());
    }
}
