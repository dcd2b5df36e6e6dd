//! Reading GZB64 bodies: the request stream is decoded on a blocking thread
//! (base64 → gunzip → JSON) with caps on raw and inflated size, and on what the decoded
//! value keeps in memory (its [`Budget`], drawn from the shared decode pool).

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::AppState;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::system::allocator;
use crate::wire::envelope::{self, CreateDeck, DeckStats, SubmitCard};
use crate::wire::gzb64::{self, DecodeError};
use crate::wire::meter::{self, Budget, Reservation};

/// Review statistics bodies: 50 MB, well below the deck routes' 250 MB (docs/protocol.md).
const STATS_BODY_LIMIT: usize = 50 * 1024 * 1024;

/// A request body the add-on sends as GZB64, with the limits that apply to it.
pub trait Gzb64Body: Sized + Send + 'static {
    /// What the value is, in the answer when the decode pool is exhausted.
    const WHAT: &'static str;
    /// Largest raw body accepted.
    fn max_body(c: &Config) -> usize;
    /// Most memory the decoded value may keep.
    fn max_kept(c: &Config) -> u64;
    fn parse(body: &mut dyn Read, c: &Config) -> Result<Self, DecodeError>;
}

impl Gzb64Body for CreateDeck {
    const WHAT: &'static str = "the deck's tree";
    fn max_body(c: &Config) -> usize {
        c.max_deck_body_bytes
    }
    fn max_kept(c: &Config) -> u64 {
        c.max_deck_tree_bytes
    }
    fn parse(body: &mut dyn Read, c: &Config) -> Result<Self, DecodeError> {
        envelope::create_deck(body, &c.data_dir, c.max_json_string_bytes)
    }
}

impl Gzb64Body for SubmitCard {
    const WHAT: &'static str = "the suggestion";
    fn max_body(c: &Config) -> usize {
        c.max_deck_body_bytes
    }
    fn max_kept(c: &Config) -> u64 {
        c.max_suggestion_bytes
    }
    fn parse(body: &mut dyn Read, c: &Config) -> Result<Self, DecodeError> {
        envelope::submit_card(body, c.max_json_string_bytes)
    }
}

impl Gzb64Body for DeckStats {
    const WHAT: &'static str = "the statistics";
    fn max_body(_: &Config) -> usize {
        STATS_BODY_LIMIT
    }
    fn max_kept(c: &Config) -> u64 {
        c.max_stats_bytes
    }
    fn parse(body: &mut dyn Read, c: &Config) -> Result<Self, DecodeError> {
        envelope::deck_stats(body, c.max_json_string_bytes)
    }
}

/// Extracts a decoded GZB64 body; the [`Reservation`] is the value's share of the decode
/// pool, held for as long as the extractor lives.
pub struct Gzb64<T>(pub T, pub Reservation);

impl<T: Gzb64Body> FromRequest<AppState> for Gzb64<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, AppError> {
        let config: Arc<Config> = s.config.clone();
        let budget = s.decoding.budget(T::WHAT, T::max_kept(&config));
        let (value, reservation) = gzb64(
            req.into_body(),
            T::max_body(&config),
            config.max_decompressed_bytes,
            budget,
            move |r| T::parse(r, &config),
        )
        .await?;
        Ok(Gzb64(value, reservation))
    }
}

/// A refused decode that kept more than this hands its freed pages back to the system.
const TRIM_AFTER: u64 = 1024 * 1024;

/// Decodes a GZB64 body with `parse`, never holding the raw or inflated body in memory.
/// The [`Reservation`] answered with the value is its share of the decode pool: keep it
/// while the value is in use.
///
/// When `parse` fails early, the rest of the body (up to `max_body`) is read and
/// dropped: hyper closes a connection whose request body was left unread, and a
/// client that reuses it for its next request would see a broken pipe.
async fn gzb64<T, F>(
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
