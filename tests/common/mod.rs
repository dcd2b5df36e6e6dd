//! Shared harness for the deckd integration tests.
//!
//! Every test starts its own [`TestServer`]: a fresh temporary data directory, a
//! port-0 listener on 127.0.0.1 and `deckd::launch` running on a dedicated thread
//! with its own tokio runtime (so blocking CLI invocations from the test never stall
//! the server). Helpers speak the wire protocol of docs/protocol.md.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub mod media;
use base64::Engine as _;
use serde_json::{json, Value};

pub use serde_json;

/// Hash of the §9.3 tiny deck (root uuid `6f1d2c8e-3b4a-11ef-9a7c-0242ac120002`).
pub const DEMO_HASH: &str = "hot-zulu-indigo-eighteen-sad-alanine";
pub const DEMO_UUID: &str = "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002";
pub const DEMO_NAME: &str = "Demo Deck";
pub const BASIC_MODEL_UUID: &str = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002";
/// The first timestamp a new subscription sends (§2.3).
pub const FIRST_PULL_TS: &str = "2022-12-31 23:59:59";
pub const PERSONAL_TAGS: [&str; 3] = ["leech", "marked", "missing-media"];

/// §9.3, compact form (the plugin pretty-prints it with sorted keys).
pub const TINY_DECK_JSON: &str = r#"{"__type__": "Deck", "_field_mappings": {}, "children": [], "crowdanki_uuid": "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002",
 "deck_configurations": [{"__type__": "DeckConfig", "crowdanki_uuid": "c5d1e2f3-3b4a-11ef-9a7c-0242ac120002", "id": 1, "name": "Default", "new": {"perDay": 20}, "rev": {"perDay": 200}}],
 "desc": "Tiny demo deck", "dyn": 0, "extendNew": 0, "extendRev": 0, "id": 1718899999000, "keep_empty_subdecks": false, "name": "Demo Deck",
 "note_models": [{"__type__": "NoteModel", "crowdanki_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002",
   "css": ".card { font-family: arial; font-size: 20px; text-align: center; }",
   "flds": [{"collapsed": false, "description": "", "excludeFromSearch": false, "font": "Arial", "id": -5032847290344123456, "name": "Front", "ord": 0, "plainText": false, "preventDeletion": false, "rtl": false, "size": 20, "sticky": false, "tag": null},
            {"collapsed": false, "description": "", "excludeFromSearch": false, "font": "Arial", "id": 4470161023957123456, "name": "Back", "ord": 1, "plainText": false, "preventDeletion": false, "rtl": false, "size": 20, "sticky": false, "tag": null}],
   "id": 1718899990000, "latexPost": "\\end{document}", "latexPre": "\\documentclass[12pt]{article}\n\\begin{document}\n", "latexsvg": false,
   "name": "Basic (demo)", "originalStockKind": 1, "req": [[0, "any", [0]]], "sortf": 0, "tags": [],
   "tmpls": [{"afmt": "{{FrontSide}}<hr id=answer>{{Back}}", "bafmt": "", "bfont": "", "bqfmt": "", "bsize": 0, "did": null, "id": -2961478839101123456, "name": "Card 1", "ord": 0, "qfmt": "{{Front}}"}],
   "type": 0, "vers": []}],
 "notes": [{"__type__": "Note", "fields": ["What is the capital of France?", "Paris"], "guid": "AbCdEf1234", "id": 1718900000001, "note_model_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002", "tags": ["geo"]},
           {"__type__": "Note", "fields": ["Which colour is this?", "<img src=\"red1x1.png\">"], "guid": "XyZ9876543", "id": 1718900000002, "note_model_uuid": "0b7e3f4a-9c1d-11ee-8c90-0242ac120002", "tags": ["colours", "geo"]}],
 "root_deck_id": null}"#;

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

/// GZB64 of the compact JSON serialisation of `v`.
pub fn gzb64_encode(v: &Value) -> String {
    gzb64_encode_bytes(serde_json::to_string(v).unwrap().as_bytes())
}

/// GZB64 of arbitrary bytes (standard base64 with padding, gzip).
pub fn gzb64_encode_bytes(bytes: &[u8]) -> String {
    deckd::wire::gzb64::encode_bytes(bytes)
}

/// Decodes a GZB64 string (surrounding whitespace tolerated) into JSON. Panics with
/// a readable message when the input is not GZB64 JSON.
pub fn gzb64_decode(s: &str) -> Value {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_else(|e| panic!("response is not standard base64 ({e}): {}", preview(s)));
    let mut dec = flate2::read::MultiGzDecoder::new(&raw[..]);
    let mut out = Vec::new();
    dec.read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("response is not gzip ({e}): {}", preview(s)));
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "gzip payload is not JSON ({e}): {}",
            preview(&String::from_utf8_lossy(&out))
        )
    })
}

/// Escapes every non-ASCII character as `\uXXXX` (UTF-16 units), like Python's
/// `json.dumps(..., ensure_ascii=True)`. Only valid for serialised JSON text.
pub fn ascii_escape(json_text: &str) -> String {
    let mut out = String::with_capacity(json_text.len());
    for c in json_text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
        }
    }
    out
}

/// The deck string the plugin builds: `json.dumps(deck, sort_keys=True, indent=4, ensure_ascii=False)`.
pub fn plugin_deck_string(deck: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(deck, &mut ser).unwrap();
    String::from_utf8(buf).unwrap()
}

/// GZB64 of an envelope serialised the way the plugin does (ensure_ascii=True).
pub fn gzb64_encode_plugin(envelope: &Value) -> String {
    let text = ascii_escape(&serde_json::to_string(envelope).unwrap());
    gzb64_encode_bytes(text.as_bytes())
}

fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        p.push('…');
    }
    p
}

pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Deck hash (§3), used to predict the hash of generated decks
// ---------------------------------------------------------------------------------------

pub const WORDS: &str = "ack alabama alanine alaska alpha angel apart april arizona arkansas artist asparagus aspen august autumn avocado \
bacon bakerloo batman beer berlin beryllium black blossom blue bluebird bravo bulldog burger butter california carbon \
cardinal carolina carpet cat ceiling charlie chicken coffee cola cold colorado comet connecticut crazy cup dakota \
december delaware delta diet uwu double early earth east echo edward eight eighteen eleven emma enemy \
equal failed fanta fifteen fillet finch fish five fix floor florida football four fourteen foxtrot freddie \
friend fruit gee georgia glucose golf green grey hamper happy harry hawaii helium high hot hotel \
hydrogen idaho illinois india indigo ink iowa island item jersey jig johnny juliet july jupiter kansas \
kentucky kilo king kitten lactose lake lamp lemon leopard lima lion lithium london louisiana low magazine \
magnesium maine mango march mars maryland massachusetts may mexico michigan mike minnesota mirror mississippi missouri mobile \
mockingbird monkey montana moon mountain muppet music nebraska neptune network nevada nine nineteen nitrogen north november \
nuts october ohio oklahoma one orange oranges oregon oscar oven oxygen papa paris pasta pennsylvania pip \
pizza pluto potato princess purple quebec queen quiet red river robert robin romeo rugby sad salami \
saturn september seven seventeen shade sierra single sink six sixteen skylark snake social sodium solar south \
spaghetti speaker spring stairway steak stream summer sweet table tango ten tennessee tennis texas thirteen three \
timing triple twelve twenty two uncle undress uniform uranus utah vegan venus vermont victor video violet \
virginia washington west whiskey white william winner winter wisconsin wolfram wyoming xray yankee yellow zebra zulu";

/// humanhash with N = 5 (6 words) of a hyphenated UUID.
pub fn humanhash(uuid_str: &str) -> String {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    assert_eq!(words.len(), 256);
    let bytes = *uuid::Uuid::parse_str(uuid_str).unwrap().as_bytes();
    bytes
        .chunks(16 / 5)
        .map(|c| words[c.iter().fold(0u8, |a, b| a ^ b) as usize])
        .collect::<Vec<_>>()
        .join("-")
}

// ---------------------------------------------------------------------------------------
// Deck builders (CrowdAnki upload form, §2.1)
// ---------------------------------------------------------------------------------------

pub fn tiny_deck() -> Value {
    serde_json::from_str(TINY_DECK_JSON).unwrap()
}

/// The §9.3 notetype "Basic (demo)".
pub fn basic_model() -> Value {
    tiny_deck()["note_models"][0].clone()
}

static NOTE_ID: AtomicU64 = AtomicU64::new(1_718_900_100_000);
static SEQ: AtomicU64 = AtomicU64::new(0);

pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A short random alphanumeric string (for unique names/guids).
pub fn rand_tag(len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let u = uuid::Uuid::new_v4();
    let mut seed = u.as_u128() ^ (SEQ.fetch_add(1, Ordering::Relaxed) as u128);
    let mut s = String::new();
    for _ in 0..len {
        s.push(A[(seed % A.len() as u128) as usize] as char);
        seed /= A.len() as u128;
        if seed == 0 {
            seed = uuid::Uuid::new_v4().as_u128();
        }
    }
    s
}

/// A CrowdAnki note using the Basic (demo) notetype.
pub fn note(guid: &str, fields: &[&str], tags: &[&str]) -> Value {
    note_with_model(guid, fields, tags, BASIC_MODEL_UUID)
}

pub fn note_with_model(guid: &str, fields: &[&str], tags: &[&str], model_uuid: &str) -> Value {
    json!({
        "__type__": "Note",
        "fields": fields,
        "guid": guid,
        "id": NOTE_ID.fetch_add(1, Ordering::Relaxed),
        "note_model_uuid": model_uuid,
        "tags": tags,
    })
}

/// A child deck node: `name` is the last path segment only; no note_models.
pub fn child_deck(name: &str, notes: Vec<Value>, children: Vec<Value>) -> Value {
    json!({
        "__type__": "Deck",
        "children": children,
        "crowdanki_uuid": new_uuid(),
        "desc": "",
        "dyn": 0,
        "extendNew": 0,
        "extendRev": 0,
        "id": NOTE_ID.fetch_add(1, Ordering::Relaxed),
        "name": name,
        "notes": notes,
    })
}

/// A root deck node in the shape of §9.3 with the Basic (demo) notetype.
pub fn root_deck(
    name: &str,
    uuid: &str,
    desc: &str,
    notes: Vec<Value>,
    children: Vec<Value>,
) -> Value {
    let mut d = tiny_deck();
    d["name"] = json!(name);
    d["crowdanki_uuid"] = json!(uuid);
    d["desc"] = json!(desc);
    d["notes"] = Value::Array(notes);
    d["children"] = Value::Array(children);
    d
}

/// A generated deck: root + subdecks (the first subdeck has one nested grandchild).
pub struct GenDeck {
    pub deck: Value,
    pub name: String,
    pub uuid: String,
    /// guid → full deck path of the node holding it.
    pub notes: Vec<(String, String)>,
    /// Full paths of all nodes, root first.
    pub paths: Vec<String>,
}

impl GenDeck {
    pub fn guids(&self) -> Vec<String> {
        self.notes.iter().map(|(g, _)| g.clone()).collect()
    }
    pub fn hash(&self) -> String {
        humanhash(&self.uuid)
    }
}

/// Generates a deck named `name` with `n_notes` notes spread round-robin over the root,
/// `n_subdecks` children ("Part 00", "Part 01", …) and, when there is at least one
/// subdeck, a grandchild "Part 00::Nested".
pub fn gen_deck(name: &str, n_notes: usize, n_subdecks: usize) -> GenDeck {
    let uuid = new_uuid();
    let prefix = rand_tag(5);
    // node 0 = root, 1..=n = children, n+1 = grandchild (if n > 0)
    let n_nodes = 1 + n_subdecks + usize::from(n_subdecks > 0);
    let mut buckets: Vec<Vec<Value>> = vec![Vec::new(); n_nodes];
    let mut paths: Vec<String> = vec![name.to_string()];
    for i in 0..n_subdecks {
        paths.push(format!("{name}::Part {i:02}"));
    }
    if n_subdecks > 0 {
        paths.push(format!("{name}::Part 00::Nested"));
    }
    let mut notes = Vec::new();
    for i in 0..n_notes {
        let guid = format!("{prefix}{i:05}");
        let node = i % n_nodes;
        let front = format!("Question {i} of {name}");
        let back = format!("Answer {i}");
        buckets[node].push(note(
            &guid,
            &[&front, &back],
            &["gen", &format!("part{node}")],
        ));
        notes.push((guid, paths[node].clone()));
    }
    let mut buckets = buckets.into_iter();
    let root_notes = buckets.next().unwrap();
    let mut child_notes: Vec<Vec<Value>> =
        (0..n_subdecks).map(|_| buckets.next().unwrap()).collect();
    let mut children = Vec::new();
    if n_subdecks > 0 {
        let grand_notes = buckets.next().unwrap();
        let grand = child_deck("Nested", grand_notes, vec![]);
        let first = child_deck("Part 00", std::mem::take(&mut child_notes[0]), vec![grand]);
        children.push(first);
        for (i, ns) in child_notes.into_iter().enumerate().skip(1) {
            children.push(child_deck(&format!("Part {i:02}"), ns, vec![]));
        }
    }
    let deck = root_deck(
        name,
        &uuid,
        &format!("Generated deck {name}"),
        root_notes,
        children,
    );
    GenDeck {
        deck,
        name: name.to_string(),
        uuid,
        notes,
        paths,
    }
}

/// `{"deck": "<crowdanki json string>"}` as sent to /createDeck.
pub fn create_deck_envelope(deck: &Value) -> Value {
    json!({ "deck": plugin_deck_string(deck) })
}

/// The decoded /submitCard body (§1.3).
pub fn submit_body(
    remote_deck: &str,
    deck_path: &str,
    new_name: &str,
    deck: &Value,
    rationale: i64,
    commit_text: &str,
    force_overwrite: bool,
) -> Value {
    json!({
        "remote_deck": remote_deck,
        "deck_path": deck_path,
        "new_name": new_name,
        "deck": plugin_deck_string(deck),
        "rationale": rationale,
        "commit_text": commit_text,
        "force_overwrite": force_overwrite,
    })
}

/// The /pullChanges value the plugin stores per subscription (§2.4).
pub fn sub_value(ts: &str) -> Value {
    json!({"timestamp": ts, "deckId": 0, "optional_tags": {}, "personal_tags": PERSONAL_TAGS})
}

// ---------------------------------------------------------------------------------------
// JSON inspection helpers
// ---------------------------------------------------------------------------------------

/// Every deck node of a server-form deck tree (pre-order).
pub fn all_nodes(deck: &Value) -> Vec<Value> {
    let mut out = vec![deck.clone()];
    if let Some(ch) = deck["children"].as_array() {
        for c in ch {
            out.extend(all_nodes(c));
        }
    }
    out
}

/// Every note in a server-form deck tree.
pub fn all_notes(deck: &Value) -> Vec<Value> {
    all_nodes(deck)
        .iter()
        .flat_map(|n| n["notes"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn find_note(deck: &Value, guid: &str) -> Option<Value> {
    all_notes(deck).into_iter().find(|n| n["guid"] == guid)
}

pub fn note_guids(deck: &Value) -> Vec<String> {
    let mut g: Vec<String> = all_notes(deck)
        .iter()
        .map(|n| n["guid"].as_str().unwrap_or("").to_string())
        .collect();
    g.sort();
    g
}

/// The entry for `hash` in a pull result array.
pub fn entry_for<'a>(pull: &'a Value, hash: &str) -> Option<&'a Value> {
    pull.as_array()?.iter().find(|e| e["deck_hash"] == hash)
}

/// Removes every object key in `keys`, recursively.
pub fn strip_keys(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(m) => {
            for k in keys {
                m.remove(*k);
            }
            for (_, x) in m.iter_mut() {
                strip_keys(x, keys);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip_keys(x, keys)),
        _ => {}
    }
}

/// Checks that `actual` contains `expected`: objects may carry extra keys (the plugin
/// ignores unknown keys), arrays must have the same length and matching elements,
/// scalars must be equal. Returns the list of mismatches.
pub fn json_includes(actual: &Value, expected: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    includes_rec(actual, expected, "$", &mut errs);
    errs
}

fn includes_rec(a: &Value, e: &Value, path: &str, errs: &mut Vec<String>) {
    match (a, e) {
        (Value::Object(am), Value::Object(em)) => {
            for (k, ev) in em {
                match am.get(k) {
                    Some(av) => includes_rec(av, ev, &format!("{path}.{k}"), errs),
                    None => errs.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(aa), Value::Array(ea)) => {
            if aa.len() != ea.len() {
                errs.push(format!(
                    "{path}: array length {} != expected {} (got {a})",
                    aa.len(),
                    ea.len()
                ));
                return;
            }
            for (i, (av, ev)) in aa.iter().zip(ea).enumerate() {
                includes_rec(av, ev, &format!("{path}[{i}]"), errs);
            }
        }
        (Value::Number(an), Value::Number(en)) => {
            if an.as_f64() != en.as_f64() || an.as_i64() != en.as_i64() {
                errs.push(format!("{path}: got {a}, expected {e}"));
            }
        }
        _ => {
            if a != e {
                errs.push(format!("{path}: got {a}, expected {e}"));
            }
        }
    }
}

#[track_caller]
pub fn assert_json_includes(actual: &Value, expected: &Value) {
    let errs = json_includes(actual, expected);
    assert!(
        errs.is_empty(),
        "JSON mismatch:\n  {}\nactual: {}",
        errs.join("\n  "),
        serde_json::to_string(actual).unwrap()
    );
}

/// Sorts the `notes` arrays of every node by guid (order is not part of the contract).
pub fn sort_notes(v: &mut Value) {
    if let Some(ns) = v.get_mut("notes").and_then(|n| n.as_array_mut()) {
        ns.sort_by(|a, b| a["guid"].as_str().cmp(&b["guid"].as_str()));
    }
    if let Some(ch) = v.get_mut("children").and_then(|c| c.as_array_mut()) {
        ch.iter_mut().for_each(sort_notes);
    }
}

// ---------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------

pub fn fmt_ts(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap()
}

pub fn now_ts() -> String {
    fmt_ts(time::OffsetDateTime::now_utc())
}

/// Returns a client timestamp `T` (whole second, UTC) such that every write that
/// completed before this call has `last_update <= T` and every write started after
/// it returns has `last_update > T`. Sleeps until the wall clock is past `T`.
pub async fn sync_point() -> String {
    let now = time::OffsetDateTime::now_utc();
    let t = now.replace_nanosecond(0).unwrap() + time::Duration::seconds(1);
    let target = t + time::Duration::milliseconds(50);
    loop {
        let n = time::OffsetDateTime::now_utc();
        if n >= target {
            break;
        }
        let wait = (target - n).whole_milliseconds().max(1) as u64;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    fmt_ts(t)
}

// ---------------------------------------------------------------------------------------
// HTTP response wrapper
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body (status {}): {e}: {}",
                self.status,
                preview(&self.text)
            )
        })
    }
    /// Decodes a GZB64 body (the /pullChanges answer).
    #[track_caller]
    pub fn gzb64(&self) -> Value {
        gzb64_decode(&self.text)
    }
    #[track_caller]
    pub fn expect(&self, status: u16, what: &str) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{what}: unexpected status, body: {}",
            preview(&self.text)
        );
        self
    }
    #[track_caller]
    pub fn expect_4xx(&self, what: &str) -> &Self {
        assert!(
            (400..500).contains(&self.status),
            "{what}: expected a 4xx status, got {} with body: {}",
            self.status,
            preview(&self.text)
        );
        self
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    /// GZB64 or other text, sent as `text/plain`.
    Text(String),
    /// Raw bytes with a content type.
    Raw(&'static str, Vec<u8>),
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct CliOut {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl CliOut {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.ok(),
            "`deckd {}` failed with {:?}\nstdout: {}\nstderr: {}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
    #[track_caller]
    pub fn assert_fail(&self) -> &Self {
        assert!(
            !self.ok(),
            "`deckd {}` unexpectedly succeeded\nstdout: {}\nstderr: {}",
            self.args.join(" "),
            self.stdout,
            self.stderr
        );
        self
    }
}

pub fn deckd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_deckd")
}

/// The deckd binary as a command whose environment holds none of the test process's
/// `DECKD_*` variables: test knobs such as `DECKD_FUZZ_SEED` are not server settings, and
/// the server refuses variables it does not know.
pub fn deckd_command() -> Command {
    let mut cmd = Command::new(deckd_bin());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DECKD_")) {
        cmd.env_remove(k);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs the deckd binary (blocking). `DECKD_*` variables of the test process are
/// removed; `envs` are added. `stdin` (if any) is written and then closed.
pub fn run_cli_blocking(
    args: &[String],
    stdin: Option<&str>,
    envs: &[(String, String)],
    cwd: &Path,
) -> CliOut {
    let mut cmd = deckd_command();
    cmd.args(args).current_dir(cwd);
    // Tests run as root in CI; `serve` refuses root unless told otherwise.
    if args.iter().any(|a| a == "serve") {
        cmd.env("DECKD_ALLOW_ROOT", "1");
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn deckd binary");
    if let Some(input) = stdin {
        let mut si = child.stdin.take().unwrap();
        // The CLI may exit before reading everything; ignore broken pipes.
        let _ = si.write_all(input.as_bytes());
        drop(si);
    }
    let out = wait_with_timeout(child, Duration::from_secs(120));
    CliOut {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.to_vec(),
    }
}

fn wait_with_timeout(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    // Read pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

pub async fn run_cli(
    args: Vec<String>,
    stdin: Option<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
) -> CliOut {
    tokio::task::spawn_blocking(move || run_cli_blocking(&args, stdin.as_deref(), &envs, &cwd))
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Test server
// ---------------------------------------------------------------------------------------

pub struct TestServer {
    config: deckd::Config,
    addr: SocketAddr,
    base: String,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<std::sync::mpsc::Receiver<Result<(), String>>>,
    // Declared last so it is removed after the server was asked to stop.
    dir: tempfile::TempDir,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap()
}

impl TestServer {
    /// Starts a server with test defaults (a large login rate limit).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server; `tweak` adjusts the config after the test defaults are set.
    pub async fn start_with(tweak: impl Fn(&mut deckd::Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let make = || {
            let mut c = deckd::Config::for_data_dir(dir.path());
            c.public_url = Some(base.parse().expect("a URL"));
            c.login_rate_per_minute = 1_000_000;
            tweak(&mut c);
            c
        };
        let server_cfg = make();
        let config = make();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("deckd-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap();
                let res = rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                    deckd::launch(server_cfg, listener, async move {
                        let _ = rx.await;
                    })
                    .await
                });
                let res = res.map_err(|e| format!("{e:#}"));
                if let Err(e) = &res {
                    eprintln!("deckd::launch returned an error: {e}");
                }
                let _ = done_tx.send(res);
                rt.shutdown_timeout(Duration::from_secs(5));
            })
            .unwrap();
        let server = TestServer {
            config,
            addr,
            base,
            http: http_client(),
            shutdown: Some(tx),
            done: Some(done_rx),
            dir,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let start = std::time::Instant::now();
        loop {
            if let Some(done) = &self.done {
                match done.try_recv() {
                    Ok(r) => panic!("deckd::launch ended before becoming ready: {r:?}"),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        panic!("deckd server thread died before becoming ready")
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {}
                }
            }
            if let Ok(r) = self
                .http
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "server never answered /readyz with 200"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Asks the server to stop and waits (bounded) for `launch` to return.
    pub fn stop(&mut self) -> Option<Result<(), String>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.done
            .take()
            .and_then(|d| d.recv_timeout(Duration::from_secs(15)).ok())
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn config(&self) -> &deckd::Config {
        &self.config
    }
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    // ------------------------------------------------------------------ raw HTTP

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Resp {
        self.try_request(method, path, token, body)
            .await
            .unwrap_or_else(|e| panic!("request {path} failed: {e}"))
    }

    /// Like [`request`](Self::request) but transport errors (e.g. the server closed
    /// the connection before answering) are returned instead of panicking.
    pub async fn try_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Result<Resp, String> {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("Bearer {t}"));
        }
        rb = match body {
            Body::None => rb,
            Body::Json(v) => rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&v).unwrap()),
            Body::Text(s) => rb.header("Content-Type", "text/plain").body(s),
            Body::Raw(ct, b) => rb.header("Content-Type", ct).body(b),
        };
        let r = rb.send().await.map_err(|e| format!("{e:?}"))?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.map_err(|e| format!("reading body: {e:?}"))?;
        Ok(Resp {
            status,
            text,
            headers,
        })
    }

    /// Sends a request with an arbitrary Authorization header value (or none).
    pub async fn request_auth_header(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<&str>,
        body: Body,
    ) -> Resp {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        rb = match body {
            Body::None => rb,
            Body::Json(v) => rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&v).unwrap()),
            Body::Text(s) => rb.header("Content-Type", "text/plain").body(s),
            Body::Raw(ct, b) => rb.header("Content-Type", ct).body(b),
        };
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {path} failed: {e}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Resp {
            status,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::GET, path, token, Body::None)
            .await
    }
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::None)
            .await
    }
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::Json(body.clone()))
            .await
    }
    pub async fn post_text(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<String>,
    ) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::Text(body.into()))
            .await
    }
    /// POST with a GZB64 body built from `v` the way the plugin does.
    pub async fn post_gzb64(&self, path: &str, token: Option<&str>, v: &Value) -> Resp {
        self.post_text(path, token, gzb64_encode_plugin(v)).await
    }

    // ------------------------------------------------------------------ accounts

    pub async fn create_user(&self, name: &str, password: &str) -> i64 {
        let db = deckd::store::Db::open(&self.config).await.unwrap();
        let created =
            deckd::domain::users::create(&db, deckd::domain::Actor::Admin, name, password).await;
        db.close().await;
        created
            .unwrap_or_else(|e| panic!("create_user({name}) failed: {e:#}"))
            .id
    }

    pub async fn login_raw(&self, name: &str, password: &str) -> Resp {
        self.post_json(
            "/login",
            None,
            &json!({"username": name, "password": password}),
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        let r = self.login_raw(name, password).await;
        r.expect(200, &format!("login as {name}"));
        r.json()["token"]
            .as_str()
            .expect("token in login answer")
            .to_string()
    }

    /// Creates `name` with [`password_for`] and returns an access token.
    pub async fn user(&self, name: &str) -> String {
        self.create_user(name, &password_for(name)).await;
        self.login(name, &password_for(name)).await
    }

    // ------------------------------------------------------------------ decks

    pub async fn publish_raw(&self, token: &str, deck: &Value) -> Resp {
        self.post_gzb64("/createDeck", Some(token), &create_deck_envelope(deck))
            .await
    }

    /// Publishes `deck` and returns its hash (asserts `status == 1`).
    pub async fn publish(&self, token: &str, deck: &Value) -> String {
        let r = self.publish_raw(token, deck).await;
        r.expect(200, "/createDeck");
        let v = r.json();
        assert_eq!(v["status"], 1, "/createDeck answered {v}");
        v["message"].as_str().expect("hash in message").to_string()
    }

    /// Publishes the §9.3 deck as `token`'s user; returns the hash.
    pub async fn publish_demo(&self, token: &str) -> String {
        self.publish(token, &tiny_deck()).await
    }

    /// POST /submitCard with a decoded body (see [`submit_body`]).
    pub async fn submit(&self, token: &str, body: &Value) -> Resp {
        self.post_gzb64("/submitCard", Some(token), body).await
    }

    /// Suggests `notes` for the root deck `root_name` of `hash` (deck_path = new_name = root_name).
    #[allow(clippy::too_many_arguments)]
    pub async fn suggest(
        &self,
        token: &str,
        hash: &str,
        root_name: &str,
        root_uuid: &str,
        notes: Vec<Value>,
        commit_text: &str,
        force: bool,
    ) -> Resp {
        let deck = root_deck(root_name, root_uuid, "", notes, vec![]);
        let rationale = if force { 10 } else { 2 };
        let text = if force { "" } else { commit_text };
        self.submit(
            token,
            &submit_body(hash, root_name, root_name, &deck, rationale, text, force),
        )
        .await
    }

    // ------------------------------------------------------------------ pulls

    pub async fn pull_raw(&self, map: &Value) -> Resp {
        self.post_json("/pullChanges", None, map).await
    }

    /// POST /pullChanges with `map` (hash → subscription value); asserts 200 and decodes.
    pub async fn pull(&self, map: &Value) -> Value {
        let r = self.pull_raw(map).await;
        r.expect(200, "/pullChanges");
        let v = r.gzb64();
        assert!(v.is_array(), "/pullChanges must answer an array, got {v}");
        v
    }

    /// Pulls one deck from `ts`.
    pub async fn pull_since(&self, hash: &str, ts: &str) -> Value {
        self.pull(&json!({ hash: sub_value(ts) })).await
    }

    // ------------------------------------------------------------------ CLI

    /// Runs `deckd --data-dir <dir> <args…>`.
    pub async fn cli(&self, args: &[&str]) -> CliOut {
        self.cli_stdin(args, None).await
    }

    pub async fn cli_stdin(&self, args: &[&str], stdin: Option<&str>) -> CliOut {
        let mut full = vec![
            "--data-dir".to_string(),
            self.dir.path().display().to_string(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        run_cli(
            full,
            stdin.map(|s| s.to_string()),
            vec![],
            self.dir.path().to_path_buf(),
        )
        .await
    }

    /// Runs the CLI with exactly `args` (no implicit --data-dir) and extra env vars.
    pub async fn cli_raw(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        envs: &[(&str, &str)],
    ) -> CliOut {
        run_cli(
            args.iter().map(|s| s.to_string()).collect(),
            stdin.map(|s| s.to_string()),
            envs.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            self.dir.path().to_path_buf(),
        )
        .await
    }

    /// `deckd user add NAME` with the password on stdin.
    pub async fn cli_user_add(&self, name: &str, password: &str) -> CliOut {
        self.cli_stdin(&["user", "add", name], Some(&format!("{password}\n")))
            .await
    }

    /// `review list --json [--deck HASH]`, parsed.
    pub async fn pending(&self, deck: Option<&str>) -> Vec<Value> {
        let mut args = vec!["review", "list", "--json"];
        if let Some(d) = deck {
            args.push("--deck");
            args.push(d);
        }
        let out = self.cli(&args).await;
        out.assert_ok();
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
            panic!("`review list --json` printed no JSON ({e}): {}", out.stdout)
        });
        v.as_array()
            .unwrap_or_else(|| panic!("`review list --json` must print an array: {v}"))
            .clone()
    }

    pub async fn approve(&self, id: i64) {
        self.cli(&["review", "approve", &id.to_string()])
            .await
            .assert_ok();
    }

    pub async fn deny(&self, id: i64, reason: Option<&str>) {
        let ids = id.to_string();
        let mut args = vec!["review", "deny", ids.as_str()];
        if let Some(r) = reason {
            args.push("--reason");
            args.push(r);
        }
        self.cli(&args).await.assert_ok();
    }

    /// The single pending commit of `deck` (asserts there is exactly one).
    pub async fn only_pending(&self, deck: &str) -> Value {
        let p = self.pending(Some(deck)).await;
        assert_eq!(
            p.len(),
            1,
            "expected exactly one pending commit for {deck}, got {p:?}"
        );
        p[0].clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(Duration::from_secs(10));
        }
    }
}

pub fn password_for(name: &str) -> String {
    format!("pw-{}-correct-horse", name.to_lowercase())
}

/// Numeric id of a `review list --json` entry (number or numeric string).
#[track_caller]
pub fn commit_id(v: &Value) -> i64 {
    match &v["id"] {
        Value::Number(n) => n.as_i64().expect("integer id"),
        Value::String(s) => s.parse().expect("numeric id"),
        other => panic!("review entry without id: {other} in {v}"),
    }
}

/// `author` of a review entry as a string (username).
pub fn commit_author(v: &Value) -> String {
    match &v["author"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
