//! sockspec: declarative end-to-end tests for authenticated WebSocket services.
//!
//! Data flows one way: scenario files → [`scenario`] (raw model → validated plan) →
//! [`environment`] (URLs, secrets) → [`auth`] → [`handshake`] → [`steps`] →
//! [`transcript`] → [`report`]. Beside it: [`server`] (the reference server), [`harness`]
//! (libtest-mimic glue) and [`cli`].

#![expect(
    clippy::result_large_err,
    reason = "diagnostics and failures travel on cold paths; boxing them would only add noise"
)]

pub mod auth;
pub mod cli;
pub mod environment;
pub mod handshake;
pub mod harness;
pub mod http;
pub mod report;
pub mod scenario;
pub mod server;
pub mod steps;
pub mod transcript;
