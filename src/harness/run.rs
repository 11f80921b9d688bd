//! Owns one run of a scenario in one environment: the one entry point every caller uses (the
//! libtest-mimic trials, `sockspec test`, the failing corpus, the benchmark, the integration
//! tests). It resolves the secrets the run needs (the scenario's and the embedded server's),
//! takes a current-thread runtime (one a finished run left idle, with no task alive, else a
//! new one), executes (teardown included) and returns one typed
//! [`Run`]. Rendering a failure or a snapshot is left to the caller ([`Run::report`],
//! [`Run::snapshot_text`]).

use std::sync::{Mutex, PoisonError};

use tokio::runtime::Runtime;

use super::execute::{Ended, execute};
use super::health::{ALLOW_UNAVAILABLE_VAR, allow_unavailable};
use crate::diagnostic::Diagnostic;
use crate::environment::{Endpoint, Environment, Secrets, Unavailable};
use crate::report::{failure_diagnostic, snapshot_text, unavailable_diagnostic};
use crate::scenario::Plan;
use crate::transcript::{Failure, Transcript};

/// How one run of a scenario in one environment ended.
#[derive(Debug)]
pub enum RunOutcome {
    /// The scenario did what it expects (its snapshot is still to be compared).
    Passed,
    /// The scenario, its secrets or its environment did not do what it expects.
    Failed(Box<Failure>),
    /// The environment's health check failed: nothing ran.
    Unavailable(Unavailable),
    /// The scenario does not run here; the reason says why.
    Ignored(String),
}

/// One run: its outcome, and its transcript when it got as far as executing.
#[derive(Debug)]
pub struct Run {
    /// How it ended.
    pub outcome: RunOutcome,
    /// Every event, redacted; `None` when nothing executed (missing secrets, ignored).
    pub transcript: Option<Transcript>,
    /// The WebSocket base URL used (normalized out of snapshots).
    pub ws_base: String,
    /// The HTTP base URL used (normalized out of snapshots).
    pub http_base: String,
}

impl Run {
    fn without_transcript(outcome: RunOutcome) -> Run {
        Run {
            outcome,
            transcript: None,
            ws_base: String::new(),
            http_base: String::new(),
        }
    }

    /// The report of a run that did not pass (cause first), `None` otherwise. `plan` is the
    /// plan that ran (`base.for_environment(..)`).
    pub fn report(&self, plan: &Plan, env: &Environment) -> Option<Diagnostic> {
        match &self.outcome {
            RunOutcome::Failed(f) => Some(failure_diagnostic(
                plan,
                &env.name,
                f,
                self.transcript.as_ref(),
            )),
            RunOutcome::Unavailable(u) => {
                Some(unavailable_diagnostic(plan, u, ALLOW_UNAVAILABLE_VAR))
            }
            RunOutcome::Passed | RunOutcome::Ignored(_) => None,
        }
    }

    /// The transcript's snapshot text (normalized), when there is a transcript.
    pub fn snapshot_text(&self, plan: &Plan) -> Option<String> {
        self.transcript
            .as_ref()
            .map(|t| snapshot_text(plan, t, &self.ws_base, &self.http_base))
    }
}

/// Runs `base` as it applies to `env`. `process` stands for the process environment: secret
/// variables, `auth: {bearer: {env: NAME}}` and `SOCKSPEC_ALLOW_UNAVAILABLE` are read through
/// it (then the environment's `.env` file). Never panics on bad input.
pub fn run(base: &Plan, env: &Environment, process: &dyn Fn(&str) -> Option<String>) -> Run {
    let plan = base.for_environment(&env.name);
    if plan.reference_server.is_some() && matches!(env.endpoint, Endpoint::Remote { .. }) {
        return Run::without_transcript(RunOutcome::Ignored(format!(
            "needs the embedded reference server (`reference_server:`); '{}' is a remote environment",
            env.name
        )));
    }
    let secrets = match secrets_for(plan, env, process) {
        Ok(s) => s,
        Err(f) => return Run::without_transcript(RunOutcome::Failed(Box::new(f))),
    };
    let runtime = match idle_runtime() {
        Ok(r) => r,
        Err(e) => {
            return Run::without_transcript(RunOutcome::Failed(Box::new(Failure::new(format!(
                "cannot start a tokio runtime: {e}"
            )))));
        }
    };
    let executed = runtime.block_on(execute(plan, env, &secrets, process));
    give_back(runtime);
    let outcome = match executed.result {
        Ok(()) => RunOutcome::Passed,
        Err(Ended::Failed(f)) => RunOutcome::Failed(f),
        Err(Ended::Unavailable(u)) if allow_unavailable(process) => {
            RunOutcome::Ignored(u.to_string())
        }
        Err(Ended::Unavailable(u)) => RunOutcome::Unavailable(u),
    };
    Run {
        outcome,
        transcript: Some(executed.transcript),
        ws_base: executed.ws_base,
        http_base: executed.http_base,
    }
}

/// Runtimes of finished runs that left no task behind, for the next run of the process:
/// building a runtime (an epoll instance, an eventfd, a seed, its allocations) and dropping it
/// was a twentieth of a run's CPU in `sockspec test`. A run never sees another run's task: a
/// runtime with a task still alive is dropped, and with it the task, as before.
static IDLE_RUNTIMES: Mutex<Vec<Runtime>> = Mutex::new(Vec::new());

/// More idle runtimes than runs at a time are never needed.
const IDLE_RUNTIMES_MAX: usize = 256;

/// An idle runtime, else a new current-thread one.
fn idle_runtime() -> std::io::Result<Runtime> {
    let idle = IDLE_RUNTIMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop();
    match idle {
        Some(r) => Ok(r),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
}

/// Keeps `runtime` for the next run when nothing it ran is still alive; drops it otherwise.
fn give_back(runtime: Runtime) {
    if !reusable(&runtime) {
        return;
    }
    let mut idle = IDLE_RUNTIMES.lock().unwrap_or_else(PoisonError::into_inner);
    if idle.len() < IDLE_RUNTIMES_MAX {
        idle.push(runtime);
    }
}

/// Whether nothing spawned on `runtime` is still alive.
fn reusable(runtime: &Runtime) -> bool {
    runtime.metrics().num_alive_tasks() == 0
}

/// The process environment, as [`run`] reads it by default.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One snapshot per scenario, shared by every environment, except where an environment
/// overrides the scenario: `<id>@<environment>`.
pub(super) fn snapshot_name(base: &Plan, environment: &str) -> String {
    if base.overrides.contains_key(environment) {
        format!("{}@{environment}", base.id)
    } else {
        base.id.clone()
    }
}

/// The environment's secrets, resolved all at once: when one the run needs is missing, the
/// failure lists every missing secret of the environment and every variable tried.
fn secrets_for(
    plan: &Plan,
    env: &Environment,
    process: &dyn Fn(&str) -> Option<String>,
) -> Result<Secrets, Failure> {
    let needed = secret_names(plan, env);
    let undeclared: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !env.secrets.contains_key(*n))
        .collect();
    if !undeclared.is_empty() {
        let declared: Vec<&str> = env.secrets.keys().map(String::as_str).collect();
        return Err(Failure::new(format!(
            "failed to resolve secrets: environment '{}' does not declare {}",
            env.name,
            undeclared
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ))
        .note(format!(
            "note: it declares: {}",
            if declared.is_empty() {
                "nothing".to_string()
            } else {
                declared.join(", ")
            }
        ))
        .hint(format!(
            "declare them under `environments.{}.secrets` in sockspec.yaml",
            env.name
        )));
    }
    let (secrets, missing) = Secrets::resolve_declared_in(env, process);
    if let Some(missing) = missing
        && needed
            .iter()
            .any(|n| missing.missing.iter().any(|(m, _)| m == n))
    {
        return Err(Failure::new(format!("failed to {missing}"))
            .note(format!(
                "note: every scenario of '{}' that needs one of these fails with this same error",
                env.name
            ))
            .hint(
                "set one of the variables of each secret (in CI: from the secret store), or add \
                 them to the environment's .env file",
            ));
    }
    Ok(secrets)
}

/// Secrets a run needs: the scenario's, plus the embedded server's.
fn secret_names<'a>(plan: &'a Plan, env: &'a Environment) -> Vec<&'a str> {
    let mut names = plan.required_secrets();
    if let Endpoint::Embedded(e) = &env.endpoint {
        names.extend(e.secret_names());
    }
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_with_a_task_still_alive_is_not_reused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        rt.block_on(async {
            tokio::spawn(async move {
                let _ = rx.await;
            });
        });
        assert!(!reusable(&rt), "a spawned task outlived the run");
        let _ = tx.send(());
        rt.block_on(tokio::task::yield_now());
        rt.block_on(async {
            for _ in 0..100 {
                if tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks()
                    == 0
                {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        assert!(reusable(&rt), "every task ended");
    }
}
