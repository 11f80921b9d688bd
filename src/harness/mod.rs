//! The harness: scenario discovery, one libtest-mimic trial per (environment × scenario),
//! and the execution of one run.

mod diagnostics;
mod discover;
mod execute;
mod failing;
mod health;
mod observe;
mod run;
mod trials;

pub use diagnostics::diagnostics_main;
pub use discover::{
    EXCLUDED_DIRS, FULL_SCAN_FORBIDDEN_VAR, discover, display_path, from_trial_name, id_of,
};
pub use execute::{Ended, Executed, execute, run_vars, spawn_embedded};
pub use failing::{FAILING_DIR, failing_main};
pub use health::{ALLOW_UNAVAILABLE_VAR, allow_unavailable};
pub use observe::Observer;
pub use run::{Run, RunOutcome, process_env, run, snapshot_name};
pub use trials::{EXIT_BAD_SELECTION, build_trials, main};
