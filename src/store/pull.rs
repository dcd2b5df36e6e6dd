//! The read queries behind `/pullChanges`, in batches so a 50,000-note deck never sits in memory.

use super::Conn;
use super::{DeckId, Micros, NoteId, NotetypeId};

/// Joined after field `nf` of note `n`'s notetype: `lf` and `l`, the link through which
/// `n` inherits that field while its base note is live (both NULL otherwise).
const INHERITED: &str = "LEFT JOIN note_link_fields lf ON lf.note = n.id AND lf.position = nf.ord
      LEFT JOIN note_links l ON l.note = lf.note
        AND EXISTS (SELECT 1 FROM notes b WHERE b.id = l.base_note AND b.reviewed = 1 AND b.deleted = 0)";

/// The join condition for the field row `f` that note `n` shows at `nf`, after
/// [`INHERITED`]: its base note's field where it inherits, else its own.
const SHOWN_FIELD: &str = "f.note = coalesce(l.base_note, n.id) AND f.reviewed = 1
        AND f.position = CASE WHEN l.note IS NULL THEN nf.ord ELSE lf.base_position END";

/// Whether note `n` shows any non-empty field (a note without one is not pulled).
fn has_content() -> String {
    format!(
        "CASE WHEN NOT EXISTS (SELECT 1 FROM note_links WHERE note = n.id)
      THEN EXISTS (SELECT 1 FROM fields f WHERE f.note = n.id AND f.reviewed = 1 AND f.content <> '')
      ELSE EXISTS (SELECT 1 FROM notetype_fields nf {INHERITED}
          JOIN fields f ON {SHOWN_FIELD} AND f.content <> ''
        WHERE nf.notetype = n.notetype) END"
    )
}

/// The tags note `n` shows, sorted and each once: its own, plus a linked note's base
/// note's tags minus the ones it leaves out.
const SHOWN_TAGS: &str = "SELECT t.content FROM tags t WHERE t.note = n.id AND t.reviewed = 1
    UNION SELECT t.content FROM note_links l
      JOIN notes b ON b.id = l.base_note AND b.reviewed = 1 AND b.deleted = 0
      JOIN tags t ON t.note = l.base_note AND t.reviewed = 1
      WHERE l.note = n.id
        AND t.content NOT IN (SELECT r.tag FROM note_link_removed_tags r WHERE r.note = n.id)
    ORDER BY 1";

/// A note's JSON object as a pull sends it, for the note `n`: fields in the notetype's
/// field order (missing ones empty), tags sorted; `''` when every shown field is
/// empty (such notes are not pulled). `pulled_notes` keeps a copy of this per note.
/// A linked note shows its base note's content where it inherits (docs/protocol.md §6.5).
fn note_json() -> String {
    format!(
        "CASE WHEN {}
    THEN json_object(
      'id', n.anki_id,
      'fields', json((SELECT json_group_array(c) FROM (
          SELECT coalesce(f.content, '') AS c FROM notetype_fields nf {INHERITED}
          LEFT JOIN fields f ON {SHOWN_FIELD}
          WHERE nf.notetype = n.notetype ORDER BY nf.ord))),
      'guid', n.guid,
      'note_model_uuid', (SELECT nt.guid FROM notetypes nt WHERE nt.id = n.notetype),
      'tags', json((SELECT json_group_array(content) FROM ({SHOWN_TAGS}))))
    ELSE '' END",
        has_content()
    )
}

/// A note's size in the pulled JSON: the stored copy's, or else the bytes of its
/// reviewed fields and tags, and a linked note's base note's (escaping can make the
/// object larger, at most sixfold for a field of control characters).
const NOTE_BYTES: &str = "coalesce(p.bytes,
    64 + (SELECT coalesce(sum(octet_length(f.content) + 3), 0) FROM fields f
          WHERE f.note = n.id AND f.reviewed = 1)
       + (SELECT coalesce(sum(octet_length(t.content) + 3), 0) FROM tags t
          WHERE t.note = n.id AND t.reviewed = 1)
       + (SELECT coalesce(sum(octet_length(f.content) + 3), 0) FROM note_links l
          JOIN fields f ON f.note = l.base_note AND f.reviewed = 1 WHERE l.note = n.id)
       + (SELECT coalesce(sum(octet_length(t.content) + 3), 0) FROM note_links l
          JOIN tags t ON t.note = l.base_note AND t.reviewed = 1 WHERE l.note = n.id))";

/// Pulled notes of one deck as JSON objects joined by commas: one round trip and no
/// per-note work in Rust for hundreds of notes.
#[derive(Debug, sqlx::FromRow)]
pub struct NoteBatch {
    pub json: Option<String>,
    /// The last note id looked at, where the next batch starts.
    pub last_id: Option<NoteId>,
    /// Notes looked at (including ones left out for empty fields).
    pub count: i64,
    /// Notes whose object had to be built because `pulled_notes` had no copy.
    pub built: i64,
    /// A note of `large` bytes or more without a stored copy, left out of `json` for the
    /// caller to build (SQLite's JSON functions would hold several copies of it).
    pub deferred: Option<NoteId>,
}

/// The notes a pull of `deck` reads: live, reviewed, changed after `since`, id above
/// `after`, in id order.
const PULLED: &str = "FROM notes n LEFT JOIN pulled_notes p ON p.note = n.id
    WHERE n.deck = ? AND n.reviewed = 1 AND n.deleted = 0 AND n.id > ? AND n.last_update > ?
    ORDER BY n.id LIMIT ?";

/// The JSON sizes of the next `limit` notes a pull reads, in order, joined by commas:
/// what a batch is cut by before any JSON is read.
pub async fn next_sizes(
    conn: &mut Conn,
    deck: DeckId,
    since: Micros,
    after: NoteId,
    limit: i64,
) -> sqlx::Result<Option<String>> {
    let sql =
        format!("SELECT group_concat(bytes, ',') FROM (SELECT {NOTE_BYTES} AS bytes {PULLED})");
    sqlx::query_scalar(&sql)
        .bind(deck)
        .bind(after)
        .bind(since)
        .bind(limit)
        .fetch_one(conn)
        .await
}

/// The next `limit` notes a pull reads (as counted by [`next_sizes`]); one without a
/// stored copy of `large` bytes or more is deferred.
pub async fn notes_json_batch(
    conn: &mut Conn,
    deck: DeckId,
    since: Micros,
    after: NoteId,
    limit: i64,
    large: i64,
) -> sqlx::Result<NoteBatch> {
    let note_json = note_json();
    let sql = format!(
        "SELECT group_concat(CASE WHEN j <> '' THEN j END, ',') AS json, max(id) AS last_id,
                count(*) AS count, coalesce(sum(built), 0) AS built,
                max(CASE WHEN j IS NULL THEN id END) AS deferred FROM (
           SELECT n.id AS id, p.note IS NULL AS built,
                  coalesce(p.json, CASE WHEN {NOTE_BYTES} < ? THEN {note_json} END) AS j
           {PULLED}
         )"
    );
    sqlx::query_as(&sql)
        .bind(large)
        .bind(deck)
        .bind(after)
        .bind(since)
        .bind(limit)
        .fetch_one(conn)
        .await
}

/// Stores the pulled object of up to `limit` notes with id above `after` that have none
/// and are smaller than `below` bytes; answers how many and the last note id stored.
pub async fn fill_pulled_notes(
    conn: &mut Conn,
    after: NoteId,
    limit: i64,
    below: i64,
) -> sqlx::Result<(u64, Option<NoteId>)> {
    let note_json = note_json();
    let sql = format!(
        "INSERT INTO pulled_notes (note, bytes, json)
         SELECT id, octet_length(j), j FROM (
           SELECT n.id AS id, {note_json} AS j FROM notes n LEFT JOIN pulled_notes p ON p.note = n.id
           WHERE n.id > ? AND n.reviewed = 1 AND n.deleted = 0 AND p.note IS NULL
             AND {NOTE_BYTES} < ?
           ORDER BY n.id LIMIT ?
         )
         RETURNING note"
    );
    let stored: Vec<NoteId> = sqlx::query_scalar(&sql)
        .bind(after)
        .bind(below)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    Ok((stored.len() as u64, stored.iter().copied().max()))
}

/// The next live, reviewed note after `after` without a stored copy whose fields reach
/// `bytes`: such notes are built one at a time outside SQLite.
pub async fn next_large_unfilled(
    conn: &mut Conn,
    after: NoteId,
    bytes: i64,
) -> sqlx::Result<Option<NoteId>> {
    let sql = format!(
        "SELECT n.id FROM notes n LEFT JOIN pulled_notes p ON p.note = n.id
         WHERE n.id > ? AND n.reviewed = 1 AND n.deleted = 0 AND p.note IS NULL
           AND {NOTE_BYTES} >= ?
         ORDER BY n.id LIMIT 1"
    );
    sqlx::query_scalar(&sql)
        .bind(after)
        .bind(bytes)
        .fetch_optional(conn)
        .await
}

/// Keeps the pulled object of a note.
pub async fn store_copy(conn: &mut Conn, note: NoteId, json: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT OR REPLACE INTO pulled_notes (note, bytes, json) VALUES (?, ?, ?)")
        .bind(note)
        .bind(json.len() as i64)
        .bind(json)
        .execute(conn)
        .await
        .map(drop)
}

/// What a note's pulled object is made of, read row by row instead of in SQL's JSON
/// functions.
#[derive(Debug, sqlx::FromRow)]
pub struct NoteHead {
    pub anki_id: i64,
    pub guid: String,
    pub notetype_guid: String,
    /// Whether any shown field has content (a note without any is not pulled).
    pub has_content: bool,
}

/// The head of a note's pulled object; `None` for an unknown note.
pub async fn note_head(conn: &mut Conn, note: NoteId) -> sqlx::Result<Option<NoteHead>> {
    let sql = format!(
        "SELECT n.anki_id, n.guid, nt.guid AS notetype_guid, {} AS has_content
         FROM notes n JOIN notetypes nt ON nt.id = n.notetype WHERE n.id = ?",
        has_content()
    );
    sqlx::query_as(&sql).bind(note).fetch_optional(conn).await
}

/// The fields a note shows in its notetype's field order, missing ones empty: its
/// reviewed ones, and a linked note's base note's where it inherits.
pub async fn pulled_fields(conn: &mut Conn, note: NoteId) -> sqlx::Result<Vec<String>> {
    let sql = format!(
        "SELECT coalesce(f.content, '') FROM notes n
         JOIN notetype_fields nf ON nf.notetype = n.notetype {INHERITED}
         LEFT JOIN fields f ON {SHOWN_FIELD}
         WHERE n.id = ? ORDER BY nf.ord"
    );
    sqlx::query_scalar(&sql).bind(note).fetch_all(conn).await
}

/// The tags a note shows, sorted: its reviewed ones, and a linked note's base note's
/// minus the ones it leaves out.
pub async fn pulled_tags(conn: &mut Conn, note: NoteId) -> sqlx::Result<Vec<String>> {
    let sql = format!(
        "SELECT (SELECT json_group_array(content) FROM ({SHOWN_TAGS})) FROM notes n WHERE n.id = ?"
    );
    let json: Option<String> = sqlx::query_scalar(&sql)
        .bind(note)
        .fetch_optional(conn)
        .await?;
    Ok(json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// `(deck, notetype)` pairs used by the notes a pull will return.
pub async fn notetypes_by_deck(
    conn: &mut Conn,
    decks: &str,
    since: Micros,
) -> sqlx::Result<Vec<(DeckId, NotetypeId)>> {
    sqlx::query_as(
        "SELECT DISTINCT deck, notetype FROM notes WHERE deck IN (SELECT value FROM json_each(?)) AND reviewed = 1 AND deleted = 0
         AND last_update > ? ORDER BY deck, notetype",
    )
    .bind(decks)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Guids of notes of these decks deleted after `since`.
pub async fn deleted_guids(
    conn: &mut Conn,
    decks: &str,
    since: Micros,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT guid FROM notes WHERE deck IN (SELECT value FROM json_each(?)) AND deleted = 1 AND last_update > ? ORDER BY id",
    )
    .bind(decks)
        .bind(since)
        .fetch_all(conn)
        .await
}

/// A protected field with its notetype, which pulls group into `protected_fields` entries.
#[derive(Debug, sqlx::FromRow)]
pub struct ProtectedFieldRow {
    /// The notetype's server id.
    pub notetype_id: NotetypeId,
    /// The notetype's name.
    pub notetype_name: String,
    /// The field's Anki id.
    pub field_id: i64,
    /// The field's name.
    pub field_name: String,
}

/// Protected fields of notetypes used in these decks, by notetype then field order.
pub async fn protected_fields(
    conn: &mut Conn,
    decks: &str,
) -> sqlx::Result<Vec<ProtectedFieldRow>> {
    sqlx::query_as(
        "SELECT nt.id AS notetype_id, nt.name AS notetype_name, f.anki_id AS field_id, f.name AS field_name
         FROM notetype_fields f JOIN notetypes nt ON nt.id = f.notetype
         WHERE f.protected = 1
           AND nt.id IN (SELECT DISTINCT notetype FROM notes WHERE deck IN (SELECT value FROM json_each(?)) AND deleted = 0)
         ORDER BY nt.id, f.ord",
    )
    .bind(decks)
    .fetch_all(conn)
    .await
}

/// A deck and all its descendants that changed after `since` (all of them for `since` = MIN), by id.
pub async fn subtree(
    conn: &mut Conn,
    deck: DeckId,
    since: Micros,
) -> sqlx::Result<Vec<super::decks::Deck>> {
    let ids: Vec<DeckId> = sqlx::query_scalar(
        "WITH RECURSIVE down(id) AS (SELECT ? UNION SELECT d.id FROM decks d JOIN down ON d.parent = down.id)
         SELECT d.id FROM decks d JOIN down ON d.id = down.id WHERE d.last_update > ? ORDER BY d.id",
    )
    .bind(deck)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(d) = super::decks::by_id(conn, id).await? {
            out.push(d);
        }
    }
    Ok(out)
}
