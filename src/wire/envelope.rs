//! The GZB64 envelopes of `/createDeck`, `/submitCard` and `/UploadDeckStats`.
//!
//! The deck is a JSON *string* inside the envelope. It is parsed straight from the
//! string's bytes as they are unescaped, so the (possibly huge) escaped text is never
//! held in memory: a suggestion keeps the typed tree, a published deck only its shape
//! (its notes go to a [`Spool`] file).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use struson::reader::{JsonReader, JsonStreamReader, ReaderError, ReaderSettings, ValueType};

use super::crowdanki::{Deck, DeckOf};
use super::gzb64::{classify, classify_json, DecodeError};
use super::spool::{Spool, SpooledDeck};

/// Nesting allowed in any decoded document (deck trees are a handful of levels deep).
const MAX_DEPTH: u32 = 64;

/// `/createDeck` body: the tree's shape, its notes in `notes`.
pub struct CreateDeck {
    pub deck: SpooledDeck,
    pub notes: Spool,
}

/// `/submitCard` body (PROTOCOL.md §1.3).
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

/// Parses the string value under the cursor as a CrowdAnki deck, streaming.
fn read_deck<R: Read, N>(json: &mut JsonStreamReader<R>) -> Result<DeckOf<N>, DecodeError>
where
    DeckOf<N>: for<'de> Deserialize<'de>,
{
    if json.peek().map_err(reader_error)? != ValueType::String {
        return Err(DecodeError::Json(
            "`deck` must be a string holding the deck JSON".into(),
        ));
    }
    let text = json.next_string_reader().map_err(reader_error)?;
    let mut de = serde_json::Deserializer::from_reader(text);
    let deck = DeckOf::<N>::deserialize(&mut de).map_err(|e| deck_error(classify_json(e)))?;
    de.end().map_err(|e| deck_error(classify_json(e)))?;
    Ok(deck)
}

/// Errors inside the nested deck JSON get the wording the add-on shows for a bad deck.
fn deck_error(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::Json(msg) => DecodeError::Json(format!("Invalid Deck: {msg}")),
        other => other,
    }
}

/// Walks the top-level object, handing each member to `on_member`.
fn each_member<R: Read>(
    body: R,
    mut on_member: impl FnMut(&str, &mut JsonStreamReader<R>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let settings = ReaderSettings {
        max_nesting_depth: Some(MAX_DEPTH),
        ..ReaderSettings::default()
    };
    let mut json = JsonStreamReader::new_custom(body, settings);
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
    json: &mut JsonStreamReader<R>,
    key: &str,
) -> Result<T, DecodeError> {
    json.deserialize_next().map_err(|e| match serde_error(e) {
        DecodeError::Json(msg) => DecodeError::Json(format!("`{key}`: {msg}")),
        other => other,
    })
}

fn missing(key: &str) -> DecodeError {
    DecodeError::Json(format!("missing field `{key}`"))
}

/// Decodes a `/createDeck` JSON stream, spooling the notes to a file in `spool_dir`.
pub fn create_deck<R: Read>(body: R, spool_dir: &Path) -> Result<CreateDeck, DecodeError> {
    let (deck, notes) = Spool::record(spool_dir, || {
        let mut deck = None;
        each_member(body, |name, json| {
            if name == "deck" {
                deck = Some(read_deck::<R, _>(json)?);
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
pub fn submit_card<R: Read>(body: R) -> Result<SubmitCard, DecodeError> {
    let (mut remote_deck, mut deck_path, mut new_name, mut deck) = (None, None, None, None);
    let (mut rationale, mut commit_text, mut force_overwrite) = (0i64, String::new(), false);
    each_member(body, |name, json| {
        match name {
            "remote_deck" => remote_deck = Some(next::<R, String>(json, name)?),
            "deck_path" => deck_path = Some(next::<R, String>(json, name)?),
            "new_name" => new_name = Some(next::<R, String>(json, name)?),
            "deck" => deck = Some(read_deck::<R, _>(json)?),
            "rationale" => rationale = next::<R, Option<i64>>(json, name)?.unwrap_or(0),
            "commit_text" => {
                commit_text = next::<R, Option<String>>(json, name)?.unwrap_or_default()
            }
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

/// Decodes a `/UploadDeckStats` JSON stream.
pub fn deck_stats<R: Read>(body: R) -> Result<DeckStats, DecodeError> {
    let mut de = serde_json::Deserializer::from_reader(body);
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
        let parsed = create_deck(outer.as_bytes(), dir.path()).unwrap();
        assert_eq!(parsed.deck.name, "N \"q\"");
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let create_deck = |body: &[u8]| create_deck(body, dir.path());
        assert!(create_deck(b"[]").is_err());
        assert!(create_deck(br#"{"deck": 5}"#).is_err());
        assert!(create_deck(br#"{"deck": "{\"name\": 1}"}"#).is_err());
        assert!(create_deck(br#"{"nodeck": 1}"#).is_err());
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(500), "]".repeat(500));
        assert!(create_deck(deep.as_bytes()).is_err());
    }
}
