//! Owns the asynchronous part of one run: start the embedded server if the environment has
//! one, check the environment's health, evaluate the scenario's `vars` ([`run_vars`]), then
//! setup, [`credential`], [`open`] (the handshake stage), [`converse`] (the steps), and
//! teardown whatever happened before it. Renders nothing; [`super::run`] is the entry point
//! that wraps it.

use serde_json::json;

use crate::auth::{self, AuthEnv, AuthError, Credential};
use crate::environment::{Embedded, Endpoint, Environment, Secrets, Unavailable};
use crate::handshake::{self, Ws, strategy_shown};
use crate::http::HttpEnv;
use crate::scenario::{DEFAULT_CLOSE_TIMEOUT, HandshakePlan, Plan, UnclaimedPolicy};
use crate::server::{self, ServerConfig, ServerOptions, ServerSecrets};
use crate::steps::{
    Inbox, Session, assign_vars, close_at_end, expect_close, run_phase, run_steps, settle,
    unclaimed_failure,
};
use crate::template::MapResolver;
use crate::transcript::{Event, Failure, Recorder, Redactor, Transcript};

/// What [`execute`] came to: the transcript, and how the run ended.
#[derive(Debug)]
pub(super) struct Executed {
    /// Every event of the run, redacted, ending with its `Outcome` event.
    pub transcript: Transcript,
    /// `Ok` when the scenario did what it expects.
    pub result: Result<(), Ended>,
    /// The WebSocket base URL used (normalized out of snapshots).
    pub ws_base: String,
    /// The HTTP base URL used (normalized out of snapshots).
    pub http_base: String,
}

/// Why a run did not pass.
#[derive(Debug)]
pub(super) enum Ended {
    /// The scenario ran and something differed from what it expects.
    Failed(Box<Failure>),
    /// The environment's health check failed: nothing else ran.
    Unavailable(Unavailable),
}

/// Runs `plan` against `env`. Never panics on bad input; every wait has a deadline.
/// `teardown` runs whatever happened before it. `process` stands for the process
/// environment (variables named by `auth: {bearer: {env: NAME}}`).
pub(super) async fn execute(
    plan: &Plan,
    env: &Environment,
    secrets: &Secrets,
    process: &dyn Fn(&str) -> Option<String>,
) -> Executed {
    let mut rec = Recorder::new(&plan.id, &env.name, Redactor::from_secrets(secrets));
    let mut out = Bases::default();
    let server = match &env.endpoint {
        Endpoint::Remote { ws_base, http_base } => {
            out.ws = ws_base.clone();
            out.http = http_base.clone().unwrap_or_default();
            None
        }
        Endpoint::Embedded(e) => {
            match spawn_embedded(e, plan.reference_server.as_ref(), secrets).await {
                Ok(h) => {
                    out.ws = h.ws_base();
                    out.http = h.http_base();
                    Some(h)
                }
                Err(f) => return finish(rec, out, Err(Ended::Failed(Box::new(f)))),
            }
        }
    };
    let http = HttpEnv::new(&env.name, (!out.http.is_empty()).then(|| out.http.clone()));
    if let Err(unavailable) = super::health::check(env, &http, server.is_some()).await {
        if let Some(h) = server {
            h.shutdown().await;
        }
        return finish(rec, out, Err(Ended::Unavailable(unavailable)));
    }
    let mut vars = match run_vars(plan, secrets) {
        Ok(vars) => {
            rec.watch_env(vars.env_seen(), env.public_env.clone());
            vars
        }
        Err(f) => {
            // Nothing ran yet, so there is nothing to tear down.
            if let Some(h) = server {
                h.shutdown().await;
            }
            return finish(rec, out, Err(Ended::Failed(Box::new(f))));
        }
    };
    let main = async {
        run_phase(&plan.setup, "setup", &http, &mut rec, &mut vars).await?;
        let lookup = |name: &str| env.lookup_in(process, name);
        let auth_env = AuthEnv {
            secrets,
            root: &env.root,
            http: &http,
            lookup: &lookup,
        };
        let credential = credential(plan, &auth_env, &mut vars, &mut rec).await?;
        match handshake::open(
            plan,
            &out.ws,
            env.limits,
            credential.as_ref(),
            &mut vars,
            &mut rec,
        )
        .await?
        {
            Some(ws) => converse(plan, env.close_timeout, ws, &http, &mut rec, &mut vars).await,
            None => Ok(()),
        }
    }
    .await;
    let teardown = run_phase(&plan.teardown, "teardown", &http, &mut rec, &mut vars).await;
    let failure = match (main, teardown) {
        (Err(f), Err(t)) => Some(f.note(format!("teardown also failed: {}", t.message))),
        (Err(f), Ok(())) | (Ok(()), Err(f)) => Some(f),
        (Ok(()), Ok(())) => None,
    };
    if let Some(h) = server {
        h.shutdown().await;
    }
    finish(
        rec,
        out,
        failure.map_or(Ok(()), |f| Err(Ended::Failed(Box::new(f)))),
    )
}

/// The credential stage: the scenario's token (or none), registered with the recorder before
/// anything could contain it, and recorded with its provenance.
async fn credential(
    plan: &Plan,
    auth_env: &AuthEnv<'_>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Option<Credential>, Failure> {
    let credential = auth::acquire(&plan.auth, auth_env, vars, rec)
        .await
        .map_err(|e| auth_failure(plan, auth_env.secrets, e))?;
    if let Some(c) = &credential {
        rec.add_secret(&c.token, c.marker.clone());
    }
    rec.record(Event::Auth {
        strategy: strategy_shown(&plan.auth, credential.as_ref()),
        token: credential.as_ref().map(|c| c.token.clone()),
        origin: credential.as_ref().map(|c| c.origin.clone()),
    });
    Ok(credential)
}

/// The conversation stage: the steps (or the close a `closed` handshake expects) on the
/// open connection, then the closing handshake (bounded by the close timeout).
async fn converse(
    plan: &Plan,
    close_timeout: Option<std::time::Duration>,
    mut ws: Box<Ws>,
    http: &HttpEnv,
    rec: &mut Recorder,
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    let mut session = Session {
        ws: &mut ws,
        inbox: Inbox::new(plan.connect.binary),
        rec,
        vars,
        http,
        ignore: &plan.ignore,
    };
    let mut result = match &plan.handshake {
        HandshakePlan::Closed(c) => expect_close(0, c, &mut session)
            .await
            .map_err(|f| f.at(plan.handshake_pos, "expected close after the upgrade")),
        _ => run_steps(&plan.steps, &mut session).await,
    };
    // Messages the scenario ignores are claimed; the rest nobody claimed are unclaimed (the
    // transcript shows them) and fail the scenario under `unclaimed: fail`.
    let last = plan.steps.len().saturating_sub(1);
    match settle(last, &mut session) {
        Ok(unclaimed) => {
            if result.is_ok() && plan.unclaimed == UnclaimedPolicy::Fail && !unclaimed.is_empty() {
                result = Err(unclaimed_failure(&unclaimed, &session));
            }
        }
        Err(f) => result = result.and(Err(f)),
    }
    // The closing handshake, bounded by the close timeout: recorded always, a failure only
    // under `connect.expect_clean_close` (and never in place of an earlier failure).
    let timeout = plan
        .closing
        .timeout
        .or(close_timeout)
        .unwrap_or(DEFAULT_CLOSE_TIMEOUT);
    let closed = close_at_end(last, timeout, plan.closing.expect_clean, &mut session).await;
    result.and(closed)
}

/// The template variables a run starts with: a fresh `run_id`, `secrets.NAME` for the
/// secrets the scenario names (values the recorder redacts), then the scenario's `vars`,
/// each evaluated once, in order. Fails, naming the variable, when one cannot be evaluated
/// (an unset `env.NAME`).
pub(crate) fn run_vars(plan: &Plan, secrets: &Secrets) -> Result<MapResolver, Failure> {
    let mut vars = MapResolver::new(uuid::Uuid::new_v4().to_string());
    let named: serde_json::Map<String, serde_json::Value> = plan
        .secrets
        .iter()
        .filter_map(|n| secrets.get(n).map(|s| (n.clone(), json!(s.value))))
        .collect();
    vars.insert("secrets", serde_json::Value::Object(named));
    assign_vars(&plan.vars, &mut vars)?;
    Ok(vars)
}

#[derive(Default)]
struct Bases {
    ws: String,
    http: String,
}

/// Starts the environment's embedded reference server on 127.0.0.1:0 with `options` (a
/// scenario's `reference_server`), else the environment's own options. The server's secrets
/// must be among `secrets`. Also used by `sockspec token` and `sockspec doctor`.
pub(crate) async fn spawn_embedded(
    e: &Embedded,
    options: Option<&ServerOptions>,
    secrets: &Secrets,
) -> Result<server::ServerHandle, Failure> {
    let value = |name: &str| {
        secrets
            .get(name)
            .map(|s| s.value.clone())
            .ok_or_else(|| Failure::new(format!("embedded server secret `{name}` is not resolved")))
    };
    let read = |path: &Option<std::path::PathBuf>| -> Result<Option<String>, Failure> {
        path.as_ref()
            .map(|p| {
                std::fs::read_to_string(p).map_err(|err| {
                    Failure::new(format!(
                        "cannot read the embedded server's key file {}: {err}",
                        p.display()
                    ))
                })
            })
            .transpose()
    };
    let config = ServerConfig {
        options: options.unwrap_or(&e.options).clone(),
        secrets: ServerSecrets {
            jwt_secret: value(&e.jwt_secret)?,
            bypass_key: e.bypass_key.as_deref().map(value).transpose()?,
            api_keys: e
                .api_keys
                .iter()
                .map(|k| value(k))
                .collect::<Result<_, _>>()?,
            rsa_public_key_pem: read(&e.rsa_public_key_file)?,
            ec_public_key_pem: read(&e.ec_public_key_file)?,
        },
    };
    server::spawn(config)
        .await
        .map_err(|err| Failure::new(format!("cannot start the embedded reference server: {err}")))
}

fn finish(mut rec: Recorder, bases: Bases, result: Result<(), Ended>) -> Executed {
    rec.sync_env();
    let result = result.map_err(|e| match e {
        Ended::Failed(f) => Ended::Failed(Box::new(f.redact(rec.redactor()))),
        other => other,
    });
    rec.record(Event::Outcome {
        passed: result.is_ok(),
        summary: match &result {
            Ok(()) => String::new(),
            Err(Ended::Failed(f)) => f.message.clone(),
            Err(Ended::Unavailable(u)) => u.to_string(),
        },
    });
    Executed {
        transcript: rec.finish(),
        result,
        ws_base: bases.ws,
        http_base: bases.http,
    }
}

/// The failure of the `auth` section, with what to do about it.
fn auth_failure(plan: &Plan, secrets: &Secrets, e: AuthError) -> Failure {
    let mut f = Failure::new(format!(
        "auth strategy `{}` failed: cannot {e}",
        plan.auth.strategy()
    ))
    .at(plan.auth_pos, "auth");
    for name in &plan.secrets {
        if let Some(s) = secrets.get(name) {
            f = f.note(format!(
                "secret `{name}`: from {}, sha256:{}",
                s.source, s.fingerprint
            ));
        }
    }
    let refused = |err: &AuthError| match err {
        AuthError::Exchange(crate::http::HttpError::Status { answer, .. }) => Some(answer.status),
        _ => None,
    };
    let inner = match &e {
        AuthError::FallbackForbidden { error, .. } => error.as_ref(),
        other => other,
    };
    match refused(inner) {
        Some(401 | 403) => f.hint(
            "the auth service refused the key: the bypass key is probably wrong for this \
             environment (compare the fingerprint with the one the service expects)",
        ),
        Some(_) => f.hint("the auth service did not issue a token; its answer is above"),
        None => match &e {
            AuthError::FallbackForbidden { .. } => f.hint(
                "the chain forbids falling back to the next strategy; set `fallback: warn` \
                 only if a fallback token can really work here",
            ),
            _ => f,
        },
    }
}
