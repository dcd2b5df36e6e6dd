//! The live review counts: one Server-Sent Events stream per open page, which sends the
//! reader's counts whenever a queue they review changes.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{self, HeaderName};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::session::Signed;
use crate::domain::{queue, Actor};
use crate::http::AppState;
use crate::store::UserId;

/// Open event streams at most: each holds a connection, so without a bound a few signed-in
/// tabs (or one hostile account) could take every connection the add-on needs.
pub const MAX_STREAMS: usize = 32;

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
/// do not review change nothing they see, and their counts say so). Beyond
/// [`MAX_STREAMS`] open streams the answer is 503; the browser retries by itself.
pub async fn stream(State(s): State<AppState>, Signed(me): Signed) -> Response {
    let Ok(permit) = s.live_pages.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "too many open live pages; counts update on the next page load",
        )
            .into_response();
    };
    let changes = s.db.queue_changes();
    let stop = s.stop.clone();
    let user = me.id;
    let events = stream::unfold(
        (changes, s, permit),
        move |(mut changes, s, permit)| async move {
            loop {
                match changes.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if let Some(event) = counts_event(&s, user).await {
                            return Some((Ok::<Event, Infallible>(event), (changes, s, permit)));
                        }
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
    .take_until(stop.cancelled_owned());
    (
        [(HeaderName::from_static("x-accel-buffering"), "no")],
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
        .into_response()
}
