//! Steps: matching received frames against patterns, captures, and executing a
//! scenario's steps on an open connection.

mod http_step;
mod inbox;
mod runner;

pub use http_step::{run_http, run_phase};
pub use inbox::{Inbox, Incoming};
pub use runner::{Session, expect_close, run_steps};
