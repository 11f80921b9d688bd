//! The bundled reference server: an imitation of the staging backend's authenticated
//! WebSocket agent service, with switchable failure behaviours (see docs/reference-server.md).

pub(crate) mod auth;
mod bypass;
mod config;
mod error;
mod events;
mod extract;
mod lifecycle;
mod message_auth;
mod reply;
mod routes;
mod rpc;
mod schedule;
mod secrets;
mod serve;
mod session;
mod state;
mod users;

pub use crate::server_options::{SeedUser, ServerOptions};
pub use config::ServerConfig;
pub use error::ServerError;
pub use events::MALFORMED_FRAME;
pub use lifecycle::{ServerHandle, run, spawn};
pub use secrets::{
    ResolvedSecret, ServerSecrets, fingerprint, jwt_secret_variables, resolve_jwt_secret,
};
pub use serve::ServeArgs;
pub(crate) use serve::serve;
