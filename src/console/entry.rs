//! Getting in and out: the first-boot setup page, signing in and out, and signing up
//! through an invite link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::page::{render, render_status, Chrome, PageError};
use super::session::{cleared_cookie, safe_next, session_cookie, CsrfOnly, Signed};
use crate::domain::{invites, setup, web_sessions, DomainError};
use crate::http::media::PublicBase;
use crate::http::AppState;

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("a browser")
}

/// Where a browser lands: setup while the box has no account, else the review queue.
pub async fn home(State(s): State<AppState>) -> Result<Redirect, PageError> {
    let pending = setup::pending_token(&s.db, &s.config.data_dir).await?;
    Ok(Redirect::to(&if pending.is_some() {
        format!("{}/setup", super::PREFIX)
    } else {
        format!("{}/review", super::PREFIX)
    }))
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    chrome: Option<Chrome>,
    error: Option<&'a str>,
    next: &'a str,
    username: &'a str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(State(s): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    if let Ok(Some(_)) = setup::pending_token(&s.db, &s.config.data_dir).await {
        return Redirect::to(&format!("{}/setup", super::PREFIX)).into_response();
    }
    render(&LoginPage {
        chrome: None,
        error: None,
        next: &safe_next(&q.next),
        username: "",
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(s): State<AppState>,
    base: PublicBase,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(&f.next);
    match web_sessions::sign_in(&s.db, &f.username, &f.password, user_agent(&headers)).await {
        Ok(opened) => {
            tracing::info!(user = %f.username.trim().to_lowercase(), "signed in to the console");
            (
                jar.add(session_cookie(opened.cookie, &base)),
                Redirect::to(&next),
            )
                .into_response()
        }
        Err(DomainError::BadCredentials) => render_status(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                chrome: None,
                error: Some("Invalid username or password."),
                next: &next,
                username: &f.username,
            },
        ),
        Err(e) => PageError::from(e).into_response(),
    }
}

pub async fn logout(
    State(s): State<AppState>,
    signed: Signed,
    jar: CookieJar,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let me = &signed.0;
    web_sessions::sign_out(&s.db, me.id, web_sessions::SignIn::Browser(me.session_id)).await?;
    Ok((
        jar.remove(cleared_cookie()),
        Redirect::to(&format!("{}/login", super::PREFIX)),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage<'a> {
    chrome: Option<Chrome>,
    error: Option<&'a str>,
    username: &'a str,
}

pub async fn setup_page(State(s): State<AppState>) -> Result<Response, PageError> {
    if setup::pending_token(&s.db, &s.config.data_dir)
        .await?
        .is_none()
    {
        return Ok(Redirect::to(&format!("{}/login", super::PREFIX)).into_response());
    }
    Ok(render(&SetupPage {
        chrome: None,
        error: None,
        username: "",
    }))
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    password: String,
}

pub async fn setup(
    State(s): State<AppState>,
    base: PublicBase,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<SetupForm>,
) -> Response {
    let done = setup::complete(
        &s.db,
        &s.config.data_dir,
        &f.token,
        &f.username,
        &f.password,
        user_agent(&headers),
    )
    .await;
    match done {
        Ok(opened) => {
            tracing::info!(user = %f.username.trim().to_lowercase(), "the box is set up; its administrator signed in");
            crate::system::notify::status("ready: the console is set up");
            let to = format!("{}/admin/users", super::PREFIX);
            (
                jar.add(session_cookie(opened.cookie, &base)),
                Redirect::to(&to),
            )
                .into_response()
        }
        Err(DomainError::AlreadySetUp) => {
            Redirect::to(&format!("{}/login", super::PREFIX)).into_response()
        }
        Err(e @ (DomainError::BadSetupToken | DomainError::Invalid(_))) => {
            let error = PageError::from(e);
            render_status(
                error.status,
                &SetupPage {
                    chrome: None,
                    error: Some(&error.message),
                    username: &f.username,
                },
            )
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "console/signup.html")]
struct SignupPage<'a> {
    chrome: Option<Chrome>,
    error: Option<&'a str>,
    token: &'a str,
    username: &'a str,
}

fn closed_invite() -> PageError {
    PageError::from(DomainError::InviteClosed)
}

pub async fn signup_page(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !invites::is_open(&s.db, &token).await? {
        return Err(closed_invite());
    }
    Ok(render(&SignupPage {
        chrome: None,
        error: None,
        token: &token,
        username: "",
    }))
}

#[derive(Deserialize)]
pub struct SignupForm {
    username: String,
    password: String,
}

pub async fn signup(
    State(s): State<AppState>,
    Path(token): Path<String>,
    base: PublicBase,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<SignupForm>,
) -> Response {
    match invites::sign_up(
        &s.db,
        &token,
        &f.username,
        &f.password,
        user_agent(&headers),
    )
    .await
    {
        Ok(opened) => {
            tracing::info!(user = %f.username.trim().to_lowercase(), "signed up through an invite");
            let to = format!("{}/account", super::PREFIX);
            (
                jar.add(session_cookie(opened.cookie, &base)),
                Redirect::to(&to),
            )
                .into_response()
        }
        Err(e @ (DomainError::UserExists(_) | DomainError::Invalid(_))) => {
            let error = PageError::from(e);
            render_status(
                error.status,
                &SignupPage {
                    chrome: None,
                    error: Some(&error.message),
                    token: &token,
                    username: &f.username,
                },
            )
        }
        Err(e) => PageError::from(e).into_response(),
    }
}
