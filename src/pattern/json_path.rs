//! Dotted paths into JSON values (`payload.items.0.name`, `a\.b` for a key
//! containing a dot): parsing them into segments, walking them, and escaping
//! keys back into path text.

use serde_json::Value;

/// One segment of a [`JsonPath`]: an object key which, when made only of
/// ASCII digits, also indexes arrays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    key: String,
    index: Option<usize>,
}

impl Segment {
    /// Builds a segment from an unescaped key.
    pub(crate) fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let index = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            key.parse().ok()
        } else {
            None
        };
        Segment { key, index }
    }

    /// The unescaped object key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The child of `value` this segment designates: a field of an object,
    /// an element of an array; `None` when absent.
    pub(crate) fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        match value {
            Value::Object(map) => map.get(&self.key),
            Value::Array(items) => self.index.and_then(|i| items.get(i)),
            _ => None,
        }
    }

    /// Mutable variant of [`Segment::get`].
    pub(crate) fn get_mut<'a>(&self, value: &'a mut Value) -> Option<&'a mut Value> {
        match value {
            Value::Object(map) => map.get_mut(&self.key),
            Value::Array(items) => self.index.and_then(|i| items.get_mut(i)),
            _ => None,
        }
    }
}

/// A parsed dotted path. Segments are separated by `.`; `\.` is a literal
/// dot and `\\` a literal backslash; any other backslash is kept as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonPath {
    source: String,
    segments: Vec<Segment>,
}

/// Why a dotted path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse path `{path}`: it has an empty segment")]
pub(crate) struct PathError {
    /// The path as written.
    pub path: String,
}

impl JsonPath {
    /// Parses `source`; every segment must be non-empty.
    pub(crate) fn parse(source: &str) -> Result<JsonPath, PathError> {
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.clone().next() {
                    Some(next @ ('.' | '\\')) => {
                        chars.next();
                        current.push(next);
                    }
                    _ => current.push('\\'),
                },
                '.' => {
                    if current.is_empty() {
                        return Err(PathError {
                            path: source.to_owned(),
                        });
                    }
                    segments.push(Segment::new(std::mem::take(&mut current)));
                }
                _ => current.push(c),
            }
        }
        if current.is_empty() {
            return Err(PathError {
                path: source.to_owned(),
            });
        }
        segments.push(Segment::new(current));
        Ok(JsonPath {
            source: source.to_owned(),
            segments,
        })
    }

    /// The path as written (escapes included).
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// The parsed segments, never empty.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value at this path inside `value`, or `None` when any segment is
    /// absent.
    pub(crate) fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        self.segments
            .iter()
            .try_fold(value, |current, segment| segment.get(current))
    }
}

/// Escapes a raw key so that it reads back as one segment (`a.b` → `a\.b`).
pub(crate) fn escape_key(key: &str) -> String {
    if !key.contains(['.', '\\']) {
        return key.to_owned();
    }
    let mut out = String::with_capacity(key.len() + 2);
    for c in key.chars() {
        if matches!(c, '.' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Joins a parent path and a child segment text with a dot; an empty parent
/// is the root.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(path: &str) -> Vec<String> {
        JsonPath::parse(path)
            .map(|p| p.segments().iter().map(|s| s.key().to_owned()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn splits_on_dots() {
        assert_eq!(keys("payload.result.x"), ["payload", "result", "x"]);
        assert_eq!(keys("single"), ["single"]);
    }

    #[test]
    fn escaped_dot_and_backslash_are_literal() {
        assert_eq!(keys(r"a\.b.c"), ["a.b", "c"]);
        assert_eq!(keys(r"a\\.b"), [r"a\", "b"]);
        assert_eq!(keys(r"a\b"), [r"a\b"]);
        assert_eq!(keys(r"\."), ["."]);
    }

    #[test]
    fn empty_segments_are_errors() {
        for bad in ["", ".a", "a.", "a..b"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn numeric_segments_index_arrays_and_objects() {
        let v = json!({"items": [{"name": "a"}, {"name": "b"}], "map": {"0": "zero"}});
        let get = |p: &str| JsonPath::parse(p).ok().and_then(|p| p.get(&v).cloned());
        assert_eq!(get("items.1.name"), Some(json!("b")));
        assert_eq!(get("map.0"), Some(json!("zero")));
        assert_eq!(get("items.2.name"), None);
        assert_eq!(get("items.name"), None);
        assert_eq!(get("items.99999999999999999999999"), None);
    }

    #[test]
    fn escape_key_round_trips() {
        for key in ["plain", "a.b", r"a\b", r"x\.y"] {
            assert_eq!(keys(&escape_key(key)), [key]);
        }
    }

    #[test]
    fn join_handles_root() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "0"), "a.0");
    }
}
