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

    /// Whether `filter` selects this snapshot: its id, a directory of ids (`auth`, `auth/`),
    /// or the id without its `@environment`. An empty filter list selects everything.
    pub(crate) fn selected_by(&self, filters: &[String]) -> bool {
        filters.is_empty() || filters.iter().any(|f| id_matches(&self.id, f))
    }
}

fn id_matches(id: &str, filter: &str) -> bool {
    let f = filter.trim_end_matches('/');
    f.is_empty()
        || id == f
        || id
            .strip_prefix(f)
            .is_some_and(|rest| rest.starts_with(['/', '@']))
}

/// Every pending snapshot below `dir`, sorted by id.
pub(crate) fn pending(dir: &Path) -> Result<Vec<Pending>, SnapshotError> {
    let mut out = Vec::new();
    for (id, path) in files(dir, ".snap.new")? {
        let snap = path.with_extension("");
        let new = SnapFile::read(&path)?.ok_or_else(|| SnapshotError::Update {
            path: path.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
        let old = SnapFile::read(&snap)?.map(|f| f.body);
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
pub(crate) fn accept(dir: &Path, filters: &[String]) -> Result<Vec<String>, SnapshotError> {
    act(dir, filters, Pending::accept)
}

/// Rejects (deletes) the pending snapshots `filters` select; returns their ids.
pub(crate) fn reject(dir: &Path, filters: &[String]) -> Result<Vec<String>, SnapshotError> {
    act(dir, filters, Pending::reject)
}

fn act(
    dir: &Path,
    filters: &[String],
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
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(root, &path, suffix, out)?;
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
            };
            check(t, &format!("scenario: {id}\n"), Mode::Compare).unwrap();
        }
        let all = pending(&dir).unwrap();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["auth/a", "auth/b", "other", "other@staging"]);
        assert!(all[0].diff().contains("+scenario: auth/a"));

        assert_eq!(
            accept(&dir, &["auth/".into()]).unwrap(),
            ["auth/a", "auth/b"]
        );
        assert_eq!(accept(&dir, &["oth".into()]).unwrap(), Vec::<String>::new());
        assert_eq!(
            reject(&dir, &["other".into()]).unwrap(),
            ["other", "other@staging"]
        );
        assert!(pending(&dir).unwrap().is_empty());
        assert!(dir.join("auth/a.snap").exists() && !dir.join("other.snap").exists());

        std::fs::write(dir.join("gone.snap"), "---\n---\nx\n").unwrap();
        let listed = entries(&dir, &|id| id.starts_with("auth/")).unwrap();
        let statuses: Vec<(&str, Status)> =
            listed.iter().map(|e| (e.id.as_str(), e.status)).collect();
        assert_eq!(
            statuses,
            [
                ("auth/a", Status::Referenced),
                ("auth/b", Status::Referenced),
                ("gone", Status::Orphan)
            ]
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
