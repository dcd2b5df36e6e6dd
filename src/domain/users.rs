//! Administering accounts: creating them, changing passwords, removing them.

use super::{require_admin, Actor, DomainError, DomainResult};
use crate::accounts;
use crate::store::{self, Db, UserId};

/// Argon2 runs off the async workers: it takes tens of milliseconds by design.
pub(crate) async fn hash_password(password: &str) -> DomainResult<String> {
    accounts::check_password_strength(password).map_err(DomainError::Invalid)?;
    let password = password.to_string();
    let phc = tokio::task::spawn_blocking(move || accounts::hash_password(&password))
        .await
        .map_err(anyhow::Error::from)??;
    Ok(phc)
}

/// A name as accounts store it, or why it cannot be one.
pub(crate) fn username(name: &str) -> DomainResult<String> {
    accounts::normalize_username(name).map_err(DomainError::Invalid)
}

/// A new account with its (normalised) name.
#[derive(Debug)]
pub struct Created {
    pub id: UserId,
    pub name: String,
}

/// Creates an account once its name and password pass the account rules.
pub async fn create(db: &Db, actor: Actor, name: &str, password: &str) -> DomainResult<Created> {
    require_admin(db, actor).await?;
    let name = username(name)?;
    let phc = hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    if store::users::by_name(&mut tx, &name).await?.is_some() {
        return Err(DomainError::UserExists(name));
    }
    let id = store::users::insert(&mut tx, &name, &phc).await?;
    tx.commit().await?;
    Ok(Created { id, name })
}

/// Sets a new password and logs the account out everywhere; answers the normalised name.
pub async fn set_password(
    db: &Db,
    actor: Actor,
    name: &str,
    password: &str,
) -> DomainResult<String> {
    require_admin(db, actor).await?;
    let name = username(name)?;
    let phc = hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    let user = store::users::by_name(&mut tx, &name)
        .await?
        .ok_or_else(|| DomainError::NoUser(name.clone()))?;
    store::users::set_password(&mut tx, &name, &phc).await?;
    store::tokens::remove_all_of(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(name)
}

/// Deletes an account with its sessions and the decks it owns; answers the normalised name.
pub async fn remove(db: &Db, actor: Actor, name: &str) -> DomainResult<String> {
    require_admin(db, actor).await?;
    let name = username(name)?;
    let mut tx = db.begin_write().await?;
    if !store::users::remove(&mut tx, &name).await? {
        return Err(DomainError::NoUser(name));
    }
    tx.commit().await?;
    Ok(name)
}

/// Every account, for the administrator.
pub async fn list(db: &Db, actor: Actor) -> DomainResult<Vec<store::users::User>> {
    require_admin(db, actor).await?;
    let mut conn = db.reader().acquire().await?;
    Ok(store::users::list(&mut conn).await?)
}

/// Lets an account administer the box (the console's Admin pages) or takes that away.
pub async fn set_admin(db: &Db, actor: Actor, name: &str, admin: bool) -> DomainResult<String> {
    require_admin(db, actor).await?;
    let name = username(name)?;
    let mut tx = db.begin_write().await?;
    let user = store::users::by_name(&mut tx, &name)
        .await?
        .ok_or_else(|| DomainError::NoUser(name.clone()))?;
    store::users::set_admin(&mut tx, user.id, admin).await?;
    tx.commit().await?;
    Ok(name)
}

/// Switches an account off (its sign-ins end and it cannot sign in) or back on.
pub async fn set_disabled(
    db: &Db,
    actor: Actor,
    name: &str,
    disabled: bool,
) -> DomainResult<String> {
    require_admin(db, actor).await?;
    let name = username(name)?;
    let mut tx = db.begin_write().await?;
    let user = store::users::by_name(&mut tx, &name)
        .await?
        .ok_or_else(|| DomainError::NoUser(name.clone()))?;
    if actor == Actor::User(user.id) {
        return Err(DomainError::Invalid(anyhow::anyhow!(
            "administrators cannot switch off their own account"
        )));
    }
    store::users::set_disabled(&mut tx, &name, disabled).await?;
    if disabled {
        store::tokens::remove_all_of(&mut tx, user.id).await?;
        store::console::delete_sessions_of(&mut tx, user.id).await?;
    }
    tx.commit().await?;
    Ok(name)
}
