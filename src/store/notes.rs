//! Notes with their field and tag rows (reviewed content and pending suggestions alike).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::Conn;

/// A note row without its content.
#[derive(Debug, Clone)]
pub struct Note {
    pub id: i64,
    pub guid: String,
    pub deck: i64,
    pub notetype: i64,
    pub reviewed: bool,
    pub deleted: bool,
    pub commit_id: Option<i64>,
}

/// Finds a note of a tree by guid.
pub async fn find(conn: &mut Conn, root: i64, guid: &str) -> sqlx::Result<Option<Note>> {
    let row = sqlx::query("SELECT id, guid, deck, notetype, reviewed, deleted, commit_id FROM notes WHERE root = ? AND guid = ?")
        .bind(root)
        .bind(guid)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| Note {
        id: r.get(0),
        guid: r.get(1),
        deck: r.get(2),
        notetype: r.get(3),
        reviewed: r.get(4),
        deleted: r.get(5),
        commit_id: r.get(6),
    }))
}

/// One note of a bulk insert, with its content.
#[derive(Debug, Serialize)]
pub struct BulkNote<'a> {
    pub guid: &'a str,
    pub notetype: i64,
    pub anki_id: i64,
    /// `(position, content)` of non-empty fields. Content is written keyed by the new
    /// ids, so it stays out of the JSON that creates the note rows.
    #[serde(skip)]
    pub fields: Vec<(usize, &'a str)>,
    #[serde(skip)]
    pub tags: Vec<&'a str>,
}

/// Inserts many new notes of one deck with their fields and tags in three statements.
pub async fn insert_bulk(
    conn: &mut Conn,
    root: i64,
    deck: i64,
    reviewed: bool,
    commit: i64,
    now: i64,
    notes: &[BulkNote<'_>],
) -> sqlx::Result<Vec<(String, i64)>> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let heads = serde_json::to_string(notes).expect("notes serialise");
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "INSERT INTO notes (guid, root, deck, notetype, anki_id, reviewed, commit_id, last_update)
         SELECT json_extract(value, '$.guid'), ?, ?, json_extract(value, '$.notetype'), json_extract(value, '$.anki_id'), ?, ?, ?
         FROM json_each(?) RETURNING guid, id",
    )
    .bind(root)
    .bind(deck)
    .bind(reviewed)
    .bind(commit)
    .bind(now)
    .bind(&heads)
    .fetch_all(&mut *conn)
    .await?;
    // The new ids go into the content JSON, so the two inserts need no join on `notes`
    // (joining json_each to notes of the tree scanned the whole tree per batch: a 50k-note
    // publish took minutes).
    let id_of: HashMap<&str, i64> = ids.iter().map(|(guid, id)| (guid.as_str(), *id)).collect();
    let content: Vec<NoteContent> = notes
        .iter()
        .filter_map(|n| {
            id_of.get(n.guid).map(|&id| NoteContent {
                id,
                fields: &n.fields,
                tags: &n.tags,
            })
        })
        .collect();
    let json = serde_json::to_string(&content).expect("note content serialises");
    sqlx::query(
        "INSERT INTO fields (note, position, content, reviewed, commit_id)
         SELECT json_extract(j.value, '$.id'), json_extract(f.value, '$[0]'), json_extract(f.value, '$[1]'), ?, ?
         FROM json_each(?) AS j, json_each(j.value, '$.fields') AS f",
    )
    .bind(reviewed)
    .bind(commit)
    .bind(&json)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT OR IGNORE INTO tags (note, content, reviewed, action, commit_id)
         SELECT json_extract(j.value, '$.id'), t.value, ?, 1, ?
         FROM json_each(?) AS j, json_each(j.value, '$.tags') AS t",
    )
    .bind(reviewed)
    .bind(commit)
    .bind(&json)
    .execute(conn)
    .await?;
    Ok(ids)
}

/// A freshly inserted note's content, keyed by its new id.
#[derive(Serialize)]
struct NoteContent<'a> {
    id: i64,
    fields: &'a [(usize, &'a str)],
    tags: &'a [&'a str],
}

/// Reviewed `(position, content)` rows of a note.
pub async fn reviewed_fields(conn: &mut Conn, note: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT position, content FROM fields WHERE note = ? AND reviewed = 1 ORDER BY position",
    )
    .bind(note)
    .fetch_all(conn)
    .await
}

/// Reviewed tags of a note.
pub async fn reviewed_tags(conn: &mut Conn, note: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT content FROM tags WHERE note = ? AND reviewed = 1 ORDER BY content")
        .bind(note)
        .fetch_all(conn)
        .await
}

/// Adds a field row (reviewed content or a pending suggestion).
pub async fn insert_field(
    conn: &mut Conn,
    note: i64,
    pos: i64,
    content: &str,
    reviewed: bool,
    commit: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO fields (note, position, content, reviewed, commit_id) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(note)
    .bind(pos)
    .bind(content)
    .bind(reviewed)
    .bind(commit)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the reviewed field at a position, if any.
pub async fn delete_reviewed_field(conn: &mut Conn, note: i64, pos: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM fields WHERE note = ? AND position = ? AND reviewed = 1")
        .bind(note)
        .bind(pos)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a tag row; a duplicate reviewed tag is ignored.
pub async fn insert_tag(
    conn: &mut Conn,
    note: i64,
    content: &str,
    reviewed: bool,
    add: bool,
    commit: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT OR IGNORE INTO tags (note, content, reviewed, action, commit_id) VALUES (?, ?, ?, ?, ?)")
        .bind(note)
        .bind(content)
        .bind(reviewed)
        .bind(add)
        .bind(commit)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a reviewed tag.
pub async fn delete_reviewed_tag(conn: &mut Conn, note: i64, content: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tags WHERE note = ? AND content = ? AND reviewed = 1")
        .bind(note)
        .bind(content)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops every pending field and tag row of a note.
pub async fn delete_pending_content(conn: &mut Conn, note: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM fields WHERE note = ? AND reviewed = 0")
        .bind(note)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM tags WHERE note = ? AND reviewed = 0")
        .bind(note)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM note_moves WHERE note = ?")
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a note to another deck of its tree.
pub async fn set_deck(conn: &mut Conn, note: i64, deck: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE notes SET deck = ? WHERE id = ?")
        .bind(deck)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Points a note at another notetype (a suggestion changed it or it was re-resolved).
pub async fn set_notetype(conn: &mut Conn, note: i64, notetype: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE notes SET notetype = ? WHERE id = ?")
        .bind(notetype)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the review and deletion state of a note and bumps its clock.
pub async fn set_state(
    conn: &mut Conn,
    note: i64,
    reviewed: bool,
    deleted: bool,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE notes SET reviewed = ?, deleted = ?, last_update = ? WHERE id = ?")
        .bind(reviewed)
        .bind(deleted)
        .bind(now)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a note row outright (a denied new-note suggestion).
pub async fn delete(conn: &mut Conn, note: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notes WHERE id = ?")
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a move suggestion.
pub async fn insert_move(conn: &mut Conn, note: i64, target: i64, commit: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO note_moves (note, target_deck, commit_id) VALUES (?, ?, ?)")
        .bind(note)
        .bind(target)
        .bind(commit)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a removal suggestion.
pub async fn insert_removal(conn: &mut Conn, note: i64, commit: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT OR IGNORE INTO removal_suggestions (note, commit_id) VALUES (?, ?)")
        .bind(note)
        .bind(commit)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a history entry records (stored as its snake_case name in `note_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "snake_case")]
pub enum ChangeKind {
    NoteCreated,
    NoteDeleted,
    NoteMoved,
    FieldAdded,
    FieldRemoved,
    FieldUpdated,
    FieldChangeDenied,
    TagAdded,
    TagRemoved,
    TagChangeDenied,
}

impl ChangeKind {
    /// A field whose content goes from empty or not (`before_empty`) to empty or not.
    pub fn of_field(before_empty: bool, after_empty: bool) -> Self {
        match (before_empty, after_empty) {
            (true, _) => Self::FieldAdded,
            (_, true) => Self::FieldRemoved,
            _ => Self::FieldUpdated,
        }
    }

    /// The name the add-on sees in commit snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoteCreated => "note_created",
            Self::NoteDeleted => "note_deleted",
            Self::NoteMoved => "note_moved",
            Self::FieldAdded => "field_added",
            Self::FieldRemoved => "field_removed",
            Self::FieldUpdated => "field_updated",
            Self::FieldChangeDenied => "field_change_denied",
            Self::TagAdded => "tag_added",
            Self::TagRemoved => "tag_removed",
            Self::TagChangeDenied => "tag_change_denied",
        }
    }

    /// Whether the entry is about a tag.
    pub fn is_tag(self) -> bool {
        matches!(
            self,
            Self::TagAdded | Self::TagRemoved | Self::TagChangeDenied
        )
    }
}

/// One history entry of a note, shown in commit snapshots.
pub struct Event<'a> {
    pub note: i64,
    pub commit: i64,
    pub kind: ChangeKind,
    /// Field position and name for field events.
    pub field: Option<(i64, Option<&'a str>)>,
    pub old_text: Option<&'a str>,
    pub new_text: Option<&'a str>,
    pub now: i64,
}

impl<'a> Event<'a> {
    /// An entry with no field and no texts.
    pub fn new(note: i64, commit: i64, kind: ChangeKind, now: i64) -> Self {
        Self {
            note,
            commit,
            kind,
            field: None,
            old_text: None,
            new_text: None,
            now,
        }
    }

    /// The field the entry is about.
    pub fn field(mut self, position: i64, name: Option<&'a str>) -> Self {
        self.field = Some((position, name));
        self
    }

    /// The content before and after.
    pub fn texts(mut self, old: Option<&'a str>, new: Option<&'a str>) -> Self {
        self.old_text = old;
        self.new_text = new;
        self
    }
}

/// Appends a history entry.
pub async fn insert_event(conn: &mut Conn, e: Event<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO note_events (note, commit_id, event_type, position, field_name, old_text, new_text, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.note)
    .bind(e.commit)
    .bind(e.kind)
    .bind(e.field.map(|f| f.0))
    .bind(e.field.and_then(|f| f.1))
    .bind(e.old_text)
    .bind(e.new_text)
    .bind(e.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Guids of a tree that resolve to existing, live notes, with their ids.
pub async fn live_ids_by_guid(
    conn: &mut Conn,
    root: i64,
    guids: &[String],
) -> sqlx::Result<Vec<(String, i64)>> {
    let json = serde_json::to_string(guids).expect("strings serialise");
    sqlx::query_as("SELECT guid, id FROM notes WHERE root = ? AND deleted = 0 AND guid IN (SELECT value FROM json_each(?))")
        .bind(root)
        .bind(json)
        .fetch_all(conn)
        .await
}

/// The deck a note currently sits in.
pub async fn deck_of(conn: &mut Conn, note: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT deck FROM notes WHERE id = ?")
        .bind(note)
        .fetch_optional(conn)
        .await
}
