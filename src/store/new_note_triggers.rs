//! The triggers on new field and tag rows, taken out of a transaction that inserts only
//! brand-new notes. Each drops stored pull objects: the note's own, or those of notes
//! that follow it through a deck link. A note inserted in the same transaction has
//! neither, yet SQLite runs a trigger program for every row: six per published note,
//! about a sixth of a 50,000-note publish.
//!
//! Schema changes in SQLite are transactional, so the triggers are dropped and created
//! again from their own stored text inside the caller's transaction: readers never see
//! them missing, and a transaction that fails, is dropped or dies with the process rolls
//! the drop back with everything else.

use super::Conn;

/// Every INSERT trigger on `fields` and `tags`, each a no-op for a note created in the
/// same transaction. A new trigger on those inserts must be judged and listed here (a
/// test compares this list with the schema).
const NO_OPS_FOR_NEW_NOTES: [&str; 4] = [
    "pulled_notes_field_insert",
    "pulled_notes_tag_insert",
    "pulled_links_field_insert",
    "pulled_links_tag_insert",
];

/// The suspended triggers' CREATE statements, to run again before the commit.
#[must_use = "the triggers must be restored before the transaction commits"]
pub struct Suspended(Vec<String>);

/// Drops [`NO_OPS_FOR_NEW_NOTES`] for the rest of this transaction, until [`restore`].
/// Only for a transaction that writes field and tag rows of its own new notes alone.
pub async fn suspend(tx: &mut Conn) -> sqlx::Result<Suspended> {
    let mut sql = Vec::with_capacity(NO_OPS_FOR_NEW_NOTES.len());
    for name in NO_OPS_FOR_NEW_NOTES {
        let create: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(&format!("DROP TRIGGER \"{name}\""))
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        sql.push(create);
    }
    Ok(Suspended(sql))
}

/// Creates the suspended triggers again, exactly as the schema had them.
pub async fn restore(tx: &mut Conn, suspended: Suspended) -> sqlx::Result<()> {
    for create in suspended.0 {
        sqlx::query(&create)
            .persistent(false)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::Db;

    /// `(name, sql)` of every trigger, in name order.
    async fn all(conn: &mut Conn) -> Vec<(String, String)> {
        sqlx::query_as("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
            .fetch_all(conn)
            .await
            .unwrap()
    }

    async fn open() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&Config::for_data_dir(dir.path())).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn the_list_names_every_insert_trigger_on_fields_and_tags_and_each_only_drops_copies() {
        let (_dir, db) = open().await;
        let mut tx = db.begin_write().await.unwrap();
        // Over-matching is the safe side: a trigger listed here by mistake fails the test.
        let on_inserts: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'
             AND tbl_name IN ('fields', 'tags')
             AND replace(replace(sql, char(10), ' '), char(9), ' ') LIKE '%INSERT ON%'
             ORDER BY name",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        let mut listed = NO_OPS_FOR_NEW_NOTES.map(String::from).to_vec();
        listed.sort();
        let names: Vec<String> = on_inserts.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, listed);
        // What makes each a no-op for a new note: its body only drops stored pull objects,
        // of the new row's note or of notes linked to it.
        for (name, sql) in on_inserts {
            let body = sql
                .split_once("BEGIN")
                .and_then(|(_, rest)| rest.rsplit_once("END"))
                .map(|(body, _)| body)
                .unwrap_or_else(|| panic!("{name}: no BEGIN … END body in {sql}"));
            let statements: Vec<&str> = body
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            assert!(!statements.is_empty(), "{name}: empty body");
            for statement in statements {
                let one_line = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    one_line == "DELETE FROM pulled_notes WHERE note = NEW.note"
                        || one_line
                            == "DELETE FROM pulled_notes WHERE note IN (SELECT note FROM note_links WHERE base_note = NEW.note)",
                    "{name} does more than drop pull objects: {one_line}"
                );
            }
        }
    }

    #[tokio::test]
    async fn restored_triggers_match_the_schema_and_a_dropped_transaction_keeps_them() {
        let (_dir, db) = open().await;
        let mut conn = db.begin_write().await.unwrap();
        let before = all(&mut conn).await;
        drop(conn);

        let mut tx = db.begin_write().await.unwrap();
        let suspended = suspend(&mut tx).await.unwrap();
        assert_eq!(
            all(&mut tx).await.len(),
            before.len() - NO_OPS_FOR_NEW_NOTES.len()
        );
        restore(&mut tx, suspended).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        assert_eq!(all(&mut tx).await, before, "after a restore and commit");
        drop(tx);

        let mut tx = db.begin_write().await.unwrap();
        let _suspended = suspend(&mut tx).await.unwrap();
        drop(tx);
        let mut tx = db.begin_write().await.unwrap();
        assert_eq!(
            all(&mut tx).await,
            before,
            "after a transaction dropped while suspended"
        );
    }
}
