//! The live review counts: one Server-Sent Events stream per open page, which sends the
//! reader's counts whenever a queue they review changes.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{self, HeaderName};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use futures_util::{stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::session::{Signed, COOKIE};
use crate::domain::{queue, web_sessions, Actor};
use crate::http::AppState;
use crate::shares::{Share, Shares};
use crate::store::{DeckId, UserId};

/// Open event streams at most: each holds a connection, so without a bound a few signed-in
/// tabs could take every connection the add-on needs.
pub const MAX_STREAMS: usize = 32;

/// Open event streams one account may hold (a maintainer's few tabs), so that one account
/// cannot take every stream from the others.
pub const MAX_STREAMS_PER_USER: usize = 4;

/// The console's open event streams, bounded overall and per account.
pub struct LivePages {
    all: Arc<Semaphore>,
    per_user: Shares<UserId>,
}

impl Default for LivePages {
    fn default() -> Self {
        Self {
            all: Arc::new(Semaphore::new(MAX_STREAMS)),
            per_user: Shares::new(MAX_STREAMS_PER_USER),
        }
    }
}

/// How often an open stream checks that its session still exists when nothing happens.
const SESSION_CHECK: Duration = Duration::from_secs(10);

/// One open stream: what it waits on and whose it is.
struct Open {
    changes: broadcast::Receiver<DeckId>,
    cookie: String,
    check: Interval,
    s: AppState,
    _page: LivePage,
}

impl Open {
    /// Whether the stream's session still exists.
    async fn signed_in(&self) -> bool {
        matches!(
            web_sessions::resolve(&self.s.db, &self.cookie).await,
            Ok(Some(_))
        )
    }
}

/// An open stream's places; dropping it (the page closed) gives them back.
struct LivePage {
    _all: OwnedSemaphorePermit,
    _mine: Share<UserId>,
}

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
/// do not review change nothing they see, and their counts say so), until the page
/// closes or its session ends (signed out, password changed, account removed). Beyond
/// [`MAX_STREAMS_PER_USER`] of the reader's own streams the answer is 429, beyond
/// [`MAX_STREAMS`] in all 503; such a page's counts update when it is loaded again.
pub async fn stream(State(s): State<AppState>, Signed(me): Signed, jar: CookieJar) -> Response {
    let Some(mine) = s.live_pages.per_user.take(me.id) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "30")],
            "too many of your pages are live; counts update on the next page load",
        )
            .into_response();
    };
    let Ok(permit) = s.live_pages.all.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "too many open live pages; counts update on the next page load",
        )
            .into_response();
    };
    let page = LivePage {
        _all: permit,
        _mine: mine,
    };
    let stop = s.stop.clone();
    let user = me.id;
    let mut check = tokio::time::interval_at(Instant::now() + SESSION_CHECK, SESSION_CHECK);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let open = Open {
        changes: s.db.queue_changes(),
        cookie: jar
            .get(COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default(),
        check,
        s,
        _page: page,
    };
    let events = stream::unfold(open, move |mut open| async move {
        loop {
            tokio::select! {
                got = open.changes.recv() => match got {
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if !open.signed_in().await {
                            return None;
                        }
                        if let Some(event) = counts_event(&open.s, user).await {
                            return Some((Ok::<Event, Infallible>(event), open));
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = open.check.tick() => {
                    if !open.signed_in().await {
                        return None;
                    }
                }
            }
        }
    })
    .take_until(stop.cancelled_owned());
    (
        [(HeaderName::from_static("x-accel-buffering"), "no")],
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
        .into_response()
}
