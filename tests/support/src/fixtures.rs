//! Test data in the add-on's upload form (CrowdAnki, §2.1): the §9.3 demo deck and its
//! constants, generated decks, notes and notetypes, the request bodies built from them,
//! and the passwords test users get.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use crate::wire::{humanhash, plugin_deck_string};

/// Hash of the §9.3 tiny deck (root uuid `6f1d2c8e-3b4a-11ef-9a7c-0242ac120002`).
pub const DEMO_HASH: &str = "hot-zulu-indigo-eighteen-sad-alanine";
/// Root uuid of the §9.3 tiny deck.
pub const DEMO_UUID: &str = "6f1d2c8e-3b4a-11ef-9a7c-0242ac120002";
/// Name of the §9.3 tiny deck.
pub const DEMO_NAME: &str = "Demo Deck";
/// uuid of the §9.3 notetype "Basic (demo)".
pub const BASIC_MODEL_UUID: &str = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002";
/// The first timestamp a new subscription sends (§2.3).
pub const FIRST_PULL_TS: &str = "2022-12-31 23:59:59";
/// The tags the plugin keeps to each user (§2.4).
const PERSONAL_TAGS: [&str; 3] = ["leech", "marked", "missing-media"];

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

/// The §9.3 tiny deck as JSON.
pub fn tiny_deck() -> Value {
    serde_json::from_str(TINY_DECK_JSON).unwrap()
}

/// The §9.3 notetype "Basic (demo)".
pub fn basic_model() -> Value {
    tiny_deck()["note_models"][0].clone()
}

static NOTE_ID: AtomicU64 = AtomicU64::new(1_718_900_100_000);
static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh random hyphenated UUID.
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

/// A CrowdAnki note using the notetype `model_uuid`.
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
    /// The deck in upload form.
    pub deck: Value,
    /// The root deck's name.
    pub name: String,
    /// The root deck's uuid.
    pub uuid: String,
    /// guid → full deck path of the node holding it.
    pub notes: Vec<(String, String)>,
    /// Full paths of all nodes, root first.
    pub paths: Vec<String>,
}

impl GenDeck {
    /// The guids of every note, in generation order.
    pub fn guids(&self) -> Vec<String> {
        self.notes.iter().map(|(g, _)| g.clone()).collect()
    }
    /// The hash the server gives the deck (§3).
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

/// The password [`crate::TestServer::user`] and [`crate::spawned::Deckd`] give user `name`.
pub fn password_for(name: &str) -> String {
    format!("pw-{}-correct-horse", name.to_lowercase())
}
