//! Administrative operations shared by the CLI and tests: they work directly on the
//! database, also while the server runs (SQLite WAL).

use anyhow::Context;

use crate::accounts;
use crate::config::Config;
use crate::store::{self, Db};

/// Creates an account; the name is normalised and the password checked.
pub async fn create_user(config: &Config, username: &str, password: &str) -> anyhow::Result<i64> {
    let db = Db::open(config).await?;
    let result = create_user_in(&db, username, password).await;
    db.close().await;
    result
}

/// Same as [`create_user`] on an open database.
pub async fn create_user_in(db: &Db, username: &str, password: &str) -> anyhow::Result<i64> {
    let name = accounts::normalize_username(username)?;
    accounts::check_password_strength(password)?;
    let password = password.to_string();
    let phc = tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await??;
    let mut tx = db.begin_write().await?;
    if store::users::by_name(&mut tx, &name).await?.is_some() {
        anyhow::bail!("user {name} already exists");
    }
    let id = store::users::insert(&mut tx, &name, &phc)
        .await
        .context("creating user")?;
    tx.commit().await?;
    Ok(id)
}
