//! Looking at decks: the decks an account works with, a deck's notes as subscribers get
//! them, a note's history. A deck is visible to its owner, its maintainers, its
//! subscribers and the box's administrators.

use super::decks::by_hash;
use super::{Actor, DomainError, DomainResult};
use crate::accounts;
use crate::store::browse::{self, BrowsedNote, DeckRole, HistoryEntry, MyDeck, NoteFilter};
use crate::store::decks::Deck;
use crate::store::{self, Conn, Db, NoteId, UserId};

/// Notes a deck page lists at once.
pub const NOTES_PER_PAGE: i64 = 25;
/// History entries a note page shows.
const HISTORY_ENTRIES: i64 = 200;

/// The decks an account owns, maintains or subscribes to.
pub async fn my_decks(db: &Db, user: UserId) -> DomainResult<Vec<MyDeck>> {
    let mut conn = db.reader().acquire().await?;
    let name = store::users::name_of(&mut conn, user)
        .await?
        .ok_or_else(|| DomainError::NoUser(user.to_string()))?;
    Ok(browse::my_decks(&mut conn, user, &accounts::user_hash(&name)).await?)
}

/// How `actor` may see `deck`: `Some(role)`, `None` for an administrator with no role;
/// anyone else is refused.
async fn role_in(conn: &mut Conn, actor: Actor, deck: &Deck) -> DomainResult<Option<DeckRole>> {
    let id = match actor {
        Actor::Admin => return Ok(None),
        Actor::User(id) => id,
    };
    if deck.owner == id {
        return Ok(Some(DeckRole::Owner));
    }
    if store::decks::can_maintain(conn, deck.id, id).await? {
        return Ok(Some(DeckRole::Maintainer));
    }
    let name = store::users::name_of(conn, id).await?.unwrap_or_default();
    if browse::subscribes(conn, deck.root, &accounts::user_hash(&name)).await? {
        return Ok(Some(DeckRole::Subscriber));
    }
    if store::users::is_admin(conn, id).await? {
        return Ok(None);
    }
    Err(DomainError::NotMaintainer)
}

/// A deck's page head: the root deck, how I relate to it and its subdecks.
pub struct DeckView {
    pub deck: Deck,
    /// `None` for an administrator who is neither owner, maintainer nor subscriber.
    pub role: Option<DeckRole>,
    pub paths: Vec<String>,
}

impl DeckView {
    /// Whether the viewer may change the deck (owner, maintainer or administrator).
    pub fn can_edit(&self) -> bool {
        !matches!(self.role, Some(DeckRole::Subscriber))
    }
}

/// The root deck a hash names, if `actor` may see it.
pub async fn deck(db: &Db, actor: Actor, hash: &str) -> DomainResult<DeckView> {
    let mut conn = db.reader().acquire().await?;
    let deck = root_of(&mut conn, hash).await?;
    let role = role_in(&mut conn, actor, &deck).await?;
    let paths = browse::deck_paths(&mut conn, deck.id).await?;
    Ok(DeckView { deck, role, paths })
}

/// The public root deck a hash names (a subdeck's hash is not a deck page).
async fn root_of(conn: &mut Conn, hash: &str) -> DomainResult<Deck> {
    let deck = by_hash(conn, hash).await?;
    if deck.parent.is_some() || deck.pending_commit.is_some() {
        return Err(DomainError::NoDeck(hash.to_string()));
    }
    Ok(deck)
}

/// Search text as the field cleaner stores it (`&` as `&amp;`, `'` as `&#39;`, …), so a
/// search finds what people typed into their cards.
pub fn as_stored(text: &str) -> String {
    let mut stored = text.to_string();
    crate::ingest::sanitize::field_in_place(&mut stored);
    stored
}

/// A note as subscribers get it: its fields by name and its tags.
pub struct NoteView {
    pub note: BrowsedNote,
    pub fields: Vec<(String, String)>,
    pub tags: Vec<String>,
}

/// One page of a deck's notes.
pub struct NotesPage {
    pub notes: Vec<NoteView>,
    /// Where the next page starts, if there is one.
    pub next: Option<NoteId>,
}

/// The deck's notes after `after` that match `filter`, a page at a time.
pub async fn notes(
    db: &Db,
    actor: Actor,
    hash: &str,
    filter: &NoteFilter<'_>,
    after: NoteId,
) -> DomainResult<NotesPage> {
    let mut conn = db.reader().acquire().await?;
    let deck = root_of(&mut conn, hash).await?;
    role_in(&mut conn, actor, &deck).await?;
    let mut found =
        browse::notes_page(&mut conn, deck.id, filter, after, NOTES_PER_PAGE + 1).await?;
    let more = found.len() as i64 > NOTES_PER_PAGE;
    found.truncate(NOTES_PER_PAGE as usize);
    let next = more.then(|| found.last().map(|n| n.id)).flatten();
    let mut notes = Vec::with_capacity(found.len());
    for note in found {
        notes.push(NoteView {
            fields: browse::named_fields(&mut conn, note.id).await?,
            tags: store::notes::reviewed_tags(&mut conn, note.id).await?,
            note,
        });
    }
    Ok(NotesPage { notes, next })
}

/// A note of the deck with its history, newest first.
pub async fn note_history(
    db: &Db,
    actor: Actor,
    hash: &str,
    guid: &str,
) -> DomainResult<(NoteView, Vec<HistoryEntry>)> {
    let mut conn = db.reader().acquire().await?;
    let deck = root_of(&mut conn, hash).await?;
    role_in(&mut conn, actor, &deck).await?;
    let note = browse::note_by_guid(&mut conn, deck.id, guid)
        .await?
        .ok_or_else(|| DomainError::NoNote(guid.to_string()))?;
    let history = browse::history(&mut conn, note.id, HISTORY_ENTRIES).await?;
    let view = NoteView {
        fields: browse::named_fields(&mut conn, note.id).await?,
        tags: store::notes::reviewed_tags(&mut conn, note.id).await?,
        note,
    };
    Ok((view, history))
}

/// The media file `name` of a deck's notes, as `(hash, mime)`.
pub async fn media(
    db: &Db,
    actor: Actor,
    hash: &str,
    name: &str,
) -> DomainResult<Option<(String, String)>> {
    let mut conn = db.reader().acquire().await?;
    let deck = root_of(&mut conn, hash).await?;
    role_in(&mut conn, actor, &deck).await?;
    Ok(browse::media_named(&mut conn, deck.id, name).await?)
}
