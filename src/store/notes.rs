//! Notes with their field and tag rows (reviewed content and pending suggestions alike).

use super::Conn;
use super::{CommitId, DeckId, Micros, NoteId, NotetypeId};

/// A note row without its content.
#[derive(Debug, sqlx::FromRow)]
pub struct Note {
    pub id: NoteId,
    pub guid: String,
    pub deck: DeckId,
    pub notetype: NotetypeId,
    pub reviewed: bool,
    pub deleted: bool,
    pub commit_id: Option<CommitId>,
}

/// Finds a note of a tree by guid.
pub async fn find(conn: &mut Conn, root: DeckId, guid: &str) -> sqlx::Result<Option<Note>> {
    sqlx::query_as("SELECT id, guid, deck, notetype, reviewed, deleted, commit_id FROM notes WHERE root = ? AND guid = ?")
        .bind(root)
        .bind(guid)
        .fetch_optional(conn)
        .await
}

/// A new note with its content; its id is chosen by the writer ([`next_id`]), so the
/// content rows need no lookup of the note row.
#[derive(Debug)]
pub struct NewNote<'a> {
    pub id: NoteId,
    pub guid: &'a str,
    pub notetype: NotetypeId,
    pub anki_id: i64,
    /// `(position, content)` of non-empty fields.
    pub fields: Vec<(usize, &'a str)>,
    pub tags: Vec<&'a str>,
    /// The note's object as a pull sends it, when the caller built it.
    pub pulled: Option<&'a str>,
}

/// The id the next new note gets. Only valid inside the write transaction that inserts it.
pub async fn next_id(conn: &mut Conn) -> sqlx::Result<NoteId> {
    sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM notes")
        .fetch_one(conn)
        .await
}

/// Rows per multi-row INSERT: big enough that SQLite's thread rarely waits for the next
/// statement to be bound and sent (a publish's batch of 500 notes is about eight round
/// trips instead of forty), small enough to stay far below SQLite's limit on bound
/// parameters (4,500 for a statement of notes). The writer keeps the prepared statements
/// only until the server is quiet ([`super::Db::release_idle_connections`]).
const ROWS_PER_INSERT: usize = 500;

type Insert<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Runs `head VALUES (?, …), (?, …)` for `rows`, `width` parameters per row bound by
/// `bind`. Full-size statements are kept prepared; the last, shorter one is not.
async fn insert_values<T>(
    conn: &mut Conn,
    head: &str,
    width: usize,
    rows: &[T],
    bind: impl for<'q> Fn(Insert<'q>, &'q T) -> Insert<'q>,
) -> sqlx::Result<()> {
    let tuple = format!("({})", vec!["?"; width].join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "{head} VALUES {}",
            vec![tuple.as_str(); chunk.len()].join(", ")
        );
        let mut q = sqlx::query(&sql).persistent(chunk.len() == ROWS_PER_INSERT);
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts new notes of one deck with their fields, tags and pulled copies.
pub async fn insert_new(
    conn: &mut Conn,
    root: DeckId,
    deck: DeckId,
    reviewed: bool,
    commit: CommitId,
    now: Micros,
    notes: &[NewNote<'_>],
) -> sqlx::Result<()> {
    insert_values(
        conn,
        "INSERT INTO notes (id, guid, root, deck, notetype, anki_id, reviewed, commit_id, last_update)",
        9,
        notes,
        |q, n| {
            q.bind(n.id)
                .bind(n.guid)
                .bind(root)
                .bind(deck)
                .bind(n.notetype)
                .bind(n.anki_id)
                .bind(reviewed)
                .bind(commit)
                .bind(now)
        },
    )
    .await?;
    let fields: Vec<(NoteId, i64, &str)> = notes
        .iter()
        .flat_map(|n| n.fields.iter().map(|&(pos, c)| (n.id, pos as i64, c)))
        .collect();
    insert_values(
        conn,
        "INSERT INTO fields (note, position, content, reviewed, commit_id)",
        5,
        &fields,
        |q, &(note, pos, content)| {
            q.bind(note)
                .bind(pos)
                .bind(content)
                .bind(reviewed)
                .bind(commit)
        },
    )
    .await?;
    let tags: Vec<(NoteId, &str)> = notes
        .iter()
        .flat_map(|n| n.tags.iter().map(|&t| (n.id, t)))
        .collect();
    insert_values(
        conn,
        "INSERT OR IGNORE INTO tags (note, content, reviewed, action, commit_id)",
        5,
        &tags,
        |q, &(note, tag)| q.bind(note).bind(tag).bind(reviewed).bind(1).bind(commit),
    )
    .await?;
    // After the content rows: their triggers drop any copy of the note.
    let pulled: Vec<(NoteId, &str)> = notes
        .iter()
        .filter_map(|n| n.pulled.map(|p| (n.id, p)))
        .collect();
    insert_values(
        conn,
        "INSERT INTO pulled_notes (note, bytes, json)",
        3,
        &pulled,
        |q, &(note, json)| q.bind(note).bind(json.len() as i64).bind(json),
    )
    .await
}

/// Reviewed `(position, content)` rows of a note.
pub async fn reviewed_fields(conn: &mut Conn, note: NoteId) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT position, content FROM fields WHERE note = ? AND reviewed = 1 ORDER BY position",
    )
    .bind(note)
    .fetch_all(conn)
    .await
}

/// Reviewed tags of a note.
pub async fn reviewed_tags(conn: &mut Conn, note: NoteId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT content FROM tags WHERE note = ? AND reviewed = 1 ORDER BY content")
        .bind(note)
        .fetch_all(conn)
        .await
}

/// Adds a field row (reviewed content or a pending suggestion).
pub async fn insert_field(
    conn: &mut Conn,
    note: NoteId,
    pos: i64,
    content: &str,
    reviewed: bool,
    commit: CommitId,
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
pub async fn delete_reviewed_field(conn: &mut Conn, note: NoteId, pos: i64) -> sqlx::Result<()> {
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
    note: NoteId,
    content: &str,
    reviewed: bool,
    add: bool,
    commit: CommitId,
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
pub async fn delete_reviewed_tag(conn: &mut Conn, note: NoteId, content: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tags WHERE note = ? AND content = ? AND reviewed = 1")
        .bind(note)
        .bind(content)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops every pending field and tag row of a note.
pub async fn delete_pending_content(conn: &mut Conn, note: NoteId) -> sqlx::Result<()> {
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
pub async fn set_deck(conn: &mut Conn, note: NoteId, deck: DeckId) -> sqlx::Result<()> {
    sqlx::query("UPDATE notes SET deck = ? WHERE id = ?")
        .bind(deck)
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Points a note at another notetype (a suggestion changed it or it was re-resolved).
pub async fn set_notetype(conn: &mut Conn, note: NoteId, notetype: NotetypeId) -> sqlx::Result<()> {
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
    note: NoteId,
    reviewed: bool,
    deleted: bool,
    now: Micros,
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
pub async fn delete(conn: &mut Conn, note: NoteId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notes WHERE id = ?")
        .bind(note)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a move suggestion.
pub async fn insert_move(
    conn: &mut Conn,
    note: NoteId,
    target: DeckId,
    commit: CommitId,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO note_moves (note, target_deck, commit_id) VALUES (?, ?, ?)")
        .bind(note)
        .bind(target)
        .bind(commit)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a removal suggestion.
pub async fn insert_removal(conn: &mut Conn, note: NoteId, commit: CommitId) -> sqlx::Result<()> {
    sqlx::query("INSERT OR IGNORE INTO removal_suggestions (note, commit_id) VALUES (?, ?)")
        .bind(note)
        .bind(commit)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a history entry records (stored as its snake_case name in `note_events`).
#[derive(Debug, Clone, Copy, PartialEq, sqlx::Type)]
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
    pub note: NoteId,
    pub commit: CommitId,
    pub kind: ChangeKind,
    /// Field position and name for field events.
    pub field: Option<(i64, Option<&'a str>)>,
    pub old_text: Option<&'a str>,
    pub new_text: Option<&'a str>,
    pub now: Micros,
}

impl<'a> Event<'a> {
    /// An entry with no field and no texts.
    pub fn new(note: NoteId, commit: CommitId, kind: ChangeKind, now: Micros) -> Self {
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
    root: DeckId,
    guids: &[String],
) -> sqlx::Result<Vec<(String, NoteId)>> {
    let json = serde_json::to_string(guids).expect("strings serialise");
    sqlx::query_as("SELECT guid, id FROM notes WHERE root = ? AND deleted = 0 AND guid IN (SELECT value FROM json_each(?))")
        .bind(root)
        .bind(json)
        .fetch_all(conn)
        .await
}

/// The deck a note currently sits in.
pub async fn deck_of(conn: &mut Conn, note: NoteId) -> sqlx::Result<Option<DeckId>> {
    sqlx::query_scalar("SELECT deck FROM notes WHERE id = ?")
        .bind(note)
        .fetch_optional(conn)
        .await
}
