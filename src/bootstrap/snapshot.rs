//! Which version of a deck an archive shows: the deck's clock, its newest changelog and
//! the media references of its live notes. Confirming media does not move the deck's
//! clock, so the references count too.

use crate::store::{self, decks::Deck, media::TreeMedia, Conn, Micros};

/// A deck version, as far as an archive of it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub clock: Micros,
    pub changelog: i64,
    pub media: TreeMedia,
}

impl Snapshot {
    /// The version `deck` (a root) has now.
    pub async fn of(conn: &mut Conn, deck: &Deck) -> sqlx::Result<Self> {
        Ok(Self {
            clock: deck.last_update,
            changelog: store::changelogs::latest_id(conn, deck.id).await?,
            media: store::media::tree_media(conn, deck.root).await?,
        })
    }

    /// The version as it appears in file names and URLs: digits and `_` only.
    pub fn tag(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.clock.0, self.changelog, self.media.files, self.media.newest.0
        )
    }
}
