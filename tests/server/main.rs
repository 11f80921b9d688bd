//! The reference server's tests, one binary: `support` holds the shared helpers (starting
//! servers, minting tokens, connecting, reading frames); each other module owns one concern.

mod auth;
mod failures;
mod families;
mod protocol;
mod serve;
mod staging;
mod support;
