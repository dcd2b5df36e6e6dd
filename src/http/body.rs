//! Reading GZB64 bodies: the request stream is decoded on a blocking thread
//! (base64 → gunzip → JSON) with caps on raw and inflated size.

use std::io::Read;

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::error::{AppError, AppResult};
use crate::wire::gzb64::{self, DecodeError};

/// Decodes a GZB64 body with `parse`, never holding the raw or inflated body in memory.
///
/// When `parse` fails early, the rest of the body (up to `max_body`) is read and
/// dropped: hyper closes a connection whose request body was left unread, and a
/// client that reuses it for its next request would see a broken pipe.
pub async fn gzb64<T, F>(body: Body, max_body: usize, max_inflated: u64, parse: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Read) -> Result<T, DecodeError> + Send + 'static,
{
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let bridge = SyncIoBridge::new(StreamReader::new(stream));
    tokio::task::spawn_blocking(move || {
        let mut capped = gzb64::BodyCap::new(bridge, max_body);
        let parsed = parse(&mut gzb64::decoder(&mut capped, max_inflated));
        if parsed.is_err() {
            let _ = std::io::copy(&mut capped, &mut std::io::sink());
        }
        parsed
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::from)
}
