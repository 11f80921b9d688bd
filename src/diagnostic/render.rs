//! Owns [`Diagnostic`]: one problem located in a source file, rendered rustc-style
//! (`error: …`, ` --> file:line:col`, the source line and a caret, then notes and a hint).
//! Parse errors, validation errors and run failures all go through this one renderer.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a source file, 1-based. `line == 0` means "the file as a whole".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const fn new(line: usize, column: usize) -> Self {
        Self { line, column }
    }

    /// Converts a serde-saphyr location (0 means unknown).
    pub fn from_location(loc: &serde_saphyr::Location) -> Self {
        Self::new(loc.line() as usize, loc.column() as usize)
    }

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// One located problem with everything a reader needs to act on it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Headline, a lowercase fragment ("unknown field `witin`").
    pub message: String,
    pub file: PathBuf,
    /// The file's text, shared, so the offending line can be shown.
    pub source: Option<Arc<str>>,
    pub pos: Pos,
    /// Label printed under the caret.
    pub label: Option<String>,
    /// Field path inside the document (`steps[2].expect.within`).
    pub field: Option<String>,
    /// Extra lines: expected versus found, context, frames.
    pub notes: Vec<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, file: impl AsRef<Path>) -> Self {
        Self {
            message: message.into(),
            file: file.as_ref().to_path_buf(),
            source: None,
            pos: Pos::default(),
            label: None,
            field: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn at(mut self, pos: Pos) -> Self {
        self.pos = pos;
        self
    }

    pub fn with_source(mut self, source: Arc<str>) -> Self {
        self.source = Some(source);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` (or just the file when the position is unknown).
    pub fn location(&self) -> String {
        let file = self.file.display();
        if self.pos.is_known() {
            format!("{file}:{}:{}", self.pos.line, self.pos.column.max(1))
        } else {
            file.to_string()
        }
    }

    /// Renders the diagnostic as plain text (no colours: it lands in snapshots and CI logs).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "error: {}", self.message);
        let _ = writeln!(out, "  --> {}", self.location());
        if let Some(field) = &self.field {
            let _ = writeln!(out, "   = field: {field}");
        }
        if let (Some(source), true) = (&self.source, self.pos.is_known()) {
            render_excerpt(&mut out, source, self.pos, self.label.as_deref());
        } else if let Some(label) = &self.label {
            let _ = writeln!(out, "   = {label}");
        }
        for note in &self.notes {
            let mut lines = note.lines();
            if let Some(first) = lines.next() {
                let _ = writeln!(out, "   = {first}");
            }
            for line in lines {
                let _ = writeln!(out, "     {line}");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "   = help: {help}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Splits `source` into lines as YAML counts them, and so as serde-saphyr's positions do: a
/// line ends at `\n`, `\r\n` or a lone `\r`. (`str::lines` does not split at a lone `\r`,
/// which put the excerpt of every diagnostic below one on the wrong line, or dropped it.)
/// After a final line break comes an empty last line: errors at the end of the file point
/// there.
fn yaml_lines(source: &str) -> Vec<&str> {
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

/// Writes the line before, the offending line and a caret under the column.
fn render_excerpt(out: &mut String, source: &str, pos: Pos, label: Option<&str>) {
    let lines = yaml_lines(source);
    let Some(line) = lines.get(pos.line - 1) else {
        return;
    };
    let width = (pos.line + 1).to_string().len();
    let _ = writeln!(out, "{:width$} |", "");
    if pos.line >= 2
        && let Some(prev) = lines.get(pos.line - 2)
    {
        let _ = writeln!(out, "{:>width$} | {prev}", pos.line - 1);
    }
    let _ = writeln!(out, "{:>width$} | {line}", pos.line);
    // Columns count characters; keep tabs so the caret lines up under them.
    let pad: String = line
        .chars()
        .take(pos.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    match label {
        Some(l) if !l.is_empty() => {
            let _ = writeln!(out, "{:width$} | {pad}^ {l}", "");
        }
        _ => {
            let _ = writeln!(out, "{:width$} | {pad}^", "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_column() {
        let src: Arc<str> = Arc::from("name: a\nsteps:\n  - sned: {}\n");
        let d = Diagnostic::new("unknown step kind `sned`", "scenarios/a.yaml")
            .with_source(src)
            .at(Pos::new(3, 5))
            .with_label("not a step kind")
            .with_help("did you mean `send`?");
        let text = d.render();
        assert!(text.contains("--> scenarios/a.yaml:3:5"), "{text}");
        assert!(text.contains("3 |   - sned: {}"), "{text}");
        assert!(text.contains("  |     ^ not a step kind"), "{text}");
        assert!(text.contains("= help: did you mean `send`?"), "{text}");
    }

    #[test]
    fn unknown_position_prints_file_only() {
        let d = Diagnostic::new("missing file", "x.yaml");
        assert!(d.render().contains("--> x.yaml\n"));
    }

    #[test]
    fn lines_are_counted_as_yaml_counts_them() {
        assert_eq!(yaml_lines("a\rb\r\nc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(yaml_lines("a\n\n"), ["a", "", ""]);
        assert_eq!(yaml_lines(""), Vec::<&str>::new());
        // serde-saphyr puts the `|` of `a: \r|` on line 2.
        let d = Diagnostic::new("unexpected character", "x.yaml")
            .with_source(Arc::from("a: \r|\nb: 1\n"))
            .at(Pos::new(2, 1));
        assert!(d.render().contains("2 | |\n"), "{}", d.render());
    }

    #[test]
    fn line_past_end_does_not_panic() {
        let d = Diagnostic::new("m", "x.yaml")
            .with_source(Arc::from("a\n"))
            .at(Pos::new(9, 3));
        assert!(d.render().starts_with("error: m"));
    }
}
