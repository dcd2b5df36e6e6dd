//! Media routes (docs/protocol.md §5): the `/media/*` API the add-on calls with its Bearer
//! token, and the upload/download URLs under `/v1/media/{hash}` that only trust the
//! signed token in their query string.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::auth::User;
use super::AppState;
use crate::error::{AppError, AppResult, BAD_TOKEN};
use crate::media::download::{Manifest, ManifestRequest};
use crate::media::names::is_md5_hex;
use crate::media::svg;
use crate::media::upload::{CheckAnswer, CheckRequest, Stored};
use crate::wire::deck_hash;

/// Most SVGs one sanitise call may carry, as the add-on batches them.
const MAX_SVG_FILES: usize = 250;
/// SVG text one sanitise call may carry: the add-on batches up to 1 MB, with room to spare.
const MAX_SVG_BATCH_BYTES: usize = 2 * svg::MAX_SVG_BYTES;
/// Body limit for the sanitise call: JSON escaping (`\"`, `\uXXXX`) can triple the SVG text.
pub const SVG_BODY_LIMIT: usize = 4 * MAX_SVG_BATCH_BYTES;
/// Downloads are named by content, so they never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A downloaded file is someone's upload on the console's origin: opened in a browser it
/// may neither run script nor be sniffed into HTML (behind nginx its media location
/// sends the same).
const INERT: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Headers that keep an uploaded file served by deckd itself inert in a browser.
pub fn inert(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(INERT),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// The base URL media links are built on: the configured public URL, else the Host
/// the client used, with the scheme a trusted proxy reports (`X-Forwarded-Proto`), so
/// uploads behind a TLS proxy are not sent to `http://` and redirected into GETs.
pub struct PublicBase(String);

impl PublicBase {
    /// The base URL, such as `https://deckd.example`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether clients reach deckd over HTTPS (so cookies may demand it).
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl FromRequestParts<AppState> for PublicBase {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        if s.config.public_url.is_some() {
            return Ok(Self(s.config.effective_public_url()));
        }
        let headers = &parts.headers;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
        let Some(host) = host else {
            return Ok(Self(s.config.effective_public_url()));
        };
        let from_proxy = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| s.config.trusted_proxies.contains(&c.0.ip()));
        let https = from_proxy
            && headers
                .get("x-forwarded-proto")
                .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
        Ok(Self(format!(
            "{}://{host}",
            if https { "https" } else { "http" }
        )))
    }
}

fn check_media_hash(hash: &str) -> AppResult<()> {
    if is_md5_hex(hash) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "media hash must be 32 lowercase hex characters".into(),
        ))
    }
}

pub async fn check_bulk(
    State(s): State<AppState>,
    User(user): User,
    PublicBase(base): PublicBase,
    Json(req): Json<CheckRequest>,
) -> AppResult<Json<CheckAnswer>> {
    Ok(Json(s.media.check_bulk(&s.db, user.id, &base, req).await?))
}

#[derive(Deserialize)]
pub struct ConfirmRequest {
    batch_id: String,
    confirmed_files: Vec<String>,
}

pub async fn confirm_bulk(
    State(s): State<AppState>,
    User(user): User,
    Json(req): Json<ConfirmRequest>,
) -> AppResult<&'static str> {
    let n = s
        .media
        .confirm(&s.db, user.id, &req.batch_id, &req.confirmed_files)
        .await?;
    tracing::info!(user = %user.username, batch = %req.batch_id, recorded = n, "media confirmed");
    Ok("Thanks for sharing!")
}

pub async fn manifest(
    State(s): State<AppState>,
    User(user): User,
    PublicBase(base): PublicBase,
    Json(req): Json<ManifestRequest>,
) -> AppResult<Json<Manifest>> {
    Ok(Json(s.media.manifest(&s.db, user.id, &base, req).await?))
}

pub async fn missing(
    State(s): State<AppState>,
    User(_): User,
    Path(hash): Path<String>,
) -> AppResult<Json<Vec<String>>> {
    if !deck_hash::is_valid(&hash) {
        return Err(AppError::BadRequest("Invalid deck hash format".into()));
    }
    Ok(Json(s.media.missing(&s.db, &hash).await?))
}

#[derive(Deserialize)]
pub struct SvgFile {
    filename: String,
    content: String,
}

#[derive(Deserialize)]
pub struct SanitizeRequest {
    svg_files: Vec<SvgFile>,
}

/// Sanitises each SVG; one that is not an SVG at all is left out (the add-on then skips
/// it), one beyond the sanitiser's limits (nesting, element count) refuses the batch.
pub async fn sanitize_svg(
    User(_): User,
    Json(req): Json<SanitizeRequest>,
) -> AppResult<Json<Value>> {
    let total: usize = req.svg_files.iter().map(|f| f.content.len()).sum();
    if req.svg_files.is_empty()
        || req.svg_files.len() > MAX_SVG_FILES
        || total > MAX_SVG_BATCH_BYTES
    {
        return Err(AppError::BadRequest(format!(
            "svg_files must hold 1 to {MAX_SVG_FILES} files of at most {MAX_SVG_BATCH_BYTES} bytes in all"
        )));
    }
    let out = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for f in req.svg_files {
            match svg::sanitize(f.content.as_bytes()) {
                Ok(content) => {
                    let hash = hex::encode(Md5::digest(content.as_bytes()));
                    out.push(json!({"filename": f.filename, "content": content, "hash": hash}));
                }
                Err(why) if why.is_limit() => {
                    return Err(AppError::Unprocessable(format!("{}: {why}", f.filename)))
                }
                Err(why) => {
                    tracing::info!(file = %f.filename, %why, "SVG refused by the sanitiser")
                }
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    Ok(Json(json!({ "sanitized_files": out })))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

pub async fn upload(
    State(s): State<AppState>,
    Path(hash): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<Stored>> {
    check_media_hash(&hash)?;
    let token = q.token.ok_or(AppError::Unauthorized(BAD_TOKEN))?;
    let content_md5 = headers.get("content-md5").and_then(|v| v.to_str().ok());
    let stored = s
        .media
        .receive(&s.db, &hash, &token, content_md5, body.into_data_stream())
        .await?;
    tracing::info!(media = %hash, "media stored");
    Ok(Json(stored))
}

/// Serves a file: by nginx (`X-Accel-Redirect`) when configured, else streamed with Range support.
pub async fn download(
    State(s): State<AppState>,
    Path(hash): Path<String>,
    Query(q): Query<TokenQuery>,
    req: Request,
) -> AppResult<Response> {
    check_media_hash(&hash)?;
    let token = q.token.ok_or(AppError::Unauthorized(BAD_TOKEN))?;
    let dl = s.media.authorize_download(&s.db, &hash, &token).await?;
    let etag = format!("\"{hash}\"");
    let mut fixed = HeaderMap::new();
    fixed.insert(header::CONTENT_TYPE, HeaderValue::from_static(dl.mime));
    fixed.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header"),
    );
    if let Some(accel) = dl.accel {
        // nginx passes an upstream Cache-Control through the redirect; its internal
        // location adds the immutable one, so sending ours too would make two.
        fixed.insert(
            "x-accel-redirect",
            HeaderValue::from_str(&accel).expect("hex path is a valid header"),
        );
        return Ok((StatusCode::OK, fixed).into_response());
    }
    fixed.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    inert(&mut fixed);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, fixed).into_response());
    }
    let served = tower_http::services::ServeFile::new(&dl.path)
        .oneshot(req)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut resp = served.map(Body::new).into_response();
    resp.headers_mut().extend(fixed);
    Ok(resp)
}
