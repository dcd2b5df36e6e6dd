//! The administrator's pages: accounts (create, reset a password, disable, remove) and
//! one-time invite links.

use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::page::{render, Chrome, PageError};
use super::session::{mask, Admin, CsrfOnly, Signed};
use crate::domain::{invites, users, Actor};
use crate::http::media::PublicBase;
use crate::http::AppState;
use crate::store::console::InviteRow;
use crate::store::users::User;

#[derive(Template)]
#[template(path = "console/admin_users.html")]
struct UsersPage<'a> {
    chrome: Option<Chrome>,
    me: &'a str,
    csrf: String,
    notice: Option<String>,
    users: Vec<User>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    name: Option<String>,
}

pub async fn users_page(
    State(s): State<AppState>,
    Admin(me): Admin,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let name = q.name.as_deref().unwrap_or("the account");
    let notice = q.done.as_deref().map(|d| match d {
        "created" => format!("{name} can now sign in."),
        "password" => format!("{name} has a new password and was signed out everywhere."),
        "disabled" => format!("{name} is switched off and signed out."),
        "enabled" => format!("{name} may sign in again."),
        "removed" => format!("{name} and their decks are removed."),
        _ => "Done.".to_string(),
    });
    Ok(render(&UsersPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        me: &me.username,
        csrf: mask(&me.csrf),
        notice,
        users: users::list(&s.db, Actor::User(me.id)).await?,
    }))
}

fn back(done: &str, name: &str) -> Response {
    Redirect::to(&format!(
        "{}/admin/users?done={done}&name={name}",
        super::PREFIX
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
}

pub async fn create_user(
    State(s): State<AppState>,
    admin: Admin,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    let signed = Signed(admin.0);
    signed.check_csrf(&f.csrf)?;
    let created = users::create(&s.db, Actor::User(signed.0.id), &f.username, &f.password).await?;
    Ok(back("created", &created.name))
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn user_action(
    State(s): State<AppState>,
    admin: Admin,
    Path((name, action)): Path<(String, String)>,
    Form(f): Form<UserForm>,
) -> Result<Response, PageError> {
    let signed = Signed(admin.0);
    signed.check_csrf(&f.csrf)?;
    let actor = Actor::User(signed.0.id);
    let name = match action.as_str() {
        "password" => users::set_password(&s.db, actor, &name, &f.password).await?,
        "disable" => users::set_disabled(&s.db, actor, &name, true).await?,
        "enable" => users::set_disabled(&s.db, actor, &name, false).await?,
        "remove" if f.confirm.trim() == name => users::remove(&s.db, actor, &name).await?,
        "remove" => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Type the account's name to confirm removing it with its decks.",
            ))
        }
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "No such action.")),
    };
    let done = match action.as_str() {
        "password" => "password",
        "disable" => "disabled",
        "enable" => "enabled",
        _ => "removed",
    };
    Ok(back(done, &name))
}

#[derive(Template)]
#[template(path = "console/admin_invites.html")]
struct InvitesPage {
    chrome: Option<Chrome>,
    csrf: String,
    new_link: Option<String>,
    days: u64,
    invites: Vec<InviteRow>,
}

async fn invites_page(
    s: &AppState,
    me: &crate::domain::web_sessions::WebUser,
    new_link: Option<String>,
    days: u64,
) -> Result<Response, PageError> {
    Ok(render(&InvitesPage {
        chrome: Some(Chrome::of(s, me).await?),
        csrf: mask(&me.csrf),
        new_link,
        days,
        invites: invites::list(&s.db, Actor::User(me.id)).await?,
    }))
}

pub async fn invites(State(s): State<AppState>, Admin(me): Admin) -> Result<Response, PageError> {
    invites_page(&s, &me, None, 0).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    days: Option<u64>,
}

pub async fn make_invite(
    State(s): State<AppState>,
    admin: Admin,
    base: PublicBase,
    Form(f): Form<InviteForm>,
) -> Result<Response, PageError> {
    let signed = Signed(admin.0);
    signed.check_csrf(&f.csrf)?;
    let lifetime = f
        .days
        .map(|d| Duration::from_secs(d.clamp(1, 90) * 86_400))
        .unwrap_or(invites::DEFAULT_LIFETIME);
    let days = lifetime.as_secs() / 86_400;
    let token = invites::create(&s.db, Actor::User(signed.0.id), lifetime).await?;
    let link = format!("{}{}/invite/{token}", base.as_str(), super::PREFIX);
    invites_page(&s, &signed.0, Some(link), days).await
}

pub async fn withdraw_invite(
    State(s): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let signed = Signed(admin.0);
    signed.check_csrf(&f.csrf)?;
    invites::withdraw(&s.db, Actor::User(signed.0.id), id).await?;
    Ok(Redirect::to(&format!("{}/admin/invites", super::PREFIX)).into_response())
}
