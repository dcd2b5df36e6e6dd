//! What a reviewer reads: the queue of pending suggestions on the decks they own or
//! maintain, and one suggestion with every change it asks for. Deciding is in `review`.

use super::{decks, Actor, DomainError, DomainResult};
use crate::store::commits::Commit;
use crate::store::review::{ChangedNote, DeckCount, FieldChange, NoteChange, TagChange};
use crate::store::{self, CommitId, Conn, Db, NoteId, UserId};

/// Most suggestions one queue page lists (a page stays well under 50 KB).
pub const PAGE: usize = 50;

/// The reviewer's pending suggestions and the decks they may review.
#[derive(Debug)]
pub struct Queue {
    pub items: Vec<Commit>,
    /// Where the next page starts, when more suggestions wait.
    pub next: Option<CommitId>,
    pub decks: Vec<DeckCount>,
}

fn reviewer(actor: Actor) -> Option<UserId> {
    match actor {
        Actor::User(id) => Some(id),
        Actor::Admin => None,
    }
}

/// One page of the pending suggestions `actor` may decide, oldest first, optionally of
/// one deck tree, starting after suggestion `after`.
pub async fn queue(
    db: &Db,
    actor: Actor,
    deck: Option<&str>,
    after: Option<CommitId>,
) -> DomainResult<Queue> {
    let mut conn = db.reader().acquire().await?;
    let who = reviewer(actor);
    let mut items = store::review::queue(&mut conn, who, deck, after, PAGE as i64 + 1).await?;
    let next = (items.len() > PAGE).then(|| {
        items.truncate(PAGE);
        items[PAGE - 1].id
    });
    Ok(Queue {
        items,
        next,
        decks: store::review::counts(&mut conn, who).await?,
    })
}

/// The decks `actor` may review with their pending counts (the live counter's payload).
pub async fn counts(db: &Db, actor: Actor) -> DomainResult<Vec<DeckCount>> {
    let mut conn = db.reader().acquire().await?;
    Ok(store::review::counts(&mut conn, reviewer(actor)).await?)
}

/// Most notes one page of a suggestion shows (a suggestion of thousands of notes is never
/// read whole).
pub const NOTES_PER_PAGE: usize = 20;

/// Content one page of a suggestion shows, in bytes (both sides of each field change):
/// with the markup around it a page stays under 50 KB, however long the fields are.
pub const PAGE_CONTENT_BYTES: i64 = 32 * 1024;

/// A field change whose two sides together are larger than this is not shown inline;
/// the page links to it instead, so one long field cannot push a page past its budget.
pub const FIELD_INLINE_BYTES: usize = 12 * 1024;

/// Markup each change adds to a page (its name, buttons and links), in bytes.
const CHANGE_MARKUP_BYTES: i64 = 400;

/// Where each page of a suggestion starts: up to [`NOTES_PER_PAGE`] notes and
/// [`PAGE_CONTENT_BYTES`] a page, and at least one note, so a page is never empty.
fn page_starts(notes: &[ChangedNote]) -> Vec<usize> {
    let mut starts = vec![0];
    let (mut count, mut bytes) = (0, 0);
    for (i, n) in notes.iter().enumerate() {
        let size = n.bytes + n.changes * CHANGE_MARKUP_BYTES;
        if count > 0 && (count == NOTES_PER_PAGE || bytes + size > PAGE_CONTENT_BYTES) {
            starts.push(i);
            (count, bytes) = (0, 0);
        }
        count += 1;
        bytes += size;
    }
    starts
}

/// Commit `id`, if `actor` reviews its deck (pending or decided alike).
pub(super) async fn reviewable(
    conn: &mut Conn,
    actor: Actor,
    id: CommitId,
) -> DomainResult<Commit> {
    let commit = store::commits::get(conn, id)
        .await?
        .ok_or(DomainError::NoCommit(id))?;
    let deck = store::decks::by_id(conn, commit.deck_id)
        .await?
        .ok_or_else(|| DomainError::NoDeck(commit.deck.clone()))?;
    decks::check_maintainer(conn, actor, &deck).await?;
    Ok(commit)
}

/// One page of a suggestion: the changes to some of its notes.
#[derive(Debug)]
pub struct Suggestion {
    pub commit: Commit,
    /// Notetype changes waiting for a decision.
    pub notetypes: Vec<super::notetypes::ChangeSummary>,
    pub fields: Vec<FieldChange>,
    pub tags: Vec<TagChange>,
    pub notes: Vec<NoteChange>,
    /// How many notes the suggestion touches in all.
    pub total_notes: usize,
    /// The position of this page's first note among them.
    pub first_note: usize,
    /// How many pages show them.
    pub pages: usize,
}

/// A page of a suggestion (pages count from 0) as its reviewers see it; anyone else is
/// refused as for deciding it.
pub async fn suggestion(
    db: &Db,
    actor: Actor,
    id: CommitId,
    page: usize,
) -> DomainResult<Suggestion> {
    let mut conn = db.reader().acquire().await?;
    let commit = reviewable(&mut conn, actor, id).await?;
    let all = store::review::changed_notes(&mut conn, id, FIELD_INLINE_BYTES as i64).await?;
    let starts = page_starts(&all);
    let first_note = starts.get(page).copied().unwrap_or(all.len());
    let end = starts.get(page + 1).copied().unwrap_or(all.len());
    let shown: Vec<NoteId> = all[first_note..end].iter().map(|n| n.note).collect();
    let shown = serde_json::to_string(&shown).expect("ids serialise");
    Ok(Suggestion {
        notetypes: super::notetypes::summaries(&mut conn, id).await?,
        fields: store::review::field_changes(&mut conn, id, &shown).await?,
        tags: store::review::tag_changes(&mut conn, id, &shown).await?,
        notes: store::review::note_changes(&mut conn, id, &shown).await?,
        total_notes: all.len(),
        first_note,
        pages: starts.len(),
        commit,
    })
}

/// One pending field change of a suggestion with what it replaces, for its reviewers.
pub async fn field_change(
    db: &Db,
    actor: Actor,
    id: CommitId,
    row: i64,
) -> DomainResult<FieldChange> {
    let mut conn = db.reader().acquire().await?;
    reviewable(&mut conn, actor, id).await?;
    store::review::field_change(&mut conn, id, row)
        .await?
        .ok_or(DomainError::NoChange)
}

/// A media file a suggestion shows, as `(hash, MIME type)`, for its reviewers only.
pub async fn media_of(
    db: &Db,
    actor: Actor,
    id: CommitId,
    name: &str,
) -> DomainResult<Option<(String, String)>> {
    let mut conn = db.reader().acquire().await?;
    reviewable(&mut conn, actor, id).await?;
    Ok(store::review::media_named(&mut conn, id, name).await?)
}
