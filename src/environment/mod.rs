//! Environments: the project configuration, environment selection and secret resolution.

mod config;
mod secrets;

pub use config::{
    CONFIG_FILE, Config, DEFAULT_CONFIG, DEFAULT_ENVIRONMENT, Embedded, Endpoint, Environment,
    SecretSpec,
};
pub use secrets::{MissingSecrets, Secret, Secrets};
