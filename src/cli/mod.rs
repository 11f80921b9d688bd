//! The `sockspec` command line: `test`, `check`, `serve`. `main.rs` only calls [`main`].

mod args;
mod check;
mod commands;
pub mod exit;

pub use args::{Cli, Command};
pub use commands::main;
