//! Owns what the one-environment subcommands (`token`, `doctor`, `new`) share: loading the
//! project configuration, picking one environment by name, a runtime for their async work,
//! and describing a secret without its value.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::environment::{CONFIG_FILE, Config, DEFAULT_ENVIRONMENT, Environment, Secret};

/// Why a subcommand could not start its real work.
#[derive(Debug, thiserror::Error)]
pub(super) enum SetupError {
    /// The configuration does not load; holds its report.
    #[error("load {CONFIG_FILE}:\n{0}")]
    Config(Box<Diagnostic>),
    #[error("select environment `{name}`: {reason}")]
    Environment { name: String, reason: String },
    #[error("start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl SetupError {
    /// Prints the error the way every subcommand does.
    pub(super) fn print(&self) {
        match self {
            // Already a complete, located report.
            Self::Config(d) => d.eprint(),
            other => Diagnostic::bare(format!("failed to {other}")).eprint(),
        }
    }
}

pub(super) fn load_config(root: &Path) -> Result<Config, SetupError> {
    Config::load(root).map_err(|d| SetupError::Config(Box::new(d)))
}

/// The environment named `name` (default `local`); one name, not a list.
pub(super) fn environment<'c>(
    config: &'c Config,
    name: Option<&str>,
) -> Result<&'c Environment, SetupError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_ENVIRONMENT);
    if name.contains(',') {
        return Err(SetupError::Environment {
            name: name.to_owned(),
            reason: "give one environment, not a list".to_owned(),
        });
    }
    config.environments.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.environments.keys().map(String::as_str).collect();
        let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
            .map(|h| format!(" (did you mean `{h}`?)"))
            .unwrap_or_default();
        SetupError::Environment {
            name: name.to_owned(),
            reason: format!(
                "{} does not declare it{hint}; it declares: {}",
                config.file.display(),
                known.join(", ")
            ),
        }
    })
}

/// A current-thread runtime: the embedded server runs in tasks beside the command.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, SetupError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SetupError::Runtime)
}

/// `from variable JWT_SECRET (sha256:…)`, `from variable JWT_SECRET in .env.staging (…)` or
/// `from the local default in sockspec.yaml (…)`.
pub(super) fn secret_source(secret: &Secret) -> String {
    let from = if secret.source == "default" {
        format!("from the local default in {CONFIG_FILE}")
    } else {
        format!("from variable {}", secret.source)
    };
    format!("{from} (sha256:{})", secret.fingerprint)
}

/// A human description of where the environment points.
pub(super) fn describe_endpoint(env: &Environment) -> String {
    match &env.endpoint {
        crate::environment::Endpoint::Embedded(_) => {
            "the embedded reference server (in-process, on 127.0.0.1)".to_owned()
        }
        crate::environment::Endpoint::Remote { ws_base, http_base } => match http_base {
            Some(h) => format!("{ws_base} (HTTP {h})"),
            None => format!("{ws_base} (no http_url)"),
        },
    }
}

/// A path argument that exists, relative to the current directory or else to the project
/// root (`--root`), made canonical; `None` when it exists under neither.
pub(super) fn existing_path(root: &Path, arg: &str) -> Option<std::path::PathBuf> {
    let given = Path::new(arg);
    [given.to_path_buf(), root.join(given)]
        .into_iter()
        .find(|p| p.exists())
        .and_then(|p| std::fs::canonicalize(p).ok())
}
