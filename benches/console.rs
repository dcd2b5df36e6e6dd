//! Web console benchmark (issue 14 point 7): spawns the real `deckd`, fills a review
//! queue over the add-on protocol, then measures the console's pages as a browser gets
//! them, and what using the console adds to the server's memory.
//!
//!     cargo bench --profile ci --bench console [-- --out other.md]
//!         [--env DECKD_KEY=value]… [--save-pages DIR]
//!
//! `--env` sets a setting of both spawned servers; `--save-pages` keeps the measured pages.
//!
//! - The queue page `/console/review` and its list fragment `/console/review/list` with
//!   500 pending suggestions (50 a page), and the queue's last page (`?after=`).
//! - A suggestion page `/console/review/<id>` whose suggestion changes 200 notes (20 a
//!   page; page 1 is measured and the pages are counted), with two fields of each note
//!   changed, and a heavier one with every field and a tag changed.
//! - Time to first byte (the answer's head received) and total time, p50/p95, with one
//!   client and 8 concurrent clients, without and with `Accept-Encoding: gzip`, and each
//!   page's size in bytes both ways.
//! - The server's RSS from /proc/<pid>/status and smaps: settled after a restart on the
//!   filled data and an add-on login and full pull (no console request), after the first
//!   renders of each page, and settled after the console served the pages above thousands
//!   of times: the difference between the settled ends is what the console adds.
//!
//! It rewrites benches/results/console.md (or `--out`).

#[path = "deckgen.rs"]
mod deckgen;
#[path = "harness.rs"]
mod harness;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deckd::store::READERS_CLOSED_WITHIN;
use harness::{add_user, flag, gzb64, login, machine, Server};
use serde_json::{json, Value};

/// The deck with the 500 pending suggestions (alice's) and the one with the 200-note
/// suggestions (carol's, so that alice's queue holds exactly 500).
const QUEUE_DECK_UUID: &str = "7c0e1d2c-3b4a-11ef-9a7c-0242ac120501";
const BIG_DECK_UUID: &str = "7c0e1d2c-3b4a-11ef-9a7c-0242ac120200";
const PENDING: u64 = 500;
const BIG_NOTES: u64 = 200;
const CLIENTS: [usize; 2] = [1, 8];
/// Requests each client sends per measurement.
const PER_CLIENT: usize = 50;
/// The page budget, before compression.
const PAGE_BUDGET: usize = 50 * 1024;

/// A copy of `deck` holding only the notes whose guid number is in `range`, each changed
/// by `edit` (the tree is kept, so every note stays in its own subdeck).
fn edit_notes(deck: &Value, range: std::ops::Range<u64>, edit: &dyn Fn(u64, &mut Value)) -> Value {
    fn walk(node: &mut Value, range: &std::ops::Range<u64>, edit: &dyn Fn(u64, &mut Value)) {
        if let Some(notes) = node["notes"].as_array_mut() {
            notes.retain(|n| range.contains(&number_of(n)));
            for n in notes.iter_mut() {
                edit(number_of(n), n);
            }
        }
        if let Some(children) = node["children"].as_array_mut() {
            for c in children {
                walk(c, range, edit);
            }
        }
    }
    let mut out = deck.clone();
    walk(&mut out, &range, edit);
    out
}

fn number_of(note: &Value) -> u64 {
    let guid = note["guid"].as_str().unwrap_or_default();
    guid[guid.len().saturating_sub(8)..]
        .parse()
        .unwrap_or(u64::MAX)
}

fn field(note: &Value, i: usize) -> String {
    note["fields"][i].as_str().unwrap_or_default().to_string()
}

async fn publish(http: &reqwest::Client, base: &str, token: &str, deck: &Value) -> String {
    let body = gzb64(&json!({"deck": deckgen::to_addon_json(deck)}));
    let r = harness::create_deck(http, base, token, body).await;
    assert_eq!(r["status"], 1, "publishing {}: {r}", deck["name"]);
    r["message"].as_str().unwrap().to_string()
}

async fn suggest(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    hash: &str,
    deck: &Value,
    rationale: u64,
    comment: &str,
) {
    let body = json!({"remote_deck": hash, "deck_path": deck["name"], "new_name": deck["name"],
        "deck": deckgen::to_addon_json(deck), "rationale": rationale, "commit_text": comment,
        "force_overwrite": false});
    let r = http
        .post(format!("{base}/submitCard"))
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body(gzb64(&body))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(status.is_success(), "/submitCard: {status} {text}");
}

/// A browser signed in to the console: the `deckd_session` cookie of one sign-in.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
    /// Requests sent with this sign-in.
    sent: Arc<AtomicUsize>,
}

impl Browser {
    /// Signs in through the sign-in form as a same-origin browser does, keeping the
    /// session cookie and not following the redirect.
    async fn sign_in(http: &reqwest::Client, base: &str, user: &str) -> Browser {
        let r = http
            .post(format!("{base}/console/login"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("username", user), ("password", "benchmark-password")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "console sign-in of {user}");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.strip_prefix("deckd_session="))
            .map(|v| v.split(';').next().unwrap_or("").to_string())
            .find(|v| !v.is_empty())
            .expect("a deckd_session cookie");
        Browser {
            http: http.clone(),
            base: base.to_string(),
            cookie,
            sent: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    fn get(&self, path: &str, gzip: bool) -> reqwest::RequestBuilder {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.http
            .get(format!("{}{path}", self.base))
            .header("Cookie", format!("deckd_session={}", self.cookie))
            .header("Accept-Encoding", if gzip { "gzip" } else { "identity" })
    }

    /// The page as text, checked to be a 200 HTML answer.
    async fn page(&self, path: &str) -> String {
        let r = self.get(path, false).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    /// Bytes on the wire without and with gzip; the gzip answer is checked to decode
    /// to a page of the same size (each page masks its CSRF token afresh, at a fixed
    /// length).
    async fn sizes(&self, path: &str) -> (usize, usize) {
        let plain = self.get(path, false).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.unwrap();
        let gz = self.get(path, true).send().await.unwrap();
        assert_eq!(
            gz.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some("gzip"),
            "GET {path} with Accept-Encoding: gzip"
        );
        let gz = gz.bytes().await.unwrap();
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .expect("a gzip body");
        assert!(
            decoded.len().abs_diff(plain.len()) < 64,
            "GET {path}: gzip decodes to {} bytes, identity is {}",
            decoded.len(),
            plain.len()
        );
        (plain.len(), gz.len())
    }
}

/// Figures of one measurement.
struct Timing {
    requests: usize,
    elapsed: Duration,
    ttfb: (Duration, Duration),
    total: (Duration, Duration),
}

/// `clients` concurrent clients each GET `path` `per_client` times (after one untimed
/// request each); time to first byte is until the answer's head arrived, total until
/// the last byte of its body.
async fn measure(b: &Browser, path: &str, gzip: bool, clients: usize, per_client: usize) -> Timing {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (b, path) = (b.clone(), path.to_string());
            tokio::spawn(async move {
                let warm = b.get(&path, gzip).send().await.unwrap();
                assert_eq!(warm.status().as_u16(), 200, "GET {path}");
                warm.bytes().await.unwrap();
                let mut out = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t = Instant::now();
                    let r = b.get(&path, gzip).send().await.unwrap();
                    let first = t.elapsed();
                    assert_eq!(r.status().as_u16(), 200, "GET {path}");
                    r.bytes().await.unwrap();
                    out.push((first, t.elapsed()));
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let pct = |mut v: Vec<Duration>| {
        v.sort();
        let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        (at(0.50), at(0.95))
    };
    Timing {
        requests: all.len(),
        elapsed,
        ttfb: pct(all.iter().map(|a| a.0).collect()),
        total: pct(all.iter().map(|a| a.1).collect()),
    }
}

/// The `rel="next"` link of a page.
fn next_link(page: &str) -> Option<String> {
    let at = page.find("\" rel=\"next\"")?;
    let start = page[..at].rfind("href=\"")? + "href=\"".len();
    Some(page[start..at].replace("&amp;", "&"))
}

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

/// Follows `rel="next"` from `path`; answers the number of pages and the last one's path.
async fn pages_from(b: &Browser, path: &str) -> (usize, String) {
    let (mut pages, mut at) = (1, path.to_string());
    let mut page = b.page(&at).await;
    while let Some(next) = next_link(&page) {
        pages += 1;
        assert!(pages < 100, "more than 100 pages from {path}");
        at = next;
        page = b.page(&at).await;
    }
    (pages, at)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// The server's memory, in kB: VmRSS, its anonymous part, the deckd binary's resident
/// pages (code and read-only data), other files (libraries), and the peak VmHWM.
#[derive(Clone, Copy)]
struct Mem {
    rss: u64,
    anon: u64,
    binary: u64,
    libs: u64,
    peak: u64,
}

fn memory(s: &Server) -> Mem {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_deckd")).unwrap();
    let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", s.pid())).unwrap();
    let (mut binary, mut in_binary) = (0, false);
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            let path = line.split_whitespace().nth(5).unwrap_or("");
            in_binary = std::path::Path::new(path) == exe;
        } else if first == "Rss:" && in_binary {
            binary += words
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    let file = s.status_kb("RssFile:") + s.status_kb("RssShmem:");
    Mem {
        rss: s.status_kb("VmRSS:"),
        anon: s.status_kb("RssAnon:"),
        binary,
        libs: file.saturating_sub(binary),
        peak: s.status_kb("VmHWM:"),
    }
}

/// The server's memory once it has settled after its last request: a few seconds later
/// deckd empties idle SQLite caches and trims its allocator, and again once idle read
/// connections have closed (`READERS_CLOSED_WITHIN`). The writer's connection stays, and
/// one reader that the resource monitor uses every 15 s.
async fn settled(s: &Server) -> Mem {
    tokio::time::sleep(READERS_CLOSED_WITHIN + Duration::from_secs(5)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.sqlite_threads() > 2 {
        assert!(
            Instant::now() < deadline,
            "the read connections never closed: {} SQLite threads",
            s.sqlite_threads()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    memory(s)
}

/// What a subscriber's add-on does on a normal day: signs in and pulls its decks in full.
async fn addon_day(http: &reqwest::Client, base: &str, user: &str, hashes: &[&str]) {
    let _ = login(http, base, user).await;
    let sub = json!({"timestamp": "2000-01-01 00:00:00", "deckId": 0, "optional_tags": {}, "personal_tags": []});
    let map: serde_json::Map<String, Value> = hashes
        .iter()
        .map(|h| (h.to_string(), sub.clone()))
        .collect();
    let r = http
        .post(format!("{base}/pullChanges"))
        .json(&map)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "/pullChanges: {}", r.status());
    let _ = r.bytes().await.unwrap();
}

fn mb(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

fn mem_row(what: &str, m: &Mem) -> String {
    format!(
        "| {what} | {} | {} | {} | {} | {} |",
        mb(m.rss),
        mb(m.anon),
        mb(m.binary),
        mb(m.libs),
        mb(m.peak)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(args) = harness::bench_args() else {
        return;
    };
    // `--env KEY=VALUE` (repeatable): settings for both spawned servers.
    let env: Vec<(String, String)> = args
        .iter()
        .zip(args.iter().skip(1))
        .filter(|(flag, _)| *flag == "--env")
        .map(|(_, kv)| {
            let (k, v) = kv.split_once('=').expect("--env takes KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for user in ["alice", "bob", "carol"] {
        add_user(&data, user);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let mut memory_rows = Vec::new();

    // 1. A fresh server, no request at all.
    let server = Server::start(&data, &env);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fresh = memory(&server);
    memory_rows.push(mem_row("fresh start, empty database, no request", &fresh));
    eprintln!("{}", memory_rows.last().unwrap());
    let base = server.base.clone();

    // 2. The queue over the add-on protocol: alice publishes 600 notes; bob suggests a
    //    change to each of 500 of them, one suggestion each.
    let (alice, bob, carol) = (
        login(&http, &base, "alice").await,
        login(&http, &base, "bob").await,
        login(&http, &base, "carol").await,
    );
    let queue_deck = deckgen::deck("Pharmacology", QUEUE_DECK_UUID, "CQ", 600, 5);
    let queue_hash = publish(&http, &base, &alice, &queue_deck).await;
    for i in 0..PENDING {
        let edit = edit_notes(&queue_deck, i..i + 1, &|n, note| {
            note["fields"][0] = json!(format!("{} (corrected {n})", field(note, 0)));
        });
        let comment = format!(
            "Corrected the dose in card {i}; see the 2025 guideline, table {}.",
            i % 12 + 1
        );
        suggest(&http, &base, &bob, &queue_hash, &edit, 2 + i % 4, &comment).await;
    }

    //    carol publishes 300 notes; bob suggests changes to 200 of them at once, twice:
    //    two fields a note, and every field plus a tag a note.
    let big_deck = deckgen::deck("Anatomy", BIG_DECK_UUID, "CB", 300, 4);
    let big_hash = publish(&http, &base, &carol, &big_deck).await;
    let two_fields = edit_notes(&big_deck, 0..BIG_NOTES, &|n, note| {
        note["fields"][0] = json!(format!("{} (revised)", field(note, 0)));
        note["fields"][1] = json!(field(note, 1).replacen("<b>", &format!("<b>updated {n} "), 1));
    });
    let comment = "Revised 200 cards after the 2025 edition of the atlas.";
    suggest(&http, &base, &bob, &big_hash, &two_fields, 9, comment).await;
    let everything = edit_notes(&big_deck, 0..BIG_NOTES, &|n, note| {
        note["fields"][0] = json!(format!("{} (revised)", field(note, 0)));
        note["fields"][1] = json!(field(note, 1).replacen("<b>", &format!("<b>updated {n} "), 1));
        note["fields"][2] = json!(format!("<i>Source: atlas 2025, page {n}</i>"));
        note["tags"]
            .as_array_mut()
            .unwrap()
            .push(json!("revised_2025"));
    });
    let comment = "Every field of 200 cards, and a tag.";
    suggest(&http, &base, &bob, &big_hash, &everything, 9, comment).await;
    memory_rows.push(mem_row(
        &format!(
            "after publishing 900 notes and the {} suggestions",
            PENDING + 2
        ),
        &memory(&server),
    ));
    eprintln!("{}", memory_rows.last().unwrap());
    // One server per data directory (deckd holds deckd.pid): stop this one first.
    drop(server);
    let db_bytes: u64 = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("deckd.sqlite3"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();

    // 3. The same data behind a restarted server that served the add-on (a login and a
    //    full pull of both decks), settled: what an idle box holds before any console
    //    request. The peak is counted from here on.
    let server = Server::start(&data, &env);
    let base = server.base.clone();
    addon_day(&http, &base, "alice", &[&queue_hash, &big_hash]).await;
    let _ = std::fs::write(format!("/proc/{}/clear_refs", server.pid()), "5");
    let idle = settled(&server).await;
    memory_rows.push(mem_row(
        "**restarted on that data, served an add-on login and a full pull of both decks, settled**",
        &idle,
    ));
    eprintln!("{}", memory_rows.last().unwrap());

    // 4. The console, from browsers of their own (their connections close at the end).
    let console_http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(16)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let reviewer = Browser::sign_in(&console_http, &base, "alice").await;
    let big_reviewer = Browser::sign_in(&console_http, &base, "carol").await;
    let requests = |b: &[&Browser]| b.iter().map(|b| b.sent()).sum::<usize>();
    memory_rows.push(mem_row("after 2 console sign-ins", &memory(&server)));
    eprintln!("{}", memory_rows.last().unwrap());
    let queue = reviewer.page("/console/review").await;
    assert_eq!(
        count(&queue, "data-commit=\""),
        50,
        "the queue page shows 50"
    );
    assert!(
        queue.contains(&format!(">{PENDING}</span>")),
        "the queue counts {PENDING}"
    );
    let list = reviewer.page("/console/review/list").await;
    assert_eq!(count(&list, "data-commit=\""), 50, "the list shows 50");
    let (queue_pages, last_queue) = pages_from(&reviewer, "/console/review").await;
    assert_eq!(queue_pages, 10, "500 suggestions in pages of 50");
    let last = reviewer.page(&last_queue).await;
    assert_eq!(count(&last, "data-commit=\""), 50);
    memory_rows.push(mem_row(
        &format!(
            "… and {} queue pages (every page of the queue once, first page and list twice)",
            requests(&[&reviewer])
        ),
        &memory(&server),
    ));
    eprintln!("{}", memory_rows.last().unwrap());
    let ids: Vec<String> = {
        let page = big_reviewer.page("/console/review").await;
        page.match_indices("data-commit=\"")
            .map(|(at, m)| {
                let rest = &page[at + m.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    };
    assert_eq!(
        ids.len(),
        2,
        "carol's queue holds the two 200-note suggestions"
    );
    let mut suggestion_pages = Vec::new();
    for id in &ids {
        let path = format!("/console/review/{id}");
        let page = big_reviewer.page(&path).await;
        let shown = count(&page, "<section class=\"card\" id=\"note-");
        assert!(
            page.contains(&format!("1–{shown} of {BIG_NOTES}")),
            "{path} says 1–{shown} of {BIG_NOTES}"
        );
        let (pages, _) = pages_from(&big_reviewer, &path).await;
        suggestion_pages.push((
            path,
            pages,
            shown,
            count(&page, "data-field=\""),
            count(&page, "data-tag=\""),
        ));
    }

    struct Target<'a> {
        name: String,
        path: String,
        who: &'a Browser,
    }
    let mut targets = vec![
        Target {
            name: format!("queue page, {PENDING} pending (first 50)"),
            path: "/console/review".into(),
            who: &reviewer,
        },
        Target {
            name: "queue list fragment (first 50)".into(),
            path: "/console/review/list".into(),
            who: &reviewer,
        },
        Target {
            name: format!("queue page {queue_pages} of {queue_pages} (`?after=`)"),
            path: last_queue.clone(),
            who: &reviewer,
        },
    ];
    let kinds = [
        "two fields a note changed",
        "every field and a tag a note changed",
    ];
    for ((path, pages, _, _, _), kind) in suggestion_pages.iter().zip(kinds) {
        targets.push(Target {
            name: format!("suggestion of {BIG_NOTES} notes, {kind}: page 1 of {pages}"),
            path: path.clone(),
            who: &big_reviewer,
        });
    }

    let mut size_rows = Vec::new();
    let mut over_budget = Vec::new();
    for t in &targets {
        let (plain, gz) = t.who.sizes(&t.path).await;
        if let Some(dir) = flag(&args, "--save-pages") {
            let file = t.path.trim_start_matches('/').replace(['/', '?', '='], "_");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{file}.html")),
                t.who.page(&t.path).await,
            )
            .unwrap();
        }
        if plain > PAGE_BUDGET {
            over_budget.push(format!("{} ({} bytes)", t.name, plain));
        }
        let verdict = if plain > PAGE_BUDGET {
            "**no, over 50 KB**"
        } else {
            "yes"
        };
        size_rows.push(format!(
            "| {} | `{}` | {plain} ({}) | {gz} ({}) | {verdict} |",
            t.name,
            t.path,
            kb(plain),
            kb(gz)
        ));
        eprintln!("{}", size_rows.last().unwrap());
    }
    memory_rows.push(mem_row(
        &format!(
            "… and every page of both suggestions, and each measured page sized: {} console pages in all",
            requests(&[&reviewer, &big_reviewer])
        ),
        &memory(&server),
    ));
    eprintln!("{}", memory_rows.last().unwrap());

    let mut rows = Vec::new();
    for t in &targets {
        for gzip in [false, true] {
            for clients in CLIENTS {
                let r = measure(t.who, &t.path, gzip, clients, PER_CLIENT).await;
                rows.push(format!(
                    "| {} | {} | {clients} | {} | {:.0} | {} | {} | {} | {} | {} |",
                    t.name,
                    if gzip { "gzip" } else { "identity" },
                    r.requests,
                    r.requests as f64 / r.elapsed.as_secs_f64(),
                    ms(r.ttfb.0),
                    ms(r.ttfb.1),
                    ms(r.total.0),
                    ms(r.total.1),
                    mb(memory(&server).rss),
                ));
                eprintln!("{}", rows.last().unwrap());
            }
        }
    }
    let total_requests = requests(&[&reviewer, &big_reviewer]);
    drop(targets);
    drop((reviewer, big_reviewer, console_http));
    let used = settled(&server).await;
    memory_rows.push(mem_row(
        &format!(
            "**after {total_requests} console page requests, the browsers' connections closed, settled**"
        ),
        &used,
    ));
    eprintln!("{}", memory_rows.last().unwrap());
    drop(server);

    // The report.
    let profile = harness::profile_flag();
    let command = if args.is_empty() {
        format!("cargo bench{profile} --bench console")
    } else {
        format!("cargo bench{profile} --bench console -- {}", args.join(" "))
    };
    // Which code was measured: the commit, and any uncommitted change to the server's code.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
            .unwrap_or_default()
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "src",
        "templates",
        "migrations",
        "Cargo.lock",
    ]);
    let code = if dirty.is_empty() {
        format!("deckd at commit {commit}")
    } else {
        format!(
            "deckd at commit {commit} plus uncommitted changes to {}",
            dirty
                .lines()
                .filter_map(|l| l.get(3..))
                .map(|path| format!("`{path}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let diff = |a: u64, b: u64| (a as i64 - b as i64) as f64 / 1024.0;
    let added = diff(used.rss, idle.rss);
    let verdict = if added <= 2.0 { "within" } else { "**over**" };
    let budget_line = if over_budget.is_empty() {
        "Every page measured is under 50 KB before compression.".to_string()
    } else {
        format!(
            "**Over the 50 KB page budget of issue 14 (point 1, \"under 50 KB before compression\"): {}.**",
            over_budget.join("; ")
        )
    };
    let (two, every) = (&suggestion_pages[0], &suggestion_pages[1]);
    let report = format!(
        "# Console benchmark\n\n\
         Produced by `{command}` against the spawned `{}` ({code}) on {} ({}).\n\
         The benchmark talks to the real binary over 127.0.0.1 (the load program shares the machine's cores) \
         and reads the server's memory from /proc/<pid>/status and /proc/<pid>/smaps.\n\n\
         Data, all over the add-on protocol: alice publishes a 600-note deck (`benches/deckgen.rs`, 6 subdecks); bob sends \
         {PENDING} `/submitCard` suggestions, each changing the first field of a different note, with a one-line comment. \
         carol publishes a 300-note deck and bob sends two suggestions changing {BIG_NOTES} of its notes each: one changes \
         two of the three fields of every note (a word appended, a word inserted inside `<b>`; {} field changes on \
         page 1), the other every field and adds a tag ({} field and {} tag changes on page 1). The database is {:.1} MB. \
         Sizes and times are the pages as a signed-in browser gets them (session cookie; no redirect followed).\n\n\
         ## Page sizes\n\n\
         | page | path | bytes | gzip bytes | under 50 KB |\n|---|---|---|---|---|\n{}\n\n\
         {budget_line} The queue shows 50 suggestions a page: {PENDING} pending make {queue_pages} pages. \
         A suggestion shows at most 20 notes and about 32 KB of field content a page: {BIG_NOTES} notes make {} pages ({} for the second), {} and {} notes on page 1.\n\n\
         ## Time to first byte and total time\n\n\
         Each client sends one untimed request, then {PER_CLIENT} timed ones, one after the other; \
         with 8 clients the 8 run at once. Time to first byte is until the answer's head arrived (deckd renders the \
         whole page before it answers, so it is nearly the total), total until its last byte. The last column is the \
         server's RSS after the row.\n\n\
         | page | encoding | clients | requests | req/s | TTFB p50 ms | TTFB p95 ms | total p50 ms | total p95 ms | RSS MB |\n\
         |---|---|---|---|---|---|---|---|---|---|\n{}\n\n\
         ## Memory (server process, MB)\n\n\
         \"binary\" is the resident pages of the deckd executable (code and read-only data); the peak (VmHWM) is since \
         start, and from the restart on since the first row in bold.\n\n\
         | when | VmRSS | anonymous | binary | other files | peak |\n|---|---|---|---|---|---|\n{}\n\n\
         Using the console added **{added:+.2} MB** of RSS to the idle server ({:+.2} MB anonymous, {:+.2} MB of the \
         binary's pages), {verdict} the 2 MB budget of issue 14 point 7. Both ends are the settled server: once no request \
         has started for a few seconds deckd empties idle SQLite caches and trims its allocator, and again {} s later, \
         when idle read connections (each with a page cache, prepared statements and a thread) have closed.\n",
        env!("CARGO_BIN_EXE_deckd"),
        machine(),
        time::OffsetDateTime::now_utc().date(),
        two.3,
        every.3,
        every.4,
        db_bytes as f64 / 1e6,
        size_rows.join("\n"),
        two.1,
        every.1,
        two.2,
        every.2,
        rows.join("\n"),
        memory_rows.join("\n"),
        diff(used.anon, idle.anon),
        diff(used.binary, idle.binary),
        READERS_CLOSED_WITHIN.as_secs(),
    );
    println!("{report}");
    let out = flag(&args, "--out")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/results/console.md")
        });
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
