//! A deck's settings in the console: description, maintainers, protected fields,
//! optional tag groups, changelogs, deck links, and deleting the deck with a typed
//! confirmation.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::page::{render, Chrome, PageError};
use super::session::{mask, CsrfOnly, Signed};
use crate::domain::deck_settings::{self, Settings};
use crate::domain::{deck_links, decks, Actor};
use crate::http::AppState;
use crate::store::{LinkId, NotetypeId};

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    chrome: Option<Chrome>,
    csrf: String,
    /// The deck page's address, which the forms' addresses start with.
    base: String,
    s: Settings,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn settings_path(hash: &str) -> String {
    format!("{}/decks/{hash}/settings", super::PREFIX)
}

fn done(hash: &str, what: &str) -> Response {
    Redirect::to(&format!("{}?done={what}", settings_path(hash))).into_response()
}

pub async fn page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(hash): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let settings = deck_settings::settings(&s.db, Actor::User(me.id), &hash).await?;
    let notice = q.done.as_deref().map(|d| match d {
        "description" => "The description is saved; subscribers get it on their next pull.",
        "maintainers" => "The maintainers are saved.",
        "protected" => "Protected fields are saved; subscribers get them on their next pull.",
        "restrictions" => "What suggestions may add is saved.",
        "groups" => "Optional tag groups are saved; subscribers choose theirs on their next pull.",
        "changelog" => "The changelog is deleted.",
        "unlinked" => "The link is removed; its notes show this deck's own content again on subscribers' next pull.",
        _ => "Saved.",
    });
    Ok(render(&SettingsPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        csrf: mask(&me.csrf),
        base: format!("{}/decks/{hash}", super::PREFIX),
        s: settings,
        notice,
    }))
}

#[derive(Deserialize)]
pub struct DescriptionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    description: String,
}

pub async fn description(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<DescriptionForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_settings::set_description(&s.db, Actor::User(signed.0.id), &hash, &f.description).await?;
    Ok(done(&hash, "description"))
}

/// Adding or removing one name: a maintainer or an optional tag group.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    name: String,
    action: String,
}

impl NameForm {
    fn adds(&self) -> Result<bool, PageError> {
        match self.action.as_str() {
            "add" => Ok(true),
            "remove" => Ok(false),
            _ => Err(PageError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "The action is add or remove",
            )),
        }
    }
}

pub async fn maintainers(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    decks::set_maintainer(
        &s.db,
        Actor::User(signed.0.id),
        &hash,
        f.name.trim(),
        f.adds()?,
    )
    .await?;
    Ok(done(&hash, "maintainers"))
}

pub async fn tag_groups(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_settings::set_tag_group(&s.db, Actor::User(signed.0.id), &hash, &f.name, f.adds()?)
        .await?;
    Ok(done(&hash, "groups"))
}

pub async fn protected(
    State(s): State<AppState>,
    signed: Signed,
    Path((hash, notetype)): Path<(String, NotetypeId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    signed.check_csrf(csrf)?;
    let fields: HashSet<String> = pairs
        .iter()
        .filter(|(k, _)| k == "field")
        .map(|(_, v)| v.clone())
        .collect();
    deck_settings::set_protected_fields(&s.db, Actor::User(signed.0.id), &hash, notetype, &fields)
        .await?;
    Ok(done(&hash, "protected"))
}

#[derive(Deserialize)]
pub struct RestrictionsForm {
    #[serde(default)]
    csrf: String,
    no_new_subdecks: Option<String>,
    no_new_notetypes: Option<String>,
}

pub async fn restrictions(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<RestrictionsForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_settings::set_restrictions(
        &s.db,
        Actor::User(signed.0.id),
        &hash,
        f.no_new_subdecks.is_some(),
        f.no_new_notetypes.is_some(),
    )
    .await?;
    Ok(done(&hash, "restrictions"))
}

pub async fn delete_changelog(
    State(s): State<AppState>,
    signed: Signed,
    Path((hash, id)): Path<(String, i64)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_settings::delete_changelog(&s.db, Actor::User(signed.0.id), &hash, id).await?;
    Ok(done(&hash, "changelog"))
}

pub async fn remove_link(
    State(s): State<AppState>,
    signed: Signed,
    Path((hash, link)): Path<(String, LinkId)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_links::remove_link(&s.db, Actor::User(signed.0.id), &hash, link).await?;
    Ok(done(&hash, "unlinked"))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn delete_deck(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<DeleteForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    deck_settings::delete_deck(&s.db, Actor::User(signed.0.id), &hash, &f.name).await?;
    Ok(Redirect::to(&format!("{}/decks?done=deleted", super::PREFIX)).into_response())
}
