//! Owns sizes in bytes as scenario files and `sockspec.yaml` write them (`1024`, `64KiB`,
//! `16MiB`, `1GiB`), and the client's WebSocket size limits ([`Limits`]): the largest message
//! and the largest frame it accepts, refused from the frame header (nothing that large is
//! allocated).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::Value;

/// Largest message the client accepts when neither the scenario nor the environment says.
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 << 20;
/// Largest frame the client accepts when neither the scenario nor the environment says
/// (tungstenite's default).
pub(crate) const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// The largest limit that can be written (1 GiB).
pub(crate) const MAX: usize = 1 << 30;

/// The one help text for a size that cannot be read.
pub(crate) const HELP: &str = "write a number of bytes (16777216) or a number and a unit: B, KiB, MiB or GiB (16MiB), at most 1GiB";

/// A size that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SizeError {
    /// Not a size at all.
    #[error("invalid size `{0}`: expected bytes such as 1024 or a size such as 64KiB")]
    Invalid(String),
    /// Zero.
    #[error("size `{0}` is zero: a limit must be at least 1 byte")]
    Zero(String),
    /// Above [`MAX`].
    #[error("size `{0}` is larger than 1GiB")]
    TooLarge(String),
}

/// Reads a size in bytes: an integer, or a number and a unit (`B`, `KiB`, `MiB`, `GiB`;
/// spaces allowed between), from 1 byte to [`MAX`].
pub(crate) fn parse(text: &str) -> Result<usize, SizeError> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return Err(SizeError::Invalid(text.to_owned())),
    };
    if number.is_empty() {
        return Err(SizeError::Invalid(text.to_owned()));
    }
    let Ok(n) = number.parse::<u64>() else {
        return Err(SizeError::TooLarge(text.to_owned()));
    };
    let bytes = n.saturating_mul(1 << shift);
    match bytes {
        0 => Err(SizeError::Zero(text.to_owned())),
        b if b > MAX as u64 => Err(SizeError::TooLarge(text.to_owned())),
        b => Ok(b as usize),
    }
}

/// Reads a size written as a YAML integer or string.
pub(crate) fn parse_value(value: &Value) -> Result<usize, SizeError> {
    match value {
        Value::String(s) => parse(s),
        Value::Number(n) if n.is_u64() => parse(&n.to_string()),
        other => Err(SizeError::Invalid(match other {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })),
    }
}

/// The client's WebSocket size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest message (all its fragments together), in bytes.
    pub max_message_size: usize,
    /// The largest single frame's payload, in bytes.
    pub max_frame_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

impl Limits {
    /// These limits with the ones given replacing them (a scenario's over an environment's).
    pub(crate) fn with(
        self,
        max_message_size: Option<usize>,
        max_frame_size: Option<usize>,
    ) -> Self {
        Limits {
            max_message_size: max_message_size.unwrap_or(self.max_message_size),
            max_frame_size: max_frame_size.unwrap_or(self.max_frame_size),
        }
    }

    /// The frame limit the client enforces: a frame larger than the whole message limit is
    /// refused from its header as a message too long.
    pub(crate) fn effective_frame_size(self) -> usize {
        self.max_frame_size.min(self.max_message_size)
    }
}

/// Schema-only: a size in bytes (`1024`) or with a unit (`64KiB`, `16MiB`).
pub(crate) enum SizeText {}

impl JsonSchema for SizeText {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Size").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: a number of bytes (`1048576`) or a number and a unit \
                            (`B`, `KiB`, `MiB`, `GiB`), such as `64KiB` or `16MiB`; from 1 byte \
                            to 1GiB.",
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX},
                {"type": "string", "pattern": r"^\s*[0-9]+\s*(B|KiB|MiB|GiB)?\s*$"},
            ],
            "examples": [1048576, "64KiB", "16MiB"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bytes_or_a_number_and_a_binary_unit() {
        assert_eq!(parse("1024"), Ok(1024));
        assert_eq!(parse(" 64KiB "), Ok(64 << 10));
        assert_eq!(parse("16 MiB"), Ok(16 << 20));
        assert_eq!(parse("1GiB"), Ok(1 << 30));
        assert_eq!(parse("7B"), Ok(7));
        assert_eq!(parse_value(&serde_json::json!(2048)), Ok(2048));
        assert!(matches!(parse("0"), Err(SizeError::Zero(_))));
        assert!(matches!(parse("0MiB"), Err(SizeError::Zero(_))));
        assert!(matches!(parse("2GiB"), Err(SizeError::TooLarge(_))));
        assert!(matches!(
            parse("99999999999999999999999"),
            Err(SizeError::TooLarge(_))
        ));
        for bad in ["", "MiB", "16MB", "16 mb", "-1", "1.5MiB", "big"] {
            assert!(matches!(parse(bad), Err(SizeError::Invalid(_))), "{bad}");
        }
        assert!(parse_value(&serde_json::json!(-1)).is_err());
        assert!(parse_value(&serde_json::json!(true)).is_err());
        assert!(parse_value(&serde_json::json!(1.5)).is_err());
    }

    #[test]
    fn the_frame_limit_never_exceeds_the_message_limit() {
        let l = Limits::default().with(Some(1024), None);
        assert_eq!(l.effective_frame_size(), 1024);
        let l = Limits::default().with(None, Some(4096));
        assert_eq!(l.effective_frame_size(), 4096);
    }
}
