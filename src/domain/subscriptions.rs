//! The add-on's subscriber counters.

use super::{decks::by_hash, DomainError, DomainResult};
use crate::accounts;
use crate::store::{self, Db, Micros};

/// Counts `username` as a subscriber of the deck from now on; subscribing twice is a
/// no-op.
pub async fn subscribe(db: &Db, username: &str, hash: &str) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    store::subscriptions::add(
        &mut tx,
        &accounts::user_hash(username),
        deck.id,
        Micros::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stops counting `username` as a subscriber of the deck.
pub async fn unsubscribe(db: &Db, username: &str, hash: &str) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = by_hash(&mut tx, hash).await?;
    if !store::subscriptions::remove(&mut tx, &accounts::user_hash(username), deck.id).await? {
        return Err(DomainError::NotSubscribed);
    }
    tx.commit().await?;
    Ok(())
}
