//! The harness: scenario discovery, one libtest-mimic trial per (environment × scenario),
//! and the execution of one run.

mod diagnostics;
mod discover;
mod execute;
mod failing;
mod health;
mod observe;
mod record_writer;
mod records;
mod run;
mod snapshot;
mod trials;

pub use crate::report::{
    Cause, CauseKind, EntryKind, FrameDisposition, HttpRecord, Lane, RUN_DIR_VAR, RecordError,
    RecordOutcome, RunRecord, StepRecord, TimelineEntry, write_record,
};
pub use diagnostics::diagnostics_main;
pub use discover::{EXCLUDED_DIRS, FULL_SCAN_FORBIDDEN_VAR, discover, id_of};
pub(crate) use execute::{run_vars, spawn_embedded};
pub use failing::failing_main;
pub use health::ALLOW_UNAVAILABLE_VAR;
pub use observe::Observer;
pub use record_writer::{RecordSink, RecordWriter};
pub(crate) use records::command_run_dir;
pub use records::run_record;
pub use run::{Run, RunOutcome, process_env, run};
pub use trials::{build_trials, main};
