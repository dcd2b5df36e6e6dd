//! My decks, a deck's page (its notes as subscribers get them, searchable and paged) and
//! a note's history, with the changelog a maintainer posts from the deck page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::diff::with_previews;
use super::media::MediaQuery;
use super::page::{render, Chrome, PageError, Trusted};
use super::session::{mask, Signed};
use crate::domain::browse::{self, DeckView, NoteView};
use crate::domain::{decks, notetypes, Actor};
use crate::http::AppState;
use crate::store::browse::{DeckRole, HistoryEntry, MyDeck, NoteFilter};
use crate::store::notetypes::Notetype;
use crate::store::NoteId;

fn deck_base(hash: &str) -> String {
    format!("{}/decks/{hash}", super::PREFIX)
}

/// What a role is called on the page.
fn role_name(role: &Option<DeckRole>) -> &'static str {
    match role {
        Some(DeckRole::Owner) => "owner",
        Some(DeckRole::Maintainer) => "maintainer",
        Some(DeckRole::Subscriber) => "subscriber",
        None => "administrator",
    }
}

#[derive(Template)]
#[template(path = "console/decks.html")]
struct DecksPage {
    chrome: Option<Chrome>,
    decks: Vec<MyDeck>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ListDone {
    done: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Signed(me): Signed,
    Query(q): Query<ListDone>,
) -> Result<Response, PageError> {
    Ok(render(&DecksPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        decks: browse::my_decks(&s.db, me.id).await?,
        notice: (q.done.as_deref() == Some("deleted"))
            .then_some("The deck is deleted. Subscribers' add-ons report it as gone."),
    }))
}

/// A note's fields and tags ready for a page: field HTML with its media pointed at the
/// deck's media address.
struct ShownNote {
    guid: String,
    deck_path: String,
    notetype: String,
    fields: Vec<(String, Trusted)>,
    tags: Vec<String>,
}

fn shown(v: NoteView, media: &str) -> ShownNote {
    ShownNote {
        guid: v.note.guid,
        deck_path: v.note.deck_path,
        notetype: v.note.notetype,
        fields: v
            .fields
            .into_iter()
            .map(|(name, html)| (name, Trusted(with_previews(&html, media))))
            .collect(),
        tags: v.tags,
    }
}

#[derive(Template)]
#[template(path = "console/deck.html")]
struct DeckPage<'a> {
    chrome: Option<Chrome>,
    csrf: String,
    view: DeckView,
    role: &'static str,
    notetypes: Vec<Notetype>,
    notes: Vec<ShownNote>,
    q: &'a str,
    tag: &'a str,
    subdeck: &'a str,
    next: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    deck: String,
    after: Option<NoteId>,
    done: Option<String>,
}

fn non_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

pub async fn deck_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(hash): Path<String>,
    Query(q): Query<Search>,
) -> Result<Response, PageError> {
    let actor = Actor::User(me.id);
    let view = browse::deck(&s.db, actor, &hash).await?;
    let typed = non_empty(&q.q);
    let stored = typed.map(browse::as_stored);
    let filter = NoteFilter {
        text: typed.zip(stored.as_deref()),
        tag: non_empty(&q.tag),
        subdeck: non_empty(&q.deck),
    };
    let page = browse::notes(
        &s.db,
        actor,
        &hash,
        &filter,
        q.after.unwrap_or(NoteId::BEFORE_ALL),
    )
    .await?;
    let next = page.next.map(|after| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q.q)
            .append_pair("tag", &q.tag)
            .append_pair("deck", &q.deck)
            .append_pair("after", &after.to_string())
            .finish();
        format!("{}?{query}", deck_base(&hash))
    });
    let notetypes = if view.can_edit() {
        notetypes::of_tree(&s.db, actor, &hash).await?
    } else {
        Vec::new()
    };
    let media = format!("{}/media", deck_base(&hash));
    Ok(render(&DeckPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        csrf: mask(&me.csrf),
        role: role_name(&view.role),
        view,
        notetypes,
        notes: page.notes.into_iter().map(|n| shown(n, &media)).collect(),
        q: &q.q,
        tag: &q.tag,
        subdeck: &q.deck,
        next,
        notice: match q.done.as_deref() {
            Some("changelog") => {
                Some("The changelog is posted; subscribers see it on their next pull.")
            }
            _ => None,
        },
    }))
}

#[derive(Template)]
#[template(path = "console/note.html")]
struct NotePage<'a> {
    chrome: Option<Chrome>,
    hash: &'a str,
    deck_name: String,
    note: ShownNote,
    history: Vec<HistoryEntry>,
}

pub async fn note_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path((hash, guid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = Actor::User(me.id);
    let view = browse::deck(&s.db, actor, &hash).await?;
    let (note, history) = browse::note_history(&s.db, actor, &hash, &guid).await?;
    let media = format!("{}/media", deck_base(&hash));
    Ok(render(&NotePage {
        chrome: Some(Chrome::of(&s, &me).await?),
        hash: &hash,
        deck_name: view.deck.name,
        note: shown(note, &media),
        history,
    }))
}

/// An image (as its preview) or audio file of a deck's notes, for who may see the deck.
pub async fn media(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(hash): Path<String>,
    Query(q): Query<MediaQuery>,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let Some((file, mime)) = browse::media(&s.db, Actor::User(me.id), &hash, &q.name).await? else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No such media file in this deck.",
        ));
    };
    super::media::serve(&s, &file, mime, request).await
}

#[derive(Deserialize)]
pub struct ChangelogForm {
    #[serde(default)]
    csrf: String,
    message: String,
}

pub async fn post_changelog(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<ChangelogForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    decks::add_changelog(&s.db, Actor::User(signed.0.id), &hash, &f.message).await?;
    Ok(Redirect::to(&format!("{}?done=changelog", deck_base(&hash))).into_response())
}
