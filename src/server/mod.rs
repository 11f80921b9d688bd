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
mod secrets;
mod serve;
mod session;
mod state;
mod users;

pub use crate::server_options::{
    DEFAULT_TOKEN_TTL, MAX_OPTION_DURATION, MAX_OVERSIZED_FRAME, SeedUser, ServerOptions,
};
pub use auth::{API_KEY_USER, Rejection};
pub use config::ServerConfig;
pub use error::ServerError;
pub use events::{DEFAULT_TOOL, MALFORMED_FRAME};
pub use extract::{JWT_PROTOCOL_PREFIX, SUPPORTED_PROTOCOLS};
pub use lifecycle::{ServerHandle, run, spawn};
pub use secrets::{
    API_KEY_VAR, BYPASS_KEY_VAR, ResolvedSecret, ServerSecrets, fingerprint, jwt_secret_variables,
    resolve_jwt_secret, secrets_from_env,
};
pub use serve::{ServeArgs, serve};
pub use users::GENERATED_ID_PREFIX;
