//! Output for people: failure reports, snapshots, and the record of a run (its summary and
//! JUnit report).

mod failure;
mod junit;
mod outcome;
mod snapshot;

pub use failure::{LAST_FRAMES, failure_diagnostic, unavailable_diagnostic};
pub use junit::{JunitError, JunitFile, junit_report};
pub use outcome::{TrialOutcome, TrialRecord, summary};
pub use snapshot::{assert_snapshot_file, assert_transcript, snapshot_text};
