//! Reading a deck's statistics for its maintainers: review figures summed per note
//! (`note_stat_totals`, kept by triggers as uploads arrive), subscriptions and
//! suggestions per week. Every query reads one tree through an index and returns a
//! bounded number of rows.

use super::{Conn, DeckId, Micros};

/// A tree's review figures in all.
#[derive(Debug, sqlx::FromRow)]
pub struct TreeFigures {
    /// Subscribers with figures for any note of the tree.
    pub reporters: i64,
    /// Live notes with figures.
    pub notes: i64,
}

/// Figures of a tree's live notes, summed.
pub async fn tree_figures(conn: &mut Conn, root: DeckId) -> sqlx::Result<TreeFigures> {
    sqlx::query_as(
        "SELECT (SELECT COUNT(DISTINCT r.user_hash) FROM note_stat_reporters r
                 JOIN decks d ON d.id = r.deck WHERE d.root = ?1) AS reporters,
                (SELECT COUNT(*) FROM note_stat_totals t JOIN notes n ON n.id = t.note
                 WHERE t.root = ?1 AND n.deleted = 0) AS notes",
    )
    .bind(root)
    .fetch_one(conn)
    .await
}

/// One subdeck's figures over its live notes and the subscribers reporting on them.
#[derive(Debug, sqlx::FromRow)]
pub struct SubdeckFigures {
    pub path: String,
    /// Notes with figures.
    pub notes: i64,
    /// Subscribers with figures for notes of this subdeck.
    pub reporters: i64,
    /// Mean retention over every (note, subscriber) figure, in percent.
    pub retention: f64,
    /// Lapses summed over notes and subscribers.
    pub lapses: i64,
    pub reps: i64,
}

/// Up to `limit` subdecks of a tree with figures, lowest mean retention first.
pub async fn subdecks(
    conn: &mut Conn,
    root: DeckId,
    limit: i64,
) -> sqlx::Result<Vec<SubdeckFigures>> {
    sqlx::query_as(
        "SELECT d.full_path AS path, COUNT(*) AS notes,
                (SELECT COUNT(*) FROM note_stat_reporters r WHERE r.deck = d.id) AS reporters,
                CAST(SUM(t.retention) AS REAL) / SUM(t.reporters) AS retention,
                SUM(t.lapses) AS lapses, SUM(t.reps) AS reps
         FROM note_stat_totals t JOIN notes n ON n.id = t.note JOIN decks d ON d.id = n.deck
         WHERE t.root = ? AND n.deleted = 0
         GROUP BY d.id ORDER BY retention, d.full_path LIMIT ?",
    )
    .bind(root)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A note with its figures summed over the subscribers who reported on it.
#[derive(Debug, sqlx::FromRow)]
pub struct NoteFigures {
    pub guid: String,
    pub path: String,
    /// The note's first field as stored (cleaned HTML).
    pub first_field: String,
    pub reporters: i64,
    /// Mean retention over its subscribers, in percent.
    pub retention: f64,
    pub lapses: i64,
    pub reps: i64,
}

/// Up to `limit` live notes at least `min_reporters` subscribers reported on, lowest
/// mean retention first, then most lapses per review.
pub async fn hardest(
    conn: &mut Conn,
    root: DeckId,
    min_reporters: i64,
    limit: i64,
) -> sqlx::Result<Vec<NoteFigures>> {
    sqlx::query_as(
        "SELECT n.guid, d.full_path AS path,
                COALESCE((SELECT f.content FROM fields f WHERE f.note = n.id AND f.reviewed = 1
                          ORDER BY f.position LIMIT 1), '') AS first_field,
                t.reporters, CAST(t.retention AS REAL) / t.reporters AS retention,
                t.lapses, t.reps
         FROM note_stat_totals t JOIN notes n ON n.id = t.note JOIN decks d ON d.id = n.deck
         WHERE t.root = ? AND t.reporters >= ? AND n.deleted = 0
         ORDER BY retention, CAST(t.lapses AS REAL) / MAX(t.reps, 1) DESC, n.guid LIMIT ?",
    )
    .bind(root)
    .bind(min_reporters)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How many live notes fall in each bucket: `(bucket, notes)` for the buckets that have
/// any. Retention buckets are tens of percent (0 to 9, 100 % in 9); lapse buckets are a
/// note's mean lapses per subscriber, 0, 1, 2, 3 to 4, 5 to 9 and 10 or more (0 to 5).
pub async fn spread(conn: &mut Conn, root: DeckId) -> sqlx::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        "SELECT 'retention', MIN(t.retention / t.reporters / 10, 9) AS bucket, COUNT(*)
         FROM note_stat_totals t JOIN notes n ON n.id = t.note
         WHERE t.root = ?1 AND n.deleted = 0 GROUP BY bucket
         UNION ALL
         SELECT 'lapses', CASE WHEN l < 3 THEN l WHEN l < 5 THEN 3 WHEN l < 10 THEN 4 ELSE 5 END AS bucket, COUNT(*)
         FROM (SELECT t.lapses / t.reporters AS l FROM note_stat_totals t JOIN notes n ON n.id = t.note
               WHERE t.root = ?1 AND n.deleted = 0)
         GROUP BY bucket",
    )
    .bind(root)
    .fetch_all(conn)
    .await
}

/// Current subscriptions of a deck that began before `start`.
pub async fn subscribed_before(conn: &mut Conn, deck: DeckId, start: Micros) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE deck = ? AND subscribed_at < ?")
        .bind(deck)
        .bind(start)
        .fetch_one(conn)
        .await
}

/// Current subscriptions of a deck that began in each week from `start` on:
/// `(week number from 0, subscriptions)` for the weeks that have any.
pub async fn subscribed_per_week(
    conn: &mut Conn,
    deck: DeckId,
    start: Micros,
    week: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    sqlx::query_as(
        "SELECT (subscribed_at - ?1) / ?2 AS w, COUNT(*) FROM subscriptions
         WHERE deck = ?3 AND subscribed_at >= ?1 GROUP BY w",
    )
    .bind(start)
    .bind(week)
    .bind(deck)
    .fetch_all(conn)
    .await
}

/// Suggestions on a tree made in each week from `start` on, by status:
/// `(week number from 0, status, suggestions)`. Changes applied on arrival (the owner's
/// and maintainers' own) are no suggestions.
pub async fn suggested_per_week(
    conn: &mut Conn,
    root: DeckId,
    start: Micros,
    week: i64,
) -> sqlx::Result<Vec<(i64, String, i64)>> {
    sqlx::query_as(
        "SELECT (created_at - ?1) / ?2 AS w, status, COUNT(*) FROM commits
         WHERE deck = ?3 AND created_at >= ?1 AND status != 'applied' GROUP BY w, status",
    )
    .bind(start)
    .bind(week)
    .bind(root)
    .fetch_all(conn)
    .await
}
