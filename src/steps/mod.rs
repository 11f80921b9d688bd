//! Steps: matching received frames against patterns, captures, and executing a
//! scenario's steps on an open connection.

mod capture;
mod inbox;
mod matcher;
mod runner;

pub use capture::lookup;
pub use inbox::{Inbox, Incoming};
pub use matcher::*;
pub use runner::{Session, expect_close, run_steps};
