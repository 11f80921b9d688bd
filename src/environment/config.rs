//! Owns the project configuration file (`sockspec.yaml`): where scenarios and snapshots
//! live, and the environments (URLs, the embedded reference server, declared secrets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::report::{Diagnostic, Pos};
use crate::scenario::parse_yaml;
use crate::server::ServerOptions;

/// Name of the configuration file looked up at the project root.
pub const CONFIG_FILE: &str = "sockspec.yaml";
/// Environment used when `SOCKSPEC_ENV` is unset.
pub const DEFAULT_ENVIRONMENT: &str = "local";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_scenarios")]
    scenarios: String,
    #[serde(default = "default_snapshots")]
    snapshots: String,
    environments: BTreeMap<String, Spanned<RawEnvironment>>,
}

fn default_scenarios() -> String {
    "scenarios".into()
}
fn default_snapshots() -> String {
    "snapshots".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    /// Marks a developer environment: only these may give a secret a literal `default`.
    #[serde(default)]
    local: bool,
    ws_url: Option<String>,
    http_url: Option<String>,
    embedded: Option<RawEmbedded>,
    #[serde(default)]
    secrets: BTreeMap<String, Spanned<SecretSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbedded {
    /// Name of the secret the embedded server checks JWTs with.
    jwt_secret: String,
    #[serde(default)]
    options: ServerOptions,
}

/// Where a secret comes from: the first set variable of `env`, else `default`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    #[serde(default)]
    pub env: Vec<String>,
    pub default: Option<String>,
}

/// The reference server started in-process for each scenario.
#[derive(Debug, Clone)]
pub struct Embedded {
    pub jwt_secret: String,
    pub options: ServerOptions,
}

#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A running service at these base URLs.
    Remote {
        ws_base: String,
        http_base: Option<String>,
    },
    /// The reference server, started per scenario on 127.0.0.1:0.
    Embedded(Embedded),
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub local: bool,
    pub endpoint: Endpoint,
    pub secrets: BTreeMap<String, SecretSpec>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub file: PathBuf,
    pub scenarios_dir: PathBuf,
    pub snapshots_dir: PathBuf,
    pub environments: BTreeMap<String, Environment>,
}

impl Config {
    /// Loads `<root>/sockspec.yaml`. Without the file, the built-in default applies: one
    /// `local` environment running the embedded server with a development secret.
    pub fn load(root: &Path) -> Result<Config, Diagnostic> {
        // Absolute, because insta resolves relative snapshot paths from its own source file.
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let root = root.as_path();
        let file = root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DEFAULT_CONFIG.to_string(),
            Err(e) => {
                return Err(Diagnostic::new(
                    format!("cannot read configuration: {e}"),
                    &file,
                ));
            }
        };
        Self::parse(&text, root, &file)
    }

    pub fn parse(text: &str, root: &Path, file: &Path) -> Result<Config, Diagnostic> {
        let source: Arc<str> = Arc::from(text);
        let raw: RawConfig = parse_yaml(text, file, &source)?;
        let mut environments = BTreeMap::new();
        for (name, env) in raw.environments {
            let at = Pos::from_location(&env.referenced);
            let err = |msg: String| {
                Diagnostic::new(msg, file)
                    .with_source(source.clone())
                    .at(at)
                    .with_field(format!("environments.{name}"))
            };
            let endpoint = match (env.value.embedded, env.value.ws_url) {
                (Some(e), None) => {
                    if !env.value.secrets.contains_key(&e.jwt_secret) {
                        return Err(err(format!("embedded server uses secret `{}`, which this environment does not declare", e.jwt_secret))
                            .with_help("declare it under `secrets:`"));
                    }
                    Endpoint::Embedded(Embedded {
                        jwt_secret: e.jwt_secret,
                        options: e.options,
                    })
                }
                (None, Some(ws)) => Endpoint::Remote {
                    ws_base: ws.trim_end_matches('/').to_string(),
                    http_base: env
                        .value
                        .http_url
                        .map(|h| h.trim_end_matches('/').to_string()),
                },
                (Some(_), Some(_)) => {
                    return Err(err(format!(
                        "environment `{name}` has both `embedded` and `ws_url`"
                    ))
                    .with_help("keep one: `embedded` runs the reference server in-process"));
                }
                (None, None) => {
                    return Err(err(format!(
                        "environment `{name}` has neither `ws_url` nor `embedded`"
                    ))
                    .with_help("add `ws_url: wss://host` or `embedded: {jwt_secret: <name>}`"));
                }
            };
            let mut secrets = BTreeMap::new();
            for (sname, spec) in env.value.secrets {
                if spec.value.default.is_some() && !env.value.local {
                    return Err(Diagnostic::new(format!("secret `{sname}` has a literal `default` in non-local environment `{name}`"), file)
                        .with_source(source.clone())
                        .at(Pos::from_location(&spec.referenced))
                        .with_help("read it from an environment variable (`env: [VAR]`), or mark the environment `local: true`"));
                }
                if spec.value.env.is_empty() && spec.value.default.is_none() {
                    return Err(Diagnostic::new(format!("secret `{sname}` has no source"), file)
                        .with_source(source.clone())
                        .at(Pos::from_location(&spec.referenced))
                        .with_help("list the variables to read: `env: [JWT_SECRET_STAGING, JWT_SECRET]`"));
                }
                secrets.insert(sname, spec.value);
            }
            environments.insert(
                name.clone(),
                Environment {
                    name,
                    local: env.value.local,
                    endpoint,
                    secrets,
                },
            );
        }
        Ok(Config {
            root: root.to_path_buf(),
            file: file.to_path_buf(),
            scenarios_dir: root.join(raw.scenarios),
            snapshots_dir: root.join(raw.snapshots),
            environments,
        })
    }

    /// The environments named by `SOCKSPEC_ENV` (a comma list), default `local`.
    pub fn select(&self, spec: Option<&str>) -> Result<Vec<&Environment>, String> {
        let spec = spec
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_ENVIRONMENT);
        let mut out = Vec::new();
        for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match self.environments.get(name) {
                Some(e) => {
                    if !out.iter().any(|o: &&Environment| o.name == name) {
                        out.push(e);
                    }
                }
                None => {
                    let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
                    let hint = crate::report::did_you_mean(name, known.iter().copied())
                        .map(|h| format!(" (did you mean `{h}`?)"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown environment `{name}` in SOCKSPEC_ENV{hint}; {} declares: {}",
                        self.file.display(),
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Used when the project has no `sockspec.yaml`.
pub const DEFAULT_CONFIG: &str = "\
environments:
  local:
    local: true
    embedded: {jwt_secret: jwt}
    secrets:
      jwt: {env: [SOCKSPEC_LOCAL_JWT_SECRET], default: sockspec-local-development-secret}
";
