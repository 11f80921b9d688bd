//! Environments: the project configuration, environment selection, secret resolution and
//! health checks.

mod config;
mod health;
mod secrets;

pub(crate) use config::{CONFIG_FILE, DEFAULT_ENVIRONMENT};
pub use config::{Config, Embedded, Endpoint, Environment, SecretSpec};
pub use health::Unavailable;
pub(crate) use health::{HealthCache, check};
pub use secrets::{MissingSecrets, Secret, Secrets, fingerprint};
