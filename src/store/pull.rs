//! The read queries behind `/pullChanges`, in batches so a 50,000-note deck never sits in memory.

use sqlx::Row;

use super::Conn;

/// Pulled notes of one deck, already written as JSON objects by SQLite and joined by
/// commas: one round trip and no per-note work in Rust for hundreds of notes.
#[derive(Debug, sqlx::FromRow)]
pub struct NoteBatch {
    pub json: Option<String>,
    /// The last note id in the batch, where the next batch starts.
    pub last_id: Option<i64>,
    pub count: i64,
}

/// Up to `limit` live, reviewed notes of `deck` changed after `since` with id above
/// `after`, in id order. Fields are listed by the notetype's field order (missing ones
/// empty), tags sorted; notes whose fields are all empty are left out.
pub async fn notes_json_batch(
    conn: &mut Conn,
    deck: i64,
    since: i64,
    after: i64,
    limit: i64,
) -> sqlx::Result<NoteBatch> {
    sqlx::query_as(
        "SELECT group_concat(j, ',' ORDER BY id) AS json, max(id) AS last_id, count(*) AS count FROM (
           SELECT n.id AS id, json_object(
             'id', n.anki_id,
             'fields', json((SELECT json_group_array(coalesce(f.content, '') ORDER BY nf.ord)
                             FROM notetype_fields nf
                             LEFT JOIN fields f ON f.note = n.id AND f.reviewed = 1 AND f.position = nf.ord
                             WHERE nf.notetype = n.notetype)),
             'guid', n.guid,
             'note_model_uuid', nt.guid,
             'tags', json((SELECT json_group_array(t.content ORDER BY t.content)
                           FROM tags t WHERE t.note = n.id AND t.reviewed = 1))
           ) AS j
           FROM notes n JOIN notetypes nt ON nt.id = n.notetype
           WHERE n.deck = ? AND n.reviewed = 1 AND n.deleted = 0 AND n.last_update > ? AND n.id > ?
             AND EXISTS (SELECT 1 FROM fields f WHERE f.note = n.id AND f.reviewed = 1 AND f.content <> '')
           ORDER BY n.id LIMIT ?
         )",
    )
    .bind(deck)
    .bind(since)
    .bind(after)
    .bind(limit)
    .fetch_one(conn)
    .await
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
