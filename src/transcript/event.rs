//! Owns the transcript: one ordered list of [`Event`]s recorded while a scenario runs. It
//! is the only interface between execution and output; a [`Recorder`] redacts every
//! secret and token before an event is stored, so nothing downstream can leak one.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Redactor;

/// A WebSocket frame's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A text frame holding JSON.
    Json(Value),
    /// A text frame that is not JSON.
    Text(String),
    /// A binary frame, by its length in bytes.
    Binary(usize),
}

impl Frame {
    /// Parses a text frame: JSON when it parses, else text.
    pub fn from_text(text: &str) -> Frame {
        match serde_json::from_str::<Value>(text) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => Frame::Json(v),
            _ => Frame::Text(text.to_string()),
        }
    }

    /// The value patterns are matched against (text frames become JSON strings).
    pub fn value(&self) -> Value {
        match self {
            Frame::Json(v) => v.clone(),
            Frame::Text(t) => Value::String(t.clone()),
            Frame::Binary(n) => Value::String(format!("<{n} bytes binary>")),
        }
    }

    /// One-line form for reports.
    pub fn summary(&self) -> String {
        match self {
            Frame::Json(v) => v.to_string(),
            Frame::Text(t) => format!("text {t:?}"),
            Frame::Binary(n) => format!("binary ({n} bytes)"),
        }
    }

    fn redact(self, r: &Redactor) -> Frame {
        match self {
            Frame::Json(v) => Frame::Json(r.redact_json(&v)),
            Frame::Text(t) => Frame::Text(r.redact(&t)),
            b @ Frame::Binary(_) => b,
        }
    }
}

/// How the closing handshake at the end of a scenario ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CloseEnding {
    /// The server answered the client's close with its own close frame.
    Answered {
        /// The close code; `None` for a close frame without one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The server's close frame had already come (the client echoed it when the server
    /// closed first).
    ServerClosed,
    /// No answer within the close timeout: the client aborted the connection.
    Unanswered {
        /// The close timeout that passed.
        after: Duration,
    },
    /// The connection ended without a close frame while the client waited for the answer.
    Dropped {
        /// What the transport said.
        message: String,
    },
}

impl CloseEnding {
    /// Whether this is a clean closing handshake (a close frame each way).
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            CloseEnding::Answered { .. } | CloseEnding::ServerClosed
        )
    }

    /// One line for reports and snapshots when the handshake was not clean; `None` when it
    /// was.
    pub fn abnormal(&self) -> Option<String> {
        match self {
            CloseEnding::Answered { .. } | CloseEnding::ServerClosed => None,
            CloseEnding::Unanswered { after } => Some(format!(
                "server never answered the close frame (aborted after {})",
                humantime::format_duration(*after)
            )),
            CloseEnding::Dropped { message } => Some(format!(
                "the connection ended without an answer to the close frame ({message})"
            )),
        }
    }
}

/// How a step claimed a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// It matched an event of the step.
    Matched,
    /// It matched an `ignore` pattern (the step's or the scenario's).
    Ignored,
}

/// One thing that happened during a run: the only interface between execution (which
/// records events through a `Recorder`, redacted before they are stored) and output
/// (snapshots, failure reports, JUnit). Every secret-bearing field is redacted by
/// `Event::redact`, which destructures every field, so a new field cannot skip it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The credential the scenario sends (or none).
    Auth {
        /// `jwt`, `bearer`, `api_key`, `exchange`, `none`, or `chain → <winner>`.
        strategy: String,
        /// The token, replaced by its marker once recorded; `None` for `auth: none`.
        token: Option<String>,
        /// Where it came from: algorithm, secret name, variable, fingerprint.
        origin: Option<String>,
    },
    /// A strategy of a `chain` that failed before another produced the token.
    AuthAttempt {
        /// The strategy that failed.
        strategy: String,
        /// Why it failed.
        error: String,
    },
    /// An HTTP call (`setup`, `auth` for an exchange, `steps`, `teardown`).
    Http {
        /// `setup`, `auth`, `steps` or `teardown`.
        phase: String,
        /// The HTTP method.
        method: String,
        /// The full URL.
        url: String,
        /// The request headers sent.
        headers: Vec<(String, String)>,
        /// The JSON request body, if any.
        body: Option<Value>,
        /// The answer's status; `None` when no answer came.
        status: Option<u16>,
        /// The answer's body (JSON, or a JSON string), credentials redacted.
        response: Option<Value>,
        /// The transport error when no answer came.
        error: Option<String>,
    },
    /// The WebSocket upgrade request.
    Request {
        /// Always `GET`.
        method: String,
        /// The URL with its query.
        url: String,
        /// The headers worth showing (not the WebSocket key and version).
        headers: Vec<(String, String)>,
    },
    /// The server's answer to the upgrade (101 or a rejection).
    Response {
        /// The HTTP status.
        status: u16,
        /// The headers worth showing.
        headers: Vec<(String, String)>,
        /// A rejection's body.
        body: Option<String>,
    },
    /// No answer to the upgrade before the handshake deadline.
    HandshakeTimeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// The transport failed during the upgrade (refused, DNS, TLS, reset, protocol).
    HandshakeError {
        /// What failed, in words a person can act on.
        message: String,
    },
    /// A frame the client sent.
    Sent {
        /// The step that sent it (0-based; snapshots count from 1).
        step: usize,
        /// The frame.
        frame: Frame,
    },
    /// A frame the server sent, when it was read (whether or not a step claims it later).
    Received {
        /// The step that was running when it was read (0-based).
        step: usize,
        /// Its arrival number, from 1.
        seq: usize,
        /// The frame.
        frame: Frame,
    },
    /// A step claimed a received message; messages never claimed are the run's unclaimed ones.
    Claimed {
        /// The step that claimed it (0-based).
        step: usize,
        /// The arrival number of the message.
        seq: usize,
        /// Matched an event, or ignored.
        disposition: Disposition,
        /// For a match: the index of the event in the step's `events` (0 for `expect`).
        event: Option<usize>,
        /// Whether the step asserts the order of its matches (`expect_sequence`); an
        /// unordered step's matches are listed in the step's declared order in snapshots.
        ordered: bool,
    },
    /// A value a step captured into a variable.
    Captured {
        /// The step that captured it (0-based; snapshots count from 1).
        step: usize,
        /// The variable's name.
        name: String,
        /// The captured value.
        value: Value,
    },
    /// A close frame the client sent.
    CloseSent {
        /// The step that closed (0-based; snapshots count from 1).
        step: usize,
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A close frame the server sent.
    CloseReceived {
        /// The step that was waiting (0-based; snapshots count from 1).
        step: usize,
        /// The close code; `None` for a close frame without one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The connection ended without a close frame.
    Dropped {
        /// The step that was waiting (0-based; snapshots count from 1).
        step: usize,
        /// What the transport said.
        message: String,
    },
    /// The closing handshake at the end of the scenario (recorded whenever the connection
    /// was still open, or closed by a close frame, when the steps ended).
    Closing {
        /// The last step (0-based; snapshots count from 1).
        step: usize,
        /// Whether the client sent its close (1000) at the end; false when a `close` step or
        /// the server had already closed.
        sent: bool,
        /// How it ended.
        ending: CloseEnding,
        /// Messages read and discarded while waiting for the answer.
        discarded: usize,
    },
    /// How the run ended: always the last event.
    Outcome {
        /// Whether the scenario did what it expects.
        passed: bool,
        /// The failure's first line, or empty.
        summary: String,
    },
}

impl Event {
    fn redact(self, r: &Redactor) -> Event {
        use Event::*;
        let s = |x: String| r.redact(&x);
        let pairs =
            |v: Vec<(String, String)>| v.into_iter().map(|(k, x)| (k, r.redact(&x))).collect();
        match self {
            Auth {
                strategy,
                token,
                origin,
            } => Auth {
                strategy,
                token: token.map(s),
                origin: origin.map(s),
            },
            AuthAttempt { strategy, error } => AuthAttempt {
                strategy,
                error: s(error),
            },
            Http {
                phase,
                method,
                url,
                headers,
                body,
                status,
                response,
                error,
            } => Http {
                phase,
                method,
                url: s(url),
                headers: pairs(headers),
                body: body.map(|b| r.redact_json(&b)),
                status,
                response: response.map(|b| r.redact_json(&b)),
                error: error.map(s),
            },
            Request {
                method,
                url,
                headers,
            } => Request {
                method,
                url: s(url),
                headers: pairs(headers),
            },
            Response {
                status,
                headers,
                body,
            } => Response {
                status,
                headers: pairs(headers),
                body: body.map(s),
            },
            HandshakeError { message } => HandshakeError {
                message: s(message),
            },
            Sent { step, frame } => Sent {
                step,
                frame: frame.redact(r),
            },
            Received { step, seq, frame } => Received {
                step,
                seq,
                frame: frame.redact(r),
            },
            e @ Claimed { .. } => e,
            Captured { step, name, value } => Captured {
                step,
                name,
                value: r.redact_json(&value),
            },
            CloseSent { step, code, reason } => CloseSent {
                step,
                code,
                reason: s(reason),
            },
            CloseReceived { step, code, reason } => CloseReceived {
                step,
                code,
                reason: s(reason),
            },
            Dropped { step, message } => Dropped {
                step,
                message: s(message),
            },
            Outcome { passed, summary } => Outcome {
                passed,
                summary: s(summary),
            },
            e @ HandshakeTimeout { .. } => e,
            Closing {
                step,
                sent,
                ending,
                discarded,
            } => Closing {
                step,
                sent,
                ending: match ending {
                    CloseEnding::Answered { code, reason } => CloseEnding::Answered {
                        code,
                        reason: s(reason),
                    },
                    CloseEnding::Dropped { message } => CloseEnding::Dropped {
                        message: s(message),
                    },
                    e @ (CloseEnding::ServerClosed | CloseEnding::Unanswered { .. }) => e,
                },
                discarded,
            },
        }
    }
}

/// An event and when it happened, measured from the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When, from the start of the run.
    pub at: Duration,
    /// What happened.
    pub event: Event,
}

/// The ordered, redacted record of one run.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// The scenario's id.
    pub scenario: String,
    /// The environment it ran in.
    pub environment: String,
    /// Every event, in order.
    pub entries: Vec<Entry>,
}

/// Records events into a transcript, redacting them first.
#[derive(Debug)]
pub(crate) struct Recorder {
    start: Instant,
    redactor: Redactor,
    transcript: Transcript,
    env: Option<(crate::template::EnvSeen, std::collections::BTreeSet<String>)>,
}

impl Recorder {
    pub(crate) fn new(scenario: &str, environment: &str, redactor: Redactor) -> Self {
        Self {
            start: Instant::now(),
            redactor,
            transcript: Transcript {
                scenario: scenario.into(),
                environment: environment.into(),
                entries: Vec::new(),
            },
            env: None,
        }
    }

    /// Redacts, as `[env NAME]`, every environment variable `seen` notes (the values a run's
    /// `{{ env.NAME }}` templates resolved to), except the names in `public`, before each
    /// event is recorded.
    pub(crate) fn watch_env(
        &mut self,
        seen: crate::template::EnvSeen,
        public: std::collections::BTreeSet<String>,
    ) {
        self.env = Some((seen, public));
        self.sync_env();
    }

    /// Registers the environment values looked up since the last call (see
    /// [`Recorder::watch_env`]).
    pub(crate) fn sync_env(&mut self) {
        let Some((seen, public)) = &self.env else {
            return;
        };
        for (name, value) in seen.take() {
            if !public.contains(&name) {
                self.redactor.add_secret(&value, format!("[env {name}]"));
            }
        }
    }

    /// Hides `value` (e.g. a freshly minted token) from everything recorded from now on.
    pub(crate) fn add_secret(&mut self, value: &str, marker: String) {
        self.redactor.add_secret(value, marker);
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub(crate) fn record(&mut self, event: Event) {
        self.sync_env();
        let at = self.start.elapsed();
        let event = event.redact(&self.redactor);
        self.transcript.entries.push(Entry { at, event });
    }

    pub(crate) fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub(crate) fn finish(self) -> Transcript {
        self.transcript
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_redacts_before_storing() {
        let mut r = Recorder::new("s", "local", Redactor::new());
        r.add_secret("tok-123456", "[token]".into());
        r.record(Event::Sent {
            step: 0,
            frame: Frame::Json(serde_json::json!({"auth": "tok-123456"})),
        });
        r.record(Event::Request {
            method: "GET".into(),
            url: "ws://h/ws?token=tok-123456".into(),
            headers: vec![],
        });
        let text = format!("{:?}", r.finish());
        assert!(!text.contains("tok-123456"), "{text}");
        assert!(text.contains("[token]"));
    }

    #[test]
    fn recorder_redacts_environment_values_looked_up_unless_public() {
        let vars = crate::template::MapResolver::new("r").with_env(|n| match n {
            "API_HOST_KEY" => Some("k-98765".to_owned()),
            "REGION" => Some("eu-west-9".to_owned()),
            _ => None,
        });
        let mut r = Recorder::new("s", "local", Redactor::new());
        r.watch_env(vars.env_seen(), ["REGION".to_owned()].into());
        use crate::template::Resolve as _;
        let url = format!(
            "ws://h/ws?key={}&region={}",
            vars.env("API_HOST_KEY").unwrap_or_default(),
            vars.env("REGION").unwrap_or_default()
        );
        r.record(Event::Request {
            method: "GET".into(),
            url,
            headers: vec![],
        });
        let text = format!("{:?}", r.finish());
        assert!(!text.contains("k-98765"), "{text}");
        assert!(text.contains("key=[env API_HOST_KEY]"), "{text}");
        assert!(text.contains("region=eu-west-9"), "{text}");
    }

    #[test]
    fn text_frames_parse_as_json_only_for_objects_and_arrays() {
        assert!(matches!(Frame::from_text("{\"a\":1}"), Frame::Json(_)));
        assert_eq!(Frame::from_text("42"), Frame::Text("42".into()));
        assert_eq!(
            Frame::from_text("pong").value(),
            Value::String("pong".into())
        );
    }
}
