//! The add-on's sync clock: `YYYY-MM-DD HH:MM:SS` in UTC.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::store::Micros;

/// The timestamp the add-on sends for a deck it has just subscribed to,
/// `2022-12-31 23:59:59` (the official backend's cache-bootstrap trigger).
pub const ADDON_FIRST_PULL: Micros = Micros(1_672_531_199_000_000);

/// Parses the add-on's timestamp into unix microseconds (fractions and a `T` are tolerated).
pub fn parse_client(ts: &str) -> Option<Micros> {
    let ts = ts.trim().replacen('T', " ", 1);
    let (main, frac) = match ts.split_once('.') {
        Some((m, f)) => (m.to_string(), f),
        None => (ts.clone(), ""),
    };
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let dt = PrimitiveDateTime::parse(&main, &fmt).ok()?.assume_utc();
    let mut micros = (dt.unix_timestamp_nanos() / 1_000) as i64;
    if !frac.is_empty() {
        let digits: String = frac
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .take(6)
            .collect();
        let scale = 10i64.pow(6 - digits.len() as u32);
        micros += digits.parse::<i64>().ok()? * scale;
    }
    Some(Micros(micros))
}

fn to_datetime(Micros(micros): Micros) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `MM/DD/YYYY HH:MM`, the changelog header format.
pub fn changelog_header(micros: Micros) -> String {
    let fmt = format_description!("[month]/[day]/[year] [hour]:[minute]");
    to_datetime(micros).format(&fmt).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, the notification time format.
pub fn rfc3339(micros: Micros) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
    to_datetime(micros).format(&fmt).unwrap_or_default()
}

/// Writes stored microseconds as [`rfc3339`], for rows serialised the way the add-on reads them.
pub fn serialize_rfc3339<S: serde::Serializer>(micros: &Micros, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*micros))
}

/// Seconds with a fractional part, as `/GetDeckTimestamp` answers.
pub fn unix_seconds(Micros(micros): Micros) -> String {
    format!(
        "{}.{:06}",
        micros.div_euclid(1_000_000),
        micros.rem_euclid(1_000_000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_client("2022-12-31 23:59:59").unwrap();
        assert_eq!(t, ADDON_FIRST_PULL);
        assert_eq!(
            parse_client("2022-12-31T23:59:59.5").unwrap(),
            t + std::time::Duration::from_millis(500)
        );
        assert_eq!(changelog_header(t), "12/31/2022 23:59");
        assert_eq!(rfc3339(t), "2022-12-31T23:59:59+00:00");
        assert_eq!(
            unix_seconds(t + std::time::Duration::from_micros(1)),
            "1672531199.000001"
        );
        assert!(parse_client("yesterday").is_none());
    }
}
