//! Owns the project configuration file (`sockspec.yaml`): where scenarios and snapshots
//! live, and the environments (URLs, the embedded reference server, declared secrets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Pos};
use crate::scenario::parse_yaml;
use crate::server_options::ServerOptions;
use crate::size::Limits;

/// Name of the configuration file looked up at the project root.
pub(crate) const CONFIG_FILE: &str = "sockspec.yaml";
/// Environment used when `SOCKSPEC_ENV` is unset.
pub(crate) const DEFAULT_ENVIRONMENT: &str = "local";

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
    /// May use `{{ env.NAME }}` / `{{ env.NAME | default: VALUE }}`, as may `http_url` and
    /// the health check's `path`, `url` and `timeout`.
    ws_url: Option<Spanned<String>>,
    http_url: Option<Spanned<String>>,
    embedded: Option<RawEmbedded>,
    /// A `.env` file (relative to the project root) read for secret variables; process
    /// environment variables win over it. A missing file is not an error (CI sets variables).
    dotenv: Option<String>,
    health: Option<Spanned<RawHealth>>,
    /// How long the client waits for the server's answer to its close at the end of a
    /// scenario (a scenario's `connect.close_timeout` wins).
    close_timeout: Option<Spanned<String>>,
    /// Environment variables whose values scenarios may show in clear (`{{ env.NAME }}`
    /// values are otherwise redacted as `[env NAME]`).
    #[serde(default)]
    public_env: Vec<String>,
    #[serde(default)]
    secrets: BTreeMap<String, Spanned<SecretSpec>>,
    /// The largest message the client accepts (default 16MiB); bytes or a size (`64KiB`).
    max_message_size: Option<Spanned<serde_json::Value>>,
    /// The largest frame the client accepts (default 16MiB).
    max_frame_size: Option<Spanned<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    /// Below the environment's HTTP base URL.
    path: Option<Spanned<String>>,
    /// A full URL.
    url: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    /// The statuses that mean healthy: one or a list (default: any 2xx).
    status: Option<Spanned<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbedded {
    /// Name of the secret the embedded server checks JWTs with.
    jwt_secret: String,
    /// Name of the secret the server expects in `X-E2E-Bypass-Key`.
    bypass_key: Option<String>,
    /// Names of secrets the server accepts as API keys.
    #[serde(default)]
    api_keys: Vec<String>,
    /// PEM public key files (relative to the project root) enabling RS256 / ES256.
    rsa_public_key_file: Option<String>,
    ec_public_key_file: Option<String>,
    #[serde(default)]
    options: ServerOptions,
}

/// Where a secret comes from: the first set variable of `env`, else `default`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    /// Variables tried in order; the first that is set wins.
    #[serde(default)]
    pub env: Vec<String>,
    /// A literal value (local environments only), used when no variable is set.
    pub default: Option<String>,
}

/// The reference server started in-process for each scenario.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The secret holding the HMAC key the server verifies JWTs with.
    pub jwt_secret: String,
    /// The secret holding the E2E bypass key, if the server offers the exchange.
    pub bypass_key: Option<String>,
    /// Secrets holding the API keys the server accepts.
    pub api_keys: Vec<String>,
    /// A PEM file with the RSA public key for RS256 tokens.
    pub rsa_public_key_file: Option<PathBuf>,
    /// A PEM file with the EC public key for ES256 tokens.
    pub ec_public_key_file: Option<PathBuf>,
    /// The server's behaviour knobs (a scenario's `reference_server:` replaces them).
    pub options: ServerOptions,
}

impl Embedded {
    /// Names of the secrets the embedded server needs.
    pub fn secret_names(&self) -> Vec<&str> {
        let mut v = vec![self.jwt_secret.as_str()];
        v.extend(self.bypass_key.as_deref());
        v.extend(self.api_keys.iter().map(String::as_str));
        v
    }
}

/// Where an environment's health is checked.
#[derive(Debug, Clone)]
pub struct HealthSpec {
    /// A path below the HTTP base, or a full URL.
    pub target: crate::scenario::Target,
    pub timeout: std::time::Duration,
    /// The statuses that mean healthy; empty means any 2xx.
    pub status: Vec<u16>,
}

/// Where an environment's service is.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// A running service at these base URLs.
    Remote {
        /// `ws://` or `wss://` base URL; scenario paths are appended.
        ws_base: String,
        /// HTTP base URL for health checks, exchanges and `http` steps.
        http_base: Option<String>,
    },
    /// The reference server, started per scenario on 127.0.0.1:0.
    Embedded(Box<Embedded>),
}

/// One environment of `sockspec.yaml`: where the service is, its secrets and health check.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name (`local`, `staging`, …).
    pub name: String,
    /// Whether literal secret defaults are allowed (never for shared environments).
    pub local: bool,
    /// Where the service is.
    pub endpoint: Endpoint,
    /// The secrets it declares, by name.
    pub secrets: BTreeMap<String, SecretSpec>,
    /// The project root (key files are relative to it).
    pub root: PathBuf,
    /// Variables read from the environment's `.env` file.
    pub dotenv: BTreeMap<String, String>,
    /// That file as `sockspec.yaml` names it (`dotenv:`), to say where a secret came from.
    pub dotenv_file: Option<String>,
    /// The health check run before its scenarios, if any.
    pub health: Option<HealthSpec>,
    /// The client's message and frame size limits (a scenario's `connect:` replaces them).
    pub limits: Limits,
    /// `close_timeout:`, the wait for the answer to the client's close at the end of a
    /// scenario (a scenario's `connect.close_timeout` wins; default 2s).
    pub close_timeout: Option<std::time::Duration>,
    /// `public_env:`, the variables whose `{{ env.NAME }}` values are shown in clear; every
    /// other value a scenario takes from the environment is redacted as `[env NAME]`.
    pub public_env: std::collections::BTreeSet<String>,
}

impl Environment {
    /// A variable's value: the process environment first, then the `.env` file.
    pub fn lookup(&self, var: &str) -> Option<String> {
        self.lookup_in(&|v| std::env::var(v).ok(), var)
    }

    /// Reads `var` through `process` (the process environment, or a test's stand-in), then
    /// the environment's `.env` file. An empty value counts as unset.
    pub fn lookup_in(&self, process: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
        process(var)
            .filter(|v| !v.is_empty())
            .or_else(|| self.dotenv.get(var).cloned())
    }
}

/// The project configuration: `sockspec.yaml` and the directories it names.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project root (the directory of `sockspec.yaml`).
    pub root: PathBuf,
    /// The configuration file.
    pub file: PathBuf,
    /// Where the scenarios are (default `scenarios/`).
    pub scenarios_dir: PathBuf,
    /// Where the snapshots are (default `snapshots/`).
    pub snapshots_dir: PathBuf,
    /// Every environment, by name.
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

    /// Parses `text` (the content of `file`, under `root`); the diagnostic names the line to fix.
    pub fn parse(text: &str, root: &Path, file: &Path) -> Result<Config, Diagnostic> {
        Self::parse_in(text, root, file, &|v| std::env::var(v).ok())
    }

    /// [`Config::parse`], reading the variables of `{{ env.NAME }}` through `process` (the
    /// process environment, or a test's stand-in), then each environment's `.env` file.
    pub fn parse_in(
        text: &str,
        root: &Path,
        file: &Path,
        process: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Diagnostic> {
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
            let dotenv = match &env.value.dotenv {
                None => BTreeMap::new(),
                Some(f) => read_dotenv(&root.join(f)).map_err(|e| {
                    err(format!("cannot read the .env file `{f}`: {e}"))
                        .with_help("fix the line it names, or remove `dotenv:`")
                })?,
            };
            let secret_vars: BTreeMap<String, String> = env
                .value
                .secrets
                .iter()
                .flat_map(|(s, spec)| spec.value.env.iter().map(|v| (v.clone(), s.clone())))
                .collect();
            let lookup = |v: &str| {
                process(v)
                    .filter(|x| !x.is_empty())
                    .or_else(|| dotenv.get(v).cloned())
            };
            let expand = |value: &Spanned<String>, key: &str| {
                expand_vars(&value.value, &lookup, &secret_vars).map_err(|e| {
                    let pos = Pos::from_location(&value.referenced);
                    Diagnostic::new(e.message, file)
                        .with_source(source.clone())
                        .at(pos_in_value(&source, pos, &value.value, e.at))
                        .with_field(format!("environments.{name}.{key}"))
                        .with_help(e.help)
                })
            };
            let endpoint = match (env.value.embedded, env.value.ws_url) {
                (Some(e), None) => {
                    let embedded = Embedded {
                        jwt_secret: e.jwt_secret,
                        bypass_key: e.bypass_key,
                        api_keys: e.api_keys,
                        rsa_public_key_file: e.rsa_public_key_file.map(|f| root.join(f)),
                        ec_public_key_file: e.ec_public_key_file.map(|f| root.join(f)),
                        options: e.options,
                    };
                    for secret in embedded.secret_names() {
                        if !env.value.secrets.contains_key(secret) {
                            return Err(err(format!("embedded server uses secret `{secret}`, which this environment does not declare"))
                                .with_help("declare it under `secrets:`"));
                        }
                    }
                    if let Err(e) = embedded.options.validate() {
                        return Err(err(format!("invalid reference server options: {e}")));
                    }
                    Endpoint::Embedded(Box::new(embedded))
                }
                (None, Some(ws)) => Endpoint::Remote {
                    ws_base: expand(&ws, "ws_url")?.trim_end_matches('/').to_string(),
                    http_base: match &env.value.http_url {
                        None => None,
                        Some(h) => Some(expand(h, "http_url")?.trim_end_matches('/').to_string()),
                    },
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
            let health = match env.value.health {
                None => None,
                Some(h) => {
                    let at = Pos::from_location(&h.referenced);
                    let herr = |msg: String| {
                        Diagnostic::new(msg, file)
                            .with_source(source.clone())
                            .at(at)
                            .with_field(format!("environments.{name}.health"))
                    };
                    let path = match &h.value.path {
                        None => None,
                        Some(p) => Some(expand(p, "health.path")?),
                    };
                    let url = match &h.value.url {
                        None => None,
                        Some(u) => Some(expand(u, "health.url")?),
                    };
                    let target = match (path, url) {
                        (Some(p), None) if p.starts_with('/') => crate::scenario::Target::Path(p),
                        (None, Some(u))
                            if u.starts_with("http://") || u.starts_with("https://") =>
                        {
                            crate::scenario::Target::Url(u)
                        }
                        _ => {
                            return Err(herr(
                                "a health check needs one of `path: /health` or `url: https://...`"
                                    .into(),
                            ));
                        }
                    };
                    let timeout = match &h.value.timeout {
                        None => super::health::DEFAULT_HEALTH_TIMEOUT,
                        Some(t) => {
                            crate::duration::parse(&expand(t, "health.timeout")?).map_err(|e| {
                                Diagnostic::new(e.to_string(), file)
                                    .with_source(source.clone())
                                    .at(Pos::from_location(&t.referenced))
                                    .with_field(format!("environments.{name}.health.timeout"))
                                    .with_help(crate::duration::HELP)
                            })?
                        }
                    };
                    let status = match &h.value.status {
                        None => Vec::new(),
                        Some(s) => parse_statuses(&s.value).map_err(|e| {
                            Diagnostic::new(e, file)
                                .with_source(source.clone())
                                .at(Pos::from_location(&s.referenced))
                                .with_field(format!("environments.{name}.health.status"))
                                .with_help("a status or a list: `status: [200, 204]`")
                        })?,
                    };
                    Some(HealthSpec {
                        target,
                        timeout,
                        status,
                    })
                }
            };
            let close_timeout = match &env.value.close_timeout {
                None => None,
                Some(t) => Some(crate::duration::parse(&t.value).map_err(|e| {
                    Diagnostic::new(e.to_string(), file)
                        .with_source(source.clone())
                        .at(Pos::from_location(&t.referenced))
                        .with_field(format!("environments.{name}.close_timeout"))
                        .with_help(crate::duration::HELP)
                })?),
            };
            let size = |raw: &Option<Spanned<serde_json::Value>>, key: &str| match raw {
                None => Ok(None),
                Some(v) => crate::size::parse_value(&v.value).map(Some).map_err(|e| {
                    Diagnostic::new(e.to_string(), file)
                        .with_source(source.clone())
                        .at(Pos::from_location(&v.referenced))
                        .with_field(format!("environments.{name}.{key}"))
                        .with_help(crate::size::HELP)
                }),
            };
            let limits = Limits::default().with(
                size(&env.value.max_message_size, "max_message_size")?,
                size(&env.value.max_frame_size, "max_frame_size")?,
            );
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
                    root: root.to_path_buf(),
                    dotenv,
                    dotenv_file: env.value.dotenv.clone(),
                    health,
                    limits,
                    close_timeout,
                    public_env: env.value.public_env.iter().cloned().collect(),
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
                    let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
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

/// A health `status:`: one status or a list of them, each 100–599.
fn parse_statuses(value: &serde_json::Value) -> Result<Vec<u16>, String> {
    let items = match value {
        serde_json::Value::Array(items) if !items.is_empty() => items.as_slice(),
        serde_json::Value::Array(_) => return Err("`status` lists no status".into()),
        one => std::slice::from_ref(one),
    };
    items
        .iter()
        .map(|v| {
            v.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| (100..=599).contains(n))
                .ok_or_else(|| format!("`{v}` is not an HTTP status (100–599)"))
        })
        .collect()
}

/// Reads `KEY=value` lines with dotenvy, without touching the process environment.
/// A missing file reads as empty.
fn read_dotenv(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(i) => i,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(BTreeMap::new());
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut out = BTreeMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| e.to_string())?;
        out.insert(k, v);
    }
    Ok(out)
}

/// Why a value of `sockspec.yaml` could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VarError {
    /// What is wrong; it names variables, never their values.
    message: String,
    /// Character offset of the placeholder in the value, and its length.
    at: (usize, usize),
    /// What to do about it.
    help: String,
}

/// Expands every `{{ env.NAME }}` / `{{ env.NAME | default: VALUE }}` of `text`, reading
/// variables through `lookup`. `secret_vars` maps the variables secrets read to the secret's
/// name: those are refused, so that no secret value lands in a URL (URLs are printed).
fn expand_vars(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    secret_vars: &BTreeMap<String, String>,
) -> Result<String, VarError> {
    let mut out = String::new();
    let mut rest = text;
    let mut consumed = 0; // bytes of `text` before `rest`
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let start = consumed + open;
        let col = text[..start].chars().count();
        let Some(close) = rest[open..].find("}}") else {
            let len = text[start..].chars().count();
            return Err(VarError {
                message: "unclosed `{{`".into(),
                at: (col, len),
                help: "close it: `{{ env.NAME }}`".into(),
            });
        };
        let whole = &rest[open..open + close + 2];
        let at = (col, whole.chars().count());
        let inner = whole[2..whole.len() - 2].trim();
        let (var, default) = match inner.split_once('|') {
            None => (inner, None),
            Some((var, filter)) => {
                let filter = filter.trim();
                let Some(value) = filter.strip_prefix("default") else {
                    return Err(VarError {
                        message: format!("unknown filter `{filter}` in `{whole}`"),
                        at,
                        help: "the only filter is `default`: `{{ env.WS_PORT | default: 8888 }}`"
                            .into(),
                    });
                };
                let value = value.trim_start();
                let value = value
                    .strip_prefix(':')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| VarError {
                        message: format!("`default` needs a value in `{whole}`"),
                        at,
                        help: "write `| default: VALUE` (quote an empty value: `default: \"\"`)"
                            .into(),
                    })?;
                let unquoted = ['"', '\''].iter().find_map(|q| {
                    value
                        .strip_prefix(*q)
                        .and_then(|v| v.strip_suffix(*q))
                        .filter(|_| value.len() >= 2)
                });
                (var.trim(), Some(unquoted.unwrap_or(value)))
            }
        };
        let name = var
            .strip_prefix("env.")
            .filter(|n| crate::template::is_ident(n))
            .ok_or_else(|| VarError {
                message: format!("`{whole}` is not a variable sockspec.yaml can read"),
                at,
                help: "sockspec.yaml reads environment variables only: `{{ env.NAME }}` or `{{ env.NAME | default: VALUE }}`".into(),
            })?;
        if let Some(secret) = secret_vars.get(name) {
            return Err(VarError {
                message: format!("`{whole}` reads `{name}`, the variable of secret `{secret}`"),
                at,
                help: "URLs and health checks are printed in reports: read a variable that holds no secret".into(),
            });
        }
        match (lookup(name), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(VarError {
                    message: format!("environment variable `{name}` is not set"),
                    at,
                    help: format!(
                        "set `{name}` (or put it in the environment's `dotenv:` file), or give a default: `{{{{ env.{name} | default: VALUE }}}}`"
                    ),
                });
            }
        }
        let advance = open + close + 2;
        consumed += advance;
        rest = &rest[advance..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The position of character `offset` (length `len`) inside the scalar at `value`, when the
/// scalar sits on its line as written (plain or quoted, without escapes before `offset`);
/// else the scalar's own position.
fn pos_in_value(source: &str, value: Pos, raw: &str, (offset, len): (usize, usize)) -> Pos {
    let line = source.lines().nth(value.line.wrapping_sub(1)).unwrap_or("");
    let from: String = line.chars().skip(value.column.saturating_sub(1)).collect();
    let quote = if from.starts_with(raw) {
        Some(0)
    } else if (from.starts_with('"') || from.starts_with('\'')) && from[1..].starts_with(raw) {
        Some(1)
    } else {
        None
    };
    match quote {
        Some(q) if value.line > 0 => Pos::new(value.line, value.column + q + offset).with_len(len),
        _ => value,
    }
}

/// Used when the project has no `sockspec.yaml`.
pub(crate) const DEFAULT_CONFIG: &str = "\
environments:
  local:
    local: true
    embedded: {jwt_secret: jwt}
    secrets:
      jwt: {env: [SOCKSPEC_LOCAL_JWT_SECRET], default: sockspec-local-development-secret}
";

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(env: &str) -> Result<Config, Diagnostic> {
        let text = format!("environments:\n  e:\n    ws_url: ws://127.0.0.1:1\n{env}");
        Config::parse(&text, Path::new("."), Path::new("sockspec.yaml"))
    }

    #[test]
    fn size_limits_default_to_16_mib_and_are_set_per_environment() {
        let c = parse("").expect("valid");
        assert_eq!(c.environments["e"].limits, Limits::default());
        assert_eq!(Limits::default().max_message_size, 16 << 20);
        let c = parse("    max_message_size: 64KiB\n    max_frame_size: 4096\n").expect("valid");
        assert_eq!(
            c.environments["e"].limits,
            Limits {
                max_message_size: 64 << 10,
                max_frame_size: 4096,
            }
        );
        let e = parse("    max_message_size: 0\n").expect_err("zero");
        assert!(e.message.contains("is zero"), "{}", e.message);
        let e = parse("    max_frame_size: lots\n").expect_err("not a size");
        assert!(e.message.contains("invalid size `lots`"), "{}", e.message);
    }

    fn parse_vars(env: &str, vars: &[(&str, &str)]) -> Result<Config, Diagnostic> {
        let text = format!("environments:\n  e:\n{env}");
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::parse_in(&text, Path::new("."), Path::new("sockspec.yaml"), &|v| {
            vars.get(v).cloned()
        })
    }

    fn remote(c: &Config) -> (String, Option<String>) {
        match &c.environments["e"].endpoint {
            Endpoint::Remote { ws_base, http_base } => (ws_base.clone(), http_base.clone()),
            Endpoint::Embedded(_) => panic!("remote expected"),
        }
    }

    const PORTED: &str = "    ws_url: \"ws://127.0.0.1:{{ env.WS_PORT | default: 8888 }}/\"\n    http_url: 'http://{{env.HOST}}:{{ env.WS_PORT | default: 8888 }}'\n    health: {path: \"{{ env.HEALTH | default: /health }}\", timeout: \"{{ env.T | default: 3s }}\"}\n";

    #[test]
    fn a_port_comes_from_a_variable() {
        let c =
            parse_vars(PORTED, &[("WS_PORT", "9001"), ("HOST", "h"), ("T", "1s")]).expect("valid");
        let (ws, http) = remote(&c);
        assert_eq!(ws, "ws://127.0.0.1:9001");
        assert_eq!(http.as_deref(), Some("http://h:9001"));
        let health = c.environments["e"].health.clone().expect("health");
        assert_eq!(health.timeout, std::time::Duration::from_secs(1));
        assert!(matches!(health.target, crate::scenario::Target::Path(p) if p == "/health"));
    }

    #[test]
    fn the_default_is_used_when_the_variable_is_unset_or_empty() {
        let c = parse_vars(PORTED, &[("HOST", "h"), ("WS_PORT", "")]).expect("valid");
        assert_eq!(remote(&c).0, "ws://127.0.0.1:8888");
        let health = c.environments["e"].health.clone().expect("health");
        assert_eq!(health.timeout, std::time::Duration::from_secs(3));
    }

    #[test]
    fn an_unset_variable_without_default_is_located() {
        let e = parse_vars(PORTED, &[]).expect_err("HOST unset");
        assert_eq!(e.message, "environment variable `HOST` is not set");
        // Line 4: `    http_url: 'http://{{env.HOST}}:…'`, the placeholder at column 23.
        assert_eq!(e.location(), "sockspec.yaml:4:23");
        assert_eq!(e.field.as_deref(), Some("environments.e.http_url"));
        let e = parse_vars("    ws_url: ws://{{env.WS_HOST}}\n", &[]).expect_err("unset");
        assert_eq!(e.location(), "sockspec.yaml:3:18");
        assert!(
            e.help
                .as_deref()
                .unwrap_or("")
                .contains("{{ env.WS_HOST | default: VALUE }}")
        );
    }

    #[test]
    fn a_secret_variable_is_refused_without_showing_its_value() {
        let env =
            "    ws_url: \"ws://h/?k={{ env.KEY }}\"\n    secrets:\n      key: {env: [KEY]}\n";
        let e = parse_vars(env, &[("KEY", "s3cr3t-value")]).expect_err("secret");
        assert!(e.message.contains("secret `key`"), "{}", e.message);
        assert!(!e.render().contains("s3cr3t-value"), "{}", e.render());
    }

    #[test]
    fn malformed_placeholders_are_errors() {
        for (value, wanted) in [
            ("ws://{{ env.A", "unclosed"),
            ("ws://{{ now }}", "not a variable"),
            ("ws://{{ env.A | upper }}", "unknown filter"),
            ("ws://{{ env.A | default: }}", "needs a value"),
        ] {
            let e = parse_vars(&format!("    ws_url: \"{value}\"\n"), &[]).expect_err(value);
            assert!(e.message.contains(wanted), "{value}: {}", e.message);
        }
        let c =
            parse_vars("    ws_url: \"ws://h:{{ env.P | default: '' }}\"\n", &[]).expect("valid");
        assert_eq!(remote(&c).0, "ws://h:");
    }

    #[test]
    fn health_status_is_one_status_or_a_list() {
        let status = |s: &str| {
            parse_vars(
                &format!("    ws_url: ws://h\n    health: {{path: /health, status: {s}}}\n"),
                &[],
            )
            .map(|c| c.environments["e"].health.clone().expect("health").status)
        };
        assert_eq!(status("[200, 204]").expect("valid"), vec![200, 204]);
        assert_eq!(status("204").expect("valid"), vec![204]);
        assert!(
            status("[]")
                .expect_err("empty")
                .message
                .contains("lists no status")
        );
        let e = status("[200, 99]").expect_err("out of range");
        assert!(
            e.message.contains("`99` is not an HTTP status"),
            "{}",
            e.message
        );
        assert!(parse("").expect("valid").environments["e"].health.is_none());
    }
}
