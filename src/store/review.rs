//! What the console's review pages read: the queue of a reviewer's decks, and each
//! pending change of a suggestion with what it would replace; plus the single-change
//! writes the console's per-change decisions need.

use super::commits::{Commit, PendingField, PendingTag};
use super::{CommitId, Conn, NoteId, UserId};

/// Root decks `d` the reviewer in parameter `p` may review: owned or maintained (a tree's
/// root carries both); NULL is the administrator, who reviews everything.
fn reviewable(p: &str) -> String {
    format!(
        "({p} IS NULL OR d.owner = {p}
          OR EXISTS (SELECT 1 FROM maintainers m WHERE m.deck = d.id AND m.user_id = {p}))"
    )
}

/// Pending suggestions `reviewer` may decide (all for `None`), oldest first, optionally
/// of one deck tree, from the one after `after`.
pub async fn queue(
    conn: &mut Conn,
    reviewer: Option<UserId>,
    deck_hash: Option<&str>,
    after: Option<CommitId>,
    limit: i64,
) -> sqlx::Result<Vec<Commit>> {
    let sql = format!(
        "{} WHERE c.status = 'pending' AND (?1 IS NULL OR d.human_hash = ?1) AND {}
           AND (?4 IS NULL OR c.id > ?4)
         ORDER BY c.id LIMIT ?3",
        super::commits::SELECT,
        reviewable("?2")
    );
    sqlx::query_as(&sql)
        .bind(deck_hash)
        .bind(reviewer)
        .bind(limit)
        .bind(after)
        .fetch_all(conn)
        .await
}

/// A reviewable deck tree with its number of pending suggestions.
#[derive(Debug, sqlx::FromRow)]
pub struct DeckCount {
    pub hash: String,
    pub name: String,
    pub pending: i64,
}

/// Every deck tree `reviewer` may review, with its pending count, by name.
pub async fn counts(conn: &mut Conn, reviewer: Option<UserId>) -> sqlx::Result<Vec<DeckCount>> {
    let sql = format!(
        "SELECT d.human_hash AS hash, d.name AS name,
                (SELECT COUNT(*) FROM commits c WHERE c.deck = d.id AND c.status = 'pending') AS pending
         FROM decks d WHERE d.parent IS NULL AND {}
         ORDER BY d.name, d.id",
        reviewable("?1")
    );
    sqlx::query_as(&sql).bind(reviewer).fetch_all(conn).await
}

/// A pending field change with what it replaces, as [`FieldChange`] reads it.
const FIELD_CHANGE: &str = "SELECT f.id, f.note, n.guid, d.full_path AS deck_path, f.position,
        nf.name AS field_name,
        (SELECT r.content FROM fields r
         WHERE r.note = f.note AND r.position = f.position AND r.reviewed = 1) AS old,
        f.content AS new, n.reviewed = 0 AS new_note
     FROM fields f JOIN notes n ON n.id = f.note JOIN decks d ON d.id = n.deck
     LEFT JOIN notetype_fields nf ON nf.notetype = n.notetype AND nf.ord = f.position";

/// A pending field change with what it replaces.
#[derive(Debug, sqlx::FromRow)]
pub struct FieldChange {
    pub id: i64,
    pub note: NoteId,
    pub guid: String,
    pub deck_path: String,
    pub position: i64,
    pub field_name: Option<String>,
    pub old: Option<String>,
    pub new: String,
    /// The note itself is new in this suggestion.
    pub new_note: bool,
}

/// A note a commit changes, moves or asks to remove, with the bytes of its pending
/// changes: what a page of the suggestion will have to show for it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ChangedNote {
    pub note: NoteId,
    /// Old and new content of each changed field (nothing for a field over `field_cap`,
    /// which a page links to rather than shows), plus the changed tags.
    pub bytes: i64,
    /// How many changes (fields, tags, a move, a removal) the note has.
    pub changes: i64,
}

/// Every note a commit changes, moves or asks to remove, in id order, with the size of
/// its changes (no content is read, so a huge suggestion costs little to page through).
pub async fn changed_notes(
    conn: &mut Conn,
    commit: CommitId,
    field_cap: i64,
) -> sqlx::Result<Vec<ChangedNote>> {
    sqlx::query_as(
        "SELECT note, SUM(CASE WHEN bytes > ?2 THEN 0 ELSE bytes END) AS bytes,
                COUNT(*) AS changes FROM (
           SELECT f.note, length(CAST(f.content AS BLOB)) + COALESCE(
                    (SELECT length(CAST(r.content AS BLOB)) FROM fields r
                     WHERE r.note = f.note AND r.position = f.position AND r.reviewed = 1), 0)
                  AS bytes
           FROM fields f WHERE f.commit_id = ?1 AND f.reviewed = 0
           UNION ALL SELECT note, length(CAST(content AS BLOB)) FROM tags
             WHERE commit_id = ?1 AND reviewed = 0
           UNION ALL SELECT note, 0 FROM note_moves WHERE commit_id = ?1
           UNION ALL SELECT note, 0 FROM removal_suggestions WHERE commit_id = ?1)
         GROUP BY note ORDER BY note",
    )
    .bind(commit)
    .bind(field_cap)
    .fetch_all(conn)
    .await
}

/// The pending field change `row` of a commit, with what it replaces.
pub async fn field_change(
    conn: &mut Conn,
    commit: CommitId,
    row: i64,
) -> sqlx::Result<Option<FieldChange>> {
    let sql = format!("{FIELD_CHANGE} WHERE f.commit_id = ? AND f.reviewed = 0 AND f.id = ?");
    sqlx::query_as(&sql)
        .bind(commit)
        .bind(row)
        .fetch_optional(conn)
        .await
}

/// The field changes of a commit to `notes` (a JSON array of note ids), by note then field.
pub async fn field_changes(
    conn: &mut Conn,
    commit: CommitId,
    notes: &str,
) -> sqlx::Result<Vec<FieldChange>> {
    let sql = format!(
        "{FIELD_CHANGE} WHERE f.commit_id = ? AND f.reviewed = 0
           AND f.note IN (SELECT value FROM json_each(?))
         ORDER BY f.note, f.position"
    );
    sqlx::query_as(&sql)
        .bind(commit)
        .bind(notes)
        .fetch_all(conn)
        .await
}

/// A pending tag change.
#[derive(Debug, sqlx::FromRow)]
pub struct TagChange {
    pub id: i64,
    pub note: NoteId,
    pub guid: String,
    pub content: String,
    /// True adds the tag, false removes it.
    pub action: bool,
    pub new_note: bool,
}

/// The tag changes of a commit to `notes` (a JSON array of note ids), by note.
pub async fn tag_changes(
    conn: &mut Conn,
    commit: CommitId,
    notes: &str,
) -> sqlx::Result<Vec<TagChange>> {
    sqlx::query_as(
        "SELECT t.id, t.note, n.guid, t.content, t.action, n.reviewed = 0 AS new_note
         FROM tags t JOIN notes n ON n.id = t.note
         WHERE t.commit_id = ? AND t.reviewed = 0 AND t.note IN (SELECT value FROM json_each(?))
         ORDER BY t.note, t.id",
    )
    .bind(commit)
    .bind(notes)
    .fetch_all(conn)
    .await
}

/// A note a suggestion moves or asks to remove.
#[derive(Debug, sqlx::FromRow)]
pub struct NoteChange {
    pub note: NoteId,
    pub guid: String,
    pub from_path: String,
    /// Where a move takes the note; `None` for a removal request.
    pub to_path: Option<String>,
}

/// The moves and removal requests of a commit for `notes` (a JSON array of note ids).
pub async fn note_changes(
    conn: &mut Conn,
    commit: CommitId,
    notes: &str,
) -> sqlx::Result<Vec<NoteChange>> {
    sqlx::query_as(
        "SELECT m.note, n.guid, f.full_path AS from_path, t.full_path AS to_path
         FROM note_moves m JOIN notes n ON n.id = m.note JOIN decks f ON f.id = n.deck
         JOIN decks t ON t.id = m.target_deck
         WHERE m.commit_id = ?1 AND m.note IN (SELECT value FROM json_each(?2))
         UNION ALL
         SELECT r.note, n.guid, f.full_path, NULL
         FROM removal_suggestions r JOIN notes n ON n.id = r.note JOIN decks f ON f.id = n.deck
         WHERE r.commit_id = ?1 AND r.note IN (SELECT value FROM json_each(?2))",
    )
    .bind(commit)
    .bind(notes)
    .fetch_all(conn)
    .await
}

/// A pending row of a commit, and whether its note is new in that commit (new notes are
/// decided whole).
#[derive(Debug, sqlx::FromRow)]
pub struct PendingChange<T> {
    #[sqlx(flatten)]
    pub row: T,
    pub new_note: bool,
}

/// One pending field change of `commit`.
pub async fn pending_field(
    conn: &mut Conn,
    commit: CommitId,
    id: i64,
) -> sqlx::Result<Option<PendingChange<PendingField>>> {
    sqlx::query_as(
        "SELECT f.id, f.note, f.position, f.content, n.reviewed = 0 AS new_note
         FROM fields f JOIN notes n ON n.id = f.note
         WHERE f.id = ? AND f.commit_id = ? AND f.reviewed = 0",
    )
    .bind(id)
    .bind(commit)
    .fetch_optional(conn)
    .await
}

/// One pending tag change of `commit`.
pub async fn pending_tag(
    conn: &mut Conn,
    commit: CommitId,
    id: i64,
) -> sqlx::Result<Option<PendingChange<PendingTag>>> {
    sqlx::query_as(
        "SELECT t.id, t.note, t.content, t.action, n.reviewed = 0 AS new_note
         FROM tags t JOIN notes n ON n.id = t.note
         WHERE t.id = ? AND t.commit_id = ? AND t.reviewed = 0",
    )
    .bind(id)
    .bind(commit)
    .fetch_optional(conn)
    .await
}

/// Drops one pending field row.
pub async fn delete_pending_field(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM fields WHERE id = ? AND reviewed = 0")
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Drops one pending tag row.
pub async fn delete_pending_tag(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tags WHERE id = ? AND reviewed = 0")
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Replaces the content of a pending field row (a reviewer's edit).
pub async fn set_pending_field(conn: &mut Conn, id: i64, content: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE fields SET content = ? WHERE id = ? AND reviewed = 0")
        .bind(content)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Whether anything of `commit` still waits for a decision.
pub async fn has_pending_rows(conn: &mut Conn, commit: CommitId) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM fields WHERE commit_id = ?1 AND reviewed = 0)
             OR EXISTS (SELECT 1 FROM tags WHERE commit_id = ?1 AND reviewed = 0)
             OR EXISTS (SELECT 1 FROM note_moves WHERE commit_id = ?1)
             OR EXISTS (SELECT 1 FROM removal_suggestions WHERE commit_id = ?1)
             OR EXISTS (SELECT 1 FROM notes WHERE commit_id = ?1 AND reviewed = 0)
             OR EXISTS (SELECT 1 FROM notetype_suggestions WHERE commit_id = ?1 AND state = 'pending')",
    )
    .bind(commit)
    .fetch_one(conn)
    .await
}

/// Whether any change of `commit` was accepted (its history holds more than denials).
pub async fn any_accepted(conn: &mut Conn, commit: CommitId) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM note_events WHERE commit_id = ?1
             AND event_type NOT IN ('field_change_denied', 'tag_change_denied'))
             OR EXISTS (SELECT 1 FROM notetype_suggestions WHERE commit_id = ?1 AND state = 'accepted')",
    )
    .bind(commit)
    .fetch_one(conn)
    .await
}

/// The stored file (hash and type) a note of `commit` uses under `name`: one of the
/// suggestion's own uploads, or one the tree's notes already reference.
pub async fn media_named(
    conn: &mut Conn,
    commit: CommitId,
    name: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT mf.hash, mf.mime FROM media_files mf WHERE mf.id IN (
           SELECT s.media_id FROM media_reference_suggestions s WHERE s.commit_id = ?1 AND s.file_name = ?2
           UNION ALL
           SELECT r.media_id FROM media_references r JOIN notes n ON n.id = r.note_id
           WHERE n.root = (SELECT deck FROM commits WHERE id = ?1) AND r.file_name = ?2
         ) LIMIT 1",
    )
    .bind(commit)
    .bind(name)
    .fetch_optional(conn)
    .await
}
