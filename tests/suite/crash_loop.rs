//! `kill -9` during concurrent writes, over and over: the real binary is killed after a
//! number of acknowledged writes (never after a fixed time), restarted on the same data
//! dir, and every write it acknowledged with a 2xx must be there; the database passes
//! `integrity_check` and no temporary upload or spool file is left behind.
//!
//! `DECKD_CRASH_ITERATIONS` sets the number of kills (20 by default). The figures go to
//! benches/results/reliability-crash.md.
use deckd_testkit as common;
use deckd_testkit::spawned;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::media::{md5_hex, mp3_bytes};
use common::*;
use serde_json::{json, Value};
use spawned::{integrity, Deckd, Place};

/// The note of the demo deck the uploads are attached to.
const MEDIA_NOTE: &str = "AbCdEf1234";

/// Everything a server acknowledged with a 2xx.
#[derive(Default)]
struct Acked {
    /// Published decks: hash → guids.
    decks: BTreeMap<String, Vec<String>>,
    /// Notes the owner added to the demo deck.
    notes: Vec<String>,
    /// Uploaded and confirmed media: name → bytes' MD5.
    media: BTreeMap<String, String>,
}

/// Shared by the writers of one server run.
struct Run {
    server: Deckd,
    alice: String,
    acked: Mutex<Acked>,
    count: AtomicUsize,
    stop: AtomicBool,
}

impl Run {
    fn ack(&self, record: impl FnOnce(&mut Acked)) {
        record(&mut self.acked.lock().unwrap());
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Publishes small new decks.
async fn publisher(run: Arc<Run>, iteration: usize) {
    let mut n = 0;
    while !run.stop.load(Ordering::SeqCst) {
        let deck = gen_deck(&format!("Crash {iteration}-{n}"), 3, 0);
        n += 1;
        let r = run.server.publish_raw(&run.alice, &deck.deck).await;
        if r.status == 200 && r.json()["status"] == 1 {
            assert_eq!(r.json()["message"], deck.hash());
            run.ack(|a| {
                a.decks.insert(deck.hash(), deck.guids());
            });
        }
    }
}

/// The owner adds a note to the demo deck (applied at once).
async fn editor(run: Arc<Run>) {
    while !run.stop.load(Ordering::SeqCst) {
        let guid = format!("cr{}", rand_tag(8));
        let deck = root_deck(
            DEMO_NAME,
            DEMO_UUID,
            "",
            vec![note(&guid, &["crash question", "answer"], &[])],
            vec![],
        );
        let r = run
            .server
            .submit(
                &run.alice,
                &submit_body(DEMO_HASH, DEMO_NAME, DEMO_NAME, &deck, 10, "", true),
            )
            .await;
        if r.status == 200 {
            run.ack(|a| a.notes.push(guid));
        }
    }
}

/// The owner uploads and confirms media for a note of the demo deck.
async fn uploader(run: Arc<Run>) {
    while !run.stop.load(Ordering::SeqCst) {
        let name = format!("crash-{}.mp3", rand_tag(8));
        let mut bytes = mp3_bytes(20_000);
        bytes.extend_from_slice(name.as_bytes());
        if run
            .server
            .upload_media(&run.alice, DEMO_HASH, &name, MEDIA_NOTE, &bytes)
            .await
            .is_ok()
        {
            run.ack(|a| {
                a.media.insert(name, md5_hex(&bytes));
            });
        }
    }
}

/// Temporary files in the data dir: uploads in media/tmp, previews being written, spools.
fn temp_files(data: &Path) -> Vec<String> {
    let list = |dir: &Path, pick: &dyn Fn(&str) -> bool| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|es| {
                es.flatten()
                    .map(|e| e.path().display().to_string())
                    .filter(|p| pick(p.rsplit('/').next().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found = list(&data.join("media/tmp"), &|_| true);
    found.extend(list(&data.join("media/thumbs"), &|n| n.ends_with(".tmp")));
    found.extend(list(data, &|n| n.starts_with(".tmp")));
    found
}

/// What of `acked` a restarted server lost, as human-readable lines.
async fn lost(s: &Deckd, token: &str, acked: &Acked, data: &Path) -> Vec<String> {
    let mut lost = Vec::new();
    let mut want: serde_json::Map<String, Value> = acked
        .decks
        .keys()
        .map(|h| (h.clone(), sub_value(FIRST_PULL_TS)))
        .collect();
    want.insert(DEMO_HASH.into(), sub_value(FIRST_PULL_TS));
    let r = s
        .post_json("/pullChanges", None, &Value::Object(want))
        .await;
    r.expect(200, "pull every acknowledged deck after a restart");
    let pulled = r.gzb64();
    for (hash, guids) in &acked.decks {
        match entry_for(&pulled, hash) {
            None => lost.push(format!("deck {hash}")),
            Some(e) => {
                let have = note_guids(&e["deck"]);
                lost.extend(
                    guids
                        .iter()
                        .filter(|g| !have.contains(g))
                        .map(|g| format!("note {g} of deck {hash}")),
                );
            }
        }
    }
    let demo = entry_for(&pulled, DEMO_HASH)
        .map(|e| note_guids(&e["deck"]))
        .unwrap_or_default();
    lost.extend(
        acked
            .notes
            .iter()
            .filter(|g| !demo.contains(g))
            .map(|g| format!("note {g} added to the demo deck")),
    );
    let names: Vec<&String> = acked.media.keys().collect();
    for chunk in names.chunks(500) {
        let m = s
            .post_json(
                "/media/manifest",
                Some(token),
                &json!({"deck_hash": DEMO_HASH, "filenames": chunk}),
            )
            .await;
        m.expect(200, "/media/manifest after a restart");
        let listed: Vec<String> = m.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["filename"].as_str().unwrap().to_string())
            .collect();
        for name in chunk {
            let md5 = &acked.media[*name];
            let on_disk = std::fs::read(data.join("media").join(&md5[..2]).join(md5))
                .map(|b| md5_hex(&b) == *md5)
                .unwrap_or(false);
            if !listed.contains(name) || !on_disk {
                lost.push(format!(
                    "media {name} (listed {}, on disk {on_disk})",
                    listed.contains(name)
                ));
            }
        }
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_concurrent_writes_loses_nothing_acknowledged_and_leaves_no_temporaries() {
    let iterations: usize = std::env::var("DECKD_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let log = scratch.path().join("deckd.log");
    let place = Place::Dir(data.clone());
    let started = Instant::now();

    let first = Deckd::start(&place, &["alice"], &log).await;
    let alice = first.login("alice").await;
    first
        .publish_raw(&alice, &tiny_deck())
        .await
        .expect(200, "publish the demo deck");
    let mut server = Some(first);
    let mut acked = Acked::default();
    let (mut total_acked, mut lost_total, mut left_after_kill, mut left_after_start) =
        (0, Vec::new(), 0, 0);

    for iteration in 0..iterations {
        let run = Arc::new(Run {
            server: server.take().unwrap(),
            alice: alice.clone(),
            acked: Mutex::new(std::mem::take(&mut acked)),
            count: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let writers = vec![
            tokio::spawn(publisher(run.clone(), iteration)),
            tokio::spawn(editor(run.clone())),
            tokio::spawn(uploader(run.clone())),
            tokio::spawn(uploader(run.clone())),
        ];
        let kill_after = rand::random_range(5..=30);
        let wait_start = Instant::now();
        while run.count.load(Ordering::SeqCst) < kill_after {
            assert!(
                wait_start.elapsed() < Duration::from_secs(300),
                "no {kill_after} writes acknowledged in 5 minutes; log:\n{}",
                run.server.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Killed while the writers are still sending.
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(run.server.pid()),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        run.stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        let run = Arc::into_inner(run).expect("the writers are done");
        let mut dead = run.server;
        dead.kill9();
        total_acked += run.count.load(Ordering::SeqCst);
        acked = run.acked.into_inner().unwrap();
        left_after_kill += temp_files(&data).len();

        let s = Deckd::start(&place, &[], &log).await;
        let leftovers = temp_files(&data);
        left_after_start += leftovers.len();
        assert_eq!(
            integrity(&data).await,
            "ok",
            "integrity_check after kill {}",
            iteration + 1
        );
        let missing = lost(&s, &alice, &acked, &data).await;
        if !missing.is_empty() || !leftovers.is_empty() {
            eprintln!(
                "after kill {}: lost {missing:?}, leftovers {leftovers:?}",
                iteration + 1
            );
        }
        lost_total.extend(missing);
        server = Some(s);
    }
    let elapsed = started.elapsed();
    drop(server);

    let report = format!(
        "# kill -9 crash loop (tests/suite/crash_loop.rs)\n\n\
         Real `deckd serve` (ci profile), four concurrent writers (publish, owner edits, two media uploaders), \
         killed with SIGKILL after 5-30 newly acknowledged writes, restarted on the same data dir; after each \
         restart every acknowledged write is read back over HTTP (media also checked on disk), `PRAGMA integrity_check` run.\n\n\
         | figure | value |\n|---|---|\n\
         | iterations (kills) | {iterations} |\n\
         | acknowledged writes | {total_acked} |\n\
         | decks / owner edits / media files acknowledged | {} / {} / {} |\n\
         | lost acknowledged writes | {} |\n\
         | temporary files found right after the kills (before the restart's sweep) | {left_after_kill} |\n\
         | temporary files left after restart | {left_after_start} |\n\
         | integrity_check | ok every time |\n\
         | wall time | {:.0} s |\n\n\
         Command: `DECKD_CRASH_ITERATIONS={iterations} cargo test --profile ci --test suite crash_loop:: -- --nocapture`\n",
        acked.decks.len(),
        acked.notes.len(),
        acked.media.len(),
        lost_total.len(),
        elapsed.as_secs_f64(),
    );
    println!("{report}");
    let results =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/reliability-crash.md");
    std::fs::write(&results, &report)
        .unwrap_or_else(|e| eprintln!("could not write {}: {e}", results.display()));
    assert!(
        lost_total.is_empty(),
        "acknowledged writes lost: {lost_total:?}"
    );
    assert_eq!(
        left_after_start, 0,
        "temporary files must be swept at start-up"
    );
}
