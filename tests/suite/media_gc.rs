//! `deckd media gc` keeps every file a live note uses and reclaims the rest: files
//! never confirmed, files of deleted notes, and stray files without a row.

use deckd_testkit as common;

use common::media::*;
use common::*;
use image::ImageFormat;
use serde_json::json;

#[tokio::test]
async fn gc_keeps_referenced_files_and_reclaims_the_rest() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let a = image_bytes(ImageFormat::Png, 5, 5, 1);
    let b = image_bytes(ImageFormat::Jpeg, 400, 300, 2);
    let c = image_bytes(ImageFormat::Png, 5, 5, 3);
    let notes = vec![
        note("GcKeepNote", &["<img src=\"a.png\">", "x"], &[]),
        note("GcDropNote", &["<img src=\"b.jpg\">", "y"], &[]),
    ];
    let deck = root_deck("Gc Deck", &new_uuid(), "", notes, vec![]);
    let created = s.publish_raw(&alice, &deck).await.json();
    let hash = created["message"].as_str().unwrap().to_string();
    let bulk = created["bulk_operation_id"].as_str().unwrap().to_string();
    s.upload_media(
        &alice,
        &hash,
        &[
            ("a.png", "GcKeepNote", a.clone()),
            ("b.jpg", "GcDropNote", b.clone()),
        ],
        &bulk,
    )
    .await;

    // c.png is uploaded but never confirmed: nothing references it.
    let check = s
        .media_check(&alice, &hash, vec![listing("c.png", "GcKeepNote", &c)], "")
        .await
        .json();
    s.media_put(
        check["missing_files"][0]["upload_url"].as_str().unwrap(),
        c.clone(),
        None,
    )
    .await
    .expect(200, "PUT c.png");

    // GcDropNote is deleted through an approved removal request.
    s.post_json("/requestRemoval", Some(&alice), &json!({"remote_deck": hash, "note_guids": ["GcDropNote"], "commit_text": "dup", "force_overwrite": false}))
        .await
        .expect(200, "removal request");
    s.approve(commit_id(&s.only_pending(&hash).await)).await;

    // A stray file without a row (as a crash between rename and commit would leave).
    let stray = s
        .data_dir()
        .join("media/ab/abababababababababababababababab");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"stray").unwrap();
    assert_eq!(stored_file_count(&s), 4);

    // Review pages get a small preview of an image, cached on disk; audio has none.
    let thumb = s.cli(&["media", "thumbnail", &md5_hex(&b)]).await;
    thumb.assert_ok();
    let thumb_path = std::path::PathBuf::from(thumb.stdout.trim());
    let preview = image::open(&thumb_path).unwrap();
    assert!(preview.width() <= 160 && preview.height() <= 160);
    assert_eq!(
        s.cli(&["media", "thumbnail", &md5_hex(&b)]).await.stdout,
        thumb.stdout,
        "made once, then cached"
    );

    // The default grace period protects everything.
    s.cli(&["media", "gc"]).await.assert_ok();
    assert_eq!(
        stored_file_count(&s),
        4,
        "nothing is removed within the grace period"
    );

    // That run marked b and c as unused; with no grace the next run removes them and the stray.
    let swept = s.cli(&["media", "gc", "--grace-hours", "0"]).await;
    swept.assert_ok();
    assert!(swept.stdout.contains("removed 2 files"), "{}", swept.stdout);
    assert!(swept.stdout.contains("1 stray files"), "{}", swept.stdout);
    assert!(!stray.exists());
    assert!(
        !thumb_path.exists(),
        "a removed file's preview goes with it"
    );
    assert_eq!(stored_file_count(&s), 1);
    assert!(
        s.data_dir()
            .join(format!("media/{}/{}", &md5_hex(&a)[..2], md5_hex(&a)))
            .is_file(),
        "the referenced file is kept"
    );

    // The kept file still downloads; the removed ones are gone from the manifest.
    let got = s
        .download_media(&alice, &hash, &["a.png", "b.jpg", "c.png"])
        .await;
    assert_eq!(got, vec![("a.png".to_string(), a)]);
    // And removed content can be uploaded again later.
    let again = s
        .media_check(&alice, &hash, vec![listing("c.png", "GcKeepNote", &c)], "")
        .await
        .json();
    assert_eq!(
        again["missing_files"].as_array().unwrap().len(),
        1,
        "{again}"
    );
}
