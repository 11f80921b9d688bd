//! Owns the run record: one JSON document per trial (`docs/run-records.md`, format
//! [`FORMAT`]) with the scenario, its outcome, the cause as a typed [`CauseKind`], the
//! rendered diagnostic, timings, the redacted timeline, HTTP calls, the credential's
//! description and the snapshot diff. Built only from redacted data (the transcript, the
//! rendered report), so no secret can reach it. The timeline itself is built in
//! `record_timeline`.

use serde::{Deserialize, Serialize};

/// The record format and its version; a reader refuses any other.
pub(crate) const FORMAT: &str = "sockspec-run/1";

/// One trial's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`FORMAT`].
    pub format: String,
    /// The trial name, `<environment>::<scenario id>`.
    pub trial: String,
    /// The scenario id (its path below the scenario directory, without `.yaml`).
    pub scenario: String,
    /// The scenario's `name:` (or its id).
    pub name: String,
    /// The scenario file.
    pub file: String,
    /// The environment it ran in.
    pub environment: String,
    /// How it ended.
    pub outcome: RecordOutcome,
    /// Why it did not pass; `None` when it passed.
    pub cause: Option<Cause>,
    /// The full report (rendered diagnostic with the source excerpt), or the ignore reason.
    pub diagnostic: Option<String>,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// How long the trial took, in milliseconds.
    pub duration_ms: f64,
    /// The scenario's steps, with when each began and its deadline.
    pub steps: Vec<StepRecord>,
    /// Everything on the wire, in order.
    pub timeline: Vec<TimelineEntry>,
    /// The HTTP calls of `setup`, `auth`, `steps` and `teardown`.
    pub http: Vec<HttpRecord>,
    /// The credential sent (strategy, redaction marker, provenance), if any.
    pub credential: Option<String>,
    /// The snapshot diff, when the transcript differs from its snapshot.
    pub snapshot_diff: Option<String>,
}

impl RunRecord {
    /// Fills in the snapshot diff (the snapshot module knows it; the record only carries it).
    pub fn set_snapshot_diff(&mut self, diff: impl Into<String>) {
        self.snapshot_diff = Some(diff.into());
    }

    /// Whether this record is of a trial that failed (including an unavailable environment).
    pub(crate) fn is_failure(&self) -> bool {
        matches!(
            self.outcome,
            RecordOutcome::Failed | RecordOutcome::Unavailable
        )
    }
}

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    /// It did what it expects, and its snapshot matched.
    Passed,
    /// It did not (or its snapshot differs, or the file is invalid).
    Failed,
    /// Its environment was down: nothing ran.
    Unavailable,
    /// It does not run there, or the environment was allowed to be down.
    Ignored,
}

impl RecordOutcome {
    /// The word used in the record and the report.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RecordOutcome::Passed => "passed",
            RecordOutcome::Failed => "failed",
            RecordOutcome::Unavailable => "unavailable",
            RecordOutcome::Ignored => "ignored",
        }
    }
}

/// Why a trial did not pass: a kind to group and filter by, and the report's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The kind of cause.
    pub kind: CauseKind,
    /// The report's first line (it names the cause).
    pub first_line: String,
}

/// The kinds of cause, as the report's first lines name them (docs/diagnostics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// The scenario file does not parse or validate.
    InvalidScenario,
    /// A secret the run needs is not declared or not set.
    SecretsMissing,
    /// The environment's health check failed.
    EnvironmentUnavailable,
    /// The credential could not be obtained (`auth strategy … failed`).
    AuthFailed,
    /// A `setup`, `steps` or `teardown` HTTP call failed.
    HttpCallFailed,
    /// The upgrade was answered with another status than expected (403, 404, 503 …).
    HandshakeRejected,
    /// The upgrade was accepted, but not as the scenario expects (or it expects a rejection).
    HandshakeUnexpected,
    /// The upgrade got no answer, or the transport failed (timeout, refused, DNS, TLS).
    HandshakeFailed,
    /// An expected message did not arrive in time.
    MessageTimeout,
    /// A sequence's events arrived in another order or number.
    SequenceMismatch,
    /// A message arrived that a strict step or `expect_none` forbids.
    UnexpectedMessage,
    /// A close came too early, with another code, or never.
    CloseMismatch,
    /// The connection closed, dropped or broke while a step waited.
    ConnectionLost,
    /// Messages were left unclaimed and the scenario says `unclaimed: fail`.
    UnclaimedMessages,
    /// The transcript differs from its snapshot.
    SnapshotMismatch,
    /// Anything else (a template that does not render, a capture that is missing, …).
    Other,
}

impl CauseKind {
    /// Classifies a failure by its report's first line (without `error: `), which by the
    /// project's convention names the cause.
    pub(crate) fn of_message(first_line: &str) -> CauseKind {
        let m = first_line.trim_start_matches("error: ");
        let starts = |p: &str| m.starts_with(p);
        if starts("failed to resolve secrets") {
            CauseKind::SecretsMissing
        } else if starts("environment '") && m.contains("unavailable") {
            CauseKind::EnvironmentUnavailable
        } else if starts("auth strategy") {
            CauseKind::AuthFailed
        } else if m.contains("HTTP call failed") {
            CauseKind::HttpCallFailed
        } else if starts("handshake rejected") || starts("server answered") {
            CauseKind::HandshakeRejected
        } else if starts("handshake accepted") {
            CauseKind::HandshakeUnexpected
        } else if starts("handshake") {
            CauseKind::HandshakeFailed
        } else if starts("no message matching") {
            CauseKind::MessageTimeout
        } else if starts("event ") {
            CauseKind::SequenceMismatch
        } else if starts("strict") || starts("a message matching the `expect_none`") {
            CauseKind::UnexpectedMessage
        } else if starts("the server closed with")
            || starts("the server never answered the close")
            || m.contains("while the scenario waited for the close")
        {
            CauseKind::CloseMismatch
        } else if starts("the server closed the connection")
            || starts("the connection")
            || starts("protocol error")
            || starts("message exceeds")
        {
            CauseKind::ConnectionLost
        } else if m.contains("never claimed") {
            CauseKind::UnclaimedMessages
        } else if m.contains("snapshot assertion") {
            CauseKind::SnapshotMismatch
        } else {
            CauseKind::Other
        }
    }
}

/// One step of the scenario on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based, as reports count.
    pub index: usize,
    /// Its key (`send`, `expect`, …).
    pub keyword: String,
    /// Its line in the scenario file.
    pub line: usize,
    /// When it began, in milliseconds from the start (approximate: the last event of the
    /// step before it); `None` when it never ran.
    pub began_ms: Option<f64>,
    /// How long it may wait (`within`, an HTTP call's timeout); `None` for a step that does
    /// not wait.
    pub within_ms: Option<f64>,
}

/// Which side of the connection an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Sent by the client (frames, the upgrade request, its close).
    Client,
    /// Sent by the server (frames, the upgrade answer, its close) or the transport.
    Server,
}

/// What an entry of the timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The upgrade request.
    Request,
    /// The answer to the upgrade.
    Response,
    /// No answer to the upgrade in time, or its transport failed.
    HandshakeFailed,
    /// A data frame the client sent.
    Sent,
    /// A data frame the server sent.
    Received,
    /// The client's close frame.
    CloseSent,
    /// The server's close frame.
    CloseReceived,
    /// The connection ended without a close frame.
    Dropped,
    /// The closing handshake at the end.
    Closing,
}

/// What became of a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameDisposition {
    /// A step matched it.
    Claimed,
    /// An `ignore` pattern claimed it.
    Ignored,
    /// No step claimed it, and every step ran.
    Unclaimed,
    /// No step claimed it because the run stopped (failed) before the steps that might.
    Skipped,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When, in milliseconds from the start of the run.
    pub at_ms: f64,
    /// Which side.
    pub lane: Lane,
    /// What it is.
    pub kind: EntryKind,
    /// The step running then (1-based); `None` during the handshake.
    pub step: Option<usize>,
    /// A received frame's arrival number, from 1.
    pub seq: Option<usize>,
    /// The frame or event, one line, redacted and bounded.
    pub text: String,
    /// A received frame's fate.
    pub disposition: Option<FrameDisposition>,
    /// The step that claimed it (1-based).
    pub claimed_by: Option<usize>,
}

/// One HTTP call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRecord {
    /// When it ended, in milliseconds from the start.
    pub at_ms: f64,
    /// `setup`, `auth`, `steps` or `teardown`.
    pub phase: String,
    /// The method.
    pub method: String,
    /// The URL (redacted).
    pub url: String,
    /// The answer's status; `None` when none came.
    pub status: Option<u16>,
    /// The request body, JSON, bounded.
    pub request: Option<String>,
    /// The answer's body, JSON, bounded.
    pub response: Option<String>,
    /// The transport error, if no answer came.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_line_of_the_failing_corpus_has_a_kind() {
        let cases = [
            (
                "handshake rejected with 403 \"x\": the token had expired",
                CauseKind::HandshakeRejected,
            ),
            (
                "server answered 404 instead of 101",
                CauseKind::HandshakeRejected,
            ),
            (
                "handshake accepted (101), but the scenario expects it rejected",
                CauseKind::HandshakeUnexpected,
            ),
            (
                "handshake timed out: no response",
                CauseKind::HandshakeFailed,
            ),
            (
                "error: no message matching {} arrived within 1s",
                CauseKind::MessageTimeout,
            ),
            (
                "event 3 of the sequence never matched",
                CauseKind::SequenceMismatch,
            ),
            (
                "strict step received a message",
                CauseKind::UnexpectedMessage,
            ),
            (
                "the server closed with 4408 \"x\" too early",
                CauseKind::CloseMismatch,
            ),
            (
                "the server closed the connection (1011 \"x\") while the scenario waited",
                CauseKind::ConnectionLost,
            ),
            (
                "1 message(s) were never claimed by any step",
                CauseKind::UnclaimedMessages,
            ),
            (
                "failed to resolve secrets for environment 'x'",
                CauseKind::SecretsMissing,
            ),
            (
                "environment 'x' unavailable: GET …",
                CauseKind::EnvironmentUnavailable,
            ),
            ("auth strategy `chain` failed", CauseKind::AuthFailed),
            ("setup HTTP call failed: 500", CauseKind::HttpCallFailed),
            ("something new", CauseKind::Other),
        ];
        for (line, kind) in cases {
            assert_eq!(CauseKind::of_message(line), kind, "{line}");
        }
    }

    #[test]
    fn kinds_and_outcomes_serialize_as_snake_case_strings() {
        let json = serde_json::to_string(&Cause {
            kind: CauseKind::HandshakeRejected,
            first_line: "x".into(),
        })
        .expect("serializes");
        assert_eq!(json, r#"{"kind":"handshake_rejected","first_line":"x"}"#);
        assert_eq!(
            serde_json::to_string(&RecordOutcome::Unavailable).expect("serializes"),
            r#""unavailable""#
        );
    }
}
