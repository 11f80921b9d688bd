//! Owns a project's snapshot directory as a whole: the pending snapshots (`<id>.snap.new`,
//! written by failed comparisons) with their diffs, accepting one (renamed over `<id>.snap`)
//! or rejecting one (deleted), and every snapshot's status (referenced by a scenario,
//! pending, or an orphan that no scenario makes any more).

use std::path::{Path, PathBuf};

use super::check::{SnapshotError, remove_if_present, unified_diff};
use super::file::SnapFile;

/// A snapshot waiting for review.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The snapshot id (`auth/valid_jwt`, `x@staging`).
    pub(crate) id: String,
    /// The `.snap` it would become.
    pub(crate) snap: PathBuf,
    /// The `.snap.new` file.
    pub(crate) new: PathBuf,
    /// The file the snapshot is of, relative to the project root, when the file says.
    pub(crate) input_file: Option<String>,
    /// The accepted text (`None`: a new snapshot).
    pub(crate) old: Option<String>,
    /// The pending text.
    pub(crate) text: String,
}

impl Pending {
    /// A unified diff, accepted → pending (every line added for a new snapshot).
    pub(crate) fn diff(&self) -> String {
        unified_diff(
            self.old.as_deref().unwrap_or_default(),
            &self.text,
            &format!("{}.snap", self.id),
            &format!("{}.snap.new", self.id),
        )
    }

    /// Makes the pending text the snapshot.
    pub(crate) fn accept(&self) -> Result<(), SnapshotError> {
        std::fs::rename(&self.new, &self.snap).map_err(|source| SnapshotError::Update {
            path: self.new.clone(),
            source,
        })
    }

    /// Deletes the pending text.
    pub(crate) fn reject(&self) -> Result<(), SnapshotError> {
        remove_if_present(&self.new)
    }

    /// Whether `filters` select this snapshot (an empty list selects everything).
    pub(crate) fn selected_by(&self, filters: &[Filter]) -> bool {
        filters.is_empty() || filters.iter().any(|f| f.matches(&self.id))
    }
}

/// Which snapshots an `accept`, `reject` or `review` argument means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// A snapshot id (`auth/x`): that snapshot and its environments' (`auth/x@staging`).
    Id(String),
    /// A directory of ids (`auth/`): every snapshot below it.
    Dir(String),
    /// A trial name (`staging::auth/x`): the snapshots that trial compares with, `auth/x`
    /// and `auth/x@staging`.
    Trial {
        /// The environment.
        environment: String,
        /// The scenario id.
        id: String,
    },
}

impl Filter {
    fn matches(&self, snapshot: &str) -> bool {
        match self {
            Filter::Id(id) => {
                snapshot == id
                    || snapshot
                        .strip_prefix(id.as_str())
                        .is_some_and(|rest| rest.starts_with('@'))
            }
            Filter::Dir(dir) => snapshot
                .strip_prefix(dir.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
            Filter::Trial { environment, id } => {
                snapshot == id || snapshot == format!("{id}@{environment}")
            }
        }
    }
}

/// Every readable pending snapshot below `dir`, sorted by id; one that cannot be read (or
/// whose snapshot cannot) is reported on stderr and left out, so it never blocks the others.
pub(crate) fn pending(dir: &Path) -> Result<Vec<Pending>, SnapshotError> {
    let mut out = Vec::new();
    for (id, path) in files(dir, ".snap.new")? {
        let snap = path.with_extension("");
        let read = SnapFile::read(&path).and_then(|new| Ok((new, SnapFile::read(&snap)?)));
        let (new, old) = match read {
            Ok((Some(new), old)) => (new, old.map(|f| f.body)),
            // Gone since the directory was read.
            Ok((None, _)) => continue,
            Err(e) => {
                eprintln!("sockspec: skipped the pending snapshot `{id}`: {e}");
                continue;
            }
        };
        out.push(Pending {
            id,
            snap,
            new: path,
            input_file: new.input_file,
            old,
            text: new.body,
        });
    }
    Ok(out)
}

/// Accepts the pending snapshots `filters` select; returns their ids.
pub(crate) fn accept(dir: &Path, filters: &[Filter]) -> Result<Vec<String>, SnapshotError> {
    act(dir, filters, Pending::accept)
}

/// Rejects (deletes) the pending snapshots `filters` select; returns their ids.
pub(crate) fn reject(dir: &Path, filters: &[Filter]) -> Result<Vec<String>, SnapshotError> {
    act(dir, filters, Pending::reject)
}

fn act(
    dir: &Path,
    filters: &[Filter],
    f: fn(&Pending) -> Result<(), SnapshotError>,
) -> Result<Vec<String>, SnapshotError> {
    let mut done = Vec::new();
    for p in pending(dir)?.into_iter().filter(|p| p.selected_by(filters)) {
        f(&p)?;
        done.push(p.id);
    }
    Ok(done)
}

/// What a snapshot file is to the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// A scenario makes it.
    Referenced,
    /// No scenario makes it any more.
    Orphan,
    /// A `.snap.new` waiting for review.
    Pending,
    /// A temporary file left by an interrupted write (`<name>.tmp-<hex>`): delete it.
    Leftover,
}

/// One file of the snapshot directory.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The snapshot id.
    pub(crate) id: String,
    /// The file.
    pub(crate) path: PathBuf,
    /// What it is.
    pub(crate) status: Status,
}

/// Every snapshot and pending snapshot below `dir`, sorted by id; `referenced(id)` tells
/// whether a scenario makes snapshot `id`.
pub(crate) fn entries(
    dir: &Path,
    referenced: &dyn Fn(&str) -> bool,
) -> Result<Vec<Entry>, SnapshotError> {
    let mut out: Vec<Entry> = files(dir, ".snap")?
        .into_iter()
        .map(|(id, path)| Entry {
            status: if referenced(&id) {
                Status::Referenced
            } else {
                Status::Orphan
            },
            id,
            path,
        })
        .chain(
            files(dir, ".snap.new")?
                .into_iter()
                .map(|(id, path)| Entry {
                    id,
                    path,
                    status: Status::Pending,
                }),
        )
        .chain(files(dir, "")?.into_iter().filter_map(|(id, path)| {
            let (stem, tail) = id.rsplit_once(".tmp-")?;
            (tail.len() == 32 && tail.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Entry {
                id: stem.to_owned(),
                path,
                status: Status::Leftover,
            })
        }))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.path.cmp(&b.path)));
    Ok(out)
}

/// `(id, path)` of every file below `dir` whose name ends in `suffix`, sorted by id; none
/// when `dir` does not exist.
fn files(dir: &Path, suffix: &str) -> Result<Vec<(String, PathBuf)>, SnapshotError> {
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, suffix, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    suffix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Update {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        // Symbolic links are not followed (a link loop would never end).
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(root, &path, suffix, out)?;
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if let Some(id) = rel.strip_suffix(suffix) {
            out.push((id.to_owned(), path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::check::{Mode, Target, check};
    use super::*;

    #[test]
    fn pending_snapshots_are_listed_accepted_and_rejected() {
        let root = std::env::temp_dir().join(format!("sockspec-store-{}", uuid::Uuid::new_v4()));
        let dir = root.join("snapshots");
        for id in ["auth/a", "auth/b", "other", "other@staging"] {
            let input = root.join(format!("scenarios/{id}.yaml"));
            let t = Target {
                root: &root,
                dir: &dir,
                id,
                input: &input,
                description: id,
                environment: "local",
            };
            check(t, &format!("scenario: {id}\n"), Mode::Compare).unwrap();
        }
        let all = pending(&dir).unwrap();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["auth/a", "auth/b", "other", "other@staging"]);
        assert!(all[0].diff().contains("+scenario: auth/a"));

        assert_eq!(
            accept(&dir, &[Filter::Dir("auth".into())]).unwrap(),
            ["auth/a", "auth/b"]
        );
        assert_eq!(
            accept(&dir, &[Filter::Id("oth".into())]).unwrap(),
            Vec::<String>::new()
        );
        let prod = Filter::Trial {
            environment: "prod".into(),
            id: "other".into(),
        };
        assert!(prod.matches("other") && !prod.matches("other@staging"));
        assert_eq!(
            reject(&dir, &[Filter::Id("other".into())]).unwrap(),
            ["other", "other@staging"]
        );
        assert!(pending(&dir).unwrap().is_empty());
        assert!(dir.join("auth/a.snap").exists() && !dir.join("other.snap").exists());

        std::fs::write(dir.join("gone.snap"), "---\n---\nx\n").unwrap();
        std::fs::write(
            dir.join("auth/a.snap.tmp-0123456789abcdef0123456789abcdef"),
            "half",
        )
        .unwrap();
        let listed = entries(&dir, &|id| id.starts_with("auth/")).unwrap();
        let statuses: Vec<(&str, Status)> =
            listed.iter().map(|e| (e.id.as_str(), e.status)).collect();
        assert_eq!(
            statuses,
            [
                ("auth/a", Status::Referenced),
                ("auth/a.snap", Status::Leftover),
                ("auth/b", Status::Referenced),
                ("gone", Status::Orphan)
            ]
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
