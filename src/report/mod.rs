//! Output for people: located diagnostics, "did you mean", failure reports and snapshots.

mod diagnostic;
mod failure;
mod snapshot;
mod suggest;

pub use diagnostic::{Diagnostic, Pos};
pub use failure::{LAST_FRAMES, failure_diagnostic};
pub use snapshot::{assert_snapshot_file, assert_transcript, snapshot_text};
pub use suggest::{did_you_mean, suggest_from_serde_message};
