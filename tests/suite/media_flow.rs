//! Media as the add-on uses it (docs/protocol.md §5, §9.4–9.5): publish with media,
//! subscribe, download byte for byte; suggestions with an empty bulk id; dedup;
//! missing-media listing; download headers, ranges and nginx hand-off.

use deckd_testkit as common;

use common::media::*;
use common::*;
use image::ImageFormat;
use serde_json::{json, Value};

/// Publishes a deck whose notes use `files` (name → note guid), answering (hash, bulk id).
async fn publish_with(
    s: &TestServer,
    token: &str,
    name: &str,
    notes: Vec<Value>,
) -> (String, String) {
    let deck = root_deck(name, &new_uuid(), "", notes, vec![]);
    let r = s.publish_raw(token, &deck).await;
    r.expect(200, "/createDeck");
    let v = r.json();
    assert_eq!(v["status"], 1, "{v}");
    (
        v["message"].as_str().unwrap().to_string(),
        v["bulk_operation_id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn two_users_sync_images_and_audio_byte_for_byte() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let png = red1x1_png();
    let jpg = image_bytes(ImageFormat::Jpeg, 40, 30, 1);
    let gif = image_bytes(ImageFormat::Gif, 8, 8, 2);
    let webp = image_bytes(ImageFormat::WebP, 16, 16, 3);
    let mp3 = mp3_bytes(5000);
    let ogg = ogg_bytes(4);
    let oga = ogg_bytes(5);
    let notes = vec![
        note(
            "MediaNote1",
            &[
                "Which colour is this?",
                "<img src=\"red1x1.png\">[sound:hello.mp3]",
            ],
            &[],
        ),
        note(
            "MediaNote2",
            &[
                "<img src=\"photo.jpg\"><img src='anim.gif'>",
                "<img src=\"pic.webp\">[sound:voice.ogg][sound:voice2.oga]",
            ],
            &[],
        ),
    ];
    let (hash, bulk) = publish_with(&s, &alice, "Media Deck", notes).await;

    let missing = s.get(&format!("/media/missing/{hash}"), Some(&alice)).await;
    missing.expect(200, "missing before upload");
    assert_eq!(
        missing.json(),
        json!([
            "anim.gif",
            "hello.mp3",
            "photo.jpg",
            "pic.webp",
            "red1x1.png",
            "voice.ogg",
            "voice2.oga"
        ])
    );

    let files = vec![
        ("red1x1.png", "MediaNote1", png.clone()),
        ("hello.mp3", "MediaNote1", mp3.clone()),
        ("photo.jpg", "MediaNote2", jpg.clone()),
        ("anim.gif", "MediaNote2", gif.clone()),
        ("pic.webp", "MediaNote2", webp.clone()),
        ("voice.ogg", "MediaNote2", ogg.clone()),
        ("voice2.oga", "MediaNote2", oga.clone()),
    ];
    let check = s.upload_media(&alice, &hash, &files, &bulk).await;
    assert_eq!(
        check["missing_files"].as_array().unwrap().len(),
        7,
        "{check}"
    );
    assert_eq!(check["failed_files"], json!([]));
    assert_eq!(stored_file_count(&s), 7);
    let (modes, plain) = stored_file_modes(&s);
    assert!(
        modes.iter().all(|m| *m == plain),
        "stored media modes {:?}, a plain file gets {plain:o}",
        modes.iter().map(|m| format!("{m:o}")).collect::<Vec<_>>()
    );
    let missing = s.get(&format!("/media/missing/{hash}"), Some(&alice)).await;
    assert_eq!(missing.json(), json!([]), "nothing missing after upload");

    // Bob subscribes, pulls, and fetches the media his notes reference.
    s.post_json("/AddSubscription", Some(&bob), &json!({"deck_hash": hash}))
        .await
        .expect(200, "subscribe");
    let pulled = s.pull_since(&hash, FIRST_PULL_TS).await;
    assert_eq!(note_guids(&pulled[0]["deck"]).len(), 2);
    let names = [
        "red1x1.png",
        "hello.mp3",
        "photo.jpg",
        "anim.gif",
        "pic.webp",
        "voice.ogg",
        "voice2.oga",
        "unknown.png",
    ];
    let got = s.download_media(&bob, &hash, &names).await;
    assert_eq!(got.len(), 7, "unknown names are left out");
    for (name, _, bytes) in &files {
        let (_, body) = got
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not in manifest"));
        assert_eq!(body, bytes, "{name} differs");
    }

    // Bob suggests a new image on a note (empty bulk id, as after /submitCard), Alice approves.
    let ts = sync_point().await;
    let fresh = image_bytes(ImageFormat::Png, 20, 20, 9);
    let edited = note(
        "MediaNote1",
        &[
            "Which colour is this?",
            "<img src=\"red1x1.png\"><img src=\"fresh.png\">",
        ],
        &[],
    );
    s.suggest(
        &bob,
        &hash,
        "Media Deck",
        &new_uuid(),
        vec![edited],
        "add a picture",
    )
    .await
    .expect(200, "suggest");
    let check = s
        .upload_media(
            &bob,
            &hash,
            &[("fresh.png", "MediaNote1", fresh.clone())],
            "",
        )
        .await;
    assert_eq!(
        check["missing_files"].as_array().unwrap().len(),
        1,
        "{check}"
    );
    s.approve(commit_id(&s.only_pending(&hash).await)).await;
    let pulled = s.pull_since(&hash, &ts).await;
    assert!(
        find_note(&pulled[0]["deck"], "MediaNote1").unwrap()["fields"][1]
            .as_str()
            .unwrap()
            .contains("fresh.png")
    );
    let got = s.download_media(&bob, &hash, &["fresh.png"]).await;
    assert_eq!(got, vec![("fresh.png".to_string(), fresh)]);
}

#[tokio::test]
async fn same_content_on_two_decks_is_stored_once() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let carol = s.user("carol").await;
    let png = image_bytes(ImageFormat::Png, 10, 10, 7);
    let (h1, b1) = publish_with(
        &s,
        &alice,
        "Deck One",
        vec![note("DedupNote1", &["<img src=\"a.png\">", "x"], &[])],
    )
    .await;
    let (h2, b2) = publish_with(
        &s,
        &carol,
        "Deck Two",
        vec![note("DedupNote2", &["<img src=\"b.png\">", "y"], &[])],
    )
    .await;
    let first = s
        .upload_media(&alice, &h1, &[("a.png", "DedupNote1", png.clone())], &b1)
        .await;
    assert_eq!(first["missing_files"].as_array().unwrap().len(), 1);
    let second = s
        .upload_media(&carol, &h2, &[("b.png", "DedupNote2", png.clone())], &b2)
        .await;
    assert_eq!(
        second["missing_files"],
        json!([]),
        "known content is not uploaded again"
    );
    assert_eq!(second["existing_files"][0]["hash"], md5_hex(&png));
    let again = s
        .media_check(&alice, &h1, vec![listing("a.png", "DedupNote1", &png)], "")
        .await
        .json();
    assert_eq!(
        second["existing_files"][0]["media_id"], again["existing_files"][0]["media_id"],
        "one row for both decks"
    );
    assert_eq!(stored_file_count(&s), 1);
    // Each deck serves it under its own name.
    assert_eq!(
        s.download_media(&carol, &h2, &["b.png"]).await,
        vec![("b.png".into(), png.clone())]
    );
    assert_eq!(
        s.download_media(&alice, &h1, &["a.png", "b.png"]).await,
        vec![("a.png".into(), png)]
    );
}

#[tokio::test]
async fn concurrent_uploads_of_the_same_file_store_it_once() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let png = image_bytes(ImageFormat::Png, 64, 64, 11);
    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Race Deck",
        vec![note("RaceNote01", &["<img src=\"r.png\">", "x"], &[])],
    )
    .await;
    let mut urls = Vec::new();
    for _ in 0..6 {
        let c = s
            .media_check(
                &alice,
                &hash,
                vec![listing("r.png", "RaceNote01", &png)],
                &bulk,
            )
            .await
            .json();
        urls.push(
            c["missing_files"][0]["upload_url"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let puts = urls
        .iter()
        .map(|u| s.media_put(u, png.clone(), Some(content_md5(&png))));
    for r in futures_util::future::join_all(puts).await {
        r.expect(200, "concurrent PUT");
    }
    assert_eq!(stored_file_count(&s), 1);
    assert_eq!(temp_file_count(&s), 0);
}

#[tokio::test]
async fn downloads_carry_type_etag_caching_and_ranges() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let jpg = image_bytes(ImageFormat::Jpeg, 64, 48, 3);
    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Header Deck",
        vec![note("HeaderNote", &["<img src=\"h.jpg\">", "x"], &[])],
    )
    .await;
    s.upload_media(
        &alice,
        &hash,
        &[("h.jpg", "HeaderNote", jpg.clone())],
        &bulk,
    )
    .await;
    let m = s.media_manifest(&alice, &hash, &["h.jpg"]).await.json();
    let url = m["files"][0]["download_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(s.base_url()),
        "download URLs point at deckd itself: {url}"
    );
    assert_eq!(m["file_count"], 1);
    assert!(time::OffsetDateTime::parse(
        m["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());

    let (status, headers, body) = s.media_get(&url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, jpg);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["etag"], format!("\"{}\"", md5_hex(&jpg)));
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // Someone's upload on the console's origin: inert if opened in a browser.
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox"),
        "{:?}",
        headers["content-security-policy"]
    );

    let (status, headers, body) = s.media_get(&url, &[("Range", "bytes=10-19")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, &jpg[10..20]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 10-19/{}", jpg.len())
    );

    let etag = format!("\"{}\"", md5_hex(&jpg));
    let (status, _, body) = s.media_get(&url, &[("If-None-Match", &etag)]).await;
    assert_eq!(status, 304);
    assert!(body.is_empty());
}

#[tokio::test]
async fn behind_nginx_downloads_are_handed_over_with_x_accel_redirect() {
    let s = TestServer::start_with(|c| c.media_accel_prefix = "/_deckd_media/".into()).await;
    let alice = s.user("alice").await;
    let png = red1x1_png();
    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Accel Deck",
        vec![note("AccelNote1", &["<img src=\"red1x1.png\">", "x"], &[])],
    )
    .await;
    s.upload_media(
        &alice,
        &hash,
        &[("red1x1.png", "AccelNote1", png.clone())],
        &bulk,
    )
    .await;
    let m = s
        .media_manifest(&alice, &hash, &["red1x1.png"])
        .await
        .json();
    let (status, headers, body) = s
        .media_get(m["files"][0]["download_url"].as_str().unwrap(), &[])
        .await;
    assert_eq!(status, 200);
    assert!(body.is_empty(), "nginx sends the bytes");
    assert_eq!(
        headers["x-accel-redirect"],
        "/_deckd_media/9d/9d3f217f6cfaad7f9d3786af47422d59"
    );
    assert_eq!(headers["content-type"], "image/png");
    assert!(
        !headers.contains_key("cache-control"),
        "nginx's internal location sets Cache-Control; one from deckd would be passed through as a second"
    );
    let on_disk = s
        .data_dir()
        .join("media/9d/9d3f217f6cfaad7f9d3786af47422d59");
    assert_eq!(
        std::fs::read(on_disk).unwrap(),
        png,
        "the redirect names the stored file"
    );
}

#[tokio::test]
async fn svg_sanitising_removes_active_content_and_the_result_uploads() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let evil = r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)"><rect width="4" height="4" onclick="alert(4)"/></a><image href="https://tracker.example/p.png"/></svg>"#;
    let r = s
        .post_json("/media/sanitize/svg", Some(&alice), &json!({"svg_files": [{"filename": "a.svg", "content": evil}, {"filename": "b.svg", "content": "not an svg"}]}))
        .await;
    r.expect(200, "sanitize");
    let out = r.json();
    let files = out["sanitized_files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "the non-SVG is left out: {out}");
    let clean = files[0]["content"].as_str().unwrap();
    for bad in [
        "alert",
        "script",
        "onload",
        "onclick",
        "javascript",
        "tracker.example",
    ] {
        assert!(!clean.contains(bad), "{bad} survived: {clean}");
    }
    assert!(clean.contains("<rect"));
    assert_eq!(files[0]["hash"], md5_hex(clean.as_bytes()));

    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Svg Deck",
        vec![note("SvgNote001", &["<img src=\"a.svg\">", "x"], &[])],
    )
    .await;
    s.upload_media(
        &alice,
        &hash,
        &[("a.svg", "SvgNote001", clean.as_bytes().to_vec())],
        &bulk,
    )
    .await;
    let got = s.download_media(&alice, &hash, &["a.svg"]).await;
    assert_eq!(got[0].1, clean.as_bytes());
}

/// Without `public_url`, links are built from the Host the add-on used, and behind a
/// trusted TLS proxy (X-Forwarded-Proto) they are https: a redirected http PUT would
/// reach deckd as a GET and the upload would be lost.
#[tokio::test]
async fn media_links_follow_the_host_and_a_trusted_proxys_scheme() {
    let s = TestServer::start_with(|c| c.public_url = None).await;
    let alice = s.user("alice").await;
    let png = red1x1_png();
    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Link Deck",
        vec![note("LinkNote01", &["<img src=\"red1x1.png\">", "x"], &[])],
    )
    .await;
    let body = json!({"deck_hash": hash, "files": [listing("red1x1.png", "LinkNote01", &png)], "bulk_operation_id": bulk});
    let upload_url = |proto: Option<&'static str>| {
        let (http, url, alice, body) = (
            s.http.clone(),
            s.url("/media/check/bulk"),
            alice.clone(),
            body.clone(),
        );
        async move {
            let mut rb = http
                .post(url)
                .bearer_auth(alice)
                .header("Host", "decks.example:8443")
                .json(&body);
            if let Some(p) = proto {
                rb = rb.header("X-Forwarded-Proto", p);
            }
            let v: Value = rb.send().await.unwrap().json().await.unwrap();
            v["missing_files"][0]["upload_url"]
                .as_str()
                .unwrap_or_else(|| panic!("no upload_url in {v}"))
                .to_string()
        }
    };
    assert!(upload_url(None)
        .await
        .starts_with("http://decks.example:8443/v1/media/"));
    assert!(
        upload_url(Some("https"))
            .await
            .starts_with("https://decks.example:8443/v1/media/"),
        "loopback is a trusted proxy"
    );
}

/// An upload link lasts the configured lifetime and no longer: its signed expiry is in
/// seconds, however the server's clock is kept.
#[tokio::test]
async fn upload_links_expire_after_the_configured_lifetime() {
    use base64::Engine as _;
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let png = image_bytes(ImageFormat::Png, 8, 8, 3);
    let (hash, bulk) = publish_with(
        &s,
        &alice,
        "Expiry Deck",
        vec![note("ExpiryNote", &["<img src=\"e.png\">", "x"], &[])],
    )
    .await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let c = s
        .media_check(
            &alice,
            &hash,
            vec![listing("e.png", "ExpiryNote", &png)],
            &bulk,
        )
        .await
        .json();
    let after = time::OffsetDateTime::now_utc().unix_timestamp();
    let url = c["missing_files"][0]["upload_url"].as_str().unwrap();
    let token = url.split_once("token=").expect("token in the link").1;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split_once('.').expect("payload.signature").0)
        .unwrap();
    let expires: i64 = String::from_utf8(payload)
        .unwrap()
        .rsplit('|')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ttl = s.config().media_token_ttl_secs.as_secs() as i64;
    assert!(
        (before + ttl..=after + ttl).contains(&expires),
        "upload link expires at {expires}, expected {ttl} s after {before}..{after}"
    );
}
