//! `/pullChanges`: which decks changed since the client's timestamp, answered as a
//! GZB64 stream (docs/protocol.md §2.3). Full pulls of a single deck are cached.

pub mod assemble;
mod body;
pub mod cache;
pub mod fill;
pub mod members;
pub mod note_object;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use axum::body::Body;
use bytes::Bytes;
use serde_json::{Map, Value};

use self::cache::PullCache;
use self::members::Part;
use crate::bootstrap::Archives;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, Micros};
use crate::wire::{deck_hash, gzb64, timestamp};

/// Upper bound on deck keys in one pull: the add-on sends every subscription at once, so
/// a user with many decks must fit, while the request stays bounded.
const MAX_KEYS: usize = 5_000;

/// Most decks in one answer put together from kept per-deck members; a request for
/// more is streamed from the database.
const MAX_MEMBER_DECKS: usize = 64;

/// One deck a client asks about.
#[derive(Debug)]
pub struct Wanted {
    pub hash: String,
    pub since: Micros,
}

/// A deck that will produce an entry.
#[derive(Debug)]
pub struct Plan {
    pub hash: String,
    pub since: Micros,
    pub deck: store::decks::Deck,
}

/// Validates the request map: keys are deck hashes, values carry `timestamp`.
pub fn parse_request(map: Map<String, Value>) -> AppResult<Vec<Wanted>> {
    if map.len() > MAX_KEYS {
        return Err(AppError::BadRequest(format!(
            "Too many deck entries (at most {MAX_KEYS})"
        )));
    }
    if map.len() == 1 && !deck_hash::is_valid(map.keys().next().expect("one key")) {
        return Err(AppError::BadRequest("Invalid deck key".into()));
    }
    let mut out = Vec::with_capacity(map.len());
    for (hash, value) in map {
        if !deck_hash::is_valid(&hash) {
            continue;
        }
        let ts = value
            .get("timestamp")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AppError::Unprocessable(format!("missing field `timestamp` for deck {hash}"))
            })?;
        let since = timestamp::parse_client(ts).ok_or_else(|| {
            AppError::Unprocessable(format!(
                "invalid timestamp {ts:?} for deck {hash}; expected YYYY-MM-DD HH:MM:SS"
            ))
        })?;
        out.push(Wanted { hash, since });
    }
    Ok(out)
}

/// Builds pull answers and keeps the cache of full pulls.
pub struct Puller {
    db: Db,
    cache: Mutex<PullCache>,
    /// Per-deck entries of full pulls as gzip members, for answers about several decks.
    members: Mutex<PullCache>,
    empty: Bytes,
    /// Wakes [`fill::run`] after a pull built note objects that had no stored copy.
    unfilled: Arc<Notify>,
    /// Deck archives first pulls of decks with media are pointed at, when kept.
    archives: Option<Arc<Archives>>,
}

impl Puller {
    pub fn new(db: Db, cache_bytes: usize) -> Self {
        let empty = gzb64::encode_value(&[(); 0]).expect("encoding [] cannot fail");
        Self {
            db,
            cache: Mutex::new(PullCache::new(cache_bytes / 2)),
            members: Mutex::new(PullCache::new(cache_bytes / 2)),
            empty: Bytes::from(empty),
            unfilled: Arc::new(Notify::new()),
            archives: None,
        }
    }

    /// Points first pulls of decks with media at `archives` (built with [`Self::unfilled`]).
    pub fn with_archives(mut self, archives: Option<Arc<Archives>>) -> Self {
        self.archives = archives;
        self
    }

    /// What the task that stores pulled note objects waits on.
    pub fn unfilled(&self) -> Arc<Notify> {
        self.unfilled.clone()
    }

    /// The answer body for a validated request; archive URLs are built on `base`.
    pub async fn pull(self: &Arc<Self>, wanted: Vec<Wanted>, base: &str) -> AppResult<Body> {
        let mut conn = self.db.reader().acquire().await?;
        let mut plans = Vec::new();
        for w in wanted {
            let Some(deck) = store::decks::by_hash(&mut conn, &w.hash).await? else {
                continue;
            };
            if deck.pending_commit.is_none() && deck.last_update > w.since {
                plans.push(Plan {
                    hash: w.hash,
                    since: w.since,
                    deck,
                });
            }
        }
        if plans.is_empty() {
            return Ok(Body::from(self.empty.clone()));
        }
        let cache_on = self.cache.lock().expect("cache lock").limit() > 0;
        let mut parts = Vec::new();
        if let Some(archives) = &self.archives {
            let mut rest = Vec::with_capacity(plans.len());
            for plan in plans {
                match archives.offer(&mut conn, &plan, base).await? {
                    Some(entry) => {
                        parts.push(Part::Ready(Bytes::from(gzb64::member(&entry.to_string()))))
                    }
                    None => rest.push(plan),
                }
            }
            plans = rest;
        }
        if !parts.is_empty() {
            for plan in plans {
                let version = if cache_on && plan.since < plan.deck.created_at {
                    Some((
                        plan.deck.last_update,
                        store::changelogs::latest_id(&mut conn, plan.deck.id).await?,
                    ))
                } else {
                    None
                };
                parts.push(Part::Deck(Box::new(plan), version));
            }
            drop(conn);
            return Ok(members::stream(Arc::clone(self), parts));
        }
        if cache_on
            && (2..=MAX_MEMBER_DECKS).contains(&plans.len())
            && plans.iter().all(|p| p.since < p.deck.created_at)
        {
            let mut versioned = Vec::with_capacity(plans.len());
            for plan in plans {
                let version = (
                    plan.deck.last_update,
                    store::changelogs::latest_id(&mut conn, plan.deck.id).await?,
                );
                versioned.push(Part::Deck(Box::new(plan), Some(version)));
            }
            drop(conn);
            return Ok(members::stream(Arc::clone(self), versioned));
        }
        let mut cache_key = None;
        if let [plan] = plans.as_slice() {
            if plan.since < plan.deck.created_at && cache_on {
                let version = (
                    plan.deck.last_update,
                    store::changelogs::latest_id(&mut conn, plan.deck.id).await?,
                );
                if let Some(hit) = self
                    .cache
                    .lock()
                    .expect("cache lock")
                    .get(&plan.hash, version)
                {
                    return Ok(Body::from(hit));
                }
                cache_key = Some((plan.hash.clone(), version));
            }
        }
        drop(conn);
        let this = Arc::clone(self);
        Ok(assemble::stream(
            self.db.clone(),
            plans,
            cache_key.is_some(),
            self.unfilled.clone(),
            move |body| {
                if let Some((hash, version)) = cache_key {
                    this.cache
                        .lock()
                        .expect("cache lock")
                        .put(&hash, version, body);
                }
            },
        ))
    }

    /// Drops every cached answer (called when memory runs short); returns the bytes released.
    pub fn clear_cache(&self) -> usize {
        self.cache.lock().expect("cache lock").clear()
            + self.members.lock().expect("cache lock").clear()
    }
}
