//! Owns one snapshot comparison: the trial's text against `<dir>/<id>.snap`, reading that one
//! file (no directory scan, no process). A new or changed text is written to `<id>.snap.new`
//! and becomes a bounded failure message that names the file and how to accept it; in
//! [`Mode::Accept`] it is written to `<id>.snap` instead. A passing run leaves an existing
//! `.snap.new` alone: the evidence of an intermittent failure stays until it is reviewed.

use std::path::{Path, PathBuf};

use super::file::{SnapFile, normalized, pending_path};

/// Lines of a new snapshot shown in its failure message.
const PREVIEW_LINES: usize = 40;
/// Lines of a diff shown in a failure message.
const DIFF_LINES: usize = 80;

/// The variable that makes every comparison accept the new text (`sockspec test --accept`
/// sets the same mode), for `cargo nextest run` users: `SOCKSPEC_ACCEPT=1`.
pub(crate) const ACCEPT_VAR: &str = "SOCKSPEC_ACCEPT";

/// What a comparison does with a new or changed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Fail, and write the text to `<id>.snap.new` for review.
    Compare,
    /// Write the text to `<id>.snap` and pass.
    Accept,
}

impl Mode {
    /// [`Mode::Accept`] when `SOCKSPEC_ACCEPT` is `1`/`true`/`yes` (or, for cargo-insta's
    /// habits, `INSTA_UPDATE=always`), else [`Mode::Compare`].
    pub(crate) fn from_env() -> Mode {
        let on = |var: &str, values: &[&str]| {
            std::env::var(var)
                .is_ok_and(|v| values.contains(&v.trim().to_ascii_lowercase().as_str()))
        };
        if on(ACCEPT_VAR, &["1", "true", "yes"]) || on("INSTA_UPDATE", &["always"]) {
            Mode::Accept
        } else {
            Mode::Compare
        }
    }
}

/// Why a snapshot could not be compared.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// The file exists but is not a snapshot insta can read.
    #[error("cannot read snapshot {}: {message}; fix or delete the file", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What insta said.
        message: String,
    },
    /// The file or its directory could not be written.
    #[error("cannot write snapshot {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be removed or renamed.
    #[error("cannot update {}: {source}", path.display())]
    Update {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The outcome of one comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The text is the snapshot's.
    Matched,
    /// [`Mode::Accept`]: the text was written as the snapshot (it was new or changed).
    Accepted {
        /// The snapshot id.
        id: String,
        /// The `.snap` written.
        snap: PathBuf,
        /// Whether there was no snapshot before.
        new: bool,
    },
    /// No snapshot yet: the text is in `pending`.
    New {
        /// The snapshot id (`auth/valid_jwt`, `x@staging`).
        id: String,
        /// The `.snap.new` written.
        pending: PathBuf,
        /// The text.
        text: String,
    },
    /// The text differs from the snapshot: it is in `pending`.
    Changed {
        /// The snapshot id.
        id: String,
        /// The `.snap` compared with.
        snap: PathBuf,
        /// The `.snap.new` written.
        pending: PathBuf,
        /// A unified diff, snapshot → new text (whole).
        diff: String,
    },
}

impl Verdict {
    /// What a person is told of an accepted snapshot: `accepted the new snapshot of `x`: …`.
    pub(crate) fn accepted(&self) -> Option<String> {
        match self {
            Verdict::Accepted { id, snap, new } => Some(format!(
                "sockspec: accepted the {} snapshot of `{id}`: {}",
                if *new { "new" } else { "changed" },
                shown(snap)
            )),
            _ => None,
        }
    }

    /// The diff of a new (every line added) or changed snapshot.
    pub(crate) fn diff(&self) -> Option<String> {
        match self {
            Verdict::Changed { diff, .. } => Some(diff.clone()),
            Verdict::New { id, text, .. } => Some(unified_diff(
                "",
                text,
                &format!("{id}.snap"),
                &format!("{id}.snap.new"),
            )),
            Verdict::Matched | Verdict::Accepted { .. } => None,
        }
    }

    /// The failure message of a new or changed snapshot (`None` when it passed): its first
    /// line names the cause and the file; then how to accept; then a bounded preview or diff.
    /// No panic text, no backtrace, nothing of sockspec's source.
    pub(crate) fn failure(&self) -> Option<String> {
        match self {
            Verdict::Matched | Verdict::Accepted { .. } => None,
            Verdict::New { id, pending, text } => {
                let lines: Vec<&str> = text.lines().collect();
                let mut out = format!(
                    "snapshot: `{id}` has no snapshot yet; its transcript was written to {}\n{}\n",
                    shown(pending),
                    how_to_accept(id)
                );
                for line in lines.iter().take(PREVIEW_LINES) {
                    out.push_str(&format!("  + {line}\n"));
                }
                if lines.len() > PREVIEW_LINES {
                    out.push_str(&format!(
                        "  … {} more lines in {}\n",
                        lines.len() - PREVIEW_LINES,
                        shown(pending)
                    ));
                }
                Some(out)
            }
            Verdict::Changed {
                id,
                snap,
                pending,
                diff,
            } => {
                let (added, removed) = counts(diff);
                let lines: Vec<&str> = diff.lines().collect();
                let mut out = format!(
                    "snapshot: the transcript of `{id}` differs from {} (+{added} −{removed} lines); the new one was written to {}\n{}\n",
                    shown(snap),
                    shown(pending),
                    how_to_accept(id)
                );
                for line in lines.iter().take(DIFF_LINES) {
                    out.push_str(&format!("  {line}\n"));
                }
                if lines.len() > DIFF_LINES {
                    out.push_str(&format!(
                        "  … {} more diff lines: `sockspec review {id}` shows them all\n",
                        lines.len() - DIFF_LINES
                    ));
                }
                Some(out)
            }
        }
    }
}

fn how_to_accept(id: &str) -> String {
    format!(
        "  review it with `sockspec review`, or accept it with `sockspec accept {id}` (or run again with `sockspec test --accept`, or SOCKSPEC_ACCEPT=1)"
    )
}

/// `(added, removed)` lines of a unified diff.
fn counts(diff: &str) -> (usize, usize) {
    diff.lines().fold((0, 0), |(a, r), l| {
        if l.starts_with('+') && !l.starts_with("+++") {
            (a + 1, r)
        } else if l.starts_with('-') && !l.starts_with("---") {
            (a, r + 1)
        } else {
            (a, r)
        }
    })
}

/// A unified diff of `old` → `new`, three lines of context.
pub(super) fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    // Normalized texts have no final line break; both get one, so no "\ No newline" line.
    let (old, new) = (format!("{old}\n"), format!("{new}\n"));
    let old = if old == "\n" { String::new() } else { old };
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// A path as a person can find it: relative to the current directory when below it.
pub(super) fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            let cwd = std::fs::canonicalize(cwd).ok()?;
            path.strip_prefix(cwd).ok().map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// What is compared, and where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The project root (`input_file` is written relative to it).
    pub(crate) root: &'a Path,
    /// The snapshot directory.
    pub(crate) dir: &'a Path,
    /// The snapshot id (`auth/valid_jwt`; may hold `/`).
    pub(crate) id: &'a str,
    /// The file the snapshot is of.
    pub(crate) input: &'a Path,
    /// What the snapshot is of (the scenario's `name`).
    pub(crate) description: &'a str,
}

/// Compares `text` with the target's snapshot (see the module documentation).
pub(crate) fn check(target: Target<'_>, text: &str, mode: Mode) -> Result<Verdict, SnapshotError> {
    let snap = target.dir.join(format!("{}.snap", target.id));
    let pending = pending_path(&snap);
    let body = normalized(text);
    let old = SnapFile::read(&snap)?;
    if old.as_ref().is_some_and(|o| o.body == body) {
        return Ok(Verdict::Matched);
    }
    // `input` may be relative to the current directory (as reports show it).
    let absolute = std::fs::canonicalize(target.input).unwrap_or_else(|_| target.input.into());
    let input = absolute.strip_prefix(target.root).unwrap_or(&absolute);
    let file = SnapFile {
        description: Some(target.description.to_owned()),
        input_file: Some(
            input
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        body: body.clone(),
    };
    if mode == Mode::Accept {
        file.write(&snap)?;
        remove_if_present(&pending)?;
        return Ok(Verdict::Accepted {
            id: target.id.to_owned(),
            snap,
            new: old.is_none(),
        });
    }
    file.write(&pending)?;
    let id = target.id.to_owned();
    Ok(match old {
        None => Verdict::New {
            id,
            pending,
            text: body,
        },
        Some(old) => Verdict::Changed {
            diff: unified_diff(
                &old.body,
                &body,
                &format!("{id}.snap"),
                &format!("{id}.snap.new"),
            ),
            id,
            snap,
            pending,
        },
    })
}

pub(super) fn remove_if_present(path: &Path) -> Result<(), SnapshotError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SnapshotError::Update {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(root: &'a Path, dir: &'a Path, input: &'a Path) -> Target<'a> {
        Target {
            root,
            dir,
            id: "auth/first",
            input,
            description: "First",
        }
    }

    #[test]
    fn new_then_accepted_then_matched_then_changed() {
        let root = std::env::temp_dir().join(format!("sockspec-check-{}", uuid::Uuid::new_v4()));
        let dir = root.join("snapshots");
        let input = root.join("scenarios/auth/first.yaml");
        let t = target(&root, &dir, &input);
        let snap = dir.join("auth/first.snap");
        let pending = dir.join("auth/first.snap.new");

        let v = check(t, "a: 1\nb: 2\n", Mode::Compare).unwrap();
        assert!(matches!(&v, Verdict::New { pending: p, .. } if p == &pending));
        let msg = v.failure().unwrap();
        assert!(
            msg.starts_with("snapshot: `auth/first` has no snapshot yet"),
            "{msg}"
        );
        assert!(msg.contains("sockspec accept auth/first"), "{msg}");
        assert!(!snap.exists() && pending.exists());
        let written = std::fs::read_to_string(&pending).unwrap();
        assert!(
            written.contains("input_file: scenarios/auth/first.yaml\n"),
            "{written}"
        );
        assert!(!written.contains(&root.display().to_string()), "{written}");

        let v = check(t, "a: 1\nb: 2\n", Mode::Accept).unwrap();
        assert_eq!(
            v,
            Verdict::Accepted {
                id: "auth/first".into(),
                snap: snap.clone(),
                new: true
            }
        );
        assert!(snap.exists() && !pending.exists());

        assert_eq!(
            check(t, "a: 1\nb: 2  \r\n", Mode::Compare).unwrap(),
            Verdict::Matched
        );

        let v = check(t, "a: 1\nb: 3\n", Mode::Compare).unwrap();
        let msg = v.failure().unwrap();
        assert!(
            msg.contains("differs from") && msg.contains("(+1 −1 lines)"),
            "{msg}"
        );
        assert!(msg.contains("-b: 2") && msg.contains("+b: 3"), "{msg}");
        assert!(pending.exists());
        // A later pass keeps the evidence.
        assert_eq!(
            check(t, "a: 1\nb: 2\n", Mode::Compare).unwrap(),
            Verdict::Matched
        );
        assert!(pending.exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn messages_are_bounded() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let v = Verdict::New {
            id: "x".into(),
            pending: PathBuf::from("x.snap.new"),
            text,
        };
        let msg = v.failure().unwrap();
        assert!(
            msg.lines().count() < PREVIEW_LINES + 5,
            "{}",
            msg.lines().count()
        );
        assert!(msg.contains("4960 more lines"), "{msg}");
        let old: String = (0..3000).map(|i| format!("{i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("{}\n", i * 2)).collect();
        let v = Verdict::Changed {
            id: "x".into(),
            snap: "x.snap".into(),
            pending: "x.snap.new".into(),
            diff: unified_diff(&old, &new, "a", "b"),
        };
        let msg = v.failure().unwrap();
        assert!(
            msg.lines().count() < DIFF_LINES + 5,
            "{}",
            msg.lines().count()
        );
        assert!(msg.contains("more diff lines"), "{msg}");
    }
}
