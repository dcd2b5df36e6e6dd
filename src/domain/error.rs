//! What an action can end in, without HTTP: `http/` picks each route's status and exact
//! wording, the CLI prints the message with its cause chain.

use crate::store::CommitId;

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0:?} is not a deck hash")]
    InvalidHash(String),
    #[error("no deck {0}")]
    NoDeck(String),
    /// A username and password that do not match an account (the same answer for both).
    #[error("invalid username or password")]
    BadCredentials,
    #[error("unknown or expired refresh token")]
    UnknownRefreshToken,
    #[error("no commit {0}")]
    NoCommit(CommitId),
    /// A suggestion that was already decided on (or was never one to review).
    #[error("commit {commit} is already {}", status.as_str())]
    Decided {
        commit: CommitId,
        status: crate::store::commits::CommitStatus,
    },
    #[error("no user {0}")]
    NoUser(String),
    #[error("user {0} already exists")]
    UserExists(String),
    /// The actor neither owns nor maintains the deck.
    #[error("only the deck's owner and maintainers may do this")]
    NotMaintainer,
    /// Only the box's administrator may do this.
    #[error("only an administrator may do this")]
    NotAdmin,
    /// The actor does not own the deck.
    #[error("only the deck's owner may do this")]
    NotOwner,
    /// A backup the console started is still running.
    #[error("a backup is already running; its progress is on the dashboard")]
    BackupRunning,
    /// Setting up the box once an account exists.
    #[error("this box is already set up")]
    AlreadySetUp,
    #[error("the setup token is wrong; `deckd setup-token` on the box prints it")]
    BadSetupToken,
    #[error("this invite link was used, withdrawn or has expired")]
    InviteClosed,
    /// A change id that is not a pending change of the suggestion named.
    #[error("no such pending change in this suggestion")]
    NoChange,
    /// A field or tag of a note the suggestion creates: such notes are decided whole.
    #[error("a new note is approved or denied with its whole suggestion")]
    WholeNoteOnly,
    #[error("the changelog message is empty")]
    EmptyChangelog,
    #[error("not subscribed to that deck")]
    NotSubscribed,
    #[error("the deck owner has no notetype named {0:?}")]
    NoNotetype(String),
    #[error("the notetype {0:?} changed since this suggestion was made, so accepting its notetype change would undo that: deny the notetype change (its notes can still be accepted)")]
    SuggestionOutdated(String),
    #[error(
        "this notetype is also used by decks you do not maintain; only their owner can change it"
    )]
    NotetypeShared,
    #[error("this was changed since the page was opened (from Anki, by another maintainer or an approved suggestion); reload the page and make your change again: nothing was saved")]
    Stale,
    #[error("this deck has no note {0}")]
    NoNote(String),
    #[error("this deck's notes use no notetype {0}")]
    NotetypeNotInDeck(crate::store::NotetypeId),
    #[error("notetype {notetype:?} has no field {field:?}")]
    NoField { notetype: String, field: String },
    /// A suggestion for a deck that no longer exists.
    #[error("Deck does not exist")]
    DeckGone,
    /// A suggestion for a subdeck whose parent is not in the tree either; the add-on
    /// matches on this text to offer suggesting the whole tree.
    #[error("Deck not found. If this is a new subdeck, try to suggest the entire deck tree from the sideview.")]
    NoParentDeck,
    #[error("Subdecks are not allowed")]
    SubdecksNotAllowed,
    /// A suggested notetype the deck does not have (the add-on shows the UUID).
    #[error("Notetype Error: {0}")]
    UnknownNotetype(String),
    #[error("Invalid Deck: note {note} uses notetype {notetype} which the deck does not include")]
    NotetypeNotIncluded { note: String, notetype: String },
    /// Text that cleaning made larger than the server keeps (quotes become references).
    #[error("{what} holds {bytes} bytes once its HTML is cleaned; at most {limit} are accepted")]
    CleanedTooLarge {
        what: String,
        bytes: usize,
        limit: usize,
    },
    #[error("Subscriber deck {0} not found")]
    NoSubscriberDeck(String),
    #[error("Base deck {0} not found")]
    NoBaseDeck(String),
    #[error("A deck cannot be linked to itself or to another deck of its own tree")]
    LinkToOwnTree,
    /// The base deck already follows the subscriber deck, directly or through other links.
    #[error("Circular link: the base deck (or a deck it is linked to) already follows this deck")]
    CircularLink,
    #[error("This deck is not linked to that base deck yet; create the deck link first")]
    NotLinked,
    #[error("no such deck link")]
    NoLink,
    #[error("No notes provided")]
    NoNotes,
    #[error("All fields are empty; refusing to apply an empty update")]
    EmptyUpdate,
    /// The upload could not be read back (a spool that failed, a full disk).
    #[error(transparent)]
    Decode(#[from] crate::wire::gzb64::DecodeError),
    #[error("at most {0} at once")]
    TooMany(usize),
    /// Input the rules refuse (a username, a password, a notetype's field names, …).
    #[error(transparent)]
    Invalid(anyhow::Error),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of an action.
pub type DomainResult<T> = Result<T, DomainError>;
