//! Every bad upload is refused with a clear 4xx and leaves nothing behind: wrong MD5,
//! oversize, expired or foreign tokens, unsafe names, truncated and bomb images,
//! script-laden SVGs, wrong types, disconnects mid-upload, and quotas.

use deckd_testkit as common;

use std::io::{Read, Write};
use std::time::Duration;

use common::media::*;
use common::*;
use deckd::media::token::{Direction, Grant, Signer};
use image::ImageFormat;
use serde_json::{json, Value};

struct Fixture {
    s: TestServer,
    alice: String,
    hash: String,
    bulk: String,
}

async fn fixture_with(tweak: impl Fn(&mut deckd::Config)) -> Fixture {
    let s = TestServer::start_with(tweak).await;
    let alice = s.user("alice").await;
    let deck = root_deck(
        "Refusals",
        &new_uuid(),
        "",
        vec![note("RefuseNote", &["<img src=\"x.png\">", "y"], &[])],
        vec![],
    );
    let r = s.publish_raw(&alice, &deck).await.json();
    Fixture {
        hash: r["message"].as_str().unwrap().into(),
        bulk: r["bulk_operation_id"].as_str().unwrap().into(),
        s,
        alice,
    }
}

async fn fixture() -> Fixture {
    fixture_with(|_| {}).await
}

impl Fixture {
    /// An upload URL for `bytes` under `name`.
    async fn upload_url(&self, name: &str, bytes: &[u8]) -> String {
        let c = self
            .s
            .media_check(
                &self.alice,
                &self.hash,
                vec![listing(name, "RefuseNote", bytes)],
                &self.bulk,
            )
            .await;
        c.expect(200, "check");
        let c = c.json();
        c["missing_files"][0]["upload_url"]
            .as_str()
            .unwrap_or_else(|| panic!("no upload URL: {c}"))
            .to_string()
    }

    /// PUTs `bytes` as `name` and asserts the refusal `status` left nothing stored.
    async fn refused(&self, name: &str, bytes: Vec<u8>, status: u16) -> String {
        let url = self.upload_url(name, &bytes).await;
        let r = self.s.media_put(&url, bytes, None).await;
        r.expect(status, name);
        self.assert_nothing_stored();
        r.text
    }

    fn assert_nothing_stored(&self) {
        assert_eq!(stored_file_count(&self.s), 0, "nothing may be stored");
        assert_eq!(temp_file_count(&self.s), 0, "no temporary file may remain");
    }

    fn signer(&self) -> Signer {
        Signer::load_or_create(&self.s.data_dir().join("media.key")).unwrap()
    }
}

#[tokio::test]
async fn wrong_md5_is_refused() {
    let f = fixture().await;
    let png = red1x1_png();
    let url = f.upload_url("x.png", &png).await;
    let mut other = png.clone();
    other[40] ^= 1;
    let r = f.s.media_put(&url, other.clone(), None).await;
    r.expect(400, "bytes with another MD5");
    assert!(r.text.contains("MD5"), "{}", r.text);
    let r =
        f.s.media_put(&url, png.clone(), Some(content_md5(&other)))
            .await;
    r.expect(400, "Content-MD5 header that does not match");
    f.assert_nothing_stored();
    f.s.media_put(&url, png.clone(), Some(content_md5(&png)))
        .await
        .expect(200, "the right bytes still upload");
}

#[tokio::test]
async fn oversize_uploads_are_refused() {
    let f = fixture().await;
    let png = red1x1_png();
    let url = f.upload_url("x.png", &png).await;
    let mut bigger = png.clone();
    bigger.extend([0u8; 100]);
    f.s.media_put(&url, bigger, None)
        .await
        .expect(413, "more bytes than announced");
    f.assert_nothing_stored();

    let too_big = json!({"hash": "0".repeat(32), "filename": "big.png", "note_guid": "RefuseNote", "file_size": 10 * 1024 * 1024 + 1});
    let c =
        f.s.media_check(&f.alice, &f.hash, vec![too_big.clone()], &f.bulk)
            .await
            .json();
    assert_eq!(
        c["failed_files"],
        json!([too_big]),
        "over 10 MB fails at check"
    );
    assert_eq!(c["batch_id"], Value::Null);
}

#[tokio::test]
async fn expired_foreign_and_missing_tokens_are_refused() {
    let f = fixture().await;
    let png = red1x1_png();
    let hash = md5_hex(&png);
    let grant = |direction, hash: &str, expires| Grant {
        direction,
        hash: hash.into(),
        size: 69,
        user: deckd::store::UserId(1),
        kind_tag: "png".into(),
        expires,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base = format!("{}/v1/media/{hash}", f.s.base_url());

    let expired = f.signer().sign(&grant(Direction::Upload, &hash, now - 1));
    let r =
        f.s.media_put(&format!("{base}?token={expired}"), png.clone(), None)
            .await;
    r.expect(401, "expired token");
    assert!(r.text.contains("expired"), "{}", r.text);

    let other_hash = "0123456789abcdef0123456789abcdef";
    let foreign = f
        .signer()
        .sign(&grant(Direction::Upload, other_hash, now + 600));
    f.s.media_put(&format!("{base}?token={foreign}"), png.clone(), None)
        .await
        .expect(401, "token for another hash");
    let download_token = f
        .signer()
        .sign(&grant(Direction::Download, &hash, now + 600));
    f.s.media_put(&format!("{base}?token={download_token}"), png.clone(), None)
        .await
        .expect(401, "download token used to upload");

    let forged = Signer::load_or_create(&f.s.data_dir().join("not-the-key"))
        .unwrap()
        .sign(&grant(Direction::Upload, &hash, now + 600));
    f.s.media_put(&format!("{base}?token={forged}"), png.clone(), None)
        .await
        .expect(401, "token signed with another key");
    f.s.media_put(&base, png.clone(), None)
        .await
        .expect(401, "no token");
    f.assert_nothing_stored();

    let (status, _, _) = f.s.media_get(&format!("{base}?token={expired}"), &[]).await;
    assert_eq!(status, 401, "expired token on a download");
}

#[tokio::test]
async fn unsafe_names_and_bad_listings_fail_at_check() {
    let f = fixture().await;
    let png = red1x1_png();
    let bad_names = [
        "../../etc/passwd.png",
        "a/b.png",
        "..\\x.png",
        ".hidden.png",
        "run.exe",
        "noext",
        "x.png\u{0}.txt",
    ];
    let mut files: Vec<Value> = bad_names
        .iter()
        .map(|n| listing(n, "RefuseNote", &png))
        .collect();
    files.push(json!({"hash": "NOT-A-HASH", "filename": "ok.png", "note_guid": "RefuseNote", "file_size": 69}));
    files.push(listing("ok.png", "NoSuchNote", &png));
    files.push(json!({"hash": md5_hex(&png), "filename": "zero.png", "note_guid": "RefuseNote", "file_size": 0}));
    let c =
        f.s.media_check(&f.alice, &f.hash, files.clone(), &f.bulk)
            .await;
    c.expect(200, "check with bad entries");
    let c = c.json();
    assert_eq!(
        c["failed_files"].as_array().unwrap().len(),
        files.len(),
        "{c}"
    );
    assert_eq!(c["missing_files"], json!([]));

    let hundred_one: Vec<Value> = (0..101)
        .map(|i| listing(&format!("f{i}.png"), "RefuseNote", &[i as u8]))
        .collect();
    f.s.media_check(&f.alice, &f.hash, hundred_one, &f.bulk)
        .await
        .expect(400, "more than 100 files");
    f.s.media_check(&f.alice, &f.hash, vec![], &f.bulk)
        .await
        .expect(400, "no files");
    f.s.media_check(
        &f.alice,
        "no-such-deck-here",
        vec![listing("x.png", "RefuseNote", &png)],
        "",
    )
    .await
    .expect(404, "unknown deck");

    let (status, _, _) =
        f.s.media_get(
            &format!("{}/v1/media/..%2F..%2Fetc%2Fpasswd?token=x", f.s.base_url()),
            &[],
        )
        .await;
    assert_eq!(status, 400, "a traversal in the URL hash");
    let names: Vec<String> = (0..501).map(|i| format!("n{i}.png")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    f.s.media_manifest(&f.alice, &f.hash, &names)
        .await
        .expect(429, "more than 500 names");
    f.s.media_manifest(&f.alice, &f.hash, &[])
        .await
        .expect(400, "no names");
    f.assert_nothing_stored();
}

#[tokio::test]
async fn truncated_and_corrupt_images_are_refused() {
    let f = fixture().await;
    let png = image_bytes(ImageFormat::Png, 200, 200, 1);
    let text = f.refused("x.png", png[..png.len() / 2].to_vec(), 422).await;
    assert!(text.contains("corrupt or truncated"), "{text}");
    let jpg = image_bytes(ImageFormat::Jpeg, 64, 64, 2);
    f.refused("x.png", jpg.clone(), 422).await;
    let text = f
        .refused("x.jpg", b"GIF89a definitely not a jpeg".to_vec(), 422)
        .await;
    assert!(text.contains("not a jpg image"), "{text}");
    f.refused("x.webp", vec![0u8; 500], 422).await;
}

/// A 138-byte little-endian TIFF whose header claims one LZW-compressed 8×8 grey strip
/// that holds garbage instead of LZW codes.
fn lzw_tiff_garbage() -> Vec<u8> {
    let entries: [(u16, u16, u32); 9] = [
        (256, 3, 8),   // ImageWidth
        (257, 3, 8),   // ImageLength
        (258, 3, 8),   // BitsPerSample
        (259, 3, 5),   // Compression = LZW
        (262, 3, 1),   // PhotometricInterpretation = BlackIsZero
        (273, 4, 122), // StripOffsets
        (277, 3, 1),   // SamplesPerPixel
        (278, 3, 8),   // RowsPerStrip
        (279, 4, 16),  // StripByteCounts
    ];
    let mut t = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    t.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(1u32.to_le_bytes());
        t.extend(value.to_le_bytes());
    }
    t.extend(0u32.to_le_bytes());
    t.extend([
        0xFFu8, 0xFE, 0x00, 0x13, 0x37, 0xFF, 0xFF, 0xFF, 0x80, 0x01, 0xFF, 0x7F, 0x55, 0xAA, 0xFF,
        0xFF,
    ]);
    assert_eq!(t.len(), 138);
    t
}

/// `bytes` with `len` bytes from `at` (a fraction of the length) overwritten by a pattern
/// that no decoder reads as valid structure.
fn scrambled(bytes: &[u8], at: f64, len: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let start = ((bytes.len() as f64) * at) as usize;
    for (i, b) in out.iter_mut().skip(start).take(len).enumerate() {
        *b = [0xFF, 0x00, 0xFE, 0x13][i % 4];
    }
    out
}

/// Real images of every accepted type, truncated and corrupted, are refused with 422 and a
/// clear text; none makes the decoder's error surface as a 500.
#[tokio::test]
async fn corrupt_images_of_every_type_are_refused_with_422() {
    let f = fixture().await;
    let text = f.refused("x.tiff", lzw_tiff_garbage(), 422).await;
    assert!(text.contains("corrupt or truncated"), "LZW TIFF: {text}");
    for (format, name) in [
        (ImageFormat::Png, "x.png"),
        (ImageFormat::Jpeg, "x.jpg"),
        (ImageFormat::Gif, "x.gif"),
        (ImageFormat::WebP, "x.webp"),
        (ImageFormat::Bmp, "x.bmp"),
        (ImageFormat::Tiff, "x.tif"),
    ] {
        let real = image_bytes(format, 48, 40, 7);
        for cut in [real.len() / 3, real.len() / 2, real.len() - 7] {
            let text = f.refused(name, real[..cut].to_vec(), 422).await;
            assert!(
                text.contains("corrupt or truncated"),
                "{name} cut to {cut} of {} bytes: {text}",
                real.len()
            );
        }
        let header_only = &real[..real.len().min(40)];
        f.refused(name, header_only.to_vec(), 422).await;
        if format != ImageFormat::Bmp && format != ImageFormat::Tiff {
            // Uncompressed pixels (BMP, plain TIFF) stay an image whatever their values.
            let text = f.refused(name, scrambled(&real, 0.5, 24), 422).await;
            assert!(
                text.contains("corrupt or truncated"),
                "{name} scrambled: {text}"
            );
        }
    }
    for svg in [
        &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width="[..],
        b"\x89PNG\r\n\x1a\n garbage",
        b"\xff\xfe<\x00s\x00v\x00g\x00",
    ] {
        let text = f.refused("x.svg", svg.to_vec(), 422).await;
        assert!(text.contains("SVG"), "{svg:?}: {text}");
    }
}

/// A real 8×8 PNG whose header claims 12000×12000 pixels: decoding would need 430 MB.
fn png_bomb() -> Vec<u8> {
    let mut png = image_bytes(ImageFormat::Png, 8, 8, 3);
    png[16..20].copy_from_slice(&12_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&12_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn image_bombs_are_refused_without_decoding() {
    let f = fixture().await;
    let text = f.refused("x.png", png_bomb(), 422).await;
    assert!(text.contains("too large"), "{text}");
}

#[tokio::test]
async fn audio_must_be_what_its_name_says() {
    let f = fixture().await;
    f.refused("x.mp3", b"RIFF....WAVEfmt ".to_vec(), 422).await;
    f.refused("x.ogg", mp3_bytes(3000), 422).await;
    f.refused("x.oga", red1x1_png(), 422).await;
}

#[tokio::test]
async fn unsanitised_svg_uploads_are_refused() {
    let f = fixture().await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="1" height="1"/></svg>"#;
    let text = f.refused("x.svg", svg.to_vec(), 422).await;
    assert!(text.contains("sanitise"), "{text}");
    f.refused(
        "x.svg",
        b"<html><script>alert(1)</script></html>".to_vec(),
        422,
    )
    .await;
}

#[tokio::test]
async fn a_client_disconnecting_mid_upload_leaves_nothing() {
    let f = fixture().await;
    let png = image_bytes(ImageFormat::Png, 300, 300, 4);
    let url = f.upload_url("x.png", &png).await;
    let path_and_query = url.strip_prefix(f.s.base_url()).unwrap().to_string();
    let addr = f.s.addr();
    let half = png[..png.len() / 2].to_vec();
    let total = png.len();
    tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        write!(
            tcp,
            "PUT {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {total}\r\n\r\n"
        )
        .unwrap();
        tcp.write_all(&half).unwrap();
        tcp.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    })
    .await
    .unwrap();
    // The server notices the closed connection and drops the upload; wait until it has.
    for _ in 0..200 {
        if temp_file_count(&f.s) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f.assert_nothing_stored();
    // A keep-alive connection that sends garbage after the headers does not wedge the server.
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn quotas_answer_429_with_retry_after() {
    let f = fixture_with(|c| {
        c.media_uploads_per_day = 1;
        c.media_downloads_per_day = 1;
    })
    .await;
    let png = red1x1_png();
    f.s.upload_media(
        &f.alice,
        &f.hash,
        &[("x.png", "RefuseNote", png.clone())],
        &f.bulk,
    )
    .await;
    let other = image_bytes(ImageFormat::Png, 4, 4, 5);
    let r =
        f.s.media_check(
            &f.alice,
            &f.hash,
            vec![listing("y.png", "RefuseNote", &other)],
            "",
        )
        .await;
    r.expect(429, "second upload of the day");
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok()),
        "{:?}",
        r.headers
    );
    assert!(r.text.contains("upload limit"), "{}", r.text);

    let got = f.s.download_media(&f.alice, &f.hash, &["x.png"]).await;
    assert_eq!(got[0].1, png);
    let r = f.s.media_manifest(&f.alice, &f.hash, &["x.png"]).await;
    r.expect(429, "download limit reached");
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn stored_bytes_quota_is_enforced() {
    let f = fixture_with(|c| c.media_quota_bytes = 100).await;
    let big = image_bytes(ImageFormat::Png, 64, 64, 6);
    let r =
        f.s.media_check(
            &f.alice,
            &f.hash,
            vec![listing("x.png", "RefuseNote", &big)],
            &f.bulk,
        )
        .await;
    r.expect(429, "over the stored-bytes quota");
    f.assert_nothing_stored();
}
