//! Taking CrowdAnki uploads into the store: publishing new decks (`/createDeck`) and
//! suggestions or maintainer edits (`/submitCard`, `/requestRemoval`).

pub(crate) mod notetypes;
pub mod publish;
pub(crate) mod sanitize;
pub mod suggest;

use crate::domain::{DomainError, DomainResult};
use crate::wire::crowdanki::{Deck, DeckOf, Note, NoteModel};

/// Prefix of the add-on's optional tag groups: `AnkiCollab_Optional::<group>::…`.
const OPTIONAL_PREFIX: &str = "AnkiCollab_Optional::";

/// The optional tag group a tag belongs to, if it is one.
pub fn optional_group(tag: &str) -> Option<&str> {
    tag.strip_prefix(OPTIONAL_PREFIX)
        .map(|rest| rest.split("::").next().unwrap_or(rest))
}

/// How much note text an upload may hold once cleaned. Cleaning writes each quote as a
/// six-byte reference, so a note the decoder accepted could otherwise grow sixfold in
/// memory and on disk.
#[derive(Debug)]
pub struct CleanLimits {
    /// One note's fields together.
    pub note: usize,
    /// All notes of an upload held at once (a suggestion's tree).
    pub tree: usize,
}

/// Cleans every HTML-bearing string of an uploaded tree in place.
pub fn sanitize_tree(deck: &mut Deck, limits: CleanLimits) -> DomainResult<()> {
    let mut total = 0;
    let mut stack = vec![deck];
    while let Some(node) = stack.pop() {
        sanitize_shape(node);
        for note in &mut node.notes {
            total += sanitize_note(note, limits.note)?;
            if total > limits.tree {
                return Err(DomainError::CleanedTooLarge {
                    what: "the suggestion's notes".into(),
                    bytes: total,
                    limit: limits.tree,
                });
            }
        }
        stack.extend(node.children.iter_mut());
    }
    Ok(())
}

/// Names, descriptions and notetypes of one node (its notes are cleaned on their own).
pub fn sanitize_shape<N>(deck: &mut DeckOf<N>) {
    sanitize::html_in_place(&mut deck.name);
    sanitize::html_in_place(&mut deck.desc);
    deck.name = clean_deck_name(&deck.name);
    for model in &mut deck.note_models {
        sanitize_model(model);
    }
}

/// A note's fields and tags are made safe wherever a card template places them; answers
/// the bytes its fields hold then, refusing a note that grew past `limit`.
pub fn sanitize_note(note: &mut Note, limit: usize) -> DomainResult<usize> {
    let too_large = |note: &Note, bytes| DomainError::CleanedTooLarge {
        what: format!("note {}", note.guid),
        bytes,
        limit,
    };
    let mut bytes = 0;
    for i in 0..note.fields.len() {
        sanitize::field_in_place(&mut note.fields[i]);
        bytes += json_len(&note.fields[i]);
        if bytes > limit {
            return Err(too_large(note, bytes));
        }
    }
    sanitize::clean_tags(&mut note.tags);
    bytes += note.tags.iter().map(|t| json_len(t)).sum::<usize>();
    if bytes > limit {
        return Err(too_large(note, bytes));
    }
    Ok(bytes)
}

/// Bytes a string takes in a pulled note's JSON: quoted, a separator, and escapes (a
/// control character is six bytes there), so the limit bounds what a pull must hold.
fn json_len(s: &str) -> usize {
    3 + s.len()
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

fn sanitize_model(m: &mut NoteModel) {
    sanitize::html_in_place(&mut m.name);
    sanitize::css(&mut m.css);
    for f in &mut m.flds {
        sanitize::html_in_place(&mut f.name);
        sanitize::html_in_place(&mut f.description);
    }
    for t in &mut m.tmpls {
        for s in [
            &mut t.name,
            &mut t.qfmt,
            &mut t.afmt,
            &mut t.bqfmt,
            &mut t.bafmt,
        ] {
            sanitize::html_in_place(s);
        }
    }
}

/// Deck names must not be empty and keep Anki's `::` separator meaningful.
fn clean_deck_name(name: &str) -> String {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        "Unnamed".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(fields: &[&str], tags: &[&str]) -> Note {
        Note {
            guid: "g".into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            note_model_uuid: "m".into(),
            id: 0,
        }
    }

    #[test]
    fn a_note_is_measured_as_its_pulled_json() {
        let mut plain = note(&["abc", ""], &["t"]);
        assert_eq!(sanitize_note(&mut plain, 100).unwrap(), 6 + 3 + 4);
        // A control character is six bytes of JSON, a quote two.
        assert_eq!(json_len("\u{1}"), 3 + 6);
        assert_eq!(json_len("a\\b\n"), 3 + 6);
        let mut control = note(&[&"\u{1}".repeat(200)], &[]);
        assert!(matches!(
            sanitize_note(&mut control, 1000),
            Err(DomainError::CleanedTooLarge { bytes: 1203, .. })
        ));
        // Tags count too: a note of small fields and many tags is refused.
        let tags: Vec<String> = (0..100).map(|i| format!("tag{i:03}")).collect();
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        let mut tagged = note(&["x"], &tags);
        assert!(matches!(
            sanitize_note(&mut tagged, 500),
            Err(DomainError::CleanedTooLarge { .. })
        ));
    }
}
