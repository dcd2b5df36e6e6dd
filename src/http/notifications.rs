//! Review outcomes for the add-on's notification center.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::User;
use super::AppState;
use crate::domain::{self, DomainError};
use crate::error::{AppError, AppResult};
use crate::store::{self, commits::Decision, notes::ChangeKind, CommitId, DeckId, NoteId};
use crate::wire::timestamp;

/// Most unread items returned at once.
const UNREAD_LIMIT: i64 = 500;

pub async fn unread(State(s): State<AppState>, User(user): User) -> AppResult<Json<Value>> {
    let mut conn = s.db.reader().acquire().await?;
    let count = store::notifications::unread_count(&mut conn, user.id).await?;
    let items = store::notifications::unread(&mut conn, user.id, UNREAD_LIMIT).await?;
    let mut order: Vec<DeckId> = Vec::new();
    let mut groups: BTreeMap<DeckId, (String, i64, i64, Vec<store::notifications::Item>)> =
        BTreeMap::new();
    for item in items {
        let g = groups.entry(item.deck_id).or_insert_with(|| {
            order.push(item.deck_id);
            (item.deck_name.clone(), 0, 0, Vec::new())
        });
        if item.status == Decision::Approved {
            g.1 += 1;
        } else {
            g.2 += 1;
        }
        g.3.push(item);
    }
    let groups: Vec<Value> = order
        .into_iter()
        .filter_map(|id| groups.remove(&id).map(|g| (id, g)))
        .map(|(id, (name, approved, denied, items))| {
            json!({"deck_id": id, "deck_name": name, "approved_count": approved, "denied_count": denied, "notifications": items})
        })
        .collect();
    Ok(Json(json!({"unread_count": count, "groups": groups})))
}

#[derive(Deserialize)]
pub struct Page {
    offset: Option<i64>,
    limit: Option<i64>,
}

pub async fn history(
    State(s): State<AppState>,
    User(user): User,
    Query(page): Query<Page>,
) -> AppResult<Json<Value>> {
    let offset = page.offset.unwrap_or(0).max(0);
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let (total, items) =
        store::notifications::history(&mut *s.db.reader().acquire().await?, user.id, offset, limit)
            .await?;
    Ok(Json(
        json!({"total": total, "offset": offset, "limit": limit, "items": items}),
    ))
}

#[derive(Deserialize)]
pub struct MarkRequest {
    ids: Vec<i64>,
}

pub async fn mark_read(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<MarkRequest>,
) -> AppResult<Json<Value>> {
    let updated = domain::notifications::mark_read(&s.db, user.id, &req.ids)
        .await
        .map_err(|e| match e {
            DomainError::TooMany(limit) => AppError::JsonError(
                StatusCode::BAD_REQUEST,
                format!("at most {limit} ids at once"),
            ),
            e => e.into(),
        })?;
    Ok(Json(json!({"updated": updated})))
}

/// A decided commit as its author sees it; 404 for anyone without a notification for it.
pub async fn commit_snapshot(
    State(s): State<AppState>,
    User(user): User,
    Path(id): Path<CommitId>,
) -> AppResult<Json<Value>> {
    let not_found = || AppError::JsonError(StatusCode::NOT_FOUND, "Commit not found".into());
    let mut conn = s.db.reader().acquire().await?;
    let Some((status, reason)) = store::notifications::for_commit(&mut conn, user.id, id).await?
    else {
        return Err(not_found());
    };
    let commit = store::commits::get(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    let events = store::commits::events(&mut conn, id).await?;
    let reviewed = status == Decision::Approved;
    let deleted: Vec<NoteId> = events
        .iter()
        .filter(|e| e.kind == ChangeKind::NoteDeleted)
        .map(|e| e.note)
        .collect();
    let moves: Vec<Value> = events
        .iter()
        .filter(|e| e.kind == ChangeKind::NoteMoved)
        .map(|e| json!({"note_id": e.note, "from_deck": null, "to_deck": null}))
        .collect();
    let field_changes: Vec<Value> = events
        .iter()
        .filter_map(|e| e.position.map(|p| (e, p)))
        .map(|(e, p)| {
            json!({"note_id": e.note, "position": p, "previous_content": e.old_text,
                   "suggested_content": e.new_text.clone().unwrap_or_default(), "reviewed": reviewed})
        })
        .collect();
    let tag_changes: Vec<Value> = events
        .iter()
        .filter(|e| e.kind.is_tag())
        .map(|e| {
            let added = e.kind == ChangeKind::TagAdded;
            let content = if added { &e.new_text } else { &e.old_text };
            json!({"note_id": e.note, "content": content, "action": added, "reviewed": reviewed && e.kind != ChangeKind::TagChangeDenied})
        })
        .collect();
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            json!({"note_id": e.note, "note_guid": e.guid, "version": 1, "event_type": e.kind.as_str(), "field_name": e.field_name,
                   "created_at": timestamp::rfc3339(e.created_at), "old_text": e.old_text, "new_text": e.new_text, "diff_html": null})
        })
        .collect();
    Ok(Json(json!({
        "commit_id": commit.id,
        "rationale": commit.rationale.code(),
        "info": commit.info,
        "timestamp": timestamp::rfc3339(commit.created_at),
        "deck_name": commit.deck_name,
        "author": commit.author,
        "field_changes": field_changes,
        "tag_changes": tag_changes,
        "deleted_note_ids": deleted,
        "move_changes": moves,
        "events": events,
        "decision_status": status,
        "decision_reason": reason,
    })))
}
