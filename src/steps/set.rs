//! Owns assigning variables: a scenario's `vars` when a run starts, and `set` steps. Each value
//! is rendered once, in the order written, against everything defined so far, so
//! `msg_id: "{{ uuid }}"` is one UUID that every later `{{ msg_id }}` repeats.

use serde_json::Value;

use crate::scenario::Assignment;
use crate::template::{MapResolver, RenderError, render_value};
use crate::transcript::{Event, Failure, Recorder};

/// The value of `a`, rendered against `vars`; a failure names the variable.
fn evaluate(a: &Assignment, vars: &MapResolver) -> Result<Value, Failure> {
    render_value(&a.value, vars).map_err(|e| {
        let f = Failure::new(format!("variable `{}`: cannot {e}", a.name));
        match e {
            RenderError::UnsetEnv { .. } => f.hint("set the environment variable before the run"),
            RenderError::UndefinedVariable { .. } => {
                f.hint("the value used has no such field: check the path after the name")
            }
            RenderError::Invalid { .. } => f,
        }
    })
}

/// Evaluates the scenario's `vars` into `vars`, in order (not recorded: their values show
/// wherever they are used).
pub(crate) fn assign_vars(
    assignments: &[Assignment],
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    for a in assignments {
        let value = evaluate(a, vars).map_err(|f| f.at(a.pos, "in `vars`"))?;
        vars.insert(a.name.clone(), value);
    }
    Ok(())
}

/// Runs `set` step `i`: each value evaluated and assigned in order, and recorded like a capture.
pub(crate) fn run_set(
    i: usize,
    assignments: &[Assignment],
    rec: &mut Recorder,
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    for a in assignments {
        let value = evaluate(a, vars)?;
        rec.record(Event::Captured {
            step: i,
            name: a.name.clone(),
            value: value.clone(),
        });
        vars.insert(a.name.clone(), value);
    }
    Ok(())
}
