//! The GZB64 envelopes of `/createDeck`, `/submitCard` and `/UploadDeckStats`.
//!
//! The deck is a JSON *string* inside the envelope. It is parsed straight from the
//! string's bytes as they are unescaped, so the (possibly huge) escaped text is never
//! held in memory: a suggestion keeps the typed tree, a published deck only its shape
//! (its notes go to a [`Spool`] file).

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use serde::Deserialize;
use struson::reader::{JsonReader, JsonStreamReader, ReaderError, ReaderSettings, ValueType};

use super::crowdanki::{Deck, DeckOf};
use super::gzb64::{classify, classify_json, DecodeError};
use super::json_guard::{Exceeded, Guard, Limits};
use super::spool::{Spool, SpooledDeck};

/// Nesting allowed in any decoded document (deck trees are a handful of levels deep).
const MAX_DEPTH: u32 = 64;
/// Longest object key accepted (every real key is a short identifier).
const MAX_KEY: u64 = 4096;

/// `/createDeck` body: the tree's shape, its notes in `notes`.
pub struct CreateDeck {
    pub deck: SpooledDeck,
    pub notes: Spool,
}

/// `/submitCard` body (docs/protocol.md §1.3).
#[derive(Debug)]
pub struct SubmitCard {
    pub remote_deck: String,
    pub deck_path: String,
    pub new_name: String,
    pub deck: Deck,
    pub rationale: i64,
    pub commit_text: String,
    pub force_overwrite: bool,
}

/// One note's review figures in `/UploadDeckStats`.
#[derive(Debug, Deserialize)]
pub struct NoteStat {
    #[serde(default)]
    pub retention: i64,
    #[serde(default)]
    pub lapses: i64,
    #[serde(default)]
    pub reps: i64,
}

/// `/UploadDeckStats` body: local deck name → note guid → figures.
#[derive(Debug, Deserialize)]
pub struct DeckStats {
    pub deck_hash: String,
    #[serde(default)]
    pub review_history: HashMap<String, HashMap<String, NoteStat>>,
}

fn reader_error(e: ReaderError) -> DecodeError {
    match e {
        ReaderError::IoError { error, .. } => classify(&error),
        ReaderError::MaxNestingDepthExceeded { .. } => {
            DecodeError::Json("JSON nested too deeply".into())
        }
        other => DecodeError::Json(other.to_string()),
    }
}

fn serde_error(e: struson::serde::DeserializerError) -> DecodeError {
    match e {
        struson::serde::DeserializerError::ReaderError(r) => reader_error(r),
        other => DecodeError::Json(other.to_string()),
    }
}

/// Parses the string value under the cursor as a CrowdAnki deck, streaming, through a
/// guard that bounds its strings and nesting and charges what the tree keeps.
fn read_deck<R: Read, N>(json: &mut Envelope<R>, max_string: u64) -> Result<DeckOf<N>, DecodeError>
where
    DeckOf<N>: for<'de> Deserialize<'de>,
{
    if json.peek().map_err(reader_error)? != ValueType::String {
        return Err(DecodeError::Json(
            "`deck` must be a string holding the deck JSON".into(),
        ));
    }
    let text = Guard::new(
        json.next_string_reader().map_err(reader_error)?,
        inner_limits(max_string),
    );
    // serde_json reads a byte at a time: the buffer turns that into 4 KiB reads through
    // the guard and the string reader (a 50 MB deck spent a sixth of its publish there).
    // What the guard charges includes this read-ahead, so it stays small.
    let mut de =
        serde_json::Deserializer::from_reader(io::BufReader::with_capacity(READ_BUF, text));
    let deck = DeckOf::<N>::deserialize(&mut de).map_err(|e| deck_error(classify_json(e)))?;
    de.end().map_err(|e| deck_error(classify_json(e)))?;
    Ok(deck)
}

/// Bytes read at once from a body under a serde_json parser.
const READ_BUF: usize = 4 * 1024;

/// The limits of a document whose parsed tree stays in memory (a deck, statistics).
fn inner_limits(max_string: u64) -> Limits {
    Limits {
        max_string,
        max_key: MAX_KEY,
        max_depth: MAX_DEPTH,
        charge: true,
    }
}

/// Errors inside the nested deck JSON get the wording the add-on shows for a bad deck.
fn deck_error(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::Json(msg) => DecodeError::Json(format!("Invalid Deck: {msg}")),
        other => other,
    }
}

/// The envelope's reader: its `deck` string may be as long as the body, so the guard
/// bounds keys, numbers and nesting here, and each other member is read bounded.
type Envelope<R> = JsonStreamReader<Guard<R>>;

/// Walks the top-level object, handing each member to `on_member`.
fn each_member<R: Read>(
    body: R,
    mut on_member: impl FnMut(&str, &mut Envelope<R>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let settings = ReaderSettings {
        max_nesting_depth: Some(MAX_DEPTH),
        ..ReaderSettings::default()
    };
    let outer = Limits {
        max_string: u64::MAX,
        max_key: MAX_KEY,
        max_depth: MAX_DEPTH,
        charge: false,
    };
    let mut json = JsonStreamReader::new_custom(Guard::new(body, outer), settings);
    if json.peek().map_err(reader_error)? != ValueType::Object {
        return Err(DecodeError::Json("expected a JSON object".into()));
    }
    json.begin_object().map_err(reader_error)?;
    while json.has_next().map_err(reader_error)? {
        let name = json.next_name_owned().map_err(reader_error)?;
        on_member(&name, &mut json)?;
    }
    json.end_object().map_err(reader_error)?;
    json.consume_trailing_whitespace().map_err(reader_error)
}

fn next<R: Read, T: for<'de> Deserialize<'de>>(
    json: &mut Envelope<R>,
    key: &str,
) -> Result<T, DecodeError> {
    json.deserialize_next().map_err(|e| match serde_error(e) {
        DecodeError::Json(msg) => DecodeError::Json(format!("`{key}`: {msg}")),
        other => other,
    })
}

/// A string member (or `null`), read no further than `max` bytes.
fn next_text<R: Read>(
    json: &mut Envelope<R>,
    key: &str,
    max: u64,
) -> Result<Option<String>, DecodeError> {
    match json.peek().map_err(reader_error)? {
        ValueType::Null => {
            json.next_null().map_err(reader_error)?;
            Ok(None)
        }
        ValueType::String => {
            let mut text = String::new();
            let mut reader = json.next_string_reader().map_err(reader_error)?;
            (&mut reader)
                .take(max + 1)
                .read_to_string(&mut text)
                .map_err(|e| classify(&e))?;
            if text.len() as u64 > max {
                return Err(Exceeded::String(max).into());
            }
            Ok(Some(text))
        }
        other => Err(DecodeError::Json(format!(
            "`{key}`: expected a string, found {other:?}"
        ))),
    }
}

fn missing(key: &str) -> DecodeError {
    DecodeError::Json(format!("missing field `{key}`"))
}

/// Decodes a `/createDeck` JSON stream, spooling the notes to a file in `spool_dir`.
pub fn create_deck<R: Read>(
    body: R,
    spool_dir: &Path,
    max_string: u64,
) -> Result<CreateDeck, DecodeError> {
    let (deck, notes) = Spool::record(spool_dir, || {
        let mut deck = None;
        each_member(body, |name, json| {
            if name == "deck" {
                deck = Some(read_deck::<R, _>(json, max_string)?);
            } else {
                json.skip_value().map_err(reader_error)?;
            }
            Ok(())
        })?;
        deck.ok_or_else(|| missing("deck"))
    })?;
    Ok(CreateDeck { deck, notes })
}

/// Decodes a `/submitCard` JSON stream.
pub fn submit_card<R: Read>(body: R, max_string: u64) -> Result<SubmitCard, DecodeError> {
    let (mut remote_deck, mut deck_path, mut new_name, mut deck) = (None, None, None, None);
    let (mut rationale, mut commit_text, mut force_overwrite) = (0i64, String::new(), false);
    each_member(body, |name, json| {
        match name {
            "remote_deck" => remote_deck = next_text(json, name, max_string)?,
            "deck_path" => deck_path = next_text(json, name, max_string)?,
            "new_name" => new_name = next_text(json, name, max_string)?,
            "deck" => deck = Some(read_deck::<R, _>(json, max_string)?),
            "rationale" => rationale = next::<R, Option<i64>>(json, name)?.unwrap_or(0),
            "commit_text" => commit_text = next_text(json, name, max_string)?.unwrap_or_default(),
            "force_overwrite" => {
                force_overwrite = next::<R, Option<bool>>(json, name)?.unwrap_or(false)
            }
            _ => json.skip_value().map_err(reader_error)?,
        }
        Ok(())
    })?;
    let deck_path = deck_path.ok_or_else(|| missing("deck_path"))?;
    Ok(SubmitCard {
        remote_deck: remote_deck.ok_or_else(|| missing("remote_deck"))?,
        new_name: new_name.unwrap_or_else(|| deck_path.clone()),
        deck_path,
        deck: deck.ok_or_else(|| missing("deck"))?,
        rationale,
        commit_text,
        force_overwrite,
    })
}

/// Decodes a `/UploadDeckStats` JSON stream; its tree is bounded like a deck's.
pub fn deck_stats<R: Read>(body: R, max_string: u64) -> Result<DeckStats, DecodeError> {
    let mut de = serde_json::Deserializer::from_reader(io::BufReader::with_capacity(
        READ_BUF,
        Guard::new(body, inner_limits(max_string)),
    ));
    let stats = DeckStats::deserialize(&mut de).map_err(classify_json)?;
    de.end().map_err(classify_json)?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_deck_string_is_parsed() {
        let inner = r#"{"crowdanki_uuid":"u","name":"N \"q\"","notes":[],"children":[]}"#;
        let outer = serde_json::json!({"deck": inner, "extra": [1, {"x": null}]}).to_string();
        let dir = tempfile::tempdir().unwrap();
        let parsed = create_deck(outer.as_bytes(), dir.path(), 1 << 20).unwrap();
        assert_eq!(parsed.deck.name, "N \"q\"");
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let create_deck = |body: &[u8]| create_deck(body, dir.path(), 1 << 20);
        assert!(create_deck(b"[]").is_err());
        assert!(create_deck(br#"{"deck": 5}"#).is_err());
        assert!(create_deck(br#"{"deck": "{\"name\": 1}"}"#).is_err());
        assert!(create_deck(br#"{"nodeck": 1}"#).is_err());
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(500), "]".repeat(500));
        assert!(create_deck(deep.as_bytes()).is_err());
    }

    fn deck_with_field(field: &str, notes: usize) -> String {
        let note = serde_json::json!({"guid": "g", "fields": [field], "note_model_uuid": "m"});
        let deck =
            serde_json::json!({"crowdanki_uuid": "u", "name": "N", "notes": vec![note; notes]});
        serde_json::json!({"deck": deck.to_string(), "remote_deck": "a-b-c", "deck_path": "N"})
            .to_string()
    }

    #[test]
    fn long_strings_are_refused_before_they_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let body = deck_with_field(&"x".repeat(5000), 1);
        assert!(matches!(
            create_deck(body.as_bytes(), dir.path(), 4096),
            Err(DecodeError::Limit(Exceeded::String(4096)))
        ));
        assert!(matches!(
            submit_card(body.as_bytes(), 4096),
            Err(DecodeError::Limit(Exceeded::String(4096)))
        ));
        let long_text =
            serde_json::json!({"commit_text": "y".repeat(5000), "deck": "{}"}).to_string();
        assert!(matches!(
            submit_card(long_text.as_bytes(), 4096),
            Err(DecodeError::Limit(Exceeded::String(4096)))
        ));
        let long_key = format!(r#"{{"{}": 1}}"#, "k".repeat(5000));
        assert!(matches!(
            deck_stats(long_key.as_bytes(), 1 << 20),
            Err(DecodeError::Limit(Exceeded::Key(MAX_KEY)))
        ));
    }

    #[test]
    fn a_suggestion_is_bounded_in_total_but_published_notes_are_not() {
        let pool = super::super::meter::Pool::new(64 << 20);
        let body = deck_with_field(&"x".repeat(1000), 2000);
        let (suggested, _) =
            super::super::meter::run(pool.budget("the suggestion", 1 << 20), || {
                submit_card(body.as_bytes(), 4096)
            });
        assert!(matches!(
            suggested,
            Err(DecodeError::Limit(Exceeded::Retained { cap: 1048576, .. }))
        ));
        let dir = tempfile::tempdir().unwrap();
        let (published, kept) = super::super::meter::run(pool.budget("the deck", 1 << 20), || {
            create_deck(body.as_bytes(), dir.path(), 4096)
        });
        assert_eq!(published.unwrap().deck.notes.count, 2000);
        // One note at a time, plus the parser's read-ahead.
        assert!(
            kept.peak() < 8192 + READ_BUF as u64,
            "only one note at a time is kept: {}",
            kept.peak()
        );
    }
}
