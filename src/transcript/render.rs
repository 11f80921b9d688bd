//! Owns rendering a transcript: the stable YAML compared with snapshots (the
//! [`Snapshot`] document serialized, volatile values normalized), and the timed frame list
//! used by failure reports.

use super::snapshot_doc::Snapshot;
use super::{Disposition, Entry, Event, Normalizer, Transcript};
use crate::diagnostic::quote::bound;
use crate::scenario::SnapshotFrames;

/// Why a snapshot document could not be turned into YAML (not expected: every key is a
/// string); the rendered text then says so in a comment.
#[derive(Debug, thiserror::Error)]
enum RenderError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Yaml(#[from] serde_saphyr::SerializeError),
}

/// Renders the transcript as YAML for a snapshot: the [`Snapshot`] document with volatile
/// values normalized (`normalizer`'s `redact:` paths apply to each message). `ws_base` (the environment's WebSocket base URL) becomes `[ws_base]`
/// and `http_base` becomes `[http_base]`, so one snapshot serves every environment.
pub(crate) fn render_snapshot(
    t: &Transcript,
    normalizer: &Normalizer,
    ws_base: &str,
    http_base: &str,
    frames: SnapshotFrames,
) -> String {
    let mut doc = Snapshot::from_transcript(t, ws_base, http_base, normalizer);
    match frames {
        SnapshotFrames::All => {}
        SnapshotFrames::Claimed => doc.unclaimed.clear(),
        SnapshotFrames::None => {
            doc.unclaimed.clear();
            doc.frames.clear();
        }
    }
    to_yaml(&doc, &Normalizer::default())
        .unwrap_or_else(|e| format!("# transcript could not be rendered: {e}\n"))
}

fn to_yaml(doc: &Snapshot, normalizer: &Normalizer) -> Result<String, RenderError> {
    let value = normalizer.normalize_json_owned(serde_json::to_value(doc)?);
    Ok(serde_saphyr::to_string(&value)?)
}

/// The last `n` frame events with their timings, one per line, for failure reports: messages
/// as they arrived (`#N`), tagged with what became of them (claimed by a step, ignored, or
/// still unclaimed when the run ended).
pub(crate) fn render_last_frames(t: &Transcript, n: usize) -> Vec<String> {
    let claims: std::collections::HashMap<usize, (usize, Disposition)> = t
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Claimed {
                step,
                seq,
                disposition,
                ..
            } => Some((*seq, (*step, *disposition))),
            _ => None,
        })
        .collect();
    let lines: Vec<String> = t
        .entries
        .iter()
        .filter_map(|Entry { at, event }| {
            let ms = at.as_secs_f64() * 1000.0;
            let text = match event {
                Event::Sent { frame, .. } => {
                    format!("→ {}", bound(&frame.summary(), LAST_FRAME_LIMIT))
                }
                Event::Received { seq, frame, .. } => {
                    let tag = match claims.get(seq) {
                        Some((step, Disposition::Matched)) => format!(" (step {})", step + 1),
                        Some((_, Disposition::Ignored)) => " (ignored)".to_string(),
                        None => " (unclaimed)".to_string(),
                    };
                    format!(
                        "← #{seq} {}{tag}",
                        bound(&frame.summary(), LAST_FRAME_LIMIT)
                    )
                }
                Event::CloseSent { code, reason, .. } => format!("→ close {code} {reason:?}"),
                Event::CloseReceived { code, reason, .. } => format!(
                    "← close {} {reason:?}",
                    code.map_or("(no code)".into(), |c| c.to_string())
                ),
                // A violation the client detected is no drop: its message says what it was.
                Event::Dropped { message, .. } if message.starts_with("protocol error: ") => {
                    format!("× {message}")
                }
                Event::Dropped { message, .. } => format!("× connection dropped: {message}"),
                // A clean closing handshake at the end is left out, as in snapshots.
                Event::Closing { sent, ending, .. } => {
                    let sent = if *sent { "→ close 1000; " } else { "" };
                    format!("{sent}× {}", ending.abnormal()?)
                }
                _ => return None,
            };
            Some(format!(
                "{ms:>8.1} ms  {}",
                bound(&text, 2 * LAST_FRAME_LIMIT)
            ))
        })
        .collect();
    let skip = lines.len().saturating_sub(n);
    lines.into_iter().skip(skip).collect()
}

/// At most this many bytes of a frame in a report's last frames (a line at most twice).
const LAST_FRAME_LIMIT: usize = 160;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transcript::Frame;

    fn transcript(events: Vec<Event>) -> Transcript {
        Transcript {
            scenario: "s".into(),
            environment: "local".into(),
            entries: events
                .into_iter()
                .map(|event| Entry {
                    at: Duration::ZERO,
                    event,
                })
                .collect(),
        }
    }

    fn claim(step: usize, seq: usize, disposition: Disposition, ordered: bool) -> Event {
        Event::Claimed {
            step,
            seq,
            disposition,
            event: Some(0),
            ordered,
        }
    }

    fn render(events: Vec<Event>) -> String {
        render_snapshot(
            &transcript(events),
            &Normalizer::default(),
            "ws://h",
            "",
            SnapshotFrames::All,
        )
    }

    #[test]
    fn empty_transcript_keeps_the_required_keys() {
        assert_eq!(
            render(vec![]),
            "scenario: s\nhandshake: {}\nframes: []\noutcome: null\n"
        );
    }

    #[test]
    fn shapes_the_scenarios_do_not_cover() {
        let text = render(vec![
            Event::AuthAttempt {
                strategy: "jwt".into(),
                error: "no key".into(),
            },
            Event::Request {
                method: "GET".into(),
                url: "ws://h/ws".into(),
                headers: vec![],
            },
            Event::HandshakeError {
                message: "refused".into(),
            },
            Event::Received {
                step: 0,
                seq: 1,
                frame: Frame::Binary(12),
            },
            claim(0, 1, Disposition::Matched, true),
            Event::Received {
                step: 0,
                seq: 2,
                frame: Frame::Text("hb".into()),
            },
            claim(0, 2, Disposition::Ignored, true),
            Event::Received {
                step: 1,
                seq: 3,
                frame: Frame::Json(serde_json::json!({"b": 1})),
            },
            Event::Received {
                step: 1,
                seq: 4,
                frame: Frame::Json(serde_json::json!({"a": 1})),
            },
            Event::Received {
                step: 1,
                seq: 5,
                frame: Frame::Json(serde_json::json!({"z": "left"})),
            },
            // An unordered step claims in arrival order; the snapshot lists its claims
            // canonically.
            claim(1, 3, Disposition::Matched, false),
            claim(1, 4, Disposition::Matched, false),
            Event::CloseReceived {
                step: 1,
                code: None,
                reason: "bye".into(),
            },
            Event::Dropped {
                step: 2,
                message: "eof".into(),
            },
            Event::Outcome {
                passed: false,
                summary: "dropped".into(),
            },
        ]);
        let expected = "\
scenario: s
auth_failed_attempts:
- strategy: jwt
  error: no key
handshake:
  request:
    method: GET
    url: \"[ws_base]/ws\"
    headers: {}
  error: refused
frames:
- step: 1
  recv:
    binary_bytes: 12
- step: 2
  recv:
    a: 1
- step: 2
  recv:
    b: 1
- step: 2
  close_received:
    code: null
    reason: bye
- step: 3
  dropped: eof
unclaimed:
- z: left
outcome:
  failed: dropped
";
        assert_eq!(text, expected);
    }

    #[test]
    fn redact_paths_apply_to_http_bodies_too() {
        let text = render_snapshot(
            &transcript(vec![Event::Http {
                phase: "auth".into(),
                method: "POST".into(),
                url: "http://h/auth".into(),
                headers: vec![],
                body: Some(serde_json::json!({"email": "qa@example.com", "user_id": "u-1"})),
                status: Some(200),
                response: Some(serde_json::json!({"user_id": "e2e-user-77", "ok": true})),
                error: None,
            }]),
            &Normalizer::new(vec!["user_id".into()]),
            "",
            "http://h",
            SnapshotFrames::All,
        );
        assert!(
            !text.contains("e2e-user-77") && !text.contains("u-1"),
            "{text}"
        );
        assert_eq!(text.matches("[redacted]").count(), 2, "{text}");
        assert!(
            text.contains("email: qa@example.com") && text.contains("ok: true"),
            "{text}"
        );
    }

    #[test]
    fn snapshot_frames_claimed_drops_the_unclaimed_and_none_drops_every_frame() {
        let events = || {
            vec![
                Event::Sent {
                    step: 0,
                    frame: Frame::Text("hi".into()),
                },
                Event::Received {
                    step: 0,
                    seq: 1,
                    frame: Frame::Text("left".into()),
                },
            ]
        };
        let with = |frames| {
            render_snapshot(
                &transcript(events()),
                &Normalizer::default(),
                "",
                "",
                frames,
            )
        };
        let all = with(SnapshotFrames::All);
        assert!(
            all.contains("unclaimed:\n- left\n") && all.contains("send: hi"),
            "{all}"
        );
        let claimed = with(SnapshotFrames::Claimed);
        assert!(
            !claimed.contains("unclaimed") && claimed.contains("send: hi"),
            "{claimed}"
        );
        let none = with(SnapshotFrames::None);
        assert!(
            none.contains("frames: []") && !none.contains("left"),
            "{none}"
        );
    }
}
