//! Owns running one scenario in one environment, end to end: start the embedded server if
//! the environment has one, acquire the credential, handshake, judge the outcome, run the
//! steps, close. Returns the transcript (with its failure, if any); renders nothing.

use serde_json::json;

use crate::auth;
use crate::environment::{Endpoint, Environment, Secrets};
use crate::handshake::{self, Observed, Outcome, SHOWN_REQUEST_HEADERS_SKIP};
use crate::scenario::template::MapResolver;
use crate::scenario::{HandshakePlan, Plan};
use crate::server::{self, ServerConfig, ServerSecrets};
use crate::steps::{Inbox, Session, expect_close, run_steps};
use crate::transcript::{Event, Failure, Recorder, Transcript};

/// The result of one run.
#[derive(Debug)]
pub struct RunOutcome {
    pub transcript: Transcript,
    pub failure: Option<Failure>,
    /// The WebSocket base URL used (normalized out of snapshots).
    pub ws_base: String,
}

/// Runs `plan` against `env`. Never panics on bad input; every wait has a deadline.
pub async fn execute(plan: &Plan, env: &Environment, secrets: &Secrets) -> RunOutcome {
    let mut rec = Recorder::new(&plan.id, &env.name, secrets.redactor());
    let (ws_base, server) = match &env.endpoint {
        Endpoint::Remote { ws_base, .. } => (ws_base.clone(), None),
        Endpoint::Embedded(e) => {
            let Some(secret) = secrets.get(&e.jwt_secret) else {
                return finish(
                    rec,
                    String::new(),
                    Some(Failure::new(format!(
                        "embedded server secret `{}` is not resolved",
                        e.jwt_secret
                    ))),
                );
            };
            let config = ServerConfig {
                options: plan
                    .reference_server
                    .clone()
                    .unwrap_or_else(|| e.options.clone()),
                secrets: ServerSecrets {
                    jwt_secret: secret.value.clone(),
                    ..ServerSecrets::default()
                },
            };
            match server::spawn(config).await {
                Ok(h) => (h.ws_base(), Some(h)),
                Err(err) => {
                    return finish(
                        rec,
                        String::new(),
                        Some(Failure::new(format!(
                            "cannot start the embedded reference server: {err}"
                        ))),
                    );
                }
            }
        }
    };
    let failure = run(plan, secrets, &ws_base, &mut rec).await.err();
    if let Some(h) = server {
        h.shutdown().await;
    }
    finish(rec, ws_base, failure)
}

fn finish(mut rec: Recorder, ws_base: String, failure: Option<Failure>) -> RunOutcome {
    let failure = failure.map(|f| f.redact(rec.redactor()));
    rec.record(Event::Outcome {
        passed: failure.is_none(),
        summary: failure
            .as_ref()
            .map(|f| f.message.clone())
            .unwrap_or_default(),
    });
    RunOutcome {
        transcript: rec.finish(),
        failure,
        ws_base,
    }
}

async fn run(
    plan: &Plan,
    secrets: &Secrets,
    ws_base: &str,
    rec: &mut Recorder,
) -> Result<(), Failure> {
    let mut vars = MapResolver::new(uuid::Uuid::new_v4().to_string());
    let lookup = |name: &str| std::env::var(name).ok();
    let credential = auth::acquire(&plan.auth, secrets, &vars, &lookup).map_err(|e| {
        Failure::new(format!(
            "auth strategy `{}` failed: cannot {e}",
            plan.auth.strategy()
        ))
        .at(plan.auth_pos, "auth")
    })?;
    if let Some(c) = &credential {
        rec.add_secret(&c.token, c.marker.clone());
        vars.insert("auth", json!({ "token": c.token, "strategy": c.strategy }));
    }
    rec.record(Event::Auth {
        strategy: plan.auth.strategy().into(),
        token: credential.as_ref().map(|c| c.token.clone()),
        origin: credential.as_ref().map(|c| c.origin.clone()),
    });

    let req = handshake::build(
        &plan.connect,
        ws_base,
        credential.as_ref().map(|c| c.token.as_str()),
        &vars,
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
    let handshake_failure = |f: Failure| {
        let f = f.at(plan.handshake_pos, "expected handshake");
        match &credential {
            Some(c) => f.note(format!("credential: {} {}", c.strategy, c.origin)),
            None => f.note("credential: none"),
        }
    };
    let strategy = plan.auth.strategy();
    let mut ws = match outcome {
        Outcome::Accepted { response, ws } => {
            rec.record(Event::Response {
                status: response.status,
                headers: response.headers,
                body: None,
            });
            handshake::judge(&plan.handshake, &Observed::Accepted, strategy)
                .map_err(handshake_failure)?;
            ws
        }
        Outcome::Rejected { response } => {
            rec.record(Event::Response {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            });
            return handshake::judge(&plan.handshake, &Observed::Rejected(&response), strategy)
                .map_err(handshake_failure);
        }
        Outcome::TimedOut { after } => {
            rec.record(Event::HandshakeTimeout { after });
            return handshake::judge(&plan.handshake, &Observed::TimedOut(after), strategy)
                .map_err(handshake_failure);
        }
        Outcome::Failed { kind, message } => {
            rec.record(Event::HandshakeError {
                message: message.clone(),
            });
            return handshake::judge(&plan.handshake, &Observed::Failed(kind, &message), strategy)
                .map_err(handshake_failure);
        }
    };
    let mut session = Session {
        ws: &mut ws,
        inbox: Inbox::new(),
        rec,
        vars: &mut vars,
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
