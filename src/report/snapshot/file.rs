//! Owns the `.snap` file format: insta's (a YAML header between `---` lines, then the text),
//! read through `insta::Snapshot::from_file` so the format has one authority, and written
//! here with a header that holds no path of the machine that wrote it (`description`, and
//! `input_file` relative to the project root). A pending snapshot is the same file named
//! `.snap.new`, as `cargo insta review` expects.

use std::path::{Path, PathBuf};

use insta::internals::{SnapshotContents, TextSnapshotContents};
use insta::{Snapshot, TextSnapshotKind};

use super::check::SnapshotError;

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

/// The text as insta compares it: trailing whitespace dropped, CRLF made LF.
pub(super) fn normalized(text: &str) -> String {
    TextSnapshotContents::new(text.to_owned(), TextSnapshotKind::File).to_string()
}

impl SnapFile {
    /// Reads `path`; `Ok(None)` when it does not exist.
    pub(super) fn read(path: &Path) -> Result<Option<SnapFile>, SnapshotError> {
        if !path.exists() {
            return Ok(None);
        }
        let snap = Snapshot::from_file(path).map_err(|e| SnapshotError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let body = match snap.contents() {
            SnapshotContents::Text(t) => t.to_string(),
            SnapshotContents::Binary(_) => {
                return Err(SnapshotError::Parse {
                    path: path.to_path_buf(),
                    message: "a binary snapshot, not the text of a transcript".to_owned(),
                });
            }
        };
        let meta = snap.metadata();
        Ok(Some(SnapFile {
            description: meta.description().map(str::to_owned),
            input_file: meta.input_file().map(str::to_owned),
            body,
        }))
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
    fn a_written_file_reads_back_through_insta() {
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
        assert!(SnapFile::read(&dir.join("missing.snap")).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_malformed_header_is_an_error_naming_the_file() {
        let dir = tempdir();
        let path = dir.join("bad.snap");
        std::fs::write(&path, "---\ndescription: [unclosed\n---\nbody\n").unwrap();
        let err = SnapFile::read(&path).unwrap_err().to_string();
        assert!(err.contains("bad.snap"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn normalization_is_insta_s() {
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
