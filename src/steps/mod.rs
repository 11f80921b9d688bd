//! Scenario steps and the matching of received frames against expectations.

pub mod json_path;
pub mod matcher;
pub mod mismatch;
mod predicate;
