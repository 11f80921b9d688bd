//! Owns building a [`RunRecord`] from what a trial produced: the plan that ran, the outcome,
//! the rendered report and the redacted transcript, turned into steps with their deadlines,
//! a timeline of frames with their fates, HTTP calls and the credential's description.
//! Every text comes from redacted data and is bounded (`diagnostic::quote`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::record::{
    Cause, CauseKind, EntryKind, FORMAT, FrameDisposition, HttpRecord, Lane, RecordOutcome,
    RunRecord, StepRecord, TimelineEntry,
};
use crate::diagnostic::quote::{FIRST_LINE_LIMIT, QUOTE_LIMIT, bound, bound_lines};
use crate::scenario::{Plan, StepKind};
use crate::transcript::{Disposition, Event, Transcript};

/// What a trial produced, for [`RunRecord::build`].
#[derive(Debug)]
pub(crate) struct RecordInput<'a> {
    /// `<environment>::<id>`.
    pub trial: String,
    /// The scenario id.
    pub scenario: String,
    /// The scenario file.
    pub file: String,
    /// The plan that ran (for the environment); `None` when the file is invalid.
    pub plan: Option<&'a Plan>,
    /// The environment's name.
    pub environment: String,
    /// How it ended.
    pub outcome: RecordOutcome,
    /// The rendered report (failed, unavailable) or the reason (ignored).
    pub report: Option<String>,
    /// The kind of cause when the caller knows it; else it is read from the report.
    pub kind: Option<CauseKind>,
    /// The redacted transcript, when the run got as far as executing.
    pub transcript: Option<&'a Transcript>,
    /// When the trial started.
    pub started: SystemTime,
    /// How long it took.
    pub duration: Duration,
}

/// Milliseconds, to the microsecond.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl RunRecord {
    /// The record of one trial.
    pub(crate) fn build(input: RecordInput<'_>) -> RunRecord {
        let report = input
            .report
            .map(|r| bound_lines(&r, QUOTE_LIMIT).into_owned());
        let cause = match input.outcome {
            RecordOutcome::Passed | RecordOutcome::Ignored => None,
            RecordOutcome::Failed | RecordOutcome::Unavailable => {
                let first = report
                    .as_deref()
                    .and_then(|r| r.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ");
                let first = bound(first, FIRST_LINE_LIMIT).into_owned();
                Some(Cause {
                    kind: input.kind.unwrap_or_else(|| CauseKind::of_message(&first)),
                    first_line: first,
                })
            }
        };
        let failed_early = cause
            .as_ref()
            .is_some_and(|c| c.kind != CauseKind::UnclaimedMessages);
        let (timeline, http, credential) = input
            .transcript
            .map(|t| timeline(t, failed_early))
            .unwrap_or_default();
        let steps = input
            .plan
            .map(|p| steps(p, input.transcript))
            .unwrap_or_default();
        RunRecord {
            format: FORMAT.to_owned(),
            trial: input.trial,
            name: input
                .plan
                .map_or_else(|| input.scenario.clone(), |p| p.name.clone()),
            scenario: input.scenario,
            file: input.file,
            environment: input.environment,
            outcome: input.outcome,
            cause,
            diagnostic: report,
            started_at: humantime::format_rfc3339_millis(input.started).to_string(),
            duration_ms: ms(input.duration),
            steps,
            timeline,
            http,
            credential,
            snapshot_diff: None,
        }
    }
}

/// How long a step may wait, from the plan.
fn within(kind: &StepKind) -> Option<Duration> {
    match kind {
        StepKind::Expect(e) => Some(e.within),
        StepKind::Sequence(m) | StepKind::Unordered(m) => Some(m.within),
        StepKind::ExpectNone { within, .. } => Some(*within),
        StepKind::ExpectClose(c) => Some(c.within),
        StepKind::Http(h) => Some(h.timeout),
        StepKind::Send(_) | StepKind::Close { .. } | StepKind::Set(_) => None,
    }
}

/// The step an event belongs to (0-based), if any.
fn step_of(e: &Event) -> Option<usize> {
    match e {
        Event::Sent { step, .. }
        | Event::Received { step, .. }
        | Event::Claimed { step, .. }
        | Event::Captured { step, .. }
        | Event::CloseSent { step, .. }
        | Event::CloseReceived { step, .. }
        | Event::Dropped { step, .. }
        | Event::Closing { step, .. } => Some(*step),
        Event::Auth { .. }
        | Event::AuthAttempt { .. }
        | Event::Http { .. }
        | Event::Request { .. }
        | Event::Response { .. }
        | Event::HandshakeTimeout { .. }
        | Event::HandshakeError { .. }
        | Event::Outcome { .. } => None,
    }
}

fn steps(plan: &Plan, t: Option<&Transcript>) -> Vec<StepRecord> {
    let entries = t.map(|t| t.entries.as_slice()).unwrap_or_default();
    // A step began with the last event before its own first one (the handshake's answer
    // for the first step); a step with no event of its own and none after it never ran.
    let handshake_end = entries
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::Response { .. }))
        .map(|e| e.at);
    let last_of = |i: usize| {
        entries
            .iter()
            .filter(|e| step_of(&e.event).is_some_and(|s| s <= i))
            .map(|e| e.at)
            .max()
    };
    let ran = |i: usize| {
        entries
            .iter()
            .any(|e| step_of(&e.event).is_some_and(|s| s >= i))
    };
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let began = if !ran(i) {
                None
            } else if i == 0 {
                handshake_end
            } else {
                last_of(i - 1).or(handshake_end)
            };
            StepRecord {
                index: i + 1,
                keyword: s.kind.keyword().to_owned(),
                line: s.pos.line,
                began_ms: began.map(ms),
                within_ms: within(&s.kind).map(ms),
            }
        })
        .collect()
}

type Parts = (Vec<TimelineEntry>, Vec<HttpRecord>, Option<String>);

fn json_text(v: &serde_json::Value) -> String {
    bound(&v.to_string(), QUOTE_LIMIT).into_owned()
}

fn timeline(t: &Transcript, failed_early: bool) -> Parts {
    let claims: HashMap<usize, (usize, Disposition)> = t
        .entries
        .iter()
        .filter_map(|e| match e.event {
            Event::Claimed {
                step,
                seq,
                disposition,
                ..
            } => Some((seq, (step + 1, disposition))),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut http = Vec::new();
    let mut credential = None;
    let push = |out: &mut Vec<TimelineEntry>, at, lane, kind, step: Option<usize>, text: String| {
        out.push(TimelineEntry {
            at_ms: ms(at),
            lane,
            kind,
            step: step.map(|s| s + 1),
            seq: None,
            text: bound(&text, QUOTE_LIMIT).into_owned(),
            disposition: None,
            claimed_by: None,
        });
    };
    for entry in &t.entries {
        let at = entry.at;
        match &entry.event {
            Event::Auth {
                strategy,
                token,
                origin,
            } => {
                let mut d = strategy.clone();
                if let Some(t) = token {
                    d.push_str(&format!(" {t}"));
                }
                if let Some(o) = origin {
                    d.push_str(&format!(" ({o})"));
                }
                credential = Some(bound(&d, QUOTE_LIMIT).into_owned());
            }
            Event::AuthAttempt { .. } | Event::Captured { .. } | Event::Outcome { .. } => {}
            Event::Http {
                phase,
                method,
                url,
                body,
                status,
                response,
                error,
                ..
            } => http.push(HttpRecord {
                at_ms: ms(at),
                phase: phase.clone(),
                method: method.clone(),
                url: url.clone(),
                status: *status,
                request: body.as_ref().map(json_text),
                response: response.as_ref().map(json_text),
                error: error.clone(),
            }),
            Event::Request { method, url, .. } => push(
                &mut out,
                at,
                Lane::Client,
                EntryKind::Request,
                None,
                format!("{method} {url}"),
            ),
            Event::Response { status, body, .. } => push(
                &mut out,
                at,
                Lane::Server,
                EntryKind::Response,
                None,
                match body {
                    Some(b) => format!("{status} {b}"),
                    None => status.to_string(),
                },
            ),
            Event::HandshakeTimeout { after } => push(
                &mut out,
                at,
                Lane::Server,
                EntryKind::HandshakeFailed,
                None,
                format!(
                    "no answer to the upgrade within {}",
                    humantime::format_duration(*after)
                ),
            ),
            Event::HandshakeError { message } => push(
                &mut out,
                at,
                Lane::Server,
                EntryKind::HandshakeFailed,
                None,
                message.clone(),
            ),
            Event::Sent { step, frame } => push(
                &mut out,
                at,
                Lane::Client,
                EntryKind::Sent,
                Some(*step),
                frame.summary(),
            ),
            Event::Received { step, seq, frame } => {
                let (claimed_by, disposition) = match claims.get(seq) {
                    Some((by, Disposition::Matched)) => (Some(*by), FrameDisposition::Claimed),
                    Some((by, Disposition::Ignored)) => (Some(*by), FrameDisposition::Ignored),
                    None if failed_early => (None, FrameDisposition::Skipped),
                    None => (None, FrameDisposition::Unclaimed),
                };
                out.push(TimelineEntry {
                    at_ms: ms(at),
                    lane: Lane::Server,
                    kind: EntryKind::Received,
                    step: Some(step + 1),
                    seq: Some(*seq),
                    text: bound(&frame.summary(), QUOTE_LIMIT).into_owned(),
                    disposition: Some(disposition),
                    claimed_by,
                });
            }
            Event::Claimed { .. } => {}
            Event::CloseSent { step, code, reason } => push(
                &mut out,
                at,
                Lane::Client,
                EntryKind::CloseSent,
                Some(*step),
                format!("close {code} {reason:?}"),
            ),
            Event::CloseReceived { step, code, reason } => push(
                &mut out,
                at,
                Lane::Server,
                EntryKind::CloseReceived,
                Some(*step),
                match code {
                    Some(c) => format!("close {c} {reason:?}"),
                    None => "close (no code)".to_owned(),
                },
            ),
            Event::Dropped { step, message } => push(
                &mut out,
                at,
                Lane::Server,
                EntryKind::Dropped,
                Some(*step),
                format!("dropped: {message}"),
            ),
            Event::Closing {
                step, sent, ending, ..
            } => push(
                &mut out,
                at,
                if *sent { Lane::Client } else { Lane::Server },
                EntryKind::Closing,
                Some(*step),
                ending
                    .abnormal()
                    .unwrap_or_else(|| "closing handshake completed".to_owned()),
            ),
        }
    }
    (out, http, credential)
}

#[cfg(test)]
mod tests;
