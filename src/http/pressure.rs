//! Load shedding while memory is short: large uploads get 503 with `Retry-After`
//! before their body is read, small requests keep working, nothing stored is touched.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::AppError;

/// Refuses large uploads while the monitor reports memory pressure.
pub async fn shed_large_uploads(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if s.vitals.under_memory_pressure() && is_large_upload(&req, s.config.pressure_large_body_bytes)
    {
        tracing::info!(
            path = req.uri().path(),
            "large upload refused while memory is short"
        );
        let mut resp = AppError::Unavailable(
            "The server is short of memory right now; please retry this upload in a minute.".into(),
        )
        .into_response();
        // The body stays unread (reading it would cost the memory we are short of), so
        // this connection cannot carry another request. A client that waits for
        // `100 Continue` reads the 503 cleanly; one that sends at once may see its
        // write fail instead.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    next.run(req).await
}

/// Deck uploads, suggestions and media PUTs, or anything announcing a body above `limit`.
fn is_large_upload(req: &Request, limit: u64) -> bool {
    let path = req.uri().path();
    let method = req.method();
    let upload_route = (method == Method::POST && matches!(path, "/createDeck" | "/submitCard"))
        || (method == Method::PUT && path.starts_with("/v1/media/"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    upload_route || declared.is_some_and(|len| len > limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, path: &str, len: Option<u64>) -> Request {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(len) = len {
            b = b.header(header::CONTENT_LENGTH, len);
        }
        b.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn which_requests_count_as_large() {
        assert!(is_large_upload(
            &req(Method::POST, "/createDeck", Some(10)),
            1024
        ));
        assert!(is_large_upload(
            &req(Method::POST, "/submitCard", None),
            1024
        ));
        assert!(is_large_upload(
            &req(Method::PUT, "/v1/media/0123abcd", Some(10)),
            1024
        ));
        assert!(is_large_upload(
            &req(Method::POST, "/pullChanges", Some(4096)),
            1024
        ));
        assert!(!is_large_upload(
            &req(Method::POST, "/pullChanges", Some(100)),
            1024
        ));
        assert!(!is_large_upload(
            &req(Method::GET, "/v1/media/0123abcd", None),
            1024
        ));
        assert!(!is_large_upload(&req(Method::GET, "/healthz", None), 1024));
    }
}
