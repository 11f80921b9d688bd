//! The project's integration tests, one binary (one link instead of one per file): the
//! `sockspec` binary's subcommands, the environment matrix, `setup`/`teardown`, `vars` and
//! `set`, shared fragments, size limits, secret redaction and the canary, run records and the
//! HTML report in a real browser, the JSON Schema, the layering rule of `src/`, the scenario
//! harness's `--exact` fast path, and scenarios against a misbehaving server. Each module says
//! in its `//!` what it owns.

mod browser;
mod canary;
mod check;
mod closing;
mod cli;
mod environments;
mod exact_fast_path;
mod fragments;
mod init;
mod html_numbers;
mod html_report;
mod layering;
mod limits;
mod misbehave;
mod misbehave_server;
mod progress;
mod redaction;
mod schema;
mod stable_snapshots;
mod support;
mod teardown;
mod variables;
