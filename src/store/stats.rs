//! Review statistics subscribers share with deck maintainers.

use super::{DeckId, Micros};
use serde::Serialize;

use super::Conn;

/// One uploaded figure set, keyed by guid.
#[derive(Debug, Serialize)]
pub struct Stat<'a> {
    pub guid: &'a str,
    pub retention: i64,
    pub lapses: i64,
    pub reps: i64,
}

/// Upserts figures for the notes of a tree that exist; returns how many were stored.
/// CROSS JOIN keeps the uploaded list as the outer loop, so each figure is one lookup in
/// notes' (root, guid) index instead of a scan of the tree per figure.
pub async fn upsert(
    conn: &mut Conn,
    root: DeckId,
    user_hash: &str,
    stats: &[Stat<'_>],
    now: Micros,
) -> sqlx::Result<u64> {
    let json = serde_json::to_string(stats).expect("stats serialise");
    let done = sqlx::query(
        "INSERT INTO note_stats (note, user_hash, retention, lapses, reps, uploaded_at)
         SELECT n.id, ?, json_extract(j.value, '$.retention'), json_extract(j.value, '$.lapses'), json_extract(j.value, '$.reps'), ?
         FROM json_each(?) j CROSS JOIN notes n
         WHERE n.root = ? AND n.guid = json_extract(j.value, '$.guid')
         ON CONFLICT (note, user_hash) DO UPDATE SET retention = excluded.retention, lapses = excluded.lapses,
             reps = excluded.reps, uploaded_at = excluded.uploaded_at",
    )
    .bind(user_hash)
    .bind(now)
    .bind(json)
    .bind(root)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
