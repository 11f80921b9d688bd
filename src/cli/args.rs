//! Owns the command-line grammar (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::server::ServeArgs;

/// Declarative end-to-end tests for authenticated WebSocket services.
#[derive(Debug, Parser)]
#[command(name = "sockspec", version, about)]
pub(crate) struct Cli {
    /// Project root (holds sockspec.yaml, scenarios/ and snapshots/).
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
pub(crate) enum Command {
    /// Run scenarios (the same harness and filters as `cargo nextest run --test scenarios`).
    Test {
        /// Scenario files or directories (`scenarios/auth/`, relative to the current
        /// directory or to `--root`), or trial-name filters (`local::auth/`); none runs
        /// everything.
        #[arg(value_name = "PATH")]
        filters: Vec<String>,
        /// Environments to run (comma list); overrides SOCKSPEC_ENV.
        #[arg(long, short = 'e')]
        env: Option<String>,
        /// List the trials instead of running them.
        #[arg(long)]
        list: bool,
        /// Also write a JUnit XML report of the run to this file.
        #[arg(long, value_name = "FILE", conflicts_with = "list")]
        junit: Option<PathBuf>,
        /// Scenarios run at the same time (default: four per core; scenarios mostly wait on I/O).
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Run the selected scenarios N times (rounds), then print each scenario's pass count.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "list")]
        repeat: u32,
        /// Repeat rounds until one has a failure: at most --repeat rounds, or 1000 without
        /// --repeat. Prints each scenario's pass count.
        #[arg(long, conflicts_with = "list")]
        until_fail: bool,
        /// Accept every new or changed transcript as its snapshot instead of failing (the
        /// same as SOCKSPEC_ACCEPT=1); review the result with `git diff`.
        #[arg(long, conflicts_with = "list")]
        accept: bool,
        /// Write each trial's run record into this directory (default: SOCKSPEC_RUN_DIR, else
        /// a new directory under target/sockspec/runs/).
        #[arg(long, value_name = "DIR", conflicts_with = "list")]
        run_dir: Option<PathBuf>,
        /// Also write the HTML report of the run to this file.
        #[arg(long, value_name = "FILE", conflicts_with = "list")]
        html: Option<PathBuf>,
    },
    /// Show each pending snapshot (`.snap.new`, left by a failed run) as a diff, then accept,
    /// reject or skip it (answers read from standard input).
    Review(super::snapshots::FilterArgs),
    /// Accept pending snapshots: each `.snap.new` becomes its `.snap`.
    Accept(super::snapshots::FilterArgs),
    /// Reject pending snapshots: delete their `.snap.new`.
    Reject(super::snapshots::FilterArgs),
    /// List the snapshots: ok, pending, or orphan (no scenario makes it). With --check,
    /// orphan or pending snapshots fail (exit 10), for CI.
    Snapshots(super::snapshots::SnapshotsArgs),
    /// Parse and validate every scenario (or those given) and the configuration, and check
    /// that every secret is set; no network. Exit codes: 0 fine, 3 invalid files, 5 missing
    /// secrets.
    Check {
        /// Scenario files or directories to check (relative to the current directory or to
        /// `--root`); none checks everything.
        #[arg(value_name = "PATH")]
        paths: Vec<String>,
        /// Environments whose secrets to check (comma list); overrides SOCKSPEC_ENV.
        #[arg(long, short = 'e')]
        env: Option<String>,
    },
    /// Write one HTML page from run records (several run directories merge into one).
    Report(super::report::ReportArgs),
    /// Run the reference server.
    Serve(ServeArgs),
    /// Show the token a scenario uses in an environment, explained (the token only with --reveal).
    Token(super::token::TokenArgs),
    /// Decode a JWT without verifying it: header, claims, expiry (never the signature).
    Decode(super::decode::DecodeArgs),
    /// Check an environment: secrets, DNS, TCP, TLS, health, clock, exchange, a probe handshake.
    Doctor(super::doctor::DoctorArgs),
    /// Set a project up here: sockspec.yaml, scenarios/ with an example, snapshots/, the
    /// JSON Schemas, .gitignore lines, a CI workflow; with --cargo a nextest harness. Never
    /// overwrites a file.
    Init(super::init::InitArgs),
    /// Write a commented starter scenario (never overwrites).
    New(super::new::NewArgs),
    /// Print the JSON Schema of scenario files (editors: schema/scenario.schema.json).
    Schema {
        /// Print the schema of fragments instead (`_shared/` files; schema/fragment.schema.json).
        #[arg(long)]
        fragment: bool,
    },
}
