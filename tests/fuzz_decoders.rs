//! A structure-aware fuzzer for every decoder, on stable Rust: valid GZB64 envelopes,
//! deck JSON, CrowdAnki trees, statistics, SVGs and images are mutated (huge strings,
//! deep nesting, duplicated keys, wrong types, odd numbers, truncation, bit flips) by a
//! seeded generator, then
//! - fed to the library decoders directly, asserting no panic and bounded memory, and
//! - sent over real HTTP to the real binary, asserting never a 500 nor a 401 for a valid
//!   token, the server's memory high-water mark under budget, and a deck published
//!   before the run pulling identically after it.
//!
//! `DECKD_FUZZ_ITERATIONS` (default 1000 per part) and `DECKD_FUZZ_SEED` set the run; the
//! figures are printed and written to benches/results/reliability-fuzz.md.
use deckd_testkit as common;
use deckd_testkit::spawned;

use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use common::*;
use deckd::media::names::Kind;
use deckd::media::verify;
use deckd::wire::{envelope, gzb64, meter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Ceiling for the test process while it decodes in-process (it also holds its inputs).
const DIRECT_BUDGET_KIB: u64 = 256 * 1024;

fn iterations() -> usize {
    std::env::var("DECKD_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn seed() -> u64 {
    std::env::var("DECKD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_dec0)
}

fn self_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

// ------------------------------------------------------------------ seeds

fn seed_deck(rng: &mut StdRng) -> Value {
    let g = gen_deck(
        &format!("Fuzz {}", rng.random::<u32>()),
        rng.random_range(1..20),
        rng.random_range(0..4),
    );
    g.deck
}

fn seed_stats(rng: &mut StdRng) -> Value {
    let notes: serde_json::Map<String, Value> = (0..rng.random_range(1..10))
        .map(|i| {
            (
                format!("g{i}"),
                json!({"retention": rng.random_range(0..100), "lapses": 1, "reps": 3}),
            )
        })
        .collect();
    json!({"deck_hash": DEMO_HASH, "review_history": {"Demo Deck": notes}})
}

fn seed_svg(rng: &mut StdRng) -> Vec<u8> {
    let depth = rng.random_range(1..40);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}<rect width="5" height="5" fill="#f00"/>{}</svg>"##,
        "<g>".repeat(depth),
        "</g>".repeat(depth)
    )
    .into_bytes()
}

const IMAGE_TYPES: [(image::ImageFormat, &str); 6] = [
    (image::ImageFormat::Png, "png"),
    (image::ImageFormat::Jpeg, "jpg"),
    (image::ImageFormat::Gif, "gif"),
    (image::ImageFormat::WebP, "webp"),
    (image::ImageFormat::Bmp, "bmp"),
    (image::ImageFormat::Tiff, "tiff"),
];

fn seed_image(rng: &mut StdRng) -> (Vec<u8>, &'static str) {
    let (format, ext) = IMAGE_TYPES[rng.random_range(0..IMAGE_TYPES.len())];
    let img = image::DynamicImage::new_rgb8(rng.random_range(1..16), rng.random_range(1..16));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode a seed image");
    (out.into_inner(), ext)
}

// ------------------------------------------------------------------ mutations

/// A value somewhere in `v`, up to `depth` levels down.
fn pick_node<'a>(v: &'a mut Value, rng: &mut StdRng, depth: usize) -> &'a mut Value {
    let len = match &*v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if depth == 0 || len == 0 {
        return v;
    }
    let i = rng.random_range(0..len);
    match v {
        Value::Object(m) => {
            let k = m.keys().nth(i).unwrap().clone();
            pick_node(m.get_mut(&k).unwrap(), rng, depth - 1)
        }
        Value::Array(a) => pick_node(&mut a[i], rng, depth - 1),
        other => other,
    }
}

/// Changes one value of a JSON tree: a huge string, deep nesting, a wrong type, an odd number.
fn mutate_value(v: &mut Value, rng: &mut StdRng) {
    let depth = rng.random_range(0..6);
    let node = pick_node(v, rng, depth);
    *node = match rng.random_range(0..9) {
        0 => Value::String("A".repeat(rng.random_range(1..6) << 20)),
        1 => (0..rng.random_range(10..300)).fold(node.clone(), |inner, _| json!([inner])),
        2 => json!(rng.random::<i64>()),
        3 => json!(1e308),
        4 => Value::Null,
        5 => json!({"nested": node.clone(), "x": [1, 2, {"y": null}]}),
        6 => Value::Array(vec![json!("x"); rng.random_range(1..5000)]),
        7 => json!(true),
        _ => Value::String("\u{0}\u{fffd}<script>".repeat(rng.random_range(1..50))),
    };
}

/// Text-level changes serde_json cannot express: duplicated keys, NaN, huge numbers.
fn mutate_text(text: &mut String, rng: &mut StdRng) {
    if text.is_empty() {
        return;
    }
    let at = text
        .char_indices()
        .map(|(i, _)| i)
        .nth(rng.random_range(0..text.chars().count()))
        .unwrap_or(0);
    let insert = match rng.random_range(0..5) {
        0 => r#""name": "dup", "name": "again", "#,
        1 => "NaN",
        2 => "1e999999",
        3 => "18446744073709551616123",
        _ => "-0.0000000000000000000000001",
    };
    match text[at..].find('{') {
        Some(brace) if rng.random_bool(0.6) => text.insert_str(at + brace + 1, insert),
        _ => text.insert_str(at, insert),
    }
}

/// Byte-level damage: truncation and bit flips.
fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    if bytes.is_empty() {
        return;
    }
    match rng.random_range(0..3) {
        0 => bytes.truncate(rng.random_range(0..bytes.len())),
        1 => {
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
        }
        _ => {
            let i = rng.random_range(0..bytes.len());
            let n = rng.random_range(1..64).min(bytes.len() - i);
            bytes.drain(i..i + n);
        }
    }
}

fn gzb64_of(text: &[u8]) -> String {
    deckd::wire::gzb64::encode_bytes(text)
}

/// Which route (or decoder) an input is for.
#[derive(Clone, Copy, Debug)]
enum Target {
    CreateDeck,
    SubmitCard,
    Stats,
}

/// A mutated GZB64 body for `target`, mutated at the tree, text, inner-deck or byte level.
fn envelope_input(target: Target, rng: &mut StdRng, remote: &str) -> String {
    let mut deck = seed_deck(rng);
    let mut env = match target {
        Target::CreateDeck => None,
        Target::SubmitCard => Some(submit_body(
            remote,
            DEMO_NAME,
            DEMO_NAME,
            &Value::Null,
            1,
            "fuzz",
            rng.random_bool(0.3),
        )),
        Target::Stats => Some(seed_stats(rng)),
    };
    if rng.random_bool(0.5) {
        match &mut env {
            Some(e) if rng.random_bool(0.5) => mutate_value(e, rng),
            _ => mutate_value(&mut deck, rng),
        }
    }
    let mut deck_text = plugin_deck_string(&deck);
    if rng.random_bool(0.3) {
        mutate_text(&mut deck_text, rng);
    }
    let env = match (target, env) {
        (Target::Stats, Some(e)) => e,
        (_, Some(mut e)) => {
            if let Some(members) = e.as_object_mut() {
                members.insert("deck".into(), json!(deck_text));
            }
            e
        }
        (_, None) => json!({ "deck": deck_text }),
    };
    let mut text = ascii_escape(&env.to_string());
    if rng.random_bool(0.2) {
        mutate_text(&mut text, rng);
    }
    let mut bytes = text.into_bytes();
    if rng.random_bool(0.15) {
        mutate_bytes(&mut bytes, rng);
    }
    let mut body = gzb64_of(&bytes).into_bytes();
    if rng.random_bool(0.1) {
        mutate_bytes(&mut body, rng);
    }
    String::from_utf8_lossy(&body).into_owned()
}

// ------------------------------------------------------------------ part 1: decoders in-process

/// Runs one decoder under the server's limits; answers whether it refused the input.
fn decode(target: Target, body: &str, spool: &std::path::Path, pool: &meter::Pool) -> bool {
    let max_string = deckd::Config::default().max_json_string_bytes;
    let reader = || gzb64::decoder(body.as_bytes(), 256 << 20);
    let (ok, _) = match target {
        Target::CreateDeck => meter::run(pool.budget("deck", 8 << 20), || {
            envelope::create_deck(reader(), spool, max_string).map(|_| ())
        }),
        Target::SubmitCard => meter::run(pool.budget("suggestion", 24 << 20), || {
            envelope::submit_card(reader(), max_string).map(|_| ())
        }),
        Target::Stats => meter::run(pool.budget("stats", 16 << 20), || {
            envelope::deck_stats(reader(), max_string).map(|_| ())
        }),
    };
    ok.is_err()
}

fn check_media(bytes: &[u8], ext: &str, dir: &std::path::Path) -> bool {
    let path = dir.join(format!("fuzz.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let kind = Kind::from_extension(ext).unwrap();
    !matches!(verify::check(&path, kind, 64 << 20), Ok(Ok(())))
}

/// One generated input of the in-process part.
enum Input {
    Body(Target, String),
    Media(Vec<u8>, &'static str),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Input::Body(t, b) => write!(
                f,
                "{t:?} body of {} bytes starting {:?}",
                b.len(),
                &b[..b.len().min(200)]
            ),
            Input::Media(m, ext) => write!(
                f,
                "{ext} of {} bytes starting {:?}",
                m.len(),
                &m[..m.len().min(64)]
            ),
        }
    }
}

struct Tally {
    tried: usize,
    refused: usize,
}

#[test]
fn decoders_survive_mutated_input() {
    let (n, seed) = (iterations(), seed());
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let pool = meter::Pool::new(32 << 20);
    let started = Instant::now();
    let mut tally = Tally {
        tried: 0,
        refused: 0,
    };
    for i in 0..n {
        let input = match rng.random_range(0..5) {
            0 => Input::Body(
                Target::CreateDeck,
                envelope_input(Target::CreateDeck, &mut rng, DEMO_HASH),
            ),
            1 => Input::Body(
                Target::SubmitCard,
                envelope_input(Target::SubmitCard, &mut rng, DEMO_HASH),
            ),
            2 => Input::Body(
                Target::Stats,
                envelope_input(Target::Stats, &mut rng, DEMO_HASH),
            ),
            3 => {
                let mut svg = seed_svg(&mut rng);
                mutate_bytes(&mut svg, &mut rng);
                Input::Media(svg, "svg")
            }
            _ => {
                let (mut img, ext) = seed_image(&mut rng);
                if rng.random_bool(0.8) {
                    mutate_bytes(&mut img, &mut rng);
                }
                Input::Media(img, ext)
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| match &input {
            Input::Body(target, body) => decode(*target, body, dir.path(), &pool),
            Input::Media(bytes, ext) => check_media(bytes, ext, dir.path()),
        }));
        let refused = outcome.unwrap_or_else(|_| {
            panic!("a decoder panicked on input {i} of seed {seed}: {input:?}")
        });
        tally.tried += 1;
        tally.refused += refused as usize;
    }
    let peak = self_kb("VmHWM:");
    let line = format!(
        "| decoders in-process | {seed} | {} | {} | {peak} KiB (test process) | {:.1} s |",
        tally.tried,
        tally.refused,
        started.elapsed().as_secs_f64()
    );
    record(&line);
    assert!(
        peak < DIRECT_BUDGET_KIB,
        "the decoders let the test process reach {peak} KiB"
    );
}

// ------------------------------------------------------------------ part 2: over HTTP

async fn pull(server: &spawned::Deckd, hash: &str) -> Value {
    let r = server
        .http
        .post(server.url("/pullChanges"))
        .json(&json!({ hash: sub_value(FIRST_PULL_TS) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "/pullChanges");
    let mut v = gzb64_decode(&r.text().await.unwrap());
    for e in v.as_array_mut().unwrap() {
        sort_notes(&mut e["deck"]);
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_survives_mutated_requests() {
    let (n, seed) = (iterations(), seed());
    let mut rng = StdRng::seed_from_u64(seed ^ 0x4854_5450);
    let server = spawned::Deckd::start_temp(&[]).await;
    let owner = server.user("owner").await;
    let fuzzer = server.user("fuzzer").await;
    let idle = server.status_kb("VmRSS:");
    let witness = server
        .post_text(
            "/createDeck",
            &owner,
            gzb64_encode_plugin(&create_deck_envelope(&tiny_deck())),
        )
        .await;
    assert_eq!(
        witness.status, 200,
        "publishing the witness deck: {}",
        witness.text
    );
    let mut target = tiny_deck();
    target["crowdanki_uuid"] = json!(new_uuid());
    target["name"] = json!("Fuzz Target");
    let published = server
        .post_text(
            "/createDeck",
            &fuzzer,
            gzb64_encode_plugin(&create_deck_envelope(&target)),
        )
        .await;
    let target_hash: Value = serde_json::from_str(&published.text).unwrap();
    let target_hash = target_hash["message"].as_str().unwrap().to_string();
    let before = pull(&server, DEMO_HASH).await;

    let started = Instant::now();
    let mut tally = Tally {
        tried: 0,
        refused: 0,
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..n {
        let (path, kind) = match rng.random_range(0..3) {
            0 => ("/createDeck", Target::CreateDeck),
            1 => ("/submitCard", Target::SubmitCard),
            _ => ("/UploadDeckStats", Target::Stats),
        };
        let body = envelope_input(kind, &mut rng, &target_hash);
        let a = server.post_text(path, &fuzzer, body).await;
        assert!(
            a.status != 500 && a.status != 401,
            "input {i} of seed {seed} to {path}: {} {}",
            a.status,
            a.text
        );
        assert!(
            a.status < 500 || (a.status == 503 && a.headers.contains_key("retry-after")),
            "input {i} of seed {seed} to {path}: {} {}",
            a.status,
            a.text
        );
        *statuses.entry(a.status).or_default() += 1;
        tally.tried += 1;
        tally.refused += (a.status >= 400) as usize;
    }
    let peak = server.status_kb("VmHWM:");
    let after = pull(&server, DEMO_HASH).await;
    let line = format!(
        "| HTTP to the real binary | {seed} | {} | {} ({statuses:?}) | {peak} KiB (server) | {:.1} s |",
        tally.tried,
        tally.refused,
        started.elapsed().as_secs_f64()
    );
    record(&line);
    assert_eq!(before, after, "the witness deck changed under the fuzzer");
    let budget = server.memory_budget_kib(idle);
    assert!(
        peak < budget,
        "the server reached {peak} KiB under mutated requests (budget {budget} KiB)"
    );
}

/// Prints a result row and writes it to benches/results/reliability-fuzz.md (one row per part).
fn record(line: &str) {
    eprintln!("{line}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/results/reliability-fuzz.md");
    let part = line.split('|').nth(1).unwrap_or_default().to_string();
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(&path) {
        f.read_to_string(&mut text).unwrap();
    }
    let mut rows: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| part") && !l.contains(&part))
        .map(str::to_string)
        .collect();
    rows.push(line.to_string());
    rows.sort();
    let out = format!(
        "# Decoder fuzzing (tests/fuzz_decoders.rs)\n\nMutated inputs (huge strings, deep nesting, duplicated keys, wrong types, odd numbers, truncation, bit flips) of every decoder. Re-run with `DECKD_FUZZ_ITERATIONS=<n> DECKD_FUZZ_SEED=<s> cargo test --profile ci --test fuzz_decoders -- --nocapture`.\n\n| part | seed | inputs tried | refused | peak memory | time |\n|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    std::fs::write(&path, out).unwrap();
}
