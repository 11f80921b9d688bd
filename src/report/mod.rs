//! Output for people: located diagnostics, "did you mean", failure reports, snapshots, and
//! the record of a run (its summary and JUnit report).

mod diagnostic;
mod failure;
mod junit;
mod outcome;
mod snapshot;
mod suggest;

pub use diagnostic::{Diagnostic, Pos};
pub use failure::{LAST_FRAMES, failure_diagnostic};
pub use junit::{JunitError, JunitFile, junit_report};
pub use outcome::{TrialOutcome, TrialRecord, summary};
pub use snapshot::{assert_snapshot_file, assert_transcript, snapshot_text};
pub use suggest::{did_you_mean, suggest_from_serde_message};
