//! Owns judging a handshake outcome against the scenario's expectation, and the hints that
//! name the likely cause when they differ (a fake or mis-signed token, an unknown user, a
//! silent rejection hiding behind a timeout, auth not enforced, an environment down).

use serde_json::Value;

use super::{FailureKind, ResponseInfo};
use crate::scenario::HandshakePlan;
use crate::transcript::{Failure, Frame};

/// What happened, reduced to what the judgement needs.
pub enum Observed<'a> {
    Accepted,
    Rejected(&'a ResponseInfo),
    TimedOut(std::time::Duration),
    Failed(FailureKind, &'a str),
}

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
pub fn body_detail(body: Option<&str>) -> String {
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

/// `Ok(())` when the outcome is what the scenario expects.
pub fn judge(
    plan: &HandshakePlan,
    observed: &Observed<'_>,
    auth_strategy: &str,
) -> Result<(), Failure> {
    let expected = expected_text(plan);
    match (plan, observed) {
        (HandshakePlan::Accepted | HandshakePlan::Closed(_), Observed::Accepted) => Ok(()),
        (HandshakePlan::Timeout, Observed::TimedOut(_)) => Ok(()),
        (HandshakePlan::Rejected { statuses, body }, Observed::Rejected(r)) => {
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
                    return Err(Failure::new(format!("handshake rejected with {} as expected, but the body differs", r.status))
                        .expected(expected)
                        .actual(r.body.clone().unwrap_or_else(|| "(no body)".into()))
                        .note(crate::steps::render_diff(p, &value)));
                }
            }
            Ok(())
        }
        (HandshakePlan::Rejected { .. } | HandshakePlan::Timeout, Observed::Accepted) => Err(Failure::new(format!(
            "handshake accepted (101), but the scenario expects it {}: auth is not enforced",
            if matches!(plan, HandshakePlan::Timeout) { "to time out" } else { "rejected" }
        ))
        .expected(expected)
        .actual("101 Switching Protocols")
        .hint(format!(
            "the server let a `{auth_strategy}` credential through; check that this environment enforces auth on the WebSocket route"
        ))),
        (_, Observed::Rejected(r)) => {
            let detail = body_detail(r.body.as_deref());
            Err(Failure::new(format!("handshake rejected with {} {detail:?}", r.status))
                .expected(expected)
                .actual(format!("{} {}", r.status, r.body.clone().unwrap_or_default()))
                .hint(rejection_hint(r.status, &detail, auth_strategy)))
        }
        (_, Observed::TimedOut(after)) => Err(Failure::new(format!(
            "handshake timed out: no answer to the upgrade within {}",
            humantime::format_duration(*after)
        ))
        .expected(expected)
        .actual("no HTTP response")
        .hint("the server may be rejecting the credentials silently (it accepts TCP, never answers the upgrade): try the same token on an HTTP endpoint, and check the health endpoint")),
        (_, Observed::Failed(kind, message)) => Err(Failure::new(format!("handshake failed: {message}"))
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

/// The table of likely causes for a rejected upgrade.
pub fn rejection_hint(status: u16, detail: &str, auth_strategy: &str) -> String {
    let d = detail.to_ascii_lowercase();
    if d.contains("user not found") {
        "the token is validly signed but its user does not exist in this environment's database: obtain a real user's token with an `exchange` strategy".into()
    } else if d.contains("user inactive") {
        "the token's user exists but is deactivated in this environment".into()
    } else if d.contains("invalid or expired") {
        "if the token is not expired, the server checks it with a different secret: compare the secret fingerprints and the variables they came from (e.g. JWT_SECRET_STAGING vs JWT_SECRET_KEY)".into()
    } else if d.contains("no token") {
        "the server found no credential: check `connect.token_in` and that the auth strategy produced a token".into()
    } else if d.contains("invalid token") {
        "the token is malformed for this server (not a JWT, wrong algorithm or a missing claim): decode it and compare with what the server expects".into()
    } else if status == 503 || status == 502 {
        "the environment is unavailable, not the scenario: check its health endpoint".into()
    } else if auth_strategy == "none" {
        "the scenario sends no credential; add an `auth:` strategy if the route needs one".into()
    } else {
        format!(
            "the server refused the `{auth_strategy}` credential; decode the token and compare its claims and signing secret with the server's"
        )
    }
}
