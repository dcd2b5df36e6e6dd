//! §9.1 encoding vectors and §3 deck hash vectors, checked through the server.
use deckd_testkit as common;

use common::*;
use serde_json::json;

const GZB64_EMPTY_ARRAY: &str = "H4sIAAAAAAACA4uOBQApu0wNAgAAAA==";
const GZB64_STATS: &str = "H4sIAAAAAAACAw3L2wmAMAwAwFVKvs0CLlOCDU2wJNCHoqW76/3fhMTHGYWawB5AvOM7ykC1pNmRNUtnNmyUkAqZGsMWoPKlfEfR1r0+/5xrfbX+zOJLAAAA";

#[test]
fn gzb64_vectors_decode() {
    assert_eq!(gzb64_decode(GZB64_EMPTY_ARRAY), json!([]));
    assert_eq!(
        gzb64_decode(GZB64_STATS),
        json!({"deck_hash": "hot-zulu-indigo-eighteen-sad-alanine", "review_history": {}})
    );
    // Our own encoder round-trips (bytes differ between gzip writers; compare JSON).
    let v = json!({"a": [1, 2, {"b": "ü ✓ 🎉"}], "c": null});
    assert_eq!(gzb64_decode(&gzb64_encode(&v)), v);
    assert_eq!(gzb64_decode(&gzb64_encode_plugin(&v)), v);
    let enc = gzb64_encode(&v);
    assert!(
        !enc.contains('\n') && enc.len() % 4 == 0,
        "one line, padded"
    );
}

#[test]
fn humanhash_reference_vectors() {
    assert_eq!(
        humanhash("bc0f47f9-3dd0-4657-8d7e-ee645999b95e"),
        "white-berlin-nineteen-white-lima-hot"
    );
    assert_eq!(humanhash(DEMO_UUID), DEMO_HASH);
    assert_eq!(
        sha256_hex("alice"),
        "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
    );
}

#[tokio::test]
async fn publish_tiny_deck_gets_reference_hash() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let r = s.publish_raw(&alice, &tiny_deck()).await;
    r.expect(200, "/createDeck of §9.3");
    let v = r.json();
    assert_eq!(v["status"], 1, "{v}");
    assert_eq!(v["message"], DEMO_HASH, "§9.3 deck hash");
    assert!(
        v["bulk_operation_id"].is_string(),
        "bulk_operation_id must be a string: {v}"
    );

    // Second publish of a root with the same name by alice → status 0.
    let r2 = s.publish_raw(&alice, &tiny_deck()).await;
    r2.expect(200, "second /createDeck");
    let v2 = r2.json();
    assert_eq!(v2["status"], 0, "{v2}");
    assert_eq!(
        v2["message"],
        "Deck already exists. Please submit suggestions instead."
    );
}

#[tokio::test]
async fn publish_hash_vector_bc0f47f9() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let deck = root_deck(
        "Vector Deck",
        "bc0f47f9-3dd0-4657-8d7e-ee645999b95e",
        "",
        vec![note("VecNote001", &["front", "back"], &[])],
        vec![],
    );
    assert_eq!(
        s.publish(&alice, &deck).await,
        "white-berlin-nineteen-white-lima-hot"
    );
}

#[tokio::test]
async fn publish_hash_matches_humanhash_of_random_uuids() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    for i in 0..5 {
        let g = gen_deck(&format!("Random Deck {i}"), 3, 1);
        let h = s.publish(&alice, &g.deck).await;
        assert_eq!(h, g.hash(), "hash of root uuid {}", g.uuid);
        let parts: Vec<&str> = h.split('-').collect();
        assert_eq!(parts.len(), 6);
        assert!(parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase())));
    }
}

#[tokio::test]
async fn server_accepts_foreign_gzip_writer_vector() {
    // §9.1 vector 2 was written by Python's gzip (mtime 0); the server must decode it.
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    s.publish_demo(&alice).await;
    let r = s
        .post_text("/UploadDeckStats", Some(&alice), GZB64_STATS)
        .await;
    r.expect(200, "/UploadDeckStats with §9.1 vector");
    assert_eq!(r.text, "Thanks for sharing!");
}

#[tokio::test]
async fn empty_pull_decodes_to_empty_array() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    s.publish_demo(&alice).await;
    let ts = sync_point().await;
    let r = s.pull_raw(&json!({ DEMO_HASH: sub_value(&ts) })).await;
    r.expect(200, "/pullChanges without changes");
    let body = r.text.trim();
    assert!(!body.contains('\n'), "GZB64 is one line");
    assert_eq!(
        gzb64_decode(body),
        json!([]),
        "decoded like {GZB64_EMPTY_ARRAY}"
    );
}

#[tokio::test]
async fn ensure_ascii_envelope_with_unicode_roundtrips() {
    // The plugin dumps the envelope with ensure_ascii=True: non-ASCII content arrives
    // as \uXXXX escapes (astral characters as surrogate pairs).
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let uuid = new_uuid();
    let deck = root_deck(
        "Ünïcode Deck ✓",
        &uuid,
        "Beschreibung: Größe 🎉",
        vec![note(
            "UniNote001",
            &["Zürich — 東京 🎌", "naïve café"],
            &["städte"],
        )],
        vec![],
    );
    let env = create_deck_envelope(&deck);
    let encoded = gzb64_encode_plugin(&env);
    let raw = {
        use base64::Engine as _;
        use std::io::Read;
        let gz = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    assert!(
        raw.is_ascii() && raw.contains("\\ud83c"),
        "envelope must be ASCII with surrogate escapes"
    );
    let r = s.post_text("/createDeck", Some(&alice), encoded).await;
    r.expect(200, "/createDeck");
    let v = r.json();
    assert_eq!(v["status"], 1, "{v}");
    let hash = v["message"].as_str().unwrap().to_string();
    assert_eq!(hash, humanhash(&uuid));

    let pull = s.pull_since(&hash, FIRST_PULL_TS).await;
    let e = entry_for(&pull, &hash).expect("entry for the unicode deck");
    assert_eq!(e["deck"]["name"], "Ünïcode Deck ✓");
    assert_eq!(e["deck"]["desc"], "Beschreibung: Größe 🎉");
    let n = find_note(&e["deck"], "UniNote001").expect("note");
    assert_eq!(n["fields"], json!(["Zürich — 東京 🎌", "naïve café"]));
    assert_eq!(n["tags"], json!(["städte"]));
}

#[tokio::test]
async fn colliding_root_uuid_gets_another_hash() {
    // bob publishes a different deck whose root uuid equals alice's: the hash is taken,
    // so the server must pick another one instead of failing or overwriting.
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    assert_eq!(s.publish_demo(&alice).await, DEMO_HASH);
    let deck = root_deck(
        "Bob Deck",
        DEMO_UUID,
        "",
        vec![note("BobNote001", &["bob q", "bob a"], &[])],
        vec![],
    );
    let h = s.publish(&bob, &deck).await;
    assert_ne!(h, DEMO_HASH);
    let parts: Vec<&str> = h.split('-').collect();
    assert!(
        [3, 5, 6].contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic())),
        "{h}"
    );
    let p = s.pull_since(&h, FIRST_PULL_TS).await;
    assert_eq!(note_guids(&p[0]["deck"]), vec!["BobNote001".to_string()]);
    let p = s.pull_since(DEMO_HASH, FIRST_PULL_TS).await;
    assert_eq!(
        note_guids(&p[0]["deck"]),
        vec!["AbCdEf1234".to_string(), "XyZ9876543".to_string()]
    );
    // Same name, different owner is fine too.
    let h2 = s
        .publish(
            &bob,
            &root_deck(
                DEMO_NAME,
                &new_uuid(),
                "",
                vec![note("BobNote002", &["x", "y"], &[])],
                vec![],
            ),
        )
        .await;
    assert_ne!(h2, DEMO_HASH);
}

/// §9.6 stats upload: dropped (still answered as the add-on expects) until the deck asks
/// for statistics; then figures for the tree's notes are stored (an unknown guid is
/// skipped), and a second upload replaces the first. The switch reaches subscribers in
/// the pull's `stats_enabled`.
#[tokio::test]
async fn deck_stats_are_stored_for_known_notes_once_the_deck_asks() {
    use sqlx::{ConnectOptions, Connection};
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let hash = s.publish_demo(&alice).await;
    let upload = |reps: i64| {
        json!({"deck_hash": hash, "review_history": {"Demo Deck": {
            "AbCdEf1234": {"retention": 90, "lapses": 1, "reps": reps},
            "NotOnServer": {"retention": 50, "lapses": 0, "reps": 1}}}})
    };
    let stored = || async {
        let mut conn =
            <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str("sqlite://")
                .unwrap()
                .filename(s.config().database_path())
                .connect()
                .await
                .unwrap();
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT n.guid, st.retention, st.lapses, st.reps FROM note_stats st JOIN notes n ON n.id = st.note ORDER BY n.guid",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        rows
    };

    let r = s
        .post_gzb64("/UploadDeckStats", Some(&alice), &upload(11))
        .await;
    r.expect(200, "/UploadDeckStats while the deck does not ask");
    assert_eq!(r.text, "Thanks for sharing!");
    assert_eq!(
        stored().await,
        vec![],
        "nothing kept for a deck that did not ask"
    );
    assert_eq!(
        s.pull_since(&hash, FIRST_PULL_TS).await[0]["stats_enabled"],
        false
    );

    let on = s.cli(&["deck", "stats", &hash, "on"]).await;
    assert!(on.ok(), "{on:?}");
    assert!(on.stdout.contains("asks subscribers"), "{on:?}");
    let again = s.cli(&["deck", "stats", &hash, "on"]).await;
    assert!(again.stdout.contains("(unchanged)"), "{again:?}");
    let p = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(p[0]["stats_enabled"], true);
    for reps in [12, 13] {
        s.post_gzb64("/UploadDeckStats", Some(&alice), &upload(reps))
            .await
            .expect(200, "/UploadDeckStats");
    }
    assert_eq!(stored().await, vec![("AbCdEf1234".to_string(), 90, 1, 13)]);

    let off = s.cli(&["deck", "stats", &hash, "off"]).await;
    assert!(off.ok(), "{off:?}");
    s.post_gzb64("/UploadDeckStats", Some(&alice), &upload(14))
        .await
        .expect(200, "/UploadDeckStats after the deck stopped asking");
    assert_eq!(stored().await, vec![("AbCdEf1234".to_string(), 90, 1, 13)]);
    let bad = s
        .cli(&["deck", "stats", "no-such-deck-hash-here", "on"])
        .await;
    assert!(
        !bad.ok() && bad.stderr.contains("no deck no-such-deck-hash-here"),
        "{bad:?}"
    );
}
