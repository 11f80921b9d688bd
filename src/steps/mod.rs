//! Steps: matching received frames against patterns, captures, and executing a
//! scenario's steps on an open connection.

mod http_step;
mod inbox;
mod matching;
mod runner;

pub(crate) use http_step::run_phase;
pub(crate) use inbox::Inbox;
pub(crate) use runner::{Session, expect_close, run_steps, settle, unclaimed_failure};
