//! Owns rendering a transcript: the stable YAML document compared with snapshots (volatile
//! values normalized, ignored frames and timings left out), and the timed frame list used
//! by failure reports.

use serde_json::{Map, Value, json};

use super::{Disposition, Entry, Event, Frame, Normalizer, Transcript};

fn frame_json(f: &Frame) -> Value {
    match f {
        Frame::Json(v) => v.clone(),
        Frame::Text(t) => Value::String(t.clone()),
        Frame::Binary(n) => json!({ "binary_bytes": n }),
    }
}

fn pairs(v: &[(String, String)]) -> Value {
    Value::Object(
        v.iter()
            .map(|(k, x)| (k.clone(), Value::String(x.clone())))
            .collect(),
    )
}

/// Renders the transcript as YAML for a snapshot. `ws_base` (the environment's WebSocket
/// base URL) becomes `[ws_base]`, so one snapshot serves every environment.
pub fn render_snapshot(
    t: &Transcript,
    normalizer: &Normalizer,
    ws_base: &str,
    http_base: &str,
) -> String {
    let mut doc = Map::new();
    let mut http = Vec::new();
    let mut attempts = Vec::new();
    doc.insert("scenario".into(), Value::String(t.scenario.clone()));
    let mut handshake = Map::new();
    let mut frames = Vec::new();
    for Entry { event, .. } in &t.entries {
        let item = match event {
            Event::Auth {
                strategy, token, ..
            } => {
                let mut a = Map::new();
                a.insert("strategy".into(), Value::String(strategy.clone()));
                if let Some(tok) = token {
                    a.insert("token".into(), Value::String(tok.clone()));
                }
                if !attempts.is_empty() {
                    a.insert(
                        "after_failed_attempts".into(),
                        Value::Array(std::mem::take(&mut attempts)),
                    );
                }
                doc.insert("auth".into(), Value::Object(a));
                continue;
            }
            Event::AuthAttempt { strategy, error } => {
                attempts.push(json!({"strategy": strategy, "error": error}));
                continue;
            }
            Event::Http {
                phase,
                method,
                url,
                headers,
                body,
                status,
                response,
                error,
            } => {
                let url = if http_base.is_empty() {
                    url.clone()
                } else {
                    url.replace(http_base, "[http_base]")
                };
                let mut request = Map::new();
                request.insert("method".into(), Value::String(method.clone()));
                request.insert("url".into(), Value::String(url));
                if !headers.is_empty() {
                    request.insert("headers".into(), pairs(headers));
                }
                if let Some(b) = body {
                    request.insert("body".into(), b.clone());
                }
                let mut call = Map::new();
                call.insert("phase".into(), Value::String(phase.clone()));
                call.insert("request".into(), Value::Object(request));
                if let Some(st) = status {
                    let mut r = Map::new();
                    r.insert("status".into(), Value::from(*st));
                    if let Some(b) = response {
                        r.insert("body".into(), b.clone());
                    }
                    call.insert("response".into(), Value::Object(r));
                }
                if let Some(e) = error {
                    call.insert("error".into(), Value::String(e.clone()));
                }
                http.push(Value::Object(call));
                continue;
            }
            Event::Request {
                method,
                url,
                headers,
            } => {
                let url = if ws_base.is_empty() {
                    url.clone()
                } else {
                    url.replace(ws_base, "[ws_base]")
                };
                handshake.insert(
                    "request".into(),
                    json!({"method": method, "url": url, "headers": pairs(headers)}),
                );
                continue;
            }
            Event::Response {
                status,
                headers,
                body,
            } => {
                let mut r = Map::new();
                r.insert("status".into(), Value::from(*status));
                if !headers.is_empty() {
                    r.insert("headers".into(), pairs(headers));
                }
                if let Some(b) = body {
                    r.insert("body".into(), Frame::from_text(b).value());
                }
                handshake.insert("response".into(), Value::Object(r));
                continue;
            }
            Event::HandshakeTimeout { .. } => {
                handshake.insert(
                    "response".into(),
                    Value::String("no answer before the handshake timeout".into()),
                );
                continue;
            }
            Event::HandshakeError { message } => {
                handshake.insert("error".into(), Value::String(message.clone()));
                continue;
            }
            Event::Sent { step, frame } => json!({"step": step + 1, "send": frame_json(frame)}),
            Event::Received {
                disposition: Disposition::Ignored,
                ..
            } => continue,
            Event::Received {
                step,
                frame,
                disposition,
            } => {
                let key = if *disposition == Disposition::Matched {
                    "recv"
                } else {
                    "skipped"
                };
                json!({"step": step + 1, key: frame_json(frame)})
            }
            Event::Captured { step, name, value } => {
                json!({"step": step + 1, "capture": {name: value}})
            }
            Event::CloseSent { step, code, reason } => {
                json!({"step": step + 1, "close_sent": {"code": code, "reason": reason}})
            }
            Event::CloseReceived { step, code, reason } => {
                json!({"step": step + 1, "close_received": {"code": code, "reason": reason}})
            }
            Event::Dropped { step, message } => json!({"step": step + 1, "dropped": message}),
            Event::Outcome { passed, summary } => {
                doc.insert(
                    "outcome".into(),
                    if *passed {
                        Value::String("passed".into())
                    } else {
                        json!({"failed": summary})
                    },
                );
                continue;
            }
        };
        frames.push(item);
    }
    let mut out = Map::new();
    out.insert(
        "scenario".into(),
        doc.remove("scenario").unwrap_or(Value::Null),
    );
    if !attempts.is_empty() {
        // Every strategy of a chain failed: no `Auth` event took them.
        out.insert("auth_failed_attempts".into(), Value::Array(attempts));
    }
    if let Some(a) = doc.remove("auth") {
        out.insert("auth".into(), a);
    }
    if !http.is_empty() {
        out.insert("http".into(), Value::Array(http));
    }
    out.insert("handshake".into(), Value::Object(handshake));
    out.insert("frames".into(), Value::Array(frames));
    out.insert(
        "outcome".into(),
        doc.remove("outcome").unwrap_or(Value::Null),
    );
    let normalized = normalizer.normalize_json(&Value::Object(out));
    serde_saphyr::to_string(&normalized)
        .unwrap_or_else(|e| format!("# transcript could not be rendered: {e}\n"))
}

/// The last `n` frame events with their timings, one per line, for failure reports.
pub fn render_last_frames(t: &Transcript, n: usize) -> Vec<String> {
    let lines: Vec<String> = t
        .entries
        .iter()
        .filter_map(|Entry { at, event }| {
            let ms = at.as_secs_f64() * 1000.0;
            let text = match event {
                Event::Sent { frame, .. } => format!("→ {}", frame.summary()),
                Event::Received {
                    frame, disposition, ..
                } => {
                    let tag = match disposition {
                        Disposition::Matched => "",
                        Disposition::Skipped => " (skipped)",
                        Disposition::Ignored => " (ignored)",
                    };
                    format!("← {}{tag}", frame.summary())
                }
                Event::CloseSent { code, reason, .. } => format!("→ close {code} {reason:?}"),
                Event::CloseReceived { code, reason, .. } => format!(
                    "← close {} {reason:?}",
                    code.map_or("(no code)".into(), |c| c.to_string())
                ),
                Event::Dropped { message, .. } => format!("× connection dropped: {message}"),
                _ => return None,
            };
            Some(format!("{ms:>8.1} ms  {}", truncate(&text, 160)))
        })
        .collect();
    let skip = lines.len().saturating_sub(n);
    lines.into_iter().skip(skip).collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
