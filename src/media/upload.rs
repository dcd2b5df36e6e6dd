//! The upload half of the media flow: `/media/check/bulk` promises upload URLs for
//! unknown files, the PUT stores checked bytes, `/media/confirm/bulk` records which notes
//! use them (docs/protocol.md §5, §9.4).

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::files::ReceiveError;
use super::names::{is_md5_hex, unsafe_name_reason, Kind};
use super::rights::{reference_for, Reference};
use super::token::{Direction, Grant};
use super::{media_url, now_secs, today, verify, Media, BATCH_LIFETIME, QUOTA_RETRY_SECS};
use crate::error::{AppError, AppResult};
use crate::store::media::{BatchFile, Usage};
use crate::store::{self, Conn, Db, Micros, NoteId, UserId};

/// Most files one check may list, as the add-on batches them.
pub const MAX_CHECK_FILES: usize = 100;

/// A file the add-on wants to upload.
#[derive(Debug, Deserialize, Serialize)]
pub struct CheckFile {
    pub hash: String,
    pub filename: String,
    pub note_guid: String,
    pub file_size: i64,
}

/// `/media/check/bulk` request.
#[derive(Debug, Deserialize)]
pub struct CheckRequest {
    pub deck_hash: String,
    pub files: Vec<CheckFile>,
    #[serde(default)]
    pub bulk_operation_id: Option<String>,
}

/// A file the server already has.
#[derive(Debug, Serialize)]
pub struct Existing {
    pub hash: String,
    pub media_id: i64,
}

/// A file to upload, with the URL to PUT it to.
#[derive(Debug, Serialize)]
pub struct Missing {
    pub hash: String,
    pub note_id: NoteId,
    pub filename: String,
    pub file_size: i64,
    pub upload_url: String,
}

/// `/media/check/bulk` answer.
#[derive(Debug, Serialize)]
pub struct CheckAnswer {
    pub existing_files: Vec<Existing>,
    pub missing_files: Vec<Missing>,
    pub failed_files: Vec<CheckFile>,
    pub batch_id: Option<String>,
}

/// What a successful PUT stored.
#[derive(Debug, Serialize)]
pub struct Stored {
    pub status: &'static str,
    pub hash: String,
    pub media_id: i64,
}

impl Media {
    /// Sorts the files into known, to-upload and refused, recording references to known ones.
    pub async fn check_bulk(
        &self,
        db: &Db,
        user: UserId,
        base_url: &str,
        req: CheckRequest,
    ) -> AppResult<CheckAnswer> {
        if req.files.is_empty() || req.files.len() > MAX_CHECK_FILES {
            return Err(AppError::BadRequest(format!(
                "files must list 1 to {MAX_CHECK_FILES} entries"
            )));
        }
        let mut tx = db.begin_write().await?;
        let deck = store::decks::by_hash(&mut tx, &req.deck_hash)
            .await?
            .ok_or_else(|| AppError::NotFound("Deck not found".into()))?;
        let mut answer = CheckAnswer {
            existing_files: vec![],
            missing_files: vec![],
            failed_files: vec![],
            batch_id: None,
        };
        let mut promised = Vec::new();
        for f in req.files {
            let kind = match self.refusal(&f) {
                Some(why) => {
                    tracing::debug!(hash = %f.hash, name = %f.filename, why, "media file refused at check");
                    answer.failed_files.push(f);
                    continue;
                }
                None => Kind::of_name(&f.filename).expect("checked by refusal"),
            };
            let Some(note) = store::notes::find(&mut tx, deck.root, &f.note_guid).await? else {
                answer.failed_files.push(f);
                continue;
            };
            let Some(reference) =
                reference_for(&mut tx, user, deck.root, note.deck, note.id).await?
            else {
                tracing::debug!(hash = %f.hash, note = %f.note_guid, "media refused: the note is neither the user's to edit nor in a suggestion of theirs");
                answer.failed_files.push(f);
                continue;
            };
            match store::media::by_hash(&mut tx, &f.hash).await? {
                Some(known) if self.files.contains(&known.hash) => {
                    record(&mut tx, reference, user, known.id, note.id, &f.filename).await?;
                    answer.existing_files.push(Existing {
                        hash: f.hash,
                        media_id: known.id,
                    });
                }
                _ => promised.push((f, note.id, kind)),
            }
        }
        if !promised.is_empty() {
            self.check_daily(&mut tx, user, Usage::Uploads, promised.len() as u64)
                .await?;
            let wanted: u64 = promised.iter().map(|(f, ..)| f.file_size as u64).sum();
            let stored = store::media::stored_bytes(&mut tx, user).await? as u64;
            if stored + wanted > self.limits.quota_bytes {
                return Err(AppError::TooManyRequests {
                    message: format!(
                        "You reached the upload limit: {stored} of {} bytes of media stored.",
                        self.limits.quota_bytes
                    ),
                    retry_after: QUOTA_RETRY_SECS,
                });
            }
            let batch = uuid::Uuid::new_v4().to_string();
            let now = Micros::now();
            store::media::insert_batch(&mut tx, &batch, user, deck.root, now, now + BATCH_LIFETIME)
                .await?;
            for (f, note_id, kind) in promised {
                let file = BatchFile {
                    hash: f.hash.clone(),
                    note_id,
                    file_name: f.filename.clone(),
                };
                store::media::insert_batch_file(&mut tx, &batch, &file).await?;
                let grant = Grant {
                    direction: Direction::Upload,
                    hash: f.hash.clone(),
                    size: f.file_size as u64,
                    user,
                    kind_tag: kind.tag().into(),
                    expires: now.as_secs() + self.limits.token_ttl,
                };
                let upload_url = media_url(base_url, &f.hash, &self.signer.sign(&grant));
                answer.missing_files.push(Missing {
                    hash: f.hash,
                    note_id,
                    filename: f.filename,
                    file_size: f.file_size,
                    upload_url,
                });
            }
            answer.batch_id = Some(batch);
        }
        tx.commit().await?;
        Ok(answer)
    }

    /// Why a listed file can never be accepted, judged from its description alone.
    fn refusal(&self, f: &CheckFile) -> Option<&'static str> {
        if !is_md5_hex(&f.hash) {
            return Some("hash is not 32 lowercase hex characters");
        }
        if f.file_size <= 0 || f.file_size as u64 > self.limits.max_file {
            return Some("file size is zero or above the limit");
        }
        unsafe_name_reason(&f.filename)
    }

    /// Stores the body of a PUT to an upload URL after checking token, size, MD5 and content.
    pub async fn receive<S, E>(
        &self,
        db: &Db,
        hash: &str,
        token: &str,
        content_md5: Option<&str>,
        body: S,
    ) -> AppResult<Stored>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let grant = self
            .signer
            .verify(token, Direction::Upload, hash, now_secs())
            .map_err(token_refused)?;
        let kind = grant
            .kind()
            .ok_or_else(|| AppError::BadRequest("token names an unknown file type".into()))?;
        let limit = grant.size.min(self.limits.max_file);
        let slot = self
            .upload_slots
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let received = self.files.receive(body, limit).await;
        drop(slot);
        let received = received.map_err(|e| match e {
            ReceiveError::TooLarge(n) => AppError::TooLarge(format!(
                "upload is larger than the {n} bytes announced for it"
            )),
            ReceiveError::Interrupted(why) => {
                AppError::BadRequest(format!("upload was interrupted: {why}"))
            }
            ReceiveError::Io(e) => AppError::Internal(e.into()),
        })?;
        if let Some(header) = content_md5 {
            use base64::Engine;
            let claimed = base64::engine::general_purpose::STANDARD
                .decode(header.trim())
                .unwrap_or_default();
            if claimed != received.md5_raw {
                return Err(AppError::BadRequest(
                    "Content-MD5 does not match the uploaded bytes".into(),
                ));
            }
        }
        if received.md5_hex != hash {
            return Err(AppError::BadRequest(format!(
                "uploaded bytes have MD5 {}, not {hash}",
                received.md5_hex
            )));
        }
        {
            let mut conn = db.reader().acquire().await?;
            self.check_daily(&mut conn, grant.user, Usage::Uploads, 1)
                .await?;
        }
        let _permit = match kind {
            Kind::Image(_) => Some(
                self.decode
                    .acquire()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?,
            ),
            _ => None,
        };
        let path = received.path().to_path_buf();
        let max_alloc = self.limits.image_max_alloc;
        let verdict = tokio::task::spawn_blocking(move || verify::check(&path, kind, max_alloc))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(e.into()))?;
        verdict.map_err(|why| AppError::Unprocessable(why.to_string()))?;
        // The write lock orders this against `media gc` deleting the same hash.
        let mut tx = db.begin_write().await?;
        let size = received.size;
        if self.files.contains(hash) {
            drop(received);
        } else {
            self.files
                .persist(received)
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        let media_id =
            store::media::insert_file(&mut tx, hash, size, kind.mime(), grant.user, Micros::now())
                .await?;
        store::media::add_usage(&mut tx, grant.user, today(), Usage::Uploads, 1).await?;
        tx.commit().await?;
        Ok(Stored {
            status: "stored",
            hash: hash.to_string(),
            media_id,
        })
    }

    /// Records which notes use the uploaded files of a batch (attached, or left with the
    /// uploader's suggestion); unknown or failed files and notes the user may not touch are skipped.
    pub async fn confirm(
        &self,
        db: &Db,
        user: UserId,
        batch: &str,
        hashes: &[String],
    ) -> AppResult<usize> {
        if batch.is_empty() {
            return Err(AppError::BadRequest("batch_id is required".into()));
        }
        let list = serde_json::to_string(hashes).expect("strings serialise");
        let mut tx = db.begin_write().await?;
        let files = store::media::batch_files(&mut tx, batch, user, &list, Micros::now()).await?;
        let root = store::media::batch_root(&mut tx, batch).await?;
        let mut recorded = 0;
        for f in files {
            let (Some(root), Some(deck)) = (root, store::notes::deck_of(&mut tx, f.note_id).await?)
            else {
                continue;
            };
            // Rights are judged again: they may have changed since the check.
            let Some(reference) = reference_for(&mut tx, user, root, deck, f.note_id).await? else {
                continue;
            };
            if let Some(stored) = store::media::by_hash(&mut tx, &f.hash).await? {
                record(&mut tx, reference, user, stored.id, f.note_id, &f.file_name).await?;
                recorded += 1;
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }
}

/// Attaches a reference at once or leaves it with the suggestion it belongs to.
async fn record(
    conn: &mut Conn,
    reference: Reference,
    user: UserId,
    media: i64,
    note: NoteId,
    name: &str,
) -> sqlx::Result<()> {
    match reference {
        Reference::Attach => {
            store::media::attach_reference(conn, media, note, name, user, Micros::now()).await
        }
        Reference::Suggest(commit) => {
            store::media::suggest_reference(conn, commit, media, note, name).await
        }
    }
}

/// A refused media token is a bad token: the add-on does not log out on 401 from media URLs.
pub(super) fn token_refused(e: super::token::TokenError) -> AppError {
    use super::token::TokenError;
    AppError::Unauthorized(match e {
        TokenError::Invalid => "media token is malformed or its signature is wrong",
        TokenError::Expired => "media token has expired; ask for a new URL",
        TokenError::Foreign => "media token was issued for another file or operation",
    })
}
