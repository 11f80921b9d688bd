//! Owns located problems, a foundation every stage may use: [`Pos`] (a span in a source
//! file), [`Diagnostic`] and its one rustc-style renderer (annotate-snippets; the conventions
//! for report texts are in its module), and "did you mean" (`did_you_mean`).

mod pos;
pub(crate) mod quote;
mod render;
mod suggest;

pub use pos::Pos;
pub use render::Diagnostic;
pub(crate) use suggest::{did_you_mean, suggest_from_serde_message};
