//! Bootstrap benchmark: a new subscriber fetches a 5,000-note deck whose notes use 2,000
//! images of about 100 KB, once the ordinary way (the pull, then `/media/manifest` in
//! batches of 500 names and one GET per file, ten at a time, as the add-on's
//! media_manager.py does) and once through the deck archive (the pull's cache-bootstrap
//! entry, the manifest and one zip, as import_manager.py does); then deckd's RSS while
//! eight subscribers stream the archive at once. Run with
//! `cargo bench --profile ci --bench bootstrap`; it rewrites benches/results/bootstrap.md.

#[path = "harness.rs"]
mod harness;

#[path = "deckgen.rs"]
mod deckgen;

use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use harness::{add_user, gzb64, gzb64_decode, login, machine, profile_flag, reply, Server};
use md5::{Digest, Md5};
use serde_json::{json, Value};

const NOTES: u64 = 5_000;
const IMAGES: u64 = 2_000;
/// Side of a noise PNG of about 100 KB (3 bytes a pixel, incompressible).
const SIDE: u32 = 182;
const FIRST_PULL_TS: &str = "2022-12-31 23:59:59";
const DECK_UUID: &str = "7a2b3c4d-3b4a-11ef-9a7c-0242ac120002";
/// The add-on's manifest batch (media_manager.py: `manifest_batch_size = 500`).
const MANIFEST_BATCH: usize = 500;
/// The add-on's download group (`download_batch_size = 10`), 0.25 s apart.
const DOWNLOAD_GROUP: usize = 10;
const GROUP_PAUSE: Duration = Duration::from_millis(250);
const STREAMS: usize = 8;

fn image_name(n: u64) -> String {
    format!("img{n:05}.png")
}

/// Image `n`: a PNG of noise that passes deckd's decode check.
fn png(n: u64) -> Vec<u8> {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let img = image::RgbImage::from_fn(SIDE, SIDE, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        image::Rgb([b[0], b[1], b[2]])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

/// The generated deck with notes `0..IMAGES` showing one image each in their Extra field.
fn deck() -> Value {
    let mut deck = deckgen::deck("Imaging Atlas", DECK_UUID, "IMG", NOTES, 10);
    fn attach(node: &mut Value) {
        if let Some(notes) = node["notes"].as_array_mut() {
            for n in notes {
                let guid = n["guid"].as_str().unwrap();
                let number: u64 = guid[guid.len() - 8..].parse().unwrap();
                if number < IMAGES {
                    n["fields"][2] = json!(format!("<img src=\"{}\">", image_name(number)));
                }
            }
        }
        if let Some(children) = node["children"].as_array_mut() {
            children.iter_mut().for_each(attach);
        }
    }
    attach(&mut deck);
    deck
}

/// Publishes the deck and uploads every image as the add-on does; answers the hash.
async fn publish(http: &reqwest::Client, base: &str, token: &str, images: &[Vec<u8>]) -> String {
    let body = gzb64(&json!({"deck": deckgen::to_addon_json(&deck())}));
    let created = harness::create_deck(http, base, token, body).await;
    let hash = created["message"].as_str().unwrap().to_string();
    let bulk = created["bulk_operation_id"].as_str().unwrap().to_string();
    for (chunk_no, chunk) in images.chunks(100).enumerate() {
        let listed: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let n = (chunk_no * 100 + i) as u64;
                json!({"hash": md5_hex(b), "filename": image_name(n),
                       "note_guid": deckgen::guid("IMG", n), "file_size": b.len()})
            })
            .collect();
        let check = reply(
            http.post(format!("{base}/media/check/bulk"))
                .bearer_auth(token)
                .json(&json!({"deck_hash": hash, "files": listed, "bulk_operation_id": bulk})),
        )
        .await;
        let missing = check["missing_files"].as_array().unwrap();
        assert_eq!(missing.len(), chunk.len(), "{check}");
        let puts = missing.iter().map(|m| {
            let bytes = chunk
                .iter()
                .find(|b| md5_hex(b) == m["hash"].as_str().unwrap())
                .unwrap()
                .clone();
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&bytes));
            http.put(m["upload_url"].as_str().unwrap())
                .header("content-md5", md5)
                .header("content-type", "image/png")
                .body(bytes)
                .send()
        });
        for r in futures_util::future::join_all(puts).await {
            assert!(r.unwrap().status().is_success());
        }
        let hashes: Vec<String> = chunk.iter().map(|b| md5_hex(b)).collect();
        let r = http
            .post(format!("{base}/media/confirm/bulk"))
            .bearer_auth(token)
            .json(&json!({"batch_id": check["batch_id"], "confirmed_files": hashes, "bulk_operation_id": bulk}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    hash
}

/// The first pull a new subscriber sends: answers the decoded entries and the body's bytes.
async fn first_pull(http: &reqwest::Client, base: &str, hash: &str) -> (Vec<Value>, u64) {
    let text = http
        .post(format!("{base}/pullChanges"))
        .json(
            &json!({ hash: {"timestamp": FIRST_PULL_TS, "deckId": 0, "optional_tags": {},
                              "personal_tags": ["leech", "marked", "missing-media"]} }),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bytes = text.len() as u64;
    (gzb64_decode(&text).as_array().unwrap().clone(), bytes)
}

/// Media names in a pulled deck tree (what the add-on finds missing after installing it).
fn media_names(node: &Value, out: &mut Vec<String>) {
    for n in node["notes"].as_array().into_iter().flatten() {
        for f in n["fields"].as_array().into_iter().flatten() {
            let f = f.as_str().unwrap_or_default();
            // deckd's cleaner writes `<img src=name>`; the add-on wrote `<img src="name">`.
            for part in f.split("<img src=").skip(1) {
                let part = part.trim_start_matches(['"', '\'']);
                let end = part.find(['"', '\'', ' ', '>']).unwrap_or(part.len());
                out.push(part[..end].to_string());
            }
        }
    }
    for c in node["children"].as_array().into_iter().flatten() {
        media_names(c, out);
    }
}

/// A GET read to the end; answers the body's bytes.
async fn fetch(http: &reqwest::Client, url: &str) -> u64 {
    use futures_util::StreamExt;
    let r = http.get(url).send().await.unwrap();
    assert!(r.status().is_success(), "{} for {url}", r.status());
    let mut body = r.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = body.next().await {
        n += chunk.unwrap().len() as u64;
    }
    n
}

/// What one new subscriber did: wall time, bytes received, requests made.
struct Fetched {
    time: Duration,
    bytes: u64,
    requests: u64,
}

/// The ordinary way: pull, manifests, one GET per file in groups of ten.
async fn ordinary(http: &reqwest::Client, base: &str, token: &str, hash: &str) -> Fetched {
    let started = Instant::now();
    let (entries, mut bytes) = first_pull(http, base, hash).await;
    assert!(entries[0]["deck"].is_object(), "an ordinary entry");
    let mut names = Vec::new();
    media_names(&entries[0]["deck"], &mut names);
    assert_eq!(names.len() as u64, IMAGES);
    let mut requests = 1;
    let mut urls = Vec::new();
    for batch in names.chunks(MANIFEST_BATCH) {
        let text = http
            .post(format!("{base}/media/manifest"))
            .bearer_auth(token)
            .json(&json!({"deck_hash": hash, "filenames": batch}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        bytes += text.len() as u64;
        requests += 1;
        let manifest: Value = serde_json::from_str(&text).unwrap();
        for f in manifest["files"].as_array().unwrap() {
            urls.push(f["download_url"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(urls.len() as u64, IMAGES);
    for group in urls.chunks(DOWNLOAD_GROUP) {
        let got = futures_util::future::join_all(group.iter().map(|u| fetch(http, u))).await;
        bytes += got.iter().sum::<u64>();
        requests += group.len() as u64;
    }
    Fetched {
        time: started.elapsed(),
        bytes,
        requests,
    }
}

/// Through the archive: the pull's cache-bootstrap entry, its manifest and the zip.
async fn bootstrapped(http: &reqwest::Client, base: &str, hash: &str) -> (Fetched, String) {
    let started = Instant::now();
    let (entries, mut bytes) = first_pull(http, base, hash).await;
    assert_eq!(entries[0]["mode"], "cache-bootstrap", "{}", entries[0]);
    let meta = &entries[0]["manifest"];
    bytes += fetch(http, meta["manifest_presigned_url"].as_str().unwrap()).await;
    let archive = meta["archive_presigned_url"].as_str().unwrap().to_string();
    bytes += fetch(http, &archive).await;
    (
        Fetched {
            time: started.elapsed(),
            bytes,
            requests: 3,
        },
        archive,
    )
}

/// Resets the process's peak RSS (VmHWM) so the next phase's peak is its own.
fn reset_peak(server: &Server) {
    let _ = std::fs::write(format!("/proc/{}/clear_refs", server.pid()), "5");
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().join("data");
    add_user(&data, "alice");
    add_user(&data, "bob");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let generated = Instant::now();
    let images: Vec<Vec<u8>> = (0..IMAGES).map(png).collect();
    let image_bytes: u64 = images.iter().map(|b| b.len() as u64).sum();
    eprintln!(
        "generated {IMAGES} images, {:.1} MB, in {:.1} s",
        mb(image_bytes),
        generated.elapsed().as_secs_f64()
    );

    // Without archives: what every new subscriber does today.
    let server = Server::start(&data, &[("DECKD_DECK_ARCHIVE_BYTES", "0")]);
    let base = server.base.clone();
    let alice = login(&http, &base, "alice").await;
    let bob = login(&http, &base, "bob").await;
    let hash = publish(&http, &base, &alice, &images).await;
    drop(images);
    let plain = ordinary(&http, &base, &bob, &hash).await;
    eprintln!(
        "ordinary: {:.2} s, {:.1} MB, {} requests",
        plain.time.as_secs_f64(),
        mb(plain.bytes),
        plain.requests
    );
    drop(server);

    // With archives (the default): the first pull asks for the build.
    let server = Server::start(&data, &[]);
    let base = server.base.clone();
    reset_peak(&server);
    let asked = Instant::now();
    let (entries, _) = first_pull(&http, &base, &hash).await;
    assert!(entries[0]["deck"].is_object(), "no archive yet");
    let built = loop {
        let (entries, _) = first_pull(&http, &base, &hash).await;
        if entries[0]["mode"] == "cache-bootstrap" {
            break asked.elapsed();
        }
        assert!(
            asked.elapsed() < Duration::from_secs(600),
            "no archive built"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let build_peak_kb = server.status_kb("VmHWM:");
    let archive_bytes: u64 = std::fs::read_dir(data.join("media/archives"))
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    eprintln!(
        "archive of {:.1} MB ready {:.2} s after the first pull",
        mb(archive_bytes),
        built.as_secs_f64()
    );
    let (boot, archive_url) = bootstrapped(&http, &base, &hash).await;
    eprintln!(
        "bootstrap: {:.2} s, {:.1} MB, {} requests",
        boot.time.as_secs_f64(),
        mb(boot.bytes),
        boot.requests
    );

    // Eight subscribers stream the archive at once, each on its own connection.
    let idle_kb = server.status_kb("VmRSS:");
    reset_peak(&server);
    let sampling = Arc::new(AtomicBool::new(true));
    let max_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, max_rss) = (sampling.clone(), max_rss.clone());
        let status = format!("/proc/{}/status", server.pid());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kb) = std::fs::read_to_string(&status).ok().and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmRSS:"))
                        .and_then(|l| l.split_whitespace().nth(1))
                        .and_then(|v| v.parse::<u64>().ok())
                }) {
                    max_rss.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let streams_started = Instant::now();
    let streams = (0..STREAMS).map(|_| {
        let url = archive_url.clone();
        tokio::spawn(async move {
            let own = reqwest::Client::new();
            fetch(&own, &url).await
        })
    });
    let streamed: u64 = futures_util::future::join_all(streams)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    let streams_time = streams_started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let streams_peak_kb = server.status_kb("VmHWM:");
    let sampled_kb = max_rss.load(Ordering::Relaxed);
    eprintln!(
        "{STREAMS} streams: {:.1} MB in {:.2} s, peak RSS {:.1} MB",
        mb(streamed),
        streams_time.as_secs_f64(),
        streams_peak_kb as f64 / 1024.0
    );

    let paced = plain.time + GROUP_PAUSE * (IMAGES as u32).div_ceil(DOWNLOAD_GROUP as u32);
    let report = format!(
        "# Bootstrap benchmark\n\nProduced by `cargo bench{} --bench bootstrap` on {} ({}).\n\
         The real `deckd` serves over 127.0.0.1 on its own (no nginx: it streams the files itself). Workload: a\n\
         5,000-note deck in 11 decks whose first {IMAGES} notes each show one PNG of noise ({} images, {:.1} MB,\n\
         about 100 KB each, decoded by deckd's image check on upload). A new subscriber pulls from the add-on's first\n\
         timestamp (`{FIRST_PULL_TS}`) and then gets every image:\n\n\
         - **ordinary**: deckd with `deck_archive_bytes = 0`: the pull, `/media/manifest` with {MANIFEST_BATCH} names a call\n  \
           and one GET per file, {DOWNLOAD_GROUP} at a time, as the add-on's media_manager.py does, but without its\n  \
           0.25 s pause between groups (the \"as paced\" column adds those pauses);\n\
         - **archive**: deckd with its default archive budget, once the archive is built: the pull answers a\n  \
           cache-bootstrap entry, then one GET for the manifest and one for the zip, as import_manager.py does.\n\n\
         ## One new subscriber\n\n| path | requests | bytes received | time | as paced by the add-on |\n|---|---|---|---|---|\n\
         | ordinary | {} | {:.1} MB | {:.2} s | {:.1} s |\n| archive | {} | {:.1} MB | {:.2} s | {:.2} s |\n\n\
         The archive ({:.1} MB on disk: the gzip entry and the images stored uncompressed) was ready {:.2} s after the\n\
         first pull asked for it, built in the background while that pull was answered the ordinary way; deckd's\n\
         peak RSS over the build was {:.1} MB.\n\n\
         ## {STREAMS} subscribers streaming the archive at once\n\n| what | figure |\n|---|---|\n\
         | bytes sent | {:.1} MB in {:.2} s |\n| RSS before | {:.1} MB |\n| peak RSS during the streams (VmHWM, reset before) | {:.1} MB |\n\
         | highest RSS sampled every 5 ms | {:.1} MB |\n\n\
         The zip is streamed from disk (tower-http ServeFile), never held in memory.\n",
        profile_flag(),
        machine(),
        time::OffsetDateTime::now_utc().date(),
        IMAGES,
        mb(image_bytes),
        plain.requests,
        mb(plain.bytes),
        plain.time.as_secs_f64(),
        paced.as_secs_f64(),
        boot.requests,
        mb(boot.bytes),
        boot.time.as_secs_f64(),
        boot.time.as_secs_f64(),
        mb(archive_bytes),
        built.as_secs_f64(),
        build_peak_kb as f64 / 1024.0,
        mb(streamed),
        streams_time.as_secs_f64(),
        idle_kb as f64 / 1024.0,
        streams_peak_kb as f64 / 1024.0,
        sampled_kb as f64 / 1024.0,
    );
    println!("{report}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/bootstrap.md");
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
