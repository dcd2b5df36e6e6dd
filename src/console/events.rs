//! The live review counts: one Server-Sent Events stream per open page, which sends the
//! reader's counts whenever a queue they review changes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::{stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::session::Signed;
use crate::domain::{queue, Actor};
use crate::http::AppState;
use crate::store::UserId;

#[derive(Serialize)]
struct DeckPending {
    hash: String,
    pending: i64,
}

#[derive(Serialize)]
struct Counts {
    total: i64,
    decks: Vec<DeckPending>,
}

async fn counts_event(s: &AppState, user: UserId) -> Option<Event> {
    let decks = queue::counts(&s.db, Actor::User(user)).await.ok()?;
    let counts = Counts {
        total: decks.iter().map(|d| d.pending).sum(),
        decks: decks
            .into_iter()
            .map(|d| DeckPending {
                hash: d.hash,
                pending: d.pending,
            })
            .collect(),
    };
    Event::default().event("queue").json_data(counts).ok()
}

/// Sends the reader's counts after every change to a review queue (changes to decks they
/// do not review change nothing they see, and their counts say so).
pub async fn stream(State(s): State<AppState>, Signed(me): Signed) -> impl IntoResponse {
    let changes = s.db.queue_changes();
    let stop = s.stop.clone();
    let user = me.id;
    let events = stream::unfold((changes, s), move |(mut changes, s)| async move {
        loop {
            match changes.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    if let Some(event) = counts_event(&s, user).await {
                        return Some((Ok::<Event, Infallible>(event), (changes, s)));
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
    .take_until(stop.cancelled_owned());
    (
        [(HeaderName::from_static("x-accel-buffering"), "no")],
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
}
