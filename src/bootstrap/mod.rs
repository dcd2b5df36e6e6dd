//! Deck archives for new subscribers (docs/protocol.md §2.5): the add-on's first pull of
//! a deck with media is answered with signed URLs to a manifest and a zip holding the
//! deck's pull entry and every media file its notes use, so a new subscriber fetches
//! one file instead of one request per image. Archives are built in the background, one
//! at a time, kept on disk within `deck_archive_bytes`, and named by the deck version
//! they show: a deck that changed is never answered from an older archive.

mod build;
mod shelf;
mod snapshot;
mod token;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::media::Media;
use crate::pull::Plan;
use crate::store::{self, Conn, Db, DeckId};
use crate::wire::timestamp::{self, ADDON_FIRST_PULL};

use shelf::Shelf;
pub use snapshot::Snapshot;
pub use token::Member;

/// The zip member holding the deck's pull entry, gzip-compressed.
pub const DECK_MEMBER: &str = "deck.json.gz";
/// Where media files sit inside the zip.
pub const MEDIA_PREFIX: &str = "media/";

/// How long a deck found without media at a given clock is taken to have none: counting
/// its media costs a probe per note, and a deck that gains some meanwhile is only
/// answered the ordinary way for that long.
const NO_MEDIA_MEMO: Duration = Duration::from_secs(60);
/// Decks remembered at most; the memo starts afresh past this.
const NO_MEDIA_MEMO_DECKS: usize = 10_000;

/// Builds, keeps and serves deck archives.
pub struct Archives {
    db: Db,
    media: Arc<Media>,
    shelf: Shelf,
    token_ttl: i64,
    /// Root decks whose current version a first pull found without an archive.
    wanted: Mutex<BTreeSet<DeckId>>,
    wake: Notify,
    /// Decks last found without media: their clock then and when.
    no_media: Mutex<HashMap<DeckId, (store::Micros, Instant)>>,
    /// What the pull path wakes when note objects had to be built (passed to pull assembly).
    unfilled: Arc<Notify>,
}

/// What a signed archive URL leads to.
pub enum Served {
    /// The manifest the add-on reads first.
    Manifest(Value),
    /// The zip on disk, and the nginx location to hand it to when one is configured.
    Archive {
        path: PathBuf,
        accel: Option<String>,
    },
}

impl Archives {
    /// Archives under the media store, or `None` when `deck_archive_bytes` is 0.
    pub fn open(
        config: &Config,
        db: Db,
        media: Arc<Media>,
        unfilled: Arc<Notify>,
    ) -> anyhow::Result<Option<Arc<Self>>> {
        if config.deck_archive_bytes == 0 {
            return Ok(None);
        }
        let shelf = Shelf::open(
            media.files.archives_dir(),
            config.deck_archive_bytes,
            config.media_accel_prefix.clone(),
        )?;
        Ok(Some(Arc::new(Self {
            db,
            media,
            shelf,
            token_ttl: config.media_token_ttl_secs.as_secs() as i64,
            wanted: Mutex::new(BTreeSet::new()),
            wake: Notify::new(),
            no_media: Mutex::new(HashMap::new()),
            unfilled,
        })))
    }

    /// The cache-bootstrap entry for `plan` when it is the add-on's first pull of a root
    /// deck with media and an archive of the deck as it is now exists; otherwise `None`
    /// (the ordinary entry answers) and, for such a deck, a build is asked for.
    pub async fn offer(
        &self,
        conn: &mut Conn,
        plan: &Plan,
        base: &str,
    ) -> sqlx::Result<Option<Value>> {
        let deck = &plan.deck;
        if plan.since != ADDON_FIRST_PULL || plan.since >= deck.created_at || deck.parent.is_some()
        {
            return Ok(None);
        }
        let known_bare = self
            .no_media
            .lock()
            .expect("memo lock")
            .get(&deck.id)
            .is_some_and(|(clock, at)| *clock == deck.last_update && at.elapsed() < NO_MEDIA_MEMO);
        if known_bare {
            return Ok(None);
        }
        let snapshot = Snapshot::of(conn, deck).await?;
        if snapshot.media.files == 0 {
            let mut memo = self.no_media.lock().expect("memo lock");
            if memo.len() >= NO_MEDIA_MEMO_DECKS {
                memo.clear();
            }
            memo.insert(deck.id, (deck.last_update, Instant::now()));
            return Ok(None);
        }
        let tag = snapshot.tag();
        if !self.shelf.has(deck.id, &tag) {
            self.want(deck.id);
            return Ok(None);
        }
        let expires = now_secs() + self.token_ttl;
        let url = |member: Member| {
            let token = token::sign(self.media.signer(), member, &plan.hash, &tag, expires);
            format!(
                "{base}/v1/deck-cache/{}/{tag}/{}?token={token}",
                plan.hash,
                member.file_name()
            )
        };
        Ok(Some(json!({
            "deck_hash": plan.hash,
            "mode": "cache-bootstrap",
            "manifest": {
                "manifest_presigned_url": url(Member::Manifest),
                "archive_presigned_url": url(Member::Archive),
                "manifest_last_modified": timestamp::rfc3339(snapshot.clock),
            }
        })))
    }

    /// Queues a build of `deck`'s archive for the background task.
    fn want(&self, deck: DeckId) {
        if self.wanted.lock().expect("queue lock").insert(deck) {
            self.wake.notify_one();
        }
    }

    /// Checks a signed URL and answers what it leads to: 403 for a bad or expired
    /// signature, 404 when the deck changed since the URL was made or the archive is gone.
    pub async fn open_url(
        &self,
        hash: &str,
        tag: &str,
        file: &str,
        token: &str,
    ) -> AppResult<Served> {
        let member = Member::from_file_name(file)
            .ok_or_else(|| AppError::NotFound("no such deck archive file".into()))?;
        token::verify(self.media.signer(), token, member, hash, tag, now_secs())
            .map_err(|e| AppError::Forbidden(e.to_string()))?;
        let mut conn = self.db.reader().acquire().await?;
        let deck = store::decks::by_hash(&mut conn, hash)
            .await?
            .ok_or_else(|| AppError::NotFound("Deck not found".into()))?;
        let snapshot = Snapshot::of(&mut conn, &deck).await?;
        drop(conn);
        if snapshot.tag() != tag || !self.shelf.has(deck.id, tag) {
            return Err(AppError::NotFound(
                "This deck changed since the link was made; pull it again".into(),
            ));
        }
        Ok(match member {
            Member::Manifest => Served::Manifest(json!({
                "deck_data": {"path": DECK_MEMBER, "compression": "gzip"},
                "source_last_update": timestamp::rfc3339(snapshot.clock),
                "media": {"path_prefix": MEDIA_PREFIX},
            })),
            Member::Archive => {
                let path = self.shelf.path(deck.id, tag);
                self.shelf.touch(&path);
                Served::Archive {
                    accel: self.shelf.accel_path(deck.id, tag),
                    path,
                }
            }
        })
    }

    /// Builds wanted archives one at a time until `stop`; tidies the shelf at start.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        if let Err(e) = self.tidy(None).await {
            tracing::warn!(error = %e, "could not tidy the deck archives");
        }
        loop {
            let next = self.wanted.lock().expect("queue lock").pop_first();
            let Some(deck) = next else {
                tokio::select! {
                    _ = self.wake.notified() => continue,
                    _ = stop.cancelled() => return,
                }
            };
            if let Err(e) = self.build(deck, &stop).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    deck = deck.0,
                    "building a deck archive failed"
                );
            }
        }
    }
}

/// Unix seconds now.
fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
