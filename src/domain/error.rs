//! What an action can end in, without HTTP: `http/` picks each route's status and exact
//! wording, the CLI prints the message with its cause chain.

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0:?} is not a deck hash")]
    InvalidHash(String),
    #[error("no deck {0}")]
    NoDeck(String),
    #[error("no user {0}")]
    NoUser(String),
    #[error("user {0} already exists")]
    UserExists(String),
    /// The actor neither owns nor maintains the deck.
    #[error("only the deck's owner and maintainers may do this")]
    NotMaintainer,
    /// The actor does not own the deck.
    #[error("only the deck's owner may do this")]
    NotOwner,
    #[error("the changelog message is empty")]
    EmptyChangelog,
    #[error("not subscribed to that deck")]
    NotSubscribed,
    #[error("the deck owner has no notetype named {0:?}")]
    NoNotetype(String),
    #[error("notetype {notetype:?} has no field {field:?}")]
    NoField { notetype: String, field: String },
    #[error("at most {0} at once")]
    TooMany(usize),
    /// A username or password that the account rules refuse.
    #[error(transparent)]
    Invalid(anyhow::Error),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of an action.
pub type DomainResult<T> = Result<T, DomainError>;
