//! Who may change which file a note's media name stands for: the owner or a maintainer
//! of the note's deck at once; anyone else only through a pending suggestion of theirs
//! that touches the note, applied when it is approved (issue 11).

use crate::store::{self, CommitId, Conn, DeckId, NoteId, UserId};

/// What a user's reference to a file from a note becomes.
#[derive(Debug)]
pub enum Reference {
    /// The user holds the deck's rights: the reference takes effect now.
    Attach,
    /// The reference waits with this pending suggestion of the user's.
    Suggest(CommitId),
}

/// How `user` may reference media from note `note` of deck `deck` in tree `root`;
/// `None` when they may not at all (the note is neither theirs to edit nor in a suggestion of theirs).
pub async fn reference_for(
    conn: &mut Conn,
    user: UserId,
    root: DeckId,
    deck: DeckId,
    note: NoteId,
) -> sqlx::Result<Option<Reference>> {
    if store::decks::can_maintain(conn, deck, user).await? {
        return Ok(Some(Reference::Attach));
    }
    Ok(
        store::commits::pending_touching_note(conn, user, root, note)
            .await?
            .map(Reference::Suggest),
    )
}
