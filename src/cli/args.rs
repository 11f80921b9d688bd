//! Owns the command-line grammar (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::server::ServeArgs;

/// Declarative end-to-end tests for authenticated WebSocket services.
#[derive(Debug, Parser)]
#[command(name = "sockspec", version, about)]
pub struct Cli {
    /// Project root (holds sockspec.yaml, scenarios/ and snapshots/).
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum Command {
    /// Run scenarios (the same harness and filters as `cargo nextest run --test scenarios`).
    Test {
        /// Run only trials whose name contains one of these (e.g. `local::auth/`).
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
    },
    /// Parse and validate every scenario and the configuration; no network.
    Check,
    /// Run the reference server.
    Serve(ServeArgs),
    /// Print the JSON Schema of scenario files (editors: schema/scenario.schema.json).
    Schema,
}
