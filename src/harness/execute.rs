//! Owns running one scenario in one environment, end to end: start the embedded server if
//! the environment has one, acquire the credential, handshake, judge the outcome, run the
//! steps, close. Returns the transcript (with its failure, if any); renders nothing.

use serde_json::json;

use crate::auth::{self, AuthEnv, AuthError};
use crate::environment::{Embedded, Endpoint, Environment, Secrets};
use crate::handshake::{self, Observed, Outcome, SHOWN_REQUEST_HEADERS_SKIP, Sent};
use crate::http::HttpEnv;
use crate::scenario::{AuthPlan, HandshakePlan, Plan};
use crate::server::{self, ServerConfig, ServerOptions, ServerSecrets};
use crate::steps::{Inbox, Session, expect_close, run_phase, run_steps};
use crate::template::MapResolver;
use crate::transcript::{Event, Failure, Recorder, Transcript};

/// The result of one run.
#[derive(Debug)]
pub struct RunOutcome {
    pub transcript: Transcript,
    pub failure: Option<Failure>,
    /// The environment's health check failed: nothing else ran.
    pub unavailable: Option<String>,
    /// The WebSocket base URL used (normalized out of snapshots).
    pub ws_base: String,
    /// The HTTP base URL used (normalized out of snapshots).
    pub http_base: String,
}

/// Runs `plan` against `env`. Never panics on bad input; every wait has a deadline.
/// `teardown` runs whatever happened before it.
pub async fn execute(plan: &Plan, env: &Environment, secrets: &Secrets) -> RunOutcome {
    let mut rec = Recorder::new(
        &plan.id,
        &env.name,
        crate::transcript::Redactor::from_secrets(secrets),
    );
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
                Err(f) => return finish(rec, out, Some(f), None),
            }
        }
    };
    let http = HttpEnv::new(&env.name, (!out.http.is_empty()).then(|| out.http.clone()));
    if let Err(unavailable) = super::health::check(env, &http, server.is_some()).await {
        if let Some(h) = server {
            h.shutdown().await;
        }
        return finish(rec, out, None, Some(unavailable));
    }
    let mut vars = run_vars(plan, secrets);
    let main = run(plan, env, secrets, &http, &out.ws, &mut rec, &mut vars).await;
    let teardown = run_phase(&plan.teardown, "teardown", &http, &mut rec, &mut vars).await;
    let failure = match (main, teardown) {
        (Err(f), Err(t)) => Some(f.note(format!("teardown also failed: {}", t.message))),
        (Err(f), Ok(())) | (Ok(()), Err(f)) => Some(f),
        (Ok(()), Ok(())) => None,
    };
    if let Some(h) = server {
        h.shutdown().await;
    }
    finish(rec, out, failure, None)
}

/// The template variables a run starts with: a fresh `run_id`, and `secrets.NAME` for the
/// secrets the scenario names (values the recorder redacts).
pub fn run_vars(plan: &Plan, secrets: &Secrets) -> MapResolver {
    let mut vars = MapResolver::new(uuid::Uuid::new_v4().to_string());
    let named: serde_json::Map<String, serde_json::Value> = plan
        .secrets
        .iter()
        .filter_map(|n| secrets.get(n).map(|s| (n.clone(), json!(s.value))))
        .collect();
    vars.insert("secrets", serde_json::Value::Object(named));
    vars
}

#[derive(Default)]
struct Bases {
    ws: String,
    http: String,
}

/// Starts the environment's embedded reference server on 127.0.0.1:0 with `options` (a
/// scenario's `reference_server`), else the environment's own options. The server's secrets
/// must be among `secrets`. Also used by `sockspec token` and `sockspec doctor`.
pub async fn spawn_embedded(
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

fn finish(
    mut rec: Recorder,
    bases: Bases,
    failure: Option<Failure>,
    unavailable: Option<String>,
) -> RunOutcome {
    let failure = failure.map(|f| f.redact(rec.redactor()));
    rec.record(Event::Outcome {
        passed: failure.is_none() && unavailable.is_none(),
        summary: failure
            .as_ref()
            .map(|f| f.message.clone())
            .or_else(|| unavailable.clone())
            .unwrap_or_default(),
    });
    RunOutcome {
        transcript: rec.finish(),
        failure,
        unavailable,
        ws_base: bases.ws,
        http_base: bases.http,
    }
}

async fn run(
    plan: &Plan,
    env: &Environment,
    secrets: &Secrets,
    http: &HttpEnv,
    ws_base: &str,
    rec: &mut Recorder,
    vars: &mut MapResolver,
) -> Result<(), Failure> {
    run_phase(&plan.setup, "setup", http, rec, vars).await?;
    let lookup = |name: &str| env.lookup(name);
    let auth_env = AuthEnv {
        secrets,
        root: &env.root,
        http,
        lookup: &lookup,
    };
    let credential = auth::acquire(&plan.auth, &auth_env, vars, rec)
        .await
        .map_err(|e| auth_failure(plan, secrets, e))?;
    let strategy = match (&plan.auth, &credential) {
        (AuthPlan::Chain { .. }, Some(c)) => format!("chain → {}", c.strategy),
        _ => plan.auth.strategy().to_string(),
    };
    if let Some(c) = &credential {
        rec.add_secret(&c.token, c.marker.clone());
        vars.insert("auth", json!({ "token": c.token, "strategy": c.strategy }));
    }
    rec.record(Event::Auth {
        strategy: strategy.clone(),
        token: credential.as_ref().map(|c| c.token.clone()),
        origin: credential.as_ref().map(|c| c.origin.clone()),
    });
    let req = handshake::build(
        &plan.connect,
        ws_base,
        credential.as_ref().map(|c| c.token.as_str()),
        vars,
    )
    .map_err(|e| Failure::new(format!("cannot {e}")))?;
    let headers = req
        .headers()
        .iter()
        .filter(|(n, _)| !SHOWN_REQUEST_HEADERS_SKIP.contains(&n.as_str()))
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    rec.record(Event::Request {
        method: "GET".into(),
        url: req.uri().to_string(),
        headers,
    });

    let outcome = handshake::connect(req, plan.connect.timeout).await;
    let now = auth::now_unix();
    let decoded = credential
        .as_ref()
        .and_then(|c| auth::decode_unverified(&c.token).ok());
    let sent = Sent {
        strategy: &strategy,
        expired: decoded.as_ref().map(|d| d.is_expired(now)),
        key: credential.as_ref().map(|c| c.origin.as_str()),
    };
    let handshake_failure = |f: Failure| {
        let mut f = if plan.handshake_pos != crate::diagnostic::Pos::default() {
            f.at(plan.handshake_pos, "expected handshake")
        } else if plan.auth_pos != crate::diagnostic::Pos::default() {
            // No `handshake:` written: acceptance is implied; point at what was sent.
            f.at(
                plan.auth_pos,
                "this credential (the upgrade is expected to be accepted)",
            )
        } else {
            f.at(
                plan.steps.first().map(|s| s.pos).unwrap_or_default(),
                "the upgrade is expected to be accepted",
            )
        };
        f = match &credential {
            Some(c) => f.note(format!("credential: {} {}", c.strategy, c.origin)),
            None => f.note("credential: none"),
        };
        if let Some(d) = &decoded {
            for line in d.describe(now) {
                f = f.note(line);
            }
        }
        f
    };
    let mut ws = match outcome {
        Outcome::Accepted { response, ws } => {
            rec.record(Event::Response {
                status: response.status,
                headers: response.headers,
                body: None,
            });
            handshake::judge(&plan.handshake, &Observed::Accepted, &sent)
                .map_err(handshake_failure)?;
            ws
        }
        Outcome::Rejected { response } => {
            rec.record(Event::Response {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            });
            return handshake::judge(&plan.handshake, &Observed::Rejected(&response), &sent)
                .map_err(handshake_failure);
        }
        Outcome::TimedOut { after } => {
            rec.record(Event::HandshakeTimeout { after });
            return handshake::judge(&plan.handshake, &Observed::TimedOut(after), &sent)
                .map_err(handshake_failure);
        }
        Outcome::Failed { kind, message } => {
            rec.record(Event::HandshakeError {
                message: message.clone(),
            });
            return handshake::judge(&plan.handshake, &Observed::Failed(kind, &message), &sent)
                .map_err(handshake_failure);
        }
    };
    let mut session = Session {
        ws: &mut ws,
        inbox: Inbox::new(),
        rec,
        vars,
        http,
    };
    let result = match &plan.handshake {
        HandshakePlan::Closed(c) => expect_close(0, c, &mut session)
            .await
            .map_err(|f| f.at(plan.handshake_pos, "expected close after the upgrade")),
        _ => run_steps(&plan.steps, &mut session).await,
    };
    // Leave politely, bounded: the server's answer is not part of the scenario.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), ws.close(None)).await;
    result
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
