//! Serving a note's media to the console: images as their small previews (the
//! thumbnails the media store keeps), anything else as stored.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::PageError;
use crate::http::AppState;

/// `?name=` of a media request: the file name as the note writes it.
#[derive(Deserialize)]
pub struct MediaQuery {
    pub name: String,
}

/// The stored file `hash` (of type `mime`), or its preview, with Range support.
pub async fn serve(
    s: &AppState,
    hash: &str,
    mime: String,
    request: Request,
) -> Result<Response, PageError> {
    let (path, mime) = match s.media.thumbnail(&s.db, hash).await? {
        Some(thumb) => (thumb, "image/png".to_string()),
        None => (s.media.files.path_of(hash), mime),
    };
    let mime = HeaderValue::from_str(&mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let served = tower::ServiceExt::oneshot(tower_http::services::ServeFile::new(path), request)
        .await
        .map_err(anyhow::Error::from)?;
    let mut served = served.into_response();
    served.headers_mut().insert(header::CONTENT_TYPE, mime);
    Ok(served)
}
