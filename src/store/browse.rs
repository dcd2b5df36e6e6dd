//! Reading decks for the console: the decks an account works with, a deck's notes page
//! by page with search, and a note's history.

use super::notes::ChangeKind;
use super::{CommitId, Conn, DeckId, Micros, NoteId, UserId};

/// How an account is related to a deck.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::Type)]
#[sqlx(rename_all = "snake_case")]
pub enum DeckRole {
    Owner,
    Maintainer,
    Subscriber,
}

/// A root deck in an account's list.
#[derive(Debug, sqlx::FromRow)]
pub struct MyDeck {
    pub hash: String,
    pub name: String,
    pub owner: String,
    pub role: DeckRole,
    pub notes: i64,
    pub subscribers: i64,
    pub pending: i64,
    pub last_update: Micros,
}

/// The root decks `user` owns, maintains (any deck of the tree) or subscribes to (as the
/// add-on counts subscribers, by `user_hash`), owned first.
pub async fn my_decks(conn: &mut Conn, user: UserId, user_hash: &str) -> sqlx::Result<Vec<MyDeck>> {
    sqlx::query_as(
        "WITH mine AS (
           SELECT d.id, CASE
             WHEN d.owner = ?1 THEN 'owner'
             WHEN EXISTS (SELECT 1 FROM maintainers m JOIN decks x ON x.id = m.deck
                          WHERE x.root = d.id AND m.user_id = ?1) THEN 'maintainer'
             WHEN EXISTS (SELECT 1 FROM subscriptions s WHERE s.deck = d.id AND s.user_hash = ?2) THEN 'subscriber'
           END AS role
           FROM decks d WHERE d.parent IS NULL AND d.pending_commit IS NULL)
         SELECT d.human_hash AS hash, d.name, u.username AS owner, mine.role,
                (SELECT COUNT(*) FROM notes n WHERE n.root = d.id AND n.reviewed = 1 AND n.deleted = 0) AS notes,
                (SELECT COUNT(*) FROM subscriptions s WHERE s.deck = d.id) AS subscribers,
                (SELECT COUNT(*) FROM commits c WHERE c.deck = d.id AND c.status = 'pending') AS pending,
                d.last_update
         FROM mine JOIN decks d ON d.id = mine.id JOIN users u ON u.id = d.owner
         WHERE mine.role IS NOT NULL
         ORDER BY CASE mine.role WHEN 'owner' THEN 0 WHEN 'maintainer' THEN 1 ELSE 2 END, d.name, d.id",
    )
    .bind(user)
    .bind(user_hash)
    .fetch_all(conn)
    .await
}

/// Whether the account subscribes to a deck.
pub async fn subscribes(conn: &mut Conn, deck: DeckId, user_hash: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE deck = ? AND user_hash = ?)",
    )
    .bind(deck)
    .bind(user_hash)
    .fetch_one(conn)
    .await
}

/// Which notes of a tree a page shows.
pub struct NoteFilter<'a> {
    /// Text any reviewed field contains (case-insensitive for ASCII), as typed and as the
    /// field cleaner stores it (`&` as `&amp;`, …).
    pub text: Option<(&'a str, &'a str)>,
    /// A reviewed tag the note has.
    pub tag: Option<&'a str>,
    /// A subdeck (full path): its notes and those of its own subdecks.
    pub subdeck: Option<&'a str>,
}

/// A note as a page lists it, before its fields and tags are attached.
#[derive(Debug, sqlx::FromRow)]
pub struct BrowsedNote {
    pub id: NoteId,
    pub guid: String,
    pub deck_path: String,
    pub notetype: String,
    pub last_update: Micros,
}

/// Puts `%`, `_` and `\` of user text out of a LIKE pattern's reach.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Up to `limit` live, reviewed notes of a tree after note `after`, in id order.
pub async fn notes_page(
    conn: &mut Conn,
    root: DeckId,
    filter: &NoteFilter<'_>,
    after: NoteId,
    limit: i64,
) -> sqlx::Result<Vec<BrowsedNote>> {
    sqlx::query_as(
        "SELECT n.id, n.guid, d.full_path AS deck_path, nt.name AS notetype, n.last_update
         FROM notes n JOIN decks d ON d.id = n.deck JOIN notetypes nt ON nt.id = n.notetype
         WHERE n.root = ?1 AND n.reviewed = 1 AND n.deleted = 0 AND n.id > ?2
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM fields f WHERE f.note = n.id AND f.reviewed = 1
                                      AND (f.content LIKE '%' || ?3 || '%' ESCAPE '\\'
                                           OR f.content LIKE '%' || ?8 || '%' ESCAPE '\\')))
           AND (?4 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.note = n.id AND t.reviewed = 1 AND t.content = ?4))
           AND (?5 IS NULL OR d.full_path = ?5 OR d.full_path LIKE ?6 ESCAPE '\\')
         ORDER BY n.id LIMIT ?7",
    )
    .bind(root)
    .bind(after)
    .bind(filter.text.map(|(typed, _)| like_escaped(typed)))
    .bind(filter.tag)
    .bind(filter.subdeck)
    .bind(filter.subdeck.map(|p| format!("{}::%", like_escaped(p))))
    .bind(limit)
    .bind(filter.text.map(|(_, stored)| like_escaped(stored)))
    .fetch_all(conn)
    .await
}

/// `(field name, content)` of a note's reviewed fields, in the notetype's order.
pub async fn named_fields(conn: &mut Conn, note: NoteId) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT nf.name, coalesce(f.content, '') FROM notes n
         JOIN notetype_fields nf ON nf.notetype = n.notetype
         LEFT JOIN fields f ON f.note = n.id AND f.reviewed = 1 AND f.position = nf.ord
         WHERE n.id = ? ORDER BY nf.ord",
    )
    .bind(note)
    .fetch_all(conn)
    .await
}

/// The subdeck paths of a tree, for the search form.
pub async fn deck_paths(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT full_path FROM decks WHERE root = ? AND pending_commit IS NULL ORDER BY full_path",
    )
    .bind(root)
    .fetch_all(conn)
    .await
}

/// A live note of a tree by its GUID.
pub async fn note_by_guid(
    conn: &mut Conn,
    root: DeckId,
    guid: &str,
) -> sqlx::Result<Option<BrowsedNote>> {
    sqlx::query_as(
        "SELECT n.id, n.guid, d.full_path AS deck_path, nt.name AS notetype, n.last_update
         FROM notes n JOIN decks d ON d.id = n.deck JOIN notetypes nt ON nt.id = n.notetype
         WHERE n.root = ? AND n.guid = ? AND n.reviewed = 1",
    )
    .bind(root)
    .bind(guid)
    .fetch_optional(conn)
    .await
}

/// One entry of a note's history, with the suggestion it came from.
#[derive(Debug, sqlx::FromRow)]
pub struct HistoryEntry {
    pub kind: ChangeKind,
    pub field_name: Option<String>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
    pub created_at: Micros,
    pub commit_id: Option<CommitId>,
    pub author: Option<String>,
    pub info: Option<String>,
}

/// A note's history, newest first.
pub async fn history(conn: &mut Conn, note: NoteId, limit: i64) -> sqlx::Result<Vec<HistoryEntry>> {
    sqlx::query_as(
        "SELECT e.event_type AS kind, e.field_name, e.old_text, e.new_text, e.created_at,
                e.commit_id, u.username AS author, c.info
         FROM note_events e LEFT JOIN commits c ON c.id = e.commit_id LEFT JOIN users u ON u.id = c.user_id
         WHERE e.note = ? ORDER BY e.id DESC LIMIT ?",
    )
    .bind(note)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The media file a tree's public notes use under `name`: `(hash, mime)`; a note still
/// waiting in a suggestion shows its media only to the suggestion's reviewers.
pub async fn media_named(
    conn: &mut Conn,
    root: DeckId,
    name: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT mf.hash, mf.mime FROM media_references r JOIN notes n ON n.id = r.note_id
         JOIN media_files mf ON mf.id = r.media_id
         WHERE n.root = ? AND r.file_name = ? AND n.reviewed = 1 AND n.deleted = 0 LIMIT 1",
    )
    .bind(root)
    .bind(name)
    .fetch_optional(conn)
    .await
}
