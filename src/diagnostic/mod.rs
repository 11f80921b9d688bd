//! Owns located problems, a foundation every stage may use: [`Pos`], [`Diagnostic`] and its
//! rustc-style rendering, and "did you mean" ([`did_you_mean`]).

mod render;
mod suggest;

pub use render::{Diagnostic, Pos};
pub use suggest::{did_you_mean, suggest_from_serde_message};
