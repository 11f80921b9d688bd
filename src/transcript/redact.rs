//! Redaction of secrets from everything sockspec writes (logs, failure
//! reports, transcripts): [`fingerprint`] and the [`Redactor`].
//! Snapshot-stability normalization lives in [`super::normalize`] and is
//! re-exported here.

use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// Bytes [`percent_encode`] encodes: all but RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` with every byte outside the URL unreserved set (`A-Z a-z 0-9 - . _ ~`)
/// percent-encoded, uppercase hex. The one URL-component encoding sockspec writes (the
/// handshake's query parameters); the [`Redactor`] looks for secrets in this form and in its
/// lowercase-hex and `+`-for-space variants.
pub(crate) fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

/// The variants of `value` the [`Redactor`] hides: the value itself and its percent-encoded
/// forms with upper- and lowercase hex digits, and with `+` for a space (form encoding).
fn variants(value: &str) -> [String; 4] {
    let upper = percent_encode(value);
    // In `upper` every `%` starts an escape (a literal `%` is `%25`), so the two characters
    // after it are hex digits and the only `%20` is an encoded space.
    let mut parts = upper.split('%');
    let mut lower = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let (hex, rest) = part.split_at(part.len().min(2));
        lower.push('%');
        lower.push_str(&hex.to_ascii_lowercase());
        lower.push_str(rest);
    }
    let form = upper.replace("%20", "+");
    [value.to_owned(), upper, lower, form]
}

/// Replaces known secret values by markers in text and JSON.
///
/// Matching is a single left-to-right pass in which, at each position, the
/// longest secret wins (leftmost-longest); a marker is never scanned again, so
/// a marker may safely contain a secret's name.
#[derive(Clone)]
pub struct Redactor {
    /// `(value, marker)`, longest value first; a value's index is its pattern id in
    /// `automaton`.
    secrets: Vec<(String, String)>,
    /// The leftmost-longest automaton over the values of `secrets`, built on first use after
    /// a secret is added.
    automaton: OnceLock<AhoCorasick>,
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
            automaton: OnceLock::new(),
        }
    }

    /// A redactor that hides every resolved value of `secrets`.
    pub fn from_secrets(secrets: &crate::environment::Secrets) -> Self {
        let mut r = Self::new();
        for s in secrets.iter() {
            r.add_secret(&s.value, s.marker());
        }
        r
    }

    /// Registers `value`: every occurrence becomes `marker` (e.g.
    /// `[secret JWT_SECRET sha256:0123456789abcdef]`), and so do its
    /// percent-encoded forms (upper- and lowercase hex, `+` for spaces).
    /// An empty value is ignored; a value already registered keeps its
    /// first marker.
    pub fn add_secret(&mut self, value: &str, marker: String) {
        if value.is_empty() {
            return;
        }
        for variant in variants(value) {
            if self.secrets.iter().any(|(v, _)| *v == variant) {
                continue;
            }
            self.secrets.push((variant, marker.clone()));
        }
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        self.automaton = OnceLock::new();
    }

    /// The automaton over the current secrets, built once per set of secrets.
    fn automaton(&self) -> &AhoCorasick {
        self.automaton.get_or_init(|| {
            // A contiguous NFA: built in microseconds, where the DFA `auto` picks for a few
            // patterns took a tenth of a scenario's CPU (one automaton per run, the texts are
            // short).
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::LeftmostLongest)
                .build(self.secrets.iter().map(|(value, _)| value))
                .expect("secret values fit the automaton's size limits")
        })
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
        let mut out = String::with_capacity(s.len());
        self.automaton()
            .replace_all_with(s, &mut out, |found, _, out| {
                if let Some((_, marker)) = self.secrets.get(found.pattern().as_usize()) {
                    out.push_str(marker);
                }
                true
            });
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
    fn percent_encode_keeps_only_unreserved_bytes() {
        assert_eq!(
            percent_encode("aZ09-._~ /+%*é\n"),
            "aZ09-._~%20%2F%2B%25%2A%C3%A9%0A"
        );
        let [raw, upper, lower, form] = variants("a b%2F/é");
        assert_eq!(raw, "a b%2F/é");
        assert_eq!(upper, "a%20b%252F%2F%C3%A9");
        assert_eq!(lower, "a%20b%252F%2f%c3%a9");
        assert_eq!(form, "a+b%252F%2F%C3%A9");
    }

    #[test]
    fn leftmost_longest_when_one_secret_is_a_prefix_of_another() {
        // Registration order does not matter: at a position the longest secret wins.
        for secrets in [
            [("tok", "[T]"), ("token", "[N]")],
            [("token", "[N]"), ("tok", "[T]")],
        ] {
            let r = redactor(&secrets);
            assert_eq!(r.redact("token tok toke tokens"), "[N] [T] [T]e [N]s");
        }
    }

    #[test]
    fn leftmost_longest_when_secrets_overlap() {
        // Of two overlapping secrets the one that starts first wins, even when the other is
        // as long or longer; what is left of the other is not a secret any more.
        let r = redactor(&[("cdef", "[C]"), ("abcd", "[A]")]);
        assert_eq!(r.redact("xabcdefx"), "x[A]efx");
        assert_eq!(r.redact("xcdefx abc"), "x[C]x abc");
        let r = redactor(&[("bcdefgh", "[L]"), ("abc", "[S]")]);
        assert_eq!(r.redact("abcdefgh bcdefgh"), "[S]defgh [L]");
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
