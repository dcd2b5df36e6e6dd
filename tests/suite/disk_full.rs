//! A full SD card: the real binary with its data dir on a small tmpfs the test mounts
//! itself (as root, or as a normal user through a user namespace). Every write route the
//! add-on uses answers 507 (or 503 with Retry-After) with a clear text, never 500 or 401;
//! reads go on; once space is freed, writes succeed again without a restart, and nothing
//! acknowledged is lost.
use deckd_testkit as common;
use deckd_testkit::spawned;

use common::media::{mp3_bytes, red1x1_png};
use common::*;
use serde_json::{json, Value};
use spawned::{fill, integrity, Deckd, Place};

/// The note of the demo deck whose field shows `red1x1.png`.
const IMAGE_NOTE: &str = "XyZ9876543";
const TEXT_NOTE: &str = "AbCdEf1234";

/// A deck of `n` notes with fields of about 1 KiB, so it cannot fit in a full disk.
fn big_deck(name: &str, n: usize) -> GenDeck {
    let mut g = gen_deck(name, 0, 0);
    let filler = "lorem ipsum dolor sit amet ".repeat(40);
    let notes: Vec<Value> = (0..n)
        .map(|i| {
            note(
                &format!("{}{i:05}", rand_tag(4)),
                &[&format!("Q{i} {filler}"), &filler],
                &["big"],
            )
        })
        .collect();
    g.deck["notes"] = Value::Array(notes);
    g
}

/// Passes a write answered either with success or with a clear "disk full"; fails on
/// anything else (500, 401, a full-disk answer without Retry-After or text).
#[track_caller]
fn full_or_ok(r: &Resp, what: &str) -> bool {
    assert!(
        r.status != 500,
        "{what}: a full disk must not be a 500: {}",
        r.text
    );
    assert!(
        r.status != 401,
        "{what}: a full disk must never log the add-on out (401): {}",
        r.text
    );
    if (200..300).contains(&r.status) {
        return false;
    }
    assert_full(r, what);
    true
}

#[track_caller]
fn assert_full(r: &Resp, what: &str) {
    match r.status {
        507 => {}
        503 => assert!(
            r.header("retry-after").is_some(),
            "{what}: 503 without Retry-After: {}",
            r.text
        ),
        other => panic!(
            "{what}: expected 507 (or 503 with Retry-After) on a full disk, got {other}: {}",
            r.text
        ),
    }
    assert!(
        r.header("retry-after").is_some(),
        "{what}: a full disk answer carries Retry-After"
    );
    assert!(
        r.text.to_lowercase().contains("disk"),
        "{what}: the text must say the disk is the problem: {:?}",
        r.text
    );
}

#[tokio::test]
async fn a_full_disk_answers_clearly_keeps_serving_reads_and_recovers_without_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let mount_point = scratch.path().join("card");
    std::fs::create_dir(&mount_point).unwrap();
    let log = scratch.path().join("deckd.log");
    let server = Deckd::start(
        &Place::Tmpfs {
            mount_point: mount_point.clone(),
            size_mb: 12,
        },
        &["alice", "bob"],
        &log,
    )
    .await;
    let s = &server;
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run(s))).await;
    if let Err(p) = outcome {
        eprintln!("deckd log:\n{}", s.log_tail());
        std::panic::resume_unwind(p);
    }
}

async fn run(s: &Deckd) {
    let alice = s.login("alice").await;
    let bob = s.login("bob").await;
    let bob_session = s.login_raw("bob").await;
    let mut bob_refresh = bob_session.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.publish_raw(&alice, &tiny_deck()).await;
    r.expect(200, "publish the demo deck");
    assert_eq!(r.json()["message"], DEMO_HASH);
    // The deck asks for statistics, so their uploads write too.
    let stats_on = s.cli(&["deck", "stats", DEMO_HASH, "on"]).await;
    assert!(stats_on.status.success(), "{stats_on:?}");
    s.upload_media(&alice, DEMO_HASH, "red1x1.png", IMAGE_NOTE, &red1x1_png())
        .await
        .map_err(|r| r.text)
        .expect("upload red1x1.png");

    // Space taken by other files on the card, given back at the end.
    let card = s.data_dir().parent().unwrap().to_path_buf();
    let reserve = card.join("reserve");
    assert_eq!(
        fill(&reserve, 5 << 20),
        5 << 20,
        "the 12 MiB card has room for a 5 MiB file"
    );

    // A user fills the card with uploads until the server refuses one (the owner, so the
    // files are referenced and must download later whatever the media rights are).
    let mut acked = Vec::new();
    let refusal = loop {
        let bytes = mp3_bytes(256 * 1024 + acked.len());
        let name = format!("fill{}.mp3", acked.len());
        match s
            .upload_media(&alice, DEMO_HASH, &name, TEXT_NOTE, &bytes)
            .await
        {
            Ok(()) => acked.push((name, bytes)),
            Err(r) => break r,
        }
        assert!(
            acked.len() < 100,
            "12 MiB cannot hold 100 uploads of 256 KiB"
        );
    };
    assert_full(&refusal, "the upload that found the disk full");
    assert!(
        !acked.is_empty(),
        "some uploads fit before the disk was full"
    );
    // …and whatever space is left goes to a filler file.
    let filler = card.join("filler");
    fill(&filler, u64::MAX);

    // Every write route the add-on uses: success (a small write may still fit in the
    // WAL's allocated pages) or a clear full-disk answer. The big ones cannot fit.
    let big = big_deck("Too Big", 3000);
    assert_full(
        &s.publish_raw(&alice, &big.deck).await,
        "/createDeck of a 3 MB deck",
    );
    let suggestion = root_deck(
        DEMO_NAME,
        DEMO_UUID,
        "",
        big.deck["notes"].as_array().unwrap().clone(),
        vec![],
    );
    let body = submit_body(
        DEMO_HASH,
        DEMO_NAME,
        DEMO_NAME,
        &suggestion,
        2,
        "many new notes",
        false,
    );
    assert_full(&s.submit(&bob, &body).await, "/submitCard of 3000 notes");
    let more = mp3_bytes(300 * 1024);
    let check = s
        .media_check(&alice, DEMO_HASH, &[("more.mp3", TEXT_NOTE, &more)])
        .await;
    if !full_or_ok(&check, "/media/check/bulk") {
        let v = check.json();
        let url = v["missing_files"][0]["upload_url"]
            .as_str()
            .expect("an upload URL")
            .to_string();
        assert_full(&s.media_put(&url, &more).await, "PUT of a 300 KiB file");
        if let Some(batch) = v["batch_id"].as_str() {
            full_or_ok(
                &s.media_confirm(&alice, batch, &[]).await,
                "/media/confirm/bulk",
            );
        }
    }
    full_or_ok(&s.login_raw("alice").await, "/login");
    // A refresh that cannot be stored must leave the old pair working.
    let refreshed = s
        .post_json(
            "/refreshToken",
            None,
            &json!({"refresh_token": bob_refresh}),
        )
        .await;
    full_or_ok(&refreshed, "/refreshToken");
    if refreshed.status == 200 {
        bob_refresh = refreshed.json()["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
    }
    full_or_ok(
        &s.upload_stats(&bob, DEMO_HASH, TEXT_NOTE).await,
        "/UploadDeckStats",
    );
    let small = root_deck(
        DEMO_NAME,
        DEMO_UUID,
        "",
        vec![note("SmallOne01", &["small", "note"], &[])],
        vec![],
    );
    let small_body = submit_body(
        DEMO_HASH, DEMO_NAME, DEMO_NAME, &small, 2, "one note", false,
    );
    full_or_ok(
        &s.submit(&bob, &small_body).await,
        "/submitCard of one note",
    );

    // Reads go on.
    let pulled = s
        .pull_all(DEMO_HASH)
        .await
        .expect("a pull is served on a full disk");
    assert_eq!(
        entry_for(&pulled, DEMO_HASH).map(|e| note_guids(&e["deck"])),
        Some(vec![TEXT_NOTE.to_string(), IMAGE_NOTE.to_string()])
    );
    assert_eq!(
        s.download(&alice, DEMO_HASH, "red1x1.png")
            .await
            .expect("a stored file downloads on a full disk"),
        red1x1_png()
    );
    let check = s.check_token(&bob).await;
    assert_eq!(
        (check.status, check.text.as_str()),
        (200, "true"),
        "/CheckUserToken on a full disk"
    );

    // Space comes back: writes work again, no restart.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(&reserve).unwrap();
    let again = gen_deck("After Space Came Back", 20, 1);
    let r = s.publish_raw(&alice, &again.deck).await;
    r.expect(200, "/createDeck after space was freed");
    assert_eq!(r.json()["status"], 1, "{}", r.text);
    s.submit(&bob, &small_body)
        .await
        .expect(200, "/submitCard after space was freed");
    s.login_raw("alice")
        .await
        .expect(200, "/login after space was freed");
    s.post_json(
        "/refreshToken",
        None,
        &json!({"refresh_token": bob_refresh}),
    )
    .await
    .expect(
        200,
        "/refreshToken after space was freed, with the pair from before",
    );
    s.upload_stats(&bob, DEMO_HASH, TEXT_NOTE)
        .await
        .expect(200, "/UploadDeckStats after space was freed");
    s.upload_media(&alice, DEMO_HASH, "late.mp3", TEXT_NOTE, &mp3_bytes(1000))
        .await
        .map_err(|r| r.text)
        .expect("an upload after space was freed");

    // Nothing acknowledged was lost, and the database is sound.
    assert_eq!(integrity(&s.data_dir()).await, "ok");
    let pulled = s
        .pull_all(&again.hash())
        .await
        .expect("pull the deck published after recovery");
    assert_eq!(
        entry_for(&pulled, &again.hash()).map(|e| note_guids(&e["deck"]).len()),
        Some(20)
    );
    for (name, bytes) in &acked {
        assert_eq!(
            &s.download(&alice, DEMO_HASH, name)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}")),
            bytes,
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read_dir(s.data_dir().join("media/tmp"))
            .unwrap()
            .count(),
        0,
        "no temporary upload is left behind"
    );
}
