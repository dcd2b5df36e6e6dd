//! Pull answers mean the same whichever path builds them. For one fixed database state
//! (text that needs escaping, two notetypes, a note with fewer fields than its notetype,
//! unsorted tags, subdecks, an edit and a deletion) the decoded answers are kept in
//! tests/fixtures/pull-golden.json; the answer built from SQL, the one served from the
//! cache, a multi-deck answer and an incremental one must all match it.
//!
//! After an intended change of what a pull contains:
//! `DECKD_BLESS=1 cargo test --profile ci --test suite pull_equivalence::` rewrites the fixture.
use deckd_testkit as common;

use common::*;
use serde_json::{json, Value};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/pull-golden.json"
);
const ROOT_UUID: &str = "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d0001";
const SMALL_UUID: &str = "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d0002";
const THREE_UUID: &str = "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d00aa";

fn fixed_note(id: u64, guid: &str, model: &str, fields: &[&str], tags: &[&str]) -> Value {
    let mut n = note_with_model(guid, fields, tags, model);
    n["id"] = json!(id);
    n
}

fn fixed_child(uuid: &str, name: &str, notes: Vec<Value>, children: Vec<Value>) -> Value {
    let mut d = child_deck(name, notes, children);
    d["crowdanki_uuid"] = json!(uuid);
    d["id"] = json!(1_700_000_000_900u64);
    d
}

/// A second notetype with three fields.
fn three_field_model() -> Value {
    let mut m = basic_model();
    m["crowdanki_uuid"] = json!(THREE_UUID);
    m["name"] = json!("Three fields");
    let mut extra = m["flds"][1].clone();
    extra["name"] = json!("Extra");
    extra["ord"] = json!(2);
    m["flds"].as_array_mut().unwrap().push(extra);
    m
}

fn golden_deck() -> Value {
    let b = BASIC_MODEL_UUID;
    let notes = vec![
        fixed_note(
            1_700_000_000_001,
            "GoldQuote1",
            b,
            &[
                "\"quoted\" and \\backslash\\ and a\ttab",
                "line one\nline two",
            ],
            &["zeta", "alpha", "Beta", "ünïcode"],
        ),
        fixed_note(
            1_700_000_000_002,
            "GoldUnicode",
            b,
            &["日本語 🎉 — “curly”", "<b>bold</b> &amp; <i>it</i>"],
            &[],
        ),
        fixed_note(
            1_700_000_000_003,
            "GoldShort3",
            THREE_UUID,
            &["only the first of three"],
            &["short"],
        ),
        fixed_note(
            1_700_000_000_004,
            "GoldThree4",
            THREE_UUID,
            &["front", "", "extra text"],
            &["x::y", "a"],
        ),
        fixed_note(
            1_700_000_000_005,
            "GoldGoner5",
            b,
            &["to be removed", "later"],
            &["gone"],
        ),
    ];
    let grand = fixed_child(
        "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d0013",
        "Nested",
        vec![fixed_note(
            1_700_000_000_006,
            "GoldNested",
            b,
            &["deep", "down"],
            &["nested"],
        )],
        vec![],
    );
    let part = fixed_child(
        "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d0012",
        "Part A",
        vec![fixed_note(
            1_700_000_000_007,
            "GoldPartA7",
            THREE_UUID,
            &["in a subdeck", "b", "c"],
            &[],
        )],
        vec![grand],
    );
    let empty = fixed_child(
        "1d0c0b5e-8f39-4c59-9d1e-3a9a3f6d0014",
        "Empty",
        vec![],
        vec![],
    );
    let mut deck = root_deck(
        "Golden Deck",
        ROOT_UUID,
        "A description with \"quotes\" & <b>markup</b>",
        notes,
        vec![part, empty],
    );
    deck["note_models"]
        .as_array_mut()
        .unwrap()
        .push(three_field_model());
    deck
}

fn small_deck() -> Value {
    root_deck(
        "Golden Small",
        SMALL_UUID,
        "",
        vec![
            fixed_note(
                1_700_000_000_101,
                "GoldSmall1",
                BASIC_MODEL_UUID,
                &["one", "1"],
                &["s"],
            ),
            fixed_note(
                1_700_000_000_102,
                "GoldSmall2",
                BASIC_MODEL_UUID,
                &["two", "2"],
                &[],
            ),
        ],
        vec![],
    )
}

/// Waits until `pulled_notes` holds a copy of `notes` notes (the background fill).
async fn wait_until_stored(s: &TestServer, notes: i64) {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(s.data_dir().join("deckd.sqlite3"))
        .read_only(true)
        .connect()
        .await
        .expect("open the database read-only");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM pulled_notes")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if stored >= notes {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {stored} of {notes} pulled notes were stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The answer decoded the add-on's way, `json.loads(gzip.decompress(base64.b64decode(...)))`,
/// through the project's Python client helpers.
fn decoded_like_the_addon(body: &str) -> Value {
    use std::io::Write;
    let mut py = std::process::Command::new("python3")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyclient"))
        .args([
            "-c",
            "import sys, json, deckd_wire; print(json.dumps(deckd_wire.ungzb64(sys.stdin.read())))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed to decode answers as the add-on does");
    py.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 could not decode the answer");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Changelog headers carry the server's clock; everything else is fixed by the state.
fn normalise(mut v: Value) -> Value {
    for e in v.as_array_mut().expect("array") {
        if let Some(c) = e.get_mut("changelog") {
            let text = c.as_str().unwrap_or_default();
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with("--- Changes from "))
                .collect();
            *c = json!(kept.join("\n"));
        }
    }
    v
}

#[tokio::test]
async fn every_pull_path_answers_the_same_for_the_same_state() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let golden_hash = s.publish(&alice, &golden_deck()).await;
    let small_hash = s.publish(&alice, &small_deck()).await;
    // A first pull builds every note's object and wakes the task that stores them; the
    // edits below then change notes whose stored copies must not be served.
    s.pull(&json!({ &golden_hash: sub_value(FIRST_PULL_TS) }))
        .await;
    wait_until_stored(&s, 8).await;
    let mid = sync_point().await;

    // The owner edits a note and removes another.
    let edited = fixed_note(
        1_700_000_000_004,
        "GoldThree4",
        THREE_UUID,
        &["front, edited", "now filled", "extra text"],
        &["a", "edited"],
    );
    let mut edit = root_deck("Golden Deck", ROOT_UUID, "", vec![edited], vec![]);
    edit["note_models"]
        .as_array_mut()
        .unwrap()
        .push(three_field_model());
    s.submit(
        &alice,
        &submit_body(
            &golden_hash,
            "Golden Deck",
            "Golden Deck",
            &edit,
            10,
            "",
            true,
        ),
    )
    .await
    .expect(200, "owner's direct edit");
    s.post_json(
        "/requestRemoval",
        Some(&alice),
        &json!({"remote_deck": golden_hash, "note_guids": ["GoldGoner5"], "commit_text": "duplicate", "force_overwrite": false}),
    )
    .await
    .expect(200, "removal request");
    s.approve(commit_id(&s.only_pending(&golden_hash).await))
        .await;

    let first = json!({ &golden_hash: sub_value(FIRST_PULL_TS) });
    let built = normalise(s.pull(&first).await);
    let cached = normalise(s.pull(&first).await);
    let small = normalise(s.pull_since(&small_hash, FIRST_PULL_TS).await);
    let both = normalise(
        s.pull(&json!({ &golden_hash: sub_value(FIRST_PULL_TS), &small_hash: sub_value(FIRST_PULL_TS) }))
            .await,
    );
    let both_again = normalise(
        s.pull(&json!({ &golden_hash: sub_value(FIRST_PULL_TS), &small_hash: sub_value(FIRST_PULL_TS) }))
            .await,
    );
    let since = normalise(s.pull_since(&golden_hash, &mid).await);
    let raw = s
        .pull_raw(&json!({ &golden_hash: sub_value(FIRST_PULL_TS), &small_hash: sub_value(FIRST_PULL_TS) }))
        .await;
    assert_eq!(
        normalise(decoded_like_the_addon(&raw.text)),
        both,
        "Python's gzip.decompress, as the add-on decodes, reads a different answer"
    );
    assert_eq!(
        both, both_again,
        "a two-deck answer from kept per-deck parts differs from the first one"
    );

    assert_eq!(
        built, cached,
        "the cached answer differs from the built one"
    );
    let mut expected_both: Vec<Value> = vec![built[0].clone(), small[0].clone()];
    expected_both.sort_by_key(|e| e["deck_hash"].as_str().unwrap().to_string());
    let mut got_both = both.as_array().unwrap().clone();
    got_both.sort_by_key(|e| e["deck_hash"].as_str().unwrap().to_string());
    assert_eq!(
        got_both, expected_both,
        "a two-deck answer must hold exactly the single-deck answers"
    );

    let answers = json!({"full": built, "small": small, "since_edit": since});
    if std::env::var_os("DECKD_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(
            GOLDEN,
            serde_json::to_string_pretty(&answers).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(GOLDEN).expect("fixture present")).unwrap();
    for key in ["full", "small", "since_edit"] {
        assert_eq!(
            answers[key], golden[key],
            "the {key} answer no longer matches tests/fixtures/pull-golden.json"
        );
    }
}

/// Publishing stores each note's object as it writes the note; a note without a stored
/// object has it built by SQL. Both must mean the same for every kind of note.
#[tokio::test]
async fn objects_stored_at_publish_mean_what_sql_builds() {
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 0).await;
    let alice = s.user("alice").await;
    let mut deck = golden_deck();
    deck["notes"].as_array_mut().unwrap().extend([
        fixed_note(
            1_700_000_000_008,
            "GoldDupTag",
            BASIC_MODEL_UUID,
            &["tags twice", "\u{1}control\u{7f} and \\u0000 text"],
            &["b", "a", "b", "A"],
        ),
        fixed_note(
            1_700_000_000_009,
            "GoldTooMany",
            BASIC_MODEL_UUID,
            &["one", "two", "three beyond the notetype", "four"],
            &[],
        ),
        fixed_note(
            0,
            "GoldNoId",
            BASIC_MODEL_UUID,
            &["", "only the back"],
            &["e\u{301}"],
        ),
        // Above a pull batch's byte bound: built outside SQLite when it has no copy.
        fixed_note(
            1_700_000_000_010,
            "GoldLarge",
            BASIC_MODEL_UUID,
            &[&"\"big\" ünï \u{2} ".repeat(20_000), "back", "beyond"],
            &["z", "a"],
        ),
        fixed_note(
            1_700_000_000_011,
            "GoldAfterLarge",
            BASIC_MODEL_UUID,
            &["after", "the large one"],
            &[],
        ),
    ]);
    let hash = s.publish(&alice, &deck).await;
    let stored = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(note_guids(&stored[0]["deck"]).len(), 12);

    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(s.data_dir().join("deckd.sqlite3"))
        .connect()
        .await
        .expect("open the database");
    sqlx::query("DELETE FROM pulled_notes")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let built = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(
        stored, built,
        "stored objects differ from the ones SQL builds"
    );
}

/// A deck whose entry is larger than the kept per-deck parts may be is sent while it is
/// built instead of being built in memory; the several-deck answer holding it, read the
/// add-on's way, still holds exactly the single-deck answers.
#[tokio::test]
async fn an_entry_too_large_to_keep_is_sent_while_it_is_built() {
    // 8 KiB for whole answers and 8 KiB for per-deck parts.
    let s = TestServer::start_with(|c| c.pull_cache_bytes = 16 * 1024).await;
    let alice = s.user("alice").await;
    let golden_hash = s.publish(&alice, &golden_deck()).await;
    let big = gen_deck("Too Big To Keep", 1_500, 3);
    let big_hash = s.publish(&alice, &big.deck).await;
    let alone = s
        .pull_raw(&json!({ &big_hash: sub_value(FIRST_PULL_TS) }))
        .await;
    assert!(
        alone.text.len() / 4 * 3 > 8 * 1024,
        "the big deck's answer ({} bytes of base64) must outgrow what the per-deck parts keep",
        alone.text.len()
    );

    let both =
        json!({ &golden_hash: sub_value(FIRST_PULL_TS), &big_hash: sub_value(FIRST_PULL_TS) });
    let mut expected = vec![
        normalise(s.pull_since(&golden_hash, FIRST_PULL_TS).await)[0].clone(),
        normalise(decoded_like_the_addon(&alone.text))[0].clone(),
    ];
    for round in ["first", "second"] {
        let raw = s.pull_raw(&both).await;
        assert_eq!(raw.status, 200, "{round} two-deck pull");
        let mut got = normalise(decoded_like_the_addon(&raw.text))
            .as_array()
            .unwrap()
            .clone();
        got.sort_by_key(|e| e["deck_hash"].as_str().unwrap().to_string());
        expected.sort_by_key(|e| e["deck_hash"].as_str().unwrap().to_string());
        assert_eq!(
            got, expected,
            "{round} two-deck answer differs from the single-deck answers"
        );
    }
}

/// A publish of 1,000 notes or more takes the triggers on new field and tag rows out of
/// its transaction. They must be back after it: filling an empty field and adding a tag
/// each only insert rows, and without the trigger on that table the object stored at
/// publish would still be sent.
#[tokio::test]
async fn edits_after_a_big_publish_are_pulled() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let note = |i: u64, second: &str, tags: &[&str]| {
        fixed_note(
            1_700_000_100_000 + i,
            &format!("Big{i:05}"),
            THREE_UUID,
            &[&format!("front {i}"), second, "extra"],
            tags,
        )
    };
    let with_model = |notes: Vec<Value>| {
        let mut deck = root_deck("Big Deck", ROOT_UUID, "", notes, vec![]);
        deck["note_models"]
            .as_array_mut()
            .unwrap()
            .push(three_field_model());
        deck
    };
    let hash = s
        .publish(
            &alice,
            &with_model((0..1_200).map(|i| note(i, "", &["big"])).collect()),
        )
        .await;
    let first = json!({ &hash: sub_value(FIRST_PULL_TS) });
    let pulled = |answer: Value, guid: &str| {
        find_note(&entry_for(&answer, &hash).unwrap()["deck"], guid).unwrap()
    };
    let edit = |note: Value| {
        submit_body(
            &hash,
            "Big Deck",
            "Big Deck",
            &with_model(vec![note]),
            10,
            "",
            true,
        )
    };
    assert_eq!(pulled(s.pull(&first).await, "Big00007")["fields"][1], "");

    s.submit(&alice, &edit(note(7, "now filled", &["big"])))
        .await
        .expect(200, "the owner fills a field");
    let filled = pulled(s.pull(&first).await, "Big00007");
    assert_eq!(filled["fields"][1], "now filled", "{filled}");

    s.submit(&alice, &edit(note(8, "", &["big", "tagged"])))
        .await
        .expect(200, "the owner adds a tag");
    let tagged = pulled(s.pull(&first).await, "Big00008");
    assert_eq!(tagged["tags"], json!(["big", "tagged"]), "{tagged}");
}
