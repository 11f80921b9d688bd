//! Owns durations as scenario files, `sockspec.yaml` and the command line write them
//! (`500ms`, `2s`, `15m`, `1h 30m`): one grammar (humantime's, surrounding spaces ignored), one
//! cap ([`MAX`]), one help text ([`HELP`]), the serde adapters, the clap value parser and the
//! schema-only types that describe the grammar to editors.
//!
//! Every duration that becomes a wait, a timeout or a server option is capped at 24 hours:
//! deadlines are `Instant::now() + d` and the server adds its options to the current time, and
//! without a bound `18446744073709551615s` passed validation and overflowed. Signed offsets
//! (`expires_in: -5m`) are token times, not waits: same grammar and help text, no cap (a
//! thirty-day token is a legitimate test), saturated to `i64` seconds.

use std::borrow::Cow;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// The longest duration accepted anywhere a duration becomes a wait or a server option.
pub(crate) const MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// The one help text for a duration that cannot be read.
pub(crate) const HELP: &str = "write a number and a unit, such as 500ms, 2s or 15m (at most 24h)";

/// The help text for a signed offset (`expires_in`, `not_before`).
pub(crate) const SIGNED_HELP: &str =
    "write a number and a unit, such as 15m or 1h; a leading `-` means in the past";

/// Units `humantime` (the duration parser) accepts.
const UNITS: &str = "nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|\
     minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|\
     months|month|M|years|year|yrs|yr|y";

/// A duration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Not a duration at all.
    #[error("invalid duration `{text}`: {reason}")]
    Invalid { text: String, reason: String },
    /// A duration longer than [`MAX`].
    #[error("duration `{text}` is longer than 24h")]
    TooLong { text: String },
}

/// Reads a duration (surrounding spaces ignored), at most [`MAX`].
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| DurationError::Invalid {
        text: text.to_owned(),
        reason: e.to_string(),
    })?;
    if d > MAX {
        return Err(DurationError::TooLong {
            text: text.to_owned(),
        });
    }
    Ok(d)
}

/// Reads a signed offset in whole seconds: `15m` is 900, `-5m` is -300. Saturates at `i64`.
pub(crate) fn parse_signed(text: &str) -> Result<i64, DurationError> {
    let trimmed = text.trim();
    let (sign, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest.trim()),
        None => (1, trimmed),
    };
    let d = humantime::parse_duration(body).map_err(|e| DurationError::Invalid {
        text: text.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(sign * i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The clap value parser of every duration flag.
pub(crate) fn parse_arg(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| format!("{e}; {HELP}"))
}

/// Serde adapters: `#[serde(deserialize_with = "crate::duration::serde::duration")]`.
pub(crate) mod serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de::Error};

    /// A required duration.
    pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(D::Error::custom)
    }

    /// An optional duration (`null` or absent means none).
    pub(crate) fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::parse(&text).map(Some).map_err(D::Error::custom),
        }
    }
}

/// The `pattern` of a duration such as `500ms`, `2s`, `15m` or `1h 30m`.
pub(crate) fn pattern() -> String {
    format!(r"^\s*(?:[0-9]+(?:\.[0-9]+)?\s*(?:{UNITS})\s*)+$")
}

/// The `pattern` of a duration that may start with `-` (in the past).
pub(crate) fn signed_pattern() -> String {
    format!(r"^\s*-?\s*(?:[0-9]+(?:\.[0-9]+)?\s*(?:{UNITS})\s*)+$")
}

/// Schema-only: a duration written as a string (`500ms`, `2s`, `15m`).
pub(crate) enum DurationText {}

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Duration").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration: a number and a unit, such as `500ms`, `2s`, `15m` or `1h 30m`.",
            "pattern": pattern(),
            "examples": ["500ms", "2s", "15m"],
        })
    }
}

/// Schema-only: a duration that may start with `-` (`15m`, `-5m`).
pub(crate) enum SignedDurationText {}

impl JsonSchema for SignedDurationText {
    fn schema_name() -> Cow<'static, str> {
        "SignedDuration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::SignedDuration").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": concat!(
                "A duration relative to now, such as `15m` or `1h`; ",
                "a leading `-` means in the past (`-5m`).",
            ),
            "pattern": signed_pattern(),
            "examples": ["15m", "1h", "-5m"],
        })
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn one_grammar_trimmed_and_capped() {
        assert_eq!(parse(" 2s "), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("24h"), Ok(MAX));
        assert_eq!(
            parse("25h"),
            Err(DurationError::TooLong { text: "25h".into() })
        );
        assert!(matches!(parse("soon"), Err(DurationError::Invalid { .. })));
        assert!(matches!(
            parse("18446744073709551615s"),
            Err(DurationError::TooLong { .. })
        ));
        assert_eq!(
            parse("soon").map_err(|e| e.to_string()),
            Err("invalid duration `soon`: expected number at 0".into())
        );
    }

    #[test]
    fn signed_offsets_are_seconds_either_side_of_now() {
        assert_eq!(parse_signed("15m"), Ok(900));
        assert_eq!(parse_signed(" - 5m"), Ok(-300));
        assert_eq!(parse_signed("30 days"), Ok(30 * 86_400));
        assert!(parse_signed("--5m").is_err());
        assert!(parse_signed("soon").is_err());
    }

    #[test]
    fn patterns_agree_with_the_parser() {
        let plain = Regex::new(&pattern()).expect("valid pattern");
        let signed = Regex::new(&signed_pattern()).expect("valid pattern");
        for text in [
            "500ms",
            "2s",
            "15m",
            "1h 30m",
            "1h30m",
            "1.5s",
            " 10s ",
            "3 days",
            "2 weeks",
            "1µs",
            "1M",
            "5",
            "",
            "soon",
            "2 parsecs",
            "-5m",
            "1.s",
            "s",
            "1h -5m",
            "10 s",
        ] {
            let grammar_ok = humantime::parse_duration(text.trim()).is_ok();
            assert_eq!(plain.is_match(text), grammar_ok, "{text:?}");
            assert_eq!(
                signed.is_match(text),
                parse_signed(text).is_ok(),
                "signed {text:?}"
            );
        }
    }
}
