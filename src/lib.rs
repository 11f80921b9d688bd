//! sockspec: declarative end-to-end tests for authenticated WebSocket services.
//!
//! # Layout
//!
//! Modules are declared below in layers, and a module imports only modules declared before
//! it (`tests/integration/layering.rs` enforces the order):
//!
//! 1. **Foundations** every stage may use: [`diagnostic`] (positions, located problems, "did
//!    you mean"), `duration`, [`exit`] (exit codes), [`pattern`] (the pattern language),
//!    [`template`] (`{{ expr }}`), `server_options` (the reference server's knobs, which
//!    the scenario and environment formats embed).
//! 2. **The stages**, in the order data flows: scenario files → [`scenario`] (raw model →
//!    validated plan) → [`environment`] (URLs, secrets) → [`transcript`] (the one event type
//!    every executing stage records into and the report reads) → `http` → `auth` →
//!    `handshake` → `steps` → `report`.
//! 3. **Beside them**: [`server`] (the reference server), [`harness`] (one run, the
//!    libtest-mimic glue) and [`cli`].

#![warn(unreachable_pub, missing_docs)]
#![expect(
    clippy::result_large_err,
    reason = "diagnostics and failures travel on cold paths; boxing them would only add noise"
)]

// Foundations.
pub mod diagnostic;
pub(crate) mod duration;
pub mod size;
pub mod exit;
pub mod pattern;
pub mod template;
pub(crate) mod server_options;

// The stages, in flow order.
pub mod scenario;
pub mod environment;
pub mod transcript;
pub(crate) mod http;
pub(crate) mod auth;
pub(crate) mod handshake;
pub(crate) mod steps;
pub(crate) mod report;

// Beside the pipeline.
pub mod server;
pub mod harness;
pub mod cli;
