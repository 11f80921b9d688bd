//! The `sockspec` command line: `test`, `check`, `review`, `accept`, `reject`, `snapshots`,
//! `init`, `new`, `report`, `serve`, `token`, `decode`, `doctor`, `schema`.
//! `main.rs` only calls [`main`].

mod args;
mod check;
mod commands;
mod decode;
mod doctor;
mod init;
mod new;
mod progress;
mod report;
mod schema;
mod snapshots;
mod support;
mod token;

pub use commands::main;
