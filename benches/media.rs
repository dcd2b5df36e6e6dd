//! Media benchmark: upload and download throughput of 1 MB and 10 MB files at 1 and 16
//! concurrent clients through the real `deckd` over 127.0.0.1, compared with a plain
//! file copy of the same bytes on the same disk, and the server's RSS during 50
//! concurrent 10 MB uploads. Run with `cargo bench --bench media`; it rewrites
//! benches/results/media.md.

#[path = "harness.rs"]
mod harness;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use harness::{add_user, gzb64, login, machine, reply, Server};
use md5::{Digest, Md5};
use serde_json::{json, Value};

const MB: usize = 1024 * 1024;
const NOTE: &str = "MediaBenchNote";

/// Distinct MP3-looking contents (audio is checked by magic bytes only, so this
/// measures the transfer path rather than image decoding).
fn payloads(count: usize, size: usize, seed: u64) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut state = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(i as u64 + 1);
            let mut v = Vec::with_capacity(size);
            v.extend_from_slice(b"ID3\x04\x00\x00\x00\x00\x00\x00");
            while v.len() < size {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v.extend_from_slice(&state.to_le_bytes());
            }
            v.truncate(size);
            v
        })
        .collect()
}

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

/// Publishes a one-note deck every benchmark file is attached to; answers its hash.
async fn publish(http: &reqwest::Client, base: &str, token: &str) -> String {
    let model = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002";
    let deck = json!({"__type__": "Deck", "crowdanki_uuid": "5d1c2b3a-3b4a-11ef-9a7c-0242ac120002", "name": "Media Bench", "desc": "",
        "children": [], "notes": [{"__type__": "Note", "fields": ["media", "bench"], "guid": NOTE, "id": 1, "note_model_uuid": model, "tags": []}],
        "note_models": [{"__type__": "NoteModel", "crowdanki_uuid": model, "css": "", "latexPre": "", "latexPost": "", "latexsvg": false,
            "name": "Basic", "sortf": 0, "type": 0, "req": [[0, "any", [0]]],
            "flds": [{"name": "Front", "ord": 0, "font": "Arial", "size": 20, "sticky": false, "rtl": false, "description": ""},
                     {"name": "Back", "ord": 1, "font": "Arial", "size": 20, "sticky": false, "rtl": false, "description": ""}],
            "tmpls": [{"name": "Card 1", "ord": 0, "qfmt": "{{Front}}", "afmt": "{{Back}}", "bqfmt": "", "bafmt": "", "bfont": "", "bsize": 0}]}]});
    let body = gzb64(&json!({"deck": deck.to_string()}));
    let r = harness::create_deck(http, base, token, body).await;
    r["message"].as_str().unwrap().to_string()
}

/// Upload URLs for `files` (named `<prefix><i>.mp3`), in batches of 100 as the add-on
/// sends, and the `(batch id, hashes)` to confirm once they are uploaded.
async fn upload_urls(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    deck: &str,
    prefix: &str,
    files: &[Vec<u8>],
) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut urls = Vec::new();
    let mut batches = Vec::new();
    for (chunk_no, chunk) in files.chunks(100).enumerate() {
        let listed: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, b)| json!({"hash": md5_hex(b), "filename": format!("{prefix}{}.mp3", chunk_no * 100 + i), "note_guid": NOTE, "file_size": b.len()}))
            .collect();
        let body = json!({"deck_hash": deck, "files": listed, "bulk_operation_id": ""});
        let r = reply(
            http.post(format!("{base}/media/check/bulk"))
                .bearer_auth(token)
                .json(&body),
        )
        .await;
        for m in r["missing_files"].as_array().unwrap() {
            urls.push(m["upload_url"].as_str().unwrap().to_string());
        }
        batches.push((
            r["batch_id"].as_str().unwrap().to_string(),
            chunk.iter().map(|b| md5_hex(b)).collect::<Vec<_>>(),
        ));
    }
    assert_eq!(urls.len(), files.len(), "every file must be new");
    (urls, batches)
}

/// `/media/confirm/bulk` for every batch, so the files become downloadable.
async fn confirm(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    batches: &[(String, Vec<String>)],
) {
    for (batch, hashes) in batches {
        let r = http
            .post(format!("{base}/media/confirm/bulk"))
            .bearer_auth(token)
            .json(&json!({"batch_id": batch, "confirmed_files": hashes, "bulk_operation_id": ""}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// Runs `jobs` with at most `clients` at a time; answers the elapsed time.
async fn run_concurrently(clients: usize, jobs: Vec<reqwest::RequestBuilder>) -> Duration {
    let permits = Arc::new(tokio::sync::Semaphore::new(clients));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for job in jobs {
        let permit = permits.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let resp = job.send().await.expect("request");
            let status = resp.status();
            let body = resp.bytes().await.expect("body");
            drop(permit);
            assert!(
                status.is_success(),
                "status {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
            body.len()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

/// MB/s of copying the same files on the same disk with `clients` threads, fsync included (as deckd does).
fn copy_rate(dir: &Path, files: &[Vec<u8>], clients: usize) -> f64 {
    let src = dir.join("copy-src");
    let dst = dir.join("copy-dst");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    for (i, f) in files.iter().enumerate() {
        std::fs::write(src.join(i.to_string()), f).unwrap();
    }
    let started = Instant::now();
    std::thread::scope(|scope| {
        for c in 0..clients {
            let (src, dst) = (&src, &dst);
            scope.spawn(move || {
                for i in (c..files.len()).step_by(clients) {
                    std::fs::copy(src.join(i.to_string()), dst.join(i.to_string())).unwrap();
                    std::fs::File::open(dst.join(i.to_string()))
                        .unwrap()
                        .sync_all()
                        .unwrap();
                }
            });
        }
    });
    let elapsed = started.elapsed();
    std::fs::remove_dir_all(&src).unwrap();
    std::fs::remove_dir_all(&dst).unwrap();
    rate(files, elapsed)
}

fn rate(files: &[Vec<u8>], elapsed: Duration) -> f64 {
    files.iter().map(Vec::len).sum::<usize>() as f64 / MB as f64 / elapsed.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().join("data");
    add_user(&data, "alice");
    let server = Server::start(&data, &[]);
    let base = server.base.clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let alice = login(&http, &base, "alice").await;
    let deck = publish(&http, &base, &alice).await;
    let idle_kb = server.status_kb("VmRSS:");

    let mut rows = Vec::new();
    for (size_mb, count) in [(1usize, 64usize), (10, 16)] {
        for clients in [1usize, 16] {
            let files = payloads(count, size_mb * MB, (size_mb * 100 + clients) as u64);
            let prefix = format!("f{size_mb}m{clients}c");
            let (urls, batches) = upload_urls(&http, &base, &alice, &deck, &prefix, &files).await;
            let puts = urls
                .iter()
                .zip(&files)
                .map(|(u, b)| {
                    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b));
                    http.put(u).header("content-md5", md5).body(b.clone())
                })
                .collect();
            let up = rate(&files, run_concurrently(clients, puts).await);
            confirm(&http, &base, &alice, &batches).await;

            let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i}.mp3")).collect();
            let body = json!({"deck_hash": deck, "filenames": names});
            let manifest = reply(
                http.post(format!("{base}/media/manifest"))
                    .bearer_auth(&alice)
                    .json(&body),
            )
            .await;
            let listed = manifest["files"].as_array().unwrap();
            assert_eq!(listed.len(), count, "every uploaded file is downloadable");
            let gets = listed
                .iter()
                .map(|f| http.get(f["download_url"].as_str().unwrap()))
                .collect();
            let down = rate(&files, run_concurrently(clients, gets).await);
            let copy = copy_rate(dir.path(), &files, clients);
            eprintln!("{size_mb} MB × {count}, {clients} clients: up {up:.0} MB/s, down {down:.0} MB/s, copy {copy:.0} MB/s");
            rows.push(format!(
                "| {size_mb} MB × {count} | {clients} | {up:.0} | {:.2} | {down:.0} | {:.2} | {copy:.0} |",
                up / copy,
                down / copy
            ));
        }
    }

    let before_kb = server.status_kb("VmRSS:");
    let hwm_before = server.status_kb("VmHWM:");
    let files = payloads(50, 10 * MB, 4242);
    let (urls, _) = upload_urls(&http, &base, &alice, &deck, "burst", &files).await;
    let puts = urls
        .iter()
        .zip(&files)
        .map(|(u, b)| http.put(u).body(b.clone()))
        .collect();
    let burst = run_concurrently(50, puts).await;
    let hwm_after = server.status_kb("VmHWM:");
    let after_kb = server.status_kb("VmRSS:");
    drop(files);

    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let report = format!(
        "# Media benchmark\n\nProduced by `cargo bench --bench media{}` on {} ({}).\n\
         The real release `deckd` serves over 127.0.0.1 (standalone, streaming files itself; behind nginx the\n\
         downloads are nginx's job). Files are distinct MP3-like payloads, so the figures measure the transfer\n\
         path (stream to a temporary file, MD5 on the way, fsync, rename) rather than image decoding. The copy\n\
         baseline copies the same bytes on the same disk with the same number of threads and fsyncs each file.\n\n\
         ## Throughput (MB/s)\n\n| files | clients | upload | upload ÷ copy | download | download ÷ copy | plain copy |\n|---|---|---|---|---|---|---|\n{}\n\n\
         ## Memory during 50 concurrent 10 MB uploads\n\n| what | RSS |\n|---|---|\n\
         | idle after start | {:.1} MB |\n| before the burst | {:.1} MB |\n| peak during the burst (VmHWM) | {:.1} MB (was {:.1} MB before) |\n\
         | after the burst | {:.1} MB |\n\n50 × 10 MB stored in {:.1} s. Budget (issue 4): stays under 64 MB.\n",
        if args.is_empty() { String::new() } else { format!(" -- {}", args.join(" ")) },
        machine(),
        time::OffsetDateTime::now_utc().date(),
        rows.join("\n"),
        idle_kb as f64 / 1024.0,
        before_kb as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        hwm_before as f64 / 1024.0,
        after_kb as f64 / 1024.0,
        burst.as_secs_f64(),
    );
    println!("{report}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/media.md");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
