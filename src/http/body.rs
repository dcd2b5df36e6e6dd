//! Reading GZB64 bodies: the request stream is decoded on a blocking thread
//! (base64 → gunzip → JSON) with caps on raw and inflated size.

use std::io::Read;

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::error::{AppError, AppResult};
use crate::wire::gzb64::{self, DecodeError};

/// Decodes a GZB64 body with `parse`, never holding the raw or inflated body in memory.
pub async fn gzb64<T, F>(body: Body, max_body: usize, max_inflated: u64, parse: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(Box<dyn Read + Send>) -> Result<T, DecodeError> + Send + 'static,
{
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let bridge = SyncIoBridge::new(StreamReader::new(stream));
    tokio::task::spawn_blocking(move || {
        let capped = gzb64::BodyCap::new(bridge, max_body);
        parse(Box::new(gzb64::decoder(capped, max_inflated)))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::from)
}
