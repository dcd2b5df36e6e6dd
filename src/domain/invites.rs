//! One-time invite links: an administrator makes one, a friend opens it and creates their
//! own account; each link works once and expires.

use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};

use super::web_sessions::{self, Opened};
use super::{require_admin, users, Actor, DomainError, DomainResult};
use crate::accounts::token_hash;
use crate::store::console::InviteRow;
use crate::store::{self, Db, Micros};

/// How long an invite link stays open unless the administrator chooses otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(7 * 86_400);

/// Makes an invite; answers the secret the link carries (shown once).
pub async fn create(db: &Db, actor: Actor, lifetime: Duration) -> DomainResult<String> {
    require_admin(db, actor).await?;
    let token = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let now = Micros::now();
    let by = match actor {
        Actor::User(id) => Some(id),
        Actor::Admin => None,
    };
    let mut tx = db.begin_write().await?;
    store::console::insert_invite(&mut tx, &token_hash(&token), by, now, now + lifetime).await?;
    tx.commit().await?;
    Ok(token)
}

/// Every invite, for the administrator.
pub async fn list(db: &Db, actor: Actor) -> DomainResult<Vec<InviteRow>> {
    require_admin(db, actor).await?;
    Ok(store::console::invites(&mut *db.reader().acquire().await?).await?)
}

/// Withdraws an unused invite.
pub async fn withdraw(db: &Db, actor: Actor, id: i64) -> DomainResult<bool> {
    require_admin(db, actor).await?;
    let mut tx = db.begin_write().await?;
    let done = store::console::delete_invite(&mut tx, id).await?;
    tx.commit().await?;
    Ok(done)
}

/// Whether the link `token` can still make an account (the sign-up page asks first).
pub async fn is_open(db: &Db, token: &str) -> DomainResult<bool> {
    if token.is_empty() || token.len() > 128 {
        return Ok(false);
    }
    Ok(store::console::invite_open(
        &mut *db.reader().acquire().await?,
        &token_hash(token),
        Micros::now(),
    )
    .await?)
}

/// Creates an account through an invite link, uses the link up and signs the new user in.
pub async fn sign_up(
    db: &Db,
    token: &str,
    username: &str,
    password: &str,
    user_agent: &str,
) -> DomainResult<Opened> {
    if !is_open(db, token).await? {
        return Err(DomainError::InviteClosed);
    }
    let name = users::username(username)?;
    let phc = users::hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    if store::users::by_name(&mut tx, &name).await?.is_some() {
        return Err(DomainError::UserExists(name));
    }
    let id = store::users::insert(&mut tx, &name, &phc).await?;
    if !store::console::take_invite(&mut tx, &token_hash(token), id, Micros::now()).await? {
        return Err(DomainError::InviteClosed);
    }
    let opened = web_sessions::open_in(&mut tx, id, user_agent).await?;
    tx.commit().await?;
    Ok(opened)
}
