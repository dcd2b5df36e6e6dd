//! Review statistics subscribers share with a deck's maintainers.

use super::{decks::by_hash, DomainResult};
use crate::accounts;
use crate::store::{self, stats::Stat, Db, Micros};
use crate::wire::envelope::DeckStats;

/// What [`upload`] kept.
#[derive(Debug)]
pub enum Uploaded {
    /// Figures stored for this many notes of the deck.
    Stored(u64),
    /// The deck does not ask for statistics, so nothing was kept.
    NotWanted,
}

/// Stores `username`'s figures for the notes of the deck that exist, only if its
/// maintainers asked for statistics; out-of-range figures are clamped.
pub async fn upload(db: &Db, username: &str, upload: &DeckStats) -> DomainResult<Uploaded> {
    // Most decks do not ask: find that out without taking the write lock.
    let deck = by_hash(&mut *db.reader().acquire().await?, &upload.deck_hash).await?;
    if !deck.stats_enabled {
        return Ok(Uploaded::NotWanted);
    }
    let stats: Vec<Stat> = upload
        .review_history
        .values()
        .flat_map(|notes| notes.iter())
        .map(|(guid, st)| Stat {
            guid,
            retention: st.retention.clamp(0, 100),
            lapses: st.lapses.max(0),
            reps: st.reps.max(0),
        })
        .collect();
    let user = accounts::user_hash(username);
    let mut tx = db.begin_write().await?;
    let stored = store::stats::upsert(&mut tx, deck.root, &user, &stats, Micros::now()).await?;
    tx.commit().await?;
    Ok(Uploaded::Stored(stored))
}
