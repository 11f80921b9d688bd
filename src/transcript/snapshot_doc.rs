//! Owns the snapshot document: the typed form of the YAML committed as
//! `snapshots/<id>.snap` (users commit these files, so these types are the format), and its
//! construction from a [`Transcript`]. Field order is key order in the output; a key marked
//! "left out" below is absent rather than empty. Message contents are normalized as they are
//! placed (volatile values, and the scenario's `redact:` paths relative to a message, which
//! also orders them canonically); the rest of the document afterwards (see
//! `render_snapshot`).

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::{Disposition, Entry, Event, Frame, Normalizer, Transcript};
use crate::diagnostic::quote::{QUOTE_LIMIT, bound};

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
    /// What each step did after the upgrade, step by step: frames sent, the messages it
    /// claimed (a step that does not assert order lists them in its declared event order),
    /// captures and closes; `[]` when there were none.
    pub frames: Vec<FrameItem>,
    /// Messages received that no step claimed, sorted; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unclaimed: Vec<FrameContent>,
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
    /// `recv`: a message the step claimed by matching it.
    Recv(FrameContent),
    /// `capture`: a value captured, as `{name: value}`.
    Capture(Capture),
    /// `close_sent`: the close frame sent.
    CloseSent(CloseSent),
    /// `close_received`: the close frame received.
    CloseReceived(CloseReceived),
    /// `dropped`: the connection ended without a close frame; the error message.
    Dropped(String),
    /// `close_unanswered`: the closing handshake at the end was not clean (no answer to the
    /// client's close within the close timeout, or a drop instead); an answered close is left
    /// out.
    CloseUnanswered(String),
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
    /// `messages` normalizes message contents (volatile values, and the scenario's `redact:`
    /// paths, relative to a message).
    pub(super) fn from_transcript(
        t: &Transcript,
        ws_base: &str,
        http_base: &str,
        messages: &Normalizer,
    ) -> Snapshot {
        let mut doc = Snapshot {
            scenario: t.scenario.clone(),
            auth_failed_attempts: Vec::new(),
            auth: None,
            http: Vec::new(),
            handshake: Handshake::default(),
            frames: Vec::new(),
            unclaimed: Vec::new(),
            outcome: None,
        };
        let content = |f: &Frame| normalized(f, messages);
        let mut received: BTreeMap<usize, &Frame> = BTreeMap::new();
        let mut claimed: BTreeSet<usize> = BTreeSet::new();
        // Sort keys of the claims in `frames`, to order each step's claims canonically.
        let mut keys: Vec<Option<ClaimKey>> = Vec::new();
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
                    error: quoted(error),
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
                        // `redact:` paths apply to HTTP bodies as to messages.
                        body: body.as_ref().map(|b| messages.normalize_json(b)),
                    },
                    response: status.map(|status| HttpResponse {
                        status,
                        body: response
                            .as_ref()
                            .map(|r| quoted_json(messages.normalize_json(r))),
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
                        headers: Headers(
                            headers
                                .iter()
                                .map(|(k, v)| (quoted(k), quoted(v)))
                                .collect(),
                        ),
                        body: body
                            .as_deref()
                            .map(|b| quoted_json(Frame::from_text(b).value())),
                    }));
                }
                Event::HandshakeTimeout { .. } => {
                    doc.handshake.response = Some(HandshakeResponse::TimedOut);
                }
                Event::HandshakeError { message } => doc.handshake.error = Some(quoted(message)),
                Event::Outcome { passed, summary } => {
                    doc.outcome = Some(if *passed {
                        Outcome::Passed
                    } else {
                        Outcome::Failed(summary.clone())
                    });
                }
                Event::Received { seq, frame, .. } => {
                    received.insert(*seq, frame);
                }
                Event::Claimed {
                    step,
                    seq,
                    disposition,
                    event,
                    ordered,
                } => {
                    claimed.insert(*seq);
                    let Some(frame) = received.get(seq) else {
                        continue;
                    };
                    let c = content(frame);
                    match disposition {
                        Disposition::Matched => {
                            keys.push(Some(ClaimKey {
                                step: *step,
                                event: event.unwrap_or(0),
                                order: if *ordered {
                                    Order::Arrival(*seq)
                                } else {
                                    Order::Text(c.canonical())
                                },
                            }));
                            doc.frames.push(FrameItem {
                                step: step + 1,
                                action: FrameAction::Recv(c),
                            });
                        }
                        // Ignored messages are left out: the scenario says they do not matter,
                        // and their number often depends on timing (heartbeats).
                        Disposition::Ignored => {}
                    }
                }
                frame_event => {
                    if let Some(item) = frame(frame_event, messages) {
                        keys.push(None);
                        doc.frames.push(item);
                    }
                }
            }
        }
        sort_claims(&mut doc.frames, &keys);
        let mut unclaimed: Vec<FrameContent> = received
            .iter()
            .filter(|(seq, _)| !claimed.contains(seq))
            .map(|(_, f)| content(f))
            .collect();
        unclaimed.sort_by_key(FrameContent::canonical);
        doc.unclaimed = unclaimed;
        // Every strategy of a chain failed: no `Auth` event took them.
        doc.auth_failed_attempts = attempts;
        doc
    }
}

/// The `frames` entry of a frame event that is not a claim; `None` for any other event.
fn frame(event: &Event, messages: &Normalizer) -> Option<FrameItem> {
    let (step, action) = match event {
        Event::Sent { step, frame } => (step, FrameAction::Send(normalized(frame, messages))),
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
        Event::Dropped { step, message } => (step, FrameAction::Dropped(quoted(message))),
        Event::Closing { step, ending, .. } => {
            (step, FrameAction::CloseUnanswered(ending.abnormal()?))
        }
        Event::Received { .. }
        | Event::Claimed { .. }
        | Event::Auth { .. }
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

/// A server-controlled text as a snapshot shows it: bounded (`diagnostic::quote`).
fn quoted(text: &str) -> String {
    bound(text, QUOTE_LIMIT).into_owned()
}

/// `value` with every string in it bounded like [`quoted`].
fn quoted_json(value: Value) -> Value {
    match value {
        Value::String(t) if t.len() > QUOTE_LIMIT => Value::String(quoted(&t)),
        Value::Array(items) => Value::Array(items.into_iter().map(quoted_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (quoted(&k), quoted_json(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A frame's content with volatile values (and the scenario's `redact:` paths) normalized.
fn normalized(f: &Frame, messages: &Normalizer) -> FrameContent {
    match f {
        Frame::Json(v) => FrameContent::Json(quoted_json(messages.normalize_json(v))),
        Frame::Text(t) => FrameContent::Text(quoted(&messages.normalize(t))),
        Frame::Binary(n) => FrameContent::Binary { binary_bytes: *n },
    }
}

impl FrameContent {
    /// A text that orders contents canonically (and tells equal ones apart).
    fn canonical(&self) -> String {
        match self {
            FrameContent::Json(v) => v.to_string(),
            FrameContent::Text(t) => format!("text:{t}"),
            FrameContent::Binary { binary_bytes } => format!("binary:{binary_bytes:020}"),
        }
    }
}

/// Where a claim goes among its step's claims.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ClaimKey {
    step: usize,
    event: usize,
    order: Order,
}

/// The order of claims of one event: arrival where the step asserts order, else canonical.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Order {
    Arrival(usize),
    Text(String),
}

/// Sorts each run of consecutive claims of one step by event, then by `Order`, so a correct
/// server gives the same snapshot whatever the interleaving.
fn sort_claims(frames: &mut [FrameItem], keys: &[Option<ClaimKey>]) {
    let mut start = 0;
    while start < frames.len() {
        let Some(first) = &keys[start] else {
            start += 1;
            continue;
        };
        let mut end = start + 1;
        while end < frames.len() && keys[end].as_ref().is_some_and(|k| k.step == first.step) {
            end += 1;
        }
        let mut run: Vec<(ClaimKey, FrameItem)> = keys[start..end]
            .iter()
            .zip(frames[start..end].iter())
            .filter_map(|(k, f)| k.clone().map(|k| (k, f.clone())))
            .collect();
        run.sort_by(|a, b| a.0.cmp(&b.0));
        for (slot, (_, item)) in frames[start..end].iter_mut().zip(run) {
            *slot = item;
        }
        start = end;
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
