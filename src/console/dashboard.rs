//! The administrator's box dashboard (`/console/admin/box`): the resource monitor's
//! readings and their last 24 hours as charts, requests per minute, backups with
//! "Back up now", media per account, and the version, uptime and last restart.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::charts::{self, Chart};
use super::page::{render, Chrome, PageError};
use super::session::{mask, Admin, CsrfOnly, Signed};
use crate::backup::layout::Listed;
use crate::domain::{backups, media, Actor};
use crate::http::AppState;
use crate::system::monitor::history::{Metric, MINUTES};
use crate::system::traffic;

/// One figure of the monitor, as the page shows it.
struct Reading {
    title: &'static str,
    slug: &'static str,
    value: String,
    threshold: String,
    high: bool,
}

/// One backup folder, as the page lists it.
struct BackupRow {
    name: String,
    when: String,
    size: String,
    media: String,
    verified: bool,
}

/// One account's media against the quota.
struct MediaRow {
    username: String,
    files: i64,
    size: String,
    percent: String,
}

/// What happened to the latest backup attempt.
struct Outcome {
    when: String,
    ok: bool,
    message: String,
}

#[derive(Template)]
#[template(path = "console/admin_box.html")]
struct BoxPage {
    chrome: Option<Chrome>,
    csrf: String,
    notice: Option<&'static str>,
    version: &'static str,
    uptime: String,
    restart: String,
    sampled: Option<String>,
    readings: Vec<Reading>,
    requests: u64,
    slow: u64,
    peak: u32,
    slow_ms: u128,
    running: Option<String>,
    last: Option<Outcome>,
    failure: Option<Outcome>,
    backup_dir: String,
    backups: Vec<BackupRow>,
    media_total: String,
    media_files: i64,
    quota: String,
    media: Vec<MediaRow>,
}

/// The dashboard's query: what "Back up now" did, to say so once.
#[derive(Deserialize)]
pub struct Notice {
    backup: Option<String>,
}

/// The dashboard page.
pub async fn page(
    State(s): State<AppState>,
    Admin(me): Admin,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    let actor = Actor::User(me.id);
    let listed = backups::list(&s.db, &s.config, actor).await?;
    let usage = media::usage(&s.db, actor).await?;
    let now = now();
    let day = s.vitals.traffic.last_day(now);
    let status = s.maintenance.snapshot();
    let quota = s.config.media_quota_bytes;
    let running = s.backup.progress().map(|p| {
        let share = if p.total > 0 {
            format!(
                " ({} of {} of media)",
                bytes(p.done as i64),
                bytes(p.total as i64)
            )
        } else {
            String::new()
        };
        format!("Started {}: {}{share}", when(p.started), p.step)
    });
    let page = BoxPage {
        chrome: Some(Chrome::of(&s, &me).await?),
        csrf: mask(&me.csrf),
        // Said only while the backup runs; the finished one shows under Backups.
        notice: q
            .backup
            .as_deref()
            .filter(|_| running.is_some())
            .map(|b| match b {
                "started" => "The backup runs in the background; this page shows its progress.",
                _ => "A backup was already running.",
            }),
        version: crate::system::lifecycle::VERSION,
        uptime: duration(s.run.uptime().as_secs()),
        restart: s.run.restart.describe(),
        sampled: s.history.latest().map(|(t, _)| when(t)),
        readings: readings(&s),
        requests: day.iter().map(|m| u64::from(m.requests)).sum(),
        slow: day.iter().map(|m| u64::from(m.slow)).sum(),
        peak: day.iter().map(|m| m.requests).max().unwrap_or(0),
        slow_ms: s.config.slow_request_ms.as_millis(),
        running,
        last: status.jobs.get("backup").and_then(|j| {
            j.last_run.map(|t| Outcome {
                when: when(t),
                ok: j.last_ok,
                message: j.last_message.clone(),
            })
        }),
        failure: status.last_backup_failure.map(|(t, why)| Outcome {
            when: when(t),
            ok: false,
            message: why,
        }),
        backup_dir: s.config.backup_path().display().to_string(),
        backups: listed.iter().rev().map(backup_row).collect(),
        media_total: bytes(usage.total_bytes),
        media_files: usage.total_files,
        quota: bytes(quota as i64),
        media: usage
            .per_user
            .into_iter()
            .map(|u| MediaRow {
                percent: format!("{:.1} %", u.bytes as f64 * 100.0 / quota.max(1) as f64),
                size: bytes(u.bytes),
                files: u.files,
                username: u.username,
            })
            .collect(),
    };
    Ok(render(&page))
}

fn readings(s: &AppState) -> Vec<Reading> {
    let latest = s.history.latest().map(|(_, v)| v);
    Metric::ALL
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let value = latest.and_then(|v| v[i]);
            let threshold = m.threshold(&s.config);
            Reading {
                title: m.title(),
                slug: m.slug(),
                value: value.map_or("not available".to_string(), |v| {
                    format!("{v:.1} {}", m.unit())
                }),
                threshold: format!("{threshold} {}", m.unit()),
                high: value.is_some_and(|v| v >= threshold),
            }
        })
        .collect()
}

fn backup_row(b: &Listed) -> BackupRow {
    match &b.manifest {
        Some(m) => BackupRow {
            name: b.name.clone(),
            when: when(m.created_unix),
            size: bytes(m.database_bytes as i64),
            media: format!("{} files, {}", m.media.len(), bytes(m.media_bytes as i64)),
            verified: b.is_good(),
        },
        None => BackupRow {
            name: b.name.clone(),
            when: "unfinished".to_string(),
            size: String::new(),
            media: String::new(),
            verified: false,
        },
    }
}

/// One chart of the dashboard as an SVG image (`cpu.svg`, …, `requests.svg`).
pub async fn chart(
    State(s): State<AppState>,
    Admin(_): Admin,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let missing = || PageError::new(StatusCode::NOT_FOUND, "No such chart.");
    let name = file.strip_suffix(".svg").ok_or_else(missing)?;
    let now = now();
    let hours = (MINUTES / 60) as u32;
    let svg = if name == "requests" {
        let points = requests_per_minute(&s.vitals.traffic.last_day(now), now);
        charts::svg(&Chart {
            title: "Requests per minute",
            unit: "",
            points: &points,
            threshold: None,
            y_max: 10.0,
            now,
            hours,
            empty: "no requests yet",
        })?
    } else {
        let metric = Metric::from_slug(name).ok_or_else(missing)?;
        let points = s.history.series(metric);
        charts::svg(&Chart {
            title: metric.title(),
            unit: metric.unit(),
            points: &points,
            threshold: Some(metric.threshold(&s.config)),
            y_max: if metric == Metric::Pressure {
                0.0
            } else {
                100.0
            },
            now,
            hours,
            empty: "no readings in the last 24 hours",
        })?
    };
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// Every minute of the last day since the first counted one, quiet minutes as zero.
fn requests_per_minute(day: &[traffic::Minute], now: i64) -> Vec<(i64, f64)> {
    let Some(first) = day.first() else {
        return Vec::new();
    };
    let mut counts = day.iter().peekable();
    (first.at / 60..=now / 60)
        .map(|minute| {
            let at = minute * 60;
            let n = match counts.peek() {
                Some(m) if m.at == at => counts.next().map_or(0, |m| m.requests),
                _ => 0,
            };
            (at, f64::from(n))
        })
        .collect()
}

/// "Back up now": starts a backup in the background and comes back to the dashboard.
pub async fn backup_now(
    State(s): State<AppState>,
    admin: Admin,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let signed = Signed(admin.0);
    signed.check_csrf(&f.csrf)?;
    let outcome = backups::start(&s.db, &s.config, Actor::User(signed.0.id), &s.backup).await;
    let done = match outcome {
        Ok(()) => "started",
        Err(crate::domain::DomainError::BackupRunning) => "running",
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("{}/admin/box?backup={done}", super::PREFIX)).into_response())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn when(unix: i64) -> String {
    super::page::when(&crate::store::Micros(unix.saturating_mul(1_000_000)))
}

/// `3 d 4 h 12 min`, coarser for long spans.
fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// Bytes in binary units, e.g. `1.5 MiB`.
fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n.max(0) as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_sizes_and_spans() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(duration(59), "0 min");
        assert_eq!(duration(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(duration(2 * 86_400 + 5 * 3600), "2 d 5 h");
    }

    #[test]
    fn quiet_minutes_count_as_zero() {
        let day = [
            traffic::Minute {
                at: 60,
                requests: 3,
                slow: 0,
            },
            traffic::Minute {
                at: 180,
                requests: 1,
                slow: 1,
            },
        ];
        assert_eq!(
            requests_per_minute(&day, 250),
            vec![(60, 3.0), (120, 0.0), (180, 1.0), (240, 0.0)]
        );
    }
}
