//! Owns executing the parsed command line: each subcommand, its output, its exit code.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use libtest_mimic::Arguments;

use super::args::{Cli, Command};
use super::exit;
use crate::environment::Config;
use crate::harness::{Observer, build_trials, discover};
use crate::report::{JunitFile, summary};
use crate::scenario;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Test {
            filters,
            env,
            list,
            junit,
        } => test(&cli.root, filters, env, list, junit.as_deref()),
        Command::Check => check(&cli.root),
        Command::Serve(args) => serve(args),
        Command::Schema => super::schema::run(),
    };
    ExitCode::from(code)
}

fn test(
    root: &Path,
    filters: Vec<String>,
    env: Option<String>,
    list: bool,
    junit: Option<&Path>,
) -> u8 {
    let env = env.or_else(|| std::env::var("SOCKSPEC_ENV").ok());
    let args = Arguments {
        list,
        ..Arguments::default()
    };
    let observer = Observer::new();
    let trials = match build_trials(root, &args, env.as_deref(), Some(&observer)) {
        Ok(t) => t,
        Err(m) => {
            eprintln!("error: {m}");
            return exit::BAD_SELECTION;
        }
    };
    let selected: Vec<_> = trials
        .into_iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| t.name().contains(f.as_str())))
        .collect();
    if selected.is_empty() {
        eprintln!("error: no scenario matches {}", filters.join(", "));
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
            eprintln!("error: {e}");
            return exit::BAD_SELECTION;
        }
    };
    let names: Vec<String> = selected.iter().map(|t| t.name().to_owned()).collect();
    let started = Instant::now();
    let conclusion = libtest_mimic::run(&args, selected);
    let elapsed = started.elapsed();
    let records = observer.records(&names);
    print!("{}", summary(&records, elapsed));
    if let Some(report) = report
        && let Err(e) = report.write(&records, elapsed)
    {
        eprintln!("error: {e}");
        return exit::BAD_SELECTION;
    }
    if conclusion.has_failed() {
        exit::FAILURES
    } else {
        exit::SUCCESS
    }
}

fn check(root: &Path) -> u8 {
    let config = match Config::load(root) {
        Ok(c) => c,
        Err(d) => {
            eprint!("{}", d.render());
            return exit::INVALID;
        }
    };
    let mut dirs = vec![config.scenarios_dir.clone()];
    for extra in crate::harness::EXCLUDED_DIRS {
        let d = config.scenarios_dir.join(extra);
        if d.is_dir() {
            dirs.push(d);
        }
    }
    let mut files = Vec::new();
    for d in &dirs {
        match discover(d) {
            Ok(f) => files.extend(f.into_iter().map(|(_, p)| p)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", d.display());
                return exit::INVALID;
            }
        }
    }
    files.sort();
    files.dedup();
    let mut bad = 0;
    for path in &files {
        let id = crate::harness::id_of(&config.scenarios_dir, path).unwrap_or_default();
        if let Err(ds) = scenario::load(path, &id) {
            bad += 1;
            for d in ds {
                eprint!("{}", d.render());
            }
        }
    }
    println!(
        "checked {} scenario file(s): {} valid, {bad} invalid",
        files.len(),
        files.len() - bad
    );
    if bad == 0 {
        exit::SUCCESS
    } else {
        exit::INVALID
    }
}

fn serve(args: crate::server::ServeArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the tokio runtime: {e}");
            return exit::SERVER_ERROR;
        }
    };
    match runtime.block_on(crate::server::serve(args)) {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("error: failed to {e}");
            exit::SERVER_ERROR
        }
    }
}
