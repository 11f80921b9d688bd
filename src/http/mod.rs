//! HTTP calls to the environment under test: `http` steps and the `exchange` strategy.

mod call;
mod client;

pub(crate) use call::{HttpEnv, HttpError, pointer, send};
pub(crate) use client::{builder as client_builder, roots, tls_config};
