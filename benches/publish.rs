//! Publishing a 50,000-note deck until a subscriber can pull it, repeated so the
//! figure is a median rather than one run: the time from sending `/createDeck` to its
//! answer, and to the arrival of the first full pull holding every note.
//!
//!     cargo bench --bench publish [-- --runs 5] [--out other.md]
//!
//! Spawns this build's deckd on a fresh data directory. Figures go to
//! benches/results/publish.md (or `--out`).

#[path = "deckgen.rs"]
mod deckgen;
#[path = "harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use deckgen::notes_in;
use harness::{
    add_user, bench_args, create_deck, flag, gzb64, login, machine, pull_text, settled_idle, Server,
};
use serde_json::json;

const INITIAL_TS: &str = "2022-12-31 23:59:59";
const NOTES: u64 = 50_000;

/// One publish: (answered, pullable) measured from the request's start.
async fn publish_until_pullable(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: String,
) -> (Duration, Duration) {
    let started = Instant::now();
    let r = create_deck(http, base, token, body).await;
    let answered = started.elapsed();
    assert_eq!(r["status"], 1, "publishing: {r}");
    let hash = r["message"].as_str().unwrap().to_string();
    let pull = json!({&hash: {"timestamp": INITIAL_TS, "deckId": 0, "optional_tags": {}, "personal_tags": []}});
    loop {
        let text = pull_text(http, base, &pull).await;
        let arrived = started.elapsed();
        // Decoding 50 MB of JSON is the load program's work, so it is checked afterwards.
        let got = harness::gzb64_decode(&text);
        if got
            .get(0)
            .is_some_and(|e| notes_in(&e["deck"]) == NOTES as usize)
        {
            return (answered, arrived);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(args) = bench_args() else {
        return;
    };
    let runs: usize = flag(&args, "--runs").map_or(5, |r| r.parse().expect("--runs takes a count"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_user(&data, "alice");
    let server = Server::start(&data, &[]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let token = login(&http, &server.base, "alice").await;

    let mut answered = Vec::new();
    let mut pullable = Vec::new();
    let mut json_mb = 0.0;
    for run in 0..runs {
        let uuid = format!("5e1d2c8e-3b4a-11ef-9a7c-0242ac13{run:04x}");
        let deck = deckgen::deck(
            &format!("Publish 50k {run}"),
            &uuid,
            &format!("PB{run:02}"),
            NOTES,
            20,
        );
        let addon = deckgen::to_addon_json(&deck);
        json_mb = addon.len() as f64 / 1e6;
        let body = gzb64(&json!({ "deck": addon }));
        drop(deck);
        let (a, p) = publish_until_pullable(&http, &server.base, &token, body).await;
        eprintln!("run {run}: answered {} ms, pullable {} ms", ms(a), ms(p));
        answered.push(a);
        pullable.push(p);
    }
    let peak = server.status_kb("VmHWM:") as f64 / 1024.0;
    let settled = settled_idle(&server).await;
    let profile = harness::profile_flag();
    let report = format!(
        "# Publish benchmark\n\n\
         Produced by `cargo bench{profile} --bench publish -- --runs {runs}` on {} ({}).\n\
         Each run publishes a new 50,000-note deck in 21 decks ({json_mb:.1} MB of add-on JSON) \
         to the same server, then pulls it from the add-on's initial timestamp until the answer holds every note.\n\n\
         | what | median | runs |\n|---|---|---|\n\
         | `/createDeck` answered | {} ms | {} |\n\
         | … until a full pull's answer with all 50,000 notes has arrived | {} ms | {} |\n\
         | peak RSS of the server over all runs | {peak:.1} MB | |\n\
         | RSS once the server has settled after the last run | {:.1} MB | |\n",
        machine(),
        time::OffsetDateTime::now_utc().date(),
        ms(median(answered.clone())),
        answered.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", "),
        ms(median(pullable.clone())),
        pullable.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", "),
        settled.rss as f64 / 1024.0,
    );
    println!("{report}");
    let out = flag(&args, "--out")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/publish.md")
        });
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
