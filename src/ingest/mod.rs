//! Taking CrowdAnki uploads into the store: publishing new decks (`/createDeck`) and
//! suggestions or maintainer edits (`/submitCard`, `/requestRemoval`).

pub mod notetypes;
pub mod publish;
pub mod sanitize;
pub mod suggest;

use crate::wire::crowdanki::{Deck, DeckOf, Note, NoteModel};

/// Prefix of the add-on's optional tag groups: `AnkiCollab_Optional::<group>::…`.
const OPTIONAL_PREFIX: &str = "AnkiCollab_Optional::";

/// The optional tag group a tag belongs to, if it is one.
pub fn optional_group(tag: &str) -> Option<&str> {
    tag.strip_prefix(OPTIONAL_PREFIX)
        .map(|rest| rest.split("::").next().unwrap_or(rest))
}

/// Cleans every HTML-bearing string of an uploaded tree in place.
pub fn sanitize_tree(deck: &mut Deck) {
    sanitize_shape(deck);
    for note in &mut deck.notes {
        sanitize_note(note);
    }
    deck.children.iter_mut().for_each(sanitize_tree);
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

/// A note's fields and tags are made safe wherever a card template places them.
pub fn sanitize_note(note: &mut Note) {
    note.fields.iter_mut().for_each(sanitize::field_in_place);
    sanitize::clean_tags(&mut note.tags);
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
