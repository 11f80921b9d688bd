//! Owns the snapshot document: the typed form of the YAML committed as
//! `snapshots/<id>.snap` (users commit these files, so these types are the format), and its
//! construction from a [`Transcript`]. Field order is key order in the output; a key marked
//! "left out" below is absent rather than empty. Normalization of volatile values happens
//! afterwards, on the serialized document (see `render_snapshot`).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::{Disposition, Entry, Event, Frame, Transcript};

/// One run's snapshot: the top-level keys, in this order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct Snapshot {
    /// The scenario id (its path under the scenario root, without extension).
    pub scenario: String,
    /// Every strategy of an auth `chain` when all of them failed (no token was produced);
    /// left out when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auth_failed_attempts: Vec<AuthAttempt>,
    /// The credential used for the upgrade; left out when auth never completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// The HTTP calls (`setup`, auth exchanges, `http` steps, `teardown`) in the order made;
    /// left out when there were none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpCall>,
    /// The WebSocket upgrade; `{}` when the run stopped before it.
    pub handshake: Handshake,
    /// Frames sent and received after the upgrade, with captures and closes, in order
    /// (frames matched by an `ignore` pattern are left out); `[]` when there were none.
    pub frames: Vec<FrameItem>,
    /// How the run ended; `null` when it recorded no outcome.
    pub outcome: Option<Outcome>,
}

/// The credential a run connected with.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct Auth {
    /// The strategy (`jwt`, `bearer`, …; `chain → <strategy>` for the one a chain used).
    pub strategy: String,
    /// The token's redaction marker (never the token); left out for `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The strategies of a `chain` that failed before this one; left out when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after_failed_attempts: Vec<AuthAttempt>,
}

/// A strategy of a `chain` that failed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct AuthAttempt {
    /// The strategy tried.
    pub strategy: String,
    /// Why it failed.
    pub error: String,
}

/// One HTTP call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct HttpCall {
    /// Where it was made: `setup`, `auth`, `steps` or `teardown`.
    pub phase: String,
    /// What was sent.
    pub request: HttpRequest,
    /// What came back; left out when no response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpResponse>,
    /// Why the call failed; left out when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The request of an HTTP call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct HttpRequest {
    /// The HTTP method.
    pub method: String,
    /// The URL, with the environment's HTTP base URL written `[http_base]`.
    pub url: String,
    /// The headers sent; left out when none.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    /// The JSON body sent; left out when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The response to an HTTP call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body (JSON, or a string when not JSON); left out when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The WebSocket upgrade. After `request`, exactly one of `response` and `error` is present.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(super) struct Handshake {
    /// The upgrade request; left out when the run stopped before sending it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<HandshakeRequest>,
    /// The server's answer, or the timeout that replaced it; left out when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<HandshakeResponse>,
    /// Why the connection failed (refused, TLS, DNS, …); left out when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The upgrade request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct HandshakeRequest {
    /// Always `GET`.
    pub method: String,
    /// The URL, with the environment's WebSocket base URL written `[ws_base]`.
    pub url: String,
    /// The headers shown (credentials redacted); `{}` when none.
    pub headers: Headers,
}

/// What answered the upgrade request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) enum HandshakeResponse {
    /// Nothing before the handshake timeout: the string
    /// `no answer before the handshake timeout`.
    #[serde(rename = "no answer before the handshake timeout")]
    TimedOut,
    /// An HTTP response: the upgrade (`101`) or a rejection.
    #[serde(untagged)]
    Answered(UpgradeResponse),
}

/// The server's HTTP response to the upgrade request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct UpgradeResponse {
    /// The status code (`101` when accepted).
    pub status: u16,
    /// The headers shown (selected subprotocol, content type, …); left out when none.
    #[serde(skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    /// A rejection's body (JSON when it parses as an object or array, else a string); left
    /// out when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// Header names and values, written as a map in recorded order (a repeated name keeps its
/// first position and its last value).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// Whether there are no headers.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

/// One entry of `frames`: the step (1-based) and one key saying what happened.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct FrameItem {
    /// The step that handled it, counted from 1.
    pub step: usize,
    /// What happened, as the entry's second key.
    #[serde(flatten)]
    pub action: FrameAction,
}

/// What happened in a step: the key and its value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum FrameAction {
    /// `send`: a frame sent.
    Send(FrameContent),
    /// `recv`: a frame received that the step matched.
    Recv(FrameContent),
    /// `skipped`: a frame received that matched nothing and was passed over.
    Skipped(FrameContent),
    /// `capture`: a value captured, as `{name: value}`.
    Capture(Capture),
    /// `close_sent`: the close frame sent.
    CloseSent(CloseSent),
    /// `close_received`: the close frame received.
    CloseReceived(CloseReceived),
    /// `dropped`: the connection ended without a close frame; the error message.
    Dropped(String),
}

/// A frame's content.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub(super) enum FrameContent {
    /// A text frame holding a JSON object or array: that JSON.
    Json(Value),
    /// Any other text frame: the text.
    Text(String),
    /// A binary frame: `{binary_bytes: N}`.
    Binary {
        /// Its length in bytes.
        binary_bytes: usize,
    },
}

/// A captured variable, written as a one-entry map `{name: value}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Capture {
    /// The variable's name.
    pub name: String,
    /// The value captured.
    pub value: Value,
}

impl Serialize for Capture {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(&self.name, &self.value)?;
        map.end()
    }
}

/// A close frame sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct CloseSent {
    /// The close code.
    pub code: u16,
    /// The reason (possibly empty).
    pub reason: String,
}

/// A close frame received.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(super) struct CloseReceived {
    /// The close code; `null` when the frame had none.
    pub code: Option<u16>,
    /// The reason (possibly empty).
    pub reason: String,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Outcome {
    /// The string `passed`.
    Passed,
    /// `{failed: <summary>}`.
    Failed(String),
}

impl Snapshot {
    /// The snapshot of `t`, with `ws_base` and `http_base` (the environment's base URLs)
    /// written `[ws_base]` and `[http_base]` in URLs, so one snapshot serves every
    /// environment. Values are not normalized yet.
    pub(super) fn from_transcript(t: &Transcript, ws_base: &str, http_base: &str) -> Snapshot {
        let mut doc = Snapshot {
            scenario: t.scenario.clone(),
            auth_failed_attempts: Vec::new(),
            auth: None,
            http: Vec::new(),
            handshake: Handshake::default(),
            frames: Vec::new(),
            outcome: None,
        };
        // Failed chain attempts wait for the `Auth` event that ends the chain.
        let mut attempts = Vec::new();
        for Entry { event, .. } in &t.entries {
            match event {
                Event::Auth {
                    strategy, token, ..
                } => {
                    doc.auth = Some(Auth {
                        strategy: strategy.clone(),
                        token: token.clone(),
                        after_failed_attempts: std::mem::take(&mut attempts),
                    });
                }
                Event::AuthAttempt { strategy, error } => attempts.push(AuthAttempt {
                    strategy: strategy.clone(),
                    error: error.clone(),
                }),
                Event::Http {
                    phase,
                    method,
                    url,
                    headers,
                    body,
                    status,
                    response,
                    error,
                } => doc.http.push(HttpCall {
                    phase: phase.clone(),
                    request: HttpRequest {
                        method: method.clone(),
                        url: rebase(url, http_base, "[http_base]"),
                        headers: Headers(headers.clone()),
                        body: body.clone(),
                    },
                    response: status.map(|status| HttpResponse {
                        status,
                        body: response.clone(),
                    }),
                    error: error.clone(),
                }),
                Event::Request {
                    method,
                    url,
                    headers,
                } => {
                    doc.handshake.request = Some(HandshakeRequest {
                        method: method.clone(),
                        url: rebase(url, ws_base, "[ws_base]"),
                        headers: Headers(headers.clone()),
                    });
                }
                Event::Response {
                    status,
                    headers,
                    body,
                } => {
                    doc.handshake.response = Some(HandshakeResponse::Answered(UpgradeResponse {
                        status: *status,
                        headers: Headers(headers.clone()),
                        body: body.as_deref().map(|b| Frame::from_text(b).value()),
                    }));
                }
                Event::HandshakeTimeout { .. } => {
                    doc.handshake.response = Some(HandshakeResponse::TimedOut);
                }
                Event::HandshakeError { message } => doc.handshake.error = Some(message.clone()),
                Event::Outcome { passed, summary } => {
                    doc.outcome = Some(if *passed {
                        Outcome::Passed
                    } else {
                        Outcome::Failed(summary.clone())
                    });
                }
                frame_event => doc.frames.extend(frame(frame_event)),
            }
        }
        // Every strategy of a chain failed: no `Auth` event took them.
        doc.auth_failed_attempts = attempts;
        doc
    }
}

/// The `frames` entry of a frame event; `None` for an ignored frame or any other event.
fn frame(event: &Event) -> Option<FrameItem> {
    let (step, action) = match event {
        Event::Sent { step, frame } => (step, FrameAction::Send(content(frame))),
        Event::Received {
            step,
            frame,
            disposition,
        } => match disposition {
            Disposition::Matched => (step, FrameAction::Recv(content(frame))),
            Disposition::Skipped => (step, FrameAction::Skipped(content(frame))),
            Disposition::Ignored => return None,
        },
        Event::Captured { step, name, value } => (
            step,
            FrameAction::Capture(Capture {
                name: name.clone(),
                value: value.clone(),
            }),
        ),
        Event::CloseSent { step, code, reason } => (
            step,
            FrameAction::CloseSent(CloseSent {
                code: *code,
                reason: reason.clone(),
            }),
        ),
        Event::CloseReceived { step, code, reason } => (
            step,
            FrameAction::CloseReceived(CloseReceived {
                code: *code,
                reason: reason.clone(),
            }),
        ),
        Event::Dropped { step, message } => (step, FrameAction::Dropped(message.clone())),
        Event::Auth { .. }
        | Event::AuthAttempt { .. }
        | Event::Http { .. }
        | Event::Request { .. }
        | Event::Response { .. }
        | Event::HandshakeTimeout { .. }
        | Event::HandshakeError { .. }
        | Event::Outcome { .. } => return None,
    };
    Some(FrameItem {
        step: step + 1,
        action,
    })
}

fn content(f: &Frame) -> FrameContent {
    match f {
        Frame::Json(v) => FrameContent::Json(v.clone()),
        Frame::Text(t) => FrameContent::Text(t.clone()),
        Frame::Binary(n) => FrameContent::Binary { binary_bytes: *n },
    }
}

/// `url` with `base` written `marker` (unchanged when `base` is empty).
fn rebase(url: &str, base: &str, marker: &str) -> String {
    if base.is_empty() {
        url.to_owned()
    } else {
        url.replace(base, marker)
    }
}
