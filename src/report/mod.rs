//! Output for people: failure reports, snapshots, the record of a run (its summary, JUnit
//! report and per-trial run records) and the HTML report of run records.

mod failure;
mod html;
mod junit;
mod outcome;
mod record;
mod record_build;
mod run_dir;
pub(crate) mod snapshot;

pub(crate) use failure::{failure_diagnostic, unavailable_diagnostic};
pub(crate) use html::{HtmlError, read_runs, write_report};
pub(crate) use junit::JunitFile;
pub(crate) use outcome::{Counts, TrialOutcome, TrialRecord, summary};
pub use record::{
    Cause, CauseKind, EntryKind, FrameDisposition, HttpRecord, Lane, RecordOutcome, RunRecord,
    StepRecord, TimelineEntry,
};
pub(crate) use record_build::RecordInput;
#[cfg(test)]
pub(crate) use run_dir::read_run_dir;
pub use run_dir::{RUN_DIR_VAR, RecordError, write_record};
pub(crate) use run_dir::{
    append_record, create_bundle, new_bundle_name, new_run_id, newest_run, prune_runs, runs_root,
};
pub(crate) use snapshot::snapshot_text;
