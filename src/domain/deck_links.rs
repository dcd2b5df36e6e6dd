//! Deck links (the add-on's `/CreateDeckLink` and `/CreateNewNoteLink`, and removing a
//! link in the console): a subscriber deck follows a base deck, and its linked notes show
//! the base notes' unprotected fields and tags on every pull (docs/protocol.md §6.5).
//! The owner and the maintainers of the subscriber deck may link and unlink it, as they
//! may push any content to it; the base deck's owner is not asked (decks are public).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use super::decks::{check_hash, check_maintainer};
use super::{Actor, DomainError, DomainResult};
use crate::store::deck_links::{FoundNote, LayoutField};
use crate::store::decks::Deck;
use crate::store::{self, Conn, Db, LinkId, Micros, NoteId, NotetypeId};

/// Most guids one note-link request may name (the add-on sends the notes selected in
/// its browser); more is refused with 413 rather than holding one long write.
pub const MAX_NOTE_LINKS: usize = 10_000;

/// What linking notes did, as `/CreateNewNoteLink` answers it.
#[derive(Debug, serde::Serialize)]
pub struct NoteLinks {
    /// Notes that now inherit (including ones already linked to that base deck).
    pub linked: usize,
    /// Guids not linked: unknown or not live in either deck, linked to another base
    /// deck, or of notetypes whose fields differ.
    pub skipped: Vec<String>,
}

/// A public deck by hash, or the error naming its side of the link.
async fn live_deck(
    conn: &mut Conn,
    hash: &str,
    missing: fn(String) -> DomainError,
) -> DomainResult<Deck> {
    match store::decks::by_hash(conn, hash).await? {
        Some(d) if d.pending_commit.is_none() => Ok(d),
        _ => Err(missing(hash.to_string())),
    }
}

/// The subscriber deck, checked for the actor's right to link it, and the base deck.
async fn both_decks(
    conn: &mut Conn,
    actor: Actor,
    subscriber: &str,
    base: &str,
) -> DomainResult<(Deck, Deck)> {
    check_hash(subscriber)?;
    check_hash(base)?;
    let sub = live_deck(conn, subscriber, DomainError::NoSubscriberDeck).await?;
    check_maintainer(conn, actor, &sub).await?;
    let base = live_deck(conn, base, DomainError::NoBaseDeck).await?;
    if sub.root == base.root {
        return Err(DomainError::LinkToOwnTree);
    }
    Ok((sub, base))
}

/// Links `subscriber` to `base`; linking again is a no-op. Refuses a link that would
/// close a circle of linked decks, however long.
pub async fn create_link(db: &Db, actor: Actor, subscriber: &str, base: &str) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let (sub, base) = both_decks(&mut tx, actor, subscriber, base).await?;
    if store::deck_links::find(&mut tx, sub.id, base.id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    if store::deck_links::reaches(&mut tx, base.root, sub.root).await? {
        return Err(DomainError::CircularLink);
    }
    let by = match actor {
        Actor::User(id) => Some(id),
        Actor::Admin => None,
    };
    store::deck_links::insert(&mut tx, sub.id, base.id, by, Micros::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Links the notes of `subscriber` with these guids to the base deck's notes with the
/// same guids; they inherit the base notetype's unprotected fields and the base tags.
pub async fn link_notes(
    db: &Db,
    actor: Actor,
    subscriber: &str,
    base: &str,
    guids: &[String],
) -> DomainResult<NoteLinks> {
    if guids.len() > MAX_NOTE_LINKS {
        return Err(DomainError::TooMany(MAX_NOTE_LINKS));
    }
    let mut seen = HashSet::new();
    let guids: Vec<&String> = guids.iter().filter(|g| seen.insert(*g)).collect();
    if guids.is_empty() {
        return Err(DomainError::NoNotes);
    }
    let mut tx = db.begin_write().await?;
    let (sub, base) = both_decks(&mut tx, actor, subscriber, base).await?;
    let link = store::deck_links::find(&mut tx, sub.id, base.id)
        .await?
        .ok_or(DomainError::NotLinked)?;
    let wanted = serde_json::to_string(&guids).expect("strings serialise");
    let mine = by_guid(store::deck_links::live_notes(&mut tx, sub.id, &wanted).await?);
    let theirs = by_guid(store::deck_links::live_notes(&mut tx, base.id, &wanted).await?);
    let mut layouts = Layouts::default();
    let mut out = NoteLinks {
        linked: 0,
        skipped: Vec::new(),
    };
    let mut newly = Vec::new();
    for guid in guids {
        let (Some(m), Some(b)) = (mine.get(guid), theirs.get(guid)) else {
            out.skipped.push(guid.clone());
            continue;
        };
        match store::deck_links::base_of(&mut tx, m.id).await? {
            Some(existing) if existing == b.id => {
                out.linked += 1;
                continue;
            }
            Some(_) => {
                out.skipped.push(guid.clone());
                continue;
            }
            None => {}
        }
        let Some(positions) = layouts.inherited(&mut tx, m.notetype, b.notetype).await? else {
            out.skipped.push(guid.clone());
            continue;
        };
        store::deck_links::insert_note_link(&mut tx, m.id, b.id, link, &positions).await?;
        newly.push(m.id);
        out.linked += 1;
    }
    bump(&mut tx, &newly, Micros::now()).await?;
    tx.commit().await?;
    Ok(out)
}

/// Removes a link of the deck tree `hash` names. Its notes keep their own stored
/// content, which their next pull sends again in place of the base deck's.
pub async fn remove_link(db: &Db, actor: Actor, hash: &str, link: LinkId) -> DomainResult<()> {
    let mut tx = db.begin_write().await?;
    let deck = super::decks::by_hash(&mut tx, hash).await?;
    check_maintainer(&mut tx, actor, &deck).await?;
    let notes = store::deck_links::delete(&mut tx, deck.root, link)
        .await?
        .ok_or(DomainError::NoLink)?;
    bump(&mut tx, &notes, Micros::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the clocks of notes whose shown content changed, and of their decks up to the
/// root, so the next pull of the linked deck carries them.
async fn bump(conn: &mut Conn, notes: &[NoteId], now: Micros) -> DomainResult<()> {
    if notes.is_empty() {
        return Ok(());
    }
    for deck in store::deck_links::bump_notes(conn, notes, now).await? {
        store::decks::bump_with_ancestors(conn, deck, now).await?;
    }
    Ok(())
}

fn by_guid(notes: Vec<FoundNote>) -> HashMap<String, FoundNote> {
    notes.into_iter().map(|n| (n.guid.clone(), n)).collect()
}

/// Notetype field lists read once per request.
#[derive(Default)]
struct Layouts(HashMap<NotetypeId, Vec<LayoutField>>);

impl Layouts {
    async fn get(&mut self, conn: &mut Conn, nt: NotetypeId) -> DomainResult<&Vec<LayoutField>> {
        if let Entry::Vacant(slot) = self.0.entry(nt) {
            slot.insert(store::deck_links::layout(conn, nt).await?);
        }
        Ok(&self.0[&nt])
    }

    /// The positions a note of notetype `mine` inherits from a note of `theirs`: the
    /// base notetype's unprotected fields; `None` when the two have different fields.
    async fn inherited(
        &mut self,
        conn: &mut Conn,
        mine: NotetypeId,
        theirs: NotetypeId,
    ) -> DomainResult<Option<Vec<i64>>> {
        let names = |l: &Vec<LayoutField>| -> Vec<(i64, String)> {
            l.iter().map(|f| (f.ord, f.name.clone())).collect()
        };
        let my_fields = names(self.get(conn, mine).await?);
        let base = self.get(conn, theirs).await?;
        if my_fields != names(base) {
            return Ok(None);
        }
        Ok(Some(
            base.iter()
                .filter(|f| !f.protected)
                .map(|f| f.ord)
                .collect(),
        ))
    }
}
