//! Owns the `exchange` strategy: an HTTP call to an auth service (a bypass key for a real
//! user's token), the token read from the answer by JSON pointer, other fields captured.
//! A refused exchange is an error carrying the service's status and body: never a silent
//! fallback to a token that cannot work.

use serde_json::Value;

use super::{AuthEnv, AuthError, Credential};
use crate::http;
use crate::scenario::HttpPlan;
use crate::scenario::template::MapResolver;
use crate::transcript::Recorder;

pub(super) async fn acquire(
    plan: &HttpPlan,
    env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Credential, AuthError> {
    let call = http::send(plan, env.http, "auth", vars).await;
    let answer = match call.result {
        Ok(a) => a,
        Err(e) => {
            rec.record(call.event);
            return Err(AuthError::Exchange(e));
        }
    };
    let pointer = plan.token.as_deref().unwrap_or("/access_token");
    let token = match http::pointer(&answer, pointer) {
        Ok(Value::String(t)) if !t.is_empty() => t,
        Ok(_) => {
            rec.record(call.event);
            return Err(AuthError::ExchangeToken {
                pointer: pointer.to_string(),
            });
        }
        Err(e) => {
            rec.record(call.event);
            return Err(AuthError::Exchange(e));
        }
    };
    let path = match &plan.target {
        crate::scenario::Target::Path(p) => p.clone(),
        crate::scenario::Target::Url(u) => u.clone(),
    };
    let marker = format!("[token from exchange {} {path}]", plan.method);
    // Before recording: the answer holds the token.
    rec.add_secret(&token, marker.clone());
    rec.record(call.event);
    for (name, ptr) in &plan.captures {
        let value = http::pointer(&answer, ptr).map_err(AuthError::Exchange)?;
        vars.insert(name, value);
    }
    let fp = crate::transcript::fingerprint(token.as_bytes());
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
