//! Request bodies that stop arriving: each body may go `body_read_timeout_secs` without a
//! byte before reading it fails, however long the whole upload takes (a 250 MB deck on a
//! slow uplink keeps sending). Handlers refuse a body they could not read, and nothing
//! half-read is stored; this layer makes every such answer a 408, never a 401 or a 400.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use super::AppState;

/// Wraps the body in an inactivity timer and answers 408 when the timer fired.
pub async fn answer_408(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let idle = s.config.body_read_timeout_secs;
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let req = req.map(move |body| {
        Body::new(TimeoutBody::new(idle, body).map_err(move |e| {
            if e.is::<TimeoutError>() {
                flag.store(true, Ordering::Relaxed);
            }
            e
        }))
    });
    let resp = next.run(req).await;
    if !timed_out.load(Ordering::Relaxed) {
        return resp;
    }
    tracing::info!(
        idle_secs = idle.as_secs(),
        "request body stalled; answered 408"
    );
    let text = format!(
        "Request body stalled: no data arrived for {} s",
        idle.as_secs()
    );
    let mut resp = (StatusCode::REQUEST_TIMEOUT, text).into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
