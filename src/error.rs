//! The one error type of deckd. Each variant knows its HTTP status; the body is the
//! plain text the add-on shows. 401 is reserved for a missing or bad token because
//! the add-on logs its user out on any 401.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::domain::DomainError;
use crate::store::full::{anyhow_is_storage_full, is_storage_full, StorageFull};
use crate::wire::gzb64::DecodeError;
use crate::wire::json_guard::Exceeded;

/// Errors a request (or an admin command) can end in.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The only 401: a bad token, or bad credentials on `/login` and `/refreshToken`.
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    /// Made from something that has changed since (a console form on an older notetype).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    /// Over a quota or rate; the add-on waits `retry_after` seconds and tries again.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// A JSON error body (`{"error": …}`) for the JSON routes that use one.
    #[error("{1}")]
    JsonError(StatusCode, String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The data directory's disk is full: 507 with Retry-After, never a server fault.
    #[error(transparent)]
    StorageFull(#[from] StorageFull),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if is_storage_full(&e) {
            tracing::warn!(error = %e, "the disk is full");
            return Self::StorageFull(StorageFull);
        }
        Self::Internal(e.into())
    }
}

/// The status and wording a domain error has on routes without their own; handlers
/// whose add-on answer differs map those variants before this.
impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidHash(_) => Self::BadRequest("Invalid deck hash format".into()),
            DomainError::NoDeck(_) => Self::NotFound("Deck not found".into()),
            DomainError::NotSubscribed => Self::NotFound("Subscription not found".into()),
            DomainError::EmptyChangelog => {
                Self::Unprocessable("The changelog message is empty".into())
            }
            e @ (DomainError::NotMaintainer
            | DomainError::NotOwner
            | DomainError::NotAdmin
            | DomainError::NotetypeShared) => Self::Forbidden(e.to_string()),
            e @ (DomainError::Stale | DomainError::SuggestionOutdated(_)) => {
                Self::Conflict(e.to_string())
            }
            e @ DomainError::BadSetupToken => Self::Forbidden(e.to_string()),
            e @ (DomainError::AlreadySetUp
            | DomainError::BackupRunning
            | DomainError::InviteClosed
            | DomainError::WholeNoteOnly) => Self::Unprocessable(e.to_string()),
            e @ DomainError::NoChange => Self::NotFound(e.to_string()),
            e @ (DomainError::Decided { .. }
            | DomainError::DeckGone
            | DomainError::NoParentDeck
            | DomainError::SubdecksNotAllowed
            | DomainError::UnknownNotetype(_)
            | DomainError::EmptyUpdate
            | DomainError::NoSubscriberDeck(_)
            | DomainError::NoBaseDeck(_)
            | DomainError::LinkToOwnTree
            | DomainError::CircularLink
            | DomainError::NotLinked) => Self::Unprocessable(e.to_string()),
            e @ (DomainError::NotetypeNotIncluded { .. } | DomainError::NoNotes) => {
                Self::BadRequest(e.to_string())
            }
            DomainError::Decode(e) => Self::Decode(e),
            // The only 401s: the add-on logs its user out on them.
            DomainError::BadCredentials => Self::Unauthorized(BAD_LOGIN),
            DomainError::UnknownRefreshToken => Self::Unauthorized(BAD_REFRESH),
            e @ DomainError::CleanedTooLarge { .. } => Self::TooLarge(e.to_string()),
            e @ (DomainError::NoUser(_)
            | DomainError::NoCommit(_)
            | DomainError::NoNotetype(_)
            | DomainError::NotetypeNotInDeck(_)
            | DomainError::NoNote(_)
            | DomainError::NoLink
            | DomainError::NoField { .. }) => Self::NotFound(e.to_string()),
            e
            @ (DomainError::UserExists(_) | DomainError::TooMany(_) | DomainError::Invalid(_)) => {
                Self::BadRequest(e.to_string())
            }
            DomainError::Storage(e) => e.into(),
            DomainError::Internal(e) => Self::Internal(e),
        }
    }
}

/// What a client is told to wait after a full disk.
const STORAGE_FULL_RETRY_SECS: u64 = 60;

/// Answer to a missing, unknown or expired bearer token.
pub const BAD_TOKEN: &str = "Unauthorized: missing, invalid or expired token";
/// Answer to a failed `/login` (the add-on shows it after "Login failed: ").
pub const BAD_LOGIN: &str = "Invalid username or password";
/// Answer to a failed `/refreshToken`, worded as the add-on expects (docs/protocol.md).
pub const BAD_REFRESH: &str = "Error";

/// Convenience for handlers and domain code.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::JsonError(status, _) => *status,
            Self::Decode(DecodeError::BodyTooLarge(_) | DecodeError::TooLarge(_)) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Decode(DecodeError::Limit(Exceeded::Busy)) => StatusCode::TOO_MANY_REQUESTS,
            // Nesting is a malformed document, not a big one (as serde_json's own limit).
            Self::Decode(DecodeError::Limit(Exceeded::Depth(_))) => StatusCode::BAD_REQUEST,
            Self::Decode(DecodeError::Limit(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Decode(DecodeError::Spool(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Decode(_) => StatusCode::BAD_REQUEST,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(e) if anyhow_is_storage_full(e) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(e) = &self {
            if status == StatusCode::INSUFFICIENT_STORAGE {
                tracing::warn!(error = format!("{e:#}"), "the disk is full");
                return Self::StorageFull(StorageFull).into_response();
            }
            tracing::error!(error = format!("{e:#}"), "request failed");
            return (status, "Internal Error occurred. Damn!").into_response();
        }
        if let Self::JsonError(_, msg) = &self {
            return (status, axum::Json(serde_json::json!({ "error": msg }))).into_response();
        }
        let mut resp = (status, self.to_string()).into_response();
        let retry_after = match &self {
            Self::Unavailable(_) | Self::Decode(DecodeError::Spool(_)) => Some(30),
            Self::Decode(DecodeError::Limit(Exceeded::Busy)) => Some(60),
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            Self::StorageFull(_) => Some(STORAGE_FULL_RETRY_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CommitId;

    /// The add-on logs its user out on any 401: of all domain errors, only bad
    /// credentials and an unknown refresh token may answer it.
    #[test]
    fn only_credentials_answer_401() {
        use crate::store::commits::CommitStatus;
        let all = [
            DomainError::InvalidHash("x".into()),
            DomainError::NoDeck("x".into()),
            DomainError::DeckGone,
            DomainError::NoParentDeck,
            DomainError::SubdecksNotAllowed,
            DomainError::UnknownNotetype("u".into()),
            DomainError::NotetypeNotIncluded {
                note: "n".into(),
                notetype: "u".into(),
            },
            DomainError::CleanedTooLarge {
                what: "note n".into(),
                bytes: 2,
                limit: 1,
            },
            DomainError::NoNotes,
            DomainError::EmptyUpdate,
            DomainError::NoCommit(CommitId(1)),
            DomainError::Decided {
                commit: CommitId(1),
                status: CommitStatus::Approved,
            },
            DomainError::NoUser("u".into()),
            DomainError::UserExists("u".into()),
            DomainError::NotMaintainer,
            DomainError::NotOwner,
            DomainError::NotAdmin,
            DomainError::EmptyChangelog,
            DomainError::NotSubscribed,
            DomainError::AlreadySetUp,
            DomainError::BadSetupToken,
            DomainError::InviteClosed,
            DomainError::NoChange,
            DomainError::WholeNoteOnly,
            DomainError::TooMany(1),
            DomainError::NoSubscriberDeck("x".into()),
            DomainError::NoBaseDeck("x".into()),
            DomainError::LinkToOwnTree,
            DomainError::CircularLink,
            DomainError::NotLinked,
            DomainError::NoLink,
        ];
        for e in all {
            let shown = e.to_string();
            let status = AppError::from(e).into_response().status();
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{shown}");
        }
        for e in [
            DomainError::BadCredentials,
            DomainError::UnknownRefreshToken,
        ] {
            assert_eq!(
                AppError::from(e).into_response().status(),
                StatusCode::UNAUTHORIZED
            );
        }
    }
}
