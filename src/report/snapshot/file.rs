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

/// A plain YAML scalar when `value` is safe as one, else a double-quoted string.
fn quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./@".contains(c))
        && !value.starts_with([' ', '-', '.', '@'])
        && !value.ends_with(' ');
    if plain {
        value.to_owned()
    } else {
        serde_json::Value::String(value.to_owned()).to_string()
    }
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
