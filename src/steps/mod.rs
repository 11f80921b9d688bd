//! Steps: matching received frames against patterns, captures, variables (`vars`, `set`),
//! and executing a scenario's steps on an open connection.

mod closing;
mod http_step;
mod inbox;
mod matching;
mod runner;
mod set;

pub(crate) use closing::close_at_end;
pub(crate) use http_step::run_phase;
pub(crate) use inbox::Inbox;
pub(crate) use runner::{Session, expect_close, run_steps, settle, unclaimed_failure};
pub(crate) use set::assign_vars;
