//! Redaction of secrets from everything sockspec writes (logs, failure
//! reports, transcripts): [`fingerprint`] and the [`Redactor`].
//! Snapshot-stability normalization lives in [`super::normalize`] and is
//! re-exported here.

use std::fmt;

use serde_json::{Map, Value};

/// Percent-encodes every byte outside the URL unreserved set
/// (`A-Z a-z 0-9 - . _ ~`), with upper- or lowercase hex digits; with
/// `plus_for_space`, a space becomes `+` (form encoding).
fn percent_encode(value: &str, lowercase: bool, plus_for_space: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if plus_for_space => out.push('+'),
            _ if lowercase => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Replaces known secret values by markers in text and JSON.
///
/// Matching is a single left-to-right pass in which, at each position, the
/// longest secret wins; a marker is never scanned again, so a marker may
/// safely contain a secret's name.
#[derive(Clone)]
pub struct Redactor {
    /// `(value, marker)`, longest value first.
    secrets: Vec<(String, String)>,
    /// Whether some secret starts with this byte: a cheap pre-filter.
    first_bytes: Vec<bool>,
}

impl fmt::Debug for Redactor {
    /// Prints the markers only, never the secret values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut markers: Vec<&str> = self.secrets.iter().map(|(_, m)| m.as_str()).collect();
        markers.dedup();
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .field("markers", &markers)
            .finish()
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl Redactor {
    /// A redactor with no secrets.
    pub fn new() -> Self {
        Redactor {
            secrets: Vec::new(),
            first_bytes: vec![false; 256],
        }
    }

    /// Registers `value`: every occurrence becomes `marker` (e.g.
    /// `[secret JWT_SECRET sha256:0123456789abcdef]`), and so do its
    /// percent-encoded forms (upper- and lowercase hex, `+` for spaces).
    /// An empty value is ignored; a value already registered keeps its
    /// first marker.
    /// A redactor that hides every resolved value of `secrets`.
    pub fn from_secrets(secrets: &crate::environment::Secrets) -> Self {
        let mut r = Self::new();
        for s in secrets.iter() {
            r.add_secret(&s.value, s.marker());
        }
        r
    }

    pub fn add_secret(&mut self, value: &str, marker: String) {
        if value.is_empty() {
            return;
        }
        let variants = [
            value.to_owned(),
            percent_encode(value, false, false),
            percent_encode(value, true, false),
            percent_encode(value, false, true),
        ];
        for variant in variants {
            if self.secrets.iter().any(|(v, _)| *v == variant) {
                continue;
            }
            if let Some(slot) = variant
                .as_bytes()
                .first()
                .and_then(|b| self.first_bytes.get_mut(usize::from(*b)))
            {
                *slot = true;
            }
            self.secrets.push((variant, marker.clone()));
        }
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    }

    /// Whether any secret is registered.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// `s` with every secret replaced by its marker. Use it on every output.
    pub fn redact(&self, s: &str) -> String {
        if self.secrets.is_empty() {
            return s.to_owned();
        }
        let bytes = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut copied = 0;
        let mut pos = 0;
        while let Some(b) = bytes.get(pos) {
            let candidate = self
                .first_bytes
                .get(usize::from(*b))
                .copied()
                .unwrap_or(false);
            let found = if candidate {
                s.get(pos..).and_then(|tail| {
                    self.secrets
                        .iter()
                        .find(|(value, _)| tail.starts_with(value.as_str()))
                })
            } else {
                None
            };
            match found {
                Some((value, marker)) => {
                    out.push_str(s.get(copied..pos).unwrap_or_default());
                    out.push_str(marker);
                    pos += value.len();
                    copied = pos;
                }
                None => pos += 1,
            }
        }
        out.push_str(s.get(copied..).unwrap_or_default());
        out
    }

    /// `v` with secrets redacted in every string and every object key.
    pub fn redact_json(&self, v: &Value) -> Value {
        if self.secrets.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.redact_json(i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.redact(k), self.redact_json(v)))
                    .collect::<Map<_, _>>(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor(secrets: &[(&str, &str)]) -> Redactor {
        let mut r = Redactor::new();
        for (value, marker) in secrets {
            r.add_secret(value, (*marker).to_owned());
        }
        r
    }

    #[test]
    fn replaces_every_occurrence() {
        let r = redactor(&[("hunter2", "[secret PW]")]);
        assert_eq!(
            r.redact("pw=hunter2, again hunter2!"),
            "pw=[secret PW], again [secret PW]!"
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(r.has_secrets());
    }

    #[test]
    fn longest_secret_wins_and_markers_are_not_rescanned() {
        let r = redactor(&[("abc", "[S]"), ("abcdef", "[L]"), ("L", "[l]")]);
        assert_eq!(r.redact("xabcdefx abcx"), "x[L]x [S]x");
        let r = redactor(&[("JWT", "[secret JWT_SECRET]")]);
        assert_eq!(r.redact("JWT"), "[secret JWT_SECRET]");
    }

    #[test]
    fn percent_encoded_forms_are_redacted() {
        let r = redactor(&[("a b/c+é", "[S]")]);
        assert_eq!(r.redact("q=a%20b%2Fc%2B%C3%A9&"), "q=[S]&");
        assert_eq!(r.redact("q=a%20b%2fc%2b%c3%a9&"), "q=[S]&");
        assert_eq!(r.redact("q=a+b%2Fc%2B%C3%A9&"), "q=[S]&");
        assert_eq!(r.redact("raw a b/c+é"), "raw [S]");
    }

    #[test]
    fn empty_secrets_are_ignored_and_unicode_is_safe() {
        let r = redactor(&[("", "[E]")]);
        assert!(!r.has_secrets());
        assert_eq!(r.redact("abc"), "abc");
        let r = redactor(&[("é", "[E]")]);
        assert_eq!(r.redact("aéb🎉é"), "a[E]b🎉[E]");
    }

    #[test]
    fn json_strings_and_keys_are_redacted() {
        let r = redactor(&[("tok", "[T]")]);
        let v = json!({"auth": "Bearer tok", "tok": [1, "tok", {"x": null}]});
        assert_eq!(
            r.redact_json(&v),
            json!({"auth": "Bearer [T]", "[T]": [1, "[T]", {"x": null}]})
        );
    }

    #[test]
    fn default_is_usable() {
        let mut r = Redactor::default();
        r.add_secret("k", "[K]".to_owned());
        assert_eq!(r.redact("a k"), "a [K]");
    }

    #[test]
    fn debug_never_shows_values() {
        let r = redactor(&[("s3cr3t value", "[secret X]")]);
        let text = format!("{r:?}");
        assert!(text.contains("[secret X]"));
        assert!(!text.contains("s3cr3t"));
    }
}
