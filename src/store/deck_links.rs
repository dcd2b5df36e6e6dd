//! Deck links and linked notes: which deck follows which, and which of its notes take
//! fields and tags from a base deck's note (migrations/0012_deck_links.sql).

use sqlx::sqlite::SqliteArguments;
use sqlx::Arguments;

use super::Conn;
use super::{DeckId, LinkId, Micros, NoteId, NotetypeId, UserId};

/// A link as the settings page lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct Link {
    pub id: LinkId,
    /// The linked deck of this tree (the root or one of its subdecks).
    pub subscriber_path: String,
    pub base_hash: String,
    pub base_path: String,
    /// How many notes of the deck take their content from the base deck.
    pub notes: i64,
}

/// A live, reviewed note found by guid under a deck.
#[derive(Debug, sqlx::FromRow)]
pub struct FoundNote {
    pub guid: String,
    pub id: NoteId,
    pub notetype: NotetypeId,
}

/// One field of a notetype, as linking compares notetypes.
#[derive(Debug, PartialEq, sqlx::FromRow)]
pub struct LayoutField {
    pub ord: i64,
    pub name: String,
    pub protected: bool,
}

/// What a linked note inherits, while its base note is live.
#[derive(Debug)]
pub struct Inheritance {
    pub base_note: NoteId,
    /// The root of the base note's tree, where forwarded suggestions go.
    pub base_root: DeckId,
    /// The fields taken from the base note.
    pub fields: Vec<InheritedField>,
}

/// One inherited field: the two notetypes may have moved their fields apart since the
/// notes were linked.
#[derive(Debug, sqlx::FromRow)]
pub struct InheritedField {
    /// Its place in the linked note's notetype.
    pub position: i64,
    /// The place of the field it shows in the base note's notetype.
    pub base_position: i64,
}

impl Inheritance {
    /// The base note's position behind the linked note's field at `position`, if inherited.
    pub fn base_position(&self, position: i64) -> Option<i64> {
        self.fields
            .iter()
            .find(|f| f.position == position)
            .map(|f| f.base_position)
    }
}

/// The subtree of a deck, for `IN (…)`.
const SUBTREE: &str = "WITH RECURSIVE down(id) AS (SELECT ? UNION SELECT d.id FROM decks d JOIN down ON d.parent = down.id)";

/// The link from `subscriber` to `base`, if there is one.
pub async fn find(
    conn: &mut Conn,
    subscriber: DeckId,
    base: DeckId,
) -> sqlx::Result<Option<LinkId>> {
    sqlx::query_scalar("SELECT id FROM deck_links WHERE subscriber = ? AND base = ?")
        .bind(subscriber)
        .bind(base)
        .fetch_optional(conn)
        .await
}

/// Records that `subscriber` follows `base`; an existing link stays as it is.
pub async fn insert(
    conn: &mut Conn,
    subscriber: DeckId,
    base: DeckId,
    by: Option<UserId>,
    now: Micros,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO deck_links (subscriber, base, created_by, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(subscriber)
    .bind(base)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether following links tree by tree from the tree of `from_root` reaches the tree
/// of `to_root` (a new link the other way would close a circle).
pub async fn reaches(conn: &mut Conn, from_root: DeckId, to_root: DeckId) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH RECURSIVE reach(root) AS (
             SELECT ?
             UNION SELECT b.root FROM deck_links l
               JOIN decks s ON s.id = l.subscriber JOIN decks b ON b.id = l.base
               JOIN reach r ON s.root = r.root)
         SELECT EXISTS (SELECT 1 FROM reach WHERE root = ?)",
    )
    .bind(from_root)
    .bind(to_root)
    .fetch_one(conn)
    .await
}

/// The links of the decks of one tree, by subscriber path then id.
pub async fn of_tree(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<Link>> {
    sqlx::query_as(
        "SELECT l.id, s.full_path AS subscriber_path, b.human_hash AS base_hash, b.full_path AS base_path,
                (SELECT COUNT(*) FROM note_links nl WHERE nl.link = l.id) AS notes
         FROM deck_links l JOIN decks s ON s.id = l.subscriber JOIN decks b ON b.id = l.base
         WHERE s.root = ? ORDER BY s.full_path, l.id",
    )
    .bind(root)
    .fetch_all(conn)
    .await
}

/// Deletes a link of a deck of the tree `root` (its linked notes stop inheriting);
/// answers the notes that were linked through it, `None` if the tree has no such link.
pub async fn delete(
    conn: &mut Conn,
    root: DeckId,
    link: LinkId,
) -> sqlx::Result<Option<Vec<NoteId>>> {
    let owned: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM deck_links l JOIN decks s ON s.id = l.subscriber WHERE l.id = ? AND s.root = ?)",
    )
    .bind(link)
    .bind(root)
    .fetch_one(&mut *conn)
    .await?;
    if !owned {
        return Ok(None);
    }
    let notes: Vec<NoteId> = sqlx::query_scalar("SELECT note FROM note_links WHERE link = ?")
        .bind(link)
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM deck_links WHERE id = ?")
        .bind(link)
        .execute(conn)
        .await?;
    Ok(Some(notes))
}

/// Live, reviewed notes under `deck` (it and its subdecks) with one of these guids.
pub async fn live_notes(
    conn: &mut Conn,
    deck: DeckId,
    guids_json: &str,
) -> sqlx::Result<Vec<FoundNote>> {
    let sql = format!(
        "{SUBTREE} SELECT n.guid, n.id, n.notetype FROM notes n
         WHERE n.deck IN (SELECT id FROM down) AND n.reviewed = 1 AND n.deleted = 0
           AND n.guid IN (SELECT value FROM json_each(?))"
    );
    sqlx::query_as(&sql)
        .bind(deck)
        .bind(guids_json)
        .fetch_all(conn)
        .await
}

/// A notetype's fields in order, as linking compares them.
pub async fn layout(conn: &mut Conn, notetype: NotetypeId) -> sqlx::Result<Vec<LayoutField>> {
    sqlx::query_as(
        "SELECT ord, name, protected FROM notetype_fields WHERE notetype = ? ORDER BY ord",
    )
    .bind(notetype)
    .fetch_all(conn)
    .await
}

/// The base note a note already inherits from, if any.
pub async fn base_of(conn: &mut Conn, note: NoteId) -> sqlx::Result<Option<NoteId>> {
    sqlx::query_scalar("SELECT base_note FROM note_links WHERE note = ?")
        .bind(note)
        .fetch_optional(conn)
        .await
}

/// Links a note to its base note through `link`, taking the fields at `positions` (the
/// same in both notetypes when notes are linked).
pub async fn insert_note_link(
    conn: &mut Conn,
    note: NoteId,
    base_note: NoteId,
    link: LinkId,
    positions: &[i64],
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO note_links (note, base_note, link) VALUES (?, ?, ?)")
        .bind(note)
        .bind(base_note)
        .bind(link)
        .execute(&mut *conn)
        .await?;
    for pos in positions {
        sqlx::query(
            "INSERT INTO note_link_fields (note, position, base_position) VALUES (?1, ?2, ?2)",
        )
        .bind(note)
        .bind(pos)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What a note inherits, if it is linked and its base note is live.
pub async fn inheritance(conn: &mut Conn, note: NoteId) -> sqlx::Result<Option<Inheritance>> {
    let base: Option<(NoteId, DeckId)> = sqlx::query_as(
        "SELECT l.base_note, b.root FROM note_links l JOIN notes b ON b.id = l.base_note
         WHERE l.note = ? AND b.reviewed = 1 AND b.deleted = 0",
    )
    .bind(note)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((base_note, base_root)) = base else {
        return Ok(None);
    };
    let fields = sqlx::query_as(
        "SELECT position, base_position FROM note_link_fields WHERE note = ? ORDER BY position",
    )
    .bind(note)
    .fetch_all(conn)
    .await?;
    Ok(Some(Inheritance {
        base_note,
        base_root,
        fields,
    }))
}

/// Renumbers what linked notes inherit after `notetype`'s fields were laid out anew by
/// `moves` (a JSON array of `[from, to]` positions; a position no pair starts from was
/// removed): on the side of notes of that notetype, and on the side of notes that follow
/// one of them. An inherited field whose field is gone on either side stops being
/// inherited, and the linked note shows its own content there.
pub async fn follow_field_moves(
    conn: &mut Conn,
    notetype: NotetypeId,
    moves: &str,
) -> sqlx::Result<()> {
    let mut args = SqliteArguments::default();
    args.add(notetype).map_err(sqlx::Error::Encode)?;
    args.add(moves).map_err(sqlx::Error::Encode)?;
    renumber(
        conn,
        "note IN (SELECT id FROM notes WHERE notetype = ?1)",
        "note IN (SELECT l.note FROM note_links l JOIN notes b ON b.id = l.base_note WHERE b.notetype = ?1)",
        "(SELECT json_extract(value, '$[1]') FROM json_each(?2) WHERE json_extract(value, '$[0]') = {col})",
        args,
    )
    .await
}

/// Renumbers what links of `note` inherit when the note moves from notetype `from` to
/// `to`: on its own side if it follows a base note, and on its followers' side if other
/// notes follow it. A field keeps its link when `to` has a field of the same name; the
/// others stop being inherited.
pub async fn follow_notetype_change(
    conn: &mut Conn,
    note: NoteId,
    from: NotetypeId,
    to: NotetypeId,
) -> sqlx::Result<()> {
    let mut args = SqliteArguments::default();
    for id in [note.0, from.0, to.0] {
        args.add(id).map_err(sqlx::Error::Encode)?;
    }
    renumber(
        conn,
        "note = ?1",
        "note IN (SELECT l.note FROM note_links l WHERE l.base_note = ?1)",
        "(SELECT t.ord FROM notetype_fields f JOIN notetype_fields t ON t.notetype = ?3 AND t.name = f.name
          WHERE f.notetype = ?2 AND f.ord = note_link_fields.{col})",
        args,
    )
    .await
}

/// Moves the inherited fields of the notes `mine` selects (their `position`) and of the
/// notes `following` selects (their `base_position`) to the place `to` gives for the
/// column `{col}`, and ends the inheritance of those it gives none for. `args` are the
/// numbered parameters all three use.
async fn renumber(
    conn: &mut Conn,
    mine: &str,
    following: &str,
    to: &str,
    args: SqliteArguments<'_>,
) -> sqlx::Result<()> {
    for (side, col) in [(mine, "position"), (following, "base_position")] {
        let to = to.replace("{col}", col);
        for sql in [
            format!("DELETE FROM note_link_fields WHERE {side} AND {to} IS NULL"),
            // Through negative positions, so no two rows of a note ever share a position.
            format!("UPDATE note_link_fields SET {col} = -1 - {to} WHERE {side}"),
            format!("UPDATE note_link_fields SET {col} = -1 - {col} WHERE {side} AND {col} < 0"),
        ] {
            sqlx::query_with(&sql, args.clone())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// A linked note leaves out a tag its base note has (nothing for other tags or notes).
pub async fn drop_base_tag(conn: &mut Conn, note: NoteId, tag: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT OR IGNORE INTO note_link_removed_tags (note, tag)
         SELECT l.note, ?1 FROM note_links l
         WHERE l.note = ?2 AND EXISTS (SELECT 1 FROM tags t WHERE t.note = l.base_note AND t.reviewed = 1 AND t.content = ?1)",
    )
    .bind(tag)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A linked note takes a base tag it had left out again.
pub async fn restore_base_tag(conn: &mut Conn, note: NoteId, tag: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM note_link_removed_tags WHERE note = ? AND tag = ?")
        .bind(note)
        .bind(tag)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the clock of these notes to `now`; answers their decks, whose clocks the
/// caller moves with their ancestors'.
pub async fn bump_notes(
    conn: &mut Conn,
    notes: &[NoteId],
    now: Micros,
) -> sqlx::Result<Vec<DeckId>> {
    let ids = serde_json::to_string(notes).expect("ids serialise");
    sqlx::query("UPDATE notes SET last_update = ? WHERE id IN (SELECT value FROM json_each(?))")
        .bind(now)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "SELECT DISTINCT deck FROM notes WHERE id IN (SELECT value FROM json_each(?)) ORDER BY deck",
    )
    .bind(&ids)
    .fetch_all(conn)
    .await
}

/// Moves the clock of every note of tree `root` that another deck's notes follow: before
/// the tree is deleted, so the followers' subscribers get their own content back (a
/// trigger moves the followers' clocks with their base notes').
pub async fn bump_followed_in_tree(conn: &mut Conn, root: DeckId, now: Micros) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE notes SET last_update = ?1
         WHERE root = ?2 AND id IN (SELECT base_note FROM note_links)",
    )
    .bind(now)
    .bind(root)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection, Row};

    #[tokio::test]
    async fn links_made_before_base_positions_keep_their_fields_and_renew_pull_objects() {
        let mut conn = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(false)
            .connect()
            .await
            .unwrap();
        let migrations: Vec<_> = super::super::MIGRATOR.iter().collect();
        for m in migrations.iter().filter(|m| m.version < 16) {
            sqlx::raw_sql(&m.sql).execute(&mut conn).await.unwrap();
        }
        // A note linked through two fields, and its stored pull object, as 0015 kept them.
        sqlx::raw_sql(
            "INSERT INTO note_links (note, base_note, link) VALUES (7, 3, 1);
             INSERT INTO note_link_fields (note, position) VALUES (7, 0), (7, 2);
             INSERT INTO pulled_notes (note, bytes, json) VALUES (7, 2, '{}');",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let upgrade = migrations.iter().find(|m| m.version == 16).unwrap();
        sqlx::raw_sql(&upgrade.sql)
            .execute(&mut conn)
            .await
            .unwrap();

        let rows: Vec<(i64, i64)> = sqlx::query(
            "SELECT position, base_position FROM note_link_fields WHERE note = 7 ORDER BY position",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        assert_eq!(rows, [(0, 0), (2, 2)], "each field stays linked to itself");
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pulled_notes")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(kept, 1, "the upgrade alone changes nothing a pull shows");
        sqlx::query("UPDATE note_link_fields SET base_position = 1 WHERE position = 2")
            .execute(&mut conn)
            .await
            .unwrap();
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pulled_notes")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(kept, 0, "a moved link drops the note's stored pull object");
        conn.close().await.unwrap();
    }
}
