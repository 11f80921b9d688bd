//! Owns executing the parsed command line: each subcommand, its output, its exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use libtest_mimic::Arguments;

use super::args::{Cli, Command};
use super::support::existing_path;
use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::harness::{Observer, build_trials};
use crate::report::{JunitFile, summary};

/// The `sockspec` binary: parses the command line, runs the command, returns its exit code (see [`crate::exit`]).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Test {
            filters,
            env,
            list,
            junit,
            jobs,
            repeat,
            until_fail,
        } => test(
            &cli.root,
            filters,
            env,
            list,
            junit.as_deref(),
            Rounds {
                jobs,
                repeat,
                until_fail,
            },
        ),
        Command::Check { paths, env } => {
            let env = env.or_else(|| std::env::var("SOCKSPEC_ENV").ok());
            super::check::check(&cli.root, &paths, env.as_deref())
        }
        Command::Serve(args) => serve(args),
        Command::Token(args) => super::token::run(&cli.root, &args),
        Command::Decode(args) => super::decode::run(&args),
        Command::Doctor(args) => super::doctor::run(&cli.root, &args),
        Command::New(args) => super::new::run(&cli.root, &args),
        Command::Schema { fragment } => super::schema::run(fragment),
    };
    ExitCode::from(code)
}

/// Rounds the cap of `--until-fail` without `--repeat`.
pub(super) const UNTIL_FAIL_CAP: u32 = 1000;

/// How `sockspec test` runs the selection: `--jobs`, `--repeat`, `--until-fail`.
struct Rounds {
    jobs: Option<u16>,
    repeat: u32,
    until_fail: bool,
}

impl Rounds {
    /// The most rounds to run.
    fn cap(&self) -> u32 {
        if self.until_fail && self.repeat == 1 {
            UNTIL_FAIL_CAP
        } else {
            self.repeat
        }
    }

    /// Whether the pass counts are printed at the end.
    fn counted(&self) -> bool {
        self.until_fail || self.repeat > 1
    }
}

fn test(
    root: &Path,
    filters: Vec<String>,
    env: Option<String>,
    list: bool,
    junit: Option<&Path>,
    rounds: Rounds,
) -> u8 {
    let env = env.or_else(|| std::env::var("SOCKSPEC_ENV").ok());
    // Progress (a line per scenario) on a terminal; quiet when piped or in CI.
    let quiet = !std::io::stdout().is_terminal()
        || std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let args = Arguments {
        list,
        quiet: quiet && !list,
        test_threads: Some(rounds.jobs.map_or_else(
            || 4 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            usize::from,
        )),
        ..Arguments::default()
    };
    let filters = match path_filters(root, filters) {
        Ok(f) => f,
        Err(d) => {
            d.eprint();
            return exit::BAD_SELECTION;
        }
    };
    let selection = |observer: &Observer| -> Result<Vec<libtest_mimic::Trial>, Diagnostic> {
        Ok(build_trials(root, &args, env.as_deref(), Some(observer))?
            .into_iter()
            .filter(|t| filters.is_empty() || filters.iter().any(|f| f.matches(t.name())))
            .collect())
    };
    let observer = Observer::new();
    let selected = match selection(&observer) {
        Ok(t) => t,
        Err(d) => {
            d.eprint();
            return exit::BAD_SELECTION;
        }
    };
    if selected.is_empty() {
        Diagnostic::bare(format!(
            "no scenario matches {}",
            filters
                .iter()
                .map(|f| f.shown.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .eprint();
        return exit::BAD_SELECTION;
    }
    if list {
        let _ = libtest_mimic::run(&args, selected);
        return exit::SUCCESS;
    }
    // Created before the run: a bad path fails before any scenario runs.
    let report = match junit.map(JunitFile::create).transpose() {
        Ok(r) => r,
        Err(e) => {
            Diagnostic::bare(format!("cannot {e}")).eprint();
            return exit::BAD_SELECTION;
        }
    };
    let names: Vec<String> = selected.iter().map(|t| t.name().to_owned()).collect();
    let started = Instant::now();
    let mut records = Vec::new();
    let mut failed = false;
    let mut selected = Some(selected);
    let mut observer = observer;
    for round in 0..rounds.cap() {
        let trials = match selected.take() {
            Some(t) => t,
            None => {
                observer = Observer::new();
                match selection(&observer) {
                    Ok(t) => t,
                    Err(d) => {
                        d.eprint();
                        return exit::BAD_SELECTION;
                    }
                }
            }
        };
        if rounds.counted() {
            println!("sockspec: round {} of at most {}", round + 1, rounds.cap());
        }
        failed |= libtest_mimic::run(&args, trials).has_failed();
        records.extend(observer.records(&names));
        if failed && rounds.until_fail {
            break;
        }
    }
    let elapsed = started.elapsed();
    if rounds.counted() {
        print!("{}", pass_counts(&names, &records));
    }
    print!("{}", summary(&records, elapsed));
    if let Some(report) = report
        && let Err(e) = report.write(&records, elapsed)
    {
        Diagnostic::bare(format!("cannot {e}")).eprint();
        return exit::BAD_SELECTION;
    }
    if failed {
        exit::FAILURES
    } else {
        exit::SUCCESS
    }
}

/// `local::agent/full_flow: 9 of 10 passed`, a line per scenario, in selection order.
fn pass_counts(names: &[String], records: &[crate::report::TrialRecord]) -> String {
    names
        .iter()
        .map(|name| {
            let runs = records.iter().filter(|r| &r.name == name);
            let passed = runs
                .clone()
                .filter(|r| matches!(r.outcome, crate::report::TrialOutcome::Passed))
                .count();
            format!("{name}: {passed} of {} passed\n", runs.count())
        })
        .collect()
}

fn serve(args: crate::server::ServeArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            Diagnostic::bare(format!("failed to start the tokio runtime: {e}")).eprint();
            return exit::SERVER_ERROR;
        }
    };
    match runtime.block_on(crate::server::serve(args)) {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            Diagnostic::bare(format!("failed to {e}")).eprint();
            exit::SERVER_ERROR
        }
    }
}

/// A `sockspec test` argument: a scenario file or directory, or a trial-name filter.
struct Filter {
    shown: String,
    kind: FilterKind,
}

enum FilterKind {
    /// `::<id>` at the end of the trial name.
    File(String),
    /// `::<dir>/` inside the trial name.
    Dir(String),
    /// A substring of the trial name (`local::auth/`).
    Name(String),
}

impl Filter {
    fn matches(&self, trial: &str) -> bool {
        match &self.kind {
            FilterKind::File(id) => trial.ends_with(&format!("::{id}")),
            FilterKind::Dir(dir) if dir.is_empty() => true,
            FilterKind::Dir(dir) => trial.contains(&format!("::{dir}/")),
            FilterKind::Name(s) => trial.contains(s.as_str()),
        }
    }
}

/// Paths that exist (relative to the current directory or to `--root`) become scenario or
/// directory filters; anything else filters trial names.
fn path_filters(root: &Path, args: Vec<String>) -> Result<Vec<Filter>, Diagnostic> {
    // The configuration (for the scenario directory) is read only when a path is given.
    if !args.iter().any(|a| existing_path(root, a).is_some()) {
        return Ok(args
            .into_iter()
            .map(|a| Filter {
                shown: a.clone(),
                kind: FilterKind::Name(a),
            })
            .collect());
    }
    let config = crate::environment::Config::load(root)?;
    let scenarios = &config.scenarios_dir;
    args.into_iter()
        .map(|arg| {
            let Some(abs) = existing_path(root, &arg) else {
                return Ok(Filter {
                    shown: arg.clone(),
                    kind: FilterKind::Name(arg),
                });
            };
            let rel = abs.strip_prefix(scenarios).map_err(|_| {
                Diagnostic::bare(format!(
                    "`{arg}` is not below the scenario directory {}",
                    scenarios.display()
                ))
            })?;
            let id = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let kind = if abs.is_dir() {
                FilterKind::Dir(id)
            } else {
                FilterKind::File(id.trim_end_matches(".yaml").to_string())
            };
            Ok(Filter { shown: arg, kind })
        })
        .collect()
}
