//! How durations and the public URL are written in the configuration: durations as whole
//! numbers under keys that name their unit (`*_ms`, `*_secs`, `*_hours`, `*_days`), so existing
//! files keep working, and the URL checked as a URL when it is read.

use std::time::Duration;

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serializer};
use url::Url;

fn serialize<S: Serializer>(d: &Duration, unit: Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64((d.as_millis() / unit.as_millis()) as u64)
}

fn deserialize<'de, D: Deserializer<'de>>(unit: Duration, d: D) -> Result<Duration, D::Error> {
    let n = u64::deserialize(d)?;
    u32::try_from(n)
        .ok()
        .and_then(|n| unit.checked_mul(n))
        .ok_or_else(|| D::Error::custom(format!("{n} is too large for a duration")))
}

/// A module of `serialize`/`deserialize` for durations written in one unit.
macro_rules! unit {
    ($module:ident, $unit:expr, $words:literal) => {
        #[doc = concat!("Durations written in ", $words, ".")]
        pub mod $module {
            use super::*;

            #[doc = concat!("Writes the duration as whole ", $words, ".")]
            pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
                super::serialize(d, $unit, s)
            }

            #[doc = concat!("Reads whole ", $words, ".")]
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
                super::deserialize($unit, d)
            }
        }
    };
}

unit!(millis, Duration::from_millis(1), "milliseconds");
unit!(secs, Duration::from_secs(1), "seconds");
unit!(hours, Duration::from_secs(3600), "hours");
unit!(days, Duration::from_secs(86_400), "days");

/// An optional base URL; an empty string (as an environment variable can only say
/// "unset") means none.
pub mod optional_url {
    use super::*;

    /// Writes the URL as text, or nothing.
    pub fn serialize<S: Serializer>(u: &Option<Url>, s: S) -> Result<S::Ok, S::Error> {
        match u {
            Some(u) => s.serialize_some(u.as_str()),
            None => s.serialize_none(),
        }
    }

    /// Reads a URL, treating an empty or blank string as none.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => Url::parse(t)
                .map(Some)
                .map_err(|e| D::Error::custom(format!("{t:?} is not a URL: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "secs")]
        wait_secs: Duration,
        #[serde(with = "hours")]
        keep_hours: Duration,
        #[serde(with = "optional_url", default)]
        url: Option<Url>,
    }

    #[test]
    fn durations_read_and_write_in_the_unit_their_key_names() {
        let s: Sample = toml::from_str("wait_secs = 90\nkeep_hours = 2\nurl = \"\"").unwrap();
        assert_eq!(s.wait_secs, Duration::from_secs(90));
        assert_eq!(s.keep_hours, Duration::from_secs(7200));
        assert_eq!(s.url, None);
        let back = toml::to_string(&s).unwrap();
        assert!(back.contains("wait_secs = 90") && back.contains("keep_hours = 2"));
        let err = toml::from_str::<Sample>("wait_secs = 99999999999\nkeep_hours = 1")
            .err()
            .unwrap();
        assert!(err.to_string().contains("too large"), "{err}");
    }

    #[test]
    fn a_url_is_checked_when_read() {
        let s: Sample = toml::from_str(
            "wait_secs = 1\nkeep_hours = 1\nurl = \" https://decks.example.org/a/ \"",
        )
        .unwrap();
        assert_eq!(s.url.unwrap().as_str(), "https://decks.example.org/a/");
        let err = toml::from_str::<Sample>("wait_secs = 1\nkeep_hours = 1\nurl = \"decks\"")
            .err()
            .unwrap();
        assert!(err.to_string().contains("is not a URL"), "{err}");
    }
}
