//! Deck links: `/CreateDeckLink` and `/CreateNewNoteLink` (docs/protocol.md §6.5). The
//! add-on shows a refusal's text; none of them is a 401, which would log its user out.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::auth::User;
use super::AppState;
use crate::domain::deck_links::{self, NoteLinks};
use crate::domain::{Actor, DomainError};
use crate::error::{AppError, AppResult};

#[derive(Deserialize)]
pub struct DeckLinkRequest {
    subscriber_deck_hash: String,
    base_deck_hash: String,
}

#[derive(Deserialize)]
pub struct NoteLinkRequest {
    subscriber_deck_hash: String,
    base_deck_hash: String,
    note_guids: Vec<String>,
}

/// The add-on keeps the link locally only when the answer is exactly `Success`.
pub async fn create_deck_link(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<DeckLinkRequest>,
) -> AppResult<&'static str> {
    deck_links::create_link(
        &s.db,
        Actor::User(user.id),
        &req.subscriber_deck_hash,
        &req.base_deck_hash,
    )
    .await
    .map_err(refusal)?;
    Ok("Success")
}

/// Answers `{"linked": n, "skipped": [guid, …]}`, which the add-on parses.
pub async fn create_note_links(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<NoteLinkRequest>,
) -> AppResult<Json<NoteLinks>> {
    let done = deck_links::link_notes(
        &s.db,
        Actor::User(user.id),
        &req.subscriber_deck_hash,
        &req.base_deck_hash,
        &req.note_guids,
    )
    .await
    .map_err(refusal)?;
    Ok(Json(done))
}

/// The wording of refusals these two routes have beyond the shared ones.
fn refusal(e: DomainError) -> AppError {
    match e {
        DomainError::NotMaintainer => AppError::Forbidden(
            "Forbidden: only the owner and the maintainers of the subscribed deck may link it"
                .into(),
        ),
        DomainError::TooMany(limit) => AppError::TooLarge(format!(
            "At most {limit} notes can be linked in one request"
        )),
        DomainError::NoNotes => AppError::Unprocessable("No notes provided".into()),
        e => e.into(),
    }
}
