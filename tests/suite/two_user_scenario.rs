//! The §9 scenario: alice publishes, bob subscribes, pulls, suggests; approval and
//! denial through the CLI; alice's auto-approve variant.
use deckd_testkit as common;

use common::*;
use serde_json::{json, Value};

/// §9.5 expected pull entry.
const EXPECTED_9_5: &str = r#"[{"protected_fields": [],
  "deck": {"crowdanki_uuid": "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002", "children": [], "desc": "Tiny demo deck", "name": "Demo Deck",
    "note_models": [{"crowdanki_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002", "css": ".card { font-family: arial; font-size: 20px; text-align: center; }",
      "flds": [{"description": "", "font": "Arial", "id": -5032847290344123456, "name": "Front", "ord": 0, "rtl": false, "size": 20, "sticky": false, "tag": 0},
               {"description": "", "font": "Arial", "id": 4470161023957123456, "name": "Back", "ord": 1, "rtl": false, "size": 20, "sticky": false, "tag": 0}],
      "latexPost": "\\end{document}", "latexPre": "\\documentclass[12pt]{article}\n\\begin{document}\n", "latexsvg": false, "name": "Basic (demo)",
      "originalStockKind": 1, "req": [{"card_ord": 0, "kind": "any", "field_ords": [0]}], "sortf": 0,
      "tmpls": [{"afmt": "{{FrontSide}}<hr id=answer>{{Back}}", "bafmt": "", "bfont": "", "bqfmt": "", "bsize": 0, "id": -2961478839101123456, "name": "Card 1", "ord": 0, "qfmt": "{{Front}}"}],
      "type": 0}],
    "notes": [{"id": 1718900000001, "fields": ["What is the capital of France?", "Paris"], "guid": "AbCdEf1234", "note_model_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002", "tags": ["geo"]},
              {"id": 1718900000002, "fields": ["Which colour is this?", "<img src=\"red1x1.png\">"], "guid": "XyZ9876543", "note_model_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002", "tags": ["colours", "geo"]}]},
  "changelog": "", "deck_hash": "hot-zulu-indigo-eighteen-sad-alanine", "optional_tags": [], "deleted_notes": [], "stats_enabled": false}]"#;

const NEW_BACK: &str = "Paris (capital since 987)";

/// §9.6: bob's edit of AbCdEf1234.
fn change_9_6(force: bool) -> Value {
    let n = json!({"__type__": "Note", "fields": ["What is the capital of France?", NEW_BACK],
        "guid": "AbCdEf1234", "id": 1718900000001i64, "note_model_uuid": BASIC_MODEL_UUID, "tags": ["geo"]});
    let deck = root_deck(DEMO_NAME, DEMO_UUID, "Tiny demo deck", vec![n], vec![]);
    if force {
        submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &deck, 10, "", true)
    } else {
        submit_body(
            DEMO_HASH,
            DEMO_NAME,
            DEMO_NAME,
            &deck,
            2,
            "More precise answer",
            false,
        )
    }
}

struct Setup {
    s: TestServer,
    alice: String,
    bob: String,
}

async fn setup() -> Setup {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    assert_eq!(s.publish_demo(&alice).await, DEMO_HASH);
    Setup { s, alice, bob }
}

/// Checks the "only the changed note" pull of §9.6.
#[track_caller]
fn assert_only_changed_note(pull: &Value) {
    let arr = pull.as_array().unwrap();
    assert_eq!(arr.len(), 1, "one entry expected: {pull}");
    let e = &arr[0];
    assert_eq!(e["deck_hash"], DEMO_HASH);
    let notes = all_notes(&e["deck"]);
    assert_eq!(notes.len(), 1, "only the changed note: {notes:?}");
    assert_eq!(notes[0]["guid"], "AbCdEf1234");
    assert_eq!(
        notes[0]["fields"],
        json!(["What is the capital of France?", NEW_BACK])
    );
    assert_eq!(notes[0]["tags"], json!(["geo"]));
    let models = e["deck"]["note_models"]
        .as_array()
        .expect("note_models array");
    assert!(
        models.iter().any(|m| m["name"] == "Basic (demo)"),
        "note_models lists Basic (demo): {models:?}"
    );
    assert_eq!(e["deleted_notes"], json!([]));
    assert_eq!(e["changelog"], "");
}

#[tokio::test]
async fn check_deck_alive_and_subscription() {
    let Setup { s, bob, .. } = setup().await;
    let r = s
        .post_json(
            "/CheckDeckAlive",
            None,
            &json!({"deck_hashes": [DEMO_HASH, "gone-deck-hash"]}),
        )
        .await;
    r.expect(200, "/CheckDeckAlive");
    assert_eq!(r.json(), json!(["gone-deck-hash"]));
    let r = s
        .post_json(
            "/CheckDeckAlive",
            None,
            &json!({"deck_hashes": [DEMO_HASH]}),
        )
        .await;
    r.expect(200, "/CheckDeckAlive known only");
    assert_eq!(r.json(), json!([]));
    let r = s
        .post_json(
            "/AddSubscription",
            Some(&bob),
            &json!({"deck_hash": DEMO_HASH}),
        )
        .await;
    r.expect(200, "/AddSubscription");
    // Duplicates are a no-op.
    s.post_json(
        "/AddSubscription",
        Some(&bob),
        &json!({"deck_hash": DEMO_HASH}),
    )
    .await
    .expect(200, "/AddSubscription twice");
    s.post_json(
        "/RemoveSubscription",
        Some(&bob),
        &json!({"deck_hash": DEMO_HASH}),
    )
    .await
    .expect(200, "/RemoveSubscription");
}

#[tokio::test]
async fn first_pull_matches_9_5() {
    let Setup { s, bob, .. } = setup().await;
    s.post_json(
        "/AddSubscription",
        Some(&bob),
        &json!({"deck_hash": DEMO_HASH}),
    )
    .await
    .expect(200, "/AddSubscription");
    let pull = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    // deckd writes attribute values in pulled fields unquoted (a field must never carry a
    // quote that could close an attribute its template puts it in); Anki renders both alike.
    let vector = EXPECTED_9_5.replace(r#"<img src=\"red1x1.png\">"#, "<img src=red1x1.png>");
    let mut expected: Value = serde_json::from_str(&vector).unwrap();
    let mut actual = pull.clone();
    for e in actual.as_array_mut().unwrap() {
        sort_notes(&mut e["deck"]);
    }
    for e in expected.as_array_mut().unwrap() {
        sort_notes(&mut e["deck"]);
    }
    // Structural comparison with ids removed (server-side ids may differ) …
    let (mut a_noid, mut e_noid) = (actual.clone(), expected.clone());
    strip_keys(&mut a_noid, &["id"]);
    strip_keys(&mut e_noid, &["id"]);
    assert_json_includes(&a_noid, &e_noid);
    // … and the anki ids of notes, fields and templates echo what was uploaded (§2.1).
    assert_json_includes(&actual, &expected);
    // note_models is an array on every node and deck_hash echoes the key.
    for e in pull.as_array().unwrap() {
        for node in all_nodes(&e["deck"]) {
            assert!(
                node["note_models"].is_array(),
                "note_models must be an array: {node}"
            );
        }
    }
    // A second pull from the same timestamp answers the same content.
    let again = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    let (mut x, mut y) = (pull, again);
    for e in x
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .chain(y.as_array_mut().unwrap())
    {
        sort_notes(&mut e["deck"]);
    }
    assert_eq!(x, y);
}

#[tokio::test]
async fn suggestion_approved_via_cli_reaches_subscriber() {
    let Setup { s, bob, alice } = setup().await;
    let after_publish = sync_point().await;
    assert_eq!(
        s.pull_since(DEMO_HASH, &after_publish).await,
        json!([]),
        "no change since publish"
    );
    assert!(
        s.pending(None).await.is_empty(),
        "publishing leaves nothing to review"
    );

    let r = s.submit(&bob, &change_9_6(false)).await;
    r.expect(200, "bob /submitCard");
    assert_eq!(r.text, "Success");

    // Unreviewed: bob's next pull is still empty, and the full pull shows the old text.
    assert_eq!(
        s.pull_since(DEMO_HASH, &after_publish).await,
        json!([]),
        "suggestion is not pulled"
    );
    let full = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    let n = find_note(&entry_for(&full, DEMO_HASH).unwrap()["deck"], "AbCdEf1234").unwrap();
    assert_eq!(n["fields"][1], "Paris");

    let pending = s.pending(Some(DEMO_HASH)).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let c = &pending[0];
    for k in ["id", "deck", "author", "rationale", "created_at"] {
        assert!(c.get(k).is_some(), "review entry lacks `{k}`: {c}");
    }
    assert!(commit_author(c).contains("bob"), "author is bob: {c}");
    let id = commit_id(c);
    // `review show` works for it.
    let show = s.cli(&["review", "show", &id.to_string()]).await;
    show.assert_ok();
    assert!(
        show.stdout.contains(NEW_BACK),
        "review show prints the suggested content: {}",
        show.stdout
    );

    s.approve(id).await;
    assert!(
        s.pending(Some(DEMO_HASH)).await.is_empty(),
        "approved commit leaves the queue"
    );

    let pull = s.pull_since(DEMO_HASH, &after_publish).await;
    assert_only_changed_note(&pull);

    // Up to date afterwards.
    let later = sync_point().await;
    assert_eq!(s.pull_since(DEMO_HASH, &later).await, json!([]));

    // bob is notified; alice (not the author) is not.
    let r = s.get("/GetNotifications", Some(&bob)).await;
    r.expect(200, "GetNotifications bob");
    let v = r.json();
    assert_eq!(v["unread_count"], 1, "{v}");
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!(groups[0]["deck_name"], DEMO_NAME);
    assert_eq!(groups[0]["approved_count"], 1);
    assert_eq!(groups[0]["denied_count"], 0);
    let item = &groups[0]["notifications"][0];
    assert_eq!(item["status"], "approved");
    assert_eq!(item["commit_id"].as_i64(), Some(id.0));
    assert_eq!(item["deck_name"], DEMO_NAME);
    assert_eq!(item["is_read"], false);
    assert!(item["reason"].is_null(), "{item}");
    let r = s.get("/GetNotifications", Some(&alice)).await;
    r.expect(200, "GetNotifications alice");
    assert_eq!(r.json()["unread_count"], 0);

    // The author can open the commit snapshot.
    let r = s.get(&format!("/GetCommitSnapshot/{id}"), Some(&bob)).await;
    r.expect(200, "GetCommitSnapshot for the author");
    let snap = r.json();
    assert_eq!(snap["commit_id"].as_i64(), Some(id.0), "{snap}");
    assert_eq!(snap["decision_status"], "approved");
    assert_eq!(snap["deck_name"], DEMO_NAME);
    assert_eq!(snap["info"], "More precise answer");
    assert_eq!(snap["rationale"], 2);
    assert!(
        snap["author"].as_str().unwrap_or("").contains("bob"),
        "{snap}"
    );
    assert!(
        snap.to_string().contains(NEW_BACK),
        "the snapshot mentions the suggested content: {snap}"
    );
}

#[tokio::test]
async fn owner_force_overwrite_applies_at_once() {
    let Setup { s, alice, .. } = setup().await;
    let after_publish = sync_point().await;
    let r = s.submit(&alice, &change_9_6(true)).await;
    r.expect(200, "alice auto-approve /submitCard");
    assert_eq!(r.text, "Success");
    assert!(
        s.pending(None).await.is_empty(),
        "auto-approved change is not queued"
    );
    let pull = s.pull_since(DEMO_HASH, &after_publish).await;
    assert_only_changed_note(&pull);
    // The full pull shows the new content too, and the untouched note is intact.
    let full = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    let d = &entry_for(&full, DEMO_HASH).unwrap()["deck"];
    assert_eq!(find_note(d, "AbCdEf1234").unwrap()["fields"][1], NEW_BACK);
    assert_eq!(
        find_note(d, "XyZ9876543").unwrap()["fields"],
        json!(["Which colour is this?", "<img src=red1x1.png>"])
    );
}

#[tokio::test]
async fn non_maintainer_force_overwrite_is_only_a_suggestion() {
    let Setup { s, bob, .. } = setup().await;
    let after_publish = sync_point().await;
    let r = s.submit(&bob, &change_9_6(true)).await;
    r.expect(200, "bob /submitCard with force_overwrite");
    assert_eq!(
        s.pull_since(DEMO_HASH, &after_publish).await,
        json!([]),
        "force_overwrite by a stranger is not applied"
    );
    let p = s.pending(Some(DEMO_HASH)).await;
    assert_eq!(p.len(), 1, "stored as a suggestion: {p:?}");
}

#[tokio::test]
async fn denial_with_reason_notifies_author() {
    let Setup { s, bob, .. } = setup().await;
    let after_publish = sync_point().await;
    s.submit(&bob, &change_9_6(false))
        .await
        .expect(200, "bob /submitCard");
    let id = commit_id(&s.only_pending(DEMO_HASH).await);
    s.deny(id, Some("Not a real improvement")).await;
    assert!(s.pending(Some(DEMO_HASH)).await.is_empty());
    assert_eq!(
        s.pull_since(DEMO_HASH, &after_publish).await,
        json!([]),
        "denied change is never pulled"
    );
    let full = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    assert_eq!(
        find_note(&full[0]["deck"], "AbCdEf1234").unwrap()["fields"][1],
        "Paris"
    );

    let v = s.get("/GetNotifications", Some(&bob)).await.json();
    assert_eq!(v["unread_count"], 1, "{v}");
    let g = &v["groups"][0];
    assert_eq!(g["denied_count"], 1, "{v}");
    assert_eq!(g["approved_count"], 0, "{v}");
    let item = &g["notifications"][0];
    assert_eq!(item["status"], "denied");
    assert_eq!(item["reason"], "Not a real improvement");
    assert_eq!(item["commit_id"].as_i64(), Some(id.0));

    let snap = s.get(&format!("/GetCommitSnapshot/{id}"), Some(&bob)).await;
    snap.expect(200, "snapshot of denied commit");
    let snap = snap.json();
    assert_eq!(snap["decision_status"], "denied");
    assert_eq!(snap["decision_reason"], "Not a real improvement");
}

#[tokio::test]
async fn new_note_suggestion_appears_after_approval() {
    let Setup { s, bob, .. } = setup().await;
    let after_publish = sync_point().await;
    let r = s
        .suggest(
            &bob,
            DEMO_HASH,
            DEMO_NAME,
            DEMO_UUID,
            vec![note("NewNote0001", &["What is 2+2?", "4"], &["math"])],
            "new card",
        )
        .await;
    r.expect(200, "new note suggestion");
    assert_eq!(s.pull_since(DEMO_HASH, &after_publish).await, json!([]));
    let id = commit_id(&s.only_pending(DEMO_HASH).await);
    s.approve(id).await;
    let pull = s.pull_since(DEMO_HASH, &after_publish).await;
    assert_eq!(pull.as_array().unwrap().len(), 1, "{pull}");
    let notes = all_notes(&pull[0]["deck"]);
    assert_eq!(notes.len(), 1, "only the new note: {notes:?}");
    assert_eq!(notes[0]["guid"], "NewNote0001");
    assert_eq!(notes[0]["fields"], json!(["What is 2+2?", "4"]));
    assert_eq!(notes[0]["tags"], json!(["math"]));
    assert_eq!(notes[0]["note_model_uuid"], BASIC_MODEL_UUID);
}

#[tokio::test]
async fn ankicollab_suffix_of_local_name_is_stripped() {
    let Setup { s, alice, .. } = setup().await;
    let after_publish = sync_point().await;
    let local = "Demo Deck (AnkiCollab)";
    let n = note(
        "AbCdEf1234",
        &["What is the capital of France?", NEW_BACK],
        &["geo"],
    );
    let deck = root_deck(local, DEMO_UUID, "Tiny demo deck", vec![n], vec![]);
    let r = s
        .submit(
            &alice,
            &submit_body(DEMO_HASH, local, local, &deck, 10, "", true),
        )
        .await;
    r.expect(200, "submit with ' (AnkiCollab)' suffix");
    assert_only_changed_note(&s.pull_since(DEMO_HASH, &after_publish).await);
}

#[tokio::test]
async fn unknown_notetype_from_stranger_is_rejected() {
    let Setup { s, bob, .. } = setup().await;
    let after_publish = sync_point().await;
    let odd_uuid = "11111111-2222-11ee-8888-0242ac120002";
    let mut model = basic_model();
    model["crowdanki_uuid"] = json!(odd_uuid);
    model["name"] = json!("Three Fields");
    model["flds"] = json!([
        {"description": "", "font": "Arial", "id": 11, "name": "Alpha", "ord": 0, "rtl": false, "size": 20, "sticky": false, "tag": null},
        {"description": "", "font": "Arial", "id": 12, "name": "Beta", "ord": 1, "rtl": false, "size": 20, "sticky": false, "tag": null},
        {"description": "", "font": "Arial", "id": 13, "name": "Gamma", "ord": 2, "rtl": false, "size": 20, "sticky": false, "tag": null}
    ]);
    model["tmpls"][0]["qfmt"] = json!("{{Alpha}} / {{Gamma}}");
    model["tmpls"][0]["afmt"] = json!("{{FrontSide}}<hr id=answer>{{Beta}}");
    model["req"] = json!([[0, "all", [0, 2]]]);
    let mut deck = root_deck(
        DEMO_NAME,
        DEMO_UUID,
        "",
        vec![note_with_model(
            "OddNote001",
            &["a", "b", "c"],
            &[],
            odd_uuid,
        )],
        vec![],
    );
    deck["note_models"] = json!([model]);
    let r = s
        .submit(
            &bob,
            &submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &deck, 3, "odd", false),
        )
        .await;
    r.expect_4xx("unknown notetype");
    assert!(
        r.text.contains(&format!("Notetype Error: {odd_uuid}")),
        "text must contain `Notetype Error: {odd_uuid}`, got {:?}",
        r.text
    );
    assert!(
        s.pending(Some(DEMO_HASH)).await.is_empty(),
        "nothing stored"
    );
    assert_eq!(s.pull_since(DEMO_HASH, &after_publish).await, json!([]));
}

#[tokio::test]
async fn nonexistent_deck_path_is_422() {
    let Setup { s, bob, .. } = setup().await;
    // The parent "Demo Deck::Missing" does not exist, so the path cannot be created.
    let path = "Demo Deck::Missing::Sub";
    let deck = root_deck(
        path,
        &new_uuid(),
        "",
        vec![note("LostNote01", &["x", "y"], &[])],
        vec![],
    );
    let r = s
        .submit(
            &bob,
            &submit_body(DEMO_HASH, path, DEMO_NAME, &deck, 2, "lost", false),
        )
        .await;
    r.expect(422, "non-existent deck path");
    assert!(r.text.starts_with("Deck not found"), "{:?}", r.text);
    // An unknown (well-formed) deck hash is not found either, and a malformed one is 400.
    let r = s
        .submit(
            &bob,
            &submit_body(
                "red-blue-green-alpha-bravo-zulu",
                DEMO_NAME,
                DEMO_NAME,
                &tiny_deck(),
                2,
                "x",
                false,
            ),
        )
        .await;
    r.expect(422, "unknown deck hash");
    assert_eq!(
        r.text, "Deck does not exist",
        "the add-on matches this exact text"
    );
    let r = s
        .submit(
            &bob,
            &submit_body(
                "not a hash!",
                DEMO_NAME,
                DEMO_NAME,
                &tiny_deck(),
                2,
                "x",
                false,
            ),
        )
        .await;
    r.expect(400, "malformed deck hash");
}

#[tokio::test]
async fn semantically_equal_notetype_is_reused() {
    let Setup { s, bob, .. } = setup().await;
    let after_publish = sync_point().await;
    // Same fields and templates as Basic (demo), but another uuid (e.g. re-created locally).
    let twin = "22222222-3333-11ee-8888-0242ac120002";
    let mut model = basic_model();
    model["crowdanki_uuid"] = json!(twin);
    let mut deck = root_deck(
        DEMO_NAME,
        DEMO_UUID,
        "",
        vec![note_with_model(
            "TwinNote01",
            &["twin q", "twin a"],
            &[],
            twin,
        )],
        vec![],
    );
    deck["note_models"] = json!([model]);
    let r = s
        .submit(
            &bob,
            &submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &deck, 3, "twin", false),
        )
        .await;
    r.expect(200, "suggestion with an equal notetype under another uuid");
    let id = commit_id(&s.only_pending(DEMO_HASH).await);
    s.approve(id).await;
    let p = s.pull_since(DEMO_HASH, &after_publish).await;
    let n = find_note(&p[0]["deck"], "TwinNote01").expect("new note");
    assert_eq!(
        n["note_model_uuid"], BASIC_MODEL_UUID,
        "re-pointed at the owner's notetype"
    );
    let models = p[0]["deck"]["note_models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0]["crowdanki_uuid"], BASIC_MODEL_UUID);
}

#[tokio::test]
async fn subscription_errors() {
    let Setup { s, bob, .. } = setup().await;
    let r = s
        .post_json(
            "/AddSubscription",
            Some(&bob),
            &json!({"deck_hash": "red-blue-green-alpha-bravo-zulu"}),
        )
        .await;
    r.expect(422, "subscribe to unknown deck");
    assert_eq!(r.text, "Could not add subscription");
    s.post_json(
        "/AddSubscription",
        Some(&bob),
        &json!({"deck_hash": "bad hash"}),
    )
    .await
    .expect(400, "bad hash");
    let r = s
        .post_json(
            "/RemoveSubscription",
            Some(&bob),
            &json!({"deck_hash": DEMO_HASH}),
        )
        .await;
    r.expect(404, "remove a subscription that does not exist");
    assert_eq!(r.text, "Subscription not found");
    s.post_json(
        "/CheckDeckAlive",
        None,
        &json!({"deck_hashes": ["Bad Hash!"]}),
    )
    .await
    .expect(400, "malformed hash");
    let r = s
        .post_json("/CheckDeckAlive", None, &json!({"deck_hashes": []}))
        .await;
    r.expect(200, "empty list");
    assert_eq!(r.json(), json!([]));
}
