//! The review pages: the queue of pending suggestions on my decks, one suggestion with its
//! changes, and the decisions taken on it (whole, or change by change).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::diff::{source_diff, with_previews, word_diff};
use super::media::MediaQuery;
use super::page::{render, Chrome, PageError, Trusted};
use super::session::{mask, CsrfOnly, Signed};
use crate::domain::notetypes::ChangeSummary;
use crate::domain::review::{self, Change};
use crate::domain::{queue, Actor};
use crate::http::AppState;
use crate::store::commits::{Commit, CommitStatus};
use crate::store::review::DeckCount;
use crate::store::CommitId;

/// Longest field a reviewer's edit may leave (the same bound as a cleaned note's field).
const MAX_EDIT_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
pub struct DeckFilter {
    deck: Option<String>,
    after: Option<CommitId>,
}

impl DeckFilter {
    fn deck(&self) -> Option<&str> {
        self.deck.as_deref().filter(|d| !d.is_empty())
    }

    /// This filter's queue address from `after` on (`path` is the page or its list).
    fn href(&self, path: &str, after: Option<CommitId>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(d) = self.deck() {
            query.append_pair("deck", d);
        }
        if let Some(a) = after {
            query.append_pair("after", &a.to_string());
        }
        let query = query.finish();
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{}/review{path}{sep}{query}", super::PREFIX)
    }
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Option<Chrome>,
    deck: Option<String>,
    decks: Vec<DeckCount>,
    items: Vec<Commit>,
    list_src: String,
    next_href: Option<String>,
}

#[derive(Template)]
#[template(path = "console/queue_items.html")]
struct QueueItems {
    items: Vec<Commit>,
    next_href: Option<String>,
}

pub async fn queue_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Query(q): Query<DeckFilter>,
) -> Result<Response, PageError> {
    let found = queue::queue(&s.db, Actor::User(me.id), q.deck(), q.after).await?;
    Ok(render(&QueuePage {
        chrome: Some(Chrome::of(&s, &me).await?),
        deck: q.deck().map(str::to_string),
        list_src: q.href("/list", q.after),
        next_href: found.next.map(|n| q.href("", Some(n))),
        decks: found.decks,
        items: found.items,
    }))
}

/// The queue's list alone, which an open queue page fetches when the queue changes.
pub async fn queue_list(
    State(s): State<AppState>,
    Signed(me): Signed,
    Query(q): Query<DeckFilter>,
) -> Result<Response, PageError> {
    let found = queue::queue(&s.db, Actor::User(me.id), q.deck(), q.after).await?;
    Ok(render(&QueueItems {
        next_href: found.next.map(|n| q.href("", Some(n))),
        items: found.items,
    }))
}

struct FieldView {
    id: i64,
    name: String,
    diff: Trusted,
}

/// A field change as a reviewer reads it: old → new as a word diff, media as previews.
fn diff_of(f: &crate::store::review::FieldChange, media: &str) -> Trusted {
    let old = f.old.as_deref().map(|o| with_previews(o, media));
    Trusted(word_diff(
        old.as_deref().unwrap_or(""),
        &with_previews(&f.new, media),
    ))
}

/// A waiting notetype change as a reviewer reads it: the field lists, and the source of
/// each changed card template and of the styling as word diffs.
struct NotetypeView {
    row: i64,
    notetype: String,
    fields_before: Vec<String>,
    fields_after: Option<Vec<String>>,
    templates: Vec<TemplateView>,
    css: Option<Trusted>,
}

/// A changed card template: its name and the diff of each side that changes.
struct TemplateView {
    name: String,
    front: Option<Trusted>,
    back: Option<Trusted>,
}

/// Template and styling text one suggestion page compares, before and after together:
/// what the notetype editor takes for a few templates. An upload may carry megabytes of
/// them; the page then says how long they are instead of holding them all.
const MOST_SOURCE_BYTES: usize = 400_000;

impl NotetypeView {
    fn of(c: ChangeSummary) -> Self {
        let mut left = MOST_SOURCE_BYTES;
        let mut diff = |(old, new): &(String, String)| {
            let bytes = old.len() + new.len();
            if bytes > left {
                return Trusted(format!(
                    "<em>Too long to compare here: {} bytes before, {} after. Deny this \
                     change unless you expect it.</em>",
                    old.len(),
                    new.len()
                ));
            }
            left -= bytes;
            Trusted(source_diff(old, new))
        };
        let mut changed = |side: &(String, String)| (side.0 != side.1).then(|| diff(side));
        let templates = c
            .templates
            .iter()
            .map(|t| TemplateView {
                name: t.name.clone(),
                front: changed(&t.front),
                back: changed(&t.back),
            })
            .collect();
        Self {
            templates,
            row: c.row,
            notetype: c.notetype,
            fields_before: c.fields_before,
            fields_after: c.fields_after,
            css: c.css.as_ref().map(changed).unwrap_or_default(),
        }
    }
}

struct TagView {
    id: i64,
    content: String,
    action: bool,
}

#[derive(Default)]
struct NoteView {
    guid: String,
    deck_path: String,
    new_note: bool,
    removal: bool,
    moved_to: Option<String>,
    fields: Vec<FieldView>,
    tags: Vec<TagView>,
}

/// The notes of a suggestion in the order their first change appears.
#[derive(Default)]
struct Notes {
    by_guid: BTreeMap<String, NoteView>,
    order: Vec<String>,
}

impl Notes {
    fn entry(&mut self, guid: &str, deck_path: &str, new_note: bool) -> &mut NoteView {
        if !self.by_guid.contains_key(guid) {
            self.order.push(guid.to_string());
        }
        self.by_guid
            .entry(guid.to_string())
            .or_insert_with(|| NoteView {
                guid: guid.to_string(),
                deck_path: deck_path.to_string(),
                new_note,
                ..NoteView::default()
            })
    }

    fn in_order(mut self) -> Vec<NoteView> {
        self.order
            .iter()
            .filter_map(|g| self.by_guid.remove(g))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "console/suggestion.html")]
struct SuggestionPage {
    chrome: Option<Chrome>,
    c: Commit,
    notetypes: Vec<NotetypeView>,
    info: Trusted,
    reason: Option<String>,
    notes: Vec<NoteView>,
    open: bool,
    base: String,
    csrf: String,
    /// Which notes this page shows, as "26–50 of 200", when there is more than one page.
    range: Option<String>,
    prev_href: Option<String>,
    next_href: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

fn base_of(id: CommitId) -> String {
    format!("{}/review/{id}", super::PREFIX)
}

pub async fn suggestion_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(id): Path<CommitId>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).max(1);
    let found = queue::suggestion(&s.db, Actor::User(me.id), id, page - 1).await?;
    let base = base_of(id);
    let media = format!("{base}/media");
    let mut notes = Notes::default();
    for f in found.fields {
        let size = f.old.as_ref().map_or(0, String::len) + f.new.len();
        let diff = if size > queue::FIELD_INLINE_BYTES {
            Trusted(format!(
                "<p class=\"muted\">A long change ({} KB): <a href=\"{base}/field/{}/edit\">read it whole</a>.</p>",
                size.div_ceil(1024),
                f.id
            ))
        } else {
            diff_of(&f, &media)
        };
        notes
            .entry(&f.guid, &f.deck_path, f.new_note)
            .fields
            .push(FieldView {
                id: f.id,
                name: f
                    .field_name
                    .unwrap_or_else(|| format!("Field {}", f.position + 1)),
                diff,
            });
    }
    for t in found.tags {
        notes.entry(&t.guid, "", t.new_note).tags.push(TagView {
            id: t.id,
            content: t.content,
            action: t.action,
        });
    }
    for n in found.notes {
        let view = notes.entry(&n.guid, &n.from_path, false);
        match n.to_path {
            Some(to) => view.moved_to = Some(to),
            None => view.removal = true,
        }
    }
    let notes = notes.in_order();
    let (total, pages, first) = (found.total_notes, found.pages, found.first_note);
    let range = (pages > 1).then(|| {
        format!(
            "{}–{} of {total}",
            (first + 1).min(total),
            first + notes.len()
        )
    });
    let c = found.commit;
    Ok(render(&SuggestionPage {
        notetypes: found.notetypes.into_iter().map(NotetypeView::of).collect(),
        range,
        prev_href: (page > 1).then(|| format!("{base}?page={}", page - 1)),
        next_href: (page < pages).then(|| format!("{base}?page={}", page + 1)),
        chrome: Some(Chrome::of(&s, &me).await?),
        info: Trusted(c.info.clone()),
        reason: c.reason.as_deref().map(super::page::plain),
        open: c.status == CommitStatus::Pending,
        notes,
        base,
        csrf: mask(&me.csrf),
        c,
    }))
}

#[derive(Deserialize)]
pub struct DenyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "console/edit_field.html")]
struct EditPage {
    chrome: Option<Chrome>,
    id: CommitId,
    row: i64,
    base: String,
    csrf: String,
    diff: Trusted,
    /// The suggested HTML as stored, for the edit box.
    source: String,
}

/// A suggested field in an edit box, so a reviewer can change it before accepting it.
pub async fn edit_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path((id, row)): Path<(CommitId, i64)>,
) -> Result<Response, PageError> {
    let f = queue::field_change(&s.db, Actor::User(me.id), id, row).await?;
    let base = base_of(id);
    Ok(render(&EditPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        diff: diff_of(&f, &format!("{base}/media")),
        source: f.new,
        csrf: mask(&me.csrf),
        id,
        row,
        base,
    }))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    content: String,
}

fn back_to(id: CommitId) -> Response {
    Redirect::to(&base_of(id)).into_response()
}

pub async fn approve(
    State(s): State<AppState>,
    signed: Signed,
    Path(id): Path<CommitId>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    review::approve(&s.db, Actor::User(signed.0.id), id).await?;
    Ok(back_to(id))
}

pub async fn deny(
    State(s): State<AppState>,
    signed: Signed,
    Path(id): Path<CommitId>,
    Form(f): Form<DenyForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    review::deny(&s.db, Actor::User(signed.0.id), id, reason).await?;
    Ok(back_to(id))
}

/// `field` or `tag`, and `accept` or `deny`, from the action's path.
fn parse_change(kind: &str, row: i64, verb: &str) -> Result<(Change, bool), PageError> {
    let change = match kind {
        "field" => Change::Field(row),
        "tag" => Change::Tag(row),
        "notetype" => Change::Notetype(row),
        _ => {
            return Err(PageError::new(
                StatusCode::NOT_FOUND,
                "No such kind of change.",
            ))
        }
    };
    let accept = match verb {
        "accept" => true,
        "deny" => false,
        _ => return Err(PageError::new(StatusCode::NOT_FOUND, "No such decision.")),
    };
    Ok((change, accept))
}

pub async fn decide_change(
    State(s): State<AppState>,
    signed: Signed,
    Path((id, kind, row, verb)): Path<(CommitId, String, i64, String)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let (change, accept) = parse_change(&kind, row, &verb)?;
    review::decide_change(&s.db, Actor::User(signed.0.id), id, change, accept).await?;
    Ok(back_to(id))
}

pub async fn edit_field(
    State(s): State<AppState>,
    signed: Signed,
    Path((id, row)): Path<(CommitId, i64)>,
    Form(f): Form<EditForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    review::edit_field(
        &s.db,
        Actor::User(signed.0.id),
        id,
        row,
        &f.content,
        MAX_EDIT_BYTES,
    )
    .await?;
    Ok(back_to(id))
}

/// A suggestion's image as a preview, or its audio file, for its reviewers only.
pub async fn media(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(id): Path<CommitId>,
    Query(q): Query<MediaQuery>,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let Some((hash, mime)) = queue::media_of(&s.db, Actor::User(me.id), id, &q.name).await? else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No such media file in this suggestion.",
        ));
    };
    super::media::serve(&s, &hash, mime, request).await
}
