//! Hostile uploads against the real binary: huge strings and millions of notes, alone and
//! four at once, must each get a clear 4xx while the server's memory high-water mark
//! (VmHWM in /proc/<pid>/status) stays under the 64 MiB budget, and the server keeps
//! serving afterwards. Bodies are generated and gzipped on the fly, so the test never
//! holds the decompressed payload either.
use deckd_testkit as common;
use deckd_testkit::spawned;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Resp;
use common::{
    create_deck_envelope, gzb64_encode_plugin, tiny_deck, BASIC_MODEL_UUID, DEMO_HASH, DEMO_NAME,
};
use spawned::Deckd;

/// The memory budget of deckd on a small board (BENCHMARKS.md).
const BUDGET_KIB: u64 = 64 * 1024;

/// base64(gzip(text)) of text written in pieces by `write`, never held whole.
fn gzb64_streamed(write: impl FnOnce(&mut dyn Write)) -> String {
    let mut enc = deckd::wire::gzb64::encoder(Vec::new());
    write(&mut enc);
    String::from_utf8(deckd::wire::gzb64::finish(enc).unwrap()).unwrap()
}

/// `/createDeck` whose deck has one note whose first field is `len` bytes of `a`.
fn huge_string_deck(len: usize) -> String {
    gzb64_streamed(|w| {
        write!(
            w,
            r#"{{"deck": "{{\"crowdanki_uuid\": \"5d1bd1e2-7a55-4a2b-9c57-7e1f5b3c0a11\", \"name\": \"Huge\", \"note_models\": [], \"notes\": [{{\"guid\": \"huge1\", \"note_model_uuid\": \"{BASIC_MODEL_UUID}\", \"fields\": [\""#
        )
        .unwrap();
        let chunk = vec![b'a'; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len());
            w.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        w.write_all(br#"\", \"b\"]}]}"}"#).unwrap();
    })
}

/// `/createDeck` whose deck has `notes` notes, each with two fields of `len` double quotes:
/// accepted, but every quote is stored as `&quot;` (six bytes), so what the server writes
/// is six times what it was sent.
fn quoted_fields_deck(notes: usize, len: usize) -> String {
    gzb64_streamed(|w| {
        write!(
            w,
            r#"{{"deck": "{{\"crowdanki_uuid\": \"5d1bd1e2-7a55-4a2b-9c57-7e1f5b3c0a12\", \"name\": \"Quotes\", \"note_models\": [{model}], \"notes\": ["#,
            model = common::basic_model().to_string().replace('\\', "\\\\").replace('"', "\\\"")
        )
        .unwrap();
        let field = r#"\\\""#.repeat(len);
        for i in 0..notes {
            let sep = if i == 0 { "" } else { "," };
            write!(
                w,
                r#"{sep}{{\"guid\": \"quoted{i}\", \"note_model_uuid\": \"{BASIC_MODEL_UUID}\", \"fields\": [\"{field}\", \"{field}\"]}}"#
            )
            .unwrap();
        }
        w.write_all(br#"]}"}"#).unwrap();
    })
}

/// `/submitCard` for the demo deck carrying `count` notes whose two fields are `field`
/// (already escaped for the deck string inside the body's JSON).
fn demo_suggestion(count: usize, field: &str) -> String {
    suggestion(
        (DEMO_HASH, DEMO_NAME, "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002"),
        "n",
        count,
        field,
        false,
    )
}

/// `/submitCard` for the deck `(hash, name, uuid)` carrying `count` notes with guids
/// `prefix0..`, whose two fields are `field`; `force` applies it when sent by the owner.
fn suggestion(
    (hash, name, uuid): (&str, &str, &str),
    prefix: &str,
    count: usize,
    field: &str,
    force: bool,
) -> String {
    gzb64_streamed(|w| {
        write!(w, r#"{{"remote_deck": "{hash}", "deck_path": "{name}", "new_name": "{name}", "rationale": 1, "commit_text": "many", "force_overwrite": {force}, "deck": "{{\"crowdanki_uuid\": \"{uuid}\", \"name\": \"{name}\", \"notes\": ["#).unwrap();
        for i in 0..count {
            let sep = if i == 0 { "" } else { "," };
            write!(w, r#"{sep}{{\"guid\": \"{prefix}{i}\", \"fields\": [\"{field}\", \"{field}\"], \"note_model_uuid\": \"{BASIC_MODEL_UUID}\"}}"#).unwrap();
        }
        w.write_all(br#"]}"}"#).unwrap();
    })
}

/// A refusal the add-on can show: 413, or 429 with Retry-After while other big uploads decode.
fn assert_refused(a: &Resp, what: &str) {
    let clear = a.status == 413 || (a.status == 429 && a.headers.contains_key("retry-after"));
    assert!(
        clear,
        "{what}: expected 413 (or 429 with Retry-After), got {} {}",
        a.status,
        a.text.chars().take(300).collect::<String>()
    );
}

/// Sends `body` to `path` `copies` times at once; answers every reply.
async fn attack(server: &Deckd, token: &str, path: &str, body: &str, copies: usize) -> Vec<Resp> {
    futures_util::future::join_all(
        (0..copies).map(|_| server.post_text(path, token, body.to_string())),
    )
    .await
}

/// The largest anonymous and file-backed resident sizes (KiB) sampled while `work` runs,
/// so a report can tell memory the server allocated from its binary's pages.
async fn largest_rss_split<T>(
    server: &Deckd,
    work: impl std::future::Future<Output = T>,
) -> (T, u64, u64) {
    let anon = std::cell::Cell::new(0);
    let file = std::cell::Cell::new(0);
    let sample = async {
        let mut every = tokio::time::interval(Duration::from_millis(5));
        loop {
            every.tick().await;
            anon.set(anon.get().max(server.status_kb("RssAnon:")));
            file.set(file.get().max(server.status_kb("RssFile:")));
        }
    };
    let got = tokio::select! {
        got = work => got,
        never = sample => never,
    };
    (got, anon.get(), file.get())
}

/// Waits (bounded) until the server's resident set falls back under `kib`.
async fn wait_rss_below(server: &Deckd, kib: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        every.tick().await;
        let rss = server.status_kb("VmRSS:");
        if rss < kib || Instant::now() > deadline {
            return rss;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_uploads_stay_under_the_memory_budget() {
    let mut server = Deckd::start_temp(&[]).await;
    let token = server.user("attacker").await;
    let published = server
        .post_text(
            "/createDeck",
            &token,
            gzb64_encode_plugin(&create_deck_envelope(&tiny_deck())),
        )
        .await;
    assert_eq!(
        published.status, 200,
        "publishing the demo deck: {}",
        published.text
    );
    let idle = server.status_kb("VmRSS:");

    let bodies = [
        ("/createDeck", huge_string_deck(64 << 20), "a 64 MiB string"),
        (
            "/createDeck",
            huge_string_deck(250 << 20),
            "a 250 MiB string",
        ),
        (
            "/submitCard",
            demo_suggestion(2_000_000, "q"),
            "a 2-million-note suggestion",
        ),
    ];
    let mut report = Vec::new();
    let mut answers = Vec::new();
    let mut hwm = 0;
    for copies in [1, 4] {
        for (path, body, what) in &bodies[if copies == 1 { 0 } else { 1 }..] {
            let what = format!("{copies} x {what}");
            server.reset_peak();
            let (got, anon, file) =
                largest_rss_split(&server, attack(&server, &token, path, body, copies)).await;
            let statuses: Vec<u16> = got.iter().map(|a| a.status).collect();
            let peak = server.status_kb("VmHWM:");
            hwm = hwm.max(peak);
            report.push(format!(
                "{what} ({} KiB of GZB64): {statuses:?}, peak VmHWM {peak} KiB (largest sampled: anonymous {anon} KiB, file {file} KiB)",
                body.len() / 1024
            ));
            answers.push((what, got));
        }
    }
    let after = wait_rss_below(&server, idle + 16 * 1024).await;
    let summary = format!(
        "idle VmRSS {idle} KiB\n{}\nVmRSS afterwards {after} KiB",
        report.join("\n")
    );
    eprintln!("{summary}");
    write_results(&summary);

    for (what, got) in &answers {
        got.iter().for_each(|a| assert_refused(a, what));
        assert!(
            got.iter().any(|a| a.status == 413),
            "{what}: at least one copy must be decoded and refused as too large"
        );
    }
    assert!(server.alive(), "deckd exited under the attack");
    let budget = server.memory_budget_kib(idle);
    assert!(
        hwm < budget,
        "deckd's memory high-water mark reached {hwm} KiB (budget {budget} KiB):\n{}",
        report.join("\n")
    );
    assert!(
        after < idle + 16 * 1024,
        "memory did not go back to the system: VmRSS {after} KiB, idle was {idle} KiB"
    );

    let mut deck = tiny_deck();
    deck["name"] = serde_json::json!("Still Serving");
    deck["crowdanki_uuid"] = serde_json::json!(uuid::Uuid::new_v4().to_string());
    let again = server
        .post_text(
            "/createDeck",
            &token,
            gzb64_encode_plugin(&create_deck_envelope(&deck)),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "publishing after the attack: {}",
        again.text
    );
    assert!(
        again.text.contains("\"status\":1"),
        "publishing after the attack: {}",
        again.text
    );
}

/// Decks whose fields grow sixfold when cleaned: one that would pass the note limit is
/// refused with 413 before it costs memory, one just under it is published whole, and
/// neither takes the server past the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fields_that_grow_when_cleaned_stay_under_the_memory_budget() {
    let server = Deckd::start_temp(&[]).await;
    let token = server.user("quoter").await;
    let idle = server.status_kb("VmRSS:");
    let budget = server.memory_budget_kib(idle);
    // 2 x 1.5 M quotes: 3 MB sent per note, 18 MB once cleaned (the limit is 4 MiB).
    server.reset_peak();
    let refused = server
        .post_text("/createDeck", &token, quoted_fields_deck(6, 1_500_000))
        .await;
    let peak_refused = server.status_kb("VmHWM:");
    assert_eq!(refused.status, 413, "{}", refused.text);
    assert!(
        refused.text.contains("once its HTML is cleaned"),
        "{}",
        refused.text
    );
    // 2 x 330,000 quotes: 3.96 MB per note once cleaned, just under the limit.
    server.reset_peak();
    let published = server
        .post_text("/createDeck", &token, quoted_fields_deck(6, 330_000))
        .await;
    let peak_published = server.status_kb("VmHWM:");
    eprintln!(
        "grown by cleaning: refused {} (peak VmHWM {peak_refused} KiB), published {} (peak {peak_published} KiB), idle {idle} KiB",
        refused.status, published.status
    );
    assert_eq!(published.status, 200, "{}", published.text);
    assert!(
        published.text.contains("\"status\":1"),
        "{}",
        published.text
    );
    // A suggestion holds all its notes at once: 12 notes of 0.6 MB, 43 MB once cleaned
    // (the limit for a suggestion's notes is 24 MiB).
    let demo = server
        .post_text(
            "/createDeck",
            &token,
            gzb64_encode_plugin(&create_deck_envelope(&tiny_deck())),
        )
        .await;
    assert_eq!(demo.status, 200, "{}", demo.text);
    server.reset_peak();
    let suggested = server
        .post_text(
            "/submitCard",
            &token,
            demo_suggestion(12, &r#"\\\""#.repeat(300_000)),
        )
        .await;
    let peak_suggested = server.status_kb("VmHWM:");
    eprintln!(
        "suggestion grown by cleaning: {} (peak VmHWM {peak_suggested} KiB)",
        suggested.status
    );
    assert_eq!(suggested.status, 413, "{}", suggested.text);
    // Under qemu-user these attacks run code no earlier one did, and the emulator's
    // translation cache grows by more than the allowance (measured: 50 MiB over idle for
    // the suggestion, 35 natively): the budget is proven by the native run.
    if !server.emulated() {
        for peak in [peak_refused, peak_published, peak_suggested] {
            assert!(peak < budget, "VmHWM {peak} KiB, budget {budget} KiB");
        }
    }
}

/// A deck of fat notes (24 notes of 4 MB once cleaned, 95 MB in all, built from an owner's
/// publish and forced suggestions) is pulled whole by a new subscriber while the server
/// stays under the budget: pulls read a deck in batches bounded by bytes, not only by count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deck_of_fat_notes_is_pulled_within_the_memory_budget() {
    let server = Deckd::start_temp(&[]).await;
    let token = server.user("fattener").await;
    let idle = server.status_kb("VmRSS:");
    let budget = server.memory_budget_kib(idle);
    let field = r#"\\\""#.repeat(330_000);
    let published = server
        .post_text("/createDeck", &token, quoted_fields_deck(6, 330_000))
        .await;
    assert_eq!(published.status, 200, "{}", published.text);
    let uuid = "5d1bd1e2-7a55-4a2b-9c57-7e1f5b3c0a12";
    let hash = common::humanhash(uuid);
    for round in 0..3 {
        let more = server
            .post_text(
                "/submitCard",
                &token,
                suggestion(
                    (&hash, "Quotes", uuid),
                    &format!("fat{round}-"),
                    6,
                    &field,
                    true,
                ),
            )
            .await;
        assert_eq!(more.status, 200, "round {round}: {}", more.text);
    }
    server.reset_peak();
    let pulled = server
        .pull_all(&hash)
        .await
        .expect("the full pull answers 200");
    let peak = server.status_kb("VmHWM:");
    let notes = pulled[0]["deck"]["notes"].as_array().map_or(0, Vec::len);
    drop(pulled);
    eprintln!("pull of 24 fat notes: peak VmHWM {peak} KiB, idle {idle} KiB");
    assert_eq!(notes, 24, "every fat note is pulled");
    if !server.emulated() {
        assert!(peak < budget, "VmHWM {peak} KiB, budget {budget} KiB");
    }
}

/// Writes the figures of this run to benches/results/reliability-memory.md.
fn write_results(summary: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/results/reliability-memory.md");
    let text = format!(
        "# Hostile uploads against the real binary\n\n\
         Command: `cargo test --profile ci --test suite hostile_memory:: -- --nocapture` \
         (budget: VmHWM under {BUDGET_KIB} KiB for every attack).\n\n\
         Each line: attack (body size), statuses answered, the server's peak VmHWM during it.\n\n\
         ```\n{summary}\n```\n"
    );
    std::fs::write(&path, text)
        .unwrap_or_else(|e| eprintln!("could not write {}: {e}", path.display()));
}
