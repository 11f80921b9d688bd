//! Owns running `http` steps (in `setup`, `steps` and `teardown`): send the call, record
//! it, fail with the service's status and body when the status is not the expected one,
//! capture values from the JSON answer by pointer.

use crate::http::{self, HttpEnv};
use crate::scenario::{HttpPlan, StepKind, StepPlan};
use crate::template::MapResolver;
use crate::transcript::{Failure, Recorder};

/// Runs one HTTP call of `phase`.
pub(crate) async fn run_http(
    plan: &HttpPlan,
    phase: &str,
    env: &HttpEnv,
    rec: &mut Recorder,
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    let call = http::send(plan, env, phase, vars).await;
    let answer = call.record(phase, rec).map_err(|e| {
        // An unexpected answer is a reason, not an action that could not be done.
        let f = match &e {
            http::HttpError::Status { .. } => {
                Failure::new(format!("{phase} HTTP call failed: {e}"))
            }
            _ => Failure::new(format!("{phase} HTTP call failed: cannot {e}")),
        };
        match e {
            http::HttpError::Status { answer, .. } => f
                .expected(if plan.statuses.is_empty() {
                    "a 2xx status".to_string()
                } else {
                    format!("status {:?}", plan.statuses)
                })
                .actual(answer.status_and_body()),
            http::HttpError::NoBase { .. } => {
                f.hint("add `http_url:` to the environment, or give the step a full `url`")
            }
            _ => f,
        }
    })?;
    for (name, ptr) in &plan.captures {
        let value = http::pointer(&answer, ptr)
            .map_err(|e| Failure::new(format!("{phase} HTTP call failed: cannot {e}")))?;
        vars.insert(name, value);
    }
    Ok(())
}

/// Runs `setup` or `teardown`: every step in order, stopping at the first failure.
pub(crate) async fn run_phase(
    steps: &[StepPlan],
    phase: &str,
    env: &HttpEnv,
    rec: &mut Recorder,
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    for step in steps {
        if let StepKind::Http(plan) = &step.kind {
            run_http(plan, phase, env, rec, vars).await.map_err(|f| {
                f.at(
                    step.pos,
                    format!("{phase} step {} (`http`)", step.index + 1),
                )
            })?;
        }
    }
    Ok(())
}
