//! Normalization of volatile values (JWTs, UUIDs, timestamps, local ports,
//! durations, chosen JSON paths) so that transcripts and reports are stable
//! in snapshots. Not a security measure: secrets are the
//! [`super::redact::Redactor`]'s job.

use serde_json::Value;
use std::borrow::Cow;

use super::volatile;
use crate::pattern::json_path::{JsonPath, Segment};

/// Whether `s` has `n` bytes satisfying `first` followed by `sep` somewhere: the cheap test
/// that decides whether a scanner of [`volatile`] needs to run at all.
fn has_run_then(s: &str, n: usize, first: fn(&u8) -> bool, sep: u8) -> bool {
    let mut run = 0;
    for b in s.as_bytes() {
        if *b == sep && run >= n {
            return true;
        }
        run = if first(b) { run + 1 } else { 0 };
    }
    false
}

/// The replacement for values at the extra paths.
const REDACTED: &str = "[redacted]";

/// Replaces volatile values by placeholders for snapshot stability.
#[derive(Clone, Debug, Default)]
pub(crate) struct Normalizer {
    paths: Vec<JsonPath>,
}

impl Normalizer {
    /// A normalizer that also replaces the values at `extra_paths` (dotted
    /// paths as in patterns; a `*` segment stands for every key or element)
    /// by `"[redacted]"`. Paths that do not parse are ignored (validation has rejected
    /// them before a run).
    pub(crate) fn new(extra_paths: Vec<String>) -> Self {
        Normalizer {
            paths: extra_paths
                .iter()
                .filter_map(|p| JsonPath::parse(p).ok())
                .collect(),
        }
    }

    /// As [`Normalizer::new`], failing on the first path with an empty
    /// segment.
    ///
    /// # Errors
    /// The [`PathError`] of the first invalid path.
    #[cfg(test)]
    pub(crate) fn try_new(
        extra_paths: Vec<String>,
    ) -> Result<Self, crate::pattern::json_path::PathError> {
        Ok(Normalizer {
            paths: extra_paths
                .iter()
                .map(|p| JsonPath::parse(p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// `s` with JWTs → `[jwt]`, RFC 3339 timestamps → `[timestamp]`,
    /// UUIDs → `[uuid]`, `127.0.0.1:PORT` / `localhost:PORT` /
    /// `[::1]:PORT` → `HOST:[port]`, and, when the whole (trimmed) string is
    /// a duration such as `12.3ms`, `1.2s` or `1m 30s`, `[duration]`.
    pub(crate) fn normalize(&self, s: &str) -> String {
        self.normalize_cow(s).into_owned()
    }

    /// [`Normalizer::normalize`]: borrowed when nothing changes, owned when something did.
    fn normalize_cow<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let trimmed = s.trim();
        if trimmed.starts_with(|c: char| c.is_ascii_digit()) && volatile::is_duration(trimmed) {
            return Cow::Owned("[duration]".to_owned());
        }
        let mut s = Cow::Borrowed(s);
        if s.contains("eyJ") {
            s = volatile::replace_jwts(s);
        }
        if has_run_then(&s, 4, u8::is_ascii_digit, b'-') {
            s = volatile::replace_timestamps(s);
        }
        if has_run_then(&s, 8, u8::is_ascii_hexdigit, b'-') {
            s = volatile::replace_uuids(s);
        }
        if s.contains("127.0.0.1:") || s.contains("localhost:") || s.contains("[::1]:") {
            s = volatile::replace_local_ports(s);
        }
        s
    }

    /// `v` with every string normalized (keys kept) and the values at the
    /// extra paths replaced by `"[redacted]"`.
    pub(crate) fn normalize_json(&self, v: &Value) -> Value {
        self.normalize_json_owned(v.clone())
    }

    /// [`Normalizer::normalize_json`] of a value the caller gives up: changed in place, so
    /// objects are not rebuilt (their keys hashed again) when few strings change.
    pub(crate) fn normalize_json_owned(&self, mut v: Value) -> Value {
        self.normalize_strings(&mut v);
        for path in &self.paths {
            redact_at(&mut v, path.segments());
        }
        v
    }

    fn normalize_strings(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                // Owned exactly when something changed.
                if let Cow::Owned(changed) = self.normalize_cow(s) {
                    *s = changed;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.normalize_strings(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.normalize_strings(i)),
            _ => {}
        }
    }
}

/// Replaces the value(s) at `segments` inside `v` by [`REDACTED`].
fn redact_at(v: &mut Value, segments: &[Segment]) {
    let Some((first, rest)) = segments.split_first() else {
        *v = Value::String(REDACTED.to_owned());
        return;
    };
    if first.key() == "*" {
        match v {
            Value::Object(map) => map.values_mut().for_each(|child| redact_at(child, rest)),
            Value::Array(items) => items.iter_mut().for_each(|child| redact_at(child, rest)),
            _ => {}
        }
    } else if let Some(child) = first.get_mut(v) {
        redact_at(child, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(s: &str) -> String {
        Normalizer::default().normalize(s)
    }

    #[test]
    fn jwts() {
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(norm(&format!("Bearer {jwt}")), "Bearer [jwt]");
        assert_eq!(norm("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), "[jwt]");
        assert_eq!(norm("abc.def.ghi"), "abc.def.ghi");
    }

    #[test]
    fn uuids_and_timestamps() {
        assert_eq!(
            norm("id 550e8400-e29b-41d4-a716-446655440000 at 2024-05-01T12:30:00.123Z"),
            "id [uuid] at [timestamp]"
        );
        assert_eq!(norm("2024-05-01T12:30:00+02:00"), "[timestamp]");
        assert_eq!(norm("2024-05-01"), "2024-05-01");
        assert_eq!(
            norm("550e8400-e29b-41d4-a716-44665544000"),
            "550e8400-e29b-41d4-a716-44665544000"
        );
    }

    #[test]
    fn the_cheap_scans_let_through_every_string_the_regexes_match() {
        assert!(has_run_then(
            "at 2024-05-01T12:30:00Z",
            4,
            u8::is_ascii_digit,
            b'-'
        ));
        assert!(!has_run_then("at 202-05", 4, u8::is_ascii_digit, b'-'));
        assert!(has_run_then(
            "x 550e8400-e29b",
            8,
            u8::is_ascii_hexdigit,
            b'-'
        ));
        assert!(!has_run_then(
            "550e840-e29b",
            8,
            u8::is_ascii_hexdigit,
            b'-'
        ));
        // A timestamp right after a replaced JWT, a UUID right after a timestamp.
        assert_eq!(
            norm("eyJa.eyJb.c 2024-05-01T12:30:00Z 550e8400-e29b-41d4-a716-446655440000"),
            "[jwt] [timestamp] [uuid]"
        );
    }

    #[test]
    fn local_ports() {
        assert_eq!(
            norm("ws://127.0.0.1:54321/ws and localhost:8080, [::1]:9"),
            "ws://127.0.0.1:[port]/ws and localhost:[port], [::1]:[port]"
        );
        assert_eq!(norm("example.com:443"), "example.com:443");
    }

    #[test]
    fn whole_string_durations() {
        for d in ["12.3ms", "1.2s", "250µs", "1m 30s", " 3h ", "1s 234ms 5us"] {
            assert_eq!(norm(d), "[duration]", "{d:?}");
        }
        for d in ["took 12ms", "12", "ms", "1.2.3s"] {
            assert_ne!(norm(d), "[duration]", "{d:?}");
        }
    }

    #[test]
    fn json_strings_normalized_and_paths_redacted() {
        let n = Normalizer::new(vec![
            "payload.cost".into(),
            "items.*.id".into(),
            "a..b".into(),
        ]);
        let v = json!({
            "ts": "2024-05-01T12:30:00Z",
            "550e8400-e29b-41d4-a716-446655440000": 1,
            "payload": {"cost": 0.13, "keep": 2},
            "items": [{"id": 1}, {"id": 2, "x": "y"}, 3],
        });
        assert_eq!(
            n.normalize_json(&v),
            json!({
                "ts": "[timestamp]",
                "550e8400-e29b-41d4-a716-446655440000": 1,
                "payload": {"cost": "[redacted]", "keep": 2},
                "items": [{"id": "[redacted]"}, {"id": "[redacted]", "x": "y"}, 3],
            })
        );
        assert_eq!(n.normalize_json(&json!("x")), json!("x"));
    }

    #[test]
    fn try_new_rejects_bad_paths() {
        assert!(Normalizer::try_new(vec!["a..b".into()]).is_err());
        assert!(Normalizer::try_new(vec!["a.b".into(), "c".into()]).is_ok());
    }
}
