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

/// Most reviews one subscriber can report for one note: more than anyone studies a card
/// in a lifetime, and small enough that the sums over every subscriber of a deck stay far
/// from SQLite's integer limit (a sum past it fails every statistics page of the deck).
/// Kept equal to the bound in migrations/0015_bounded_review_figures.sql.
const MOST_REVIEWS: i64 = 1_000_000;

/// Stores `username`'s figures for the notes of the deck that exist, only if its
/// maintainers asked for statistics; out-of-range figures are clamped (retention to
/// 0–100, reviews to [`MOST_REVIEWS`], lapses to the reviews, since a lapse is one).
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
        .map(|(guid, st)| {
            let reps = st.reps.clamp(0, MOST_REVIEWS);
            Stat {
                guid,
                retention: st.retention.clamp(0, 100),
                lapses: st.lapses.clamp(0, reps),
                reps,
            }
        })
        .collect();
    let user = accounts::user_hash(username);
    let mut tx = db.begin_write().await?;
    let stored = store::stats::upsert(&mut tx, deck.root, &user, &stats, Micros::now()).await?;
    tx.commit().await?;
    Ok(Uploaded::Stored(stored))
}
