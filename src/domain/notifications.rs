//! A user's notifications about their suggestions.

use super::{DomainError, DomainResult};
use crate::store::{self, Db, UserId};

/// Ids one request may mark read.
pub const MARK_LIMIT: usize = 1000;

/// Marks the user's own notifications among `ids` read; answers how many changed.
pub async fn mark_read(db: &Db, user: UserId, ids: &[i64]) -> DomainResult<u64> {
    if ids.len() > MARK_LIMIT {
        return Err(DomainError::TooMany(MARK_LIMIT));
    }
    let mut tx = db.begin_write().await?;
    let updated = store::notifications::mark_read(&mut tx, user, ids).await?;
    tx.commit().await?;
    Ok(updated)
}
