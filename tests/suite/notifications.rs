//! §1.3 notifications: grouping, unread count, history paging, mark-read, snapshots.
use deckd_testkit as common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

struct World {
    s: TestServer,
    alice: String,
    bob: String,
    hash_a: String,
    hash_b: String,
    /// (commit id, deck hash, status) in decision order.
    decisions: Vec<(deckd::store::CommitId, String, &'static str)>,
}

#[track_caller]
fn assert_item_shape(item: &Value) {
    for k in ["id", "commit_id", "deck_id"] {
        assert!(item[k].is_i64(), "item.{k} must be an integer: {item}");
    }
    assert!(item["deck_name"].is_string(), "{item}");
    assert!(
        item["status"] == "approved" || item["status"] == "denied",
        "{item}"
    );
    assert!(
        item["reason"].is_null() || item["reason"].is_string(),
        "{item}"
    );
    assert!(item["is_read"].is_boolean(), "{item}");
    let ca = item["created_at"]
        .as_str()
        .unwrap_or_else(|| panic!("created_at string: {item}"));
    assert!(
        is_rfc3339_with_offset(ca),
        "created_at must look like YYYY-MM-DDTHH:MM:SS+HH:MM: {ca:?}"
    );
}

fn is_rfc3339_with_offset(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 25 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(|c| c.is_ascii_digit());
    let head_ok = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let tail = &s[s.len() - 6..];
    let tb = tail.as_bytes();
    let tail_ok = (tb[0] == b'+' || tb[0] == b'-')
        && tb[1..3].iter().all(|c| c.is_ascii_digit())
        && tb[3] == b':'
        && tb[4..6].iter().all(|c| c.is_ascii_digit());
    let mid = &s[19..s.len() - 6];
    let mid_ok = mid.is_empty()
        || (mid.starts_with('.') && mid[1..].chars().all(|c| c.is_ascii_digit()) && mid.len() > 1);
    head_ok && tail_ok && mid_ok
}

async fn world() -> World {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash_a = s.publish_demo(&alice).await;
    let g = gen_deck("Notify B", 4, 0);
    let hash_b = s.publish(&alice, &g.deck).await;
    let guid_b = g.notes[0].0.clone();

    // Three suggestions by bob: two on deck A, one on deck B.
    s.suggest(
        &bob,
        &hash_a,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", "Paris (since 987)"],
            &["geo"],
        )],
        "A1",
    )
    .await
    .expect(200, "A1");
    let a1 = commit_id(&s.only_pending(&hash_a).await);
    s.suggest(
        &bob,
        &hash_a,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "XyZ9876543",
            &["Which colour is this?", "red"],
            &["colours"],
        )],
        "A2",
    )
    .await
    .expect(200, "A2");
    let a2 = s
        .pending(Some(&hash_a))
        .await
        .iter()
        .map(commit_id)
        .find(|id| *id != a1)
        .expect("A2 pending");
    s.suggest(
        &bob,
        &hash_b,
        "Notify B",
        &g.uuid,
        vec![note(&guid_b, &["B front", "B back"], &["gen"])],
        "B1",
    )
    .await
    .expect(200, "B1");
    let b1 = commit_id(&s.only_pending(&hash_b).await);

    // Notifications are listed newest first by the order they were written in.
    s.approve(a1).await;
    s.deny(a2, Some("Colour is wrong")).await;
    s.approve(b1).await;
    let decisions = vec![
        (a1, hash_a.clone(), "approved"),
        (a2, hash_a.clone(), "denied"),
        (b1, hash_b.clone(), "approved"),
    ];
    World {
        s,
        alice,
        bob,
        hash_a,
        hash_b,
        decisions,
    }
}

#[tokio::test]
async fn grouping_and_unread_count() {
    let w = world().await;
    let s = &w.s;
    let r = s.get("/GetNotifications", Some(&w.bob)).await;
    r.expect(200, "GetNotifications");
    let v = r.json();
    assert_eq!(v["unread_count"], 3, "{v}");
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "grouped by deck: {v}");
    let ga = groups
        .iter()
        .find(|g| g["deck_name"] == DEMO_NAME)
        .expect("group for deck A");
    let gb = groups
        .iter()
        .find(|g| g["deck_name"] == "Notify B")
        .expect("group for deck B");
    assert_eq!(
        (ga["approved_count"].as_i64(), ga["denied_count"].as_i64()),
        (Some(1), Some(1)),
        "{ga}"
    );
    assert_eq!(
        (gb["approved_count"].as_i64(), gb["denied_count"].as_i64()),
        (Some(1), Some(0)),
        "{gb}"
    );
    assert!(ga["deck_id"].is_i64() && gb["deck_id"].is_i64());
    assert_ne!(ga["deck_id"], gb["deck_id"]);
    let items_a = ga["notifications"].as_array().unwrap();
    assert_eq!(items_a.len(), 2);
    for it in items_a
        .iter()
        .chain(gb["notifications"].as_array().unwrap())
    {
        assert_item_shape(it);
        assert_eq!(it["is_read"], false);
    }
    // Newest first: the denial of A2 came after the approval of A1.
    let (a1, a2) = (w.decisions[0].0, w.decisions[1].0);
    assert_eq!(
        items_a[0]["commit_id"].as_i64(),
        Some(a2.0),
        "newest first: {items_a:?}"
    );
    assert_eq!(items_a[0]["status"], "denied");
    assert_eq!(items_a[0]["reason"], "Colour is wrong");
    assert_eq!(items_a[1]["commit_id"].as_i64(), Some(a1.0));
    assert_eq!(items_a[1]["status"], "approved");
    assert!(items_a[1]["reason"].is_null());
    for it in items_a {
        assert_eq!(it["deck_id"], ga["deck_id"]);
        assert_eq!(it["deck_name"], DEMO_NAME);
    }
    // Nobody else gets them.
    let v = s.get("/GetNotifications", Some(&w.alice)).await.json();
    assert_eq!(v, json!({"unread_count": 0, "groups": []}));
    let _ = (&w.hash_a, &w.hash_b);
}

#[tokio::test]
async fn history_paging() {
    let w = world().await;
    let s = &w.s;
    let v = s
        .get("/GetNotificationsHistory?offset=0&limit=200", Some(&w.bob))
        .await
        .json();
    assert_eq!(v["total"], 3, "{v}");
    assert_eq!(v["offset"], 0);
    assert_eq!(v["limit"], 200);
    let all: Vec<Value> = v["items"].as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    all.iter().for_each(assert_item_shape);
    let ids_all: BTreeSet<i64> = all.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let commits: BTreeSet<i64> = all
        .iter()
        .map(|i| i["commit_id"].as_i64().unwrap())
        .collect();
    assert_eq!(commits, w.decisions.iter().map(|d| d.0 .0).collect());

    let p1 = s
        .get("/GetNotificationsHistory?offset=0&limit=2", Some(&w.bob))
        .await
        .json();
    assert_eq!(
        (
            p1["total"].as_i64(),
            p1["offset"].as_i64(),
            p1["limit"].as_i64()
        ),
        (Some(3), Some(0), Some(2)),
        "{p1}"
    );
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let p2 = s
        .get("/GetNotificationsHistory?offset=2&limit=2", Some(&w.bob))
        .await
        .json();
    assert_eq!(
        (p2["total"].as_i64(), p2["offset"].as_i64()),
        (Some(3), Some(2)),
        "{p2}"
    );
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    let paged: Vec<i64> = p1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["items"].as_array().unwrap())
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        paged.iter().copied().collect::<BTreeSet<_>>(),
        ids_all,
        "pages cover everything once"
    );
    assert_eq!(paged.len(), 3);
    let p3 = s
        .get("/GetNotificationsHistory?offset=10&limit=2", Some(&w.bob))
        .await
        .json();
    assert_eq!(p3["items"], json!([]));
    assert_eq!(p3["total"], 3);

    // Default limit is 50.
    let d = s.get("/GetNotificationsHistory", Some(&w.bob)).await;
    d.expect(200, "history without parameters");
    let d = d.json();
    assert_eq!(d["limit"], 50, "{d}");
    assert_eq!(d["offset"], 0);
    assert_eq!(d["items"].as_array().unwrap().len(), 3);
    // A stranger has an empty history.
    let carol = s.user("carol").await;
    let c = s
        .get("/GetNotificationsHistory?offset=0&limit=200", Some(&carol))
        .await
        .json();
    assert_eq!(c["total"], 0);
    assert_eq!(c["items"], json!([]));
}

#[tokio::test]
async fn mark_read() {
    let w = world().await;
    let s = &w.s;
    let v = s.get("/GetNotifications", Some(&w.bob)).await.json();
    let ids: Vec<i64> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(ids.len(), 3);

    // Another user cannot mark bob's notifications.
    let r = s
        .post_json(
            "/MarkNotificationsRead",
            Some(&w.alice),
            &json!({"ids": ids}),
        )
        .await;
    r.expect(200, "mark by another user");
    assert_eq!(r.json(), json!({"updated": 0}));
    assert_eq!(
        s.get("/GetNotifications", Some(&w.bob)).await.json()["unread_count"],
        3
    );

    let r = s
        .post_json(
            "/MarkNotificationsRead",
            Some(&w.bob),
            &json!({"ids": [ids[0]]}),
        )
        .await;
    r.expect(200, "mark one");
    assert_eq!(r.json(), json!({"updated": 1}));
    let v = s.get("/GetNotifications", Some(&w.bob)).await.json();
    assert_eq!(v["unread_count"], 2, "{v}");
    let h = s
        .get("/GetNotificationsHistory?offset=0&limit=200", Some(&w.bob))
        .await
        .json();
    for it in h["items"].as_array().unwrap() {
        assert_eq!(it["is_read"], it["id"].as_i64() == Some(ids[0]), "{it}");
    }

    let r = s
        .post_json("/MarkNotificationsRead", Some(&w.bob), &json!({"ids": []}))
        .await;
    r.expect(200, "mark none");
    assert_eq!(r.json(), json!({"updated": 0}));

    let r = s
        .post_json(
            "/MarkNotificationsRead",
            Some(&w.bob),
            &json!({"ids": ids[1..]}),
        )
        .await;
    r.expect(200, "mark rest");
    assert_eq!(r.json(), json!({"updated": 2}));
    assert_eq!(
        s.get("/GetNotifications", Some(&w.bob)).await.json()["unread_count"],
        0
    );

    // Exactly 1000 ids is allowed; more than 1000 → 400 {"error": …}.
    let thousand: Vec<i64> = (1..=1000).collect();
    s.post_json(
        "/MarkNotificationsRead",
        Some(&w.bob),
        &json!({"ids": thousand}),
    )
    .await
    .expect(200, "1000 ids");
    let too_many: Vec<i64> = (1..=1001).collect();
    let r = s
        .post_json(
            "/MarkNotificationsRead",
            Some(&w.bob),
            &json!({"ids": too_many}),
        )
        .await;
    r.expect(400, "1001 ids");
    let e = r.json();
    assert_eq!(e, json!({"error": "at most 1000 ids at once"}));
}

#[tokio::test]
async fn commit_snapshot_visibility_and_shape() {
    let w = world().await;
    let s = &w.s;
    let (a1, a2) = (w.decisions[0].0, w.decisions[1].0);
    let r = s
        .get(&format!("/GetCommitSnapshot/{a1}"), Some(&w.bob))
        .await;
    r.expect(200, "author's snapshot");
    let snap = r.json();
    assert_eq!(snap["commit_id"].as_i64(), Some(a1.0));
    assert!(snap["rationale"].is_i64());
    assert_eq!(snap["info"], "A1");
    assert!(snap["timestamp"].is_string());
    assert_eq!(snap["deck_name"], DEMO_NAME);
    assert!(
        snap["author"].as_str().unwrap_or("").contains("bob"),
        "{snap}"
    );
    for k in [
        "field_changes",
        "tag_changes",
        "deleted_note_ids",
        "move_changes",
        "events",
    ] {
        assert!(snap[k].is_array(), "snapshot.{k} must be an array: {snap}");
    }
    assert_eq!(snap["decision_status"], "approved");
    assert!(snap["decision_reason"].is_null());
    // The web view renders `events`; the change to Back must be there.
    let events = snap["events"].as_array().unwrap();
    for e in events {
        assert!(
            e["event_type"].is_string() && e["version"].is_i64() && e["created_at"].is_string(),
            "{e}"
        );
    }
    assert!(
        events.iter().any(|e| e["event_type"] == "field_updated"
            && e["field_name"] == "Back"
            && e["old_text"] == "Paris"
            && e["new_text"] == "Paris (since 987)"
            && e["note_guid"] == "AbCdEf1234"),
        "field_updated event for Back: {events:?}"
    );
    for c in snap["field_changes"].as_array().unwrap() {
        assert!(
            c["position"].is_i64()
                && c["suggested_content"].is_string()
                && c["reviewed"].is_boolean(),
            "{c}"
        );
    }

    let denied = s
        .get(&format!("/GetCommitSnapshot/{a2}"), Some(&w.bob))
        .await
        .json();
    assert_eq!(denied["decision_status"], "denied");
    assert_eq!(denied["decision_reason"], "Colour is wrong");

    // Strangers (and anyone without a notification for the commit) get 404.
    let carol = s.user("carol").await;
    for (who, tok) in [("carol", &carol), ("alice", &w.alice)] {
        let r = s.get(&format!("/GetCommitSnapshot/{a1}"), Some(tok)).await;
        r.expect(404, &format!("snapshot for {who}"));
        assert_eq!(r.json(), json!({"error": "Commit not found"}));
    }
    let r = s.get("/GetCommitSnapshot/987654321", Some(&w.bob)).await;
    r.expect(404, "unknown commit");
}

#[tokio::test]
async fn no_notifications_for_fresh_user() {
    let s = TestServer::start().await;
    let t = s.user("dora").await;
    let r = s.get("/GetNotifications", Some(&t)).await;
    r.expect(200, "GetNotifications");
    assert_eq!(r.json(), json!({"unread_count": 0, "groups": []}));
    let h = s
        .get("/GetNotificationsHistory?offset=0&limit=200", Some(&t))
        .await;
    h.expect(200, "history");
    assert_eq!(
        h.json(),
        json!({"total": 0, "offset": 0, "limit": 200, "items": []})
    );
}
