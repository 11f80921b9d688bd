//! Owns judging a handshake outcome against the scenario's expectation, and the hints that
//! name the likely cause when they differ (a fake or mis-signed token, an unknown user, a
//! silent rejection hiding behind a timeout, auth not enforced, an environment down, a 101
//! without the subprotocol or headers the scenario asserts).

use serde_json::Value;

use super::{FailureKind, Negotiated, Outcome, RedirectStop};
use crate::diagnostic::quote::bound;
use crate::pattern::Pattern;
use crate::scenario::{AcceptedExpectation, HandshakePlan};
use crate::transcript::{Failure, Frame};

/// Response headers whose values may carry a credential: a failure shows them masked.
const MASKED_RESPONSE_HEADERS: [&str; 3] = [
    "set-cookie",
    "authentication-info",
    "proxy-authentication-info",
];

/// The statuses that refuse a credential: only they blame it.
const AUTH_STATUSES: [u16; 2] = [401, 403];

/// At most this many bytes of a redirect's `Location` in a first line.
const LOCATION_LIMIT: usize = 100;

/// At most this many bytes of a non-101 answer's body in a first line.
const BODY_IN_FIRST_LINE: usize = 80;

fn expected_text(plan: &HandshakePlan) -> String {
    match plan {
        HandshakePlan::Accepted(e) => {
            let mut with: Vec<String> = e
                .subprotocol
                .iter()
                .map(|p| format!("subprotocol {}", subprotocol_text(p)))
                .collect();
            with.extend(
                e.headers
                    .iter()
                    .map(|(name, p)| header_expectation(name, p)),
            );
            if with.is_empty() {
                "the upgrade accepted (101 Switching Protocols)".into()
            } else {
                format!(
                    "the upgrade accepted (101 Switching Protocols) with {}",
                    with.join(", ")
                )
            }
        }
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
    /// `token_in: message`: the credential is sent after the upgrade, so the server refuses it
    /// with a close (4401, 4403, 1008), never with an HTTP status.
    pub in_message: bool,
    /// A credential header the scenario writes in `connect.headers` itself (`authorization`,
    /// `cookie`, `x-api-key`, …), when no `auth:` strategy sends one.
    pub header: Option<&'a str>,
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
        (HandshakePlan::Accepted(e), Outcome::Accepted { negotiated, .. }) => {
            judge_accepted(e, negotiated).map_err(|f| f.expected(expected))
        }
        (HandshakePlan::Closed(_), Outcome::Accepted { .. }) => Ok(()),
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
        (HandshakePlan::Rejected { .. }, Outcome::Accepted { .. }) if sent.in_message => Err(Failure::new(
            "handshake accepted (101), but the scenario expects a rejection: a `token_in: message` \
             credential is refused by a close",
        )
        .note(
            "note: the credential is sent after the upgrade, so the server refuses it with a close \
             (4401, 4403, 1008), never with an HTTP status; a 101 does not mean auth is not enforced",
        )
        .expected(expected)
        .actual("101 Switching Protocols (the credential was not sent yet)")
        .hint(
            "send the credential in a step and expect the refusal as a close: \
             `- send: {type: auth, token: \"{{ auth.token }}\"}` then `- expect_close: {code: 4401}` \
             (see auth/token_in_message_rejected.yaml)",
        )),
        (HandshakePlan::Rejected { .. } | HandshakePlan::Timeout, Outcome::Accepted { .. }) => Err(Failure::new(format!(
            "handshake accepted (101), but the scenario expects it {}: auth is not enforced",
            if matches!(plan, HandshakePlan::Timeout) { "to time out" } else { "rejected" }
        ))
        .expected(expected)
        .actual("101 Switching Protocols")
        .hint(format!(
            "the server let a `{auth_strategy}` credential through; check that this environment enforces auth on the WebSocket route"
        ))),
        (_, Outcome::Rejected { response: r }) if (300..400).contains(&r.status) => {
            let location = r
                .headers
                .iter()
                .find(|(n, _)| n == "location")
                .map_or("(no Location header)", |(_, v)| v.as_str());
            Err(Failure::new(format!(
                "server redirected ({}) to {location}; not followed",
                r.status
            ))
            .expected(expected)
            .actual(format!("{} Location: {location}", r.status))
            .hint("point the scenario (connect.path or the environment's ws_url) at the redirect's target"))
        }
        // A scenario that expects the redirect's status gets it, followed or not.
        (HandshakePlan::Rejected { statuses, body: None }, Outcome::Redirected { response: r, .. })
            if statuses.contains(&r.status) => Ok(()),
        (_, Outcome::Redirected { response: r, location, stop }) => {
            let location = bound(location, LOCATION_LIMIT);
            let (message, hint) = match stop {
                RedirectStop::CrossOrigin => (
                    format!("server redirected ({}) to {location}; not followed: another origin", r.status),
                    "a redirect to another scheme, host or port is never followed (the credential stays with its origin): point the scenario (connect.url or the environment's ws_url) at the redirect's target".to_owned(),
                ),
                RedirectStop::TooMany(n) => (
                    format!("too many redirects ({n}); the last ({}) to {location}", r.status),
                    format!("the server kept redirecting (a loop, or more than connect.follow_redirects: {n} hops): check the redirects in the transcript and the route's configuration"),
                ),
            };
            Err(Failure::new(message)
                .expected(expected)
                .actual(format!("{} Location: {location}", r.status))
                .hint(hint))
        }
        (_, Outcome::Rejected { response: r }) if AUTH_STATUSES.contains(&r.status) => {
            let detail = body_detail(r.body.as_deref());
            let (cause, hint) = diagnose_rejection(r.status, &detail, sent);
            Err(Failure::new(format!("handshake rejected with {} {detail:?}: {cause}", r.status))
                .expected(expected)
                .actual(format!("{} {}", r.status, r.body.clone().unwrap_or_default()))
                .hint(hint))
        }
        (_, Outcome::Rejected { response: r }) => {
            let detail = body_detail(r.body.as_deref());
            let (cause, hint) = diagnose_rejection(r.status, &detail, sent);
            let quoted = if detail.is_empty() {
                String::new()
            } else {
                format!(" {:?}", bound(&detail, BODY_IN_FIRST_LINE))
            };
            Err(Failure::new(format!("server answered {} instead of 101{quoted}: {cause}", r.status))
                .expected(expected)
                .actual(format!("{} {}", r.status, r.body.clone().unwrap_or_default()))
                .hint(hint))
        }
        (_, Outcome::TimedOut { after, head_bytes: n @ 1.. }) => Err(Failure::new(format!(
            "handshake timed out: incomplete response ({n} bytes of head) within {}",
            humantime::format_duration(*after)
        ))
        .expected(expected)
        .actual(format!("{n} bytes of a response head, never completed"))
        .hint("the server (or a proxy) started answering but did not finish the head in time: it may be overloaded or trickling bytes")),
        (_, Outcome::TimedOut { after, .. }) => Err(Failure::new(format!(
            "handshake timed out: no response (0 bytes) within {}; the server may be rejecting the credential silently",
            humantime::format_duration(*after)
        ))
        .expected(expected)
        .actual("no HTTP response")
        .hint("the server may be rejecting the credentials silently (it accepts TCP, never answers the upgrade): try the same token on an HTTP endpoint, and check the health endpoint")),
        (_, Outcome::Failed { kind: FailureKind::Protocol, message }) => Err(Failure::new(message.clone())
            .expected(expected)
            .hint("the server answered, but not as a WebSocket endpoint: check the path and the subprotocols")),
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

/// How a subprotocol expectation reads: `graphql-ws`, `no subprotocol`, or `a subprotocol
/// matching {"regex":"^graphql"}`.
fn subprotocol_text(p: &Pattern) -> String {
    match p.raw() {
        Value::String(name) => name.clone(),
        Value::Null => "no subprotocol".into(),
        raw => format!("a subprotocol matching {raw}"),
    }
}

/// How a header expectation reads: `no header server` or `header x-id matching {...}`.
fn header_expectation(name: &str, p: &Pattern) -> String {
    match p.raw() {
        Value::Null => format!("no header {name}"),
        raw => format!("header {name} matching {raw}"),
    }
}

/// A header value as a failure may show it: cookie values and authentication parameters
/// masked, since they may be credentials the redactor does not know.
fn shown_value(name: &str, value: &str) -> String {
    if !MASKED_RESPONSE_HEADERS.contains(&name) {
        return value.to_owned();
    }
    if name != "set-cookie" {
        return "[hidden]".to_owned();
    }
    // `name=value; attributes`: keep the cookie's name and attributes.
    let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
    let cookie = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
    let sep = if attributes.is_empty() { "" } else { ";" };
    format!("{cookie}=[hidden]{sep}{attributes}")
}

/// Judges an accepted upgrade's 101 against `handshake: {accepted: ...}`: the subprotocol,
/// then each header in order. The first difference names the failure; the others are notes.
fn judge_accepted(e: &AcceptedExpectation, n: &Negotiated) -> Result<(), Failure> {
    let mut failures: Vec<Failure> = Vec::new();
    if let Some(p) = &e.subprotocol {
        let selected = n.subprotocol.clone().map_or(Value::Null, Value::String);
        if !p.matches(&selected) {
            let offered = if n.offered.is_empty() {
                "none".to_owned()
            } else {
                n.offered.join(", ")
            };
            let (what, actual, hint) = match &n.subprotocol {
                None => (
                    "selected no subprotocol".to_owned(),
                    "101 Switching Protocols without Sec-WebSocket-Protocol: no subprotocol selected".to_owned(),
                    "the server speaks none of the offered subprotocols (a 101 without \
                     `Sec-WebSocket-Protocol` selects none): check their spelling in \
                     `connect.subprotocols` and which ones this server supports",
                ),
                Some(s) => (
                    format!("selected subprotocol {s}"),
                    format!("101 Switching Protocols, Sec-WebSocket-Protocol: {s}"),
                    if p.raw().is_null() {
                        "the server selected one of the offered subprotocols: expect it, or \
                         stop offering it"
                    } else {
                        "the server selected another of the offered subprotocols (a server \
                         picks by its own preference, not necessarily the client's order): \
                         offer only the one expected, or expect the one it selects"
                    },
                ),
            };
            failures.push(
                Failure::new(format!(
                    "handshake accepted, but the server {what}; offered: {offered}; the scenario expects {}",
                    subprotocol_text(p)
                ))
                .actual(actual)
                .hint(hint),
            );
        }
    }
    for (name, p) in &e.headers {
        let values = n.header(name);
        let received = (!values.is_empty()).then(|| values.join(", "));
        if p.matches(&received.clone().map_or(Value::Null, Value::String)) {
            continue;
        }
        let shown = values
            .iter()
            .map(|v| shown_value(name, v))
            .collect::<Vec<_>>()
            .join(", ");
        let (message, actual) = match (&received, p.raw()) {
            (None, raw) => (
                format!(
                    "handshake accepted, but the 101 has no header `{name}`; the scenario expects one matching {raw}"
                ),
                format!("no header {name}"),
            ),
            (Some(_), Value::Null) => (
                format!(
                    "handshake accepted, but the 101 has header `{name}` ({shown:?}); the scenario expects none"
                ),
                format!("{name}: {shown}"),
            ),
            (Some(_), raw) => (
                format!(
                    "handshake accepted, but response header `{name}` is {shown:?}, which does not match {raw}"
                ),
                format!("{name}: {shown}"),
            ),
        };
        let mut names: Vec<&str> = Vec::new();
        for (h, _) in &n.headers {
            if !names.contains(&h.as_str()) {
                names.push(h);
            }
        }
        failures.push(
            Failure::new(message)
                .actual(actual)
                .note(format!("headers received: {}", names.join(", ")))
                .hint(
                    "the 101's headers come from the server and any proxy in front of it: \
                       compare with this environment's configuration (header names are \
                       case-insensitive)",
                ),
        );
    }
    let mut failures = failures.into_iter();
    let Some(first) = failures.next() else {
        return Ok(());
    };
    Err(failures.fold(first, |f, other| f.note(format!("also: {}", other.message))))
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
    } else if matches!(status, 502..=504) {
        (
            "the environment is unavailable",
            "this is not the scenario's fault: check the environment's health endpoint".into(),
        )
    } else if status == 404 {
        (
            "no WebSocket endpoint at this path",
            "check `connect.path` (or `connect.url`) and the environment's ws_url: the server knows no route there".into(),
        )
    } else if status >= 500 {
        (
            "the server failed",
            "a server error, not a refused credential: the server's logs say why".into(),
        )
    } else if !AUTH_STATUSES.contains(&status) {
        (
            "the server did not accept the upgrade",
            "a status other than 401/403 does not refuse the credential: check the path, the headers and the server's logs".into(),
        )
    } else if let (Some(header), "none") = (sent.header, sent.strategy) {
        (
            "the server refused the credential",
            format!(
                "the server refused the credential the scenario writes in `connect.headers` (`{header}`); \
                 check its value, and declare it with an `auth:` strategy and `token_in: {{header: {header}}}` \
                 so it is reported as the credential"
            ),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pattern(raw: Value) -> Pattern {
        Pattern::compile(&raw).expect("pattern")
    }

    fn negotiated(
        offered: &[&str],
        subprotocol: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Negotiated {
        Negotiated {
            offered: offered.iter().map(|s| (*s).to_owned()).collect(),
            subprotocol: subprotocol.map(str::to_owned),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn first_line(e: &AcceptedExpectation, n: &Negotiated) -> String {
        judge_accepted(e, n)
            .err()
            .map(|f| f.message)
            .unwrap_or_default()
    }

    #[test]
    fn a_subprotocol_failure_says_what_was_offered_and_selected() {
        let offered = ["graphql-transport-ws", "graphql-ws"];
        let e = AcceptedExpectation {
            subprotocol: Some(pattern(json!("graphql-transport-ws"))),
            headers: Vec::new(),
        };
        assert_eq!(
            first_line(&e, &negotiated(&offered, None, &[])),
            "handshake accepted, but the server selected no subprotocol; offered: \
             graphql-transport-ws, graphql-ws; the scenario expects graphql-transport-ws"
        );
        assert_eq!(
            first_line(&e, &negotiated(&offered, Some("graphql-ws"), &[])),
            "handshake accepted, but the server selected subprotocol graphql-ws; offered: \
             graphql-transport-ws, graphql-ws; the scenario expects graphql-transport-ws"
        );
        assert!(
            judge_accepted(&e, &negotiated(&offered, Some("graphql-transport-ws"), &[])).is_ok()
        );
        let none = AcceptedExpectation {
            subprotocol: Some(pattern(Value::Null)),
            headers: Vec::new(),
        };
        assert!(judge_accepted(&none, &negotiated(&offered, None, &[])).is_ok());
        assert!(
            first_line(&none, &negotiated(&offered, Some("graphql-ws"), &[]))
                .ends_with("the scenario expects no subprotocol")
        );
        // Nothing asserted: a 101 without a subprotocol is fine.
        assert!(
            judge_accepted(
                &AcceptedExpectation::default(),
                &negotiated(&offered, None, &[])
            )
            .is_ok()
        );
    }

    #[test]
    fn a_header_failure_names_the_header_the_pattern_and_the_value() {
        let e = AcceptedExpectation {
            subprotocol: None,
            headers: vec![
                (
                    "x-request-id".into(),
                    pattern(json!({"regex": "^[0-9a-f-]{36}$"})),
                ),
                ("server".into(), pattern(Value::Null)),
            ],
        };
        let n = negotiated(&[], None, &[("x-request-id", "abc"), ("server", "nginx")]);
        let f = judge_accepted(&e, &n).expect_err("two mismatches");
        assert_eq!(
            f.message,
            r#"handshake accepted, but response header `x-request-id` is "abc", which does not match {"regex":"^[0-9a-f-]{36}$"}"#
        );
        assert!(f.notes.iter().any(|n| n
            == r#"also: handshake accepted, but the 101 has header `server` ("nginx"); the scenario expects none"#));
        assert_eq!(
            first_line(&e, &negotiated(&[], None, &[])),
            r#"handshake accepted, but the 101 has no header `x-request-id`; the scenario expects one matching {"regex":"^[0-9a-f-]{36}$"}"#
        );
        let ok = negotiated(
            &[],
            None,
            &[("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")],
        );
        assert!(judge_accepted(&e, &ok).is_ok());
    }

    #[test]
    fn a_credential_header_without_auth_is_blamed_not_missing() {
        let sent = Sent {
            strategy: "none",
            header: Some("x-api-key"),
            ..Sent::default()
        };
        let (cause, hint) = diagnose_rejection(403, "", &sent);
        assert_eq!(cause, "the server refused the credential");
        assert!(!hint.contains("add an `auth:` strategy"), "{hint}");
        assert!(hint.contains("`x-api-key`"), "{hint}");
        let none = Sent {
            strategy: "none",
            ..Sent::default()
        };
        assert_eq!(
            diagnose_rejection(403, "", &none).0,
            "the route needs a credential"
        );
    }

    #[test]
    fn only_401_and_403_blame_the_credential() {
        let sent = Sent {
            strategy: "jwt",
            expired: Some(false),
            key: None,
            in_message: false,
            header: None,
        };
        for status in [400, 404, 405, 426, 429, 500, 502, 503, 504] {
            let (cause, hint) = diagnose_rejection(status, "", &sent);
            assert!(!cause.contains("credential"), "{status}: {cause}");
            assert!(!hint.contains("refused the"), "{status}: {hint}");
        }
        for status in [401, 403] {
            let (cause, _) = diagnose_rejection(status, "", &sent);
            assert_eq!(cause, "the server refused the credential", "{status}");
        }
    }

    #[test]
    fn repeated_headers_are_joined_and_cookie_values_masked() {
        let e = AcceptedExpectation {
            subprotocol: None,
            headers: vec![("set-cookie".into(), pattern(json!({"regex": "^theme="})))],
        };
        let n = negotiated(
            &[],
            None,
            &[
                ("set-cookie", "sid=s3cr3t; Path=/; HttpOnly"),
                ("set-cookie", "lang=en"),
            ],
        );
        let message = first_line(&e, &n);
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(
            message.contains(r#""sid=[hidden]; Path=/; HttpOnly, lang=[hidden]""#),
            "{message}"
        );
    }
}
