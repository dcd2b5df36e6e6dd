//! Pull benchmark against any AnkiCollab-compatible server: logs in, publishes generated
//! decks, then measures the pulls that no full-pull cache can answer (several decks at
//! once, incremental pulls after a bulk edit, no-change pulls of many decks, 1,000
//! connections at once), the cached single-deck full pull, and publishing 50,000 notes.
//!
//!     cargo bench --bench pull                       # spawns this build's deckd
//!     cargo bench --bench pull -- --base-url http://127.0.0.1:8000 \
//!         --user alice --password secret [--pid 1234] [--out other.md]
//!
//! With a spawned deckd the server's RSS comes from /proc; for another server `--pid`
//! names its process. Figures go to benches/results/pull.md (or `--out`).

#[path = "deckgen.rs"]
mod deckgen;
#[path = "harness.rs"]
mod harness;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deckgen::notes_in;
use harness::{add_user, gzb64, load, machine, pull_text, reply, row, Run, Server};
use serde_json::{json, Value};

const INITIAL_TS: &str = "2022-12-31 23:59:59";
const UUID_5K: &str = "5e1d2c8e-3b4a-11ef-9a7c-0242ac120105";
const UUID_50K: &str = "5e1d2c8e-3b4a-11ef-9a7c-0242ac120150";
const CLIENTS: [usize; 3] = [1, 8, 64];

/// Where the server is and whose process to measure.
struct Target {
    base: String,
    user: String,
    password: String,
    pid: Option<u32>,
    _spawned: Option<(Server, tempfile::TempDir)>,
}

impl Target {
    fn from_args(args: &[String]) -> Target {
        let value = |name: &str| harness::flag(args, name);
        if let Some(base) = value("--base-url") {
            return Target {
                base: base.trim_end_matches('/').to_string(),
                user: value("--user").expect("--user is required with --base-url"),
                password: value("--password").expect("--password is required with --base-url"),
                pid: value("--pid").map(|p| p.parse().expect("--pid takes a process id")),
                _spawned: None,
            };
        }
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        add_user(&data, "alice");
        let server = Server::start(&data, &[]);
        Target {
            base: server.base.clone(),
            user: "alice".into(),
            password: "benchmark-password".into(),
            pid: Some(server.pid()),
            _spawned: Some((server, dir)),
        }
    }

    /// Restarts a spawned deckd on the same data with its pull caches off; false for
    /// another server.
    fn restart_uncached(&mut self) -> bool {
        let Some((server, dir)) = self._spawned.take() else {
            return false;
        };
        drop(server);
        let server = Server::start(&dir.path().join("data"), &[("DECKD_PULL_CACHE_BYTES", "0")]);
        self.base = server.base.clone();
        self.pid = Some(server.pid());
        self._spawned = Some((server, dir));
        true
    }

    fn status_kb(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// Starts a new high-water mark (only for a process this user may write to).
    fn reset_peak(&self) {
        if let Some(pid) = self.pid {
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
    }

    fn peak_mb(&self) -> String {
        self.status_kb("VmHWM:")
            .map(|k| format!("{:.1}", k as f64 / 1024.0))
            .unwrap_or_else(|| "–".into())
    }
}

fn sub(ts: &str) -> Value {
    json!({"timestamp": ts, "deckId": 0, "optional_tags": {}, "personal_tags": []})
}

/// The add-on's timestamp format for `t`.
fn client_ts(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&f).unwrap()
}

/// Waits until the wall clock has moved into the next second and answers the second
/// before it: every write finished before the call is at or before that timestamp.
async fn next_second() -> String {
    let now = time::OffsetDateTime::now_utc();
    let t = now.replace_nanosecond(0).unwrap();
    let target = t + time::Duration::milliseconds(1_050);
    while time::OffsetDateTime::now_utc() < target {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client_ts(t)
}

async fn publish(
    http: &reqwest::Client,
    t: &Target,
    token: &str,
    deck: &Value,
) -> (String, Duration) {
    let body = gzb64(&json!({"deck": deckgen::to_addon_json(deck)}));
    let started = Instant::now();
    let r = harness::create_deck(http, &t.base, token, body).await;
    assert_eq!(r["status"], 1, "publishing {}: {r}", deck["name"]);
    (
        r["message"].as_str().unwrap().to_string(),
        started.elapsed(),
    )
}

/// Bytes and decoded entries of one pull.
async fn pull_once(http: &reqwest::Client, base: &str, map: &Value) -> (usize, Value) {
    let text = pull_text(http, base, map).await;
    (text.len(), harness::gzb64_decode(&text))
}

/// A pull workload at each client count; `per` requests per client.
async fn sweep(
    rows: &mut Vec<String>,
    t: &Target,
    http: &reqwest::Client,
    name: &str,
    per: impl Fn(usize) -> usize,
    make: impl Fn(usize) -> Value + Send + Sync + Clone + 'static,
) {
    for clients in CLIENTS {
        t.reset_peak();
        let (h, base, make) = (http.clone(), t.base.clone(), make.clone());
        let r: Run = load(clients, per(clients), move |i| {
            h.post(format!("{base}/pullChanges")).json(&make(i))
        })
        .await;
        rows.push(format!("{} {} |", row(name, clients, &r), t.peak_mb()));
        eprintln!("{}", rows.last().unwrap());
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(args) = harness::bench_args() else {
        return;
    };
    let mut t = Target::from_args(&args);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1_100)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let token = reply(
        http.post(format!("{}/login", t.base))
            .json(&json!({"username": t.user, "password": t.password})),
    )
    .await["token"]
        .as_str()
        .expect("login failed: check --user and --password")
        .to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_mb = t.status_kb("VmRSS:").map(|k| k as f64 / 1024.0);

    // Decks: 5,000 notes in 11 decks, a 2-note deck, and 18 more small ones.
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    let big = deckgen::deck(&format!("Pull 5k {run}"), UUID_5K, "P5k", 5_000, 10);
    let big_json = deckgen::to_addon_json(&big).len();
    let (hash5k, _) = publish(&http, &t, &token, &big).await;
    let mut small_hashes = Vec::new();
    for i in 0..19 {
        let d = deckgen::deck(
            &format!("Pull small {i:02} {run}"),
            &format!("5e1d2c8e-3b4a-11ef-9a7c-0242ac12{i:04x}"),
            &format!("PS{i:02}"),
            2,
            0,
        );
        small_hashes.push(publish(&http, &t, &token, &d).await.0);
    }
    let hash2 = small_hashes[0].clone();
    let mut rows = Vec::new();

    // 1. Two decks at once from the add-on's first timestamp (never one cached answer).
    let (two_bytes, two) = pull_once(
        &http,
        &t.base,
        &json!({&hash5k: sub(INITIAL_TS), &hash2: sub(INITIAL_TS)}),
    )
    .await;
    assert_eq!(
        two.as_array().unwrap().len(),
        2,
        "two-deck pull answers two entries"
    );
    let (h5, h2) = (hash5k.clone(), hash2.clone());
    sweep(
        &mut rows,
        &t,
        &http,
        "two-deck full pull (5,000 + 2 notes)",
        |c| if c == 1 { 40 } else { (160 / c).max(2) },
        move |_| json!({&h5: sub(INITIAL_TS), &h2: sub(INITIAL_TS)}),
    )
    .await;

    // 2. The owner changes 1,000 of the 5,000 notes in five rounds a second apart;
    //    50 subscribers come back from 50 different earlier timestamps.
    let mut marks = vec![next_second().await];
    for round in 0..5u64 {
        let edited = deckgen::edited(&big, round * 1_000, 200, round + 1);
        let body = json!({"remote_deck": hash5k, "deck_path": big["name"], "new_name": big["name"],
            "deck": deckgen::to_addon_json(&edited), "rationale": 10, "commit_text": "", "force_overwrite": true});
        let r = http
            .post(format!("{}/submitCard", t.base))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(gzb64(&body))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "owner's edit: {}", r.status());
        marks.push(next_second().await);
    }
    // Ten subscribers per gap: before the first round, between rounds, just after.
    let since: Arc<Vec<String>> = Arc::new((0..50).map(|i| marks[i / 10].clone()).collect());
    let (_, first) = pull_once(&http, &t.base, &json!({&hash5k: sub(&since[0])})).await;
    let changed = notes_in(&first[0]["deck"]);
    let (h5, s) = (hash5k.clone(), since.clone());
    sweep(
        &mut rows,
        &t,
        &http,
        "after a 1,000-note edit, 50 different timestamps",
        |c| if c == 1 { 50 } else { (200 / c).max(2) },
        move |i| json!({&h5: sub(&s[i % 50])}),
    )
    .await;

    // 3. Nothing changed in any of 20 subscribed decks.
    let now = client_ts(time::OffsetDateTime::now_utc() + time::Duration::seconds(2));
    let mut twenty = serde_json::Map::new();
    twenty.insert(hash5k.clone(), sub(&now));
    for h in &small_hashes {
        twenty.insert(h.clone(), sub(&now));
    }
    let twenty = Value::Object(twenty);
    let (_, none) = pull_once(&http, &t.base, &twenty).await;
    assert_eq!(none, json!([]), "a no-change pull answers []");
    let tw = twenty.clone();
    sweep(
        &mut rows,
        &t,
        &http,
        "no-change pull of 20 decks",
        |c| if c == 1 { 500 } else { 2_000 / c },
        move |_| tw.clone(),
    )
    .await;

    // 4. A deck that just changed, pulled over 1,000 connections at once.
    let before = next_second().await;
    let edited = deckgen::edited(&big, 4_000, 50, 9);
    let body = json!({"remote_deck": hash5k, "deck_path": big["name"], "new_name": big["name"],
        "deck": deckgen::to_addon_json(&edited), "rationale": 10, "commit_text": "", "force_overwrite": true});
    http.post(format!("{}/submitCard", t.base))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(gzb64(&body))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    t.reset_peak();
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..1_000)
        .map(|_| {
            let (h, base, map, ok, failed) = (
                http.clone(),
                t.base.clone(),
                json!({&hash5k: sub(&before)}),
                ok.clone(),
                failed.clone(),
            );
            tokio::spawn(async move {
                let answered = h
                    .post(format!("{base}/pullChanges"))
                    .json(&map)
                    .send()
                    .await;
                let good = match answered {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let thousand = format!(
        "| 1,000 connections at once, a deck that just changed | 1000 | {} answered, {} failed | {:.1} | – | {:.0} (all) | {} |",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        1_000.0 / started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1e3,
        t.peak_mb()
    );
    eprintln!("{thousand}");
    rows.push(thousand);

    // 5. One deck from the first timestamp: every new subscriber's pull.
    let (full_bytes, full) = pull_once(&http, &t.base, &json!({&hash5k: sub(INITIAL_TS)})).await;
    assert_eq!(notes_in(&full[0]["deck"]), 5_000);
    let h5 = hash5k.clone();
    sweep(
        &mut rows,
        &t,
        &http,
        "single-deck full pull (5,000 notes)",
        |c| if c == 1 { 300 } else { 3_000 / c },
        move |_| json!({&h5: sub(INITIAL_TS)}),
    )
    .await;

    // 6. Publishing 50,000 notes until a subscriber can pull them.
    t.reset_peak();
    let huge = deckgen::deck(&format!("Pull 50k {run}"), UUID_50K, "P50k", 50_000, 20);
    let huge_json = deckgen::to_addon_json(&huge).len();
    let started = Instant::now();
    let (hash50k, answered) = publish(&http, &t, &token, &huge).await;
    drop(huge);
    // The clock stops when an answer's last byte arrived; decoding 50 MB of JSON here is
    // the load program's work, so it is checked afterwards.
    let pullable = loop {
        let text = pull_text(&http, &t.base, &json!({&hash50k: sub(INITIAL_TS)})).await;
        let arrived = started.elapsed();
        let got = harness::gzb64_decode(&text);
        if got.get(0).is_some_and(|e| notes_in(&e["deck"]) == 50_000) {
            break arrived;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let publish_peak = t.peak_mb();
    let loaded_mb = t.status_kb("VmRSS:").map(|k| k as f64 / 1024.0);

    // The same pulls with every cache off: what the database path alone delivers.
    if t.restart_uncached() {
        let (h5, h2) = (hash5k.clone(), hash2.clone());
        sweep(
            &mut rows,
            &t,
            &http,
            "two-deck full pull, caches off",
            |c| if c == 1 { 40 } else { (160 / c).max(2) },
            move |_| json!({&h5: sub(INITIAL_TS), &h2: sub(INITIAL_TS)}),
        )
        .await;
        let h5 = hash5k.clone();
        sweep(
            &mut rows,
            &t,
            &http,
            "single-deck full pull, caches off",
            |c| if c == 1 { 40 } else { (160 / c).max(2) },
            move |_| json!({&h5: sub(INITIAL_TS)}),
        )
        .await;
    }

    let mb = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1} MB"));
    let profile = harness::profile_flag();
    let command = if args.is_empty() {
        format!("cargo bench{profile} --bench pull")
    } else {
        format!(
            "cargo bench{profile} --bench pull -- {}",
            args.iter()
                .scan(false, |hide, a| {
                    let shown = if *hide { "…".to_string() } else { a.clone() };
                    *hide = a == "--password";
                    Some(shown)
                })
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let report = format!(
        "# Pull benchmark\n\n\
         Produced by `{command}` against {} on {} ({}).\n\
         Decks from `benches/deckgen.rs`: 5,000 notes in 11 decks ({:.1} MB of add-on JSON), 19 decks of 2 notes.\n\
         Every pull is the add-on's request shape; the load program runs on the same machine.\n\n\
         ## Answers\n\n| answer | bytes (GZB64) |\n|---|---|\n\
         | two-deck full pull (5,000 + 2 notes) | {two_bytes} |\n\
         | single-deck full pull, 5,000 notes | {full_bytes} |\n\
         | pull after the 1,000-note edit, from before it | {changed} notes |\n\n\
         ## Requests\n\n| workload | clients | requests | req/s | p50 ms | p99 ms | peak RSS MB |\n|---|---|---|---|---|---|---|\n{}\n\n\
         ## Publishing and memory\n\n| what | figure |\n|---|---|\n\
         | `/createDeck` of 50,000 notes ({:.1} MB of JSON) answered | {:.0} ms |\n\
         | … until a full pull's answer with all 50,000 notes has arrived | {:.0} ms |\n\
         | peak RSS while publishing and first pulling 50,000 notes | {publish_peak} MB |\n\
         | idle RSS after start and a login | {} |\n\
         | RSS after all workloads | {} |\n",
        t.base,
        machine(),
        time::OffsetDateTime::now_utc().date(),
        big_json as f64 / 1e6,
        rows.join("\n"),
        huge_json as f64 / 1e6,
        answered.as_secs_f64() * 1e3,
        pullable.as_secs_f64() * 1e3,
        mb(idle_mb),
        mb(loaded_mb),
    );
    println!("{report}");
    let out = harness::flag(&args, "--out")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/pull.md")
        });
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
