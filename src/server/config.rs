//! Owns [`ServerConfig`]: everything `run` and `spawn` need, the behaviour knobs (from the
//! foundation [`crate::server_options`]) and the secrets.

use super::secrets::ServerSecrets;
use crate::server_options::ServerOptions;

/// Everything `run` and `spawn` need.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Behaviour knobs.
    pub options: ServerOptions,
    /// Keys and secrets (never logged).
    pub secrets: ServerSecrets,
}
