//! Owns the libtest-mimic glue: one trial per (environment × scenario) named
//! `<env>::<id>`, nextest's custom-harness rules (`--list --format terse`, `--ignored`,
//! `--exact NAME` parsing only that file), a filter that matches nothing is an error, and
//! each trial one [`super::run()`] and its snapshot comparison; an optional [`Observer`]
//! records each trial's outcome.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use super::discover::{discover, from_trial_name};
use super::observe::Observer;
use super::records::{Clock, TrialInfo, trial_run_dir, write_invalid, write_run};
use super::run::{RunOutcome, process_env, run, snapshot_name};
use super::snapshot::compare;
use crate::diagnostic::Diagnostic;
use crate::environment::{Config, Environment};
use crate::report::snapshot::{Mode, Target};
use crate::scenario::{self, Plan};

pub(super) use crate::exit::BAD_SELECTION as EXIT_BAD_SELECTION;

/// Entry point of `tests/scenarios.rs`: runs the scenarios of the project at `root`.
pub fn main(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    let env_spec = std::env::var("SOCKSPEC_ENV").ok();
    match build_trials(root, &args, env_spec.as_deref(), None, false) {
        Ok(trials) => libtest_mimic::run(&args, trials).exit_code(),
        Err(d) => {
            d.eprint();
            ExitCode::from(EXIT_BAD_SELECTION)
        }
    }
}

/// Builds the trials `args` selects. Errors (a report) name what to fix.
/// `env_spec` is the comma list of environments (`SOCKSPEC_ENV`), default `local`.
/// With an `observer`, every trial records its outcome there when it runs. With `accept`
/// (`sockspec test --accept`; also `SOCKSPEC_ACCEPT=1`), a new or changed transcript becomes
/// the snapshot instead of failing the trial.
pub fn build_trials(
    root: &Path,
    args: &Arguments,
    env_spec: Option<&str>,
    observer: Option<&Observer>,
    accept: bool,
) -> Result<Vec<Trial>, Diagnostic> {
    let mode = if accept {
        Mode::Accept
    } else {
        Mode::from_env()
    };
    let config = Arc::new(Config::load(root)?);
    let envs: Vec<Environment> = config.select(env_spec)?.into_iter().cloned().collect();
    let scen_root = config.scenarios_dir.clone();

    let files: Vec<(String, String, PathBuf)> = match (&args.filter, args.exact) {
        // The fast path: nextest runs each test in its own process with `--exact NAME`.
        (Some(name), true) => {
            let (env, id, path) = from_trial_name(&scen_root, name).ok_or_else(|| {
                format!(
                    "no scenario matches `{name}`: expected `<environment>::<path below {}>`",
                    scen_root.display()
                )
            })?;
            if !envs.iter().any(|e| e.name == env) {
                return Err(format!(
                    "`{name}` names environment `{env}`, which SOCKSPEC_ENV does not select"
                )
                .into());
            }
            vec![(env, id, path)]
        }
        _ => {
            let found = discover(&scen_root)
                .map_err(|e| format!("cannot read scenarios in {}: {e}", scen_root.display()))?;
            envs.iter()
                .flat_map(|e| {
                    found
                        .iter()
                        .map(|(id, p)| (e.name.clone(), id.clone(), p.clone()))
                })
                .collect()
        }
    };

    let run_dir = observer
        .and_then(Observer::run_dir)
        .map_or_else(|| trial_run_dir(root, &process_env), Path::to_path_buf);
    let mut loaded_files = load_all(&files);
    let mut trials = Vec::new();
    for (env_name, id, path) in files {
        let Some(env) = envs.iter().find(|e| e.name == env_name).cloned() else {
            continue;
        };
        let loaded = loaded_files.take(&path, &id);
        if let Ok(plan) = &loaded
            && !plan.applies_to(&env.name)
        {
            continue;
        }
        let name = format!("{env_name}::{id}");
        let config = config.clone();
        let info = TrialInfo {
            dir: run_dir.clone(),
            sink: observer.and_then(Observer::sink).cloned(),
            trial: name.clone(),
            id,
            file: path,
            environment: env_name,
        };
        let runner = move || run_trial(&config, &env, loaded, &info, mode);
        trials.push(match observer {
            Some(o) => Trial::ignorable_test(name.clone(), o.observe(name, runner)),
            None => Trial::ignorable_test(name, runner),
        });
    }
    trials.sort_by(|a, b| a.name().cmp(b.name()));

    let filtered_out_everything = args.filter.as_ref().is_some_and(|f| {
        !trials.iter().any(|t| {
            if args.exact {
                t.name() == f
            } else {
                t.name().contains(f.as_str())
            }
        })
    });
    if filtered_out_everything {
        return Err(format!(
            "no scenario matches the filter `{}` (environments: {})",
            args.filter.as_deref().unwrap_or(""),
            envs.iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into());
    }
    Ok(trials)
}

/// Every selected file parsed once (a file runs in several environments), on up to one thread
/// per core: `sockspec test` and nextest's listing parse the whole corpus before the first
/// trial starts, so this is the run's serial prefix.
struct Loaded {
    plans: HashMap<PathBuf, (usize, Result<Plan, Vec<Diagnostic>>)>,
}

/// Files below this count are parsed on the calling thread (a thread costs more).
const PARALLEL_LOAD_FROM: usize = 16;

fn load_all(files: &[(String, String, PathBuf)]) -> Loaded {
    let mut uses: HashMap<&Path, (usize, &str)> = HashMap::new();
    for (_, id, path) in files {
        uses.entry(path.as_path()).or_insert((0, id.as_str())).0 += 1;
    }
    let unique: Vec<(&Path, &str)> = uses.iter().map(|(p, (_, id))| (*p, *id)).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(unique.len().div_ceil(PARALLEL_LOAD_FROM))
        .max(1);
    let parsed: Vec<(PathBuf, Result<Plan, Vec<Diagnostic>>)> = if threads == 1 {
        unique
            .iter()
            .map(|(p, id)| (p.to_path_buf(), scenario::load(p, id)))
            .collect()
    } else {
        let chunk = unique.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = unique
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(p, id)| (p.to_path_buf(), scenario::load(p, id)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| match h.join() {
                    Ok(v) => v,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    Loaded {
        plans: parsed
            .into_iter()
            .map(|(p, r)| {
                let n = uses.get(p.as_path()).map_or(1, |u| u.0);
                (p, (n, r))
            })
            .collect(),
    }
}

impl Loaded {
    /// The parse of `path`: moved out at its last use, cloned before. (Every file of the
    /// selection was loaded; one that was not is parsed now rather than panic.)
    fn take(&mut self, path: &Path, id: &str) -> Result<Plan, Vec<Diagnostic>> {
        match self.plans.get_mut(path) {
            Some((n, r)) if *n > 1 => {
                *n -= 1;
                r.clone()
            }
            Some(_) => self
                .plans
                .remove(path)
                .map_or_else(|| scenario::load(path, id), |(_, r)| r),
            None => scenario::load(path, id),
        }
    }
}

fn run_trial(
    config: &Config,
    env: &Environment,
    loaded: Result<Plan, Vec<Diagnostic>>,
    info: &TrialInfo,
    mode: Mode,
) -> Result<Completion, Failed> {
    let clock = Clock::start();
    let base = loaded.map_err(|ds| {
        let report = ds.iter().map(|d| d.render()).collect::<Vec<_>>().join("\n");
        write_invalid(info, clock, &report);
        Failed::from(report)
    })?;
    let run = run(&base, env, &process_env);
    let plan = base.for_environment(&env.name);
    let compared = match &run.outcome {
        RunOutcome::Passed => {
            let text = run.snapshot_text(plan).unwrap_or_default();
            let id = snapshot_name(&base, &env.name);
            let target = Target {
                root: &config.root,
                dir: &config.snapshots_dir,
                id: &id,
                input: &plan.file,
                description: &plan.name,
                environment: &env.name,
            };
            compare(target, &text, mode)
        }
        _ => Ok(()),
    };
    write_run(
        info,
        clock,
        &base,
        env,
        &run,
        compared.as_ref().err().cloned(),
    );
    match &run.outcome {
        RunOutcome::Passed => {
            compared.map_err(|m| Failed::from(m.message))?;
            Ok(Completion::Completed)
        }
        RunOutcome::Ignored(reason) => Ok(Completion::ignored_with(reason.clone())),
        RunOutcome::Failed(_) | RunOutcome::Unavailable(_) => Err(Failed::from(
            run.report(plan, env)
                .map(|d| d.render())
                .unwrap_or_default(),
        )),
    }
}
