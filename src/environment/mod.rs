//! Environments: the project configuration, environment selection, secret resolution and
//! health checks.

mod config;
mod health;
mod secrets;

pub use config::{
    CONFIG_FILE, Config, DEFAULT_CONFIG, DEFAULT_ENVIRONMENT, Embedded, Endpoint, Environment,
    SecretSpec,
};
pub use health::{DEFAULT_HEALTH_TIMEOUT, HealthCache, RUN_ID_VAR, Unavailable, check};
pub use secrets::{MissingSecrets, Secret, Secrets, fingerprint};
