//! Owns executing the parsed command line: each subcommand, its output, its exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use libtest_mimic::Arguments;

use super::args::{Cli, Command};
use super::progress::{PROGRESS_FROM, Progress, failures};
use super::snapshots::Act;
use super::support::existing_path;
use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::harness::{Observer, RecordWriter, build_trials, command_run_dir, process_env};
use crate::report::{JunitFile, summary};

/// The `sockspec` binary: parses the command line, runs the command, returns its exit code (see [`crate::exit`]).
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
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
            accept,
            run_dir,
            html,
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
                accept,
            },
            Outputs { run_dir, html },
        ),
        Command::Review(args) => super::snapshots::review(&cli.root, &args),
        Command::Accept(args) => super::snapshots::act(&cli.root, &args, Act::Accept),
        Command::Reject(args) => super::snapshots::act(&cli.root, &args, Act::Reject),
        Command::Snapshots(args) => super::snapshots::list(&cli.root, &args),
        Command::Check { paths, env } => {
            let env = env.or_else(|| std::env::var("SOCKSPEC_ENV").ok());
            super::check::check(&cli.root, &paths, env.as_deref())
        }
        Command::Report(args) => super::report::run(&cli.root, &args),
        Command::Serve(args) => serve(args),
        Command::Token(args) => super::token::run(&cli.root, &args),
        Command::Decode(args) => super::decode::run(&args),
        Command::Doctor(args) => super::doctor::run(&cli.root, &args),
        Command::Init(args) => super::init::run(&cli.root, &args),
        Command::New(args) => super::new::run(&cli.root, &args),
        Command::Schema { fragment } => super::schema::run(fragment),
    };
    ExitCode::from(code)
}

/// `sockspec test | head` ends quietly when `head` has read enough, as Unix tools do. SIGPIPE
/// stays ignored (sockets must see EPIPE as an error, not kill the process); a print to a
/// closed stdout panics (in std's `print!`, or where a writer's error is unwrapped), and this
/// hook turns that panic into a quiet exit.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        // std's `print!`, or a writer's `unwrap()` on the error (libtest-mimic's printer).
        let closed = (message.starts_with("failed printing to stdout")
            && message.contains("Broken pipe"))
            || message.contains("kind: BrokenPipe");
        if closed {
            std::process::exit(i32::from(exit::CLOSED_PIPE));
        }
        default(info);
    }));
}

/// Rounds the cap of `--until-fail` without `--repeat`.
pub(super) const UNTIL_FAIL_CAP: u32 = 1000;

/// How `sockspec test` runs the selection: `--jobs`, `--repeat`, `--until-fail`.
struct Rounds {
    jobs: Option<u16>,
    repeat: u32,
    until_fail: bool,
    /// `--accept`: new or changed transcripts become the snapshots.
    accept: bool,
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

/// Where `sockspec test` writes its run records (`--run-dir`) and HTML report (`--html`).
struct Outputs {
    run_dir: Option<std::path::PathBuf>,
    html: Option<std::path::PathBuf>,
}

fn test(
    root: &Path,
    filters: Vec<String>,
    env: Option<String>,
    list: bool,
    junit: Option<&Path>,
    rounds: Rounds,
    outputs: Outputs,
) -> u8 {
    let run_dir = command_run_dir(root, outputs.run_dir.as_deref(), &process_env);
    let env = env
        .or_else(|| std::env::var("SOCKSPEC_ENV").ok())
        .or_else(|| environments_named_by(root, &filters));
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
        Ok(
            build_trials(root, &args, env.as_deref(), Some(observer), rounds.accept)?
                .into_iter()
                .filter(|t| filters.is_empty() || filters.iter().any(|f| f.matches(t.name())))
                .collect(),
        )
    };
    // Records are written by one background thread (see harness::RecordWriter).
    let writer = RecordWriter::start();
    let observer = Observer::with_records(run_dir.clone(), writer.sink());
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
    if let Some(Err(d)) = outputs.html.as_deref().map(super::report::check_output) {
        d.eprint();
        return exit::BAD_SELECTION;
    }
    let names: Vec<String> = selected.iter().map(|t| t.name().to_owned()).collect();
    // A long run on a terminal: one progress line instead of a line per scenario;
    // libtest-mimic's output goes to a log file, the failures are printed after the run.
    // The log lives in a new directory only this user can read (failure messages land there);
    // without one, the run prints a line per scenario instead.
    let log_dir = (!quiet && names.len() >= PROGRESS_FROM)
        .then(super::progress::private_dir)
        .flatten();
    let progress = log_dir.is_some();
    let log = log_dir.as_ref().map(|d| d.join("libtest.log"));
    let run_args = Arguments {
        logfile: log.as_ref().map(|l| l.display().to_string()),
        ..args.clone()
    };
    let started = Instant::now();
    let mut records = Vec::new();
    let mut failed = false;
    let mut selected = Some(selected);
    let mut observer = observer;
    for round in 0..rounds.cap() {
        let trials = match selected.take() {
            Some(t) => t,
            None => {
                observer = Observer::with_records(run_dir.clone(), writer.sink());
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
        let shown = progress.then(|| Progress::start(observer.clone(), names.len()));
        failed |= libtest_mimic::run(&run_args, trials).has_failed();
        let round_records = observer.records(&names);
        if let Some(shown) = shown {
            shown.finish();
            print!("{}", failures(&round_records));
        }
        records.extend(round_records);
        if failed && rounds.until_fail {
            break;
        }
    }
    if let Some(dir) = &log_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    // Every trial (and its copy of the sink) is gone: wait for the last records.
    drop(observer);
    writer.finish();
    let elapsed = started.elapsed();
    if rounds.counted() {
        print!("{}", pass_counts(&names, &records));
    }
    print!("{}", summary(&records, elapsed));
    if let Some(note) = super::snapshots::pending_note(root) {
        println!("{note}");
    }
    if let Some(report) = report
        && let Err(e) = report.write(&records, elapsed)
    {
        Diagnostic::bare(format!("cannot {e}")).eprint();
        return exit::BAD_SELECTION;
    }
    if let Some(html) = &outputs.html
        && super::report::write_html(std::slice::from_ref(&run_dir), html) != exit::SUCCESS
    {
        return exit::BAD_SELECTION;
    }
    if failed {
        exit::FAILURES
    } else {
        exit::SUCCESS
    }
}

/// Without `--env` or SOCKSPEC_ENV, trial names select their environments:
/// `sockspec test staging::auth/x` runs in `staging`. `None` unless every filter is a trial
/// name whose environment the configuration declares.
fn environments_named_by(root: &Path, filters: &[String]) -> Option<String> {
    let prefixes: Vec<&str> = filters
        .iter()
        .map(|f| f.split_once("::").map(|(env, _)| env))
        .collect::<Option<Vec<_>>>()?;
    let config = crate::environment::Config::load(root).ok()?;
    let mut names: Vec<&str> = Vec::new();
    for p in prefixes {
        if !config.environments.contains_key(p) {
            return None;
        }
        if !names.contains(&p) {
            names.push(p);
        }
    }
    (!names.is_empty()).then(|| names.join(","))
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
