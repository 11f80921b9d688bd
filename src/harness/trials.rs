//! Owns the libtest-mimic glue: one trial per (environment × scenario) named
//! `<env>::<id>`, nextest's custom-harness rules (`--list --format terse`, `--ignored`,
//! `--exact NAME` parsing only that file), a filter that matches nothing is an error, and
//! each trial on its own current-thread tokio runtime; an optional [`Observer`] records
//! each trial's outcome.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use super::discover::{discover, from_trial_name};
use super::execute::execute;
use super::health::{ALLOW_UNAVAILABLE_VAR, allow_unavailable};
use super::observe::Observer;
use crate::environment::{Config, Environment, Secrets};
use crate::report::{assert_transcript, failure_diagnostic, snapshot_text};
use crate::scenario::{self, Plan};

pub use crate::exit::BAD_SELECTION as EXIT_BAD_SELECTION;

/// Entry point of `tests/scenarios.rs`: runs the scenarios of the project at `root`.
pub fn main(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    let env_spec = std::env::var("SOCKSPEC_ENV").ok();
    match build_trials(root, &args, env_spec.as_deref(), None) {
        Ok(trials) => libtest_mimic::run(&args, trials).exit_code(),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_BAD_SELECTION)
        }
    }
}

/// Builds the trials `args` selects. Errors name what to fix.
/// `env_spec` is the comma list of environments (`SOCKSPEC_ENV`), default `local`.
/// With an `observer`, every trial records its outcome there when it runs.
pub fn build_trials(
    root: &Path,
    args: &Arguments,
    env_spec: Option<&str>,
    observer: Option<&Observer>,
) -> Result<Vec<Trial>, String> {
    let config = Arc::new(Config::load(root).map_err(|d| d.render())?);
    let envs: Vec<Environment> = config.select(env_spec)?.into_iter().cloned().collect();
    let scen_root = config.scenarios_dir.clone();

    let files: Vec<(String, String, std::path::PathBuf)> = match (&args.filter, args.exact) {
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
                ));
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

    let mut trials = Vec::new();
    for (env_name, id, path) in files {
        let Some(env) = envs.iter().find(|e| e.name == env_name).cloned() else {
            continue;
        };
        let loaded = scenario::load(&path, &id);
        if let Ok(plan) = &loaded
            && !plan.applies_to(&env.name)
        {
            continue;
        }
        let name = format!("{env_name}::{id}");
        let config = config.clone();
        let runner = move || run_trial(&config, &env, loaded);
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
        ));
    }
    Ok(trials)
}

fn run_trial(
    config: &Config,
    env: &Environment,
    loaded: Result<Plan, Vec<crate::diagnostic::Diagnostic>>,
) -> Result<Completion, Failed> {
    let base = loaded
        .map_err(|ds| Failed::from(ds.iter().map(|d| d.render()).collect::<Vec<_>>().join("\n")))?;
    let plan = base.for_environment(&env.name);
    if plan.reference_server.is_some()
        && matches!(env.endpoint, crate::environment::Endpoint::Remote { .. })
    {
        return Ok(Completion::ignored_with(format!(
            "needs the embedded reference server (`reference_server:`); '{}' is a remote environment",
            env.name
        )));
    }
    match run_scenario(&base, env) {
        Verdict::Passed { text } => {
            assert_transcript(
                &snapshot_name(&base, &env.name),
                plan,
                &config.snapshots_dir,
                &text,
            );
            Ok(Completion::Completed)
        }
        Verdict::Unavailable(message) if allow_unavailable() => {
            Ok(Completion::ignored_with(message))
        }
        Verdict::Unavailable(message) => Err(Failed::from(unavailable_report(&message, env))),
        Verdict::Failed(report) => Err(Failed::from(report)),
    }
}

/// What one run of a scenario in one environment came to.
#[derive(Debug)]
pub enum Verdict {
    /// The scenario did what it expects; `text` is its snapshot text.
    Passed { text: String },
    /// The rendered failure report (cause first).
    Failed(String),
    /// The environment's health check failed; nothing ran.
    Unavailable(String),
}

/// Resolves secrets, runs `base` as it applies to `env` on a current-thread runtime, and
/// renders the outcome. No snapshot is compared here.
pub fn run_scenario(base: &Plan, env: &Environment) -> Verdict {
    let plan = base.for_environment(&env.name);
    let secrets = match secrets_for(plan, env) {
        Ok(s) => s,
        Err(report) => return Verdict::Failed(report),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Verdict::Failed(format!("error: cannot start a tokio runtime: {e}")),
    };
    let outcome = runtime.block_on(execute(plan, env, &secrets));
    if let Some(message) = outcome.unavailable {
        return Verdict::Unavailable(message);
    }
    if let Some(f) = &outcome.failure {
        return Verdict::Failed(
            failure_diagnostic(plan, &env.name, f, Some(&outcome.transcript)).render(),
        );
    }
    Verdict::Passed {
        text: snapshot_text(
            plan,
            &outcome.transcript,
            &outcome.ws_base,
            &outcome.http_base,
        ),
    }
}

/// The report of a scenario whose environment is down.
pub fn unavailable_report(message: &str, env: &Environment) -> String {
    format!(
        "error: {message}\n  = note: every scenario of '{}' fails with this; the scenario was not run\n  = help: the environment is down, not the scenario; set {ALLOW_UNAVAILABLE_VAR}=1 to report its scenarios as ignored",
        env.name
    )
}

/// One snapshot per scenario, shared by every environment, except where an environment
/// overrides the scenario: `<id>@<environment>`.
pub fn snapshot_name(base: &Plan, environment: &str) -> String {
    if base.overrides.contains_key(environment) {
        format!("{}@{environment}", base.id)
    } else {
        base.id.clone()
    }
}

/// The environment's secrets, resolved all at once: when one the scenario needs is missing,
/// the error lists every missing secret of the environment and every variable tried.
fn secrets_for(plan: &Plan, env: &Environment) -> Result<Secrets, String> {
    let needed = secret_names(plan, env);
    let undeclared: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !env.secrets.contains_key(*n))
        .collect();
    if !undeclared.is_empty() {
        let declared: Vec<&str> = env.secrets.keys().map(String::as_str).collect();
        return Err(format!(
            "error: failed to resolve secrets: environment '{}' does not declare {}\n  --> {}\n   = note: it declares: {}\n   = help: declare them under `environments.{}.secrets` in sockspec.yaml",
            env.name,
            undeclared
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            plan.file.display(),
            if declared.is_empty() {
                "nothing".to_string()
            } else {
                declared.join(", ")
            },
            env.name
        ));
    }
    let (secrets, missing) = Secrets::resolve_declared(env);
    if let Some(missing) = missing
        && needed
            .iter()
            .any(|n| missing.missing.iter().any(|(m, _)| m == n))
    {
        return Err(format!(
            "error: failed to {missing}\n  --> {}\n   = note: every scenario of '{}' that needs one of these fails with this same error\n   = help: set one of the variables of each secret (in CI: from the secret store), or add them to the environment's .env file",
            plan.file.display(),
            env.name
        ));
    }
    Ok(secrets)
}

/// Secrets a run needs: the scenario's, plus the embedded server's.
fn secret_names<'a>(plan: &'a Plan, env: &'a Environment) -> Vec<&'a str> {
    let mut names = plan.required_secrets();
    if let crate::environment::Endpoint::Embedded(e) = &env.endpoint {
        names.extend(e.secret_names());
    }
    names.sort_unstable();
    names.dedup();
    names
}
