//! Owns the `exchange` strategy: an HTTP call to an auth service (a bypass key for a real
//! user's token), the token read from the answer by JSON pointer, other fields captured.
//! A refused exchange is an error carrying the service's status and body: never a silent
//! fallback to a token that cannot work.

use super::{AuthEnv, AuthError, Credential};
use crate::http;
use crate::scenario::HttpPlan;
use crate::template::MapResolver;
use crate::transcript::Recorder;

pub(super) async fn acquire(
    plan: &HttpPlan,
    env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Credential, AuthError> {
    let call = http::send(plan, env.http, "auth", vars).await;
    let pointer = plan.token.as_deref().unwrap_or("/access_token");
    let path = match &plan.target {
        crate::scenario::Target::Path(p) => p.clone(),
        crate::scenario::Target::Url(u) => u.clone(),
    };
    let marker = format!("[token from exchange {} {path}]", plan.method);
    // Registered before the call is recorded: the answer holds the token.
    let token = call
        .result
        .as_ref()
        .ok()
        .and_then(|a| http::pointer(a, pointer).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|t| !t.is_empty());
    if let Some(t) = &token {
        rec.add_secret(t, marker.clone());
    }
    let answer = call.record("auth", rec).map_err(AuthError::Exchange)?;
    let token = match token {
        Some(t) => t,
        None => {
            // Either not a field, or not a non-empty string: say which.
            return Err(match http::pointer(&answer, pointer) {
                Err(e) => AuthError::Exchange(e),
                Ok(_) => AuthError::ExchangeToken {
                    pointer: pointer.to_string(),
                },
            });
        }
    };
    for (name, ptr) in &plan.captures {
        let value = http::pointer(&answer, ptr).map_err(AuthError::Exchange)?;
        vars.insert(name, value);
    }
    let fp = crate::environment::fingerprint(token.as_bytes());
    Ok(Credential {
        token,
        strategy: "exchange",
        origin: format!(
            "exchanged at {} {} (token sha256:{fp})",
            plan.method, answer.url
        ),
        marker,
    })
}
