//! Finds the volatile values the [`super::normalize::Normalizer`] replaces (JWTs, UUIDs,
//! timestamps, local ports, whole-string durations) with hand-written scanners over ASCII
//! bytes. Each does exactly what the regex beside it in the tests does (a property test holds
//! them to it): compiling those regexes cost about 0.5 ms in every process that needed them,
//! a tenth of a scenario's process under nextest, and running them was slower than these
//! scans on the short strings of a transcript.
//!
//! Word boundaries are ASCII (`(?-u:\b)`): a word byte is `[0-9A-Za-z_]`, and any other byte
//! (non-ASCII ones too) is not. Matches start and end on ASCII bytes, so on char boundaries.

use std::borrow::Cow;

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether an ASCII word boundary precedes `at` when `bytes[at]` is a word byte.
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at == 0 || !word(bytes[at - 1])
}

/// Whether an ASCII word boundary follows a word byte ending at `end`.
fn ends_word(bytes: &[u8], end: usize) -> bool {
    end == bytes.len() || !word(bytes[end])
}

/// `n` bytes from `at` all satisfying `class`; the position after them.
fn run(bytes: &[u8], at: usize, n: usize, class: fn(&u8) -> bool) -> Option<usize> {
    let end = at.checked_add(n)?;
    (end <= bytes.len() && bytes[at..end].iter().all(class)).then_some(end)
}

/// One `expected` byte at `at`; the position after it.
fn byte(bytes: &[u8], at: usize, expected: u8) -> Option<usize> {
    (bytes.get(at) == Some(&expected)).then_some(at + 1)
}

/// As many bytes satisfying `class` from `at` as there are (maybe none); the position after.
fn greedy(bytes: &[u8], at: usize, class: fn(&u8) -> bool) -> usize {
    at + bytes[at..].iter().take_while(|b| class(b)).count()
}

fn jwt_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'
}

/// `(?-u:\b)eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*` at `at`: its end.
fn jwt_at(bytes: &[u8], at: usize) -> Option<usize> {
    if !bytes[at..].starts_with(b"eyJ") || !starts_word(bytes, at) {
        return None;
    }
    let i = greedy(bytes, at + 3, jwt_byte);
    let i = byte(bytes, i, b'.')?;
    let j = greedy(bytes, i, jwt_byte);
    if j == i {
        return None;
    }
    let j = byte(bytes, j, b'.')?;
    Some(greedy(bytes, j, jwt_byte))
}

/// `(?-u:\b)` then 8-4-4-4-12 hex digits with dashes, then `(?-u:\b)`, at `at`: its end.
fn uuid_at(bytes: &[u8], at: usize) -> Option<usize> {
    if !bytes[at].is_ascii_hexdigit() || !starts_word(bytes, at) {
        return None;
    }
    let mut i = at;
    for (k, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if k > 0 {
            i = byte(bytes, i, b'-')?;
        }
        i = run(bytes, i, n, u8::is_ascii_hexdigit)?;
    }
    ends_word(bytes, i).then_some(i)
}

/// `(?-u:\b)YYYY-MM-DD[Tt ]hh:mm:ss(\.[0-9]+)?([Zz]|[+-]hh:mm)` at `at`: its end.
fn timestamp_at(bytes: &[u8], at: usize) -> Option<usize> {
    if !bytes[at].is_ascii_digit() || !starts_word(bytes, at) {
        return None;
    }
    let digits = |i: usize, n: usize| run(bytes, i, n, u8::is_ascii_digit);
    let mut i = digits(at, 4)?;
    i = digits(byte(bytes, i, b'-')?, 2)?;
    i = digits(byte(bytes, i, b'-')?, 2)?;
    i = match bytes.get(i) {
        Some(b'T' | b't' | b' ') => i + 1,
        _ => return None,
    };
    i = digits(i, 2)?;
    i = digits(byte(bytes, i, b':')?, 2)?;
    i = digits(byte(bytes, i, b':')?, 2)?;
    // The fraction's digits never start a zone, so taking them all loses no match.
    if bytes.get(i) == Some(&b'.') {
        let j = greedy(bytes, i + 1, u8::is_ascii_digit);
        if j > i + 1 {
            i = j;
        }
    }
    match bytes.get(i) {
        Some(b'Z' | b'z') => Some(i + 1),
        Some(b'+' | b'-') => {
            let j = digits(i + 1, 2)?;
            digits(byte(bytes, j, b':')?, 2)
        }
        _ => None,
    }
}

/// `(127.0.0.1|localhost|[::1]):` then 1–5 digits and a word boundary, at `at` (the first two
/// after a word boundary): the end of the host and of the whole match.
fn local_port_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let rest = &bytes[at..];
    // Both named hosts are 9 bytes long.
    let host_end = if (rest.starts_with(b"127.0.0.1") || rest.starts_with(b"localhost"))
        && starts_word(bytes, at)
    {
        at + 9
    } else if rest.starts_with(b"[::1]") {
        at + 5
    } else {
        return None;
    };
    let digits_from = byte(bytes, host_end, b':')?;
    let end = digits_from
        + bytes[digits_from..]
            .iter()
            .take(5)
            .take_while(|b| b.is_ascii_digit())
            .count();
    // Digits are word bytes: with a sixth digit (or a letter) next there is no boundary after
    // any shorter run either.
    (end > digits_from && ends_word(bytes, end)).then_some((host_end, end))
}

/// Replaces every non-overlapping match, leftmost first: `find(bytes, at)` gives the match at
/// `at` (`(end of what is kept, end of the match)`), `with` the text for it.
fn replace_all<'a>(
    s: Cow<'a, str>,
    find: impl Fn(&[u8], usize) -> Option<(usize, usize)>,
    with: &str,
) -> Cow<'a, str> {
    let bytes = s.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        match find(bytes, at) {
            Some((keep_end, end)) => {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
                o.push_str(&s[copied..keep_end]);
                o.push_str(with);
                copied = end;
                at = if end > at { end } else { at + 1 };
            }
            None => at += 1,
        }
    }
    match out {
        None => s,
        Some(mut o) => {
            o.push_str(&s[copied..]);
            Cow::Owned(o)
        }
    }
}

/// JWTs become `[jwt]`.
pub(super) fn replace_jwts(s: Cow<'_, str>) -> Cow<'_, str> {
    replace_all(s, |b, at| jwt_at(b, at).map(|end| (at, end)), "[jwt]")
}

/// UUIDs become `[uuid]`.
pub(super) fn replace_uuids(s: Cow<'_, str>) -> Cow<'_, str> {
    replace_all(s, |b, at| uuid_at(b, at).map(|end| (at, end)), "[uuid]")
}

/// Timestamps (RFC 3339 with a zone) become `[timestamp]`.
pub(super) fn replace_timestamps(s: Cow<'_, str>) -> Cow<'_, str> {
    replace_all(
        s,
        |b, at| timestamp_at(b, at).map(|end| (at, end)),
        "[timestamp]",
    )
}

/// The port of a local address becomes `[port]` (`127.0.0.1:[port]`).
pub(super) fn replace_local_ports(s: Cow<'_, str>) -> Cow<'_, str> {
    replace_all(s, local_port_at, ":[port]")
}

/// Whether all of `s` is one or more durations (`12.3ms`, `1m 30s`), each followed by ASCII
/// spaces: `^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|min|m|h|d)(?-u:\s)*)+$`.
pub(super) fn is_duration(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    if bytes.is_empty() {
        return false;
    }
    while i < bytes.len() {
        let j = greedy(bytes, i, u8::is_ascii_digit);
        if j == i {
            return false;
        }
        i = j;
        if bytes.get(i) == Some(&b'.') {
            let j = greedy(bytes, i + 1, u8::is_ascii_digit);
            if j == i + 1 {
                return false;
            }
            i = j;
        }
        // The longest unit: a shorter one would leave a letter where a number must start.
        let rest = &bytes[i..];
        let unit = ["min", "µs", "ns", "us", "ms", "s", "m", "h", "d"]
            .iter()
            .find(|u| rest.starts_with(u.as_bytes()));
        let Some(unit) = unit else {
            return false;
        };
        i += unit.len();
        i = greedy(bytes, i, |b| {
            matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    // The regexes these scanners replace: the oracle.
    const JWT: &str = r"(?-u:\b)eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*";
    const TIMESTAMP: &str = r"(?-u:\b)[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})";
    const UUID: &str = r"(?-u:\b)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?-u:\b)";
    const LOCAL_PORT: &str = r"((?-u:\b)127\.0\.0\.1|(?-u:\b)localhost|\[::1\]):[0-9]{1,5}(?-u:\b)";
    const DURATION: &str = r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|min|m|h|d)(?-u:\s)*)+$";

    fn oracle(re: &str, s: &str, with: &str) -> String {
        Regex::new(re)
            .expect("valid")
            .replace_all(s, with)
            .into_owned()
    }

    fn all_five(s: &str) {
        assert_eq!(
            replace_jwts(Cow::Borrowed(s)),
            oracle(JWT, s, "[jwt]"),
            "jwt {s:?}"
        );
        assert_eq!(
            replace_uuids(Cow::Borrowed(s)),
            oracle(UUID, s, "[uuid]"),
            "uuid {s:?}"
        );
        assert_eq!(
            replace_timestamps(Cow::Borrowed(s)),
            oracle(TIMESTAMP, s, "[timestamp]"),
            "timestamp {s:?}"
        );
        assert_eq!(
            replace_local_ports(Cow::Borrowed(s)),
            oracle(LOCAL_PORT, s, "${1}:[port]"),
            "port {s:?}"
        );
        assert_eq!(
            is_duration(s),
            Regex::new(DURATION).expect("valid").is_match(s),
            "duration {s:?}"
        );
    }

    #[test]
    fn examples_agree_with_the_regexes() {
        for s in [
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
            "xeyJa.b.c eyJ.. eyJ.a. éeyJa.b.c",
            "id 550e8400-e29b-41d4-a716-446655440000 at 2024-05-01T12:30:00.123Z",
            "2024-05-01T12:30:00+02:00 2024-05-01 12:30:00.z 2024-05-01t12:30:00.Z x2024-05-01T12:30:00Z",
            "550e8400-e29b-41d4-a716-44665544000 550e8400-e29b-41d4-a716-4466554400001",
            "ws://127.0.0.1:54321/ws and localhost:8080, [::1]:9 x127.0.0.1:1 127.0.0.1:123456 a[::1]:7b",
            "12.3ms",
            "1.2s",
            "250µs",
            "1m 30s",
            "3h ",
            "1s 234ms 5us",
            "1min",
            "1mins",
            "1.s",
            "ms",
            "",
            "1ms5s",
            "12",
            "1.2.3s",
            "7d\t",
        ] {
            all_five(s);
        }
    }

    /// Pieces of the values, whole and cut, and bytes that make or break their boundaries.
    fn pieces() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("550e8400-e29b-41d4-a716-446655440000".to_owned()),
            Just("550e8400-e29b-41d4".to_owned()),
            Just("a716-446655440000".to_owned()),
            Just("2024-05-01T12:30:00".to_owned()),
            Just("2024-05-01 12:30:00".to_owned()),
            Just(".123".to_owned()),
            Just("Z".to_owned()),
            Just("+02:00".to_owned()),
            Just("-0".to_owned()),
            Just("eyJhbGc".to_owned()),
            Just(".eyJzdWI".to_owned()),
            Just(".sig-_".to_owned()),
            Just("127.0.0.1:".to_owned()),
            Just("localhost:".to_owned()),
            Just("[::1]:".to_owned()),
            "[0-9]{1,6}",
            "[0-9]{1,3}(\\.[0-9]{1,2})?(ns|us|µs|ms|s|min|m|h|d)[ \t]?",
            "[a-fA-FxzT_]{1,3}",
            Just("é".to_owned()),
            "[ .:+-]",
        ]
    }

    proptest! {
        #[test]
        fn scanners_agree_with_the_regexes(parts in proptest::collection::vec(pieces(), 0..10)) {
            all_five(&parts.concat());
        }
    }
}
