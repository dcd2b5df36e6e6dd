//! The signed URLs of a cache-bootstrap entry (docs/protocol.md §2.5): the manifest and
//! the zip of a deck for new subscribers. The add-on fetches both without its token;
//! only the signature in the URL counts, and a refusal is 403 or 404, never 401.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tower::ServiceExt;

use super::AppState;
use crate::bootstrap::Served;
use crate::error::{AppError, AppResult};

#[derive(Deserialize)]
pub struct ArchiveQuery {
    token: Option<String>,
}

/// GET `/v1/deck-cache/{hash}/{version}/{manifest.json|archive.zip}?token=…`; the zip is
/// handed to nginx (`X-Accel-Redirect`) when configured, else streamed from disk with
/// Range support.
pub async fn get(
    State(s): State<AppState>,
    Path((hash, tag, file)): Path<(String, String, String)>,
    Query(q): Query<ArchiveQuery>,
    req: Request,
) -> AppResult<Response> {
    let archives = s
        .archives
        .as_ref()
        .ok_or_else(|| AppError::NotFound("this server keeps no deck archives".into()))?;
    let token = q
        .token
        .ok_or_else(|| AppError::Forbidden("the link has no token; pull the deck again".into()))?;
    match archives.open_url(&hash, &tag, &file, &token).await? {
        Served::Manifest(manifest) => Ok(Json(manifest).into_response()),
        Served::Archive { path, accel } => {
            let mut fixed = HeaderMap::new();
            fixed.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Some(accel) = accel {
                fixed.insert(
                    "x-accel-redirect",
                    HeaderValue::from_str(&accel).expect("digits and '_' are a valid header"),
                );
                return Ok((StatusCode::OK, fixed).into_response());
            }
            super::media::inert(&mut fixed);
            let served = tower_http::services::ServeFile::new(&path)
                .oneshot(req)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            if served.status() == StatusCode::NOT_FOUND {
                return Err(AppError::NotFound(
                    "This deck changed since the link was made; pull it again".into(),
                ));
            }
            let mut resp = served.map(Body::new).into_response();
            resp.headers_mut().extend(fixed);
            Ok(resp)
        }
    }
}
