//! Output for people: located diagnostics, "did you mean", failure reports and snapshots.

mod diagnostic;
mod suggest;

pub use diagnostic::{Diagnostic, Pos};
pub use suggest::{did_you_mean, suggest_from_serde_message};
