//! Environments: the project configuration, environment selection, secret resolution and
//! health checks.

mod config;
mod health;
mod secrets;

pub use config::{Config, Embedded, Endpoint, Environment, SecretSpec};
pub(crate) use config::{CONFIG_FILE, DEFAULT_CONFIG, DEFAULT_ENVIRONMENT};
pub use health::Unavailable;
pub(crate) use health::{DEFAULT_HEALTH_TIMEOUT, HealthCache, RUN_ID_VAR, check};
pub use secrets::{MissingSecrets, Secret, Secrets, fingerprint};
