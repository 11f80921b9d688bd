//! Owns [`Diagnostic`]: one problem, located in a source file when it has a place, and its
//! one renderer. Parse errors, validation errors, run failures and the command line's own
//! errors all go through it, so every report has the same shape, rustc's, drawn by
//! annotate-snippets:
//!
//! ```text
//! error: unknown field `witin`, expected one of match, within, capture, strict
//!  --> scenarios/invalid/unknown_field.yaml:4:35
//!   |
//! 3 |   - send: {type: ping}
//! 4 |   - expect: {match: {type: pong}, witin: 2s}
//!   |                                   ^^^^^
//!   |
//!   = help: did you mean `within`?
//! ```
//!
//! The headline, the location (`file:line:column`, or the file alone), the line before and
//! the offending line with the whole token underlined (a span's end when known, else the
//! YAML token at its start: see [`Pos`]), other places the report refers to underlined with
//! `-`, then the notes and the help as `= …` lines.
//!
//! Conventions for the texts:
//! - The first line names the cause, as a lowercase fragment without a final period
//!   ("handshake rejected with 403 …", "unknown field `witin` …"); everything else (what
//!   was expected, what arrived, the context) goes in notes, the remedy in the help.
//! - A note is a line of its own, `key: value` (`environment: failing`, `expected: …`); a note
//!   written `note: …` or `help: …` is shown with that level.
//!
//! [`Diagnostic::render`] is plain text (snapshots, CI logs, test failures);
//! [`Diagnostic::render_styled`] adds colours, and [`Diagnostic::eprint`] uses them only
//! when standard error is a terminal and `NO_COLOR` is unset.

use std::borrow::Cow;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{
    Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet, normalize_untrusted_str,
};

use super::pos::{Pos, extent, yaml_lines};

/// Lines are never cut to a terminal's width: a report reads the same everywhere.
const WIDTH: usize = usize::MAX / 4;

/// One located problem with everything a reader needs to act on it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Headline, a lowercase fragment ("unknown field `witin`").
    pub message: String,
    /// The file it is about; empty for a problem that is about no file.
    pub file: PathBuf,
    /// The file's text, shared, so the offending line can be shown.
    pub source: Option<Arc<str>>,
    /// Where it is (its start, and its length when known).
    pub pos: Pos,
    /// Label printed under the underlined token.
    pub label: Option<String>,
    /// Other places in the same file the report refers to, underlined with `-` and labelled
    /// (e.g. the credential, when the handshake it produced is the problem).
    pub context: Vec<(Pos, String)>,
    /// Field path inside the document (`steps[2].expect.within`).
    pub field: Option<String>,
    /// Extra lines: expected versus found, context, frames.
    pub notes: Vec<String>,
    /// What to do about it.
    pub help: Option<String>,
    /// A warning (`warning: …`): something likely wrong that does not stop anything.
    pub warning: bool,
}

impl Diagnostic {
    /// A problem in `file`, with `message` as its first line (lowercase, naming the cause).
    pub fn new(message: impl Into<String>, file: impl AsRef<Path>) -> Self {
        Self {
            message: message.into(),
            file: file.as_ref().to_path_buf(),
            source: None,
            pos: Pos::default(),
            label: None,
            context: Vec::new(),
            field: None,
            notes: Vec::new(),
            help: None,
            warning: false,
        }
    }

    /// A problem about no file (a command-line argument, a directory, the runtime).
    pub fn bare(message: impl Into<String>) -> Self {
        Self::new(message, "")
    }

    /// Points the diagnostic at `pos`.
    pub fn at(mut self, pos: Pos) -> Self {
        self.pos = pos;
        self
    }

    /// The file's text, so the offending lines can be shown.
    pub fn with_source(mut self, source: Arc<str>) -> Self {
        self.source = Some(source);
        self
    }

    /// The label shown under the underlined token.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Points at another place of the same file (shown only when both are in the source).
    pub fn with_context(mut self, pos: Pos, label: impl Into<String>) -> Self {
        self.context.push((pos, label.into()));
        self
    }

    /// The dotted path of the offending field (`steps[2].expect.within`), shown as a note.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A further line, shown in order (`note: …`, `expected: …`).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Makes it a warning: rendered `warning: …` instead of `error: …`.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// What to do about it, shown last.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` (or just the file when the position is unknown), as the report shows
    /// it: a column past the end of its line is shown at the end of the line.
    pub fn location(&self) -> String {
        let file = self.file.display();
        match self.pos.is_known().then(|| self.excerpt()) {
            None => file.to_string(),
            Some(Some(e)) => format!("{file}:{}:{}", self.pos.line, e.first + 1),
            Some(None) => format!("{file}:{}:{}", self.pos.line, self.pos.column.max(1)),
        }
    }

    /// Renders the diagnostic as plain text, ending with a line break (no colours: it lands
    /// in snapshots, CI logs and test failures).
    pub fn render(&self) -> String {
        self.render_for(false)
    }

    /// Renders the diagnostic with terminal colours (ANSI escapes).
    pub fn render_styled(&self) -> String {
        self.render_for(true)
    }

    /// Renders with colours when `color` is true (see `use_color`), plain otherwise.
    pub fn render_for(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        }
        .decor_style(DecorStyle::Ascii)
        .term_width(WIDTH);
        let mut out = renderer.render(&[self.group()]);
        out.push('\n');
        out
    }

    /// Prints the diagnostic to standard error, coloured when `use_color` says so, and an
    /// empty line after it (as rustc separates its reports).
    pub fn eprint(&self) {
        eprintln!("{}", self.render_for(use_color()));
    }

    /// The report as annotate-snippets takes it: the headline, the excerpt (or the location
    /// alone), then one message per field, note and help.
    fn group(&self) -> Group<'_> {
        let level = if self.warning {
            Level::WARNING
        } else {
            Level::ERROR
        };
        let mut group = Group::with_title(level.primary_title(self.message.as_str()));
        let file = self.file.to_string_lossy();
        let excerpt = self.pos.is_known().then(|| self.excerpt()).flatten();
        let mut label_shown = false;
        if let Some(e) = excerpt {
            label_shown = true;
            group = group.element(self.snippet(e, file.clone()));
        } else if !file.is_empty() {
            let mut origin = Origin::path(file.clone());
            if self.pos.is_known() {
                origin = origin
                    .line(self.pos.line)
                    .char_column(self.pos.column.max(1));
            }
            group = group.element(origin);
        }
        let field = self.field.as_deref().map(|f| format!("field: {f}"));
        let label = self.label.as_deref().filter(|_| !label_shown);
        for text in field.iter().map(String::as_str).chain(label) {
            group = group.element(Level::NOTE.no_name().message(clean(text)));
        }
        for note in &self.notes {
            // A note's own final line break would show as an empty line.
            let note = note.trim_end_matches(['\n', '\r']);
            let message = if let Some(rest) = note.strip_prefix("note: ") {
                Level::NOTE.message(clean(rest))
            } else if let Some(rest) = note.strip_prefix("help: ") {
                Level::HELP.message(clean(rest))
            } else {
                Level::NOTE.no_name().message(clean(note))
            };
            group = group.element(message);
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(clean(help)));
        }
        group
    }

    /// Where the primary position lies in the source, when the source has its line.
    fn excerpt(&self) -> Option<Excerpt> {
        let source = self.source.as_deref()?;
        let line = *yaml_lines(source).get(self.pos.line.checked_sub(1)?)?;
        let chars: Vec<char> = line.chars().collect();
        let (first, count) = extent(&chars, self.pos.column, self.pos.len);
        Some(Excerpt { first, count })
    }

    /// The lines from the one before the primary position (or the first place the report
    /// refers to) to the last one, each annotated line shown, the others folded.
    fn snippet<'a>(&'a self, primary: Excerpt, path: Cow<'a, str>) -> Snippet<'a, Annotation<'a>> {
        let source = self.source.as_deref().unwrap_or_default();
        let lines = yaml_lines(source);
        let line = self.pos.line;
        let context: Vec<(Pos, &str)> = self
            .context
            .iter()
            .filter(|(p, _)| p.is_known() && p.line <= lines.len() && *p != self.pos)
            .map(|(p, l)| (*p, l.as_str()))
            .collect();
        let first_line = context
            .iter()
            .map(|(p, _)| p.line)
            .chain([line.saturating_sub(1).max(1)])
            .min()
            .unwrap_or(line);
        let last_line = context
            .iter()
            .map(|(p, _)| p.line)
            .chain([line])
            .max()
            .unwrap_or(line);
        // Joined with `\n` whatever the file's line breaks (YAML also ends a line at a lone
        // `\r`, which annotate-snippets would not), each line ending with one, so that a span
        // at the end of a line has a character to point at.
        let mut text = String::new();
        let mut starts = Vec::new();
        for l in &lines[first_line - 1..last_line] {
            starts.push(text.len());
            text.push_str(l);
            text.push('\n');
        }
        let byte_span = |at: usize, first: usize, count: usize| {
            let l = lines[at - 1];
            let start = starts[at - first_line];
            let byte = |chars: usize| l.char_indices().nth(chars).map_or(l.len(), |(b, _)| b);
            let (from, to) = (byte(first), byte(first + count));
            // An empty span is not drawn: cover the character there, or the line break.
            let to = if to == from {
                from + l[from..].chars().next().map_or(1, char::len_utf8)
            } else {
                to
            };
            start + from..start + to
        };
        let mut snippet = Snippet::source(text)
            .line_start(first_line)
            .path(path)
            .annotation(
                AnnotationKind::Primary
                    .span(byte_span(line, primary.first, primary.count))
                    .label(self.label.as_deref().filter(|l| !l.is_empty()).map(clean)),
            );
        if line > first_line {
            // The line before, for context.
            snippet = snippet.annotation(AnnotationKind::Visible.span(byte_span(line - 1, 0, 0)));
        }
        for (p, label) in context {
            let chars: Vec<char> = lines[p.line - 1].chars().collect();
            let (first, count) = extent(&chars, p.column, p.len);
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(byte_span(p.line, first, count))
                    .label(Some(clean(label)).filter(|l| !l.is_empty())),
            );
        }
        snippet
    }
}

/// The primary position inside its line: the first character and how many are underlined.
#[derive(Debug, Clone, Copy)]
struct Excerpt {
    first: usize,
    count: usize,
}

/// Text from outside (server answers, file contents) with control characters made visible,
/// so that a report cannot move the cursor or change colours.
fn clean(text: &str) -> String {
    normalize_untrusted_str(text)
}

/// Whether reports on standard error are coloured: only on a terminal, and not when
/// `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
pub(crate) fn use_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

impl From<String> for Diagnostic {
    /// A problem about no file, from its message.
    fn from(message: String) -> Self {
        Self::bare(message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn unknown_field() -> Diagnostic {
        let src: Arc<str> = Arc::from(
            "name: a\nsteps:\n  - send: {type: ping}\n  - expect: {match: {type: pong}, witin: 2s}\n",
        );
        Diagnostic::new("unknown field `witin`", "scenarios/a.yaml")
            .with_source(src)
            .at(Pos::new(4, 35))
            .with_help("did you mean `within`?")
    }

    #[test]
    fn underlines_the_whole_token() {
        let text = unknown_field().render();
        assert_eq!(
            text,
            "error: unknown field `witin`\n \
             --> scenarios/a.yaml:4:35\n  \
             |\n\
             3 |   - send: {type: ping}\n\
             4 |   - expect: {match: {type: pong}, witin: 2s}\n  \
             |                                   ^^^^^\n  \
             |\n  \
             = help: did you mean `within`?\n"
        );
    }

    #[test]
    fn a_known_span_is_underlined_whole_with_its_label() {
        let src: Arc<str> = Arc::from("name: a\nsteps:\n  - sned: {}\n");
        let d = Diagnostic::new("unknown step kind `sned`", "scenarios/a.yaml")
            .with_source(src)
            .at(Pos::new(3, 5).with_len(4))
            .with_label("not a step kind")
            .with_field("steps[0]")
            .with_note("note: one of send, expect")
            .with_note("expected: a step");
        let text = d.render();
        assert!(text.contains(" --> scenarios/a.yaml:3:5\n"), "{text}");
        assert!(text.contains("3 |   - sned: {}\n"), "{text}");
        assert!(text.contains("  |     ^^^^ not a step kind\n"), "{text}");
        assert!(text.contains("  = field: steps[0]\n"), "{text}");
        assert!(text.contains("  = note: one of send, expect\n"), "{text}");
        assert!(text.contains("  = expected: a step\n"), "{text}");
    }

    #[test]
    fn plain_output_has_no_escapes_and_styled_output_has_them() {
        let d = unknown_field();
        assert!(!d.render().contains('\u{1b}'));
        assert!(!d.render_for(false).contains('\u{1b}'));
        let styled = d.render_styled();
        assert!(styled.contains("\u{1b}["), "{styled:?}");
        assert_eq!(styled, d.render_for(true));
        // The same text once the escapes are gone.
        let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
            .expect("regex")
            .replace_all(&styled, "");
        assert_eq!(stripped, d.render());
    }

    #[test]
    fn another_place_is_underlined_as_context() {
        let src: Arc<str> = Arc::from(
            "name: a\nauth:\n  jwt: {secret: s}\nconnect: {}\nhandshake:\n  rejected: {status: 403}\n",
        );
        let d = Diagnostic::new("handshake rejected for another reason", "a.yaml")
            .with_source(src)
            .at(Pos::new(6, 3))
            .with_label("expected handshake")
            .with_context(Pos::new(3, 3), "the credential");
        let text = d.render();
        assert!(
            text.contains(
                "3 |   jwt: {secret: s}\n  |   --- the credential\n4 | connect: {}\n5 | handshake:\n6 |   rejected: {status: 403}\n  |   ^^^^^^^^ expected handshake\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn unknown_position_prints_file_only() {
        let d = Diagnostic::new("missing file", "x.yaml").with_help("create it");
        assert_eq!(
            d.render(),
            "error: missing file\n--> x.yaml\n = help: create it\n"
        );
        assert_eq!(d.location(), "x.yaml");
    }

    #[test]
    fn a_bare_diagnostic_has_no_location() {
        let d = Diagnostic::from("no scenario matches `x`".to_string());
        assert_eq!(d.render(), "error: no scenario matches `x`\n");
        let d = d.with_help("list them with --list");
        assert_eq!(
            d.render(),
            "error: no scenario matches `x`\n |\n = help: list them with --list\n"
        );
    }

    #[test]
    fn an_empty_line_and_the_end_of_a_line_are_pointed_at() {
        let src: Arc<str> = Arc::from("a: 1\n\nb: [1\n");
        let d = Diagnostic::new("m", "x.yaml")
            .with_source(src.clone())
            .at(Pos::new(2, 1));
        assert!(
            d.render().contains("1 | a: 1\n2 |\n  | ^\n"),
            "{}",
            d.render()
        );
        let d = Diagnostic::new("m", "x.yaml")
            .with_source(src)
            .at(Pos::new(3, 99));
        assert_eq!(d.location(), "x.yaml:3:6");
        assert!(
            d.render().contains("3 | b: [1\n  |      ^\n"),
            "{}",
            d.render()
        );
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        // serde-saphyr puts the `|` of `a: \r|` on line 2.
        let d = Diagnostic::new("unexpected character", "x.yaml")
            .with_source(Arc::from("a: \r|\nb: 1\n"))
            .at(Pos::new(2, 1));
        assert!(d.render().contains("1 | a: \n2 | |\n"), "{}", d.render());
    }

    #[test]
    fn line_past_end_does_not_panic() {
        let d = Diagnostic::new("m", "x.yaml")
            .with_source(Arc::from("a\n"))
            .at(Pos::new(9, 3));
        assert!(
            d.render().starts_with("error: m\n--> x.yaml:9:3\n"),
            "{}",
            d.render()
        );
    }

    proptest! {
        /// Any span (start, length, other places) in any text renders, headline first.
        #[test]
        fn any_span_renders(
            source in "[a-z{}\\[\\]\"': #\t\r\n\u{0}é日😀-]{0,40}",
            line in 0usize..8,
            column in 0usize..30,
            len in prop_oneof![Just(0usize), 0usize..50, Just(usize::MAX)],
            context in prop::collection::vec((0usize..8, 0usize..30, 0usize..50), 0..3),
        ) {
            let mut d = Diagnostic::new("m", "x.yaml")
                .with_source(Arc::from(source.as_str()))
                .at(Pos::new(line, column).with_len(len))
                .with_label("here");
            for (l, c, n) in context {
                d = d.with_context(Pos::new(l, c).with_len(n), "there");
            }
            let text = d.render();
            prop_assert!(text.starts_with("error: m\n"), "{}", text);
            prop_assert!(text.contains(&d.location()), "{}", text);
        }
    }

    #[test]
    fn control_characters_from_outside_are_made_visible() {
        let d = Diagnostic::bare("m").with_note("actual: \u{1b}[31mred");
        assert!(!d.render().contains('\u{1b}'), "{:?}", d.render());
    }
}
