//! Publishing, suggesting and pulling: `/createDeck`, `/submitCard`, `/pullChanges`,
//! `/CheckDeckAlive`, `/GetDeckTimestamp`, `/GetProtectedFields`, `/requestRemoval`,
//! `/submitChangelog`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::User;
use super::body::Gzb64;
use super::media::PublicBase;
use super::AppState;
use crate::config::Config;
use crate::domain::{self, Actor, DomainError};
use crate::error::{AppError, AppResult};
use crate::ingest::{publish, suggest, CleanLimits};
use crate::pull;
use crate::store;
use crate::system::allocator;
use crate::wire::envelope::{CreateDeck, SubmitCard};
use crate::wire::timestamp;

/// A cleaned note may hold as much as one string of an upload, all of a suggestion's
/// notes as much as the suggestion may keep while it is decoded (a limit beyond a 32-bit
/// address space is no limit there).
fn clean_limits(c: &Config) -> CleanLimits {
    CleanLimits {
        note: usize::try_from(c.max_json_string_bytes).unwrap_or(usize::MAX),
        tree: usize::try_from(c.max_suggestion_bytes).unwrap_or(usize::MAX),
    }
}

pub async fn create_deck(
    State(s): State<AppState>,
    User(user): User,
    Gzb64(req, _decoded): Gzb64<CreateDeck>,
) -> AppResult<Json<Value>> {
    let limits = clean_limits(&s.config);
    let answer = match publish::create_deck(&s.db, user.id, req.deck, &req.notes, limits.note)
        .await?
    {
        publish::Published::Created { hash } => {
            tracing::Span::current().record("deck", hash.as_str());
            tracing::info!(deck = %hash, user = %user.username, "deck published");
            json!({"status": 1, "message": hash, "bulk_operation_id": uuid::Uuid::new_v4().to_string()})
        }
        publish::Published::Exists => {
            json!({"status": 0, "message": "Deck already exists. Please submit suggestions instead."})
        }
    };
    tokio::task::spawn_blocking(allocator::release_freed);
    Ok(Json(answer))
}

pub async fn submit_card(
    State(s): State<AppState>,
    User(user): User,
    Gzb64(req, _decoded): Gzb64<SubmitCard>,
) -> AppResult<&'static str> {
    let deck = req.remote_deck.clone();
    tracing::Span::current().record("deck", deck.as_str());
    suggest::submit(&s.db, user.id, req, clean_limits(&s.config)).await?;
    tokio::task::spawn_blocking(allocator::release_freed);
    tracing::info!(deck = %deck, user = %user.username, "suggestion stored");
    Ok("Success")
}

pub async fn pull_changes(
    State(s): State<AppState>,
    base: PublicBase,
    Json(req): Json<Map<String, Value>>,
) -> AppResult<Response> {
    let wanted = pull::parse_request(req)?;
    let body = s.puller.pull(wanted, base.as_str()).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

#[derive(Deserialize)]
pub struct AliveRequest {
    deck_hashes: Vec<String>,
}

/// Lists the hashes that do not exist; the add-on unsubscribes exactly those.
pub async fn check_deck_alive(
    State(s): State<AppState>,
    Json(req): Json<AliveRequest>,
) -> AppResult<Json<Vec<String>>> {
    for h in &req.deck_hashes {
        domain::decks::check_hash(h)?;
    }
    let existing =
        store::decks::existing_hashes(&mut *s.db.reader().acquire().await?, &req.deck_hashes)
            .await?;
    Ok(Json(
        req.deck_hashes
            .into_iter()
            .filter(|h| !existing.contains(h))
            .collect(),
    ))
}

pub async fn deck_timestamp(
    State(s): State<AppState>,
    Path(hash): Path<String>,
) -> AppResult<String> {
    domain::decks::check_hash(&hash)?;
    let deck = store::decks::by_hash(&mut *s.db.reader().acquire().await?, &hash).await?;
    Ok(deck
        .map(|d| timestamp::unix_seconds(d.last_update))
        .unwrap_or_else(|| "0".into()))
}

pub async fn protected_fields(
    State(s): State<AppState>,
    Path(hash): Path<String>,
) -> AppResult<Json<Value>> {
    domain::decks::check_hash(&hash)?;
    let mut conn = s.db.reader().acquire().await?;
    let Some(deck) = store::decks::by_hash(&mut conn, &hash).await? else {
        return Ok(Json(json!([])));
    };
    let fields = pull::assemble::protected_fields(&mut conn, deck.id).await?;
    Ok(Json(
        serde_json::to_value(fields).map_err(anyhow::Error::from)?,
    ))
}

#[derive(Deserialize)]
pub struct RemovalRequest {
    remote_deck: String,
    #[serde(default)]
    note_guids: Vec<String>,
    #[serde(default)]
    commit_text: String,
}

pub async fn request_removal(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<RemovalRequest>,
) -> AppResult<&'static str> {
    suggest::request_removal(
        &s.db,
        user.id,
        &req.remote_deck,
        &req.note_guids,
        &req.commit_text,
    )
    .await?;
    Ok("Success")
}

#[derive(Deserialize)]
pub struct ChangelogRequest {
    deck_hash: String,
    changelog: String,
}

/// Owners and maintainers only; others get 403 (never 401, which would log them out).
pub async fn submit_changelog(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<ChangelogRequest>,
) -> AppResult<&'static str> {
    domain::decks::add_changelog(&s.db, Actor::User(user.id), &req.deck_hash, &req.changelog)
        .await
        .map_err(|e| match e {
            DomainError::NotMaintainer => AppError::Forbidden(
                "You are not authorized to add a changelog message to this deck".into(),
            ),
            e => e.into(),
        })?;
    Ok("Changelog published successfully!")
}
