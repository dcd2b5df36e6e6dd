//! Concurrent writers and readers: every request succeeds and nothing is lost.
use deckd_testkit as common;

use std::collections::BTreeSet;

use common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

const WRITERS: usize = 8;

async fn pull_loop(s: &TestServer, hash: &str, rounds: usize) -> usize {
    let mut ok = 0;
    for _ in 0..rounds {
        let p = s.pull_since(hash, FIRST_PULL_TS).await;
        let e = entry_for(&p, hash).expect("the deck is always pullable");
        assert!(!all_notes(&e["deck"]).is_empty());
        ok += 1;
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_suggestions_are_all_queued_and_approvable() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Busy Deck", 40, 2);
    let hash = s.publish(&alice, &g.deck).await;
    let root_guids: Vec<String> = g
        .notes
        .iter()
        .filter(|(_, p)| p == "Busy Deck")
        .map(|(g, _)| g.clone())
        .collect();
    assert!(root_guids.len() >= WRITERS);

    let names: Vec<String> = (0..WRITERS).map(|i| format!("writer{i}")).collect();
    let tokens: Vec<String> = join_all(names.iter().map(|n| s.user(n))).await;
    let ts = sync_point().await;

    let submits = join_all((0..WRITERS).map(|i| {
        let (s, tok, guid, hash, uuid) = (&s, &tokens[i], &root_guids[i], &hash, &g.uuid);
        async move {
            let back = format!("edited by writer{i}");
            s.suggest(
                tok,
                hash,
                "Busy Deck",
                uuid,
                vec![note(guid, &[&format!("Question {i}"), &back], &["gen"])],
                &format!("edit {i}"),
            )
            .await
        }
    }));
    let pulls = join_all((0..4).map(|_| pull_loop(&s, &hash, 5)));
    let (results, pulled) = tokio::join!(submits, pulls);
    for (i, r) in results.iter().enumerate() {
        assert_eq!((r.status, r.text.as_str()), (200, "Success"), "writer{i}");
    }
    assert_eq!(pulled.iter().sum::<usize>(), 20);

    let pending = s.pending(Some(&hash)).await;
    assert_eq!(
        pending.len(),
        WRITERS,
        "every suggestion is listed: {pending:?}"
    );
    let authors: BTreeSet<String> = pending.iter().map(commit_author).collect();
    for n in &names {
        assert!(
            authors.iter().any(|a| a.contains(n.as_str())),
            "author {n} missing in {authors:?}"
        );
    }
    let ids: BTreeSet<deckd::store::CommitId> = pending.iter().map(commit_id).collect();
    assert_eq!(ids.len(), WRITERS, "distinct commit ids");
    // Oldest first.
    let created: Vec<String> = pending
        .iter()
        .map(|p| p["created_at"].to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort();
    assert!(
        created.len() == WRITERS
            && (created == sorted
                || pending
                    .iter()
                    .map(commit_id)
                    .collect::<Vec<_>>()
                    .windows(2)
                    .all(|w| w[0] < w[1])),
        "oldest first: {pending:?}"
    );
    assert_eq!(
        s.pull_since(&hash, &ts).await,
        json!([]),
        "nothing visible before approval"
    );

    // Approve all at once from parallel CLI processes while pulls keep running.
    let id_strings: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let approvals = join_all(id_strings.iter().map(|id| {
        let s = &s;
        async move { s.cli(&["review", "approve", id.as_str()]).await }
    }));
    let pulls = join_all((0..2).map(|_| pull_loop(&s, &hash, 5)));
    let (outs, _) = tokio::join!(approvals, pulls);
    for o in &outs {
        o.assert_ok();
    }
    assert!(s.pending(Some(&hash)).await.is_empty());
    let p = s.pull_since(&hash, &ts).await;
    let e = entry_for(&p, &hash).expect("entry after approvals");
    let notes = all_notes(&e["deck"]);
    assert_eq!(notes.len(), WRITERS, "exactly the edited notes: {notes:?}");
    for (i, guid) in root_guids.iter().enumerate().take(WRITERS) {
        let n = find_note(&e["deck"], guid).unwrap();
        assert_eq!(n["fields"][1], format!("edited by writer{i}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_owner_force_overwrites_all_apply() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Force Deck", 24, 0);
    let hash = s.publish(&alice, &g.deck).await;
    let guids = g.guids();
    let ts = sync_point().await;
    let writes = join_all((0..WRITERS).map(|i| {
        let (s, alice, hash, uuid, guid) = (&s, &alice, &hash, &g.uuid, &guids[i]);
        async move {
            s.suggest_forced(
                alice,
                hash,
                "Force Deck",
                uuid,
                vec![note(
                    guid,
                    &[&format!("Q{i}"), &format!("forced {i}")],
                    &["gen"],
                )],
            )
            .await
        }
    }));
    let pulls = join_all((0..4).map(|_| pull_loop(&s, &hash, 5)));
    let (results, _) = tokio::join!(writes, pulls);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            (r.status, r.text.as_str()),
            (200, "Success"),
            "force write {i}"
        );
    }
    let p = s.pull_since(&hash, &ts).await;
    let e = entry_for(&p, &hash).unwrap();
    assert_eq!(all_notes(&e["deck"]).len(), WRITERS);
    for (i, guid) in guids.iter().enumerate().take(WRITERS) {
        assert_eq!(
            find_note(&e["deck"], guid).unwrap()["fields"][1],
            format!("forced {i}")
        );
    }
    assert!(s.pending(None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishes_by_different_users() {
    let s = TestServer::start().await;
    let names: Vec<String> = (0..WRITERS).map(|i| format!("publisher{i}")).collect();
    let tokens: Vec<String> = join_all(names.iter().map(|n| s.user(n))).await;
    let decks: Vec<GenDeck> = (0..WRITERS)
        .map(|i| gen_deck(&format!("Parallel {i}"), 30, 2))
        .collect();
    let hashes: Vec<String> =
        join_all((0..WRITERS).map(|i| s.publish(&tokens[i], &decks[i].deck))).await;
    for (d, h) in decks.iter().zip(&hashes) {
        assert_eq!(*h, d.hash());
    }
    let map: serde_json::Map<String, Value> = hashes
        .iter()
        .map(|h| (h.clone(), sub_value(FIRST_PULL_TS)))
        .collect();
    let map = Value::Object(map);
    let pulls = join_all((0..4).map(|_| s.pull(&map))).await;
    for p in pulls {
        assert_eq!(p.as_array().unwrap().len(), WRITERS);
        for d in &decks {
            let e = entry_for(&p, &d.hash()).unwrap();
            let mut want = d.guids();
            want.sort();
            assert_eq!(note_guids(&e["deck"]), want);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_and_token_checks() {
    let s = TestServer::start().await;
    s.create_user("alice", "correct horse battery").await;
    let tokens: Vec<String> =
        join_all((0..16).map(|_| s.login("alice", "correct horse battery"))).await;
    let distinct: BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 16);
    let checks = join_all(
        tokens
            .iter()
            .map(|t| s.post_empty("/CheckUserToken", Some(t))),
    )
    .await;
    for c in checks {
        assert_eq!((c.status, c.text.as_str()), (200, "true"));
    }
}

/// Slow pull clients hold read transactions for as long as they take to read. They may
/// take every read connection but one, so a token check (whose failure logs the add-on
/// out) always finds a connection.
#[tokio::test]
async fn streamed_reads_always_leave_a_connection_for_token_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = deckd::Config::for_data_dir(dir.path());
    config.read_connections = 3;
    let db = deckd::store::Db::open(&config).await.unwrap();
    let first = db.begin_stream().await.unwrap();
    let second = db.begin_stream().await.unwrap();
    let mut third = Box::pin(db.begin_stream());
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), &mut third)
            .await
            .is_err(),
        "a third stream must wait: it would take the last read connection"
    );
    let mut conn = db
        .reader()
        .acquire()
        .await
        .expect("the reserved connection is free for short reads");
    let one: i64 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    drop(conn);
    drop(first);
    third
        .await
        .expect("a slot freed by a finished stream is taken up");
    drop(second);
    db.close().await;
}
