//! Owns the golden corpus of bad input: one trial per file in `scenarios/invalid/`, named
//! `invalid::<name>`, which loads the file, requires it to be rejected, and compares the
//! rendered diagnostics with `snapshots/invalid/<name>.snap`. The fragments of the corpus
//! (`scenarios/invalid/_shared/`, broken on purpose) are no trials: they are reported through
//! the files that include them.

use std::path::Path;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

use super::discover::{discover, display_path};
use super::snapshot::compare;
use crate::diagnostic::Diagnostic;
use crate::environment::Config;
use crate::report::snapshot::{Mode, Target};
use crate::scenario::{self, FRAGMENT_DIR};

/// Entry point of `tests/diagnostics.rs`.
pub fn diagnostics_main(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    let config = match Config::load(root) {
        Ok(c) => c,
        Err(d) => {
            d.eprint();
            return ExitCode::from(crate::exit::BAD_SELECTION);
        }
    };
    let dir = config.scenarios_dir.join("invalid");
    let files = match discover(&dir) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            Diagnostic::bare(format!(
                "no files in {}: the invalid corpus must not be empty",
                dir.display()
            ))
            .eprint();
            return ExitCode::from(crate::exit::BAD_SELECTION);
        }
        Err(e) => {
            Diagnostic::bare(format!("cannot read {}: {e}", dir.display())).eprint();
            return ExitCode::from(crate::exit::BAD_SELECTION);
        }
    };
    let snapshots = config.snapshots_dir.clone();
    let root = config.root.clone();
    let trials = files
        .into_iter()
        .map(|(id, path)| {
            let snapshots = snapshots.clone();
            let root = root.clone();
            Trial::test(format!("invalid::{id}"), move || {
                check_one(&root, &snapshots, &id, &path)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

fn check_one(root: &Path, snapshots: &Path, id: &str, path: &Path) -> Result<(), Failed> {
    let path = display_path(path);
    let rendered = match scenario::load(&path, &format!("invalid/{id}")) {
        Ok(_) => {
            return Err(format!(
                "{} was accepted, but every file in scenarios/invalid/ must be rejected",
                path.display()
            )
            .into());
        }
        Err(ds) => ds.iter().map(|d| d.render()).collect::<Vec<_>>().join("\n"),
    };
    // The scenario's file, or a fragment it includes (from `invalid/_shared/` or above).
    let first = rendered.lines().nth(1).unwrap_or_default();
    if !first.contains(&format!("{}:", path.display()))
        && !first.contains(&format!("{FRAGMENT_DIR}/"))
    {
        return Err(format!("the diagnostic does not name file:line:column:\n{rendered}").into());
    }
    compare(
        Target {
            root,
            dir: snapshots,
            id: &format!("invalid/{id}"),
            input: &path,
            description: "diagnostic",
            environment: "",
        },
        &rendered,
        Mode::from_env(),
    )
    .map_err(|m| Failed::from(m.message))
}
