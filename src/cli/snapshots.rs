//! Owns the snapshot commands, which need no cargo: `review` (each pending snapshot's diff,
//! then accept / reject / skip, answered on standard input), `accept` and `reject` (by
//! filter, all without one), and `snapshots [--check]` (every snapshot's status; with
//! `--check`, orphan or pending snapshots fail the command, for CI).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::support::{self, existing_path};
use crate::diagnostic::Diagnostic;
use crate::environment::Config;
use crate::exit;
use crate::report::snapshot::{self, Filter, Pending, SnapshotError, Status};

#[derive(Debug, clap::Args)]
pub(crate) struct FilterArgs {
    /// Which pending snapshots: an id (`auth/valid_jwt`), a directory of ids (`auth/`), a
    /// trial name (`local::auth/valid_jwt`), or a scenario or snapshot file; none selects
    /// every pending snapshot.
    #[arg(value_name = "FILTER")]
    filters: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SnapshotsArgs {
    /// Print only the problems (orphan and pending snapshots) and fail when there is one.
    #[arg(long)]
    check: bool,
}

/// What the snapshot commands do with a pending snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Act {
    Accept,
    Reject,
}

/// `sockspec accept` / `sockspec reject`.
pub(super) fn act(root: &Path, args: &FilterArgs, act: Act) -> u8 {
    let (config, filters) = match setup(root, args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let dir = &config.snapshots_dir;
    let done = match act {
        Act::Accept => snapshot::accept(dir, &filters),
        Act::Reject => snapshot::reject(dir, &filters),
    };
    let (verb, done) = match (act, done) {
        (_, Err(e)) => return failed(&e),
        (Act::Accept, Ok(d)) => ("accepted", d),
        (Act::Reject, Ok(d)) => ("rejected", d),
    };
    if done.is_empty() {
        if filters.is_empty() {
            println!("no pending snapshots in {}", shown_in(root, dir));
            return exit::SUCCESS;
        }
        Diagnostic::bare(format!(
            "no pending snapshot matches {} (pending ones are listed by `sockspec snapshots`)",
            args.filters.join(", ")
        ))
        .eprint();
        return exit::BAD_SELECTION;
    }
    for id in &done {
        println!("{verb} {id}");
    }
    println!("{verb} {} snapshot(s)", done.len());
    exit::SUCCESS
}

/// `sockspec review`: each selected pending snapshot's diff, then a question answered on
/// standard input (`a`ccept, `r`eject, `s`kip, `q`uit); at the end of the input the rest
/// stays pending.
pub(super) fn review(root: &Path, args: &FilterArgs) -> u8 {
    let (config, filters) = match setup(root, args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let pending: Vec<Pending> = match snapshot::pending(&config.snapshots_dir) {
        Ok(p) => p.into_iter().filter(|p| p.selected_by(&filters)).collect(),
        Err(e) => return failed(&e),
    };
    if pending.is_empty() {
        println!(
            "no pending snapshots{} in {}",
            if filters.is_empty() {
                String::new()
            } else {
                format!(" matching {}", args.filters.join(", "))
            },
            shown_in(root, &config.snapshots_dir)
        );
        return exit::SUCCESS;
    }
    let color = std::io::stdout().is_terminal();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut counts = [0usize; 3];
    let total = pending.len();
    for (i, p) in pending.iter().enumerate() {
        print_pending(p, i + 1, total, color);
        let answer = loop {
            print!("accept (a), reject (r), skip (s), quit (q)? ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => break None,
                Ok(_) => {}
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "a" | "accept" => break Some(Answer::Accept),
                "r" | "reject" => break Some(Answer::Reject),
                "s" | "skip" | "" => break Some(Answer::Skip),
                "q" | "quit" => break None,
                other => println!("`{other}`: answer a, r, s or q"),
            }
        };
        let result = match answer {
            None => {
                println!();
                break;
            }
            Some(Answer::Accept) => p.accept().map(|()| 0),
            Some(Answer::Reject) => p.reject().map(|()| 1),
            Some(Answer::Skip) => Ok(2),
        };
        match result {
            Ok(k) => counts[k] += 1,
            Err(e) => return failed(&e),
        }
    }
    let left = total - counts[0] - counts[1];
    println!(
        "accepted {}, rejected {}, {left} still pending{}",
        counts[0],
        counts[1],
        if left > 0 {
            " (`sockspec review` again, or `sockspec accept`)"
        } else {
            ""
        }
    );
    exit::SUCCESS
}

/// An answer to `review`'s question.
enum Answer {
    Accept,
    Reject,
    Skip,
}

fn print_pending(p: &Pending, n: usize, total: usize, color: bool) {
    let kind = if p.old.is_some() { "changed" } else { "new" };
    let file = p
        .input_file
        .as_deref()
        .map(|f| format!(" — {f}"))
        .unwrap_or_default();
    println!("── {n} of {total}: {} ({kind}){file}", p.id);
    for line in p.diff().lines() {
        let paint = match line.as_bytes().first() {
            _ if !color => None,
            Some(b'+') if !line.starts_with("+++") => Some("32"),
            Some(b'-') if !line.starts_with("---") => Some("31"),
            Some(b'@') => Some("36"),
            _ => None,
        };
        match paint {
            Some(code) => println!("\x1b[{code}m{line}\x1b[0m"),
            None => println!("{line}"),
        }
    }
}

/// `sockspec snapshots [--check]`.
pub(super) fn list(root: &Path, args: &SnapshotsArgs) -> u8 {
    let Some(config) = config(root) else {
        return exit::BAD_SELECTION;
    };
    let referenced = |id: &str| referenced(&config, id);
    let entries = match snapshot::entries(&config.snapshots_dir, &referenced) {
        Ok(e) => e,
        Err(e) => return failed(&e),
    };
    let mut problems = 0;
    for e in &entries {
        let path = shown_in(root, &e.path);
        let line = match e.status {
            Status::Referenced if args.check => continue,
            Status::Referenced => format!("ok       {}", e.id),
            Status::Orphan => format!(
                "orphan   {} (no scenario makes it any more: delete {path})",
                e.id
            ),
            Status::Pending => format!(
                "pending  {} (review it: `sockspec review {}`, or delete {path})",
                e.id, e.id
            ),
            Status::Leftover => {
                format!("leftover {path} (a write that was interrupted: delete it)")
            }
        };
        if e.status != Status::Referenced {
            problems += 1;
        }
        println!("{line}");
    }
    let total = entries
        .iter()
        .filter(|e| matches!(e.status, Status::Referenced | Status::Orphan))
        .count();
    println!(
        "{total} snapshot(s) in {}, {problems} problem(s)",
        shown_in(root, &config.snapshots_dir)
    );
    if args.check && problems > 0 {
        exit::SNAPSHOT_PROBLEMS
    } else {
        exit::SUCCESS
    }
}

/// Whether a scenario makes snapshot `id`: `<scenario id>`, or `<scenario id>@<environment>`
/// when that scenario overrides that environment.
fn referenced(config: &Config, id: &str) -> bool {
    let (base, environment) = match id.split_once('@') {
        Some((b, e)) => (b, Some(e)),
        None => (id, None),
    };
    let file = config.scenarios_dir.join(format!("{base}.yaml"));
    if !file.is_file() {
        return false;
    }
    match environment {
        None => true,
        Some(env) => match crate::scenario::load(&file, base) {
            Ok(plan) => plan.overrides.contains_key(env),
            // An invalid scenario is `check`'s to report, not an orphan.
            Err(_) => true,
        },
    }
}

/// The filters as snapshot filters: a trial name (`staging::auth/x`) selects that trial's
/// snapshots, a scenario or snapshot file its id, a directory (of scenarios or snapshots) the
/// ids below it, anything else an id (`.yaml`, `.snap`, `.snap.new` dropped; a trailing `/`
/// makes it a directory). An empty filter, or a path outside both directories, is an error.
fn filters(root: &Path, config: &Config, args: &[String]) -> Result<Vec<Filter>, Diagnostic> {
    let dirs: Vec<PathBuf> = [&config.scenarios_dir, &config.snapshots_dir]
        .into_iter()
        .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
        .collect();
    let strip = |f: &str| -> String {
        [".snap.new", ".snap", ".yaml"]
            .iter()
            .fold(f.to_owned(), |f, s| {
                f.strip_suffix(s).map_or(f.clone(), str::to_owned)
            })
    };
    args.iter()
        .map(|arg| {
            let bad = |why: &str| {
                Diagnostic::bare(format!("`{arg}` selects no snapshot: {why}")).with_help(
                    "give a snapshot id (`auth/valid_jwt`), a directory of ids (`auth/`), a trial name (`local::auth/valid_jwt`) or a scenario file; none selects every pending snapshot",
                )
            };
            if let Some((environment, id)) = arg.split_once("::") {
                let id = strip(id.trim_matches('/'));
                if environment.is_empty() || id.is_empty() {
                    return Err(bad("a trial name is `<environment>::<id>`"));
                }
                return Ok(Filter::Trial {
                    environment: environment.to_owned(),
                    id,
                });
            }
            if let Some(abs) = existing_path(root, arg) {
                let Some(rel) = dirs.iter().find_map(|d| abs.strip_prefix(d).ok()) else {
                    return Err(bad("it is a path outside the scenario and snapshot directories"));
                };
                let id = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                return if abs.is_dir() {
                    Ok(Filter::Dir(id))
                } else if id.is_empty() {
                    Err(bad("it is empty"))
                } else {
                    Ok(Filter::Id(strip(&id)))
                };
            }
            let id = strip(arg.trim_start_matches("./"));
            match id.strip_suffix('/') {
                _ if id.trim_matches('/').is_empty() => Err(bad("it is empty")),
                Some(dir) => Ok(Filter::Dir(dir.trim_end_matches('/').to_owned())),
                None => Ok(Filter::Id(id)),
            }
        })
        .collect()
}

/// After `sockspec test`: how many snapshots wait for review, when any do.
pub(super) fn pending_note(root: &Path) -> Option<String> {
    let config = Config::load(root).ok()?;
    let n = snapshot::pending(&config.snapshots_dir).ok()?.len();
    (n > 0).then(|| {
        format!(
            "sockspec: {n} pending snapshot(s) in {}: `sockspec review` shows them, `sockspec accept` accepts them",
            shown_in(root, &config.snapshots_dir)
        )
    })
}

/// A path relative to the current directory when below it, else to the project root.
fn shown_in(root: &Path, path: &Path) -> String {
    snapshot::shown(path, Some(root))
}

/// The configuration and the filters of a command; `Err` holds its exit code (the problem is
/// printed).
fn setup(root: &Path, args: &FilterArgs) -> Result<(Config, Vec<Filter>), u8> {
    let config = config(root).ok_or(exit::BAD_SELECTION)?;
    let filters = filters(root, &config, &args.filters).map_err(|d| {
        d.eprint();
        exit::BAD_SELECTION
    })?;
    Ok((config, filters))
}

fn config(root: &Path) -> Option<Config> {
    support::load_config(root).map_err(|e| e.print()).ok()
}

fn failed(e: &SnapshotError) -> u8 {
    Diagnostic::bare(format!("failed: {e}")).eprint();
    exit::NOT_WRITTEN
}
