//! Deck rows: trees of decks, each with its own hash, plus maintainers and optional tags.

use super::Conn;
use super::{CommitId, DeckId, Micros, UserId};

/// A deck row.
#[derive(Debug, sqlx::FromRow)]
pub struct Deck {
    pub id: DeckId,
    pub name: String,
    pub description: String,
    pub owner: UserId,
    pub parent: Option<DeckId>,
    pub root: DeckId,
    pub full_path: String,
    pub crowdanki_uuid: String,
    pub human_hash: String,
    pub stats_enabled: bool,
    pub restrict_notetypes: bool,
    pub restrict_subdecks: bool,
    pub created_at: Micros,
    pub last_update: Micros,
    /// The pending suggestion this deck exists for; `None` once the deck is public.
    pub pending_commit: Option<CommitId>,
}

const COLUMNS: &str =
    "id, name, description, owner, parent, root, full_path, crowdanki_uuid, human_hash, \
     stats_enabled, restrict_notetypes, restrict_subdecks, created_at, last_update, pending_commit";

/// What a new deck row needs.
pub struct NewDeck<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub owner: UserId,
    pub parent: Option<DeckId>,
    pub root: Option<DeckId>,
    pub full_path: &'a str,
    pub crowdanki_uuid: &'a str,
    pub human_hash: &'a str,
    pub now: Micros,
}

/// Inserts a deck; a root (no `root` given) becomes its own root.
pub async fn insert(conn: &mut Conn, d: NewDeck<'_>) -> sqlx::Result<DeckId> {
    let id: DeckId = sqlx::query_scalar(
        "INSERT INTO decks (name, description, owner, parent, root, full_path, crowdanki_uuid, human_hash, created_at, last_update)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(d.name)
    .bind(d.description)
    .bind(d.owner)
    .bind(d.parent)
    .bind(d.root)
    .bind(d.full_path)
    .bind(d.crowdanki_uuid)
    .bind(d.human_hash)
    .bind(d.now)
    .bind(d.now)
    .fetch_one(&mut *conn)
    .await?;
    if d.root.is_none() {
        sqlx::query("UPDATE decks SET root = id WHERE id = ?")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(id)
}

/// Hides a new deck from pulls until suggestion `commit` is approved.
pub async fn mark_pending(conn: &mut Conn, deck: DeckId, commit: CommitId) -> sqlx::Result<()> {
    sqlx::query("UPDATE decks SET pending_commit = ? WHERE id = ?")
        .bind(commit)
        .bind(deck)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes a deck and every hidden ancestor public (a deck is never public under a hidden one).
pub async fn publish_with_ancestors(conn: &mut Conn, deck: DeckId) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT d.parent FROM decks d JOIN up ON d.id = up.id WHERE d.parent IS NOT NULL)
         UPDATE decks SET pending_commit = NULL WHERE pending_commit IS NOT NULL AND id IN (SELECT id FROM up)",
    )
    .bind(deck)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Decks still hidden for suggestion `commit`, deepest (newest) first.
pub async fn pending_of_commit(conn: &mut Conn, commit: CommitId) -> sqlx::Result<Vec<DeckId>> {
    sqlx::query_scalar("SELECT id FROM decks WHERE pending_commit = ? ORDER BY id DESC")
        .bind(commit)
        .fetch_all(conn)
        .await
}

/// Deletes a hidden deck that holds nothing (no notes, subdecks or moves into it); true if it went.
pub async fn delete_if_unused(conn: &mut Conn, deck: DeckId) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM decks WHERE id = ?1 AND pending_commit IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM notes WHERE deck = ?1)
           AND NOT EXISTS (SELECT 1 FROM decks WHERE parent = ?1)
           AND NOT EXISTS (SELECT 1 FROM note_moves WHERE target_deck = ?1)",
    )
    .bind(deck)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Any deck (root or subdeck) by its hash.
pub async fn by_hash(conn: &mut Conn, hash: &str) -> sqlx::Result<Option<Deck>> {
    let sql = format!("SELECT {COLUMNS} FROM decks WHERE human_hash = ?");
    sqlx::query_as(&sql).bind(hash).fetch_optional(conn).await
}

/// A deck by id.
pub async fn by_id(conn: &mut Conn, id: DeckId) -> sqlx::Result<Option<Deck>> {
    let sql = format!("SELECT {COLUMNS} FROM decks WHERE id = ?");
    sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
}

/// A deck of one tree by its `::`-joined path.
pub async fn by_path(conn: &mut Conn, root: DeckId, full_path: &str) -> sqlx::Result<Option<Deck>> {
    let sql = format!("SELECT {COLUMNS} FROM decks WHERE root = ? AND full_path = ?");
    sqlx::query_as(&sql)
        .bind(root)
        .bind(full_path)
        .fetch_optional(conn)
        .await
}

/// Every deck of a tree, parents before children, siblings by id.
pub async fn tree(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<Deck>> {
    let sql = format!("SELECT {COLUMNS} FROM decks WHERE root = ? ORDER BY id");
    sqlx::query_as(&sql).bind(root).fetch_all(conn).await
}

/// Whether the owner already has a root deck of that name.
pub async fn owner_has_root_named(
    conn: &mut Conn,
    owner: UserId,
    name: &str,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM decks WHERE owner = ? AND parent IS NULL AND name = ?",
    )
    .bind(owner)
    .bind(name)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Whether a hash is already used by some deck.
pub async fn hash_taken(conn: &mut Conn, hash: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decks WHERE human_hash = ?")
        .bind(hash)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Sets `last_update` on a deck and all its ancestors.
pub async fn bump_with_ancestors(conn: &mut Conn, deck: DeckId, now: Micros) -> sqlx::Result<()> {
    sqlx::query(
        "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT d.parent FROM decks d JOIN up ON d.id = up.id WHERE d.parent IS NOT NULL)
         UPDATE decks SET last_update = ? WHERE id IN (SELECT id FROM up)",
    )
    .bind(deck)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `user` owns `deck` or maintains it or one of its ancestors.
pub async fn can_maintain(conn: &mut Conn, deck: DeckId, user: UserId) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT d.parent FROM decks d JOIN up ON d.id = up.id WHERE d.parent IS NOT NULL)
         SELECT (SELECT COUNT(*) FROM decks WHERE id IN (SELECT id FROM up) AND owner = ?)
              + (SELECT COUNT(*) FROM maintainers WHERE deck IN (SELECT id FROM up) AND user_id = ?)",
    )
    .bind(deck)
    .bind(user)
    .bind(user)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Adds a co-maintainer; returns false if already one.
pub async fn add_maintainer(conn: &mut Conn, deck: DeckId, user: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query("INSERT OR IGNORE INTO maintainers (deck, user_id) VALUES (?, ?)")
        .bind(deck)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a co-maintainer; returns false if they were not one.
pub async fn remove_maintainer(conn: &mut Conn, deck: DeckId, user: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM maintainers WHERE deck = ? AND user_id = ?")
        .bind(deck)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Names of a deck's co-maintainers.
pub async fn maintainers(conn: &mut Conn, deck: DeckId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT u.username FROM maintainers m JOIN users u ON u.id = m.user_id WHERE m.deck = ? ORDER BY u.username")
        .bind(deck)
        .fetch_all(conn)
        .await
}

/// One line of `deck list`.
#[derive(Debug, sqlx::FromRow)]
pub struct RootSummary {
    pub hash: String,
    pub name: String,
    pub owner: String,
    pub notes: i64,
    pub pending: i64,
    pub subscribers: i64,
    pub last_update: Micros,
}

/// Every root deck with its counts.
pub async fn list_roots(conn: &mut Conn) -> sqlx::Result<Vec<RootSummary>> {
    sqlx::query_as(
        "SELECT d.human_hash AS hash, d.name, u.username AS owner,
                (SELECT COUNT(*) FROM notes n WHERE n.root = d.id AND n.reviewed = 1 AND n.deleted = 0) AS notes,
                (SELECT COUNT(*) FROM commits c WHERE c.deck = d.id AND c.status = 'pending') AS pending,
                (SELECT COUNT(*) FROM subscriptions s WHERE s.deck = d.id) AS subscribers,
                d.last_update
         FROM decks d JOIN users u ON u.id = d.owner WHERE d.parent IS NULL ORDER BY d.id",
    )
    .fetch_all(conn)
    .await
}

/// Which of these hashes name an existing deck.
pub async fn existing_hashes(conn: &mut Conn, hashes: &[String]) -> sqlx::Result<Vec<String>> {
    let json = serde_json::to_string(hashes).expect("strings serialise");
    sqlx::query_scalar(
        "SELECT human_hash FROM decks WHERE human_hash IN (SELECT value FROM json_each(?))",
    )
    .bind(json)
    .fetch_all(conn)
    .await
}

/// Optional tag groups registered on a root deck.
pub async fn optional_tag_groups(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT tag_group FROM optional_tags WHERE deck = ? ORDER BY tag_group")
        .bind(root)
        .fetch_all(conn)
        .await
}

/// Registers or removes an optional tag group on a root deck.
pub async fn set_optional_tag_group(
    conn: &mut Conn,
    root: DeckId,
    group: &str,
    on: bool,
) -> sqlx::Result<bool> {
    let sql = if on {
        "INSERT OR IGNORE INTO optional_tags (deck, tag_group) VALUES (?, ?)"
    } else {
        "DELETE FROM optional_tags WHERE deck = ? AND tag_group = ?"
    };
    Ok(sqlx::query(sql)
        .bind(root)
        .bind(group)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}

/// Turns review statistics collection on or off for a whole tree, bumping every deck of
/// it so the next pull tells subscribers; returns false if nothing changed.
pub async fn set_stats_enabled(
    conn: &mut Conn,
    root: DeckId,
    on: bool,
    now: Micros,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE decks SET stats_enabled = ?1, last_update = ?2
         WHERE (id = ?3 OR root = ?3) AND stats_enabled != ?1",
    )
    .bind(on)
    .bind(now)
    .bind(root)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets a deck's description.
pub async fn set_description(conn: &mut Conn, deck: DeckId, text: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE decks SET description = ? WHERE id = ?")
        .bind(text)
        .bind(deck)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a root deck and everything in it: subdecks, notes, suggestions, changelogs,
/// subscriptions (the rows that reference it cascade). Media files stay for the collector.
pub async fn delete_root(conn: &mut Conn, root: DeckId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM decks WHERE id = ? AND parent IS NULL")
        .bind(root)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets whether suggestions may add subdecks or notetypes to a tree.
pub async fn set_restrictions(
    conn: &mut Conn,
    root: DeckId,
    subdecks: bool,
    notetypes: bool,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE decks SET restrict_subdecks = ?, restrict_notetypes = ? WHERE id = ?")
        .bind(subdecks)
        .bind(notetypes)
        .bind(root)
        .execute(conn)
        .await?;
    Ok(())
}
