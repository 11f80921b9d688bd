//! Auth strategies: turn a scenario's `auth` plan and the environment's secrets into a
//! [`Credential`] (the token plus a description of where it came from).

mod chain;
mod decode;
mod exchange;
mod jwt;
mod mutate;
#[cfg(test)]
mod testkit;

pub use decode::{DecodeError, Decoded, decode_unverified};
pub use jwt::{mint, now_unix};

use crate::environment::Secrets;
use crate::http::{HttpEnv, HttpError};
use crate::scenario::{AuthPlan, BearerSource};
use crate::template::MapResolver;
use crate::transcript::Recorder;

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
    #[error("read the token: environment variable `{0}` is not set")]
    MissingEnv(String),
    #[error("exchange a key for a token: {0}")]
    Exchange(HttpError),
    #[error("exchange a key for a token: the answer's `{pointer}` is not a non-empty string")]
    ExchangeToken { pointer: String },
    #[error("authenticate: a chain cannot contain another chain")]
    NestedChain,
    #[error(
        "authenticate with strategy {index} (`{strategy}`) of the chain, and `fallback: forbid` stops there: cannot {error}"
    )]
    FallbackForbidden {
        index: usize,
        strategy: &'static str,
        error: Box<AuthError>,
    },
    #[error("authenticate with any strategy of the chain: {}", .0.join("; "))]
    ChainExhausted(Vec<String>),
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

/// What strategies need besides the plan.
pub struct AuthEnv<'a> {
    pub secrets: &'a Secrets,
    /// Project root: key files are relative to it.
    pub root: &'a std::path::Path,
    pub http: &'a HttpEnv,
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// Produces the scenario's credential, or `None` for `auth: none`. HTTP calls (exchange)
/// and failed chain attempts are recorded; exchanged tokens are registered with the
/// recorder before anything that could contain them is recorded.
pub async fn acquire(
    plan: &AuthPlan,
    env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Option<Credential>, AuthError> {
    match plan {
        AuthPlan::Chain {
            strategies,
            fallback,
        } => chain::acquire(strategies, *fallback, env, vars, rec).await,
        other => single(other, env, vars, rec).await,
    }
}

async fn single(
    plan: &AuthPlan,
    env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Option<Credential>, AuthError> {
    match plan {
        AuthPlan::None => Ok(None),
        AuthPlan::Jwt(jwt) => mint(jwt, env.secrets, env.root, vars).map(Some),
        AuthPlan::Bearer(source) => static_token("bearer", source, env).map(Some),
        AuthPlan::ApiKey(source) => static_token("api_key", source, env).map(Some),
        AuthPlan::Exchange(call) => exchange::acquire(call, env, vars, rec).await.map(Some),
        AuthPlan::Chain { .. } => Err(AuthError::NestedChain),
    }
}

fn static_token(
    strategy: &'static str,
    source: &BearerSource,
    env: &AuthEnv<'_>,
) -> Result<Credential, AuthError> {
    match source {
        BearerSource::Secret(name) => {
            let s = env
                .secrets
                .get(name)
                .ok_or_else(|| AuthError::UnknownSecret(name.clone()))?;
            Ok(Credential {
                token: s.value.clone(),
                strategy,
                origin: format!(
                    "secret `{}` (from {}, sha256:{})",
                    s.name, s.source, s.fingerprint
                ),
                marker: s.marker(),
            })
        }
        BearerSource::Env(var) => {
            let token = (env.lookup)(var)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AuthError::MissingEnv(var.clone()))?;
            let fp = crate::environment::fingerprint(token.as_bytes());
            Ok(Credential {
                token,
                strategy,
                origin: format!("environment variable {var} (sha256:{fp})"),
                marker: format!("[{strategy} from {var} sha256:{fp}]"),
            })
        }
    }
}
