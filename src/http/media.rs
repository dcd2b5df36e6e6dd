//! Media routes exist but answer 503 until media storage is enabled.

use crate::error::AppError;

/// Every `/media/*` and media URL path.
pub async fn not_enabled() -> AppError {
    AppError::Unavailable("media not enabled on this deckd server yet".into())
}
