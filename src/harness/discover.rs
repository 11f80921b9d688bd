//! Owns finding scenario files: every `*.yaml` below the scenario root, as ids
//! (`auth/valid_jwt`), sorted; and the reverse, from a trial name to its one file, so a
//! process started with `--exact local::auth/valid_jwt` reads one file, not the suite.
//!
//! Fragments (files in a `_shared/` directory, at any depth: `scenario::FRAGMENT_DIR`) are
//! parts of scenarios, not scenarios: the scan skips them.
//!
//! The fast path selects what the full scan would: a name outside the scan (a file of
//! `invalid/`, `failing/` or a `_shared/` directory, a path that escapes the root) points at no
//! file. It stays on
//! with `--skip` (datatest-stable turns its fast path off then): libtest-mimic applies the
//! skip filters to the trials built from the one file, as it would to the full list.
//!
//! `SOCKSPEC_FULL_SCAN_FORBIDDEN=1` ([`FULL_SCAN_FORBIDDEN_VAR`]) makes a full scan
//! ([`discover`]) panic, like datatest-stable's `__DATATEST_FULL_SCAN_FORBIDDEN`: set on a
//! `scenarios` harness process that runs one trial by `--exact NAME`, it proves the fast path
//! read that one file (`tests/integration/exact_fast_path.rs` does so for every trial). Not
//! for a process that lists trials or runs a filter, nor for the `diagnostics` and `failing`
//! harnesses: those scan.

use std::path::{Path, PathBuf};

use crate::scenario::FRAGMENT_DIR;

/// Directories whose files are not examples (they are checked by their own tests).
pub const EXCLUDED_DIRS: [&str; 2] = ["invalid", "failing"];

/// Set to `1`, a full scan panics (see the module documentation).
pub const FULL_SCAN_FORBIDDEN_VAR: &str = "SOCKSPEC_FULL_SCAN_FORBIDDEN";

/// `(id, path)` of every scenario below `root`, sorted by id.
///
/// # Panics
///
/// When [`FULL_SCAN_FORBIDDEN_VAR`] is `1`.
pub fn discover(root: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    assert!(
        std::env::var(FULL_SCAN_FORBIDDEN_VAR).as_deref() != Ok("1"),
        "a full scan of {} while {FULL_SCAN_FORBIDDEN_VAR}=1: this process was to read one scenario file",
        root.display()
    );
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str());
            let excluded = name == Some(FRAGMENT_DIR)
                || (dir == root && name.is_some_and(|n| EXCLUDED_DIRS.contains(&n)));
            if !excluded {
                walk(root, &path, out)?;
            }
        } else if let Some(id) = id_of(root, &path) {
            out.push((id, display_path(&path)));
        }
    }
    Ok(())
}

/// `path` relative to the working directory when it lies below it, for shorter messages.
pub(crate) fn display_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The id of a scenario file: its path below `root` without `.yaml`, `/`-separated.
pub fn id_of(root: &Path, path: &Path) -> Option<String> {
    if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
        return None;
    }
    let rel = path.strip_prefix(root).ok()?.with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The file a trial name points at: `local::auth/valid_jwt` → `(local, auth/valid_jwt, path)`.
pub(crate) fn from_trial_name(root: &Path, name: &str) -> Option<(String, String, PathBuf)> {
    let (env, id) = name.split_once("::")?;
    if id.is_empty() || id.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
        return None;
    }
    // The directories the scan leaves out (at the root only, as the scan does), and fragments
    // (at any depth).
    if id
        .split_once('/')
        .is_some_and(|(first, _)| EXCLUDED_DIRS.contains(&first))
        || id.split('/').any(|p| p == FRAGMENT_DIR)
    {
        return None;
    }
    let path = root.join(format!("{id}.yaml"));
    path.is_file()
        .then(|| (env.to_string(), id.to_string(), display_path(&path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_escapes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let all = discover(&root).expect("scenarios dir");
        assert!(!all.is_empty());
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        let (id, _) = &all[0];
        let (env, back, _) = from_trial_name(&root, &format!("local::{id}")).expect("found");
        assert_eq!((env.as_str(), back.as_str()), ("local", id.as_str()));
        assert!(from_trial_name(&root, "local::../Cargo").is_none());
        assert!(from_trial_name(&root, "local::nope/none").is_none());
        assert!(all.iter().all(|(id, _)| !id.starts_with("invalid/")));
        // Fragments are no scenarios, and no trials.
        assert!(
            all.iter()
                .all(|(id, _)| !id.split('/').any(|p| p == FRAGMENT_DIR))
        );
        let fragment = std::fs::read_dir(root.join(FRAGMENT_DIR))
            .expect("scenarios/_shared")
            .find_map(|e| id_of(&root.join(FRAGMENT_DIR), &e.ok()?.path()))
            .expect("a fragment in scenarios/_shared");
        assert!(from_trial_name(&root, &format!("local::{FRAGMENT_DIR}/{fragment}")).is_none());
        assert!(from_trial_name(&root, "local::invalid/_shared/x").is_none());
        // A file the scan leaves out is no trial either.
        for dir in EXCLUDED_DIRS {
            let file = std::fs::read_dir(root.join(dir))
                .expect("excluded dir")
                .filter_map(|e| id_of(&root.join(dir), &e.ok()?.path()))
                .next()
                .expect("a scenario in the excluded dir");
            assert!(root.join(dir).join(format!("{file}.yaml")).is_file());
            assert!(from_trial_name(&root, &format!("local::{dir}/{file}")).is_none());
        }
    }
}
