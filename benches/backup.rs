//! Backup benchmark: a 50,000-note database and 1 GiB of media behind a running
//! `deckd serve`, then `deckd backup now` twice (full, then incremental after a few
//! new files), into a backup directory on another file system (copies, like a USB
//! stick) and on the same one (hard links). Prints time and peak RSS of each run and
//! writes benches/results/backup.md. Run with `cargo bench --bench backup`;
//! `BACKUP_BENCH_MEDIA_MB` and `BACKUP_BENCH_NOTES` shrink it for a quick try.

#[path = "deckgen.rs"]
mod deckgen;
#[path = "harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{add_user, gzb64, login, machine, Server};
use md5::{Digest, Md5};
use serde_json::json;

const FILE_BYTES: usize = 512 * 1024;

fn deckd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deckd"))
}

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `deckd args…` in a child of a fresh copy of this program, so the peak RSS
/// reported (RUSAGE_CHILDREN) is that command's alone.
fn measured(data: &Path, backup_dir: &Path, args: &[&str]) -> (Duration, u64, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--measure")
        .arg(data)
        .arg(backup_dir)
        .args(args)
        .output()
        .expect("run measuring child");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "measured run failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    let secs: f64 = lines.next().unwrap().parse().unwrap();
    let rss: u64 = lines.next().unwrap().parse().unwrap();
    (
        Duration::from_secs_f64(secs),
        rss,
        lines.collect::<Vec<_>>().join("\n"),
    )
}

fn measure_child(args: &[String]) -> ! {
    let (data, backup_dir, rest) = (&args[0], &args[1], &args[2..]);
    let start = Instant::now();
    let out = deckd()
        .arg("--data-dir")
        .arg(data)
        .args(rest)
        .env("DECKD_BACKUP_DIR", backup_dir)
        .env("DECKD_BACKUP_KEEP", "7")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    println!(
        "{elapsed}\n{}\n{}",
        usage.max_rss(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    std::process::exit(if out.status.success() { 0 } else { 1 })
}

/// Publishes the generated deck over HTTP the way the add-on does.
async fn publish(base: &str, data: &Path, notes: u64) {
    add_user(data, "bench");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(1800))
        .build()
        .unwrap();
    let token = login(&http, base, "bench").await;
    let deck = deckgen::deck(
        "Backup Bench",
        "7a1d2c8e-3b4a-11ef-9a7c-0242ac120002",
        "bk",
        notes,
        20,
    );
    let body = gzb64(&json!({"deck": deckgen::to_addon_json(&deck)}));
    let r = harness::create_deck(&http, base, &token, body).await;
    assert_eq!(r["status"], 1, "publish failed: {r}");
}

/// Writes `count` random media files into the store and records them, like uploads would.
async fn add_media(data: &Path, from: u64, count: u64) -> u64 {
    let config = deckd::Config::for_data_dir(data);
    let db = deckd::store::Db::open(&config).await.unwrap();
    let store = deckd::media::files::FileStore::open(config.media_dir()).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ from;
    let mut tx = db.begin_write().await.unwrap();
    for i in from..from + count {
        let mut bytes = vec![0u8; FILE_BYTES];
        for chunk in bytes.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let hash = hex::encode(Md5::digest(&bytes));
        let path = store.path_of(&hash);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        deckd::store::media::insert_file(
            &mut tx,
            &hash,
            FILE_BYTES as u64,
            "application/octet-stream",
            deckd::store::UserId(1),
            deckd::store::Micros(i as i64),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
    count * FILE_BYTES as u64
}

fn dir_bytes(dir: &Path) -> u64 {
    let out = Command::new("du").args(["-sb"]).arg(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--measure") {
        measure_child(&args[1..]);
    }
    let notes = env_num("BACKUP_BENCH_NOTES", 50_000);
    let media_files = env_num("BACKUP_BENCH_MEDIA_MB", 1024) * 1024 * 1024 / FILE_BYTES as u64;
    let machine = machine();
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let shm = tempfile::tempdir_in("/dev/shm").unwrap();
    std::fs::create_dir_all(&data).unwrap();

    let server = Server::start(
        &data,
        &[
            ("DECKD_BACKUP_INTERVAL_HOURS", "0"),
            ("DECKD_CLEANUP_INTERVAL_SECS", "1000000"),
            ("DECKD_MAX_DECK_BODY_BYTES", "1000000000"),
            ("DECKD_MAX_DECOMPRESSED_BYTES", "2000000000"),
        ],
    );
    let base = server.base.clone();
    let t = Instant::now();
    publish(&base, &data, notes).await;
    eprintln!("published {notes} notes in {:?}", t.elapsed());
    let media_bytes = add_media(&data, 0, media_files).await;
    eprintln!("wrote {media_files} media files ({media_bytes} bytes)");
    let db_bytes = std::fs::metadata(data.join("deckd.sqlite3")).unwrap().len();

    let (_, base_rss, _) = measured(&data, shm.path(), &["backup", "list"]);
    let mut rows = Vec::new();
    let targets: [(&str, PathBuf); 2] = [
        ("other file system (copies)", shm.path().join("b")),
        ("same file system (hard links)", work.path().join("b")),
    ];
    for (i, (label, dir)) in targets.iter().enumerate() {
        let (full_t, full_rss, _) = measured(&data, dir, &["backup", "now"]);
        let full_size = dir_bytes(dir);
        // A day's worth of change: 20 new files (10 MiB).
        let added = add_media(&data, 1_000_000 + i as u64 * 100, 20).await;
        let (inc_t, inc_rss, _) = measured(&data, dir, &["backup", "now"]);
        let inc_size = dir_bytes(dir) - full_size;
        rows.push(format!(
            "| {label} | full | {:.1} s | {} MB | +{} MB | {} MB |",
            full_t.as_secs_f64(),
            full_rss / 1024,
            full_rss.saturating_sub(base_rss) / 1024,
            full_size / 1_000_000
        ));
        rows.push(format!(
            "| {label} | incremental (+{} MB media) | {:.1} s | {} MB | +{} MB | +{} MB |",
            added / 1_000_000,
            inc_t.as_secs_f64(),
            inc_rss / 1024,
            inc_rss.saturating_sub(base_rss) / 1024,
            inc_size / 1_000_000
        ));
        eprintln!("{}\n{}", rows[rows.len() - 2], rows[rows.len() - 1]);
    }
    drop(server);

    let report = format!(
        "# Backup benchmark\n\n\
         Command: `cargo bench --bench backup` (release build). Machine: {machine}.\n\n\
         Data: {notes} notes published over HTTP (database {} MB) and {} media files of 512 KiB ({} MB), \
         server running during the backups. `deckd backup now` = `VACUUM INTO` snapshot, `integrity_check`, \
         media added to the pool, manifest, retention.\n\
         Peak RSS is the `deckd backup now` process's maximum resident set (getrusage); \"extra\" is above \
         `deckd backup list` ({} MB), i.e. what the backup work itself costs.\n\n\
         | backup dir | run | time | peak RSS | extra RSS | written |\n|---|---|---|---|---|---|\n{}\n",
        db_bytes / 1_000_000,
        media_files,
        media_bytes / 1_000_000,
        base_rss / 1024,
        rows.join("\n")
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/backup.md");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, &report).unwrap();
    println!("{report}");
}
