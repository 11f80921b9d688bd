//! Owns the pattern language, a foundation every stage may use: [`Pattern`] (what an
//! `expect` step or an `ignore` matches), its predicates (`$regex`, `$gt`, …), the
//! [`Mismatch`] explanation and diff, and dotted JSON paths (`json_path`).

pub(crate) mod json_path;
mod matcher;
mod mismatch;
mod predicate;

pub use matcher::{Pattern, PatternError};
pub use mismatch::{Mismatch, render_diff};
