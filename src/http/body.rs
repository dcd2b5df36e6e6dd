//! Reading GZB64 bodies: the request stream is decoded on a blocking thread
//! (base64 → gunzip → JSON) with caps on raw and inflated size, and on what the decoded
//! value keeps in memory (its [`Budget`], drawn from the shared decode pool).

use std::io::Read;

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::error::{AppError, AppResult};
use crate::system::allocator;
use crate::wire::gzb64::{self, DecodeError};
use crate::wire::meter::{self, Budget, Reservation};

/// A refused decode that kept more than this hands its freed pages back to the system.
const TRIM_AFTER: u64 = 1024 * 1024;

/// Decodes a GZB64 body with `parse`, never holding the raw or inflated body in memory.
/// The [`Reservation`] answered with the value is its share of the decode pool: keep it
/// while the value is in use.
///
/// When `parse` fails early, the rest of the body (up to `max_body`) is read and
/// dropped: hyper closes a connection whose request body was left unread, and a
/// client that reuses it for its next request would see a broken pipe.
pub async fn gzb64<T, F>(
    body: Body,
    max_body: usize,
    max_inflated: u64,
    budget: Budget,
    parse: F,
) -> AppResult<(T, Reservation)>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Read) -> Result<T, DecodeError> + Send + 'static,
{
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let bridge = SyncIoBridge::new(StreamReader::new(stream));
    tokio::task::spawn_blocking(move || {
        let mut capped = gzb64::BodyCap::new(bridge, max_body);
        let (parsed, reservation) = meter::run(budget, || {
            parse(&mut gzb64::decoder(&mut capped, max_inflated))
        });
        match parsed {
            Ok(value) => Ok((value, reservation)),
            Err(e) => {
                let _ = std::io::copy(&mut capped, &mut std::io::sink());
                if reservation.peak() > TRIM_AFTER {
                    drop(reservation);
                    allocator::release_freed();
                }
                Err(e)
            }
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::from)
}
