//! Subscriber counters and review statistics.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::auth::User;
use super::body::Gzb64;
use super::AppState;
use crate::domain::{self, DomainError};
use crate::error::{AppError, AppResult};
use crate::wire::envelope::DeckStats;

#[derive(Deserialize)]
pub struct SubscriptionRequest {
    deck_hash: String,
}

pub async fn add_subscription(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<SubscriptionRequest>,
) -> AppResult<&'static str> {
    domain::subscriptions::subscribe(&s.db, &user.username, &req.deck_hash)
        .await
        .map_err(|e| match e {
            DomainError::NoDeck(_) => AppError::Unprocessable("Could not add subscription".into()),
            e => e.into(),
        })?;
    Ok("()")
}

pub async fn remove_subscription(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<SubscriptionRequest>,
) -> AppResult<&'static str> {
    domain::subscriptions::unsubscribe(&s.db, &user.username, &req.deck_hash)
        .await
        .map_err(|e| match e {
            DomainError::InvalidHash(_) | DomainError::NoDeck(_) | DomainError::NotSubscribed => {
                AppError::NotFound("Subscription not found".into())
            }
            e => e.into(),
        })?;
    Ok("()")
}

/// Figures for a deck that does not ask for them are dropped; the add-on ignores the answer.
pub async fn upload_deck_stats(
    State(s): State<AppState>,
    User(user): User,
    Gzb64(req, _decoded): Gzb64<DeckStats>,
) -> AppResult<&'static str> {
    domain::stats::upload(&s.db, &user.username, &req)
        .await
        .map_err(|e| match e {
            DomainError::InvalidHash(_) => AppError::BadRequest("Invalid data".into()),
            e => e.into(),
        })?;
    Ok("Thanks for sharing!")
}
