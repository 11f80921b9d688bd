//! Owns the `chain` strategy: strategies tried in order under a fallback policy. A
//! fallback is never silent: each failed attempt is recorded in the transcript (so a
//! switch shows as a snapshot diff), `warn` also prints it, `forbid` stops at the first.

use super::credential::single;
use super::{AuthEnv, AuthError, Credential};
use crate::diagnostic::Pos;
use crate::scenario::{AuthPlan, Fallback};
use crate::template::MapResolver;
use crate::transcript::{Event, Recorder};

pub(super) async fn acquire(
    strategies: &[(AuthPlan, Pos)],
    fallback: Fallback,
    env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Option<Credential>, AuthError> {
    let mut failures = Vec::new();
    for (index, (plan, _)) in strategies.iter().enumerate() {
        match Box::pin(single(plan, env, vars, rec)).await {
            Ok(Some(mut c)) => {
                if index > 0 {
                    c.origin = format!(
                        "{}; chain strategy {} after {index} failed (fallback: {})",
                        c.origin,
                        index + 1,
                        fallback.name()
                    );
                }
                return Ok(Some(c));
            }
            Ok(None) => return Ok(None),
            Err(error) => {
                let strategy = plan.strategy();
                if fallback == Fallback::Forbid {
                    return Err(AuthError::FallbackForbidden {
                        index: index + 1,
                        strategy,
                        error: Box::new(error),
                    });
                }
                let text = format!("cannot {error}");
                rec.record(Event::AuthAttempt {
                    strategy: strategy.into(),
                    error: text.clone(),
                });
                if fallback == Fallback::Warn && index + 1 < strategies.len() {
                    // Redacted like everything else that leaves the run.
                    eprintln!(
                        "warning: auth strategy {} (`{strategy}`) failed, falling back: {}",
                        index + 1,
                        rec.redactor().redact(&text)
                    );
                }
                failures.push(format!("{} (`{strategy}`): {text}", index + 1));
            }
        }
    }
    Err(AuthError::ChainExhausted(failures))
}
