//! Owns the handshake as one stage of a run: build the upgrade request and record it,
//! connect, record the [`Outcome`], judge it against the scenario's expectation, and locate a
//! failure in the scenario (the `handshake:` section, else the credential that was sent).

use serde_json::json;

use super::{Outcome, SHOWN_REQUEST_HEADERS_SKIP, Sent, Ws, build, connect_following, judge};
use crate::auth::{Credential, Decoded, decode_unverified, now_unix};
use crate::diagnostic::Pos;
use crate::scenario::{AuthPlan, Plan, TokenPlacement};
use crate::size::Limits;
use crate::template::MapResolver;
use crate::transcript::{Event, Failure, Recorder};

impl Outcome {
    /// Records what the server answered (the response, the timeout or the transport error).
    pub(crate) fn record(&self, rec: &mut Recorder) {
        match self {
            Outcome::Accepted { response, .. } => rec.record(Event::Response {
                status: response.status,
                headers: response.headers.clone(),
                body: None,
            }),
            Outcome::Rejected { response } | Outcome::Redirected { response, .. } => {
                rec.record(Event::Response {
                    status: response.status,
                    headers: response.headers.clone(),
                    body: response.body.clone(),
                })
            }
            Outcome::TimedOut { after, .. } => {
                rec.record(Event::HandshakeTimeout { after: *after })
            }
            Outcome::Failed { message, .. } => rec.record(Event::HandshakeError {
                message: message.clone(),
            }),
        }
    }
}

/// How the credential is named in the transcript and the judgement: the strategy, or
/// `chain → <the strategy that produced the token>`.
pub(crate) fn strategy_shown(auth: &AuthPlan, credential: Option<&Credential>) -> String {
    match (auth, credential) {
        (AuthPlan::Chain { .. }, Some(c)) => format!("chain → {}", c.strategy),
        _ => auth.strategy().to_string(),
    }
}

/// Opens the scenario's connection and judges the upgrade. `Ok(Some(ws))` when it was
/// accepted as expected (steps follow); `Ok(None)` when the scenario expects a rejection or a
/// timeout and got it (nothing follows); `Err` names the difference. The connection enforces
/// the environment's `limits`, replaced by the scenario's `connect.max_*_size`.
pub(crate) async fn open(
    plan: &Plan,
    ws_base: &str,
    limits: Limits,
    credential: Option<&Credential>,
    vars: &mut MapResolver,
    rec: &mut Recorder,
) -> Result<Option<Box<Ws>>, Failure> {
    if let Some(c) = credential {
        vars.insert("auth", json!({ "token": c.token, "strategy": c.strategy }));
    }
    let req = build(
        &plan.connect,
        ws_base,
        credential.map(|c| c.token.as_str()),
        vars,
    )
    .map_err(|e| Failure::new(format!("cannot {e}")))?;
    // Credential headers the scenario writes itself (the usual names, and those it marks in
    // `credential_headers`) are redacted like a token.
    let is_credential = |lower: &str| {
        crate::scenario::CREDENTIAL_HEADERS.contains(&lower)
            || plan.connect.credential_headers.iter().any(|c| c == lower)
    };
    let written_credential = plan.connect.credential_header();
    for (name, value) in req.headers() {
        if plan
            .connect
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name.as_str()))
            && is_credential(name.as_str())
        {
            let value = String::from_utf8_lossy(value.as_bytes());
            // The token placed by `token_in` keeps its own marker.
            if credential.is_none_or(|c| !value.contains(c.token.as_str())) {
                rec.add_secret(&value, format!("[credential header {name}]"));
            }
        }
    }
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
    let headers: Vec<(String, String)> = headers;
    rec.record(Event::Request {
        method: "GET".into(),
        url: req.uri().to_string(),
        headers: headers.clone(),
    });

    let limits = limits.with(plan.connect.max_message_size, plan.connect.max_frame_size);
    let (hops, outcome) = connect_following(
        req,
        plan.connect.timeout,
        limits,
        plan.connect.follow_redirects,
    )
    .await;
    // Each redirect followed: its answer, then the request re-sent to its Location.
    for hop in hops {
        rec.record(Event::Response {
            status: hop.response.status,
            headers: hop.response.headers,
            body: hop.response.body,
        });
        rec.record(Event::Request {
            method: "GET".into(),
            url: hop.next,
            headers: headers.clone(),
        });
    }
    outcome.record(rec);
    let now = now_unix();
    let decoded = credential.and_then(|c| decode_unverified(&c.token).ok());
    let strategy = strategy_shown(&plan.auth, credential);
    let sent = Sent {
        strategy: &strategy,
        expired: decoded.as_ref().map(|d| d.is_expired(now)),
        key: credential.map(|c| c.origin.as_str()),
        in_message: credential.is_some() && plan.connect.token_in == TokenPlacement::Message,
        header: written_credential.as_deref(),
    };
    judge(&plan.handshake, &outcome, &sent).map_err(|f| {
        let f = locate_failure(plan, f, credential, decoded.as_ref(), now);
        match (&written_credential, credential) {
            (Some(h), None) => f.note(format!(
                "credential header written in connect.headers: `{h}` (value redacted)"
            )),
            _ => f,
        }
    })?;
    Ok(match outcome {
        Outcome::Accepted { ws, .. } => Some(ws),
        Outcome::Rejected { .. }
        | Outcome::Redirected { .. }
        | Outcome::TimedOut { .. }
        | Outcome::Failed { .. } => None,
    })
}

/// Points a handshake failure at the scenario: the `handshake:` section when written (and
/// then at the credential sent, if any, as context), else the credential (acceptance is
/// implied), else the first step; notes what was sent.
pub(crate) fn locate_failure(
    plan: &Plan,
    f: Failure,
    credential: Option<&Credential>,
    decoded: Option<&Decoded>,
    now: i64,
) -> Failure {
    let mut f = if plan.handshake_pos != Pos::default() {
        let f = f.at(plan.handshake_pos, "expected handshake");
        if plan.auth_pos == Pos::default() || credential.is_none() {
            f
        } else {
            f.context(plan.auth_pos, "the credential sent")
        }
    } else if plan.auth_pos != Pos::default() {
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
    f = match credential {
        Some(c) => f.note(format!("credential: {} {}", c.strategy, c.origin)),
        None => f.note("credential: none"),
    };
    if let Some(d) = decoded {
        for line in d.describe(now) {
            f = f.note(line);
        }
    }
    f
}
