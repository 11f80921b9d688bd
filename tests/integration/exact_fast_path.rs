//! Owns the guard on the scenario harness's `--exact` fast path (nextest runs each test in its
//! own process, `--exact NAME`): the trials of one name are built from that one file, never
//! from a scan of `scenarios/`, and they are what the full scan would give — with `--skip`
//! too, and nothing for a file the scan leaves out. Checked for every trial of every
//! environment in a child process (this test binary, re-run on this test alone) under
//! `SOCKSPEC_FULL_SCAN_FORBIDDEN=1`, which makes a full scan panic; the variable never
//! reaches the other tests.

use std::path::Path;
use std::process::Command;

use libtest_mimic::Arguments;
use sockspec::environment::Config;
use sockspec::harness::{EXCLUDED_DIRS, FULL_SCAN_FORBIDDEN_VAR, build_trials, discover, id_of};
use sockspec::scenario::FRAGMENT_DIR;

/// The trial names the child checks, one per line; set only on the child.
const NAMES_VAR: &str = "SOCKSPEC_TEST_EXACT_NAMES";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every environment of the project, as `SOCKSPEC_ENV` would name them.
fn all_environments() -> String {
    let config = Config::load(root()).expect("the project's sockspec.yaml loads");
    config
        .environments
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

fn args(argv: &[&str]) -> Arguments {
    Arguments::from_iter(std::iter::once("scenarios").chain(argv.iter().copied()))
}

/// The names of the trials `argv` builds, or the error.
fn trial_names(argv: &[&str]) -> Result<Vec<String>, String> {
    let envs = all_environments();
    build_trials(root(), &args(argv), Some(&envs), None, false)
        .map(|trials| trials.iter().map(|t| t.name().to_owned()).collect())
        .map_err(|d| d.render())
}

#[test]
fn exact_builds_one_trial_from_one_file_as_the_full_scan_would() {
    if let Ok(names) = std::env::var(NAMES_VAR) {
        return child(&names);
    }
    // The full scan, here in the parent: what `--list` shows.
    let names = trial_names(&[]).expect("the full scan builds the trials");
    assert!(names.len() > 20, "few trials: {names:?}");

    let this = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, m)| m);
    let test = format!("{this}::exact_builds_one_trial_from_one_file_as_the_full_scan_would");
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(FULL_SCAN_FORBIDDEN_VAR, "1")
        .env(NAMES_VAR, names.join("\n"))
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child run of {test} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// Runs under `SOCKSPEC_FULL_SCAN_FORBIDDEN=1`.
fn child(names: &str) {
    assert_eq!(
        std::env::var(FULL_SCAN_FORBIDDEN_VAR).as_deref(),
        Ok("1"),
        "the child runs with {FULL_SCAN_FORBIDDEN_VAR}=1"
    );
    // The variable works: a full scan panics (so every check below read no directory).
    let scan = std::panic::catch_unwind(|| discover(&root().join("scenarios")));
    assert!(scan.is_err(), "a full scan did not panic");

    let names: Vec<&str> = names.lines().collect();
    for name in &names {
        assert_eq!(
            trial_names(&["--exact", name]).as_deref(),
            Ok(&[name.to_string()][..]),
            "--exact {name}"
        );
    }

    // `--skip` keeps the fast path: libtest-mimic applies it to the one trial, as it would
    // to the full list.
    let (name, other) = (names[0], names[1]);
    let envs = all_environments();
    for (skip, skipped) in [(name, true), (other, false)] {
        let args = args(&["--exact", name, "--skip", skip]);
        let trials = build_trials(root(), &args, Some(&envs), None, false)
            .unwrap_or_else(|e| panic!("--exact {name} --skip {skip}: {e}"));
        assert_eq!(trials.len(), 1, "--exact {name} --skip {skip}");
        assert_eq!(
            args.is_filtered_out(&trials[0]),
            skipped,
            "--exact {name} --skip {skip}"
        );
    }

    // A name the full scan does not have points at no file.
    let (env, _) = name.split_once("::").expect("env::id");
    let mut outside = vec![
        format!("{env}::no/such_scenario"),
        format!("{env}::../Cargo"),
        format!(
            "no_such_environment::{}",
            name.split_once("::").expect("env::id").1
        ),
    ];
    for dir in EXCLUDED_DIRS.into_iter().chain([FRAGMENT_DIR]) {
        let dir_path = root().join("scenarios").join(dir);
        let id = std::fs::read_dir(&dir_path)
            .expect("an excluded dir")
            .find_map(|e| id_of(&dir_path, &e.ok()?.path()))
            .expect("a scenario in the excluded dir");
        outside.push(format!("{env}::{dir}/{id}"));
    }
    // Fragments of the corpora too (`_shared/` at any depth).
    outside.push(format!("{env}::failing/{FRAGMENT_DIR}/wrong_tool"));
    for name in outside {
        assert!(
            trial_names(&["--exact", &name]).is_err(),
            "--exact {name} built a trial the full scan does not have"
        );
    }
}
