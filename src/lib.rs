//! sockspec
pub mod server;
