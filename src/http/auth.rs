//! Bearer-token extractors. A missing or bad token is the only thing that answers 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use crate::domain::sessions::{self, AuthUser};
use crate::error::{AppError, BAD_TOKEN};

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Requires a valid token.
pub struct User(pub AuthUser);

/// Accepts a missing or bad token as anonymous.
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            Some(token) => Ok(Self(sessions::authenticate(&state.db, token).await?)),
            None => Ok(Self(None)),
        }
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let user = user.ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        tracing::Span::current().record("user", user.username.as_str());
        Ok(Self(user))
    }
}
