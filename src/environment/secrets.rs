//! Owns secret resolution: for each secret an environment declares, the first set variable
//! of its ordered list (or the local default), with its source and fingerprint. Everything
//! missing is reported at once, naming every variable tried.

use std::collections::BTreeMap;
use std::fmt;

use super::config::Environment;
use sha2::{Digest, Sha256};

/// The first 16 lowercase hex digits of the SHA-256 of `secret`: enough to
/// tell secrets apart in a report without revealing them.
pub fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A resolved secret. `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret {
    /// Its name in `sockspec.yaml`.
    pub name: String,
    /// The value (never printed: use the fingerprint).
    pub value: String,
    /// The variable it came from (`JWT_SECRET`; `JWT_SECRET in .env.staging` when the
    /// environment's `dotenv:` file set it), or `default`.
    pub source: String,
    /// The first 16 hex digits of its SHA-256.
    pub fingerprint: String,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Secret({} from {} sha256:{})",
            self.name, self.source, self.fingerprint
        )
    }
}

impl Secret {
    /// The marker that replaces the value everywhere it could be printed.
    pub fn marker(&self) -> String {
        format!(
            "[secret {} from {} sha256:{}]",
            self.name, self.source, self.fingerprint
        )
    }
}

/// Secrets that could not be resolved: name → variables tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("resolve secrets for environment '{environment}': {}", describe(.missing))]
pub struct MissingSecrets {
    /// The environment.
    pub environment: String,
    /// Each missing secret with every variable tried.
    pub missing: Vec<(String, Vec<String>)>,
}

fn describe(missing: &[(String, Vec<String>)]) -> String {
    missing
        .iter()
        .map(|(name, vars)| {
            if vars.is_empty() {
                format!("secret `{name}` is not declared by the environment")
            } else {
                format!("secret `{name}` not set (tried {})", vars.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An environment's resolved secrets, by name: each value with the variable it came from and
/// its fingerprint. `Debug` never shows a value; `transcript::Redactor::from_secrets` hides
/// every value wherever it could be printed.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    by_name: BTreeMap<String, Secret>,
}

impl Secrets {
    /// Resolves `names` for `env`, reading variables through `lookup`.
    pub fn resolve<'a>(
        env: &Environment,
        names: impl IntoIterator<Item = &'a str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secrets, MissingSecrets> {
        Self::resolve_described(env, names, lookup, &str::to_owned)
    }

    /// [`Secrets::resolve`], each secret's source written by `source_of(variable)`.
    fn resolve_described<'a>(
        env: &Environment,
        names: impl IntoIterator<Item = &'a str>,
        lookup: &dyn Fn(&str) -> Option<String>,
        source_of: &dyn Fn(&str) -> String,
    ) -> Result<Secrets, MissingSecrets> {
        let mut by_name = BTreeMap::new();
        let mut missing = Vec::new();
        for name in names {
            if by_name.contains_key(name) || missing.iter().any(|(n, _)| n == name) {
                continue;
            }
            let Some(spec) = env.secrets.get(name) else {
                missing.push((name.to_string(), Vec::new()));
                continue;
            };
            let found = spec
                .env
                .iter()
                .find_map(|var| {
                    lookup(var)
                        .filter(|v| !v.is_empty())
                        .map(|v| (source_of(var), v))
                })
                .or_else(|| spec.default.clone().map(|d| ("default".to_string(), d)));
            match found {
                Some((source, value)) => {
                    let fingerprint = fingerprint(value.as_bytes());
                    by_name.insert(
                        name.to_string(),
                        Secret {
                            name: name.to_string(),
                            value,
                            source,
                            fingerprint,
                        },
                    );
                }
                None => missing.push((name.to_string(), spec.env.clone())),
            }
        }
        if missing.is_empty() {
            Ok(Secrets { by_name })
        } else {
            Err(MissingSecrets {
                environment: env.name.clone(),
                missing,
            })
        }
    }

    /// Resolves every secret `env` declares, reading variables with [`Environment::lookup`]
    /// (process environment, then the `.env` file). What resolves is returned even when
    /// something is missing, so scenarios that need only present secrets can still run.
    pub fn resolve_declared(env: &Environment) -> (Secrets, Option<MissingSecrets>) {
        Self::resolve_declared_in(env, &|v| std::env::var(v).ok())
    }

    /// [`Secrets::resolve_declared`] with `process` standing for the process environment.
    pub fn resolve_declared_in(
        env: &Environment,
        process: &dyn Fn(&str) -> Option<String>,
    ) -> (Secrets, Option<MissingSecrets>) {
        let names: Vec<&str> = env.secrets.keys().map(String::as_str).collect();
        let lookup = |v: &str| env.lookup_in(process, v);
        // A variable the process does not set came from the `dotenv:` file: say so.
        let source_of = |v: &str| match &env.dotenv_file {
            Some(file) if process(v).is_none_or(|x| x.is_empty()) => format!("{v} in {file}"),
            _ => v.to_owned(),
        };
        match Self::resolve_described(env, names.iter().copied(), &lookup, &source_of) {
            Ok(s) => (s, None),
            Err(missing) => {
                let present = names
                    .iter()
                    .copied()
                    .filter(|n| !missing.missing.iter().any(|(m, _)| m == n));
                let partial =
                    Self::resolve_described(env, present, &lookup, &source_of).unwrap_or_default();
                (partial, Some(missing))
            }
        }
    }

    /// Every resolved secret, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.by_name.values()
    }

    /// The secret named `name`, when it resolved.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.by_name.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_16_hex_digits_of_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223...
        assert_eq!(fingerprint(b"abc"), "ba7816bf8f01cfea");
        assert_eq!(fingerprint(b"").len(), 16);
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
    use crate::environment::Config;
    use crate::environment::config::DEFAULT_CONFIG;
    use std::path::Path;

    fn env() -> Environment {
        let text = "environments:\n  staging:\n    ws_url: wss://example.invalid\n    secrets:\n      jwt: {env: [JWT_SECRET_STAGING, JWT_SECRET_KEY, JWT_SECRET]}\n      key: {env: [E2E_BYPASS_KEY]}\n";
        let c =
            Config::parse(text, Path::new("."), Path::new("sockspec.yaml")).expect("valid config");
        c.environments["staging"].clone()
    }

    #[test]
    fn a_secret_from_the_dotenv_file_says_so() {
        let mut e = env();
        e.dotenv
            .insert("JWT_SECRET_KEY".to_owned(), "from-the-file".to_owned());
        e.dotenv_file = Some(".env.staging".to_owned());
        let none = |_: &str| None;
        let (s, _) = Secrets::resolve_declared_in(&e, &none);
        let jwt = s.get("jwt").expect("from the file");
        assert_eq!(jwt.source, "JWT_SECRET_KEY in .env.staging");
        assert!(
            jwt.marker()
                .contains("from JWT_SECRET_KEY in .env.staging sha256:")
        );
        // The process wins over the file, and is named alone.
        let process = |v: &str| (v == "JWT_SECRET_KEY").then(|| "from-the-process".to_owned());
        let (s, _) = Secrets::resolve_declared_in(&e, &process);
        assert_eq!(s.get("jwt").expect("set").source, "JWT_SECRET_KEY");
        assert!(!format!("{s:?}").contains("from-the"), "values never shown");
    }

    #[test]
    fn first_set_variable_wins() {
        let lookup = |v: &str| match v {
            "JWT_SECRET_KEY" => Some("k".to_string()),
            "JWT_SECRET" => Some("j".to_string()),
            _ => None,
        };
        let s = Secrets::resolve(&env(), ["jwt"], &lookup).expect("resolves");
        let jwt = s.get("jwt").expect("present");
        assert_eq!(jwt.source, "JWT_SECRET_KEY");
        assert_eq!(jwt.value, "k");
        assert!(!format!("{jwt:?}").contains("\"k\""));
    }

    #[test]
    fn missing_lists_every_variable_once() {
        let err =
            Secrets::resolve(&env(), ["jwt", "key", "jwt"], &|_| None).expect_err("nothing set");
        let text = err.to_string();
        assert!(
            text.contains("tried JWT_SECRET_STAGING, JWT_SECRET_KEY, JWT_SECRET"),
            "{text}"
        );
        assert!(text.contains("tried E2E_BYPASS_KEY"), "{text}");
        assert_eq!(err.missing.len(), 2);
    }

    #[test]
    fn default_config_has_local_default() {
        let c = Config::parse(DEFAULT_CONFIG, Path::new("."), Path::new("sockspec.yaml"))
            .expect("valid");
        let s = Secrets::resolve(&c.environments["local"], ["jwt"], &|_| None)
            .expect("default applies");
        assert_eq!(s.get("jwt").map(|s| s.source.as_str()), Some("default"));
    }

    #[test]
    fn default_refused_outside_local() {
        let text = "environments:\n  prod:\n    ws_url: wss://x.invalid\n    secrets:\n      jwt: {default: oops}\n";
        let e =
            Config::parse(text, Path::new("."), Path::new("sockspec.yaml")).expect_err("refused");
        assert!(e.message.contains("non-local"), "{}", e.message);
        assert_eq!(e.pos.line, 5);
    }
}
