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
#[derive(Debug, Clone, Copy)]
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
    let mut bytes = 0;
    for field in &mut note.fields {
        sanitize::field_in_place(field);
        bytes += field.len();
        if bytes > limit {
            return Err(DomainError::CleanedTooLarge {
                what: format!("note {}", note.guid),
                bytes,
                limit,
            });
        }
    }
    sanitize::clean_tags(&mut note.tags);
    Ok(bytes)
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
