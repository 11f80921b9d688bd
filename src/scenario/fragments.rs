//! Owns shared fragments: files in `_shared/` directories holding top-level keys that many
//! scenarios need (auth, an ignore list, setup and teardown, variables), included by name
//! (`include: [qa_user]`). This module finds and parses them — each with its own file name and
//! text, so positions point into the fragment — detects cycles, and merges the scenario's keys
//! with theirs into the [`Merged`] view `validate` reads, every piece tagged with the file it
//! comes from (its origin: 0 the scenario, `n` the `n`-th [`Fragment`]).
//!
//! Lookup: a name (`qa_user`, `auth/qa_user`) is `_shared/<name>.yaml` in the includer's
//! directory or the nearest directory above it, up to the scenario root, that has one (the
//! includer of a nested include is the directory holding the fragment's `_shared/`). Merge
//! order: the included fragments in the order listed (each one's own includes first), then
//! the scenario; docs/scenario-format.md ("Shared fragments") states the rule for each key.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::load::parse_yaml;
use super::raw::*;
use super::validate::pos;
use crate::diagnostic::{Diagnostic, Pos, did_you_mean};
use crate::server_options::ServerOptions;

/// The directory fragments live in (at any level of the scenario tree); never scenarios.
pub const FRAGMENT_DIR: &str = "_shared";

/// A fragment name: `/`-separated segments of letters, digits, `_`, `-` and `.`, none starting
/// with `.` (so no `..`), without `.yaml`. The schema's pattern; [`valid_name`] checks the same.
pub(super) const NAME_PATTERN: &str =
    "^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$";

/// The largest fragment file read (a scenario's shared keys, not data).
const MAX_FRAGMENT_BYTES: u64 = 1 << 20;

/// How many fragment names an "unknown fragment" report lists.
const LISTED_NAMES: usize = 30;

/// Keys a scenario has and a fragment has not: they describe one scenario.
const SCENARIO_ONLY_KEYS: [&str; 4] = ["name", "description", "environments", "overrides"];

/// One fragment a scenario includes: what positions with its origin point into.
#[derive(Debug, Clone)]
pub struct Fragment {
    /// The name it is included by (`qa_user`).
    pub name: String,
    /// The file (below the project root when the scenario's path is).
    pub file: PathBuf,
    /// The file's text, for excerpts in reports.
    pub source: Arc<str>,
    /// Where it is included, innermost first (`fragment `qa_user` is included at
    /// scenarios/x.yaml:3:11`): notes for every report pointing into it.
    pub included: Vec<String>,
}

/// A scenario's fragments, loaded: the files (origin `n` is `fragments[n - 1]`) and their
/// keys in the order they apply (a fragment's own includes before it).
#[derive(Debug, Default)]
pub(super) struct Included {
    pub fragments: Vec<Fragment>,
    pub layers: Vec<(u32, RawFragment)>,
}

/// Whether `name` may name a fragment (see [`NAME_PATTERN`]).
fn valid_name(name: &str) -> bool {
    name.split('/').all(|segment| {
        let mut chars = segment.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

/// Loads the fragments `include` names, and theirs. `file` is the scenario, `id` its path below
/// the scenario root without `.yaml` (the root is as many directories above the file as the id
/// has parts). Every problem is a located diagnostic; nothing is read without an `include`.
pub(super) fn resolve(
    include: &[S<String>],
    file: &Path,
    id: &str,
    source: &Arc<str>,
) -> Result<Included, Vec<Diagnostic>> {
    if include.is_empty() {
        return Ok(Included::default());
    }
    let home = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let root = file
        .ancestors()
        .nth(id.split('/').count())
        .unwrap_or(&home)
        .to_path_buf();
    let mut loader = Loader {
        root,
        included: Included::default(),
        files: Vec::new(),
        errors: Vec::new(),
    };
    let scenario = Includer {
        file: file.to_path_buf(),
        source: source.clone(),
        home,
        notes: Vec::new(),
    };
    loader.include(&scenario, include, &mut Vec::new());
    if loader.errors.is_empty() {
        Ok(loader.included)
    } else {
        Err(loader.errors)
    }
}

/// A file whose `include:` is being read: the scenario, or a fragment.
struct Includer {
    file: PathBuf,
    source: Arc<str>,
    /// The directory names are looked up from.
    home: PathBuf,
    /// Where it is included, innermost first (none for the scenario).
    notes: Vec<String>,
}

struct Loader {
    root: PathBuf,
    included: Included,
    /// Each fragment file read so far, by path (index = origin - 1).
    files: Vec<PathBuf>,
    errors: Vec<Diagnostic>,
}

impl Loader {
    /// Loads each name of `include` (written in `by`), depth first; `stack` holds the files
    /// being loaded, outermost first, to name a cycle.
    fn include(
        &mut self,
        by: &Includer,
        include: &[S<String>],
        stack: &mut Vec<(PathBuf, String)>,
    ) {
        let mut seen = BTreeSet::new();
        for (i, entry) in include.iter().enumerate() {
            let name = entry.value.as_str();
            let at = pos(entry);
            let field = format!("include[{i}]");
            if !seen.insert(name) {
                self.error(
                    by,
                    at,
                    &field,
                    format!("fragment `{name}` is included twice"),
                )
                .help = Some("remove the second entry".into());
                continue;
            }
            if !valid_name(name) {
                self.error(by, at, &field, format!("`{name}` is not a fragment name"))
                    .help = Some(format!(
                    "a fragment is named by its path below `{FRAGMENT_DIR}/` without `.yaml`: \
                     letters, digits, `_`, `-` and `.`, parts separated by `/` (`qa_user`, \
                     `auth/qa_user`)"
                ));
                continue;
            }
            let dirs = self.lookup_dirs(&by.home);
            let Some(path) = dirs
                .iter()
                .map(|d| d.join(format!("{name}.yaml")))
                .find(|p| p.is_file())
            else {
                self.unknown(by, at, &field, name, &dirs);
                continue;
            };
            if let Some(start) = stack.iter().position(|(p, _)| *p == path) {
                let cycle: Vec<String> = stack[start..]
                    .iter()
                    .map(|(_, n)| format!("`{n}`"))
                    .chain([format!("`{name}`")])
                    .collect();
                self.error(
                    by,
                    at,
                    &field,
                    format!("fragment `{name}` includes itself: {}", cycle.join(" → ")),
                )
                .help = Some("remove one of these includes".into());
                continue;
            }
            if self.files.contains(&path) {
                // Reached again through another fragment: applied once, where first reached.
                continue;
            }
            self.load(by, at, &field, name, path, stack);
        }
    }

    /// Reads, parses and includes one fragment file, then adds its keys as a layer.
    fn load(
        &mut self,
        by: &Includer,
        at: Pos,
        field: &str,
        name: &str,
        path: PathBuf,
        stack: &mut Vec<(PathBuf, String)>,
    ) {
        self.files.push(path.clone());
        let origin = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        let mut notes = vec![format!(
            "note: fragment `{name}` is included at {}:{}:{}",
            by.file.display(),
            at.line,
            at.column
        )];
        notes.extend(by.notes.iter().cloned());
        let read = read_bounded(&path);
        let text = read.as_deref().unwrap_or_default();
        let source: Arc<str> = Arc::from(text);
        // Pushed even when unreadable, so that origins stay the indices of `files`.
        self.included.fragments.push(Fragment {
            name: name.to_string(),
            file: path.clone(),
            source: source.clone(),
            included: notes.clone(),
        });
        if let Err(e) = read {
            self.error(by, at, field, format!("cannot read fragment `{name}`: {e}"))
                .help = Some(format!("check {} and its permissions", path.display()));
            return;
        }
        let with_notes = |mut d: Diagnostic| {
            d.notes.extend(notes.iter().cloned());
            d
        };
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            self.errors.push(with_notes(
                Diagnostic::new("fragment file is empty", &path)
                    .with_source(source)
                    .at(Pos::new(1, 1))
                    .with_help("write the shared keys here, or remove the include"),
            ));
            return;
        }
        let raw: RawFragment = match parse_yaml(text, &path, &source) {
            Ok(r) => r,
            Err(mut d) => {
                if let Some(key) = SCENARIO_ONLY_KEYS
                    .iter()
                    .find(|k| d.message.starts_with(&format!("unknown field `{k}`")))
                {
                    d.help = Some(format!(
                        "`{key}` belongs to the scenarios that include the fragment: a fragment \
                         holds only keys they share"
                    ));
                }
                self.errors.push(with_notes(d));
                return;
            }
        };
        // Nested names are looked up from the directory holding this `_shared/`.
        let home = path
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == FRAGMENT_DIR))
            .and_then(Path::parent)
            .unwrap_or(&by.home)
            .to_path_buf();
        let me = Includer {
            file: path.clone(),
            source,
            home,
            notes,
        };
        stack.push((path, name.to_string()));
        self.include(&me, &raw.include, stack);
        stack.pop();
        self.included.layers.push((origin, raw));
    }

    /// The `_shared/` directories visible from `home`, nearest first, up to the root.
    fn lookup_dirs(&self, home: &Path) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for dir in home.ancestors() {
            dirs.push(dir.join(FRAGMENT_DIR));
            if dir == self.root {
                return dirs;
            }
        }
        // The file does not lie below the root its id gives: its own directory only.
        dirs.truncate(1);
        dirs
    }

    fn unknown(&mut self, by: &Includer, at: Pos, field: &str, name: &str, dirs: &[PathBuf]) {
        let known = fragment_names(dirs);
        let hint = did_you_mean(name, known.iter().map(String::as_str)).map(str::to_string);
        let looked: Vec<String> = dirs
            .iter()
            .map(|d| format!("{}", d.join(format!("{name}.yaml")).display()))
            .collect();
        let listed = if known.is_empty() {
            "fragments: none".to_string()
        } else {
            let mut names: Vec<String> = known
                .iter()
                .take(LISTED_NAMES)
                .map(|k| format!("`{k}`"))
                .collect();
            if known.len() > LISTED_NAMES {
                names.push(format!("and {} more", known.len() - LISTED_NAMES));
            }
            format!("fragments: {}", names.join(", "))
        };
        let create = dirs.last().map_or_else(
            || format!("{FRAGMENT_DIR}/{name}.yaml"),
            |d| d.join(format!("{name}.yaml")).display().to_string(),
        );
        let d = self.error(by, at, field, format!("unknown fragment `{name}`"));
        d.notes.push(format!("looked for: {}", looked.join(", ")));
        d.notes.push(listed);
        d.help = Some(match (hint, name.strip_suffix(".yaml")) {
            (_, Some(stem)) => format!("name the fragment without `.yaml`: `{stem}`"),
            (Some(h), None) => format!("did you mean `{h}`?"),
            (None, None) => format!("create {create}, or include one of the fragments listed"),
        });
    }

    /// A problem in `by`'s file (its `include:`), with the notes saying where `by` is included.
    fn error(
        &mut self,
        by: &Includer,
        at: Pos,
        field: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let mut d = Diagnostic::new(message, &by.file)
            .with_source(by.source.clone())
            .at(at)
            .with_field(field);
        d.notes.extend(by.notes.iter().cloned());
        self.errors.push(d);
        self.errors.last_mut().expect("just pushed")
    }
}

/// Reads a fragment file, refusing what is not a regular file or is larger than
/// [`MAX_FRAGMENT_BYTES`] (a read never blocks on a pipe or fills memory).
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_FRAGMENT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FRAGMENT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB",
            MAX_FRAGMENT_BYTES / 1024
        )));
    }
    Ok(text)
}

/// The fragment names found in `dirs` (`*.yaml` below each, without the extension), sorted.
fn fragment_names(dirs: &[PathBuf]) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, depth: usize, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && depth < 8 {
                walk(base, &path, depth + 1, out);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && let Ok(rel) = path.with_extension("").strip_prefix(base)
            {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(parts.join("/"));
            }
        }
    }
    let mut names = BTreeSet::new();
    for dir in dirs {
        walk(dir, dir, 0, &mut names);
    }
    names.into_iter().collect()
}

/// A piece of the merged scenario with the file it comes from and its index in that file's
/// list (for field paths such as `setup[0]`, which name the place in that file).
#[derive(Debug, Clone, Copy)]
pub(super) struct Sourced<'r, T> {
    pub origin: u32,
    pub index: usize,
    pub item: &'r T,
}

/// The scenario with its fragments merged in: what `validate` reads (identity keys — `name`,
/// `description`, `environments`, `overrides` — are the scenario's own and read from it).
pub(super) struct Merged<'r> {
    pub tags: Vec<String>,
    pub vars: Vec<Sourced<'r, (S<String>, S<Value>)>>,
    pub auth: Option<Sourced<'r, S<RawAuth>>>,
    pub connect: Option<Sourced<'r, RawConnect>>,
    pub handshake: Option<Sourced<'r, S<RawHandshake>>>,
    pub setup: Vec<Sourced<'r, S<RawStep>>>,
    pub steps: Vec<Sourced<'r, S<RawStep>>>,
    pub teardown: Vec<Sourced<'r, S<RawStep>>>,
    pub redact: Vec<String>,
    pub ignore: Vec<Sourced<'r, Option<S<Value>>>>,
    pub unclaimed: Option<RawUnclaimed>,
    pub reference_server: Option<Sourced<'r, S<ServerOptions>>>,
}

/// The mergeable keys of one layer (a fragment or the scenario), borrowed.
struct Keys<'r> {
    origin: u32,
    tags: &'r [String],
    vars: &'r RawVars,
    auth: &'r Option<S<RawAuth>>,
    connect: &'r Option<RawConnect>,
    handshake: &'r Option<S<RawHandshake>>,
    setup: &'r [S<RawStep>],
    steps: &'r [S<RawStep>],
    teardown: &'r [S<RawStep>],
    redact: &'r [S<String>],
    ignore: &'r Option<S<Value>>,
    unclaimed: &'r Option<S<RawUnclaimed>>,
    reference_server: &'r Option<S<ServerOptions>>,
}

impl<'r> Keys<'r> {
    fn of_fragment(origin: u32, f: &'r RawFragment) -> Self {
        Keys {
            origin,
            tags: &f.tags,
            vars: &f.vars,
            auth: &f.auth,
            connect: &f.connect,
            handshake: &f.handshake,
            setup: &f.setup,
            steps: &f.steps,
            teardown: &f.teardown,
            redact: &f.redact,
            ignore: &f.ignore,
            unclaimed: &f.unclaimed,
            reference_server: &f.reference_server,
        }
    }

    fn of_scenario(s: &'r RawScenario) -> Self {
        Keys {
            origin: 0,
            tags: &s.tags,
            vars: &s.vars,
            auth: &s.auth,
            connect: &s.connect,
            handshake: &s.handshake,
            setup: &s.setup,
            steps: &s.steps,
            teardown: &s.teardown,
            redact: &s.redact,
            ignore: &s.ignore,
            unclaimed: &s.unclaimed,
            reference_server: &s.reference_server,
        }
    }
}

/// Every item of `list`, from `origin`, with its index there.
fn sourced<T>(origin: u32, list: &[T]) -> impl Iterator<Item = Sourced<'_, T>> {
    list.iter().enumerate().map(move |(index, item)| Sourced {
        origin,
        index,
        item,
    })
}

/// A key a layer writes or not, from `origin`.
fn one<T>(origin: u32, key: &Option<T>) -> Option<Sourced<'_, T>> {
    key.as_ref().map(|item| Sourced {
        origin,
        index: 0,
        item,
    })
}

/// Merges the fragments' layers (in order) and the scenario (last):
/// - `vars`: by name, in order; a name assigned again by a later layer keeps its first place
///   and takes the later value (a fragment's default that the scenario replaces);
/// - `setup`, `steps`, `ignore`, `redact` and `tags`: joined in order (the scenario's last;
///   duplicate tags and redact paths once);
/// - `teardown`: the scenario's first, then the fragments' in reverse order (the last set up,
///   the first torn down);
/// - `auth`, `connect`, `handshake`, `unclaimed`, `reference_server`: the last layer that
///   writes the key wins, whole.
pub(super) fn merge<'r>(layers: &'r [(u32, RawFragment)], scenario: &'r RawScenario) -> Merged<'r> {
    let all: Vec<Keys<'r>> = layers
        .iter()
        .map(|(origin, f)| Keys::of_fragment(*origin, f))
        .chain([Keys::of_scenario(scenario)])
        .collect();
    let mut m = Merged {
        tags: Vec::new(),
        vars: Vec::new(),
        auth: None,
        connect: None,
        handshake: None,
        setup: Vec::new(),
        steps: Vec::new(),
        teardown: Vec::new(),
        redact: Vec::new(),
        ignore: Vec::new(),
        unclaimed: None,
        reference_server: None,
    };
    for k in &all {
        let o = k.origin;
        for t in k.tags {
            if !m.tags.contains(t) {
                m.tags.push(t.clone());
            }
        }
        for entry in sourced(o, &k.vars.0) {
            let name = &entry.item.0.value;
            match m
                .vars
                .iter_mut()
                .find(|v| v.origin != o && v.item.0.value == *name)
            {
                Some(slot) => *slot = entry,
                None => m.vars.push(entry),
            }
        }
        m.auth = one(o, k.auth).or(m.auth);
        m.connect = one(o, k.connect).or(m.connect);
        m.handshake = one(o, k.handshake).or(m.handshake);
        m.reference_server = one(o, k.reference_server).or(m.reference_server);
        if let Some(u) = k.unclaimed {
            m.unclaimed = Some(u.value);
        }
        m.setup.extend(sourced(o, k.setup));
        m.steps.extend(sourced(o, k.steps));
        for r in k.redact {
            if !m.redact.contains(&r.value) {
                m.redact.push(r.value.clone());
            }
        }
        if k.ignore.is_some() {
            m.ignore.push(Sourced {
                origin: o,
                index: 0,
                item: k.ignore,
            });
        }
    }
    for k in all.iter().rev() {
        m.teardown.extend(sourced(k.origin, k.teardown));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_paths_below_shared_without_escapes() {
        for ok in ["qa_user", "auth/qa_user", "v1.2", "a-b/c_d", "_x"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "", "../x", "a//b", "/a", "a/", ".hidden", "a b", "a\\b", "é",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        let pattern = regex::Regex::new(NAME_PATTERN).expect("pattern");
        for name in ["qa_user", "auth/qa_user", "../x", "a//b", ".hidden", "a b"] {
            assert_eq!(pattern.is_match(name), valid_name(name), "{name}");
        }
    }
}
