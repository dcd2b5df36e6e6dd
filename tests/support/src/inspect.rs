//! Reading the server's answers: the nodes and notes of a pulled deck tree, the entries
//! of a pull, JSON containment and the fields of `review list --json` entries.

use serde_json::Value;

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

/// The note with `guid` anywhere in a server-form deck tree.
pub fn find_note(deck: &Value, guid: &str) -> Option<Value> {
    all_notes(deck).into_iter().find(|n| n["guid"] == guid)
}

/// The guids of every note in a server-form deck tree, sorted.
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
fn json_includes(actual: &Value, expected: &Value) -> Vec<String> {
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

/// Asserts that `actual` contains `expected` (see `json_includes`), listing every mismatch.
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

/// Numeric id of a `review list --json` entry (number or numeric string).
#[track_caller]
pub fn commit_id(v: &Value) -> deckd::store::CommitId {
    match &v["id"] {
        Value::Number(n) => deckd::store::CommitId(n.as_i64().expect("integer id")),
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
