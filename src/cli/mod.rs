//! The `sockspec` command line: `test`, `check`, `serve`, `token`, `decode`, `doctor`, `new`, `report`, `schema`.
//! `main.rs` only calls [`main`].

mod args;
mod check;
mod commands;
mod decode;
mod doctor;
mod new;
mod report;
mod schema;
mod support;
mod token;

pub use commands::main;
