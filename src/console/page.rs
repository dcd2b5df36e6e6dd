//! Rendering: templates into responses, the error page, the header every signed-in page
//! shows, and the small formatting helpers templates call.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::{mask, SignedIn};
use crate::domain::{queue, Actor, DomainError};
use crate::error::AppError;
use crate::http::AppState;
use crate::store::Micros;

/// HTML the console made itself or cleaned, written into a page without escaping.
#[derive(Debug)]
pub struct Trusted(pub String);

impl std::fmt::Display for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Trusted {}

/// What the header of a signed-in page shows.
#[derive(Debug)]
pub struct Chrome {
    pub username: String,
    pub is_admin: bool,
    /// The session's CSRF token, masked for this page.
    pub csrf: String,
    /// Pending suggestions on the decks this account reviews.
    pub pending: i64,
}

impl Chrome {
    /// The header for `me`, with their live review count.
    pub async fn of(s: &AppState, me: &SignedIn) -> Result<Self, PageError> {
        let counts = queue::counts(&s.db, Actor::User(me.id)).await?;
        Ok(Self {
            username: me.username.clone(),
            is_admin: me.is_admin,
            csrf: mask(&me.csrf),
            pending: counts.iter().map(|d| d.pending).sum(),
        })
    }
}

/// Renders a template as a 200 page.
pub fn render<T: Template>(t: &T) -> Response {
    render_status(StatusCode::OK, t)
}

/// Renders a template with `status`.
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct Message<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    message: &'a str,
    class: &'a str,
}

/// A page that only says something, such as a done action or an error.
pub fn message(status: StatusCode, title: &str, message: &str) -> Response {
    let class = if status.is_success() {
        "notice"
    } else {
        "error"
    };
    render_status(
        status,
        &Message {
            chrome: None,
            title,
            message,
            class,
        },
    )
}

/// Why a console request failed: its status and what the person reads.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    /// A refusal with this status and wording.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status = e.status();
        let message = if status.is_server_error() && status != StatusCode::INSUFFICIENT_STORAGE {
            tracing::error!(error = %e, "console request failed");
            "Something went wrong on the server; the log has the details.".to_string()
        } else if status == StatusCode::INSUFFICIENT_STORAGE {
            "The box's disk is full; nothing was changed.".to_string()
        } else {
            e.to_string()
        };
        Self { status, message }
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e).into()
    }
}

impl From<DomainError> for PageError {
    fn from(e: DomainError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "That did not work",
            _ => "Server problem",
        };
        message(self.status, title, &self.message)
    }
}

/// A stored instant as `2026-12-06 21:55 UTC`.
pub fn when(t: &Micros) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(t.as_secs())
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_default()
}

/// The text of cleaned HTML without its markup, for one-line summaries (escaped again
/// by the template).
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = crate::media::scan::decode_entities(
        out.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    );
    text.chars().take(300).collect()
}
