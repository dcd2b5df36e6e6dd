//! The read queries behind `/pullChanges`, streamed so a 50,000-note deck never sits in memory.

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use sqlx::Row;

use super::Conn;

/// A pulled note, straight from SQL.
#[derive(Debug)]
pub struct NoteRow {
    pub anki_id: i64,
    pub guid: String,
    pub notetype: i64,
    /// JSON array of `[position, content]` pairs of reviewed fields.
    pub fields_json: String,
    /// Reviewed tags joined by spaces (Anki tags never contain spaces).
    pub tags: Option<String>,
}

/// Streams the live, reviewed notes of one deck changed after `since`, by id.
pub fn notes_of_deck<'c>(
    conn: &'c mut Conn,
    deck: i64,
    since: i64,
) -> BoxStream<'c, sqlx::Result<NoteRow>> {
    sqlx::query(
        "SELECT n.anki_id, n.guid, n.notetype,
            (SELECT json_group_array(json_array(f.position, f.content)) FROM fields f WHERE f.note = n.id AND f.reviewed = 1),
            (SELECT group_concat(t.content, ' ') FROM tags t WHERE t.note = n.id AND t.reviewed = 1)
         FROM notes n
         WHERE n.deck = ? AND n.reviewed = 1 AND n.deleted = 0 AND n.last_update > ?
           AND EXISTS (SELECT 1 FROM fields f WHERE f.note = n.id AND f.reviewed = 1 AND f.content <> '')
         ORDER BY n.id",
    )
    .bind(deck)
    .bind(since)
    .fetch(conn)
    .map(|r| {
        r.map(|r| NoteRow { anki_id: r.get(0), guid: r.get(1), notetype: r.get(2), fields_json: r.get(3), tags: r.get(4) })
    })
    .boxed()
}

/// `(deck, notetype)` pairs used by the notes a pull will return.
pub async fn notetypes_by_deck(
    conn: &mut Conn,
    decks: &str,
    since: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
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
pub async fn deleted_guids(conn: &mut Conn, decks: &str, since: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT guid FROM notes WHERE deck IN (SELECT value FROM json_each(?)) AND deleted = 1 AND last_update > ? ORDER BY id",
    )
    .bind(decks)
        .bind(since)
        .fetch_all(conn)
        .await
}

/// Protected fields of notetypes used in these decks: `(notetype id, notetype name, field id, field name)`.
pub async fn protected_fields(
    conn: &mut Conn,
    decks: &str,
) -> sqlx::Result<Vec<(i64, String, i64, String)>> {
    let rows = sqlx::query(
        "SELECT nt.id, nt.name, f.anki_id, f.name FROM notetype_fields f JOIN notetypes nt ON nt.id = f.notetype
         WHERE f.protected = 1
           AND nt.id IN (SELECT DISTINCT notetype FROM notes WHERE deck IN (SELECT value FROM json_each(?)) AND deleted = 0)
         ORDER BY nt.id, f.ord",
    )
    .bind(decks)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// A deck and all its descendants that changed after `since` (all of them for `since` = MIN), by id.
pub async fn subtree(
    conn: &mut Conn,
    deck: i64,
    since: i64,
) -> sqlx::Result<Vec<super::decks::Deck>> {
    let ids: Vec<i64> = sqlx::query_scalar(
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
