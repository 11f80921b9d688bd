//! Output for people: failure reports, snapshots, and the record of a run (its summary and
//! JUnit report).

mod failure;
mod junit;
mod outcome;
pub(crate) mod snapshot;

pub(crate) use failure::{failure_diagnostic, unavailable_diagnostic};
pub(crate) use junit::JunitFile;
pub(crate) use outcome::{TrialOutcome, TrialRecord, summary};
pub(crate) use snapshot::snapshot_text;
