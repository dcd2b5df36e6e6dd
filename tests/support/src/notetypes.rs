//! Notetypes as the add-on uploads them and as pulls and the console's notetype editor
//! show them, for the tests of notetype changes.

use serde_json::{json, Value};

use crate::console::{input_value, Console};
use crate::fixtures::{root_deck, DEMO_NAME, DEMO_UUID};
use crate::server::Resp;

/// A field of an uploaded notetype with Anki's id `id` (a number, or null).
pub fn notetype_field(name: &str, id: Value) -> Value {
    json!({"collapsed": false, "description": "", "excludeFromSearch": false, "font": "Arial",
           "id": id, "name": name, "ord": 0, "plainText": false, "preventDeletion": false,
           "rtl": false, "size": 20, "sticky": false, "tag": null})
}

/// The demo deck as Anki would upload it after its notetype's fields became `fields`
/// (name, id), with these notes.
pub fn pushed_demo(fields: &[(&str, Value)], notes: Vec<Value>) -> Value {
    let mut deck = root_deck(DEMO_NAME, DEMO_UUID, "", notes, vec![]);
    let flds: Vec<Value> = fields
        .iter()
        .enumerate()
        .map(|(i, (name, id))| {
            let mut f = notetype_field(name, id.clone());
            f["ord"] = json!(i);
            f
        })
        .collect();
    deck["note_models"][0]["flds"] = Value::Array(flds);
    deck
}

/// The first notetype's field names and every note's fields (sorted by GUID) of a pull
/// entry.
pub fn pulled_layout(entry: &Value) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let names = entry["deck"]["note_models"][0]["flds"]
        .as_array()
        .unwrap_or_else(|| panic!("a notetype in the entry: {entry}"))
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let mut notes: Vec<(String, Vec<String>)> = entry["deck"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let fields = n["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            (n["guid"].as_str().unwrap().to_string(), fields)
        })
        .collect();
    notes.sort();
    (names, notes)
}

/// The first notetype editor address a deck page links to.
pub fn notetype_path(deck_page: &str) -> String {
    let start = deck_page
        .find("/notetypes/")
        .unwrap_or_else(|| panic!("the deck page links a notetype: {deck_page}"));
    let before = deck_page[..start].rfind('"').unwrap() + 1;
    let end = start + deck_page[start..].find('"').unwrap();
    deck_page[before..end].to_string()
}

/// Submits the notetype editor at `page`: `fields` as (from, name, place), templates as
/// (name, front, back), the styling and extra pairs; the form's version is the page's
/// unless `extra` gives one.
pub async fn save_notetype(
    c: &mut Console<'_>,
    page: &str,
    fields: &[(&str, &str, &str)],
    templates: &[(&str, &str, &str)],
    css: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let mut owned: Vec<(String, String)> = Vec::new();
    for (i, (from, name, pos)) in fields.iter().enumerate() {
        owned.push((format!("f{i}.from"), from.to_string()));
        owned.push((format!("f{i}.name"), name.to_string()));
        owned.push((format!("f{i}.pos"), pos.to_string()));
    }
    for (i, (name, q, a)) in templates.iter().enumerate() {
        owned.push((format!("t{i}.name"), name.to_string()));
        owned.push((format!("t{i}.qfmt"), q.to_string()));
        owned.push((format!("t{i}.afmt"), a.to_string()));
    }
    owned.push(("css".into(), css.into()));
    for (k, v) in extra {
        owned.push((k.to_string(), v.to_string()));
    }
    if !extra.iter().any(|(k, _)| *k == "version") {
        let shown = c.get(page).await.text;
        let version = input_value(&shown, "version").expect("the form carries its version");
        owned.push(("version".into(), version));
    }
    let form: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.submit(page, page, &form).await
}
