//! The project's integration tests, one binary (one link instead of one per file): the
//! `sockspec` binary's subcommands, the environment matrix, `setup`/`teardown`, secret
//! redaction and the canary, the JSON Schema, and the layering rule of `src/`. Each module
//! says in its `//!` what it owns.

mod canary;
mod check;
mod cli;
mod environments;
mod layering;
mod redaction;
mod schema;
mod teardown;
