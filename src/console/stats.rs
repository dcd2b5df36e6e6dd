//! A deck's statistics page (`/console/decks/{hash}/stats`) for its owner, maintainers
//! and administrators: review figures per subdeck and per note, the hardest notes,
//! subscribers and suggestions per week as server-drawn SVG charts, and the switch that
//! asks subscribers' add-ons for their figures.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::charts::{self, Bars, Series, Tone};
use super::page::{plain, render, Chrome, PageError};
use super::session::{mask, Signed};
use crate::domain::deck_stats::{self, NoteFigures, SubdeckFigures, Week};
use crate::domain::{decks, Actor};
use crate::http::AppState;
use crate::store::Micros;

fn stats_base(hash: &str) -> String {
    format!("{}/decks/{hash}/stats", super::PREFIX)
}

/// A subdeck's row of the table.
struct SubdeckRow {
    path: String,
    notes: i64,
    reporters: i64,
    retention: String,
    lapses: i64,
    reps: i64,
}

impl From<SubdeckFigures> for SubdeckRow {
    fn from(s: SubdeckFigures) -> Self {
        Self {
            retention: percent(s.retention),
            path: s.path,
            notes: s.notes,
            reporters: s.reporters,
            lapses: s.lapses,
            reps: s.reps,
        }
    }
}

/// A hard note's row of the table.
struct NoteRow {
    guid: String,
    path: String,
    text: String,
    reporters: i64,
    retention: String,
    lapses: i64,
    reps: i64,
}

impl From<NoteFigures> for NoteRow {
    fn from(n: NoteFigures) -> Self {
        let text = plain(&n.first_field);
        Self {
            text: if text.is_empty() {
                n.guid.clone()
            } else {
                text
            },
            retention: percent(n.retention),
            guid: n.guid,
            path: n.path,
            reporters: n.reporters,
            lapses: n.lapses,
            reps: n.reps,
        }
    }
}

/// A week's row of the figures behind the charts over time.
struct WeekRow {
    label: String,
    subscribers: i64,
    pending: i64,
    approved: i64,
    denied: i64,
}

#[derive(Template)]
#[template(path = "console/stats.html")]
struct StatsPage {
    chrome: Option<Chrome>,
    csrf: String,
    hash: String,
    /// The deck page's address; the page's own links start with it.
    base: String,
    name: String,
    enabled: bool,
    can_switch: bool,
    notice: Option<&'static str>,
    reporters: i64,
    notes_reported: i64,
    subdecks: Vec<SubdeckRow>,
    more_subdecks: bool,
    subdecks_height: u32,
    hardest: Vec<NoteRow>,
    hardest_height: u32,
    min_reporters: i64,
    subscribers: i64,
    weeks: Vec<WeekRow>,
    suggested: (i64, i64, i64),
}

/// What the switch just did, to say so once.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The statistics page.
pub async fn page(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path(hash): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let actor = Actor::User(me.id);
    let overview = deck_stats::overview(&s.db, actor, &hash).await?;
    let subdecks = deck_stats::subdecks(&s.db, actor, &hash).await?;
    let hardest = deck_stats::hardest(&s.db, actor, &hash).await?;
    let weeks = deck_stats::weeks(&s.db, actor, &hash, Micros::now()).await?;
    let suggested = weeks.iter().fold((0, 0, 0), |(p, a, d), w| {
        (p + w.pending, a + w.approved, d + w.denied)
    });
    Ok(render(&StatsPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        csrf: mask(&me.csrf),
        base: format!("{}/decks/{}", super::PREFIX, overview.deck.human_hash),
        hash: overview.deck.human_hash,
        name: overview.deck.name,
        enabled: overview.deck.stats_enabled,
        can_switch: overview.can_switch,
        notice: match q.done.as_deref() {
            Some("on") => Some(
                "Statistics are on: subscribers' add-ons learn it on their next pull and upload figures after their reviews.",
            ),
            Some("off") => Some("Statistics are off: add-ons stop uploading on their next pull."),
            _ => None,
        },
        reporters: overview.figures.reporters,
        notes_reported: overview.figures.notes,
        subdecks_height: charts::lying_height(subdecks.subdecks.len()),
        subdecks: subdecks.subdecks.into_iter().map(SubdeckRow::from).collect(),
        more_subdecks: subdecks.more,
        hardest_height: charts::lying_height(hardest.notes.len()),
        hardest: hardest.notes.into_iter().map(NoteRow::from).collect(),
        min_reporters: hardest.min_reporters,
        subscribers: weeks.last().map_or(0, |w| w.subscribers),
        weeks: weeks
            .iter()
            .rev()
            .map(|w| WeekRow {
                label: day(w.start),
                subscribers: w.subscribers,
                pending: w.pending,
                approved: w.approved,
                denied: w.denied,
            })
            .collect(),
        suggested,
    }))
}

/// One chart of the page as an SVG image (`subdecks.svg`, `hardest.svg`,
/// `retention.svg`, `lapses.svg`, `subscribers.svg`, `suggestions.svg`).
pub async fn chart(
    State(s): State<AppState>,
    Signed(me): Signed,
    Path((hash, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = Actor::User(me.id);
    let missing = || PageError::new(StatusCode::NOT_FOUND, "No such chart.");
    let name = file.strip_suffix(".svg").ok_or_else(missing)?;
    let svg = match name {
        "subdecks" => {
            let found = deck_stats::subdecks(&s.db, actor, &hash).await?.subdecks;
            let labels: Vec<String> = found.iter().map(|d| last_part(&d.path)).collect();
            let values = found.iter().map(|d| d.retention).collect();
            lying("Mean retention per subdeck", &labels, values)?
        }
        "hardest" => {
            let found = deck_stats::hardest(&s.db, actor, &hash).await?.notes;
            let values = found.iter().map(|n| n.retention).collect();
            let labels: Vec<String> = found.into_iter().map(|n| NoteRow::from(n).text).collect();
            lying("Mean retention of the hardest notes", &labels, values)?
        }
        "retention" | "lapses" => {
            let spread = deck_stats::spread(&s.db, actor, &hash).await?;
            let (title, labels, counts): (_, Vec<String>, Vec<i64>) = if name == "retention" {
                let labels = (0..10).map(|b| format!("{}", b * 10)).collect();
                (
                    "Notes by mean retention (%)",
                    labels,
                    spread.retention.to_vec(),
                )
            } else {
                let labels = ["0", "1", "2", "3–4", "5–9", "10+"]
                    .map(String::from)
                    .to_vec();
                (
                    "Notes by lapses per subscriber",
                    labels,
                    spread.lapses.to_vec(),
                )
            };
            upright(
                title,
                &labels,
                labels.len(),
                &[Series {
                    name: "notes",
                    tone: Tone::Blue,
                    values: counts.into_iter().map(|c| c as f64).collect(),
                }],
            )?
        }
        "subscribers" | "suggestions" => {
            let weeks = deck_stats::weeks(&s.db, actor, &hash, Micros::now()).await?;
            let labels: Vec<String> = weeks.iter().map(|w| day(w.start)).collect();
            let of = |f: fn(&Week) -> i64| weeks.iter().map(|w| f(w) as f64).collect();
            if name == "subscribers" {
                upright(
                    "Subscribers at the end of each week",
                    &labels,
                    WEEK_LABELS,
                    &[Series {
                        name: "subscribers",
                        tone: Tone::Blue,
                        values: of(|w| w.subscribers),
                    }],
                )?
            } else {
                upright(
                    "Suggestions made each week",
                    &labels,
                    WEEK_LABELS,
                    &[
                        Series {
                            name: "approved",
                            tone: Tone::Green,
                            values: of(|w| w.approved),
                        },
                        Series {
                            name: "denied",
                            tone: Tone::Red,
                            values: of(|w| w.denied),
                        },
                        Series {
                            name: "pending",
                            tone: Tone::Grey,
                            values: of(|w| w.pending),
                        },
                    ],
                )?
            }
        }
        _ => return Err(missing()),
    };
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// A lying chart of percentages, one bar per label.
fn lying(title: &str, labels: &[String], values: Vec<f64>) -> anyhow::Result<String> {
    charts::bars_svg(&Bars {
        title,
        labels,
        series: &[Series {
            name: "retention",
            tone: Tone::Blue,
            values,
        }],
        lying: true,
        unit: "%",
        max: 100.0,
        max_labels: labels.len(),
        empty: "no figures yet",
    })
}

/// Week labels an upright chart has room for.
const WEEK_LABELS: usize = 6;

/// An upright chart of counts, with at most `max_labels` category labels.
fn upright(
    title: &str,
    labels: &[String],
    max_labels: usize,
    series: &[Series],
) -> anyhow::Result<String> {
    charts::bars_svg(&Bars {
        title,
        labels,
        series,
        lying: false,
        unit: "",
        max: 4.0,
        max_labels,
        empty: "nothing yet",
    })
}

/// The switch's form: `on` or `off`.
#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf: String,
    to: String,
}

/// Turns statistics on or off for the whole tree, as `deckd deck stats` does.
pub async fn switch(
    State(s): State<AppState>,
    signed: Signed,
    Path(hash): Path<String>,
    Form(f): Form<SwitchForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let on = match f.to.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(PageError::new(StatusCode::BAD_REQUEST, "Say on or off.")),
    };
    decks::set_stats(&s.db, Actor::User(signed.0.id), &hash, on).await?;
    Ok(Redirect::to(&format!("{}?done={}", stats_base(&hash), f.to)).into_response())
}

/// A mean percentage as the page shows it, e.g. `82.5 %`.
fn percent(v: f64) -> String {
    format!("{v:.1} %")
}

/// The last part of a deck path, the name a chart has room for.
fn last_part(path: &str) -> String {
    path.rsplit("::").next().unwrap_or(path).to_string()
}

/// A week's Monday, e.g. `Mar 3`.
fn day(t: Micros) -> String {
    let fmt = time::macros::format_description!("[month repr:short] [day padding:none]");
    time::OffsetDateTime::from_unix_timestamp(t.as_secs())
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_weeks_paths_and_percentages() {
        // 2024-03-04 00:00 UTC, a Monday.
        assert_eq!(day(Micros(1_709_510_400_000_000)), "Mar 4");
        assert_eq!(last_part("Demo::Geography::Europe"), "Europe");
        assert_eq!(last_part("Demo"), "Demo");
        assert_eq!(percent(82.45), "82.5 %");
    }
}
