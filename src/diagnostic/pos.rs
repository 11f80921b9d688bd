//! Owns [`Pos`], a span in a YAML source file (its start, and how far it reaches on its line),
//! and what the renderer needs to show one: the file's lines counted as YAML counts them, and
//! the extent of the YAML token at a position when no end is known.

/// A span in a source file: it starts at `line`:`column` (1-based; `line == 0` means "the
/// file as a whole") and covers `len` characters of that line. `len == 0` means the end is not
/// known (a position computed by hand, a YAML block collection): the renderer then underlines
/// the YAML token starting there — a word, a key, a quoted string, a flow collection.
///
/// `origin` tells which file of a document made of several the span is in: 0 (the default)
/// is the main file; for a scenario, `n` is the `n`-th fragment it includes
/// (`Plan::fragments[n - 1]`). Only the owner of that list resolves it: a [`super::Diagnostic`]
/// is always about its own file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line; 0 means the file as a whole.
    pub line: usize,
    /// 1-based column of the start, in characters.
    pub column: usize,
    /// Characters covered from `column`; 0 = unknown.
    pub len: usize,
    /// Which file of a multi-file document (0: the main one).
    pub origin: u32,
}

impl Pos {
    /// The start of a span whose end is not known.
    pub const fn new(line: usize, column: usize) -> Self {
        Self {
            line,
            column,
            len: 0,
            origin: 0,
        }
    }

    /// The same span, in file `origin` of a multi-file document.
    #[must_use]
    pub const fn in_origin(mut self, origin: u32) -> Self {
        self.origin = origin;
        self
    }

    /// The same start, covering `len` characters.
    #[must_use]
    pub const fn with_len(mut self, len: usize) -> Self {
        self.len = len;
        self
    }

    /// Converts a serde-saphyr location (line 0 means unknown), with the length of its span
    /// when serde-saphyr knows it (scalars and tokens; a collection's span is its first
    /// character or empty).
    pub fn from_location(loc: &serde_saphyr::Location) -> Self {
        let span = loc.span();
        let len = if span == serde_saphyr::Span::UNKNOWN {
            0
        } else {
            usize::try_from(span.len()).unwrap_or(0)
        };
        Self::new(loc.line() as usize, loc.column() as usize).with_len(len)
    }

    /// Whether the position names a line (not just the file).
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// Splits `source` into lines as YAML counts them, and so as serde-saphyr's positions do: a
/// line ends at `\n`, `\r\n` or a lone `\r`. (`str::lines` does not split at a lone `\r`,
/// which put the excerpt of every diagnostic below one on the wrong line, or dropped it.)
/// After a final line break comes an empty last line: errors at the end of the file point
/// there.
pub(super) fn yaml_lines(source: &str) -> Vec<&str> {
    if source.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find(['\r', '\n']) {
        lines.push(&rest[..i]);
        let eol = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[i + eol..];
    }
    lines.push(rest);
    lines
}

/// The characters of `line` a span covers: `(first, count)`, both in characters, `first`
/// at most the line's length. `count` is 0 only at the end of the line (the renderer then
/// points just past its last character). A span reaching past the end of the line (a
/// multi-line scalar) is cut there; an unknown end, or a span that is only the opening
/// bracket of a flow collection (serde-saphyr's span of a collection), becomes the token
/// starting at `column`.
pub(super) fn extent(line: &[char], column: usize, len: usize) -> (usize, usize) {
    let first = column.saturating_sub(1).min(line.len());
    let rest = &line[first..];
    let count = match (len, rest.first()) {
        (_, None) => 0,
        (0, _) | (1, Some('{' | '[')) => token_len(line, first),
        (n, _) if n > rest.len() => trimmed_len(rest).max(1),
        (n, _) => n,
    };
    (first, count)
}

/// Characters of the YAML token starting at `line[start]`: a quoted string, a flow
/// collection, an indicator, or a plain scalar or key (up to `: `, ` #` and, inside a flow
/// collection, `,`, `]` and `}`). At least 1 inside the line; a string or collection that does
/// not close on this line is cut at its end, except that an unclosed bracket is the bracket.
fn token_len(line: &[char], start: usize) -> usize {
    let rest = &line[start..];
    let next_is_blank = |i: usize| rest.get(i + 1).is_none_or(|c| c.is_whitespace());
    match rest.first() {
        None => 0,
        Some(c) if c.is_whitespace() => 1,
        Some('"' | '\'') => quoted_len(rest).unwrap_or_else(|| trimmed_len(rest)),
        Some('{' | '[') => flow_len(rest).unwrap_or(1),
        Some('-' | '?' | ':') if next_is_blank(0) => 1,
        Some('#' | ',' | ']' | '}') => 1,
        Some(_) => {
            let in_flow = line[..start].iter().fold(0i64, |depth, c| match c {
                '{' | '[' => depth + 1,
                '}' | ']' => depth - 1,
                _ => depth,
            }) > 0;
            let mut end = rest.len();
            for (i, c) in rest.iter().enumerate().skip(1) {
                let stop = match c {
                    ':' => {
                        next_is_blank(i)
                            || (in_flow && matches!(rest.get(i + 1), Some(',' | ']' | '}')))
                    }
                    '#' => rest[i - 1].is_whitespace(),
                    ',' | ']' | '}' => in_flow,
                    _ => false,
                };
                if stop {
                    end = i;
                    break;
                }
            }
            trimmed_len(&rest[..end]).max(1)
        }
    }
}

/// Length of the quoted string `rest` starts with, closing quote included; `None` when it
/// does not close on this line. `\` escapes in double quotes, `''` is a quote in single ones.
fn quoted_len(rest: &[char]) -> Option<usize> {
    let quote = *rest.first()?;
    let mut i = 1;
    while let Some(&c) = rest.get(i) {
        match c {
            '\\' if quote == '"' => i += 2,
            '\'' if quote == '\'' && rest.get(i + 1) == Some(&'\'') => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Length of the flow collection `rest` starts with, closing bracket included; `None` when it
/// does not close on this line. Quoted strings inside are skipped.
fn flow_len(rest: &[char]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = rest.get(i) {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            '"' | '\'' if i > 0 && matches!(rest[i - 1], ' ' | '\t' | '{' | '[' | ',' | ':') => {
                i += quoted_len(&rest[i..])?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Length of `chars` without trailing whitespace.
fn trimmed_len(chars: &[char]) -> usize {
    chars.len() - chars.iter().rev().take_while(|c| c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text `extent` underlines in `line` for a span at `column` of `len` characters.
    fn underlined(line: &str, column: usize, len: usize) -> String {
        let chars: Vec<char> = line.chars().collect();
        let (first, count) = extent(&chars, column, len);
        chars[first..first + count].iter().collect()
    }

    #[test]
    fn lines_are_counted_as_yaml_counts_them() {
        assert_eq!(yaml_lines("a\rb\r\nc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(yaml_lines("a\n\n"), ["a", "", ""]);
        assert_eq!(yaml_lines(""), Vec::<&str>::new());
    }

    #[test]
    fn a_known_span_is_underlined_as_given_and_cut_at_the_end_of_its_line() {
        assert_eq!(underlined("within: 2s", 9, 2), "2s");
        assert_eq!(underlined("text: \"a multi", 7, 40), "\"a multi");
        // Past the end: just after the last character.
        assert_eq!(underlined("abc", 9, 2), "");
        assert_eq!(extent(&['a', 'b', 'c'], 9, 2), (3, 0));
    }

    #[test]
    fn an_unknown_end_underlines_the_token() {
        let line = "  - expect: {match: {type: pong}, witin: 2s}";
        assert_eq!(underlined(line, 5, 0), "expect");
        assert_eq!(underlined(line, 13, 0), "{match: {type: pong}, witin: 2s}");
        // serde-saphyr's span of a flow collection is its opening bracket.
        assert_eq!(underlined(line, 13, 1), "{match: {type: pong}, witin: 2s}");
        assert_eq!(underlined(line, 35, 0), "witin");
        assert_eq!(underlined(line, 42, 0), "2s");
        assert_eq!(underlined(line, 3, 0), "-");
        assert_eq!(underlined("name: hello world # c", 7, 0), "hello world");
        assert_eq!(underlined("url: ws://host:80/x", 6, 0), "ws://host:80/x");
        assert_eq!(underlined(r#"a: "x \" y", b"#, 4, 0), r#""x \" y""#);
        assert_eq!(underlined("a: 'it''s', b", 4, 0), "'it''s'");
        assert_eq!(
            underlined(r#"{a: "}", b: [1, 2]}"#, 1, 0),
            r#"{a: "}", b: [1, 2]}"#
        );
        assert_eq!(underlined("[a, b]", 5, 0), "b");
        // Unclosed: the bracket; a string running on: the rest of the line.
        assert_eq!(underlined("  - send: {type: ping", 11, 1), "{");
        assert_eq!(underlined("a: \"multi  ", 4, 0), "\"multi");
        assert_eq!(underlined("a:  ", 3, 0), " ");
    }
}
