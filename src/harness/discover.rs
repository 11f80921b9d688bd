//! Owns finding scenario files: every `*.yaml` below the scenario root, as ids
//! (`auth/valid_jwt`), sorted; and the reverse, from a trial name to its one file, so a
//! process started with `--exact local::auth/valid_jwt` reads one file, not the suite.

use std::path::{Path, PathBuf};

/// Directories whose files are not examples (they are checked by their own tests).
pub const EXCLUDED_DIRS: [&str; 2] = ["invalid", "failing"];

/// `(id, path)` of every scenario below `root`, sorted by id.
pub fn discover(root: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let excluded = dir == root
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| EXCLUDED_DIRS.contains(&n));
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
pub fn display_path(path: &Path) -> PathBuf {
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
pub fn from_trial_name(root: &Path, name: &str) -> Option<(String, String, PathBuf)> {
    let (env, id) = name.split_once("::")?;
    if id.is_empty() || id.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
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
    }
}
