//! Row ids as their own types, so a deck id can never be passed where a user id belongs.
//! Each is the SQLite `INTEGER PRIMARY KEY` it names, stored and serialised as that integer.

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            sqlx::Type, serde::Serialize, serde::Deserialize,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

row_id!(
    /// An account (`users.id`).
    UserId
);
row_id!(
    /// A deck or subdeck (`decks.id`); a root deck's id is also its tree's `root`.
    DeckId
);
row_id!(
    /// A note row (`notes.id`), not the Anki note id the add-on sends.
    NoteId
);
impl NoteId {
    /// Below every note id: where a walk over notes in id order starts.
    pub const BEFORE_ALL: NoteId = NoteId(i64::MIN);

    /// The id after this one, for writers that choose the ids of the notes they insert.
    pub fn next(self) -> NoteId {
        NoteId(self.0 + 1)
    }
}

row_id!(
    /// A stored notetype (`notetypes.id`), not Anki's notetype id.
    NotetypeId
);
row_id!(
    /// A publish, suggestion or forced change (`commits.id`).
    CommitId
);
row_id!(
    /// A deck link (`deck_links.id`): a deck that follows a base deck.
    LinkId
);
