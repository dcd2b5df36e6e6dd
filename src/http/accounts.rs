//! `/login`, `/refreshToken`, `/removeToken`, `/CheckUserToken`, `/GetUserHashFromToken`.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::auth::{MaybeUser, User};
use super::AppState;
use crate::accounts;
use crate::domain::sessions::{self, Session};
use crate::error::AppResult;

#[derive(Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
}

pub async fn login(
    State(s): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> AppResult<Json<Session>> {
    Ok(Json(
        sessions::login(&s.db, &req.username, &req.password).await?,
    ))
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: String,
}

pub async fn refresh(
    State(s): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> AppResult<Json<Session>> {
    Ok(Json(sessions::refresh(&s.db, &req.refresh_token).await?))
}

pub async fn remove_token(State(s): State<AppState>, User(user): User) -> AppResult<&'static str> {
    let removed = sessions::logout(&s.db, user.token_id).await?;
    Ok(if removed {
        "Token successfully removed"
    } else {
        "Token not found"
    })
}

/// Bare `true` or `false`, always 200: the add-on compares the text exactly.
pub async fn check_user_token(MaybeUser(user): MaybeUser) -> &'static str {
    if user.is_some() {
        "true"
    } else {
        "false"
    }
}

pub async fn user_hash(User(user): User) -> Json<String> {
    Json(accounts::user_hash(&user.username))
}
