//! Subscriber counters, review statistics and (unsupported) deck links.

use axum::body::Body;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::auth::User;
use super::{body, AppState};
use crate::accounts;
use crate::error::{AppError, AppResult};
use crate::store::{self, stats::Stat};
use crate::wire::{deck_hash, envelope};

/// Review statistics bodies: the official server's 50 MB, well below the deck routes' 250 MB.
const STATS_BODY_LIMIT: usize = 50 * 1024 * 1024;

#[derive(Deserialize)]
pub struct SubscriptionRequest {
    deck_hash: String,
}

pub async fn add_subscription(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<SubscriptionRequest>,
) -> AppResult<&'static str> {
    if !deck_hash::is_valid(&req.deck_hash) {
        return Err(AppError::BadRequest("Invalid deck hash format".into()));
    }
    let mut tx = s.db.begin_write().await?;
    let deck = store::decks::by_hash(&mut tx, &req.deck_hash)
        .await?
        .ok_or_else(|| AppError::Unprocessable("Could not add subscription".into()))?;
    store::subscriptions::add(&mut tx, &accounts::user_hash(&user.username), deck.id).await?;
    tx.commit().await?;
    Ok("()")
}

pub async fn remove_subscription(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<SubscriptionRequest>,
) -> AppResult<&'static str> {
    let mut tx = s.db.begin_write().await?;
    let Some(deck) = store::decks::by_hash(&mut tx, &req.deck_hash).await? else {
        return Err(AppError::NotFound("Subscription not found".into()));
    };
    if !store::subscriptions::remove(&mut tx, &accounts::user_hash(&user.username), deck.id).await?
    {
        return Err(AppError::NotFound("Subscription not found".into()));
    }
    tx.commit().await?;
    Ok("()")
}

pub async fn upload_deck_stats(
    State(s): State<AppState>,
    User(user): User,
    raw: Body,
) -> AppResult<&'static str> {
    let max_string = s.config.max_json_string_bytes;
    let budget = s
        .decoding
        .budget("the statistics", s.config.max_stats_bytes);
    let (req, _decoded) = body::gzb64(
        raw,
        STATS_BODY_LIMIT,
        s.config.max_decompressed_bytes,
        budget,
        move |r| envelope::deck_stats(r, max_string),
    )
    .await?;
    if !deck_hash::is_valid(&req.deck_hash) {
        return Err(AppError::BadRequest("Invalid data".into()));
    }
    let stats: Vec<Stat> = req
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
    let mut tx = s.db.begin_write().await?;
    let Some(deck) = store::decks::by_hash(&mut tx, &req.deck_hash).await? else {
        return Err(AppError::NotFound("Deck not found".into()));
    };
    store::stats::upsert(
        &mut tx,
        deck.root,
        &accounts::user_hash(&user.username),
        &stats,
        store::now_micros(),
    )
    .await?;
    tx.commit().await?;
    Ok("Thanks for sharing!")
}

/// Deck links (inheritance between decks) are not implemented; the add-on shows this text.
pub async fn deck_links_unsupported(User(_): User) -> AppError {
    AppError::Unprocessable("Deck links are not supported by this deckd server".into())
}
