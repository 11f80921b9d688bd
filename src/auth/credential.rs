//! Owns [`Credential`] and [`acquire`]: turning a scenario's `auth` plan and the
//! environment's secrets into a token with its provenance, dispatching to one file per
//! strategy (`bearer` and `api_key` are the static tokens here).

use super::AuthError;
use super::{chain, exchange, mint};
use crate::environment::Secrets;
use crate::http::HttpEnv;
use crate::scenario::{AuthPlan, BearerSource};
use crate::template::MapResolver;
use crate::transcript::Recorder;

/// A token and its provenance. `Debug` does not show the token.
#[derive(Clone)]
pub(crate) struct Credential {
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

/// What strategies need besides the plan.
pub(crate) struct AuthEnv<'a> {
    pub secrets: &'a Secrets,
    /// Project root: key files are relative to it.
    pub root: &'a std::path::Path,
    pub http: &'a HttpEnv,
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// Produces the scenario's credential, or `None` for `auth: none`. HTTP calls (exchange)
/// and failed chain attempts are recorded; exchanged tokens are registered with the
/// recorder before anything that could contain them is recorded.
pub(crate) async fn acquire(
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

pub(super) async fn single(
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
