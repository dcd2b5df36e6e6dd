//! A deck's notetypes in the console: add, rename, move or remove a field, edit card
//! templates and styling, in one form that works without JavaScript. The change reaches
//! subscribers on their next pull with every note of the notetype.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::page::{render, Chrome, PageError};
use super::session::{mask, Signed};
use crate::domain::notetypes::{self, FieldEdit, NotetypeEdit, TemplateEdit};
use crate::domain::Actor;
use crate::http::AppState;
use crate::store::notetypes::Notetype;
use crate::store::NotetypeId;

#[derive(Template)]
#[template(path = "console/notetype.html")]
struct NotetypePage<'a> {
    chrome: Option<Chrome>,
    csrf: String,
    /// The notetype's version the form is made from.
    version: String,
    hash: &'a str,
    nt: Notetype,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

fn page_of(hash: &str, id: NotetypeId) -> String {
    format!("{}/decks/{hash}/notetypes/{id}", crate::console::PREFIX)
}

pub async fn edit_page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path((hash, id)): Path<(String, NotetypeId)>,
    Query(q): Query<Saved>,
) -> Result<Response, PageError> {
    let nt = notetypes::one(&s.db, Actor::User(me.id), &hash, id).await?;
    let notice = q.saved.map(|what| match what.as_str() {
        "none" => "Nothing changed.".to_string(),
        _ => format!(
            "Saved ({what}). Subscribers get the notetype and all its notes on their next pull."
        ),
    });
    Ok(render(&NotetypePage {
        chrome: Some(Chrome::of(&s, &me).await?),
        csrf: mask(&me.csrf),
        version: notetypes::version_of(&nt),
        hash: &hash,
        nt,
        notice,
    }))
}

/// Most `name=value` pairs a notetype form can need: four per field and template, and
/// a few more; a longer form is refused before it is read.
const MAX_PAIRS: usize = 4 * 100 + 4 * 50 + 16;

/// The form's fields as `name=value` pairs: fields are `f<i>.from`, `f<i>.name`,
/// `f<i>.pos` and `f<i>.remove`, a new field `new.name` and `new.pos`, templates
/// `t<i>.name`, `t<i>.qfmt`, `t<i>.afmt`, `t<i>.remove`, a new one `tnew.*`, `css` and
/// `version`. The first value of a repeated name counts.
fn parse(form: &HashMap<&str, &str>) -> Result<NotetypeEdit, PageError> {
    let get = |key: &str| form.get(key).copied();
    let bad = |m: &str| PageError::new(StatusCode::BAD_REQUEST, m);
    let mut fields: Vec<(f64, usize, FieldEdit)> = Vec::new();
    let mut removed = Vec::new();
    for i in 0..=MAX_PAIRS {
        let Some(from) = get(&format!("f{i}.from")) else {
            break;
        };
        let from: i64 = from
            .parse()
            .map_err(|_| bad("A field number is not a number"))?;
        if get(&format!("f{i}.remove")).is_some() {
            removed.push(from);
            continue;
        }
        let name = get(&format!("f{i}.name")).unwrap_or_default().to_string();
        let pos = get(&format!("f{i}.pos"))
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| p.is_finite())
            .unwrap_or((i + 1) as f64);
        fields.push((
            pos,
            i,
            FieldEdit {
                from: Some(from),
                name,
            },
        ));
    }
    if let Some(name) = get("new.name").filter(|n| !n.trim().is_empty()) {
        let pos = get("new.pos")
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| p.is_finite())
            .unwrap_or(f64::MAX);
        fields.push((
            pos,
            usize::MAX,
            FieldEdit {
                from: None,
                name: name.to_string(),
            },
        ));
    }
    fields.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut templates = Vec::new();
    for i in 0..=MAX_PAIRS {
        let Some(name) = get(&format!("t{i}.name")) else {
            break;
        };
        if get(&format!("t{i}.remove")).is_some() {
            continue;
        }
        templates.push(TemplateEdit {
            name: name.to_string(),
            qfmt: get(&format!("t{i}.qfmt")).unwrap_or_default().to_string(),
            afmt: get(&format!("t{i}.afmt")).unwrap_or_default().to_string(),
        });
    }
    if let Some(name) = get("tnew.name").filter(|n| !n.trim().is_empty()) {
        templates.push(TemplateEdit {
            name: name.to_string(),
            qfmt: get("tnew.qfmt").unwrap_or_default().to_string(),
            afmt: get("tnew.afmt").unwrap_or_default().to_string(),
        });
    }
    if !removed.is_empty() && get("confirm_remove").is_none() {
        return Err(bad(
            "Removing a field deletes its content from every note: tick \"Yes, delete the removed fields' content\" to confirm.",
        ));
    }
    Ok(NotetypeEdit {
        fields: fields.into_iter().map(|(_, _, f)| f).collect(),
        removed,
        templates,
        css: get("css").unwrap_or_default().to_string(),
        version: get("version").unwrap_or_default().to_string(),
    })
}

pub async fn save(
    State(s): State<AppState>,
    signed: Signed,
    Path((hash, id)): Path<(String, NotetypeId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if pairs.len() > MAX_PAIRS {
        return Err(PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "This form is longer than any notetype needs.",
        ));
    }
    let mut form = HashMap::with_capacity(pairs.len());
    for (k, v) in &pairs {
        form.entry(k.as_str()).or_insert(v.as_str());
    }
    signed.check_csrf(form.get("csrf").copied().unwrap_or_default())?;
    let edit = parse(&form)?;
    let done = notetypes::edit(&s.db, Actor::User(signed.0.id), &hash, id, edit).await?;
    let what: Vec<&str> = [
        (done.fields_changed, "fields"),
        (done.templates_changed, "templates"),
        (done.css_changed, "styling"),
    ]
    .iter()
    .filter(|(changed, _)| *changed)
    .map(|(_, what)| *what)
    .collect();
    let saved = if what.is_empty() {
        "none".to_string()
    } else {
        what.join(", ")
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("saved", &saved)
        .finish();
    Ok(Redirect::to(&format!("{}?{query}", page_of(&hash, id))).into_response())
}
