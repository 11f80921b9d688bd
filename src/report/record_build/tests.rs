//! Unit tests of building a record: the timeline with each frame's fate, the cause, HTTP
//! calls and the credential.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;
use crate::transcript::{Entry, Frame};

fn at(ms: u64, event: Event) -> Entry {
    Entry {
        at: Duration::from_millis(ms),
        event,
    }
}

fn received(ms: u64, step: usize, seq: usize) -> Entry {
    at(
        ms,
        Event::Received {
            step,
            seq,
            frame: Frame::Json(json!({"n": seq})),
        },
    )
}

fn claimed(ms: u64, step: usize, seq: usize, disposition: Disposition) -> Entry {
    at(
        ms,
        Event::Claimed {
            step,
            seq,
            disposition,
            event: None,
            ordered: false,
        },
    )
}

fn transcript() -> Transcript {
    Transcript {
        scenario: "s".into(),
        environment: "local".into(),
        entries: vec![
            at(
                1,
                Event::Http {
                    phase: "setup".into(),
                    method: "POST".into(),
                    url: "http://h/seed".into(),
                    headers: vec![],
                    body: Some(json!({"user": "u"})),
                    status: Some(201),
                    response: None,
                    error: None,
                },
            ),
            at(
                2,
                Event::Auth {
                    strategy: "jwt".into(),
                    token: Some("[jwt HS256 secret jwt]".into()),
                    origin: None,
                },
            ),
            at(
                3,
                Event::Request {
                    method: "GET".into(),
                    url: "ws://h/ws".into(),
                    headers: vec![],
                },
            ),
            at(
                5,
                Event::Response {
                    status: 101,
                    headers: vec![],
                    body: None,
                },
            ),
            at(
                6,
                Event::Sent {
                    step: 0,
                    frame: Frame::Text("<hi>".into()),
                },
            ),
            received(7, 1, 1),
            claimed(7, 1, 1, Disposition::Ignored),
            received(8, 1, 2),
            claimed(8, 1, 2, Disposition::Matched),
            received(9, 1, 3),
            at(
                10,
                Event::CloseReceived {
                    step: 1,
                    code: Some(1011),
                    reason: "boom".into(),
                },
            ),
        ],
    }
}

fn record(outcome: RecordOutcome, report: Option<&str>) -> RunRecord {
    let t = transcript();
    RunRecord::build(RecordInput {
        trial: "local::s".into(),
        scenario: "s".into(),
        file: "s.yaml".into(),
        plan: None,
        environment: "local".into(),
        outcome,
        report: report.map(str::to_owned),
        kind: None,
        transcript: Some(&t),
        started: SystemTime::UNIX_EPOCH,
        duration: Duration::from_millis(12),
    })
}

#[test]
fn the_timeline_has_every_frame_with_its_fate() {
    let r = record(
        RecordOutcome::Failed,
        Some("error: the server closed the connection (1011 \"boom\") while …\n --> s.yaml"),
    );
    let cause = r.cause.as_ref().expect("a cause");
    assert_eq!(cause.kind, CauseKind::ConnectionLost);
    assert!(
        cause.first_line.starts_with("the server closed"),
        "{cause:?}"
    );
    assert_eq!(r.started_at, "1970-01-01T00:00:00.000Z");
    let kinds: Vec<EntryKind> = r.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Request,
            EntryKind::Response,
            EntryKind::Sent,
            EntryKind::Received,
            EntryKind::Received,
            EntryKind::Received,
            EntryKind::CloseReceived,
        ]
    );
    let fates: Vec<_> = r
        .timeline
        .iter()
        .filter_map(|e| e.disposition.map(|d| (e.seq, d, e.claimed_by)))
        .collect();
    assert_eq!(
        fates,
        [
            (Some(1), FrameDisposition::Ignored, Some(2)),
            (Some(2), FrameDisposition::Claimed, Some(2)),
            // The run failed before a step could claim it.
            (Some(3), FrameDisposition::Skipped, None),
        ]
    );
    assert_eq!(r.timeline[2].text, "text \"<hi>\"");
    assert_eq!(r.timeline[2].step, Some(1), "steps count from 1");
    assert_eq!(r.http.len(), 1);
    assert_eq!(r.http[0].request.as_deref(), Some(r#"{"user":"u"}"#));
    assert_eq!(r.credential.as_deref(), Some("jwt [jwt HS256 secret jwt]"));
}

#[test]
fn a_passed_run_has_no_cause_and_its_leftovers_are_unclaimed() {
    let r = record(RecordOutcome::Passed, None);
    assert_eq!(r.cause, None);
    assert_eq!(r.diagnostic, None);
    let third = r
        .timeline
        .iter()
        .find(|e| e.seq == Some(3))
        .expect("frame 3");
    assert_eq!(third.disposition, Some(FrameDisposition::Unclaimed));
}
