//! `/media/missing/{deck}`: names the tree's reviewed fields use that no stored file
//! backs, so the add-on can upload just those.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;

use super::{scan, Media};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

impl Media {
    /// Media names referenced in reviewed fields of the tree and not yet stored for it.
    pub async fn missing(&self, db: &Db, deck_hash: &str) -> AppResult<Vec<String>> {
        let mut conn = db.reader().acquire().await?;
        let deck = store::decks::by_hash(&mut conn, deck_hash)
            .await?
            .ok_or_else(|| AppError::NotFound("Deck not found".into()))?;
        let mut wanted = BTreeSet::new();
        {
            let mut contents = store::media::reviewed_contents(&mut conn, deck.root);
            while let Some(html) = contents.try_next().await? {
                scan::media_names(&html, &mut wanted);
            }
        }
        for known in store::media::referenced_names(&mut conn, deck.root).await? {
            wanted.remove(&known);
        }
        Ok(wanted.into_iter().collect())
    }
}
