//! Owns judging a handshake outcome against the scenario's expectation, and the hints that
//! name the likely cause when they differ (a fake or mis-signed token, an unknown user, a
//! silent rejection hiding behind a timeout, auth not enforced, an environment down).

use serde_json::Value;

use super::{FailureKind, Outcome};
use crate::scenario::HandshakePlan;
use crate::transcript::{Failure, Frame};

fn expected_text(plan: &HandshakePlan) -> String {
    match plan {
        HandshakePlan::Accepted => "the upgrade accepted (101 Switching Protocols)".into(),
        HandshakePlan::Rejected { statuses, body } => {
            let s: Vec<String> = statuses.iter().map(u16::to_string).collect();
            match body {
                Some(b) => format!(
                    "rejected with {} and a body matching {}",
                    s.join(" or "),
                    b.raw()
                ),
                None => format!("rejected with {}", s.join(" or ")),
            }
        }
        HandshakePlan::Timeout => "no answer to the upgrade before the handshake timeout".into(),
        HandshakePlan::Closed(_) => "the upgrade accepted, then a close frame".into(),
    }
}

/// The `detail` of a JSON error body, or the body itself.
pub(crate) fn body_detail(body: Option<&str>) -> String {
    match body {
        None => String::new(),
        Some(b) => match serde_json::from_str::<Value>(b) {
            Ok(Value::Object(m)) => m
                .get("detail")
                .and_then(Value::as_str)
                .map_or_else(|| b.to_string(), str::to_string),
            _ => b.to_string(),
        },
    }
}

/// What the judgement knows about the credential that was sent.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sent<'a> {
    /// `jwt`, `bearer`, `chain → jwt`, `none`, ...
    pub strategy: &'a str,
    /// For a JWT: whether it had expired when sent; `None` for tokens that are not JWTs.
    pub expired: Option<bool>,
    /// Where the signing key or the token came from: secret, variable, fingerprint.
    pub key: Option<&'a str>,
}

/// `Ok(())` when the outcome is what the scenario expects.
pub(crate) fn judge(
    plan: &HandshakePlan,
    outcome: &Outcome,
    sent: &Sent<'_>,
) -> Result<(), Failure> {
    let auth_strategy = sent.strategy;
    let expected = expected_text(plan);
    match (plan, outcome) {
        (HandshakePlan::Accepted | HandshakePlan::Closed(_), Outcome::Accepted { .. }) => Ok(()),
        (HandshakePlan::Timeout, Outcome::TimedOut { .. }) => Ok(()),
        (HandshakePlan::Rejected { statuses, body }, Outcome::Rejected { response: r }) => {
            if !statuses.contains(&r.status) {
                return Err(Failure::new(format!(
                    "handshake rejected with {} {:?}, but the scenario expects {}",
                    r.status,
                    body_detail(r.body.as_deref()),
                    statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
                ))
                .expected(expected)
                .actual(format!("{} {}", r.status, r.body.clone().unwrap_or_default())));
            }
            if let Some(p) = body {
                let value = r.body.as_deref().map_or(Value::Null, |b| Frame::from_text(b).value());
                if !p.matches(&value) {
                    let detail = body_detail(r.body.as_deref());
                    let (cause, hint) = diagnose_rejection(r.status, &detail, sent);
                    return Err(Failure::new(format!(
                        "handshake rejected with {} as expected, but for another reason: {detail:?} ({cause})",
                        r.status
                    ))
                    .expected(expected)
                    .actual(r.body.clone().unwrap_or_else(|| "(no body)".into()))
                    .note(crate::pattern::render_diff(p, &value))
                    .hint(format!("a rejection proves what it was meant to only for the expected reason; {hint}")));
                }
            }
            Ok(())
        }
        (HandshakePlan::Rejected { .. } | HandshakePlan::Timeout, Outcome::Accepted { .. }) => Err(Failure::new(format!(
            "handshake accepted (101), but the scenario expects it {}: auth is not enforced",
            if matches!(plan, HandshakePlan::Timeout) { "to time out" } else { "rejected" }
        ))
        .expected(expected)
        .actual("101 Switching Protocols")
        .hint(format!(
            "the server let a `{auth_strategy}` credential through; check that this environment enforces auth on the WebSocket route"
        ))),
        (_, Outcome::Rejected { response: r }) => {
            let detail = body_detail(r.body.as_deref());
            let (cause, hint) = diagnose_rejection(r.status, &detail, sent);
            Err(Failure::new(format!("handshake rejected with {} {detail:?}: {cause}", r.status))
                .expected(expected)
                .actual(format!("{} {}", r.status, r.body.clone().unwrap_or_default()))
                .hint(hint))
        }
        (_, Outcome::TimedOut { after }) => Err(Failure::new(format!(
            "handshake timed out: no answer to the upgrade within {}; the server may be rejecting the credential silently",
            humantime::format_duration(*after)
        ))
        .expected(expected)
        .actual("no HTTP response")
        .hint("the server may be rejecting the credentials silently (it accepts TCP, never answers the upgrade): try the same token on an HTTP endpoint, and check the health endpoint")),
        (_, Outcome::Failed { kind, message }) => Err(Failure::new(format!("handshake failed: {message}"))
            .expected(expected)
            .hint(match kind {
                FailureKind::Refused => "the environment is down or the URL is wrong: this is not the scenario's fault",
                FailureKind::Dns => "the host name does not resolve: check the environment's ws_url",
                FailureKind::Tls => "TLS failed: check the certificate chain and that the URL's scheme (ws/wss) matches the port",
                FailureKind::Reset => "the server or a proxy cut the connection during the upgrade",
                FailureKind::Protocol => "the server answered, but not as a WebSocket endpoint: check the path and the subprotocols",
                FailureKind::Other => "see the message above",
            })),
    }
}

/// The table of likely causes for a rejected upgrade: `(cause, what to do)`. The cause
/// goes into the first line of the report.
pub(crate) fn diagnose_rejection(status: u16, detail: &str, sent: &Sent<'_>) -> (String, String) {
    let d = detail.to_ascii_lowercase();
    let key = sent.key.unwrap_or("the configured secret");
    let (cause, hint): (&str, String) = if d.contains("user not found") {
        (
            "the token's user does not exist in this environment",
            "the token is validly signed, but this environment's database has no such user: obtain a real user's token with an `exchange` strategy (a bypass key), or use a user seeded there".into(),
        )
    } else if d.contains("user inactive") {
        (
            "the token's user is deactivated in this environment",
            "use another user, or reactivate this one".into(),
        )
    } else if d.contains("invalid or expired") {
        match sent.expired {
            Some(true) => (
                "the token had expired",
                "mint a fresh token (`expires_in`), or check the clocks of this machine and the server".into(),
            ),
            Some(false) => (
                "the token is not expired, so the server verifies signatures with a different secret",
                format!("the token is {key}; compare that fingerprint with the one the server logs at start, and the variables each side reads (e.g. JWT_SECRET_STAGING vs JWT_SECRET_KEY)"),
            ),
            None => (
                "the token is not a JWT this server accepts",
                format!("the `{}` credential is not a signed JWT (a fake or placeholder token?); use a `jwt` or `exchange` strategy", sent.strategy),
            ),
        }
    } else if d.contains("no token") {
        (
            "the server found no credential",
            "check `connect.token_in` and that the auth strategy produced a token".into(),
        )
    } else if d.contains("invalid token") && sent.expired.is_none() && sent.strategy != "none" {
        (
            "the token is not a JWT (a fake or placeholder token?)",
            format!(
                "the `{}` credential is not a signed JWT; mint one (`jwt`) or obtain one (`exchange`)",
                sent.strategy
            ),
        )
    } else if d.contains("invalid token") {
        (
            "the server cannot accept the token as sent",
            "the detail names what is wrong (not a JWT, a refused algorithm, a missing claim, the wrong issuer or audience): decode the token (`sockspec decode`) and compare with what the server expects".into(),
        )
    } else if status == 503 || status == 502 {
        (
            "the environment is unavailable",
            "this is not the scenario's fault: check the environment's health endpoint".into(),
        )
    } else if sent.strategy == "none" {
        (
            "the route needs a credential",
            "the scenario sends no credential; add an `auth:` strategy".into(),
        )
    } else {
        (
            "the server refused the credential",
            format!(
                "the server refused the `{}` credential; decode the token and compare its claims and signing secret with the server's",
                sent.strategy
            ),
        )
    };
    (cause.to_string(), hint)
}
