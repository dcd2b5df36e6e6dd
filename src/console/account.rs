//! My account: changing my password and seeing (and ending) where I am signed in.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::page::{render_status, Chrome, PageError};
use super::session::{mask, CsrfOnly, Signed};
use crate::domain::web_sessions::{self, SignIn};
use crate::domain::DomainError;
use crate::http::AppState;
use crate::store::console::SessionRow;
use crate::store::tokens::DeviceRow;

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage<'a> {
    chrome: Option<Chrome>,
    username: &'a str,
    csrf: String,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    sessions: Vec<SessionRow>,
    current: i64,
    addon: Vec<DeviceRow>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn page(
    s: &AppState,
    signed: &Signed,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let me = &signed.0;
    let devices = web_sessions::devices(&s.db, me.id).await?;
    Ok(render_status(
        status,
        &AccountPage {
            chrome: Some(Chrome::of(s, me).await?),
            username: &me.username,
            csrf: mask(&me.csrf),
            notice,
            error,
            sessions: devices.sessions,
            current: me.session_id,
            addon: devices.addon,
        },
    ))
}

pub async fn show(
    State(s): State<AppState>,
    signed: Signed,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_deref() {
        Some("password") => Some("Your password is changed; other sign-ins have ended."),
        Some("signed-out") => Some("That sign-in has ended."),
        _ => None,
    };
    page(&s, &signed, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current: String,
    new: String,
}

pub async fn change_password(
    State(s): State<AppState>,
    signed: Signed,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    match web_sessions::change_password(&s.db, &signed.0, &f.current, &f.new).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("{}/account?done=password", super::PREFIX)).into_response())
        }
        Err(DomainError::BadCredentials) => {
            let msg = "The current password is not right.";
            page(
                &s,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(msg),
            )
            .await
        }
        Err(e @ DomainError::Invalid(_)) => {
            let error = PageError::from(e);
            page(&s, &signed, error.status, None, Some(&error.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn sign_out(
    State(s): State<AppState>,
    signed: Signed,
    Path((kind, id)): Path<(String, i64)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let which = match kind.as_str() {
        "browser" => SignIn::Browser(id),
        "addon" => SignIn::Addon(id),
        _ => {
            return Err(PageError::new(
                StatusCode::NOT_FOUND,
                "No such kind of sign-in.",
            ))
        }
    };
    if !web_sessions::sign_out(&s.db, signed.0.id, which).await? {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No such sign-in of yours.",
        ));
    }
    Ok(Redirect::to(&format!("{}/account?done=signed-out", super::PREFIX)).into_response())
}
