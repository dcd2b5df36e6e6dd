//! Media helpers: real files in the formats the add-on uploads, and the
//! check → PUT → confirm / manifest → GET flow over HTTP.

use std::io::Cursor;

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::server::{Resp, TestServer};

/// The 1×1 red PNG of docs/protocol.md §9.1.
const RED1X1_PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC";

/// The bytes of the §9.1 1×1 red PNG.
pub fn red1x1_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(RED1X1_PNG_B64)
        .unwrap()
}

/// A real image of `format`, `w`×`h`, with a colour derived from `seed` (so contents differ).
pub fn image_bytes(format: image::ImageFormat, w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([seed, (x % 256) as u8, (y % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// An MP3: an ID3v2 header followed by MPEG-1 Layer III frame headers.
pub fn mp3_bytes(len: usize) -> Vec<u8> {
    let mut v = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    while v.len() < len {
        v.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        v.extend(std::iter::repeat_n(0u8, 413));
    }
    v.truncate(len);
    v
}

/// An Ogg stream: pages start with `OggS`.
pub fn ogg_bytes(seed: u8) -> Vec<u8> {
    let mut v = b"OggS\x00\x02".to_vec();
    v.extend((0..2000u32).map(|i| (i as u8) ^ seed));
    v
}

/// Lower-case hex MD5 of `b`: the hash media are listed and stored by.
pub fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

/// Base64 MD5 of `b`, for a `Content-MD5` header.
pub fn content_md5(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(b))
}

/// One file as `/media/check/bulk` lists it.
pub fn listing(name: &str, guid: &str, bytes: &[u8]) -> Value {
    json!({"hash": md5_hex(bytes), "filename": name, "note_guid": guid, "file_size": bytes.len()})
}

/// Number of media files stored on disk (excluding temporary uploads).
pub fn stored_file_count(s: &TestServer) -> usize {
    let root = s.data_dir().join("media");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return 0;
    };
    dirs.flatten()
        .filter(|d| d.file_name().len() == 2)
        .map(|d| std::fs::read_dir(d.path()).map(|e| e.count()).unwrap_or(0))
        .sum()
}

/// Permission bits of every stored media file, beside those of a file created plainly in
/// the same directory (what the umask allows): a proxy serving the files needs them equal.
pub fn stored_file_modes(s: &TestServer) -> (Vec<u32>, u32) {
    use std::os::unix::fs::PermissionsExt;
    let root = s.data_dir().join("media");
    let mut modes = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if dir.file_name().len() == 2 {
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                modes.push(f.metadata().unwrap().permissions().mode() & 0o777);
            }
        }
    }
    let probe = root.join("mode-probe");
    std::fs::File::create(&probe).unwrap();
    let plain = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    std::fs::remove_file(&probe).unwrap();
    (modes, plain)
}

/// Number of leftover temporary uploads.
pub fn temp_file_count(s: &TestServer) -> usize {
    std::fs::read_dir(s.data_dir().join("media/tmp"))
        .map(|e| e.count())
        .unwrap_or(0)
}

/// The add-on's media requests against a [`TestServer`].
impl TestServer {
    /// POST /media/check/bulk listing `files` (see [`listing`]) for `deck`.
    pub async fn media_check(
        &self,
        token: &str,
        deck: &str,
        files: Vec<Value>,
        bulk: &str,
    ) -> Resp {
        self.post_json(
            "/media/check/bulk",
            Some(token),
            &json!({"deck_hash": deck, "files": files, "bulk_operation_id": bulk}),
        )
        .await
    }

    /// PUT to an absolute upload URL, with the add-on's headers (a Bearer it ignores included).
    pub async fn media_put(&self, url: &str, bytes: Vec<u8>, md5_header: Option<String>) -> Resp {
        let mut rb = self
            .http
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", "Bearer not-a-real-token");
        if let Some(m) = md5_header {
            rb = rb.header("Content-MD5", m);
        }
        let r = rb.body(bytes).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Resp {
            status,
            headers,
            text: r.text().await.unwrap(),
        }
    }

    /// GET an absolute URL; answers status, headers and raw bytes.
    pub async fn media_get(
        &self,
        url: &str,
        extra: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut rb = self
            .http
            .get(url)
            .header("Authorization", "Bearer not-a-real-token");
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    /// POST /media/confirm/bulk for the uploaded `hashes` of `batch`.
    pub async fn media_confirm(&self, token: &str, batch: &str, hashes: &[String]) -> Resp {
        self.post_json(
            "/media/confirm/bulk",
            Some(token),
            &json!({"batch_id": batch, "confirmed_files": hashes, "bulk_operation_id": ""}),
        )
        .await
    }

    /// The add-on's whole upload: check, PUT every missing file, confirm. Answers the check result.
    pub async fn upload_media(
        &self,
        token: &str,
        deck: &str,
        files: &[(&str, &str, Vec<u8>)],
        bulk: &str,
    ) -> Value {
        let listed = files.iter().map(|(n, g, b)| listing(n, g, b)).collect();
        let check = self.media_check(token, deck, listed, bulk).await;
        check.expect(200, "/media/check/bulk");
        let check = check.json();
        let mut done = Vec::new();
        for m in check["missing_files"].as_array().unwrap() {
            let hash = m["hash"].as_str().unwrap();
            let (_, _, bytes) = files.iter().find(|(_, _, b)| md5_hex(b) == hash).unwrap();
            self.media_put(
                m["upload_url"].as_str().unwrap(),
                bytes.clone(),
                Some(content_md5(bytes)),
            )
            .await
            .expect(200, "PUT upload_url");
            done.push(hash.to_string());
        }
        if let Some(batch) = check["batch_id"].as_str() {
            self.media_confirm(token, batch, &done)
                .await
                .expect(200, "/media/confirm/bulk");
        }
        check
    }

    /// POST /media/manifest asking for `names` of `deck`.
    pub async fn media_manifest(&self, token: &str, deck: &str, names: &[&str]) -> Resp {
        self.post_json(
            "/media/manifest",
            Some(token),
            &json!({"deck_hash": deck, "filenames": names}),
        )
        .await
    }

    /// Manifest, then GET every URL; answers `(filename, bytes)` pairs.
    pub async fn download_media(
        &self,
        token: &str,
        deck: &str,
        names: &[&str],
    ) -> Vec<(String, Vec<u8>)> {
        let m = self.media_manifest(token, deck, names).await;
        m.expect(200, "/media/manifest");
        let m = m.json();
        let mut out = Vec::new();
        for f in m["files"].as_array().unwrap() {
            let (status, _, bytes) = self
                .media_get(f["download_url"].as_str().unwrap(), &[])
                .await;
            assert_eq!(status, 200, "GET download_url");
            out.push((f["filename"].as_str().unwrap().to_string(), bytes));
        }
        out
    }
}
