//! Owns executing a scenario's steps on an open connection: sending rendered frames,
//! waiting for expected ones with deadlines, captures, closes. Each step records what it
//! did in the transcript and, on failure, returns a [`Failure`] that names the cause.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::inbox::{Inbox, Incoming, deadline};
use crate::handshake::Ws;
use crate::pattern::json_path::JsonPath;
use crate::pattern::{Pattern, render_diff};
use crate::scenario::{CloseExpectation, ExpectMany, ExpectOne, StepKind, StepPlan};
use crate::template::{MapResolver, render_value};
use crate::transcript::{Disposition, Event, Failure, Frame, Recorder};

/// Everything a step needs while it runs.
pub(crate) struct Session<'a> {
    pub ws: &'a mut Ws,
    pub inbox: Inbox,
    pub rec: &'a mut Recorder,
    pub vars: &'a mut MapResolver,
    pub http: &'a crate::http::HttpEnv,
}

/// Runs every step in order; stops at the first failure.
pub(crate) async fn run_steps(steps: &[StepPlan], s: &mut Session<'_>) -> Result<(), Failure> {
    for step in steps {
        run_step(step, s).await.map_err(|f| {
            let label = format!("step {} (`{}`)", step.index + 1, step.kind.keyword());
            if f.label.is_none() {
                f.at(step.pos, label)
            } else {
                f
            }
        })?;
    }
    Ok(())
}

async fn run_step(step: &StepPlan, s: &mut Session<'_>) -> Result<(), Failure> {
    let i = step.index;
    match &step.kind {
        StepKind::Http(h) => super::http_step::run_http(h, "steps", s.http, s.rec, s.vars).await,
        StepKind::Send(value) => send(i, value, s).await,
        StepKind::Expect(e) => expect_one(i, e, s).await,
        StepKind::Sequence(m) => expect_many(i, m, true, s).await,
        StepKind::Unordered(m) => expect_many(i, m, false, s).await,
        StepKind::ExpectNone { pattern, within } => expect_none(i, pattern, *within, s).await,
        StepKind::Close { code, reason } => close(i, *code, reason, s).await,
        StepKind::ExpectClose(c) => expect_close(i, c, s).await.map(|_| ()),
        StepKind::Set(a) => super::set::run_set(i, a, s.rec, s.vars),
    }
}

fn render_err(e: impl std::fmt::Display) -> Failure {
    Failure::new(format!("cannot render the step's templates: {e}"))
        .hint("capture the variable in an earlier step, or set the environment variable")
}

async fn send(i: usize, value: &Value, s: &mut Session<'_>) -> Result<(), Failure> {
    let rendered = render_value(value, s.vars).map_err(render_err)?;
    let (text, frame) = match rendered {
        Value::String(t) => (t.clone(), Frame::Text(t)),
        other => (other.to_string(), Frame::Json(other)),
    };
    s.rec.record(Event::Sent { step: i, frame });
    s.ws.send(Message::text(text)).await.map_err(|e| {
        Failure::new(format!("cannot send the frame: {e}"))
            .hint("the server may have closed the connection; look at the last frames")
    })
}

fn compile(pattern: &Value, s: &Session<'_>) -> Result<Pattern, Failure> {
    let rendered = render_value(pattern, s.vars).map_err(render_err)?;
    Pattern::compile(&rendered)
        .map_err(|e| Failure::new(format!("invalid pattern at `{}`: {}", e.path, e.message)))
}

/// Tracks the frames a step passed over, to name the nearest one when it fails.
#[derive(Default)]
struct Seen {
    frames: Vec<Value>,
}

impl Seen {
    fn nearest(&self, patterns: &[&Pattern]) -> Option<(String, String)> {
        let mut best: Option<(f64, &Value, &Pattern)> = None;
        for v in &self.frames {
            for p in patterns {
                let (ok, total) = p.score(v);
                let ratio = if total == 0 {
                    0.0
                } else {
                    ok as f64 / total as f64
                };
                if best.as_ref().is_none_or(|(b, _, _)| ratio > *b) {
                    best = Some((ratio, v, p));
                }
            }
        }
        best.map(|(_, v, p)| (truncate(&v.to_string(), 240), render_diff(p, v)))
    }
}

/// Reads the next item or reports why nothing came.
async fn next_frame(
    s: &mut Session<'_>,
    until: tokio::time::Instant,
    i: usize,
    waiting_for: &str,
    within: Duration,
) -> Result<Frame, Failure> {
    match s.inbox.next(s.ws, until).await {
        Some(Incoming::Frame(f)) => Ok(f),
        Some(Incoming::Close { code, reason }) => {
            s.rec.record(Event::CloseReceived {
                step: i,
                code,
                reason: reason.clone(),
            });
            let code_text = code.map_or("no code".to_string(), |c| c.to_string());
            Err(Failure::new(format!("the server closed the connection ({code_text} {reason:?}) while the scenario waited for {waiting_for}"))
                .hint(close_hint(code)))
        }
        Some(Incoming::Dropped(m)) => {
            s.rec.record(Event::Dropped {
                step: i,
                message: m.clone(),
            });
            Err(Failure::new(format!("the connection dropped ({m}) while the scenario waited for {waiting_for}"))
                .hint("the server or a proxy cut the connection: check the server's logs around this time"))
        }
        None if s.inbox.ended() => Err(Failure::new(format!(
            "the connection is already closed; nothing more can arrive for {waiting_for}"
        ))),
        None => Err(Failure::new(format!(
            "no message matched {waiting_for} within {}",
            humantime::format_duration(within)
        ))),
    }
}

fn close_hint(code: Option<u16>) -> String {
    match code {
        Some(1008) | Some(4001) | Some(4003) | Some(4401) | Some(4403) => {
            "this close code usually means the server rejected the credentials after accepting the upgrade".into()
        }
        Some(1011) => "1011 is an internal server error: the server failed while handling the flow".into(),
        _ => "expect the close with `expect_close` if the server is meant to close here".into(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn describe(p: &Pattern) -> String {
    p.raw().to_string()
}

async fn expect_one(i: usize, e: &ExpectOne, s: &mut Session<'_>) -> Result<(), Failure> {
    let pattern = compile(&e.pattern, s)?;
    let until = deadline(e.within);
    let mut seen = Seen::default();
    loop {
        let frame = match next_frame(
            s,
            until,
            i,
            &format!("a message matching {}", describe(&pattern)),
            e.within,
        )
        .await
        {
            Ok(f) => f,
            Err(f) => return Err(with_nearest(f, &seen, &[&pattern], &pattern)),
        };
        let value = frame.value();
        if pattern.matches(&value) {
            s.rec.record(Event::Received {
                step: i,
                frame,
                disposition: Disposition::Matched,
            });
            return capture(i, &e.captures, &value, s);
        }
        s.rec.record(Event::Received {
            step: i,
            frame: frame.clone(),
            disposition: Disposition::Skipped,
        });
        if e.strict {
            return Err(Failure::new(format!(
                "strict step received a message that matches nothing: {}",
                frame.summary()
            ))
            .expected(describe(&pattern))
            .actual(truncate(&frame.summary(), 160))
            .note(render_diff(&pattern, &value)));
        }
        seen.frames.push(value);
    }
}

fn with_nearest(mut f: Failure, seen: &Seen, candidates: &[&Pattern], shown: &Pattern) -> Failure {
    if f.expected.is_none() {
        f.expected = Some(describe(shown));
    }
    f.nearest = seen.nearest(candidates);
    if f.nearest.is_none() && f.actual.is_none() {
        f.actual = Some("no message arrived during the step".into());
    }
    f
}

fn capture(
    i: usize,
    captures: &[(String, String)],
    value: &Value,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    for (name, path) in captures {
        let Some(v) = JsonPath::parse(path)
            .ok()
            .and_then(|p| p.get(value).cloned())
        else {
            return Err(Failure::new(format!("capture `{name}`: the matched message has no `{path}`"))
                .actual(value.to_string())
                .hint("match the field in the pattern (e.g. `{exists: true}`) so a message without it does not match"));
        };
        s.rec.record(Event::Captured {
            step: i,
            name: name.clone(),
            value: v.clone(),
        });
        s.vars.insert(name.clone(), v);
    }
    Ok(())
}

async fn expect_many(
    i: usize,
    m: &ExpectMany,
    ordered: bool,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let patterns: Vec<Pattern> = m
        .events
        .iter()
        .map(|p| compile(p, s))
        .collect::<Result<_, _>>()?;
    let until = deadline(m.within);
    let mut matched: Vec<Option<Value>> = vec![None; patterns.len()];
    let mut seen = Seen::default();
    let mut next_idx = 0;
    let mut event_deadline = m.each_within.map(deadline);
    while matched.iter().any(Option::is_none) {
        let open: Vec<usize> = if ordered {
            vec![next_idx]
        } else {
            (0..patterns.len())
                .filter(|k| matched[*k].is_none())
                .collect()
        };
        let waiting = if ordered {
            format!(
                "event {} of {} ({})",
                next_idx + 1,
                patterns.len(),
                describe(&patterns[next_idx])
            )
        } else {
            let rest: Vec<String> = open.iter().map(|k| describe(&patterns[*k])).collect();
            format!("{} unordered event(s): {}", open.len(), rest.join(", "))
        };
        let step_until = event_deadline.map_or(until, |d| d.min(until));
        let window = step_until.saturating_duration_since(tokio::time::Instant::now());
        let frame = match next_frame(
            s,
            step_until,
            i,
            &waiting,
            window.max(m.each_within.unwrap_or(m.within).min(m.within)),
        )
        .await
        {
            Ok(f) => f,
            Err(mut f) => {
                let cands: Vec<&Pattern> = open.iter().map(|k| &patterns[*k]).collect();
                if event_deadline.is_some_and(|d| d < until) && f.message.starts_with("no message")
                {
                    f.message = format!(
                        "no message matched {waiting} within each_within {}",
                        humantime::format_duration(m.each_within.unwrap_or_default())
                    );
                }
                let done = matched.iter().filter(|x| x.is_some()).count();
                f.notes.push(format!(
                    "{done} of {} events matched before this",
                    patterns.len()
                ));
                return Err(with_nearest(f, &seen, &cands, cands[0]));
            }
        };
        let value = frame.value();
        if let Some(&k) = open.iter().find(|k| patterns[**k].matches(&value)) {
            s.rec.record(Event::Received {
                step: i,
                frame,
                disposition: Disposition::Matched,
            });
            matched[k] = Some(value);
            next_idx += 1;
            event_deadline = m.each_within.map(deadline);
            continue;
        }
        if m.ignore.iter().any(|p| p.matches(&value)) {
            s.rec.record(Event::Received {
                step: i,
                frame,
                disposition: Disposition::Ignored,
            });
            continue;
        }
        s.rec.record(Event::Received {
            step: i,
            frame: frame.clone(),
            disposition: Disposition::Skipped,
        });
        if m.strict {
            let expected: Vec<String> = open.iter().map(|k| describe(&patterns[*k])).collect();
            return Err(Failure::new(format!(
                "strict step received a message that matches nothing: {}",
                frame.summary()
            ))
            .expected(expected.join(" or "))
            .actual(frame.summary()));
        }
        if ordered
            && let Some(later) =
                (next_idx + 1..patterns.len()).find(|k| patterns[*k].matches(&value))
        {
            let f = Failure::new(format!(
                "event {} of the sequence never matched: event {} arrived first",
                next_idx + 1,
                later + 1
            ))
            .expected(describe(&patterns[next_idx]))
            .actual(format!("event {} arrived: {}", later + 1, truncate(&frame.summary(), 160)))
            .hint("compare the nearest message with the pattern; if the order does not matter, use `expect_unordered`");
            return Err(with_nearest(
                f,
                &seen,
                &[&patterns[next_idx]],
                &patterns[next_idx],
            ));
        }
        seen.frames.push(value);
    }
    let all = Value::Array(matched.into_iter().map(Option::unwrap_or_default).collect());
    capture(i, &m.captures, &all, s)
}

async fn expect_none(
    i: usize,
    pattern: &Value,
    within: Duration,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let pattern = compile(pattern, s)?;
    let until = deadline(within);
    let mut looked_at = Vec::new();
    while let Some(item) = s.inbox.next(s.ws, until).await {
        if let Incoming::Frame(f) = &item
            && pattern.matches(&f.value())
        {
            s.rec.record(Event::Received {
                step: i,
                frame: f.clone(),
                disposition: Disposition::Matched,
            });
            return Err(Failure::new(format!(
                "a message matching the `expect_none` pattern arrived: {}",
                f.summary()
            ))
            .expected(format!(
                "no message matching {} for {}",
                describe(&pattern),
                humantime::format_duration(within)
            ))
            .actual(f.summary()));
        }
        let stop = !matches!(item, Incoming::Frame(_));
        looked_at.push(item);
        if stop {
            break;
        }
    }
    // Nothing was consumed: the next step sees these frames.
    s.inbox.unread(looked_at);
    Ok(())
}

async fn close(i: usize, code: u16, reason: &str, s: &mut Session<'_>) -> Result<(), Failure> {
    s.rec.record(Event::CloseSent {
        step: i,
        code,
        reason: reason.to_string(),
    });
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    s.ws.send(Message::Close(Some(frame)))
        .await
        .map_err(|e| Failure::new(format!("cannot send the close frame: {e}")))
}

/// Waits for the server's close frame; frames before it are skipped. Shared with the
/// handshake's `closed` expectation.
pub(crate) async fn expect_close(
    i: usize,
    c: &CloseExpectation,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let until = deadline(c.within);
    let expected = describe_close(c);
    loop {
        match s.inbox.next(s.ws, until).await {
            Some(Incoming::Frame(f)) => s.rec.record(Event::Received {
                step: i,
                frame: f,
                disposition: Disposition::Skipped,
            }),
            Some(Incoming::Close { code, reason }) => {
                s.rec.record(Event::CloseReceived {
                    step: i,
                    code,
                    reason: reason.clone(),
                });
                let code_ok = c.codes.is_empty() || code.is_some_and(|x| c.codes.contains(&x));
                let reason_ok = c
                    .reason
                    .as_ref()
                    .is_none_or(|p| p.matches(&Value::String(reason.clone())));
                if code_ok && reason_ok {
                    return Ok(());
                }
                let code_text = code.map_or("no code".into(), |x| x.to_string());
                return Err(Failure::new(format!(
                    "the server closed with {code_text} {reason:?}, not as expected"
                ))
                .expected(expected)
                .actual(format!("close {code_text} {reason:?}")));
            }
            Some(Incoming::Dropped(m)) => {
                s.rec.record(Event::Dropped {
                    step: i,
                    message: m.clone(),
                });
                return Err(Failure::new(format!(
                    "the connection dropped without a close frame ({m})"
                ))
                .expected(expected));
            }
            None => {
                return Err(Failure::new(format!(
                    "the server did not close the connection within {}",
                    humantime::format_duration(c.within)
                ))
                .expected(expected)
                .actual("the connection stayed open"));
            }
        }
    }
}

fn describe_close(c: &CloseExpectation) -> String {
    let codes = if c.codes.is_empty() {
        "any code".to_string()
    } else {
        c.codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match &c.reason {
        Some(r) => format!("close with {codes}, reason matching {}", r.raw()),
        None => format!("close with {codes}"),
    }
}
