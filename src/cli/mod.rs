//! The `sockspec` command line: `test`, `check`, `serve`, `schema`. `main.rs` only calls [`main`].

mod args;
mod commands;
pub mod exit;
mod schema;

pub use args::{Cli, Command};
pub use commands::main;
