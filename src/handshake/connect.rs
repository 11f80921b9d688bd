//! Owns opening the connection and classifying what happened: accepted (101, with what it
//! negotiated), rejected with a status and body, no answer before the deadline, or a transport
//! failure (refused, DNS, TLS, reset, protocol), each with words a person can act on.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderValue, Request, Uri};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::upgrade::{offered_subprotocols, upgrade};
use crate::size::Limits;

/// An open WebSocket connection (plain or TLS).
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Response headers worth showing in a transcript.
const SHOWN_RESPONSE_HEADERS: [&str; 5] = [
    "sec-websocket-protocol",
    "location",
    "content-type",
    "www-authenticate",
    "retry-after",
];

/// The server's answer to the upgrade request, as far as a transcript shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResponseInfo {
    /// The HTTP status (101 when accepted).
    pub status: u16,
    /// The response headers worth showing (subprotocol, content type, auth challenge, retry).
    pub headers: Vec<(String, String)>,
    /// The body of a rejection, when it came with the head and is not empty.
    pub body: Option<String>,
}

fn shown(headers: &HeaderMap) -> Vec<(String, String)> {
    SHOWN_RESPONSE_HEADERS
        .iter()
        .filter_map(|n| {
            headers.get(*n).map(|v| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
        })
        .collect()
}

/// What a 101 negotiated, for judging `handshake: {accepted: ...}`. Never recorded: the
/// transcript shows [`ResponseInfo::headers`] only, so headers outside
/// `SHOWN_RESPONSE_HEADERS` (cookies, internal ids) stay out of snapshots.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Negotiated {
    /// The subprotocols the request offered, in order.
    pub offered: Vec<String>,
    /// The subprotocol the server selected; `None` when it selected none (legal, RFC 6455).
    pub subprotocol: Option<String>,
    /// Every response header, names lowercase, in order (a repeated header once per line).
    pub headers: Vec<(String, String)>,
}

impl Negotiated {
    fn new(offered: Vec<String>, headers: &HeaderMap) -> Self {
        let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        Negotiated {
            offered,
            subprotocol: headers.get("sec-websocket-protocol").map(text),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), text(v)))
                .collect(),
        }
    }

    /// The values of header `name` (lowercase), in order; empty when the 101 has none.
    pub(crate) fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// How a transport failure looked, so diagnostics can explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// Nothing listens at the address.
    Refused,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The connection was reset or closed during the upgrade.
    Reset,
    /// The server answered, but not as a WebSocket endpoint.
    Protocol,
    /// Anything else (the message says what).
    Other,
}

/// What the upgrade came to: the one type the handshake records ([`Outcome::record`]) and
/// judges ([`super::judge`]).
pub(crate) enum Outcome {
    /// 101 Switching Protocols: the connection is open.
    Accepted {
        /// The 101 response, as the transcript shows it.
        response: ResponseInfo,
        /// What it negotiated: subprotocol, every header (judged, never recorded).
        negotiated: Negotiated,
        /// The open connection.
        ws: Box<Ws>,
    },
    /// The server answered with another status (401, 403, 503, …).
    Rejected {
        /// The rejection, with its body.
        response: ResponseInfo,
    },
    /// A redirect `connect.follow_redirects` did not follow: to another origin, or one hop
    /// too many (a loop, or more than the scenario allows).
    Redirected {
        /// The redirect (3xx, with its `Location`).
        response: ResponseInfo,
        /// Where it pointed, as the server wrote it.
        location: String,
        /// Why it was not followed.
        stop: RedirectStop,
    },
    /// No answer before the handshake deadline.
    TimedOut {
        /// The deadline that passed.
        after: Duration,
        /// How many bytes of the response head had arrived (0: no answer at all).
        head_bytes: usize,
    },
    /// The transport failed before an HTTP answer.
    Failed {
        /// How it failed.
        kind: FailureKind,
        /// What the transport said, in words a person can act on.
        message: String,
    },
}

/// Connects, giving up after `timeout` (tungstenite itself never times out); the connection
/// refuses messages and frames beyond `limits`.
pub(crate) async fn connect(req: Request<()>, timeout: Duration, limits: Limits) -> Outcome {
    let offered = offered_subprotocols(&req);
    let head_bytes = AtomicUsize::new(0);
    let deadline = tokio::time::Instant::now() + timeout;
    match tokio::time::timeout_at(deadline, upgrade(req, &head_bytes, limits, deadline)).await {
        Err(_) => Outcome::TimedOut {
            after: timeout,
            head_bytes: head_bytes.load(Ordering::Relaxed),
        },
        Ok(Ok((ws, resp))) => Outcome::Accepted {
            response: ResponseInfo {
                status: resp.status().as_u16(),
                headers: shown(resp.headers()),
                body: None,
            },
            negotiated: Negotiated::new(offered, resp.headers()),
            ws: Box::new(ws),
        },
        Ok(Err(WsError::Http(resp))) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .filter(|b| !b.is_empty());
            Outcome::Rejected {
                response: ResponseInfo {
                    status: resp.status().as_u16(),
                    headers: shown(resp.headers()),
                    body,
                },
            }
        }
        Ok(Err(e)) => classify(e),
    }
}

/// Why a redirect was not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedirectStop {
    /// Its `Location` is on another scheme, host or port: the credential is not sent there.
    CrossOrigin,
    /// It would be hop number N + 1 (or revisit a URL already requested: a loop); N is
    /// `connect.follow_redirects`.
    TooMany(u8),
}

/// One redirect followed: the 3xx and the URL requested next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hop {
    /// The redirect, as the transcript shows it.
    pub response: ResponseInfo,
    /// The URL the upgrade was re-sent to.
    pub next: String,
}

/// The statuses whose `Location` is followed.
const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// [`connect`], following up to `follow` same-origin redirects by re-sending the upgrade
/// (same headers and credential, a fresh key) to their `Location`; the deadline covers every
/// hop. Returns the redirects followed, and what the last request came to.
pub(crate) async fn connect_following(
    req: Request<()>,
    timeout: Duration,
    limits: Limits,
    follow: u8,
) -> (Vec<Hop>, Outcome) {
    let mut hops: Vec<Hop> = Vec::new();
    if follow == 0 {
        return (hops, connect(req, timeout, limits).await);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = vec![req.uri().to_string()];
    let mut req = req;
    // Bounded: each turn either returns or adds a hop, and at most `follow` hops are added.
    for _ in 0..=follow {
        let uri = req.uri().clone();
        let headers = req.headers().clone();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let outcome = match connect(req, left, limits).await {
            Outcome::TimedOut { head_bytes, .. } => Outcome::TimedOut {
                after: timeout,
                head_bytes,
            },
            other => other,
        };
        let Outcome::Rejected { response } = &outcome else {
            return (hops, outcome);
        };
        if !REDIRECTS.contains(&response.status) {
            return (hops, outcome);
        }
        let Some(location) = response
            .headers
            .iter()
            .find(|(n, _)| n == "location")
            .map(|(_, v)| v.clone())
        else {
            return (hops, outcome);
        };
        let response = response.clone();
        let next = match resolve(&uri, &location) {
            Some(next) if same_origin(&uri, &next) => next,
            _ => {
                let stop = RedirectStop::CrossOrigin;
                return (
                    hops,
                    Outcome::Redirected {
                        response,
                        location,
                        stop,
                    },
                );
            }
        };
        let next_text = next.to_string();
        if hops.len() >= usize::from(follow) || seen.contains(&next_text) {
            let stop = RedirectStop::TooMany(follow);
            return (
                hops,
                Outcome::Redirected {
                    response,
                    location,
                    stop,
                },
            );
        }
        seen.push(next_text.clone());
        hops.push(Hop {
            response,
            next: next_text,
        });
        let mut again = Request::new(());
        *again.uri_mut() = next;
        *again.headers_mut() = headers;
        if let Ok(key) = HeaderValue::from_str(&generate_key()) {
            again.headers_mut().insert("sec-websocket-key", key);
        }
        req = again;
    }
    // Unreachable: the last turn returns (hops == follow); kept total.
    (
        hops,
        Outcome::Failed {
            kind: FailureKind::Other,
            message: format!("too many redirects ({follow})"),
        },
    )
}

/// The scheme a redirect's `Location` stands for: `http` is `ws`, `https` is `wss`.
fn ws_scheme(scheme: &str) -> Option<&'static str> {
    match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => Some("ws"),
        "wss" | "https" => Some("wss"),
        _ => None,
    }
}

/// `location` resolved against `base`: absolute (`ws://`, `http://`, …, with the scheme
/// mapped to `ws`/`wss`), network-path (`//host/p`), absolute-path (`/p?q`) or relative
/// (`p`, beside the base's last segment). `None` when it is not a URL.
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    let location = location.trim();
    let scheme = ws_scheme(base.scheme_str()?)?;
    let authority = base.authority()?.as_str();
    let text = if let Some((s, rest)) = location.split_once("://") {
        format!("{}://{rest}", ws_scheme(s)?)
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        format!("{scheme}://{authority}{dir}{location}")
    };
    text.parse().ok()
}

/// Whether `a` and `b` have the same scheme, host and port (the default port of the scheme
/// when none is written).
fn same_origin(a: &Uri, b: &Uri) -> bool {
    let port = |u: &Uri| {
        u.port_u16().unwrap_or(if u.scheme_str() == Some("wss") {
            443
        } else {
            80
        })
    };
    let host = |u: &Uri| u.host().map(str::to_ascii_lowercase);
    a.scheme_str().and_then(ws_scheme) == b.scheme_str().and_then(ws_scheme)
        && host(a).is_some()
        && host(a) == host(b)
        && port(a) == port(b)
}

fn classify(e: WsError) -> Outcome {
    let (kind, message) = match &e {
        WsError::Io(io) => {
            let text = io.to_string();
            let is_tls = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .is_some();
            if is_tls {
                (FailureKind::Tls, format!("TLS handshake failed: {text}"))
            } else if io.kind() == ErrorKind::ConnectionRefused {
                (
                    FailureKind::Refused,
                    format!("connection refused: nothing listens there ({text})"),
                )
            } else if text.contains("failed to lookup")
                || text.contains("Name or service not known")
            {
                (FailureKind::Dns, format!("DNS lookup failed: {text}"))
            } else if matches!(
                io.kind(),
                ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe
            ) {
                (
                    FailureKind::Reset,
                    format!("connection reset during the handshake: {text}"),
                )
            } else {
                (FailureKind::Other, text)
            }
        }
        WsError::Protocol(p) => (FailureKind::Protocol, invalid_response(p)),
        WsError::Capacity(c) => (
            FailureKind::Protocol,
            format!(
                "invalid handshake response: {}",
                match c {
                    CapacityError::TooManyHeaders => "too many headers".to_string(),
                    other => other.to_string(),
                }
            ),
        ),
        WsError::AttackAttempt => (
            FailureKind::Protocol,
            "invalid handshake response: head too large".into(),
        ),
        WsError::Tls(t) => (FailureKind::Tls, format!("TLS error: {t}")),
        WsError::Url(u) => (FailureKind::Other, format!("bad URL: {u}")),
        other => (FailureKind::Other, other.to_string()),
    };
    Outcome::Failed { kind, message }
}

/// Names what was wrong with a response that is not a valid 101 (RFC 6455 §4.1).
fn invalid_response(p: &ProtocolError) -> String {
    let what = match p {
        ProtocolError::SecWebSocketAcceptKeyMismatch => {
            "Sec-WebSocket-Accept does not match the key sent".to_string()
        }
        ProtocolError::MissingUpgradeWebSocketHeader => "no `Upgrade: websocket` header".into(),
        ProtocolError::MissingConnectionUpgradeHeader => "no `Connection: Upgrade` header".into(),
        ProtocolError::SecWebSocketSubProtocolError(e) => format!("subprotocol: {e}"),
        ProtocolError::HttparseError(e) if e.to_string() == "too many headers" => {
            "too many headers".into()
        }
        ProtocolError::HttparseError(e) => format!("not HTTP ({e})"),
        ProtocolError::WrongHttpVersion => "not HTTP/1.1".into(),
        ProtocolError::HandshakeIncomplete => {
            "the server closed the connection before the end of the response head".into()
        }
        other => other.to_string(),
    };
    format!("invalid handshake response: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().expect("uri")
    }

    #[test]
    fn locations_resolve_against_the_request() {
        let base = uri("ws://127.0.0.1:9000/a/ws?x=1");
        let r = |l: &str| resolve(&base, l).map(|u| u.to_string());
        assert_eq!(r("/b").as_deref(), Some("ws://127.0.0.1:9000/b"));
        assert_eq!(r("c?y=2").as_deref(), Some("ws://127.0.0.1:9000/a/c?y=2"));
        assert_eq!(
            r("http://127.0.0.1:9000/d").as_deref(),
            Some("ws://127.0.0.1:9000/d")
        );
        assert_eq!(r("//other:1/e").as_deref(), Some("ws://other:1/e"));
        assert_eq!(r("ftp://x/y"), None);
    }

    #[test]
    fn only_the_same_scheme_host_and_port_is_the_same_origin() {
        let base = uri("ws://example.com/ws");
        assert!(same_origin(&base, &uri("ws://EXAMPLE.com:80/x")));
        assert!(!same_origin(&base, &uri("wss://example.com/x")));
        assert!(!same_origin(&base, &uri("ws://example.com:8080/x")));
        assert!(!same_origin(&base, &uri("ws://evil.example/x")));
    }
}
