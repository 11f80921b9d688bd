//! Owns the `.snap` file format, insta's: a YAML header between `---` lines (insta's legacy
//! header: `Key: value` lines up to a blank line), then the text. Read and written here (a
//! header of `description` and `input_file` relative to the project root, no path of the
//! machine that wrote it), compared as insta compares text, so `cargo insta review` still
//! works on these files (a test reads a written file back through insta). A pending snapshot
//! is the same file named `.snap.new`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::check::SnapshotError;
use crate::diagnostic::Diagnostic;

/// What a snapshot file holds.
#[derive(Debug, Clone)]
pub(super) struct SnapFile {
    /// The scenario's `name` (or what the snapshot is of).
    pub(super) description: Option<String>,
    /// The file the snapshot is of, relative to the project root.
    pub(super) input_file: Option<String>,
    /// The text, normalized as insta compares it (no trailing blanks, `\n` line ends).
    pub(super) body: String,
}

/// The header keys sockspec reads; insta's others (`source`, `assertion_line`, `expression`,
/// `info`) are skipped.
#[derive(Debug, Default, Deserialize)]
struct Header {
    description: Option<String>,
    input_file: Option<String>,
    snapshot_kind: Option<String>,
}

/// The text as insta compares it: line ends made `\n`, blank lines at the start and trailing
/// whitespace at the end dropped (insta also accepts snapshots of its legacy format, whose
/// text may start with blank lines).
pub(super) fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n")
        .trim_start_matches('\n')
        .trim_end()
        .to_owned()
}

impl SnapFile {
    /// Reads `path`; `Ok(None)` when it does not exist.
    pub(super) fn read(path: &Path) -> Result<Option<SnapFile>, SnapshotError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SnapshotError::Update {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        };
        Self::parse(&text, path).map(Some)
    }

    /// Parses the text of the snapshot file `path`.
    pub(super) fn parse(text: &str, path: &Path) -> Result<SnapFile, SnapshotError> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let (header, body_from) = if lines.first().is_some_and(|l| l.trim_end() == "---") {
            let Some(end) = lines.iter().skip(1).position(|l| l.trim_end() == "---") else {
                return Err(parse_error(
                    path,
                    "the header that starts on line 1 with `---` has no closing `---` line",
                ));
            };
            // Line 1 (`---`) becomes an empty line, so positions keep their line numbers.
            let yaml: String = std::iter::once("\n")
                .chain(lines[1..=end].iter().copied())
                .collect();
            let header = if yaml.trim().is_empty() {
                Header::default()
            } else if let Some(h) = simple_header(&lines[1..=end]) {
                h
            } else {
                crate::scenario::parse_yaml::<Header>(&yaml, path, &Arc::from(yaml.as_str()))
                    .map_err(|d| SnapshotError::Parse {
                        path: path.to_path_buf(),
                        message: d
                            .with_help("fix the header, or delete the file: a run writes it anew as `.snap.new`")
                            .render(),
                    })?
            };
            (header, end + 2)
        } else {
            // insta's legacy header: `Key: value` lines up to a blank line.
            let end = lines
                .iter()
                .position(|l| l.trim_end().is_empty())
                .unwrap_or(lines.len());
            (Header::default(), (end + 1).min(lines.len()))
        };
        if header.snapshot_kind.as_deref().is_some_and(|k| k != "text") {
            return Err(parse_error(
                path,
                "a binary snapshot (`snapshot_kind` is not `text`), not the text of a transcript",
            ));
        }
        Ok(SnapFile {
            description: header.description,
            input_file: header.input_file,
            body: normalized(&lines[body_from.min(lines.len())..].concat()),
        })
    }

    /// The file's text: the header, then the body and a final newline.
    pub(super) fn render(&self) -> String {
        let mut out = String::from("---\n");
        for (key, value) in [
            ("description", &self.description),
            ("input_file", &self.input_file),
        ] {
            if let Some(v) = value {
                // A JSON string is a YAML double-quoted scalar; insta reads either.
                out.push_str(&format!("{key}: {}\n", quoted(v)));
            }
        }
        out.push_str("---\n");
        out.push_str(&self.body);
        out.push('\n');
        out
    }

    /// Writes the file (its directory created), through a temporary file and a rename, so a
    /// reader never sees half a snapshot.
    pub(super) fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let io = |source| SnapshotError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = temporary(path);
        std::fs::write(&tmp, self.render()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

/// An unreadable snapshot file, located at its first line.
fn parse_error(path: &Path, what: &str) -> SnapshotError {
    SnapshotError::Parse {
        path: path.to_path_buf(),
        message: Diagnostic::new(format!("cannot read snapshot: {what}"), path)
            .with_help("fix the file, or delete it: a run writes it anew as `.snap.new`")
            .render(),
    }
}

/// Whether `value` reads back as itself, a string, when written as a plain YAML scalar: safe
/// characters, and not a word or number YAML gives another type (`null`, `true`, `1.5`…).
fn plain_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./@".contains(c))
        && !value.starts_with([' ', '-', '.', '@'])
        && !value.ends_with(' ')
        && ![
            "null", "true", "false", "yes", "no", "on", "off", "nan", "inf",
        ]
        .iter()
        .any(|w| value.eq_ignore_ascii_case(w))
        && value.parse::<f64>().is_err()
        && !value.starts_with(|c: char| c.is_ascii_digit())
}

/// The header lines (between the `---` lines) when they are as sockspec writes them: `key:
/// value` lines whose values are plain-safe scalars or JSON strings (YAML's double-quoted
/// ones), no key twice. Read so without a YAML parser: a YAML parse of each snapshot's header
/// was a thirtieth of a scenario's CPU. `None` for anything else (insta's own headers with
/// nested `info`, hand edits), which the YAML parser reads.
fn simple_header(lines: &[&str]) -> Option<Header> {
    let mut header = Header::default();
    let mut seen: Vec<&str> = Vec::new();
    for line in lines {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once(": ")?;
        if key.is_empty()
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || seen.contains(&key)
        {
            return None;
        }
        seen.push(key);
        let value = if value.starts_with('"') {
            // Raw characters YAML refuses unescaped (and `quoted` never writes raw) go to
            // the YAML parser, which names them.
            if value.chars().any(needs_escape) {
                return None;
            }
            serde_json::from_str::<String>(value).ok()?
        } else if plain_safe(value) {
            value.to_owned()
        } else {
            return None;
        };
        match key {
            "description" => header.description = Some(value),
            "input_file" => header.input_file = Some(value),
            "snapshot_kind" => header.snapshot_kind = Some(value),
            _ => {}
        }
    }
    Some(header)
}

/// Whether `c` is written `\\uXXXX` in a double-quoted header value: controls, DEL, C1
/// controls, line separators, the byte-order mark and non-characters.
fn needs_escape(c: char) -> bool {
    c < ' '
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// A plain YAML scalar when `value` is safe as one, else a double-quoted string that YAML
/// and JSON read alike: `"` and `\\` escaped, and every character YAML does not allow
/// unescaped (controls, DEL, C1 controls, the byte-order mark, non-characters, line
/// separators) written `\\uXXXX` (they are all in the Basic Multilingual Plane).
fn quoted(value: &str) -> String {
    if plain_safe(value) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `<dir>/<name>.tmp-<uuid>`: beside the target, so the rename stays on one file system, and
/// unique, so two trials (two environments) writing the same snapshot do not share it.
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    path.with_file_name(name)
}

/// `<id>.snap.new` beside `<id>.snap`.
pub(super) fn pending_path(snap: &Path) -> PathBuf {
    let mut name = snap.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    snap.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_here_and_through_insta() {
        let dir = tempdir();
        let path = dir.join("a/b.snap");
        let file = SnapFile {
            description: Some("Agent: \"full\" flow: ok".to_owned()),
            input_file: Some("scenarios/a/b.yaml".to_owned()),
            body: "scenario: a/b\nframes: []\noutcome: passed".to_owned(),
        };
        file.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("---\ndescription: \"Agent: \\\"full\\\" flow: ok\"\n"));
        assert!(text.contains("input_file: scenarios/a/b.yaml\n"));
        let back = SnapFile::read(&path).unwrap().unwrap();
        assert_eq!(back.description, file.description);
        assert_eq!(back.input_file, file.input_file);
        assert_eq!(back.body, file.body);
        // cargo-insta reads what sockspec writes.
        let insta = insta::Snapshot::from_file(&path).unwrap();
        assert_eq!(insta.metadata().description(), file.description.as_deref());
        assert_eq!(insta.metadata().input_file(), Some("scenarios/a/b.yaml"));
        assert_eq!(insta.as_text().unwrap().to_string(), file.body);
        assert!(SnapFile::read(&dir.join("missing.snap")).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    proptest::proptest! {
        /// The header as sockspec writes it reads the same without the YAML parser as with it,
        /// and the fast path takes it.
        #[test]
        fn written_headers_read_the_same_without_the_yaml_parser(
            description in proptest::option::of(".{0,30}|null|True|1.5|0x1F|~|- a|a: b|\"q\""),
            input_file in proptest::option::of("[a-z/_.-]{1,20}\\.yaml"),
        ) {
            let file = SnapFile { description, input_file, body: "a: 1".to_owned() };
            let text = file.render();
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let end = lines.iter().skip(1).position(|l| l.trim_end() == "---").expect("a header");
            let yaml: String = lines[1..=end].concat();
            let fast = simple_header(&lines[1..=end]);
            proptest::prop_assert!(fast.is_some(), "the fast path takes {yaml:?}");
            let fast = fast.expect("checked");
            let slow: Header = if yaml.trim().is_empty() {
                Header::default()
            } else {
                crate::scenario::parse_yaml(&yaml, Path::new("x.snap"), &Arc::from(yaml.as_str()))
                    .expect("valid YAML")
            };
            proptest::prop_assert_eq!(&fast.description, &slow.description);
            proptest::prop_assert_eq!(&fast.input_file, &slow.input_file);
            proptest::prop_assert_eq!(&fast.description, &file.description);
            let back = SnapFile::parse(&text, Path::new("x.snap")).expect("reads back");
            proptest::prop_assert_eq!(back.description, file.description);
        }
    }

    #[test]
    fn a_raw_character_yaml_refuses_is_left_to_the_yaml_parser() {
        for raw in ['\u{7f}', '\u{fffe}', '\u{1}'] {
            let lines = [format!("description: \"a{raw}b\"\n")];
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            assert!(simple_header(&lines).is_none(), "{raw:?}");
        }
        assert!(simple_header(&["description: \"a\\u007fb\"\n"]).is_some());
    }

    #[test]
    fn headers_insta_wrote_and_legacy_ones_are_read() {
        let p = Path::new("snapshots/x.snap");
        let modern = "---\nsource: src/report/snapshot.rs\nassertion_line: 50\nexpression: text\ninfo: {a: [1]}\ndescription: D\ninput_file: scenarios/x.yaml\n---\nscenario: x\n";
        let f = SnapFile::parse(modern, p).unwrap();
        assert_eq!(
            (f.description.as_deref(), f.body.as_str()),
            (Some("D"), "scenario: x")
        );
        let legacy = "Created: 2019-01-01\nCreator: insta@0.6\nExpression: text\n\n\nscenario: x\n";
        assert_eq!(SnapFile::parse(legacy, p).unwrap().body, "scenario: x");
        assert_eq!(SnapFile::parse("---\n---\n", p).unwrap().body, "");
    }

    #[test]
    fn bad_files_are_errors_naming_the_file_and_line() {
        let p = Path::new("snapshots/bad.snap");
        let err = SnapFile::parse("---\ndescription: [unclosed\n---\nbody\n", p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("snapshots/bad.snap:2:"), "{err}");
        for (text, what) in [
            ("---\ndescription: x\nbody\n", "no closing `---`"),
            (
                "---\nsnapshot_kind: binary\nextension: ../../etc/passwd\n---\n",
                "binary snapshot",
            ),
        ] {
            let err = SnapFile::parse(text, p).unwrap_err().to_string();
            assert!(
                err.contains(what) && err.contains("snapshots/bad.snap"),
                "{err}"
            );
        }
    }

    #[test]
    fn normalization_is_insta_s() {
        use insta::internals::TextSnapshotContents;
        for text in ["a\r\nb  \n\n", "x: 1\n  y: 2\n", "\n\nlegacy\n"] {
            let insta = TextSnapshotContents::new(text.to_owned(), insta::TextSnapshotKind::File)
                .to_string();
            assert_eq!(normalized(text), insta.trim_start_matches('\n'), "{text:?}");
        }
        assert_eq!(normalized("a\r\nb  \n\n"), "a\nb");
        assert_eq!(
            pending_path(Path::new("x/y.snap")),
            Path::new("x/y.snap.new")
        );
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sockspec-snapfile-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
