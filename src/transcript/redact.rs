//! Redaction of secrets from everything sockspec writes (logs, failure
//! reports, transcripts): [`fingerprint`] and the [`Redactor`].
//! Snapshot-stability normalization lives in [`super::normalize`] and is
//! re-exported here.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use memchr::memmem;
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

/// Appends the [`variants`] of `value` not yet in `list`, each with `marker` (an empty value
/// adds nothing; a value already there keeps its first marker).
fn push_variants(list: &mut Vec<(String, String)>, value: &str, marker: &str) {
    if value.is_empty() {
        return;
    }
    for variant in variants(value) {
        if !list.iter().any(|(v, _)| *v == variant) {
            list.push((variant, marker.to_owned()));
        }
    }
}

/// Replaces known secret values by markers in text and JSON.
///
/// Matching is a single left-to-right pass in which, at each position, the
/// longest secret wins (leftmost-longest); a marker is never scanned again, so
/// a marker may safely contain a secret's name.
///
/// The environment's secrets ([`Redactor::from_secrets`]) form a table shared by every run of
/// the process that has the same secrets, so its automaton is built once per process; the
/// values a run adds ([`Redactor::add_secret`]: its token, a captured credential) form a small
/// table of the run's own, searched directly while it is small.
#[derive(Clone)]
pub struct Redactor {
    /// The environment's secrets, shared.
    base: Arc<Table>,
    /// What this run added; never a value of `base`.
    extra: Table,
}

/// Secret values and their markers, searched leftmost-longest.
#[derive(Clone, Default)]
struct Table {
    /// `(value, marker)`; a value's index is its pattern id in `automaton`.
    secrets: Vec<(String, String)>,
    /// A searcher per value, built once (`str::find` prepares its searcher at every call, which
    /// for a token-sized value costs more than searching a short text).
    finders: Vec<memmem::Finder<'static>>,
    /// The shortest value's length: a shorter text holds none.
    shortest: usize,
    /// The leftmost-longest automaton over the values of `secrets`, built on first use
    /// when there are more than [`DIRECT_SEARCH_UP_TO`] values.
    automaton: OnceLock<AhoCorasick>,
}

/// Up to this many values a table is searched value by value (`str::find`): building an
/// automaton costs more than it saves on the short texts of a transcript.
const DIRECT_SEARCH_UP_TO: usize = 4;

/// Tables of environment secrets already built in this process (at most
/// [`SHARED_TABLES_MAX`]), keyed by their `(value, marker)` lists.
type SharedTables = Mutex<HashMap<Vec<(String, String)>, Arc<Table>>>;
static SHARED_TABLES: OnceLock<SharedTables> = OnceLock::new();
const SHARED_TABLES_MAX: usize = 64;

impl Table {
    fn new(secrets: Vec<(String, String)>) -> Table {
        let mut t = Table::default();
        t.extend(secrets);
        t
    }

    fn extend(&mut self, added: Vec<(String, String)>) {
        for (value, marker) in added {
            self.finders
                .push(memmem::Finder::new(value.as_bytes()).into_owned());
            self.secrets.push((value, marker));
        }
        self.shortest = self.secrets.iter().map(|(v, _)| v.len()).min().unwrap_or(0);
        self.automaton = OnceLock::new();
    }

    fn contains(&self, value: &str) -> bool {
        self.secrets.iter().any(|(v, _)| v == value)
    }

    /// The automaton over the values, built on first use.
    fn automaton(&self) -> &AhoCorasick {
        self.automaton.get_or_init(|| {
            // A contiguous NFA: built in microseconds, where the DFA `auto` picks for a few
            // patterns took a tenth of a scenario's CPU; the texts are short.
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::LeftmostLongest)
                .build(self.secrets.iter().map(|(value, _)| value))
                .expect("secret values fit the automaton's size limits")
        })
    }

    fn marker(&self, index: usize) -> &str {
        self.secrets.get(index).map_or("", |(_, m)| m.as_str())
    }
}

/// A left-to-right search of one table over one text that remembers each value's next match
/// and searches again only once the text before it has been consumed: every byte is scanned
/// at most once per value (or once for the automaton), whatever the number of matches.
struct Cursor<'t> {
    table: &'t Table,
    /// Direct search: each value's next match start (`None`: no more); automaton: unused.
    next: Vec<Option<usize>>,
    /// Automaton: the next match (`None`: no more).
    found: Option<(usize, usize, usize)>,
}

impl<'t> Cursor<'t> {
    fn new(table: &'t Table, s: &str) -> Cursor<'t> {
        let mut c = Cursor {
            table,
            next: Vec::new(),
            found: None,
        };
        if table.secrets.is_empty() || s.len() < table.shortest {
            return c;
        }
        if table.secrets.len() <= DIRECT_SEARCH_UP_TO {
            c.next = table.finders.iter().map(|f| f.find(s.as_bytes())).collect();
        } else {
            c.found = table
                .automaton()
                .find(Input::new(s))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()));
        }
        c
    }

    /// The leftmost-longest match at or after `pos` (`(start, end, index)`), the text before
    /// `pos` being consumed.
    fn at(&mut self, s: &str, pos: usize) -> Option<(usize, usize, usize)> {
        if self.table.secrets.len() <= DIRECT_SEARCH_UP_TO {
            for (next, finder) in self.next.iter_mut().zip(&self.table.finders) {
                if next.is_some_and(|start| start < pos) {
                    *next = s
                        .as_bytes()
                        .get(pos..)
                        .and_then(|rest| finder.find(rest))
                        .map(|at| pos + at);
                }
            }
            return self
                .next
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    n.map(|start| (start, self.table.finders[i].needle().len(), i))
                })
                .min_by_key(|&(start, len, _)| (start, std::cmp::Reverse(len)))
                .map(|(start, len, i)| (start, start + len, i));
        }
        if self.found.is_some_and(|(start, _, _)| start < pos) {
            self.found = self
                .table
                .automaton()
                .find(Input::new(s).range(pos..))
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()));
        }
        self.found
    }
}

/// The process's table of `list`, built at its first use.
fn shared_table(list: Vec<(String, String)>) -> Arc<Table> {
    let shared = SHARED_TABLES.get_or_init(Mutex::default);
    let mut tables = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(t) = tables.get(&list) {
        return t.clone();
    }
    let table = Arc::new(Table::new(list.clone()));
    if tables.len() < SHARED_TABLES_MAX {
        tables.insert(list, table.clone());
    }
    table
}

impl fmt::Debug for Redactor {
    /// Prints the markers only, never the secret values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = || self.base.secrets.iter().chain(&self.extra.secrets);
        let mut markers: Vec<&str> = all().map(|(_, m)| m.as_str()).collect();
        markers.dedup();
        f.debug_struct("Redactor")
            .field("secrets", &all().count())
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
            base: Arc::default(),
            extra: Table::default(),
        }
    }

    /// A redactor that hides every resolved value of `secrets`. Redactors of the same secrets
    /// share one table (and its automaton) in the process.
    pub fn from_secrets(secrets: &crate::environment::Secrets) -> Self {
        let mut list: Vec<(String, String)> = Vec::new();
        for s in secrets.iter() {
            push_variants(&mut list, &s.value, &s.marker());
        }
        Redactor {
            base: shared_table(list),
            extra: Table::default(),
        }
    }

    /// Registers `value`: every occurrence becomes `marker` (e.g.
    /// `[secret JWT_SECRET sha256:0123456789abcdef]`), and so do its
    /// percent-encoded forms (upper- and lowercase hex, `+` for spaces).
    /// An empty value is ignored; a value already registered keeps its
    /// first marker.
    pub fn add_secret(&mut self, value: &str, marker: String) {
        let mut added = Vec::new();
        push_variants(&mut added, value, &marker);
        added.retain(|(v, _)| !self.base.contains(v) && !self.extra.contains(v));
        if added.is_empty() {
            return;
        }
        self.extra.extend(added);
    }

    /// Whether any secret is registered.
    pub fn has_secrets(&self) -> bool {
        !self.base.secrets.is_empty() || !self.extra.secrets.is_empty()
    }

    /// `s` with every secret replaced by its marker. Use it on every output.
    pub fn redact(&self, s: &str) -> String {
        if !self.has_secrets() {
            return s.to_owned();
        }
        let mut out = String::with_capacity(s.len());
        let mut pos = 0;
        let mut base = Cursor::new(&self.base, s);
        let mut extra = Cursor::new(&self.extra, s);
        while pos < s.len() {
            let in_base = base.at(s, pos);
            let in_extra = extra.at(s, pos);
            // The earlier match wins; at the same start, the longer.
            let found = match (in_base, in_extra) {
                (Some(b), Some(e))
                    if (e.0, std::cmp::Reverse(e.1)) < (b.0, std::cmp::Reverse(b.1)) =>
                {
                    Some((e.0, e.1, self.extra.marker(e.2)))
                }
                (Some(b), _) => Some((b.0, b.1, self.base.marker(b.2))),
                (None, Some(e)) => Some((e.0, e.1, self.extra.marker(e.2))),
                (None, None) => None,
            };
            let Some((start, end, marker)) = found else {
                break;
            };
            out.push_str(&s[pos..start]);
            out.push_str(marker);
            pos = end;
        }
        out.push_str(&s[pos..]);
        out
    }

    /// `v` with secrets redacted in every string and every object key.
    pub fn redact_json(&self, v: &Value) -> Value {
        if !self.has_secrets() {
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

    /// The reference: at each character, the longest secret starting there, else the
    /// character.
    fn naive(secrets: &[(String, String)], s: &str) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < s.len() {
            let best = secrets
                .iter()
                .filter(|(v, _)| s[i..].starts_with(v.as_str()))
                .max_by_key(|(v, _)| v.len());
            match best {
                Some((v, m)) => {
                    out.push_str(m);
                    i += v.len();
                }
                None => {
                    let c = s[i..].chars().next().expect("a char");
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
        out
    }

    proptest::proptest! {
        /// However the secrets are split between the shared table and the run's own (either
        /// searched directly or through an automaton), the result is the leftmost-longest
        /// replacement over all of them.
        #[test]
        fn shared_and_run_tables_together_are_leftmost_longest(
            values in proptest::collection::vec("[ab/é]{1,4}", 1..12),
            split in 0usize..12,
            text in "[ab/é x%2F]{0,40}",
        ) {
            let mut base: Vec<(String, String)> = Vec::new();
            for (i, v) in values.iter().enumerate().take(split) {
                push_variants(&mut base, v, &format!("<{i}>"));
            }
            let mut r = Redactor { base: shared_table(base.clone()), extra: Table::default() };
            let mut all = base;
            // Registered after the shared table is made, as a run does.
            for (i, v) in values.iter().enumerate().skip(split) {
                let marker = format!("<{i}>");
                r.add_secret(v, marker.clone());
                push_variants(&mut all, v, &marker);
            }
            proptest::prop_assert_eq!(r.redact(&text), naive(&all, &text));
        }
    }

    #[test]
    fn a_large_text_with_many_matches_is_redacted_in_one_pass() {
        // `s3cr=t` has three forms (raw, `%3D`, `%3d`); only the raw one occurs, 256,000
        // times. Searching the absent forms again after each match made this quadratic
        // (8 s); each form is now searched again only once its last match is passed.
        let r = redactor(&[("s3cr=t", "[S]")]);
        let text = "s3cr=t ".repeat(256_000);
        let out = r.redact(&text);
        assert_eq!(out.len(), "[S] ".len() * 256_000);
        assert!(!out.contains("s3cr"));
        // The same through an automaton (more than a few values).
        let many: Vec<(String, String)> = (0..6)
            .map(|i| (format!("v{i}=x"), format!("[V{i}]")))
            .collect();
        let pairs: Vec<(&str, &str)> = many.iter().map(|(v, m)| (v.as_str(), m.as_str())).collect();
        let r = redactor(&pairs);
        let out = r.redact(&"v3=x ".repeat(100_000));
        assert_eq!(out, "[V3] ".repeat(100_000));
    }

    #[test]
    fn debug_never_shows_values() {
        let r = redactor(&[("s3cr3t value", "[secret X]")]);
        let text = format!("{r:?}");
        assert!(text.contains("[secret X]"));
        assert!(!text.contains("s3cr3t"));
    }
}
