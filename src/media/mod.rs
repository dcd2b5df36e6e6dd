//! Media: a content-addressed store on the Pi's disk with signed upload and download
//! URLs served by deckd itself (docs/protocol.md §5), content checks, quotas and GC.

pub(crate) mod download;
pub mod files;
pub mod gc;
pub(crate) mod leftovers;
pub(crate) mod missing;
pub mod names;
pub(crate) mod rights;
pub(crate) mod scan;
pub(crate) mod svg;
pub(crate) mod thumbs;
pub mod token;
pub(crate) mod upload;
pub mod verify;

use std::sync::Arc;

use tokio::sync::{OwnedRwLockReadGuard, RwLock, RwLockWriteGuard, Semaphore};

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::store::media::Usage;
use crate::store::{self, Conn, UserId};
use files::FileStore;
use token::Signer;

/// How long a client may take between `/media/check/bulk` and `/media/confirm/bulk`.
const BATCH_LIFETIME: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
/// What a client over a quota is told to wait before trying again.
const QUOTA_RETRY_SECS: u64 = 60;

/// Everything the media routes and commands share.
#[derive(Debug)]
pub struct Media {
    pub files: FileStore,
    signer: Signer,
    limits: Limits,
    /// One image decode at a time keeps peak memory at one decode buffer.
    decode: Semaphore,
    /// Bounds the uploads being read at once (and so their buffers).
    upload_slots: Semaphore,
    /// Held shared while a deck archive reads stored files, and exclusively while GC
    /// deletes them, so a build never loses a file it is copying.
    readers: Arc<RwLock<()>>,
}

/// The media settings of [`Config`].
#[derive(Debug)]
struct Limits {
    max_file: u64,
    quota_bytes: u64,
    uploads_per_day: u64,
    downloads_per_day: u64,
    token_ttl: i64,
    image_max_alloc: u64,
    accel_prefix: String,
}

impl Media {
    /// Opens the store and the URL signing key in the data directory (creating both on first start).
    pub fn open(config: &Config) -> anyhow::Result<Arc<Self>> {
        let files = FileStore::open(config.media_dir())?;
        let signer = Signer::load_or_create(&config.data_dir.join("media.key"))?;
        Ok(Arc::new(Self {
            files,
            signer,
            limits: Limits {
                max_file: config.media_max_file_bytes,
                quota_bytes: config.media_quota_bytes,
                uploads_per_day: config.media_uploads_per_day,
                downloads_per_day: config.media_downloads_per_day,
                token_ttl: config.media_token_ttl_secs.as_secs() as i64,
                image_max_alloc: config.media_image_max_alloc_bytes,
                accel_prefix: config.media_accel_prefix.clone(),
            },
            decode: Semaphore::new(1),
            upload_slots: Semaphore::new(config.media_upload_slots),
            readers: Arc::new(RwLock::new(())),
        }))
    }

    /// The nginx location to hand a download to, when deckd runs behind nginx.
    pub fn accel_path(&self, hash: &str) -> Option<String> {
        (!self.limits.accel_prefix.is_empty())
            .then(|| format!("{}{}", self.limits.accel_prefix, FileStore::relative(hash)))
    }

    /// The key media and deck-archive URLs are signed with.
    pub(crate) fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Keeps GC from deleting stored files while the guard lives (a deck archive build).
    pub(crate) async fn pin_files(&self) -> OwnedRwLockReadGuard<()> {
        self.readers.clone().read_owned().await
    }

    /// Waits until no build reads stored files, and keeps new ones out while held.
    async fn lock_for_deletion(&self) -> RwLockWriteGuard<'_, ()> {
        self.readers.write().await
    }

    /// Refuses when `user` has used up today's allowance of `what` (counting `more` new ones).
    async fn check_daily(
        &self,
        conn: &mut Conn,
        user: UserId,
        what: Usage,
        more: u64,
    ) -> AppResult<()> {
        let (limit, noun) = match what {
            Usage::Uploads => (self.limits.uploads_per_day, "upload"),
            Usage::Downloads => (self.limits.downloads_per_day, "download"),
        };
        let used = store::media::usage(conn, user, today(), what).await? as u64;
        if used + more > limit {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "You reached the {noun} limit of {limit} files per day. Try again tomorrow."
                ),
                retry_after: QUOTA_RETRY_SECS,
            });
        }
        Ok(())
    }
}

/// Unix seconds now.
fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The UTC day number quotas count in.
fn today() -> i64 {
    now_secs().div_euclid(86_400)
}

/// Builds a media URL on `base` for `hash` carrying `token`.
fn media_url(base: &str, hash: &str, token: &str) -> String {
    format!("{base}/v1/media/{hash}?token={token}")
}
