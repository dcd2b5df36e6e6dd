//! Media rows: stored files, which notes use them under which names, pending upload
//! batches, daily usage counters, and the orphan marks garbage collection works from.

use super::{CommitId, DeckId, Micros, NoteId, UserId};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use super::Conn;

/// A stored file.
#[derive(Debug, sqlx::FromRow)]
pub struct MediaFile {
    pub id: i64,
    pub hash: String,
    pub size: i64,
    pub mime: String,
}

/// A file promised by `/media/check/bulk`, waiting for its upload and confirmation.
#[derive(Debug, sqlx::FromRow)]
pub struct BatchFile {
    pub hash: String,
    pub note_id: NoteId,
    pub file_name: String,
}

/// Which daily counter to use.
#[derive(Debug)]
pub enum Usage {
    Uploads,
    Downloads,
}

impl Usage {
    fn column(self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::Downloads => "downloads",
        }
    }
}

/// The stored file with this MD5, if any.
pub async fn by_hash(conn: &mut Conn, hash: &str) -> sqlx::Result<Option<MediaFile>> {
    sqlx::query_as("SELECT id, hash, size, mime FROM media_files WHERE hash = ?")
        .bind(hash)
        .fetch_optional(conn)
        .await
}

/// Records a stored file (or revives an existing row), returning its id.
pub async fn insert_file(
    conn: &mut Conn,
    hash: &str,
    size: u64,
    mime: &str,
    uploader: UserId,
    now: Micros,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO media_files (hash, size, mime, uploader, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(hash) DO UPDATE SET orphaned_at = NULL RETURNING id",
    )
    .bind(hash)
    .bind(size as i64)
    .bind(mime)
    .bind(uploader)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Records, for someone with the deck's rights, that `note` uses file `media` under
/// `name`: the note's earlier file of that name and its earlier name for `media` give way.
pub async fn attach_reference(
    conn: &mut Conn,
    media: i64,
    note: NoteId,
    name: &str,
    by: UserId,
    now: Micros,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM media_references WHERE note_id = ? AND file_name = ? AND media_id <> ?",
    )
    .bind(note)
    .bind(name)
    .bind(media)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO media_references (media_id, note_id, file_name, attached_by, attached_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(media_id, note_id) DO UPDATE SET file_name = excluded.file_name,
             attached_by = excluded.attached_by, attached_at = excluded.attached_at",
    )
    .bind(media)
    .bind(note)
    .bind(name)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    unmark_orphan(conn, media).await
}

/// Records a reference a pending suggestion asks for; it takes effect only on approval.
pub async fn suggest_reference(
    conn: &mut Conn,
    commit: CommitId,
    media: i64,
    note: NoteId,
    name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO media_reference_suggestions (commit_id, media_id, note_id, file_name) VALUES (?, ?, ?, ?)
         ON CONFLICT(commit_id, media_id, note_id) DO UPDATE SET file_name = excluded.file_name",
    )
    .bind(commit)
    .bind(media)
    .bind(note)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    unmark_orphan(conn, media).await
}

/// The references suggestion `commit` asks for, as `(media, note, name)`.
pub async fn suggested_references(
    conn: &mut Conn,
    commit: CommitId,
) -> sqlx::Result<Vec<(i64, NoteId, String)>> {
    sqlx::query_as(
        "SELECT media_id, note_id, file_name FROM media_reference_suggestions WHERE commit_id = ? ORDER BY note_id, media_id",
    )
    .bind(commit)
    .fetch_all(conn)
    .await
}

async fn unmark_orphan(conn: &mut Conn, media: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE media_files SET orphaned_at = NULL WHERE id = ? AND orphaned_at IS NOT NULL",
    )
    .bind(media)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens an upload batch for `user` on tree `root`.
pub async fn insert_batch(
    conn: &mut Conn,
    id: &str,
    user: UserId,
    root: DeckId,
    now: Micros,
    expires: Micros,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO media_batches (id, user_id, root, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(user)
        .bind(root)
        .bind(now)
        .bind(expires)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a promised file to a batch.
pub async fn insert_batch_file(conn: &mut Conn, batch: &str, f: &BatchFile) -> sqlx::Result<()> {
    sqlx::query("INSERT OR REPLACE INTO media_batch_files (batch, hash, note_id, file_name) VALUES (?, ?, ?, ?)")
        .bind(batch)
        .bind(&f.hash)
        .bind(f.note_id)
        .bind(&f.file_name)
        .execute(conn)
        .await?;
    Ok(())
}

/// The files of `user`'s unexpired batch `batch` whose hashes are in `hashes` (a JSON array).
pub async fn batch_files(
    conn: &mut Conn,
    batch: &str,
    user: UserId,
    hashes: &str,
    now: Micros,
) -> sqlx::Result<Vec<BatchFile>> {
    sqlx::query_as(
        "SELECT f.hash, f.note_id, f.file_name FROM media_batch_files f JOIN media_batches b ON b.id = f.batch
         WHERE b.id = ? AND b.user_id = ? AND b.expires_at >= ? AND f.hash IN (SELECT value FROM json_each(?))",
    )
    .bind(batch)
    .bind(user)
    .bind(now)
    .bind(hashes)
    .fetch_all(conn)
    .await
}

/// The tree an upload batch was opened for.
pub async fn batch_root(conn: &mut Conn, batch: &str) -> sqlx::Result<Option<DeckId>> {
    sqlx::query_scalar("SELECT root FROM media_batches WHERE id = ?")
        .bind(batch)
        .fetch_optional(conn)
        .await
}

/// Deletes batches past their expiry (their promises can no longer be confirmed).
pub async fn purge_expired_batches(conn: &mut Conn, now: Micros) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM media_batches WHERE expires_at < ?")
            .bind(now)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Bytes of media first uploaded by `user`.
pub async fn stored_bytes(conn: &mut Conn, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(SUM(size), 0) FROM media_files WHERE uploader = ?")
        .bind(user)
        .fetch_one(conn)
        .await
}

/// One account's share of the media store.
#[derive(Debug, sqlx::FromRow)]
pub struct UserBytes {
    pub username: String,
    pub bytes: i64,
    pub files: i64,
}

/// Bytes and files of media first uploaded by each account, largest first (accounts
/// without media too).
pub async fn bytes_by_user(conn: &mut Conn) -> sqlx::Result<Vec<UserBytes>> {
    sqlx::query_as(
        "SELECT u.username, COALESCE(SUM(f.size), 0) AS bytes, COUNT(f.id) AS files \
         FROM users u LEFT JOIN media_files f ON f.uploader = u.id \
         GROUP BY u.id ORDER BY bytes DESC, u.username",
    )
    .fetch_all(conn)
    .await
}

/// Bytes and files in the whole media store.
pub async fn total_bytes(conn: &mut Conn) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as("SELECT COALESCE(SUM(size), 0), COUNT(*) FROM media_files")
        .fetch_one(conn)
        .await
}

/// Today's count of `usage` for `user`.
pub async fn usage(conn: &mut Conn, user: UserId, day: i64, usage: Usage) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT COALESCE((SELECT {} FROM media_usage WHERE user_id = ? AND day = ?), 0)",
        usage.column()
    );
    sqlx::query_scalar(&sql)
        .bind(user)
        .bind(day)
        .fetch_one(conn)
        .await
}

/// Adds `n` to today's count of `usage` for `user`.
pub async fn add_usage(
    conn: &mut Conn,
    user: UserId,
    day: i64,
    usage: Usage,
    n: i64,
) -> sqlx::Result<()> {
    let col = usage.column();
    let sql = format!(
        "INSERT INTO media_usage (user_id, day, {col}) VALUES (?, ?, ?) ON CONFLICT(user_id, day) DO UPDATE SET {col} = {col} + excluded.{col}"
    );
    sqlx::query(&sql)
        .bind(user)
        .bind(day)
        .bind(n)
        .execute(conn)
        .await?;
    Ok(())
}

/// Usage counters older than `before_day` are no longer needed.
pub async fn purge_usage(conn: &mut Conn, before_day: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM media_usage WHERE day < ?")
        .bind(before_day)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Which file each name used by a live, reviewed note of tree `?1` (or by the base note
/// of one of its linked notes, whose fields it shows) stands for, as
/// `(file_name, hash, mime)` rows; `{names}` narrows the names. When a name stands for
/// several files, the reference made by someone who holds the rights over that note's
/// deck wins, then the newest, then the smaller hash, so the answer never depends on
/// who merely uploaded.
const PICKS: &str = "WITH RECURSIVE bases(note, root) AS (
         SELECT b.id, b.root FROM note_links l JOIN notes s ON s.id = l.note JOIN notes b ON b.id = l.base_note
         WHERE s.root = ?1
     ),
     rights(deck, user_id) AS (
         SELECT id, owner FROM decks WHERE root = ?1 OR root IN (SELECT root FROM bases)
         UNION SELECT m.deck, m.user_id FROM maintainers m JOIN decks d ON d.id = m.deck
               WHERE d.root = ?1 OR d.root IN (SELECT root FROM bases)
         UNION SELECT d.id, r.user_id FROM decks d JOIN rights r ON d.parent = r.deck
     ),
     ranked AS (
         SELECT r.file_name, m.hash, m.mime, ROW_NUMBER() OVER (
             PARTITION BY r.file_name
             ORDER BY EXISTS (SELECT 1 FROM rights g WHERE g.deck = n.deck AND g.user_id = r.attached_by) DESC,
                      r.attached_at DESC, m.hash
         ) AS pick
         FROM media_references r JOIN notes n ON n.id = r.note_id JOIN media_files m ON m.id = r.media_id
         WHERE (n.root = ?1 OR n.id IN (SELECT note FROM bases))
           AND n.reviewed = 1 AND n.deleted = 0 {names}
     )
     SELECT file_name, hash, mime FROM ranked WHERE pick = 1 ORDER BY file_name";

/// `(file name, hash, mime)` for each requested name (a JSON array) used by a live,
/// reviewed note of tree `root` or a base note of its linked notes (see [`PICKS`]).
pub async fn manifest(
    conn: &mut Conn,
    root: DeckId,
    names: &str,
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(&PICKS.replace(
        "{names}",
        "AND r.file_name IN (SELECT value FROM json_each(?2))",
    ))
    .bind(root)
    .bind(names)
    .fetch_all(conn)
    .await
}

/// `(file name, hash, mime)` for every name live, reviewed notes of tree `root` (and the
/// base notes of its linked notes) use:
/// what a deck archive for new subscribers holds.
pub async fn tree_files(
    conn: &mut Conn,
    root: DeckId,
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(&PICKS.replace("{names}", ""))
        .bind(root)
        .fetch_all(conn)
        .await
}

/// The media references of live, reviewed notes of tree `root`: how many, when the
/// newest was made, and the bytes of the files they name. A deck archive is current
/// only while these stay the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct TreeMedia {
    pub files: i64,
    pub newest: Micros,
    pub bytes: i64,
}

/// [`TreeMedia`] of tree `root`.
pub async fn tree_media(conn: &mut Conn, root: DeckId) -> sqlx::Result<TreeMedia> {
    sqlx::query_as(
        "SELECT COUNT(*) AS files, COALESCE(MAX(r.attached_at), 0) AS newest, COALESCE(SUM(m.size), 0) AS bytes
         FROM media_references r JOIN notes n ON n.id = r.note_id JOIN media_files m ON m.id = r.media_id
         WHERE n.root = ? AND n.reviewed = 1 AND n.deleted = 0",
    )
    .bind(root)
    .fetch_one(conn)
    .await
}

/// Names under which live notes of tree `root` reference stored media.
pub async fn referenced_names(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT r.file_name FROM media_references r JOIN notes n ON n.id = r.note_id WHERE n.root = ? AND n.deleted = 0",
    )
    .bind(root)
    .fetch_all(conn)
    .await
}

/// Streams the reviewed field contents of live notes of tree `root`.
pub fn reviewed_contents<'c>(
    conn: &'c mut Conn,
    root: DeckId,
) -> BoxStream<'c, sqlx::Result<String>> {
    sqlx::query_scalar(
        "SELECT f.content FROM fields f JOIN notes n ON n.id = f.note
         WHERE n.root = ? AND n.reviewed = 1 AND n.deleted = 0 AND f.reviewed = 1 AND f.content <> ''",
    )
    .bind(root)
    .fetch(conn)
    .boxed()
}

/// A file is live while a live note uses it or a pending suggestion asks for it.
const LIVE_REFERENCE: &str =
    "(EXISTS (SELECT 1 FROM media_references r JOIN notes n ON n.id = r.note_id WHERE r.media_id = media_files.id AND n.deleted = 0)
      OR EXISTS (SELECT 1 FROM media_reference_suggestions s WHERE s.media_id = media_files.id))";

/// Marks files no live note uses as orphaned from `now`, and unmarks files used again.
pub async fn mark_orphans(conn: &mut Conn, now: Micros) -> sqlx::Result<(u64, u64)> {
    let marked = sqlx::query(&format!(
        "UPDATE media_files SET orphaned_at = ? WHERE orphaned_at IS NULL AND NOT {LIVE_REFERENCE}"
    ))
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let revived = sqlx::query(&format!("UPDATE media_files SET orphaned_at = NULL WHERE orphaned_at IS NOT NULL AND {LIVE_REFERENCE}"))
        .execute(conn)
        .await?
        .rows_affected();
    Ok((marked, revived))
}

/// Up to `limit` files orphaned since before `cutoff` and still unused.
pub async fn expired_orphans(
    conn: &mut Conn,
    cutoff: Micros,
    limit: i64,
) -> sqlx::Result<Vec<MediaFile>> {
    sqlx::query_as(&format!(
        "SELECT id, hash, size, mime FROM media_files WHERE orphaned_at < ? AND NOT {LIVE_REFERENCE} ORDER BY id LIMIT ?"
    ))
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Forgets a file (its references to deleted notes go with it).
pub async fn delete_file(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM media_files WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a row exists for each hash in `hashes` (a JSON array): the known ones.
pub async fn known_hashes(conn: &mut Conn, hashes: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT hash FROM media_files WHERE hash IN (SELECT value FROM json_each(?))",
    )
    .bind(hashes)
    .fetch_all(conn)
    .await
}
