//! The download half of the media flow: `/media/manifest` maps a tree's file names to
//! signed download URLs; a GET on such a URL is authorised and counted here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use super::names::Kind;
use super::token::{Direction, Grant};
use super::upload::token_refused;
use super::{media_url, now_secs, today, Media};
use crate::error::{AppError, AppResult};
use crate::store::media::Usage;
use crate::store::{self, Db, UserId};

/// Most names one manifest call may ask for, as the add-on batches them.
pub const MAX_MANIFEST_NAMES: usize = 500;

/// `/media/manifest` request.
#[derive(Debug, Deserialize)]
pub struct ManifestRequest {
    pub deck_hash: String,
    pub filenames: Vec<String>,
}

/// One downloadable file.
#[derive(Debug, Serialize)]
pub struct ManifestFile {
    pub filename: String,
    pub download_url: String,
}

/// `/media/manifest` answer.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub files: Vec<ManifestFile>,
    pub file_count: usize,
    pub expires_at: String,
}

/// A download the token allows: where the bytes are and how to label them.
#[derive(Debug)]
pub struct Download {
    pub path: PathBuf,
    pub mime: &'static str,
    /// Set when nginx should send the file (`X-Accel-Redirect`).
    pub accel: Option<String>,
}

impl Media {
    /// Download URLs for the requested names that live notes of the tree use.
    pub async fn manifest(
        &self,
        db: &Db,
        user: UserId,
        base_url: &str,
        req: ManifestRequest,
    ) -> AppResult<Manifest> {
        if req.filenames.is_empty() {
            return Err(AppError::BadRequest("filenames must not be empty".into()));
        }
        if req.filenames.len() > MAX_MANIFEST_NAMES {
            return Err(AppError::TooManyRequests {
                message: format!("at most {MAX_MANIFEST_NAMES} file names per request"),
                retry_after: 1,
            });
        }
        let mut conn = db.reader().acquire().await?;
        let deck = store::decks::by_hash(&mut conn, &req.deck_hash)
            .await?
            .ok_or_else(|| AppError::NotFound("Deck not found".into()))?;
        self.check_daily(&mut conn, user, Usage::Downloads, 1)
            .await?;
        let names = serde_json::to_string(&req.filenames).expect("strings serialise");
        let found = store::media::manifest(&mut conn, deck.root, &names).await?;
        let expires = now_secs() + self.limits.token_ttl;
        let files: Vec<ManifestFile> = found
            .into_iter()
            .map(|(filename, hash, _)| {
                let kind = Kind::of_name(&filename).map_or("bin", |k| k.tag());
                let grant = Grant {
                    direction: Direction::Download,
                    hash: hash.clone(),
                    size: 0,
                    user,
                    kind_tag: kind.into(),
                    expires,
                };
                let download_url = media_url(base_url, &hash, &self.signer.sign(&grant));
                ManifestFile {
                    filename,
                    download_url,
                }
            })
            .collect();
        let expires_at = time::OffsetDateTime::from_unix_timestamp(expires)
            .expect("valid time")
            .format(&Rfc3339)
            .expect("formats");
        Ok(Manifest {
            file_count: files.len(),
            files,
            expires_at,
        })
    }

    /// Checks a download token and the user's daily quota, then counts the download.
    /// Counting is best effort: a stored file is served even when the counter cannot be
    /// written (a full disk), so reads go on.
    pub async fn authorize_download(
        &self,
        db: &Db,
        hash: &str,
        token: &str,
    ) -> AppResult<Download> {
        let grant = self
            .signer
            .verify(token, Direction::Download, hash, now_secs())
            .map_err(token_refused)?;
        if !self.files.contains(hash) {
            return Err(AppError::NotFound("media file not found".into()));
        }
        self.check_daily(
            &mut *db.reader().acquire().await?,
            grant.user,
            Usage::Downloads,
            1,
        )
        .await?;
        if let Err(e) = count_download(db, grant.user).await {
            tracing::warn!(error = %e, user = grant.user.0, "counting a download failed; serving it anyway");
        }
        Ok(Download {
            path: self.files.path_of(hash),
            mime: grant.kind().map_or("application/octet-stream", Kind::mime),
            accel: self.accel_path(hash),
        })
    }
}

async fn count_download(db: &Db, user: UserId) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    store::media::add_usage(&mut tx, user, today(), Usage::Downloads, 1).await?;
    tx.commit().await?;
    Ok(())
}
