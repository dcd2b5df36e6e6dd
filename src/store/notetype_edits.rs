//! Changing a stored notetype in place: its fields (renamed, added, moved, removed),
//! templates and styling, with every note's content following its field.

use super::notetypes::{NotetypeField, NotetypeTemplate};
use super::{CommitId, Conn, DeckId, Micros, NotetypeId};

/// A field of the changed notetype, in its new place.
pub struct NewField<'a> {
    /// The stored position its content comes from; `None` for a new, empty field.
    pub from: Option<i64>,
    pub field: &'a NotetypeField,
}

/// Lays out a notetype's fields anew and moves every note's content with them, and what
/// linked notes inherit: content at a position no new field comes from is deleted.
/// Answers how many field rows moved.
pub async fn set_fields(
    conn: &mut Conn,
    notetype: NotetypeId,
    fields: &[NewField<'_>],
) -> sqlx::Result<u64> {
    let moves: Vec<(i64, i64)> = fields
        .iter()
        .enumerate()
        .filter_map(|(to, f)| f.from.map(|from| (from, to as i64)))
        .collect();
    let json = serde_json::to_string(&moves).expect("pairs serialise");
    const NOTES: &str = "note IN (SELECT id FROM notes WHERE notetype = ?)";
    sqlx::query(&format!(
        "DELETE FROM fields WHERE {NOTES}
         AND position NOT IN (SELECT json_extract(value, '$[0]') FROM json_each(?))"
    ))
    .bind(notetype)
    .bind(&json)
    .execute(&mut *conn)
    .await?;
    let mut moved = 0;
    if moves.iter().any(|(from, to)| from != to) {
        // Through negative positions, so no two reviewed rows of a note ever share one.
        moved = sqlx::query(&format!(
            "UPDATE fields SET position = -1 - (SELECT json_extract(value, '$[1]') FROM json_each(?) WHERE json_extract(value, '$[0]') = fields.position)
             WHERE {NOTES}"
        ))
        .bind(&json)
        .bind(notetype)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query(&format!(
            "UPDATE fields SET position = -1 - position WHERE {NOTES} AND position < 0"
        ))
        .bind(notetype)
        .execute(&mut *conn)
        .await?;
    }
    super::deck_links::follow_field_moves(conn, notetype, &json).await?;
    sqlx::query("DELETE FROM notetype_fields WHERE notetype = ?")
        .bind(notetype)
        .execute(&mut *conn)
        .await?;
    super::notetypes::insert_fields(conn, notetype, fields.iter().map(|f| f.field)).await?;
    Ok(moved)
}

/// Replaces a notetype's card templates, numbered in the given order.
pub async fn set_templates(
    conn: &mut Conn,
    notetype: NotetypeId,
    templates: &[NotetypeTemplate],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notetype_templates WHERE notetype = ?")
        .bind(notetype)
        .execute(&mut *conn)
        .await?;
    super::notetypes::insert_templates(conn, notetype, templates).await
}

/// Replaces a notetype's styling.
pub async fn set_css(conn: &mut Conn, notetype: NotetypeId, css: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE notetypes SET css = ? WHERE id = ?")
        .bind(css)
        .bind(notetype)
        .execute(conn)
        .await?;
    Ok(())
}

/// Remembers a removed field, so a subscriber's leftover copy of it is not taken for new.
pub async fn remember_removed(
    conn: &mut Conn,
    notetype: NotetypeId,
    field: &NotetypeField,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO notetype_removed_fields (notetype, name, anki_id) VALUES (?, ?, ?)")
        .bind(notetype)
        .bind(&field.name)
        .bind(field.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The removed fields of a notetype, as `(name, anki_id)`.
pub async fn removed(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT name, anki_id FROM notetype_removed_fields WHERE notetype = ?")
        .bind(notetype)
        .fetch_all(conn)
        .await
}

/// Makes every note of a notetype due for its subscribers' next pull (they need the new
/// layout) and drops their stored pull objects; answers the decks whose clock must move.
pub async fn touch_notes(
    conn: &mut Conn,
    notetype: NotetypeId,
    now: Micros,
) -> sqlx::Result<Vec<DeckId>> {
    sqlx::query("DELETE FROM pulled_notes WHERE note IN (SELECT id FROM notes WHERE notetype = ?)")
        .bind(notetype)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE notes SET last_update = ? WHERE notetype = ? AND reviewed = 1")
        .bind(now)
        .bind(notetype)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT DISTINCT deck FROM notes WHERE notetype = ? AND reviewed = 1")
        .bind(notetype)
        .fetch_all(conn)
        .await
}

/// Keeps a notetype's shape from before a change (JSON); only the newest `keep` stay.
pub async fn remember_shape(
    conn: &mut Conn,
    notetype: NotetypeId,
    shape: &str,
    keep: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO notetype_history (notetype, shape) VALUES (?, ?)")
        .bind(notetype)
        .bind(shape)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM notetype_history WHERE notetype = ?1 AND id NOT IN
           (SELECT id FROM notetype_history WHERE notetype = ?1 ORDER BY id DESC LIMIT ?2)",
    )
    .bind(notetype)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// The kept earlier shapes of a notetype (JSON), newest first.
pub async fn earlier_shapes(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT shape FROM notetype_history WHERE notetype = ? ORDER BY id DESC")
        .bind(notetype)
        .fetch_all(conn)
        .await
}

/// A notetype change waiting in a suggestion.
#[derive(Debug, sqlx::FromRow)]
pub struct SuggestedChange {
    pub id: i64,
    pub notetype: NotetypeId,
    /// The uploaded notetype as JSON (cleaned on arrival).
    pub model: String,
    /// The stored notetype's version when the change was suggested.
    pub base_version: String,
}

/// Keeps a suggested notetype change for review.
pub async fn insert_suggestion(
    conn: &mut Conn,
    commit: CommitId,
    notetype: NotetypeId,
    model: &str,
    base_version: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notetype_suggestions (commit_id, notetype, model, base_version) VALUES (?, ?, ?, ?)",
    )
        .bind(commit)
        .bind(notetype)
        .bind(model)
        .bind(base_version)
        .execute(conn)
        .await?;
    Ok(())
}

/// The notetype changes of a suggestion still waiting for a decision.
pub async fn pending_suggestions(
    conn: &mut Conn,
    commit: CommitId,
) -> sqlx::Result<Vec<SuggestedChange>> {
    sqlx::query_as(
        "SELECT id, notetype, model, base_version FROM notetype_suggestions WHERE commit_id = ? AND state = 'pending' ORDER BY id",
    )
    .bind(commit)
    .fetch_all(conn)
    .await
}

/// One waiting notetype change of a suggestion.
pub async fn pending_suggestion(
    conn: &mut Conn,
    commit: CommitId,
    id: i64,
) -> sqlx::Result<Option<SuggestedChange>> {
    sqlx::query_as(
        "SELECT id, notetype, model, base_version FROM notetype_suggestions WHERE commit_id = ? AND id = ? AND state = 'pending'",
    )
    .bind(commit)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records a suggested notetype change as accepted.
pub async fn accept_suggestion(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE notetype_suggestions SET state = 'accepted' WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops a denied notetype change.
pub async fn delete_suggestion(conn: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM notetype_suggestions WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
