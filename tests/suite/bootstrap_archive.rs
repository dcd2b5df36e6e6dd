//! Deck archives for new subscribers (docs/protocol.md §2.5): a first pull of a deck with
//! media is answered ordinarily until the deck's archive is built, then with a
//! cache-bootstrap entry whose manifest and zip are fetched exactly as the add-on's
//! `import_manager.py` does; links are signed, expire, serve ranges, and die with the
//! deck version they show; archives stay within their disk budget.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use deckd_testkit as common;

use common::media::*;
use common::*;
use image::ImageFormat;
use serde_json::{json, Value};

/// A deck whose notes use `images` (name, bytes), published by `token` and uploaded.
async fn deck_with_media(
    s: &TestServer,
    token: &str,
    name: &str,
    images: &[(String, Vec<u8>)],
) -> (String, String) {
    let uuid = new_uuid();
    let notes: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, (file, _))| {
            note(
                &format!("{}Note{i}", name.replace(' ', "")),
                &[&format!("card {i}"), &format!("<img src=\"{file}\">")],
                &["pics"],
            )
        })
        .collect();
    let deck = root_deck(name, &uuid, "", notes, vec![]);
    let created = s.publish_raw(token, &deck).await;
    created.expect(200, "/createDeck");
    let created = created.json();
    let hash = created["message"].as_str().unwrap().to_string();
    let bulk = created["bulk_operation_id"].as_str().unwrap().to_string();
    let files: Vec<(&str, String, Vec<u8>)> = images
        .iter()
        .enumerate()
        .map(|(i, (file, bytes))| {
            (
                file.as_str(),
                format!("{}Note{i}", name.replace(' ', "")),
                bytes.clone(),
            )
        })
        .collect();
    let listed: Vec<(&str, &str, Vec<u8>)> = files
        .iter()
        .map(|(f, g, b)| (*f, g.as_str(), b.clone()))
        .collect();
    s.upload_media(token, &hash, &listed, &bulk).await;
    (hash, uuid)
}

/// A `side`×`side` PNG of noise (about 3 bytes a pixel: it does not compress).
fn noisy_png(side: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// `n` distinct noisy PNGs named `<prefix><i>.png`.
fn images(prefix: &str, n: usize, side: u32) -> Vec<(String, Vec<u8>)> {
    let salt: u32 = prefix.bytes().map(u32::from).sum();
    (0..n)
        .map(|i| {
            (
                format!("{prefix}{i}.png"),
                noisy_png(side, salt * 1000 + i as u32 + 1),
            )
        })
        .collect()
}

/// The one entry of a first pull of `hash`.
async fn first_pull(s: &TestServer, hash: &str) -> Value {
    let answer = s.pull_since(hash, FIRST_PULL_TS).await;
    let entries = answer.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{answer}");
    entries[0].clone()
}

fn is_bootstrap(entry: &Value) -> bool {
    entry["mode"] == "cache-bootstrap"
}

/// Pulls `hash` as a new subscriber until the answer is a cache-bootstrap entry.
async fn bootstrap_entry(s: &TestServer, hash: &str) -> Value {
    let start = Instant::now();
    loop {
        let entry = first_pull(s, hash).await;
        if is_bootstrap(&entry) {
            return entry;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no archive of {hash} was built"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A GET as the add-on's `requests.get` makes it: no token, no Authorization.
async fn plain_get(
    url: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = http_client().get(url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// What `_resolve_cache_bootstrap_entries` makes of an entry: the subscription (with
/// `deck_last_modified`), the media it extracts, and the zip's raw bytes.
struct Resolved {
    subscription: Value,
    media: BTreeMap<String, Vec<u8>>,
    manifest: Value,
    zip: Vec<u8>,
}

async fn resolve_like_the_addon(entry: &Value) -> Resolved {
    let meta = &entry["manifest"];
    let (status, _, body) = plain_get(meta["manifest_presigned_url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200, "manifest: {}", String::from_utf8_lossy(&body));
    let manifest: Value = serde_json::from_slice(&body).expect("the manifest is JSON");
    let (status, headers, zip) =
        plain_get(meta["archive_presigned_url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200, "archive");
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        zip.len().to_string(),
        "the add-on's progress bar reads Content-Length"
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(zip.clone())).expect("a zip");
    let deck_path = manifest["deck_data"]["path"]
        .as_str()
        .expect("deck_data.path");
    let mut deck_bytes = Vec::new();
    archive
        .by_name(deck_path)
        .expect("the deck member")
        .read_to_end(&mut deck_bytes)
        .unwrap();
    let compression = manifest["deck_data"]["compression"]
        .as_str()
        .unwrap_or("none")
        .to_lowercase();
    if compression == "gzip" || compression == "gz" {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&deck_bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        deck_bytes = out;
    } else {
        assert!(compression == "none" || compression.is_empty());
    }
    let payload: Value = serde_json::from_slice(&deck_bytes).expect("deck data is JSON");
    let mut subscription = match payload {
        Value::Array(items) => items.into_iter().find(Value::is_object).unwrap(),
        other => other,
    };
    assert!(subscription.get("deck").is_some(), "the entry has `deck`");
    if let Some(modified) = manifest.get("source_last_update") {
        subscription["deck_last_modified"] = modified.clone();
    }
    let prefix = manifest["media"]["path_prefix"].as_str().unwrap_or("");
    let prefix = prefix.trim_start_matches('/');
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    let mut media = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().to_string();
        if f.is_dir() || !name.starts_with(&prefix) || name.len() == prefix.len() {
            continue;
        }
        assert_eq!(
            f.compression(),
            zip::CompressionMethod::Stored,
            "{name} is stored as it is"
        );
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        media.insert(name[prefix.len()..].to_string(), bytes);
    }
    Resolved {
        subscription,
        media,
        manifest,
        zip,
    }
}

/// The add-on's `datetime.fromisoformat(s.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")`.
fn addon_timestamp(rfc3339: &str) -> String {
    let t = time::OffsetDateTime::parse(
        &rfc3339.replace('Z', "+00:00"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    assert_eq!(
        t.offset(),
        time::UtcOffset::UTC,
        "the add-on keeps the offset's wall time"
    );
    t.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .unwrap()
}

fn archive_files(s: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(s.data_dir().join("media/archives"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_new_subscriber_bootstraps_from_the_archive_as_the_addon_does() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let pics = images("pic", 3, 40);
    let (hash, _) = deck_with_media(&s, &alice, "Picture Deck", &pics).await;

    let ordinary = first_pull(&s, &hash).await;
    assert!(
        !is_bootstrap(&ordinary) && ordinary.get("deck").is_some(),
        "no archive yet: the ordinary entry answers"
    );
    let entry = bootstrap_entry(&s, &hash).await;

    // The entry's shape, exactly as the add-on reads it.
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{entry}");
    assert_eq!(entry["deck_hash"], hash.as_str());
    let meta = entry["manifest"].as_object().unwrap();
    assert_eq!(meta.len(), 3, "{entry}");
    for key in ["manifest_presigned_url", "archive_presigned_url"] {
        assert!(
            meta[key].as_str().unwrap().starts_with(s.base_url()),
            "{key} points at deckd: {entry}"
        );
    }

    let got = resolve_like_the_addon(&entry).await;
    assert_eq!(got.manifest["deck_data"]["compression"], "gzip");
    assert_eq!(got.manifest["media"]["path_prefix"], "media/");
    assert_eq!(
        entry["manifest"]["manifest_last_modified"],
        got.manifest["source_last_update"]
    );
    // The archived entry is the ordinary first pull's, field for field.
    let mut archived = got.subscription.clone();
    archived
        .as_object_mut()
        .unwrap()
        .remove("deck_last_modified");
    assert_eq!(archived, ordinary);
    assert_eq!(archived["deck"], ordinary["deck"]);
    // Every referenced file, byte for byte.
    let expected: BTreeMap<String, Vec<u8>> = pics.iter().cloned().collect();
    assert_eq!(got.media, expected);

    // The subscription's new timestamp is the deck's clock, to the second (rounded down,
    // so nothing changed after it is missed), and pulling from it misses nothing.
    let ts = addon_timestamp(got.subscription["deck_last_modified"].as_str().unwrap());
    let clock: f64 = s
        .get(&format!("/GetDeckTimestamp/{hash}"), None)
        .await
        .text
        .parse()
        .unwrap();
    let secs = time::OffsetDateTime::parse(
        &format!("{}Z", ts.replace(' ', "T")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    assert_eq!(secs, clock.floor() as i64);
    for e in s.pull_since(&hash, &ts).await.as_array().unwrap() {
        assert!(!is_bootstrap(e), "a later pull is never a bootstrap: {e}");
    }

    // Range requests (a resumed download) get the right bytes.
    let url = entry["manifest"]["archive_presigned_url"].as_str().unwrap();
    let (status, headers, part) = plain_get(url, &[("Range", "bytes=10-99")]).await;
    assert_eq!(status, 206);
    assert_eq!(part, got.zip[10..100]);
    assert!(headers["content-range"]
        .to_str()
        .unwrap()
        .starts_with("bytes 10-99/"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // The add-on's media session would send its token; it is ignored.
    let (status, _, whole) = s.media_get(url, &[]).await;
    assert_eq!((status, whole.len()), (200, got.zip.len()));

    // Archives are not user media: not counted, and GC leaves them (and the files) be.
    assert_eq!(stored_file_count(&s), pics.len());
    s.cli(&["media", "gc", "--grace-hours", "0"])
        .await
        .assert_ok();
    assert_eq!(stored_file_count(&s), pics.len());
    let (status, _, again) = plain_get(url, &[]).await;
    assert_eq!((status, again), (200, got.zip.clone()));
}

#[tokio::test]
async fn expired_tampered_and_foreign_links_are_refused_without_401() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let (hash, _) = deck_with_media(&s, &alice, "Link Deck", &images("l", 2, 12)).await;
    first_pull(&s, &hash).await;
    let entry = bootstrap_entry(&s, &hash).await;
    let manifest_url = entry["manifest"]["manifest_presigned_url"]
        .as_str()
        .unwrap();
    let archive_url = entry["manifest"]["archive_presigned_url"].as_str().unwrap();
    let (path, token) = archive_url.split_once("?token=").unwrap();
    let tag = path.rsplit('/').nth(1).unwrap();

    let mut tampered = token.to_string();
    let flip = if tampered.as_bytes()[2] == b'A' {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(2..3, flip);
    // A genuine signature with the server's own key, but expired a minute ago.
    let signer =
        deckd::media::token::Signer::load_or_create(&s.data_dir().join("media.key")).unwrap();
    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    let expired = signer.sign_payload(&format!("a|{hash}|{tag}|{past}"));
    let manifest_token = manifest_url.split_once("?token=").unwrap().1;
    let cases = [
        (format!("{path}?token={tampered}"), 403, "tampered"),
        (format!("{path}?token={expired}"), 403, "expired"),
        (
            format!("{path}?token={manifest_token}"),
            403,
            "the manifest's token",
        ),
        (path.to_string(), 403, "no token"),
        (
            format!("{}?token={token}", path.replace("archive.zip", "other.zip")),
            404,
            "unknown file",
        ),
        (
            format!(
                "{}?token={token}",
                path.replace(&hash, "ack-ack-ack-ack-ack-ack")
            ),
            403,
            "another deck",
        ),
    ];
    for (url, want, what) in cases {
        let (status, _, body) = plain_get(&url, &[]).await;
        assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(&body));
    }
    let (status, _, _) = plain_get(archive_url, &[]).await;
    assert_eq!(status, 200, "the genuine link still works");
}

#[tokio::test]
async fn a_changed_deck_never_answers_from_its_old_archive() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let pics = images("c", 2, 16);
    let (hash, uuid) = deck_with_media(&s, &alice, "Change Deck", &pics).await;
    first_pull(&s, &hash).await;
    let old = bootstrap_entry(&s, &hash).await;
    let old_files = archive_files(&s);
    assert_eq!(old_files.len(), 1);

    // The maintainer edits a note: the deck's clock moves.
    s.suggest_forced(
        &alice,
        &hash,
        "Change Deck",
        &uuid,
        vec![note(
            "ChangeDeckNote0",
            &["edited card", "<img src=\"c0.png\">"],
            &["pics"],
        )],
    )
    .await
    .expect(200, "direct edit");
    for key in ["manifest_presigned_url", "archive_presigned_url"] {
        let (status, _, _) = plain_get(old["manifest"][key].as_str().unwrap(), &[]).await;
        assert_eq!(status, 404, "{key} of the old version");
    }
    let fresh = first_pull(&s, &hash).await;
    assert!(!is_bootstrap(&fresh), "no stale bootstrap after a change");
    assert_eq!(
        find_note(&fresh["deck"], "ChangeDeckNote0").unwrap()["fields"][0],
        "edited card"
    );

    let new = bootstrap_entry(&s, &hash).await;
    let got = resolve_like_the_addon(&new).await;
    assert_eq!(
        find_note(&got.subscription["deck"], "ChangeDeckNote0").unwrap()["fields"][0],
        "edited card"
    );
    assert_eq!(got.media, pics.iter().cloned().collect());
    let files = archive_files(&s);
    assert_eq!(
        files.len(),
        1,
        "the old version's archive is gone: {files:?}"
    );
    assert_ne!(files, old_files);

    // Media confirmed later does not move the deck's clock, but it is a new version too.
    let extra = image_bytes(ImageFormat::Png, 9, 9, 77);
    s.upload_media(
        &alice,
        &hash,
        &[("late.png", "ChangeDeckNote1", extra.clone())],
        "",
    )
    .await;
    let (status, _, _) = plain_get(
        new["manifest"]["archive_presigned_url"].as_str().unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 404, "an archive without the new file is not served");
    assert!(!is_bootstrap(&first_pull(&s, &hash).await));
    let latest = resolve_like_the_addon(&bootstrap_entry(&s, &hash).await).await;
    assert_eq!(latest.media.get("late.png"), Some(&extra));
}

#[tokio::test]
async fn decks_without_media_and_later_pulls_never_bootstrap() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let plain = s.publish_demo(&alice).await;
    let (pictured, _) = deck_with_media(&s, &alice, "Pictured", &images("p", 1, 8)).await;
    // The media-less deck is asked for first; builds run in order, one at a time.
    assert!(!is_bootstrap(&first_pull(&s, &plain).await));
    first_pull(&s, &pictured).await;
    bootstrap_entry(&s, &pictured).await;
    assert!(!is_bootstrap(&first_pull(&s, &plain).await));
    assert_eq!(
        archive_files(&s).len(),
        1,
        "only the deck with media has an archive"
    );

    // Only the add-on's first timestamp bootstraps; any other full pull is ordinary.
    let reset = s.pull_since(&pictured, "2023-01-01 00:00:00").await;
    assert!(reset[0].get("deck").is_some() && !is_bootstrap(&reset[0]));
    // Pulled together with another deck, the bootstrap entry sits beside an ordinary one.
    let both = s
        .pull(&json!({ plain.clone(): sub_value(FIRST_PULL_TS), pictured.clone(): sub_value(FIRST_PULL_TS) }))
        .await;
    let both = both.as_array().unwrap();
    assert_eq!(both.len(), 2);
    assert!(is_bootstrap(
        entry_for(&Value::Array(both.clone()), &pictured).unwrap()
    ));
    assert!(entry_for(&Value::Array(both.clone()), &plain).unwrap()["deck"].is_object());
}

#[tokio::test]
async fn archives_stay_within_their_disk_budget() {
    // Room for one archive of either small deck, not for two, and never for the big one.
    let s = TestServer::start_with(|c| c.deck_archive_bytes = 60_000).await;
    let alice = s.user("alice").await;
    let big = images("big", 2, 120);
    assert!(big.iter().map(|(_, b)| b.len()).sum::<usize>() > 60_000);
    let (too_big, _) = deck_with_media(&s, &alice, "Too Big", &big).await;
    let (first, _) = deck_with_media(&s, &alice, "First", &images("f", 3, 60)).await;
    let (second, _) = deck_with_media(&s, &alice, "Second", &images("s", 3, 60)).await;

    first_pull(&s, &too_big).await;
    first_pull(&s, &first).await;
    let first_entry = bootstrap_entry(&s, &first).await;
    assert!(
        !is_bootstrap(&first_pull(&s, &too_big).await),
        "media beyond the budget are never archived"
    );
    let first_files = archive_files(&s);
    assert_eq!(first_files.len(), 1);

    first_pull(&s, &second).await;
    bootstrap_entry(&s, &second).await;
    let files = archive_files(&s);
    assert_eq!(files.len(), 1, "the older archive made room: {files:?}");
    assert_ne!(files, first_files);
    let total: u64 = files
        .iter()
        .map(|f| {
            std::fs::metadata(s.data_dir().join("media/archives").join(f))
                .unwrap()
                .len()
        })
        .sum();
    assert!(total <= 60_000, "{total} bytes on disk");
    let (status, _, _) = plain_get(
        first_entry["manifest"]["archive_presigned_url"]
            .as_str()
            .unwrap(),
        &[],
    )
    .await;
    assert_eq!(status, 404, "an evicted archive's link is refused");
    assert!(!is_bootstrap(&first_pull(&s, &first).await));
}

#[tokio::test]
async fn behind_nginx_the_archive_is_handed_over_with_x_accel_redirect() {
    let s = TestServer::start_with(|c| c.media_accel_prefix = "/_deckd_media/".into()).await;
    let alice = s.user("alice").await;
    let (hash, _) = deck_with_media(&s, &alice, "Accel Deck", &images("x", 1, 8)).await;
    first_pull(&s, &hash).await;
    let entry = bootstrap_entry(&s, &hash).await;
    let url = entry["manifest"]["archive_presigned_url"].as_str().unwrap();
    let (status, headers, body) = plain_get(url, &[]).await;
    assert_eq!(status, 200);
    let files = archive_files(&s);
    assert_eq!(
        headers["x-accel-redirect"].to_str().unwrap(),
        format!("/_deckd_media/archives/{}", files[0]),
        "nginx sends the file from the media location"
    );
    assert_eq!(headers["content-type"], "application/zip");
    assert!(body.is_empty(), "deckd sends no bytes itself");
}
