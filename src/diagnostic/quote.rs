//! Owns bounding texts a server controls (messages, bodies, headers, close reasons) before
//! they are quoted in a report, a JUnit file or a snapshot: the one helper every stage uses.
//! A longer text keeps its first bytes (cut on a character boundary) and states its full
//! size: `…[truncated, 3,072 bytes in all]`.
//!
//! Bounding happens after redaction (a cut must not leave half a secret unredacted), so the
//! transcript stage calls it where a `Failure` is redacted and a snapshot is built.

use std::borrow::Cow;

/// At most this many bytes of one quoted text (a message, a body, a header value).
pub(crate) const QUOTE_LIMIT: usize = 2048;

/// At most this many bytes of a report's first line after `error: ` (so the line stays under
/// 200 characters).
pub(crate) const FIRST_LINE_LIMIT: usize = 190;

/// `text` cut to at most `limit` bytes (on a character boundary), followed by
/// `…[truncated, N bytes in all]` when it was longer; unchanged otherwise.
pub(crate) fn bound(text: &str, limit: usize) -> Cow<'_, str> {
    if text.len() <= limit {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{}{}", prefix(text, limit), size_note(text.len())))
}

/// Every line of `text` bounded by [`bound`] to `limit` bytes, and at most four times
/// `limit` bytes in all.
pub(crate) fn bound_lines(text: &str, limit: usize) -> Cow<'_, str> {
    if text.len() <= limit {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(|l| bound(l, limit)).collect();
    let joined = lines.join("\n");
    let total = limit.saturating_mul(4);
    if joined.len() <= total {
        return Cow::Owned(joined);
    }
    // Cut at the last whole line within the total, and say how much there was.
    let cut = prefix(&joined, total);
    let cut = cut.rfind('\n').map_or(cut, |i| &cut[..i]);
    Cow::Owned(format!("{cut}\n{}", size_note(text.len())))
}

/// A report's first line: `message` as is when it fits `limit` bytes; else with its longest
/// quoted string (`"…"`, Rust-escaped) shortened so that it fits, keeping the words around it
/// (the cause, what to do); else cut. The second value is the whole message (bounded per
/// line) when words of it had to be cut, for a note.
pub(crate) fn first_line(message: &str, limit: usize) -> (String, Option<String>) {
    let line_end = message.find('\n').unwrap_or(message.len());
    if line_end <= limit && message.len() <= limit {
        return (message.to_string(), None);
    }
    let (first, rest) = message.split_at(line_end);
    if first.len() <= limit {
        // Only further lines: they are bounded like any quote.
        return (bound_lines(message, QUOTE_LIMIT).into_owned(), None);
    }
    if let Some((start, end)) = longest_quote(first) {
        let inner = &first[start + 1..end - 1];
        let note = size_note(inner.len());
        let around = first.len() - inner.len();
        if around + note.len() + 16 <= limit {
            let keep = safe_escape_prefix(prefix(inner, limit - around - note.len()));
            let line = format!("{}{keep}\"{note}{}", &first[..=start], &first[end..]);
            let rest = bound_lines(rest, QUOTE_LIMIT);
            return (format!("{line}{rest}"), None);
        }
    }
    let note = size_note(first.len());
    let cut = prefix(first, limit.saturating_sub(note.len()));
    // On a word boundary when there is one in the second half.
    let cut = match cut.rfind(' ') {
        Some(i) if i > cut.len() / 2 => &cut[..i],
        _ => cut,
    };
    (
        format!("{cut}{note}"),
        Some(bound_lines(message, QUOTE_LIMIT).into_owned()),
    )
}

/// `…[truncated, 3,072 bytes in all]`.
fn size_note(len: usize) -> String {
    let digits = len.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("…[truncated, {grouped} bytes in all]")
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a character boundary.
fn prefix(text: &str, limit: usize) -> &str {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `escaped` without a trailing partial escape sequence (`\`, `\u{…`).
fn safe_escape_prefix(escaped: &str) -> &str {
    match escaped.rfind('\\') {
        // A backslash among the last few bytes may start an escape the cut broke: drop it
        // (an escaped backslash `\\` loses both halves, harmlessly).
        Some(i) if escaped.len() - i <= 10 => {
            let mut cut = &escaped[..i];
            while cut.ends_with('\\') {
                cut = &cut[..cut.len() - 1];
            }
            cut
        }
        _ => escaped,
    }
}

/// Byte range (quotes included) of the longest `"…"` string of `line` (with `\"` escapes).
fn longest_quote(line: &str) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            if i >= bytes.len() {
                break;
            }
            let end = i + 1;
            if best.is_none_or(|(s, e)| e - s < end - start) {
                best = Some((start, end));
            }
        }
        i += 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_texts_are_unchanged_and_long_ones_state_their_size() {
        assert_eq!(bound("abc", 3), "abc");
        assert_eq!(
            bound(&"x".repeat(3072), 2048),
            format!("{}…[truncated, 3,072 bytes in all]", "x".repeat(2048))
        );
        assert_eq!(bound("ééé", 3), "é…[truncated, 6 bytes in all]");
        assert_eq!(size_note(1_048_576), "…[truncated, 1,048,576 bytes in all]");
    }

    #[test]
    fn a_long_quote_in_a_first_line_is_shortened_keeping_the_cause() {
        let body = "<html>".repeat(500);
        let message =
            format!("handshake rejected with 403 {body:?}: the server refused the credential");
        let (line, overflow) = first_line(&message, FIRST_LINE_LIMIT);
        assert!(line.len() <= FIRST_LINE_LIMIT, "{line}");
        assert!(
            line.starts_with("handshake rejected with 403 \"<html>"),
            "{line}"
        );
        assert!(
            line.ends_with("\"…[truncated, 3,000 bytes in all]: the server refused the credential"),
            "{line}"
        );
        assert_eq!(overflow, None);
        let (line, overflow) = first_line(&"word ".repeat(100), FIRST_LINE_LIMIT);
        assert!(
            line.len() <= FIRST_LINE_LIMIT && line.ends_with("bytes in all]"),
            "{line}"
        );
        assert!(overflow.is_some());
    }

    proptest! {
        #[test]
        fn bounded_texts_fit_and_keep_their_start(text in "\\PC{0,600}", limit in 1usize..300) {
            let b = bound(&text, limit);
            if text.len() <= limit {
                prop_assert_eq!(b.as_ref(), text.as_str());
            } else {
                let (kept, note) = b.split_once("…[truncated, ").expect("a size note");
                prop_assert!(kept.len() <= limit);
                prop_assert!(text.starts_with(kept));
                prop_assert_eq!(note.replace(',', ""), format!("{} bytes in all]", text.len()));
            }
            for line in bound_lines(&text, limit).split('\n') {
                prop_assert!(line.len() <= limit + 40, "{}", line);
            }
        }

        #[test]
        fn first_lines_fit(text in "[a-z \"\\\\:]{0,900}") {
            let (line, _) = first_line(&text, FIRST_LINE_LIMIT);
            prop_assert!(line.split('\n').next().unwrap_or("").len() <= FIRST_LINE_LIMIT, "{}", line);
        }
    }
}
