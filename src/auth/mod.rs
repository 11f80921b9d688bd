//! Auth strategies: turn a scenario's `auth` plan and the environment's secrets into a
//! [`Credential`] (the token plus a description of where it came from).

mod jwt;
mod mutate;
#[cfg(test)]
mod testkit;

pub use jwt::{mint, now_unix};

use crate::environment::Secrets;
use crate::scenario::AuthPlan;
use crate::scenario::BearerSource;
use crate::scenario::template::Resolve;

/// A token and its provenance. `Debug` does not show the token.
#[derive(Clone)]
pub struct Credential {
    pub token: String,
    pub strategy: &'static str,
    /// Human description: algorithm, secret name, source variable, fingerprint.
    pub origin: String,
    /// What the token is replaced with wherever it could be printed.
    pub marker: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} {})", self.strategy, self.origin)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("find secret `{0}`: the environment does not declare it")]
    UnknownSecret(String),
    #[error("render JWT claims: {0}")]
    Claims(String),
    #[error("sign JWT: {0}")]
    Sign(String),
    #[error("read bearer token: environment variable `{0}` is not set")]
    MissingEnv(String),
    /// A `key_file` could not be read; `path` is as written in the scenario.
    #[error("read key file {}: {error}", path.display())]
    ReadKeyFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    /// The key is not a private key the algorithm can sign with. `from` names the key
    /// (``secret `rsa_key` `` or `key file keys/a.pem`); `reason` never quotes key material.
    #[error("parse {algorithm} private key from {from}: {reason}")]
    ParseKey {
        algorithm: &'static str,
        from: String,
        reason: String,
    },
    /// An HMAC key (secret or file) with no bytes.
    #[error("use {0} as an HMAC key: it is empty")]
    EmptyKey(String),
    /// `mutate: wrong_secret` with the very key that mutation signs with.
    #[error(
        "apply mutation wrong_secret: {0} is the built-in wrong key, so the token would be \
         correctly signed; sign with another key"
    )]
    KeyIsWrongKey(String),
}

/// Produces the scenario's credential, or `None` for `auth: none`.
pub fn acquire(
    plan: &AuthPlan,
    secrets: &Secrets,
    ctx: &dyn Resolve,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Credential>, AuthError> {
    match plan {
        AuthPlan::None => Ok(None),
        AuthPlan::Jwt(jwt) => mint(jwt, secrets, std::path::Path::new("."), ctx).map(Some),
        AuthPlan::ApiKey(_) | AuthPlan::Exchange(_) | AuthPlan::Chain { .. } => {
            Err(AuthError::Sign("not yet".into()))
        }
        AuthPlan::Bearer(BearerSource::Secret(name)) => {
            let s = secrets
                .get(name)
                .ok_or_else(|| AuthError::UnknownSecret(name.clone()))?;
            Ok(Some(Credential {
                token: s.value.clone(),
                strategy: "bearer",
                origin: format!(
                    "secret `{}` (from {}, sha256:{})",
                    s.name, s.source, s.fingerprint
                ),
                marker: s.marker(),
            }))
        }
        AuthPlan::Bearer(BearerSource::Env(var)) => {
            let token = lookup(var)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AuthError::MissingEnv(var.clone()))?;
            let fp = crate::transcript::fingerprint(token.as_bytes());
            Ok(Some(Credential {
                token,
                strategy: "bearer",
                origin: format!("environment variable {var} (sha256:{fp})"),
                marker: format!("[bearer from {var} sha256:{fp}]"),
            }))
        }
    }
}
