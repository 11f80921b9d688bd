//! Owns one snapshot comparison: the trial's text against `<dir>/<id>.snap`, reading that one
//! file (no directory scan, no process). A new or changed text is written to `<id>.snap.new`
//! and becomes a bounded failure message that names the file and how to accept it; in
//! [`Mode::Accept`] it is written to `<id>.snap` instead. A passing run leaves an existing
//! `.snap.new` alone: the evidence of an intermittent failure stays until it is reviewed.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};

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
    /// The file exists but is not a snapshot: `message` is the rendered, located report.
    #[error("{message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The report (names the file, the line and what to do).
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
    /// Two environments that share the snapshot gave different texts; nothing was written.
    Disagree {
        /// The snapshot id.
        id: String,
        /// The environment that compared first, and this one.
        environments: (String, String),
        /// The shared `.snap`.
        snap: PathBuf,
        /// A unified diff, the first environment's text → this one's.
        diff: String,
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
                shown(snap, None)
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
            Verdict::Disagree { diff, .. } => Some(diff.clone()),
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
                    shown(pending, None),
                    how_to_accept(id)
                );
                for line in lines.iter().take(PREVIEW_LINES) {
                    out.push_str(&format!("  + {line}\n"));
                }
                if lines.len() > PREVIEW_LINES {
                    out.push_str(&format!(
                        "  … {} more lines in {}\n",
                        lines.len() - PREVIEW_LINES,
                        shown(pending, None)
                    ));
                }
                Some(out)
            }
            Verdict::Disagree {
                id,
                environments: (a, b),
                snap,
                diff,
            } => {
                let mut out = format!(
                    "snapshot: environments `{a}` and `{b}` give different transcripts for `{id}`, which share one snapshot ({}); nothing was written\n  make them agree (normalize or `redact:` the value that differs), or give `{b}` its own snapshot with `overrides: {{{b}: …}}` in the scenario\n",
                    shown(snap, None)
                );
                for line in diff.lines().take(DIFF_LINES) {
                    out.push_str(&format!("  {line}\n"));
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
                    shown(snap, None),
                    shown(pending, None),
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

/// A path as a person can find it: relative to the current directory when below it, else to
/// `root` when below that, else as it is.
pub(crate) fn shown(path: &Path, root: Option<&Path>) -> String {
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    let root = root.and_then(|r| std::fs::canonicalize(r).ok());
    [cwd, root]
        .into_iter()
        .flatten()
        .find_map(|base| path.strip_prefix(base).ok().map(Path::to_path_buf))
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
    /// The environment whose run made the text (environments share one snapshot).
    pub(crate) environment: &'a str,
}

/// Which environment compared which text with each snapshot file in this process: two
/// environments sharing one snapshot must agree, or neither's text is written over the
/// other's.
static SEEN: LazyLock<Mutex<HashMap<PathBuf, (String, u64)>>> = LazyLock::new(Mutex::default);

fn fingerprint(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Compares `text` with the target's snapshot (see the module documentation).
pub(crate) fn check(target: Target<'_>, text: &str, mode: Mode) -> Result<Verdict, SnapshotError> {
    let snap = target.dir.join(format!("{}.snap", target.id));
    let pending = pending_path(&snap);
    let body = normalized(text);
    let hash = fingerprint(&body);
    let earlier = {
        let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = seen.get(&snap).cloned();
        if earlier.is_none() {
            seen.insert(snap.clone(), (target.environment.to_owned(), hash));
        }
        earlier
    };
    let old = SnapFile::read(&snap)?;
    if old.as_ref().is_some_and(|o| o.body == body) {
        return Ok(Verdict::Matched);
    }
    if let Some((other, other_hash)) = earlier
        && other_hash != hash
        && other != target.environment
    {
        // The other environment's text: its `.snap.new`, or the snapshot it matched.
        let theirs = SnapFile::read(&pending)
            .ok()
            .flatten()
            .map(|f| f.body)
            .filter(|b| fingerprint(b) == other_hash)
            .or_else(|| old.as_ref().map(|o| o.body.clone()))
            .unwrap_or_default();
        return Ok(Verdict::Disagree {
            id: target.id.to_owned(),
            environments: (other.clone(), target.environment.to_owned()),
            snap,
            diff: unified_diff(&theirs, &body, &other, target.environment),
        });
    }
    let file = SnapFile {
        description: Some(target.description.to_owned()),
        input_file: Some(relative_to(target.root, target.input)),
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

/// `input` relative to `root`, `/`-separated, never absolute: `scenarios/x.yaml`, or
/// `../shared/x.yaml` for a scenario directory beside the root.
fn relative_to(root: &Path, input: &Path) -> String {
    let absolute = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|cwd| cwd.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let normal = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let (root, input) = (normal(&absolute(root)), normal(&absolute(input)));
    let common = root.iter().zip(&input).take_while(|(a, b)| a == b).count();
    let mut parts = vec!["..".to_owned(); root.len() - common];
    parts.extend(input[common..].iter().cloned());
    parts.join("/")
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
            environment: "local",
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
    fn environments_sharing_a_snapshot_must_agree() {
        let root = std::env::temp_dir().join(format!("sockspec-agree-{}", uuid::Uuid::new_v4()));
        let dir = root.join("snapshots");
        let input = root.join("scenarios/auth/first.yaml");
        let local = target(&root, &dir, &input);
        let staging = Target {
            environment: "staging",
            ..local
        };
        let snap = dir.join("auth/first.snap");
        assert!(matches!(
            check(local, "a: 1\n", Mode::Accept).unwrap(),
            Verdict::Accepted { .. }
        ));
        // The same text from another environment passes; a different one is refused,
        // and neither the snapshot nor a .snap.new is written.
        assert_eq!(
            check(staging, "a: 1\n", Mode::Accept).unwrap(),
            Verdict::Matched
        );
        let v = check(staging, "a: 2\n", Mode::Accept).unwrap();
        let msg = v.failure().unwrap();
        assert!(
            msg.starts_with("snapshot: environments `local` and `staging` give different transcripts for `auth/first`"),
            "{msg}"
        );
        assert!(msg.contains("-a: 1") && msg.contains("+a: 2"), "{msg}");
        assert!(std::fs::read_to_string(&snap).unwrap().ends_with("a: 1\n"));
        assert!(!dir.join("auth/first.snap.new").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn input_files_are_relative_to_the_root_never_absolute() {
        assert_eq!(
            relative_to(Path::new("/p/proj"), Path::new("/p/proj/scenarios/x.yaml")),
            "scenarios/x.yaml"
        );
        assert_eq!(
            relative_to(Path::new("/p/proj"), Path::new("/p/shared/x.yaml")),
            "../shared/x.yaml"
        );
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
