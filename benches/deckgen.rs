//! Generates CrowdAnki decks shaped like real shared decks: a root with subdecks,
//! one Basic notetype, ~800 bytes of pretty-printed JSON per note (5,000 notes ≈ 4 MB).
//! Each benchmark binary includes this file and uses part of it.
#![allow(dead_code)]

use serde_json::{json, Value};

const WORDS: &[&str] = &[
    "mitochondria",
    "membrane",
    "protein",
    "enzyme",
    "synthesis",
    "receptor",
    "pathway",
    "glucose",
    "neuron",
    "signal",
    "cortex",
    "hormone",
    "insulin",
    "kidney",
    "filtration",
    "artery",
    "pressure",
    "cardiac",
    "muscle",
    "tissue",
    "antigen",
    "antibody",
    "lymphocyte",
    "cytokine",
    "inflammation",
    "diagnosis",
    "therapy",
    "dose",
];

fn text(seed: u64, words: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..words)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            WORDS[(x >> 33) as usize % WORDS.len()]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The notetype every generated note uses.
pub const MODEL_UUID: &str = "0b7e3f4a-9c1d-11ee-8c90-0242ac120002";

fn model() -> Value {
    json!({"__type__": "NoteModel", "crowdanki_uuid": MODEL_UUID, "css": ".card { font-family: arial; }",
        "flds": [
            {"name": "Front", "ord": 0, "font": "Arial", "size": 20, "sticky": false, "rtl": false, "description": "", "id": 1, "tag": null},
            {"name": "Back", "ord": 1, "font": "Arial", "size": 20, "sticky": false, "rtl": false, "description": "", "id": 2, "tag": null},
            {"name": "Extra", "ord": 2, "font": "Arial", "size": 20, "sticky": false, "rtl": false, "description": "", "id": 3, "tag": null}],
        "latexPost": "\\end{document}", "latexPre": "\\documentclass[12pt]{article}\n\\begin{document}\n", "latexsvg": false,
        "name": "Basic (bench)", "originalStockKind": 1, "req": [[0, "any", [0]]], "sortf": 0, "tags": [],
        "tmpls": [{"afmt": "{{FrontSide}}<hr id=answer>{{Back}}<br>{{Extra}}", "bafmt": "", "bfont": "", "bqfmt": "", "bsize": 0,
                   "did": null, "id": 9, "name": "Card 1", "ord": 0, "qfmt": "{{Front}}"}],
        "type": 0, "vers": []})
}

/// One note; `n` makes it unique and deterministic.
pub fn note(n: u64, guid: &str) -> Value {
    json!({"__type__": "Note", "guid": guid, "id": 1_700_000_000_000u64 + n, "note_model_uuid": MODEL_UUID,
        "fields": [format!("What does {} do? ({n})", text(n, 6)),
                   format!("<b>{}</b><br>{}", text(n + 1, 8), text(n + 2, 28)),
                   format!("<i>{}</i>", text(n + 3, 10))],
        "tags": ["bench", format!("topic_{}", n % 40), format!("chapter::{}", n % 7)]})
}

/// A guid for note `n` of deck `seed`.
pub fn guid(seed: &str, n: u64) -> String {
    format!("{seed}{n:08}")
}

/// A deck of `notes` notes spread over a root and `subdecks` subdecks.
pub fn deck(name: &str, uuid: &str, seed: &str, notes: u64, subdecks: u64) -> Value {
    let per = notes / (subdecks + 1);
    let mut n = 0;
    let mut make = |count: u64| {
        let out: Vec<Value> = (n..n + count).map(|i| note(i, &guid(seed, i))).collect();
        n += count;
        out
    };
    let children: Vec<Value> = (0..subdecks)
        .map(|i| {
            json!({"__type__": "Deck", "crowdanki_uuid": format!("{:08x}-0000-11ef-9a7c-0242ac12{:04x}", i + 1, i), "name": format!("Part {i:02}"),
                   "desc": "", "children": [], "notes": make(per)})
        })
        .collect();
    let rest = notes - per * subdecks;
    json!({"__type__": "Deck", "crowdanki_uuid": uuid, "name": name, "desc": "Generated benchmark deck",
           "children": children, "notes": make(rest), "note_models": [model()], "deck_configurations": []})
}

/// Notes in a deck tree as a pull answers it (the deck and all its subdecks).
pub fn notes_in(deck: &Value) -> usize {
    deck["notes"].as_array().map_or(0, Vec::len)
        + deck["children"]
            .as_array()
            .map_or(0, |c| c.iter().map(notes_in).sum())
}

/// The deck as the add-on serialises it: sorted keys, 4-space indent.
pub fn to_addon_json(deck: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(deck, &mut ser).expect("serialise");
    String::from_utf8(out).expect("utf-8")
}

/// The owner's edit of `deck`: the same tree holding only notes `start..start + count`
/// (by the number in their guid), each with a changed first field.
pub fn edited(deck: &Value, start: u64, count: u64, round: u64) -> Value {
    let mut out = deck.clone();
    keep_edited(&mut out, start..start + count, round);
    out
}

fn keep_edited(node: &mut Value, range: std::ops::Range<u64>, round: u64) {
    if let Some(notes) = node["notes"].as_array_mut() {
        notes.retain(|n| {
            let guid = n["guid"].as_str().unwrap_or_default();
            let number = guid[guid.len().saturating_sub(8)..]
                .parse::<u64>()
                .unwrap_or(u64::MAX);
            range.contains(&number)
        });
        for n in notes.iter_mut() {
            let first = n["fields"][0].as_str().unwrap_or_default().to_string();
            n["fields"][0] = json!(format!("{first} (edit {round})"));
        }
    }
    if let Some(children) = node["children"].as_array_mut() {
        for c in children {
            keep_edited(c, range.clone(), round);
        }
    }
}
