//! Commits (one per publish, suggestion or removal request) and their pending rows.

use super::{CommitId, DeckId, Micros, NoteId, UserId};
use serde::Serialize;

pub use super::rationale::Rationale;
use super::Conn;

/// Where a commit stands (stored as its lower-case name).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum CommitStatus {
    /// A suggestion waiting for review.
    Pending,
    /// Written as reviewed content at once (a publish, an auto-approved edit).
    Applied,
    Approved,
    Denied,
}

impl CommitStatus {
    /// The stored name, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }
}

/// A decision on a suggestion, as its author is notified of it.
#[derive(Debug, PartialEq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Denied,
}

impl From<Decision> for CommitStatus {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Approved => Self::Approved,
            Decision::Denied => Self::Denied,
        }
    }
}

/// A commit with the names a reviewer wants to see.
#[derive(Debug, sqlx::FromRow)]
pub struct Commit {
    pub id: CommitId,
    pub deck: String,
    pub deck_id: DeckId,
    pub deck_name: String,
    pub author: Option<String>,
    pub author_id: Option<UserId>,
    pub rationale: Rationale,
    pub info: String,
    pub status: CommitStatus,
    pub reason: Option<String>,
    pub created_at: Micros,
}

/// Opens a commit; `status` is `pending` for suggestions and `applied` for direct writes.
pub async fn insert(
    conn: &mut Conn,
    rationale: Rationale,
    info: &str,
    root: DeckId,
    user: UserId,
    status: CommitStatus,
    now: Micros,
) -> sqlx::Result<CommitId> {
    sqlx::query_scalar(
        "INSERT INTO commits (rationale, info, deck, user_id, created_at, status) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(rationale)
    .bind(info)
    .bind(root)
    .bind(user)
    .bind(now)
    .bind(status)
    .fetch_one(conn)
    .await
}

pub(super) const SELECT: &str =
    "SELECT c.id AS id, d.human_hash AS deck, d.id AS deck_id, d.name AS deck_name,
        u.username AS author, c.user_id AS author_id, c.rationale AS rationale, c.info AS info,
        c.status AS status, c.reason AS reason, c.created_at AS created_at
     FROM commits c JOIN decks d ON d.id = c.deck LEFT JOIN users u ON u.id = c.user_id";

/// One commit by id.
pub async fn get(conn: &mut Conn, id: CommitId) -> sqlx::Result<Option<Commit>> {
    let sql = format!("{SELECT} WHERE c.id = ?");
    sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
}

/// Pending commits, oldest first, optionally of one deck tree (by root hash).
pub async fn pending(conn: &mut Conn, deck_hash: Option<&str>) -> sqlx::Result<Vec<Commit>> {
    let sql = format!(
        "{SELECT} WHERE c.status = 'pending' AND (?1 IS NULL OR d.human_hash = ?1) ORDER BY c.id"
    );
    sqlx::query_as(&sql).bind(deck_hash).fetch_all(conn).await
}

/// The newest pending suggestion of `user` on tree `root` that has rows for `note`
/// (the note itself, or field, tag or move changes to it).
pub async fn pending_touching_note(
    conn: &mut Conn,
    user: UserId,
    root: DeckId,
    note: NoteId,
) -> sqlx::Result<Option<CommitId>> {
    sqlx::query_scalar(
        "SELECT c.id FROM commits c WHERE c.status = 'pending' AND c.user_id = ?1 AND c.deck = ?2 AND (
             EXISTS (SELECT 1 FROM notes n WHERE n.id = ?3 AND n.commit_id = c.id AND n.reviewed = 0)
             OR EXISTS (SELECT 1 FROM fields f WHERE f.note = ?3 AND f.commit_id = c.id AND f.reviewed = 0)
             OR EXISTS (SELECT 1 FROM tags t WHERE t.note = ?3 AND t.commit_id = c.id AND t.reviewed = 0)
             OR EXISTS (SELECT 1 FROM note_moves m WHERE m.note = ?3 AND m.commit_id = c.id))
         ORDER BY c.id DESC LIMIT 1",
    )
    .bind(user)
    .bind(root)
    .bind(note)
    .fetch_optional(conn)
    .await
}

/// Records a review decision.
pub async fn decide(
    conn: &mut Conn,
    id: CommitId,
    status: Decision,
    reason: Option<&str>,
    now: Micros,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE commits SET status = ?, reason = ?, decided_at = ? WHERE id = ?")
        .bind(status)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A pending field change.
#[derive(Debug, sqlx::FromRow)]
pub struct PendingField {
    pub id: i64,
    pub note: NoteId,
    pub position: i64,
    pub content: String,
}

/// A pending tag change (`action` true adds, false removes).
#[derive(Debug, sqlx::FromRow)]
pub struct PendingTag {
    pub id: i64,
    pub note: NoteId,
    pub content: String,
    pub action: bool,
}

/// Everything a commit asks for, as stored while it waits.
#[derive(Debug)]
pub struct Pending {
    pub fields: Vec<PendingField>,
    pub tags: Vec<PendingTag>,
    /// `(note, target deck)`.
    pub moves: Vec<(NoteId, DeckId)>,
    pub removals: Vec<NoteId>,
    /// Notes first suggested by this commit.
    pub new_notes: Vec<NoteId>,
}

/// Loads the pending rows of a commit.
pub async fn pending_rows(conn: &mut Conn, commit: CommitId) -> sqlx::Result<Pending> {
    Ok(Pending {
        fields: sqlx::query_as("SELECT id, note, position, content FROM fields WHERE commit_id = ? AND reviewed = 0 ORDER BY id")
            .bind(commit)
            .fetch_all(&mut *conn)
            .await?,
        tags: sqlx::query_as("SELECT id, note, content, action FROM tags WHERE commit_id = ? AND reviewed = 0 ORDER BY id")
            .bind(commit)
            .fetch_all(&mut *conn)
            .await?,
        moves: sqlx::query_as("SELECT note, target_deck FROM note_moves WHERE commit_id = ? ORDER BY id")
            .bind(commit)
            .fetch_all(&mut *conn)
            .await?,
        removals: sqlx::query_scalar("SELECT note FROM removal_suggestions WHERE commit_id = ? ORDER BY id")
            .bind(commit)
            .fetch_all(&mut *conn)
            .await?,
        new_notes: sqlx::query_scalar("SELECT id FROM notes WHERE commit_id = ? AND reviewed = 0 ORDER BY id")
            .bind(commit)
            .fetch_all(conn)
            .await?,
    })
}

/// Turns a pending field row into the reviewed one (the caller removed the old reviewed row).
pub async fn accept_field(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE fields SET reviewed = 1 WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns a pending tag addition into a reviewed tag, dropping it if the tag already exists.
pub async fn accept_tag(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE OR IGNORE tags SET reviewed = 1, action = 1 WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM tags WHERE id = ? AND reviewed = 0")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops every pending row a commit left (after approval or denial).
pub async fn clear_pending(conn: &mut Conn, commit: CommitId) -> sqlx::Result<()> {
    for sql in [
        "DELETE FROM fields WHERE commit_id = ? AND reviewed = 0",
        "DELETE FROM tags WHERE commit_id = ? AND reviewed = 0",
        "DELETE FROM note_moves WHERE commit_id = ?",
        "DELETE FROM removal_suggestions WHERE commit_id = ?",
        "DELETE FROM media_reference_suggestions WHERE commit_id = ?",
        "DELETE FROM notes WHERE commit_id = ? AND reviewed = 0",
        "DELETE FROM notetype_suggestions WHERE commit_id = ? AND state = 'pending'",
    ] {
        sqlx::query(sql).bind(commit).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A history entry of a commit, for snapshots.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub note: NoteId,
    pub guid: Option<String>,
    pub kind: super::notes::ChangeKind,
    pub position: Option<i64>,
    pub field_name: Option<String>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
    pub created_at: Micros,
}

/// Loads a commit's history entries.
pub async fn events(conn: &mut Conn, commit: CommitId) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT e.note, n.guid, e.event_type AS kind, e.position, e.field_name, e.old_text, e.new_text, e.created_at
         FROM note_events e LEFT JOIN notes n ON n.id = e.note WHERE e.commit_id = ? ORDER BY e.id",
    )
    .bind(commit)
    .fetch_all(conn)
    .await
}

/// A field name of a note's notetype at a position.
pub async fn field_name(
    conn: &mut Conn,
    note: NoteId,
    position: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT f.name FROM notes n JOIN notetype_fields f ON f.notetype = n.notetype AND f.ord = ? WHERE n.id = ?",
    )
    .bind(position)
    .bind(note)
    .fetch_optional(conn)
    .await
}
