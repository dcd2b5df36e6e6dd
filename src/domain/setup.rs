//! First boot: while no account exists, the console offers a setup page that creates the
//! administrator, guarded by a one-time token that only someone on the box can read (the
//! journal, or `deckd setup-token`).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;

use super::web_sessions::{self, Opened};
use super::{users, DomainError, DomainResult};
use crate::store::{self, Db};

/// The token's file in the data directory, readable by deckd's user alone.
fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("setup-token")
}

/// The setup token while the box has no account (created on first use), `None` once set up.
pub async fn pending_token(db: &Db, data_dir: &Path) -> DomainResult<Option<String>> {
    let users = store::users::count(&mut *db.reader().acquire().await?).await?;
    let path = token_path(data_dir);
    if users > 0 {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    if let Ok(token) = std::fs::read_to_string(&path) {
        if token.trim().len() >= 16 {
            return Ok(Some(token.trim().to_string()));
        }
    }
    let token = Alphanumeric.sample_string(&mut rand::rng(), 24);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    writeln!(file, "{token}").map_err(anyhow::Error::from)?;
    file.sync_all().map_err(anyhow::Error::from)?;
    Ok(Some(token))
}

/// Where setup stands, as `deckd setup-token` reports it (it only reads: a token file
/// written by another user than deckd's would lock the server out of it).
#[derive(Debug, PartialEq)]
pub enum TokenState {
    Pending(String),
    /// No account yet, but the server has not started and written a token.
    NotWritten,
    Done,
}

/// Reads the pending setup token without creating one.
pub async fn read_token(db: &Db, data_dir: &Path) -> DomainResult<TokenState> {
    if store::users::count(&mut *db.reader().acquire().await?).await? > 0 {
        return Ok(TokenState::Done);
    }
    Ok(match std::fs::read_to_string(token_path(data_dir)) {
        Ok(token) if token.trim().len() >= 16 => TokenState::Pending(token.trim().to_string()),
        _ => TokenState::NotWritten,
    })
}

/// Creates the administrator with the setup token and signs them in.
pub async fn complete(
    db: &Db,
    data_dir: &Path,
    token: &str,
    username: &str,
    password: &str,
    user_agent: &str,
) -> DomainResult<Opened> {
    let Some(expected) = pending_token(db, data_dir).await? else {
        return Err(DomainError::AlreadySetUp);
    };
    if !bool::from(token.trim().as_bytes().ct_eq(expected.as_bytes())) {
        return Err(DomainError::BadSetupToken);
    }
    let name = users::username(username)?;
    let phc = users::hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    if store::users::count(&mut tx).await? > 0 {
        return Err(DomainError::AlreadySetUp);
    }
    let id = store::users::insert(&mut tx, &name, &phc).await?;
    store::users::set_admin(&mut tx, id, true).await?;
    let opened = web_sessions::open_in(&mut tx, id, user_agent).await?;
    tx.commit().await?;
    let _ = std::fs::remove_file(token_path(data_dir));
    Ok(opened)
}
