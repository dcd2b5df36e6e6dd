//! §2.3 /pullChanges selection rules and the small read-only deck endpoints.
use deckd_testkit as common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::{json, Value};

/// path → sorted guids for every node of a server-form tree.
fn placement(deck: &Value) -> BTreeMap<String, Vec<String>> {
    fn rec(node: &Value, path: String, out: &mut BTreeMap<String, Vec<String>>) {
        let mut g: Vec<String> = node["notes"]
            .as_array()
            .map(|ns| {
                ns.iter()
                    .map(|n| n["guid"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        g.sort();
        out.insert(path.clone(), g);
        for c in node["children"].as_array().cloned().unwrap_or_default() {
            let name = c["name"].as_str().unwrap().to_string();
            rec(&c, format!("{path}::{name}"), out);
        }
    }
    let mut out = BTreeMap::new();
    rec(deck, deck["name"].as_str().unwrap().to_string(), &mut out);
    out
}

#[track_caller]
fn assert_note_models_everywhere(entry: &Value) {
    for node in all_nodes(&entry["deck"]) {
        let nm = node
            .get("note_models")
            .unwrap_or_else(|| panic!("node without note_models: {node}"));
        assert!(
            nm.is_array(),
            "note_models must be an array (never null): {node}"
        );
        assert!(node["notes"].is_array(), "notes must be an array: {node}");
        assert!(
            node["children"].is_array(),
            "children must be an array: {node}"
        );
        // Every note's notetype is listed on its node.
        for n in node["notes"].as_array().unwrap() {
            let uuid = &n["note_model_uuid"];
            assert!(
                nm.as_array()
                    .unwrap()
                    .iter()
                    .any(|m| &m["crowdanki_uuid"] == uuid),
                "node {} lacks notetype {uuid} of note {}",
                node["name"],
                n["guid"]
            );
        }
    }
}

/// Submits `notes` into the existing subdeck `path` of `g` with force_overwrite (owner).
async fn force_into_subdeck(
    s: &TestServer,
    token: &str,
    hash: &str,
    root: &str,
    path: &str,
    notes: Vec<Value>,
) -> Resp {
    let mut sub = child_deck(path, notes, vec![]);
    sub["note_models"] = json!([basic_model()]);
    s.submit(token, &submit_body(hash, path, root, &sub, 10, "", true))
        .await
}

#[tokio::test]
async fn subdeck_tree_is_returned_with_note_models_on_every_node() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Tree Deck", 31, 3);
    let hash = s.publish(&alice, &g.deck).await;
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(pull.as_array().unwrap().len(), 1);
    let e = &pull[0];
    assert_eq!(e["deck_hash"], hash.as_str());
    assert_note_models_everywhere(e);
    assert_eq!(e["deck"]["crowdanki_uuid"], g.uuid.as_str());
    let got = placement(&e["deck"]);
    let mut want: BTreeMap<String, Vec<String>> =
        g.paths.iter().map(|p| (p.clone(), vec![])).collect();
    for (guid, path) in &g.notes {
        want.get_mut(path).unwrap().push(guid.clone());
    }
    want.values_mut().for_each(|v| v.sort());
    assert_eq!(
        got, want,
        "every note sits in its subdeck; children carry only the last name segment"
    );
    // Field count equals the notetype field count.
    for n in all_notes(&e["deck"]) {
        assert_eq!(n["fields"].as_array().unwrap().len(), 2, "{n}");
    }
    for key in ["protected_fields", "optional_tags", "deleted_notes"] {
        assert!(e[key].is_array(), "{key} must be an array: {e}");
    }
    assert!(e["changelog"].is_string());
    assert!(e["stats_enabled"].is_boolean());
}

#[tokio::test]
async fn change_in_nested_subdeck_returns_connected_path_only() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Path Deck", 20, 3);
    let hash = s.publish(&alice, &g.deck).await;
    let (guid, path) = g
        .notes
        .iter()
        .find(|(_, p)| p.ends_with("::Nested"))
        .unwrap()
        .clone();
    let ts = sync_point().await;
    let r = force_into_subdeck(
        &s,
        &alice,
        &hash,
        "Path Deck",
        &path,
        vec![note(&guid, &["Changed front", "Changed back"], &["gen"])],
    )
    .await;
    r.expect(200, "owner force_overwrite into nested subdeck");
    let pull = s.pull_since(&hash, &ts).await;
    assert_eq!(pull.as_array().unwrap().len(), 1, "{pull}");
    let e = &pull[0];
    assert_eq!(e["deck_hash"], hash.as_str());
    assert_note_models_everywhere(e);
    let notes = all_notes(&e["deck"]);
    assert_eq!(notes.len(), 1, "only the changed note: {notes:?}");
    assert_eq!(notes[0]["fields"], json!(["Changed front", "Changed back"]));
    let got = placement(&e["deck"]);
    assert_eq!(
        got.get(&path),
        Some(&vec![guid.clone()]),
        "note under its path: {got:?}"
    );
    assert!(
        got.contains_key("Path Deck::Part 00"),
        "ancestors are returned: {got:?}"
    );
    assert!(
        !got.contains_key("Path Deck::Part 02"),
        "unchanged siblings are left out: {got:?}"
    );
}

#[tokio::test]
async fn new_subdeck_created_by_owner_submission() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Grow Deck", 4, 1);
    let hash = s.publish(&alice, &g.deck).await;
    let ts = sync_point().await;
    let r = force_into_subdeck(
        &s,
        &alice,
        &hash,
        "Grow Deck",
        "Grow Deck::Brand New",
        vec![note("BrandNew01", &["bn front", "bn back"], &[])],
    )
    .await;
    r.expect(200, "new subdeck whose parent exists");
    let pull = s.pull_since(&hash, &ts).await;
    let got = placement(&pull[0]["deck"]);
    assert_eq!(
        got.get("Grow Deck::Brand New"),
        Some(&vec!["BrandNew01".to_string()]),
        "{got:?}"
    );
}

#[tokio::test]
async fn deleted_notes_after_approved_removal() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let ts = sync_point().await;
    let r = s
        .post_json(
            "/requestRemoval",
            Some(&bob),
            &json!({"remote_deck": hash, "note_guids": ["XyZ9876543"], "commit_text": "dup", "force_overwrite": false}),
        )
        .await;
    r.expect(200, "/requestRemoval");
    assert_eq!(r.text, "Success");
    assert_eq!(
        s.pull_since(&hash, &ts).await,
        json!([]),
        "removal takes effect only when approved"
    );
    let id = commit_id(&s.only_pending(&hash).await);
    s.approve(id).await;

    let pull = s.pull_since(&hash, &ts).await;
    assert_eq!(pull.as_array().unwrap().len(), 1, "{pull}");
    assert_eq!(pull[0]["deleted_notes"], json!(["XyZ9876543"]));
    assert!(find_note(&pull[0]["deck"], "XyZ9876543").is_none());
    assert_note_models_everywhere(&pull[0]);

    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let e = entry_for(&full, &hash).unwrap();
    assert_eq!(
        note_guids(&e["deck"]),
        vec!["AbCdEf1234".to_string()],
        "deleted note is not returned"
    );
    assert_eq!(e["deleted_notes"], json!(["XyZ9876543"]));

    // Notes only the suggester has: 200 (the add-on then offers local deletion), nothing to review.
    let r = s
        .post_json("/requestRemoval", Some(&bob), &json!({"remote_deck": hash, "note_guids": ["OnlyLocal01"], "commit_text": "", "force_overwrite": false}))
        .await;
    r.expect(200, "removal of notes the server never had");
    assert_eq!(r.text, "Success");
    assert!(
        s.pending(Some(&hash)).await.is_empty(),
        "no empty removal suggestion is stored"
    );

    // Bad removal requests.
    s.post_json("/requestRemoval", Some(&bob), &json!({"remote_deck": hash, "note_guids": [], "commit_text": "", "force_overwrite": false}))
        .await
        .expect(400, "no notes provided");
    s.post_json("/requestRemoval", Some(&bob), &json!({"remote_deck": "bad hash 1", "note_guids": ["x"], "commit_text": "", "force_overwrite": false}))
        .await
        .expect(400, "bad hash");
}

fn parse_changelog(s: &str) -> Vec<(time::PrimitiveDateTime, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    let fmt = time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]");
    while !rest.is_empty() {
        let r = rest
            .strip_prefix("--- Changes from ")
            .unwrap_or_else(|| panic!("bad changelog entry start: {rest:?}"));
        let (stamp, r) = r.split_at(16);
        let dt = time::PrimitiveDateTime::parse(stamp, &fmt)
            .unwrap_or_else(|e| panic!("bad stamp {stamp:?}: {e}"));
        let r = r
            .strip_prefix(": ---\n")
            .unwrap_or_else(|| panic!("bad header end: {r:?}"));
        let end = r
            .find("\n\n")
            .unwrap_or_else(|| panic!("entry must end with a blank line: {r:?}"));
        out.push((dt, r[..end].to_string()));
        rest = &r[end + 2..];
    }
    out
}

#[tokio::test]
async fn changelog_format_and_an_entry_for_a_changelog_alone() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let r = s
        .post_json(
            "/submitChangelog",
            Some(&alice),
            &json!({"deck_hash": hash, "changelog": "Old entry"}),
        )
        .await;
    r.expect(200, "/submitChangelog");
    assert_eq!(r.text, "Changelog published successfully!");
    let ts = sync_point().await;
    let before = time::OffsetDateTime::now_utc();
    for msg in ["Fixed France.", "Second note."] {
        s.post_json(
            "/submitChangelog",
            Some(&alice),
            &json!({"deck_hash": hash, "changelog": msg}),
        )
        .await
        .expect(200, "/submitChangelog");
    }
    let alone = s.pull_since(&hash, &ts).await;
    let e = entry_for(&alone, &hash).expect("a changelog alone makes an entry");
    assert_eq!(e["deck"]["notes"], json!([]), "no card changed: {e}");
    assert_eq!(e["deck"]["children"], json!([]), "no subdeck changed: {e}");
    assert_eq!(e["deck"]["note_models"], json!([]), "{e}");
    assert_eq!(e["deleted_notes"], json!([]), "{e}");
    let msgs: Vec<String> = parse_changelog(e["changelog"].as_str().unwrap())
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(msgs, ["Second note.", "Fixed France."], "{e}");
    let later = sync_point().await;
    assert_eq!(
        s.pull_since(&hash, &later).await,
        json!([]),
        "once installed, the changelog is not delivered again"
    );

    // Non-owner → 403 (never 401).
    let r = s
        .post_json(
            "/submitChangelog",
            Some(&bob),
            &json!({"deck_hash": hash, "changelog": "hijack"}),
        )
        .await;
    r.expect(403, "changelog by non-owner");

    let r = s
        .suggest_forced(
            &alice,
            &hash,
            DEMO_NAME,
            DEMO_UUID,
            vec![note(
                "AbCdEf1234",
                &["What is the capital of France?", "Paris!"],
                &["geo"],
            )],
        )
        .await;
    r.expect(200, "force change");
    let after = time::OffsetDateTime::now_utc();
    let pull = s.pull_since(&hash, &ts).await;
    let e = entry_for(&pull, &hash).expect("entry");
    let cl = e["changelog"].as_str().expect("changelog string");
    let entries = parse_changelog(cl);
    let msgs: Vec<&str> = entries.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        msgs,
        vec!["Second note.", "Fixed France."],
        "newer than ts, newest first: {cl:?}"
    );
    for (dt, _) in &entries {
        let dt = dt.assume_utc();
        assert!(
            dt >= before
                .replace_second(0)
                .unwrap()
                .replace_nanosecond(0)
                .unwrap()
                - time::Duration::minutes(1)
                && dt <= after + time::Duration::minutes(1),
            "changelog time {dt} should be (UTC) now"
        );
    }
    assert!(cl.ends_with("\n\n"));
    // The whole history shows up from the beginning of time.
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let all = parse_changelog(full[0]["changelog"].as_str().unwrap());
    assert_eq!(
        all.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
        vec!["Second note.", "Fixed France.", "Old entry"]
    );
}

#[tokio::test]
async fn more_than_fifty_decks_in_one_pull() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let mut hashes = BTreeSet::new();
    for i in 0..55 {
        let g = gen_deck(&format!("Many {i:02}"), 2, 0);
        hashes.insert(s.publish(&alice, &g.deck).await);
    }
    assert_eq!(hashes.len(), 55);
    let map: serde_json::Map<String, Value> = hashes
        .iter()
        .map(|h| (h.clone(), sub_value(FIRST_PULL_TS)))
        .collect();
    let pull = s.pull(&Value::Object(map)).await;
    let got: BTreeSet<String> = pull
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["deck_hash"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, hashes, "every deck answered, deck_hash echoed");
    for e in pull.as_array().unwrap() {
        assert_eq!(all_notes(&e["deck"]).len(), 2);
        assert_note_models_everywhere(e);
    }
}

#[tokio::test]
async fn unknown_and_invalid_keys() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;

    // Unknown (well-formed) decks are left out.
    let pull = s
        .pull(&json!({hash.clone(): sub_value(FIRST_PULL_TS), "red-blue-green-alpha-bravo-zulu": sub_value(FIRST_PULL_TS), "alpha-bravo-charlie": sub_value(FIRST_PULL_TS)}))
        .await;
    assert_eq!(pull.as_array().unwrap().len(), 1, "{pull}");
    assert_eq!(pull[0]["deck_hash"], hash.as_str());
    assert_eq!(
        s.pull_since("red-blue-green-alpha-bravo-zulu", FIRST_PULL_TS)
            .await,
        json!([])
    );

    // An invalid key among several is skipped.
    let pull = s.pull(&json!({hash.clone(): sub_value(FIRST_PULL_TS), "not a hash 123": sub_value(FIRST_PULL_TS)})).await;
    assert_eq!(pull.as_array().unwrap().len(), 1, "{pull}");

    // Exactly one invalid key → 400.
    s.pull_raw(&json!({"not a hash 123": sub_value(FIRST_PULL_TS)}))
        .await
        .expect(400, "single invalid key");
    s.pull_raw(&json!({"two-words": sub_value(FIRST_PULL_TS)}))
        .await
        .expect(400, "two-word key");

    // A value without timestamp → 422 for the whole request.
    s.pull_raw(&json!({hash.clone(): {"deckId": 0}}))
        .await
        .expect(422, "missing timestamp");
    s.pull_raw(&json!({hash.clone(): sub_value(FIRST_PULL_TS), "red-blue-green-alpha-bravo-zulu": {"deckId": 1}}))
        .await
        .expect(422, "one value lacks timestamp");

    // Empty map → nothing to do.
    assert_eq!(s.pull(&json!({})).await, json!([]));
}

#[tokio::test]
async fn timestamp_rule_is_strict_and_incremental() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let ts1 = sync_point().await;
    // Tag and field change by the owner.
    let r = s
        .suggest_forced(
            &alice,
            &hash,
            DEMO_NAME,
            DEMO_UUID,
            vec![note(
                "XyZ9876543",
                &["Which colour is this?", "<img src=\"red1x1.png\"> red"],
                &["geo", "red"],
            )],
        )
        .await;
    r.expect(200, "force change");
    let ts2 = sync_point().await;
    let p1 = s.pull_since(&hash, &ts1).await;
    let n = find_note(&p1[0]["deck"], "XyZ9876543").expect("changed note");
    assert_eq!(
        n["fields"][1], "<img src=red1x1.png> red",
        "stored fields write attribute values unquoted (tests/suite/sanitize.rs)"
    );
    let mut tags: Vec<String> = n["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec!["geo", "red"],
        "tag `colours` removed, `red` added"
    );
    assert_eq!(all_notes(&p1[0]["deck"]).len(), 1);
    assert_eq!(s.pull_since(&hash, &ts2).await, json!([]));
    // Future timestamp → nothing.
    assert_eq!(s.pull_since(&hash, "2099-01-01 00:00:00").await, json!([]));
}

#[tokio::test]
async fn stored_field_rules() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let uuid = new_uuid();
    let deck = root_deck(
        "Field Rules",
        &uuid,
        "",
        vec![
            note("FrontOnly1", &["Front only", ""], &[]),
            note("TooMany001", &["one", "two", "three"], &[]),
            note("AllEmpty01", &["", ""], &[]),
        ],
        vec![],
    );
    let hash = s.publish(&alice, &deck).await;
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let d = &pull[0]["deck"];
    assert_eq!(
        find_note(d, "FrontOnly1").unwrap()["fields"],
        json!(["Front only", ""])
    );
    assert_eq!(
        find_note(d, "TooMany001").unwrap()["fields"],
        json!(["one", "two"]),
        "extra fields truncated"
    );
    assert!(
        find_note(d, "AllEmpty01").is_none(),
        "a note without any non-empty field is dropped"
    );
}

#[tokio::test]
async fn protected_fields_endpoint() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let r = s.get(&format!("/GetProtectedFields/{hash}"), None).await;
    r.expect(200, "/GetProtectedFields");
    assert_eq!(r.json(), json!([]));
    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(
        pull[0]["protected_fields"],
        r.json(),
        "pull carries the same list"
    );
    s.get("/GetProtectedFields/not-a-hash-123", None)
        .await
        .expect(400, "bad hash");

    // The owner protects "Back": subscribers keep their own text there.
    s.cli(&["deck", "protect", &hash, "Basic (demo)", "Back"])
        .await
        .assert_ok();
    let listed = s
        .get(&format!("/GetProtectedFields/{hash}"), None)
        .await
        .json();
    assert_eq!(listed[0]["name"], "Basic (demo)", "{listed}");
    assert_eq!(
        listed[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].clone(), f["protected"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!("Back"), json!(true))]
    );
    assert_eq!(
        s.pull_since(&hash, FIRST_PULL_TS).await[0]["protected_fields"],
        listed,
        "pull carries the same list"
    );
    // A new note's protected field is not stored, even when the owner applies it at once.
    s.suggest_forced(
        &alice,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note("NewProt001", &["Front text", "owner's back"], &[])],
    )
    .await
    .expect(200, "owner adds a note");
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(
        find_note(&full[0]["deck"], "NewProt001").unwrap()["fields"],
        json!(["Front text", ""]),
        "protected position left empty"
    );
}

#[tokio::test]
async fn deck_timestamp_endpoint() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let r = s.get(&format!("/GetDeckTimestamp/{hash}"), None).await;
    r.expect(200, "/GetDeckTimestamp");
    let t1: f64 = r
        .text
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("float text expected ({e}): {:?}", r.text));
    assert!(
        (t1 - now).abs() < 600.0,
        "root last_update ~ now: {t1} vs {now}"
    );
    let r = s.get("/GetDeckTimestamp/not-a-hash-123", None).await;
    r.expect(400, "bad hash");
    assert_eq!(r.text, "Invalid deck hash format");
    let r = s
        .get("/GetDeckTimestamp/red-blue-green-alpha-bravo-zulu", None)
        .await;
    r.expect(200, "unknown deck");
    assert_eq!(r.text.trim().parse::<f64>().unwrap(), 0.0);
    sync_point().await;
    s.suggest_forced(
        &alice,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note("AbCdEf1234", &["Q?", "A!"], &[])],
    )
    .await
    .expect(200, "force change");
    let t2: f64 = s
        .get(&format!("/GetDeckTimestamp/{hash}"), None)
        .await
        .text
        .trim()
        .parse()
        .unwrap();
    assert!(t2 > t1, "a write bumps the root's last_update: {t1} → {t2}");
}

async fn full_entry(s: &TestServer, hash: &str) -> Value {
    let p = s.pull_since(hash, FIRST_PULL_TS).await;
    entry_for(&p, hash).unwrap().clone()
}

/// Full pulls may be cached by the server; every kind of write must still be visible,
/// including approvals made by the CLI (a different process) and changelogs (which do
/// not bump last_update).
async fn assert_fresh_full_pulls(s: &TestServer) {
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let hash = s.publish_demo(&alice).await;
    let e0 = full_entry(s, &hash).await;
    let _ = full_entry(s, &hash).await; // warm any cache

    // Owner force overwrite.
    s.suggest_forced(
        &alice,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "AbCdEf1234",
            &["What is the capital of France?", "Paris v2"],
            &["geo"],
        )],
    )
    .await
    .expect(200, "force");
    let e1 = full_entry(s, &hash).await;
    assert_eq!(
        find_note(&e1["deck"], "AbCdEf1234").unwrap()["fields"][1],
        "Paris v2",
        "force overwrite visible in full pull"
    );
    assert_ne!(e0, e1);

    // Changelog (no last_update bump) shows in the next full pull.
    s.post_json(
        "/submitChangelog",
        Some(&alice),
        &json!({"deck_hash": hash, "changelog": "Cache test"}),
    )
    .await
    .expect(200, "changelog");
    let e2 = full_entry(s, &hash).await;
    assert!(
        e2["changelog"].as_str().unwrap().contains("Cache test"),
        "changelog visible: {}",
        e2["changelog"]
    );

    // Approval through the CLI process.
    s.suggest(
        &bob,
        &hash,
        DEMO_NAME,
        DEMO_UUID,
        vec![note(
            "XyZ9876543",
            &["Which colour is this?", "rot"],
            &["colours", "geo"],
        )],
        "de",
    )
    .await
    .expect(200, "suggest");
    let _ = full_entry(s, &hash).await;
    let id = commit_id(&s.only_pending(&hash).await);
    s.approve(id).await;
    let e3 = full_entry(s, &hash).await;
    assert_eq!(
        find_note(&e3["deck"], "XyZ9876543").unwrap()["fields"][1],
        "rot",
        "CLI approval visible in full pull"
    );

    // Removal approved through the CLI.
    s.post_json("/requestRemoval", Some(&bob), &json!({"remote_deck": hash, "note_guids": ["XyZ9876543"], "commit_text": "", "force_overwrite": false}))
        .await
        .expect(200, "removal");
    let _ = full_entry(s, &hash).await;
    let id = commit_id(&s.only_pending(&hash).await);
    s.approve(id).await;
    let e4 = full_entry(s, &hash).await;
    assert!(
        find_note(&e4["deck"], "XyZ9876543").is_none(),
        "CLI-approved removal visible in full pull"
    );
    assert_eq!(e4["deleted_notes"], json!(["XyZ9876543"]));
}

#[tokio::test]
async fn full_pulls_stay_fresh_with_cache() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 64 << 20).await;
    assert_fresh_full_pulls(&s).await;
}

#[tokio::test]
async fn full_pulls_stay_fresh_without_cache() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    assert_fresh_full_pulls(&s).await;
}

#[tokio::test]
async fn approved_suggestion_in_subdeck_and_tag_changes() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let g = gen_deck("Sub Suggest", 9, 2);
    let hash = s.publish(&alice, &g.deck).await;
    let (guid, path) = g
        .notes
        .iter()
        .find(|(_, p)| p == "Sub Suggest::Part 01")
        .unwrap()
        .clone();
    let ts = sync_point().await;
    let mut sub = child_deck(
        &path,
        vec![note(&guid, &["New Q", "New A"], &["gen", "added"])],
        vec![],
    );
    sub["note_models"] = json!([basic_model()]);
    // The note had tags ["gen", "part2"]: suggest removing part2 and adding `added`.
    let r = s
        .submit(
            &bob,
            &submit_body(&hash, &path, "Sub Suggest", &sub, 9, "subdeck edit", false),
        )
        .await;
    r.expect(200, "subdeck suggestion");
    assert_eq!(s.pull_since(&hash, &ts).await, json!([]));
    let id = commit_id(&s.only_pending(&hash).await);
    s.approve(id).await;
    let p = s.pull_since(&hash, &ts).await;
    let e = entry_for(&p, &hash).expect("entry");
    let got = placement(&e["deck"]);
    assert_eq!(got.get(&path), Some(&vec![guid.clone()]), "{got:?}");
    let n = find_note(&e["deck"], &guid).unwrap();
    assert_eq!(n["fields"], json!(["New Q", "New A"]));
    let mut tags: Vec<String> = n["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    assert_eq!(tags, vec!["added", "gen"]);
    assert_note_models_everywhere(e);
}

#[tokio::test]
async fn owner_moves_note_and_empties_field() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Move Deck", 8, 2);
    let hash = s.publish(&alice, &g.deck).await;
    let (guid, from) = g
        .notes
        .iter()
        .find(|(_, p)| p == "Move Deck::Part 00")
        .unwrap()
        .clone();
    let ts = sync_point().await;
    let r = force_into_subdeck(
        &s,
        &alice,
        &hash,
        "Move Deck",
        "Move Deck::Part 01",
        vec![note(&guid, &["Moved Q", ""], &["gen"])],
    )
    .await;
    r.expect(200, "owner moves a note");
    let p = s.pull_since(&hash, &ts).await;
    let got = placement(&p[0]["deck"]);
    assert_eq!(
        got.get("Move Deck::Part 01"),
        Some(&vec![guid.clone()]),
        "note now in Part 01: {got:?}"
    );
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    let got = placement(&full[0]["deck"]);
    assert!(
        !got.get(&from).unwrap().contains(&guid),
        "note left {from}: {got:?}"
    );
    let n = find_note(&full[0]["deck"], &guid).unwrap();
    assert_eq!(
        n["fields"],
        json!(["Moved Q", ""]),
        "an emptied field is pulled as \"\""
    );
}

/// There is no website to register optional tag groups on, so the owner's publish
/// registers the groups its notes use; a plain suggestion cannot add a new group.
#[tokio::test]
async fn optional_tag_groups_come_from_the_owner_only() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let uuid = new_uuid();
    let deck = root_deck(
        "Optional Tags",
        &uuid,
        "",
        vec![note(
            "OptTag0001",
            &["q", "a"],
            &["keep", "AnkiCollab_Optional::Extra::more"],
        )],
        vec![],
    );
    let hash = s.publish(&alice, &deck).await;
    let p = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(
        find_note(&p[0]["deck"], "OptTag0001").unwrap()["tags"],
        json!(["AnkiCollab_Optional::Extra::more", "keep"])
    );
    assert_eq!(p[0]["optional_tags"], json!(["Extra"]));

    let ts = sync_point().await;
    let tags = [
        "keep",
        "AnkiCollab_Optional::Extra::more",
        "AnkiCollab_Optional::Sneaky::x",
        "bobs",
    ];
    s.suggest(
        &bob,
        &hash,
        "Optional Tags",
        &uuid,
        vec![note("OptTag0001", &["q", "a"], &tags)],
        "tags",
    )
    .await
    .expect(200, "tag suggestion");
    s.approve(commit_id(&s.only_pending(&hash).await)).await;
    let p = s.pull_since(&hash, &ts).await;
    let got = find_note(&p[0]["deck"], "OptTag0001").unwrap()["tags"].clone();
    assert_eq!(
        got,
        json!(["AnkiCollab_Optional::Extra::more", "bobs", "keep"]),
        "the unregistered group is dropped"
    );
    assert_eq!(p[0]["optional_tags"], json!(["Extra"]));
}

/// A deck read in several SQL batches (the next batch is read while the previous one is
/// compressed): every note comes exactly once, in publish order, with the content it has
/// now, both for the full pull and for a pull of an edit that crosses batch boundaries.
#[tokio::test]
async fn notes_spanning_many_batches_are_pulled_once_each_in_order() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let g = gen_deck("Many Batches", 700, 0);
    let hash = s.publish(&alice, &g.deck).await;

    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(
        note_guids(&full[0]["deck"]),
        g.guids(),
        "every note once, in order"
    );

    let before_edit = sync_point().await;
    let mut edited = g.deck.clone();
    for n in edited["notes"].as_array_mut().unwrap()[100..400].iter_mut() {
        n["fields"][1] = json!(format!("Edited {}", n["guid"].as_str().unwrap()));
    }
    s.submit(
        &alice,
        &submit_body(&hash, &g.name, &g.name, &edited, 10, "bulk", true),
    )
    .await
    .expect(200, "owner's bulk edit");

    let changed = s.pull_since(&hash, &before_edit).await;
    let notes = all_notes(&changed[0]["deck"]);
    assert_eq!(
        note_guids(&changed[0]["deck"]),
        g.guids()[100..400].to_vec(),
        "exactly the edited notes, in order"
    );
    for n in &notes {
        assert_eq!(
            n["fields"][1],
            json!(format!("Edited {}", n["guid"].as_str().unwrap()))
        );
    }
    let again = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(note_guids(&again[0]["deck"]), g.guids());
    assert_eq!(
        all_notes(&again[0]["deck"])[250]["fields"][1],
        notes[150]["fields"][1]
    );
}

/// An owner's auto-approved submission that changes no note but adds an empty subdeck
/// still moves the tree's clock: subscribers pulling from before it get the new subdeck.
#[tokio::test]
async fn new_empty_subdeck_from_owner_reaches_subscribers() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let g = gen_deck("Quiet Deck", 6, 1);
    let hash = s.publish(&alice, &g.deck).await;
    s.pull_since(&hash, FIRST_PULL_TS).await;
    let ts = sync_point().await;
    force_into_subdeck(
        &s,
        &alice,
        &hash,
        "Quiet Deck",
        "Quiet Deck::Chapter 2",
        vec![],
    )
    .await
    .expect(200, "owner adds an empty subdeck");
    let pull = s.pull_since(&hash, &ts).await;
    assert_eq!(
        pull.as_array().map(Vec::len),
        Some(1),
        "the tree changed: {pull}"
    );
    assert!(
        placement(&pull[0]["deck"]).contains_key("Quiet Deck::Chapter 2"),
        "{:?}",
        placement(&pull[0]["deck"])
    );
    let full = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert!(
        placement(&full[0]["deck"]).contains_key("Quiet Deck::Chapter 2"),
        "a new subscriber's full pull is not a stale cached answer"
    );
}
