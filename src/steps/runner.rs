//! Owns executing a scenario's steps on an open connection: sending rendered frames, waiting
//! for expected ones with deadlines, captures, closes. Every received message enters the
//! [`Inbox`] and stays until a step claims it: an expect step sees the unclaimed messages its
//! `where` selects, claims those it matches (and those its `ignore` matches) and leaves the
//! rest for later steps. Each step records what it did in the transcript and, on failure,
//! returns a [`Failure`] whose first line names the cause.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::Value;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::inbox::{End, Inbox, Pulled, deadline};
use super::matching::{Progress, Verdict};
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
    /// The scenario's `ignore:` patterns (templated), added to every expect step's.
    pub ignore: &'a [Value],
}

impl Session<'_> {
    /// Reads one more item, recording it (a message as `Received`, the end as a close or a
    /// drop) under step `i`.
    async fn pull(&mut self, i: usize, until: Instant) -> Pulled {
        let pulled = self.inbox.pull(self.ws, until).await;
        match &pulled {
            Pulled::Message(idx) => {
                let m = self.inbox.get(*idx);
                self.rec.record(Event::Received {
                    step: i,
                    seq: m.seq,
                    frame: m.frame.clone(),
                });
            }
            Pulled::Ended(End::Closed { code, reason }) => self.rec.record(Event::CloseReceived {
                step: i,
                code: *code,
                reason: reason.clone(),
            }),
            Pulled::Ended(End::Dropped(message)) => self.rec.record(Event::Dropped {
                step: i,
                message: message.clone(),
            }),
            Pulled::Ended(end @ End::Violation { close_code, .. }) => {
                self.rec.record(Event::Dropped {
                    step: i,
                    message: format!("{}; sockspec closed with {close_code}", end.describe()),
                });
            }
            Pulled::Ended(End::Refused { code, reason, .. }) => {
                self.rec.record(Event::CloseSent {
                    step: i,
                    code: *code,
                    reason: reason.clone(),
                });
            }
            Pulled::AlreadyEnded | Pulled::TimedOut => {}
        }
        pulled
    }

    /// Claims the message at `idx` for step `i`.
    fn claim(
        &mut self,
        i: usize,
        idx: usize,
        how: Disposition,
        event: Option<usize>,
        ordered: bool,
    ) {
        self.inbox.claim(idx);
        self.rec.record(Event::Claimed {
            step: i,
            seq: self.inbox.get(idx).seq,
            disposition: how,
            event,
            ordered,
        });
    }
}

/// What a step sees: its `where` and its `ignore` patterns (the scenario's included).
struct View {
    filter: Option<Pattern>,
    ignore: Vec<Pattern>,
}

impl View {
    fn new(filter: Option<&Value>, ignore: &[Value], s: &Session<'_>) -> Result<View, Failure> {
        let filter = filter.map(|f| compile(f, s, "where")).transpose()?;
        let ignore = ignore
            .iter()
            .chain(s.ignore)
            .map(|p| compile(p, s, "ignore"))
            .collect::<Result<_, _>>()?;
        Ok(View { filter, ignore })
    }

    fn visible(&self, v: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(v))
    }

    fn ignored(&self, v: &Value) -> bool {
        self.ignore.iter().any(|p| p.matches(v))
    }

    /// Every report of a step with a `where` names it.
    fn note(&self, f: Failure) -> Failure {
        match &self.filter {
            Some(p) => f.note(format!(
                "where: {} (messages outside it are invisible to this step)",
                p.raw()
            )),
            None => f,
        }
    }
}

/// What scanning for the next visible message gave.
enum Next {
    /// A visible, unclaimed message, at this index of the inbox.
    Message(usize),
    /// The connection has ended: nothing more will come.
    Ended(End, Duration),
    /// The deadline passed.
    TimedOut,
}

/// The next visible unclaimed message at or after `cursor` (which moves past it), reading
/// more from the connection until `until`.
async fn next_visible(
    s: &mut Session<'_>,
    i: usize,
    view: &View,
    cursor: &mut usize,
    until: Instant,
) -> Next {
    loop {
        while *cursor < s.inbox.messages().len() {
            let idx = *cursor;
            *cursor += 1;
            let m = s.inbox.get(idx);
            if !m.claimed && view.visible(m.value()) {
                return Next::Message(idx);
            }
        }
        match s.pull(i, until).await {
            Pulled::Message(_) => {}
            Pulled::Ended(_) | Pulled::AlreadyEnded => {
                let (end, at) = s
                    .inbox
                    .end()
                    .cloned()
                    .unwrap_or((End::Dropped("the connection ended".into()), Duration::ZERO));
                return Next::Ended(end, at);
            }
            Pulled::TimedOut => return Next::TimedOut,
        }
    }
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
        StepKind::ExpectNone {
            pattern,
            within,
            filter,
        } => expect_none(i, pattern, *within, filter.as_ref(), s).await,
        StepKind::Close { code, reason } => close(i, *code, reason, s).await,
        StepKind::ExpectClose(c) => expect_close(i, c, s).await,
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

/// Renders the templates of `pattern` and compiles it; `what` names it in errors.
fn compile(pattern: &Value, s: &Session<'_>, what: &str) -> Result<Pattern, Failure> {
    let rendered = render_value(pattern, s.vars).map_err(render_err)?;
    Pattern::compile(&rendered).map_err(|e| {
        Failure::new(format!(
            "invalid {what} pattern at `{}`: {}",
            e.path, e.message
        ))
    })
}

/// The message closest to one of `patterns` among those a step passed over, and its diff.
fn nearest(values: &[&Value], patterns: &[&Pattern]) -> Option<(String, String)> {
    let mut best: Option<(f64, &Value, &Pattern)> = None;
    for v in values {
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

fn with_nearest(mut f: Failure, passed: &[&Value], candidates: &[&Pattern]) -> Failure {
    if f.expected.is_none()
        && let Some(first) = candidates.first()
    {
        f.expected = Some(describe(first));
    }
    f.nearest = nearest(passed, candidates);
    if f.nearest.is_none() && f.actual.is_none() {
        f.actual = Some("no visible message arrived during the step".into());
    }
    f
}

/// The failure of a step whose connection ended while it waited for `waiting_for`.
fn ended_failure(end: &End, at: Duration, waiting_for: &str) -> Failure {
    let f = match end {
        End::Closed { code, .. } => Failure::new(format!(
            "the server closed the connection ({}) while the scenario waited for {waiting_for}",
            end.describe().trim_start_matches("close ")
        ))
        .hint(close_hint(*code)),
        End::Dropped(m) => Failure::new(format!(
            "the connection dropped ({m}) while the scenario waited for {waiting_for}"
        ))
        .hint("the server or a proxy cut the connection: check the server's logs around this time"),
        End::Violation { what, close_code } => Failure::new(format!(
            "protocol error: {what}, while the scenario waited for {waiting_for}"
        ))
        .note(format!(
            "note: the server broke RFC 6455; sockspec failed the connection with close code {close_code}"
        ))
        .hint("the server (or a proxy) sent frames no WebSocket client may accept: check its framing code"),
        End::Refused { .. } => Failure::new(format!(
            "{} while the scenario waited for {waiting_for}",
            end.describe()
        ))
        .hint(LIMIT_HINT),
    };
    f.note(format!(
        "note: the connection ended {:.3}s after the upgrade; nothing more can arrive",
        at.as_secs_f64()
    ))
}

/// The hint of a message refused for its size.
const LIMIT_HINT: &str = "the server sent more than the client accepts: raise \
     `connect.max_message_size` (or `max_frame_size`) if messages this large are expected";

fn close_hint(code: Option<u16>) -> String {
    match code {
        Some(1008 | 4001 | 4003 | 4401 | 4403) => {
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

/// `message #N: <summary>`, naming a text frame that looks like JSON but does not parse.
fn numbered(s: &Session<'_>, idx: usize) -> String {
    let m = s.inbox.get(idx);
    let mut text = format!("message #{}: {}", m.seq, truncate(&m.frame.summary(), 160));
    if let Some(problem) = json_problem(&m.frame) {
        text.push_str(&format!(" — {problem}"));
    }
    text
}

/// For a text frame that starts like JSON (`{` or `[`) but does not parse: where and why.
fn json_problem(frame: &Frame) -> Option<String> {
    let Frame::Text(t) = frame else {
        return None;
    };
    let trimmed = t.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(t).err().map(|e| {
        format!(
            "invalid JSON at line {} column {}: {e}; it is matched as a text (a JSON string)",
            e.line(),
            e.column()
        )
    })
}

/// For the first line of a timeout: the first passed-over message that could not match a
/// JSON pattern for its form (`; message #N is invalid JSON at line L column C` or `; message
/// #N is a binary frame (B bytes), not text`), or nothing.
fn passed_problem(s: &Session<'_>, passed: &[usize]) -> String {
    for idx in passed.iter().take(8) {
        let m = s.inbox.get(*idx);
        match &m.frame {
            Frame::Binary(n) => {
                return format!(
                    "; message #{} is a binary frame ({n} bytes), not text",
                    m.seq
                );
            }
            Frame::Text(t) if json_problem(&m.frame).is_some() => {
                if let Err(e) = serde_json::from_str::<Value>(t) {
                    return format!(
                        "; message #{} is invalid JSON at line {} column {}",
                        m.seq,
                        e.line(),
                        e.column()
                    );
                }
            }
            _ => {}
        }
    }
    String::new()
}

/// Notes on the passed-over messages a report involves that look like JSON but are not.
fn json_notes(mut f: Failure, s: &Session<'_>, passed: &[usize]) -> Failure {
    for idx in passed.iter().take(8) {
        let m = s.inbox.get(*idx);
        if let Some(problem) = json_problem(&m.frame) {
            f = f.note(format!("note: message #{}: {problem}", m.seq));
        }
        if let Frame::Binary(n) = m.frame {
            f = f.note(format!(
                "note: message #{} is a binary frame ({n} bytes), matched as bytes; if the \
                 protocol sends JSON in binary frames, write `connect: {{binary: json}}`",
                m.seq
            ));
        }
    }
    f
}

async fn expect_one(i: usize, e: &ExpectOne, s: &mut Session<'_>) -> Result<(), Failure> {
    let pattern = compile(&e.pattern, s, "match")?;
    let view = View::new(e.filter.as_ref(), &e.ignore, s)?;
    let until = deadline(e.within);
    let mut cursor = s.inbox.first_unclaimed();
    let mut passed: Vec<usize> = Vec::new();
    let waiting = format!("a message matching {}", describe(&pattern));
    let fail = |f: Failure, passed: &[usize], s: &Session<'_>| {
        let values: Vec<&Value> = passed.iter().map(|k| s.inbox.get(*k).value()).collect();
        json_notes(view.note(with_nearest(f, &values, &[&pattern])), s, passed)
    };
    loop {
        let idx = match next_visible(s, i, &view, &mut cursor, until).await {
            Next::Message(idx) => idx,
            Next::Ended(end, at) => {
                return Err(fail(ended_failure(&end, at, &waiting), &passed, s));
            }
            Next::TimedOut => {
                let f = Failure::new(format!(
                    "no message matching {} arrived within {}{}",
                    describe(&pattern),
                    humantime::format_duration(e.within),
                    passed_problem(s, &passed)
                ));
                return Err(fail(f, &passed, s));
            }
        };
        if pattern.matches(s.inbox.get(idx).value()) {
            s.claim(i, idx, Disposition::Matched, Some(0), true);
            let value = s.inbox.get(idx).value().clone();
            return capture(i, &e.captures, &value, s);
        }
        if view.ignored(s.inbox.get(idx).value()) {
            s.claim(i, idx, Disposition::Ignored, None, true);
            continue;
        }
        if e.strict {
            let value = s.inbox.get(idx).value().clone();
            let f = Failure::new(format!(
                "strict step received a message that matches nothing ({})",
                numbered(s, idx)
            ))
            .expected(describe(&pattern))
            .actual(truncate(&s.inbox.get(idx).frame.summary(), 160))
            .note(render_diff(&pattern, &value));
            return Err(view.note(f));
        }
        passed.push(idx);
    }
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
    let mut progress = Progress::new(&m.events, ordered, |p, what| compile(p, s, what))?;
    let view = View::new(m.filter.as_ref(), &m.ignore, s)?;
    let until = deadline(m.within);
    let mut event_deadline = m.each_within.map(deadline);
    let mut cursor = s.inbox.first_unclaimed();
    let mut passed: Vec<usize> = Vec::new();
    let fail = |f: Failure, passed: &[usize], progress: &Progress, s: &Session<'_>| {
        let values: Vec<&Value> = passed.iter().map(|k| s.inbox.get(*k).value()).collect();
        let f = f.note(format!("note: {}", progress.tally()));
        json_notes(
            view.note(with_nearest(f, &values, &progress.open_patterns())),
            s,
            passed,
        )
    };
    while !progress.done() {
        let step_until = event_deadline.map_or(until, |d| d.min(until));
        let idx = match next_visible(s, i, &view, &mut cursor, step_until).await {
            Next::Message(idx) => idx,
            Next::Ended(end, at) => {
                if progress.done_at_deadline() {
                    break;
                }
                let f = ended_failure(&end, at, &progress.waiting());
                return Err(fail(f, &passed, &progress, s));
            }
            Next::TimedOut => {
                if progress.done_at_deadline() {
                    break;
                }
                let per_event = event_deadline.is_some_and(|d| d < until);
                let window = if per_event {
                    format!(
                        "each_within {}",
                        humantime::format_duration(m.each_within.unwrap_or_default())
                    )
                } else {
                    humantime::format_duration(m.within).to_string()
                };
                let f = Failure::new(format!("{} within {window}", progress.shortfall()));
                return Err(fail(f, &passed, &progress, s));
            }
        };
        let verdict = progress.offer(s.inbox.get(idx).value(), idx);
        match verdict {
            Verdict::Claimed(event) => {
                s.claim(i, idx, Disposition::Matched, Some(event), ordered);
                event_deadline = m.each_within.map(deadline);
            }
            Verdict::Unexpected { later } => {
                if view.ignored(s.inbox.get(idx).value()) {
                    s.claim(i, idx, Disposition::Ignored, None, ordered);
                    continue;
                }
                if let Some(later) = later {
                    let f = Failure::new(format!(
                        "{} never matched: event {} arrived first (message #{})",
                        progress.current_name(),
                        later + 1,
                        s.inbox.get(idx).seq
                    ))
                    .expected(progress.current_pattern())
                    .actual(format!("event {} arrived: {}", later + 1, truncate(&s.inbox.get(idx).frame.summary(), 160)))
                    .hint("compare the nearest message with the pattern; if the order does not matter, use `expect_unordered`");
                    return Err(fail(f, &passed, &progress, s));
                }
                if m.strict {
                    let f = Failure::new(format!(
                        "strict step received a message that matches no event ({})",
                        numbered(s, idx)
                    ))
                    .expected(progress.waiting())
                    .actual(truncate(&s.inbox.get(idx).frame.summary(), 160));
                    return Err(view.note(f.note(format!("note: {}", progress.tally()))));
                }
                passed.push(idx);
            }
            Verdict::EndsEvent => {}
            Verdict::UntilTooEarly(f) => {
                let f = *f;
                return Err(fail(f.actual(numbered(s, idx)), &passed, &progress, s));
            }
        }
    }
    if m.captures.is_empty() {
        return Ok(());
    }
    let all = progress.captured(|h| s.inbox.get(h).value());
    capture(i, &m.captures, &all, s)
}

async fn expect_none(
    i: usize,
    pattern: &Value,
    within: Duration,
    filter: Option<&Value>,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let pattern = compile(pattern, s, "match")?;
    let view = View::new(filter, &[], s)?;
    let until = deadline(within);
    let mut cursor = s.inbox.first_unclaimed();
    let expected = format!(
        "no message matching {} for {}",
        describe(&pattern),
        humantime::format_duration(within)
    );
    loop {
        match next_visible(s, i, &view, &mut cursor, until).await {
            Next::Message(idx) => {
                let value = s.inbox.get(idx).value().clone();
                if pattern.matches(&value) {
                    s.claim(i, idx, Disposition::Matched, Some(0), true);
                    let f = Failure::new(format!(
                        "a message matching the `expect_none` pattern arrived ({})",
                        numbered(s, idx)
                    ))
                    .expected(expected)
                    .actual(s.inbox.get(idx).frame.summary());
                    return Err(view.note(f));
                }
                // Not claimed: the next step sees it.
            }
            Next::Ended(end, at) => {
                let f = ended_failure(
                    &end,
                    at,
                    &format!("the `expect_none` window to pass ({expected})"),
                );
                return Err(view.note(f.expected(expected)));
            }
            Next::TimedOut => return Ok(()),
        }
    }
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
    s.inbox.close_sent();
    s.ws.send(Message::Close(Some(frame)))
        .await
        .map_err(|e| Failure::new(format!("cannot send the close frame: {e}")))
}

/// Waits for the server's close frame; messages before it stay unclaimed (or, with
/// `strict`, fail the step); a close before `after` fails. Shared with the handshake's
/// `closed` expectation.
pub(crate) async fn expect_close(
    i: usize,
    c: &CloseExpectation,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let started = s.inbox.elapsed();
    let until = deadline(c.within);
    let reason_pattern = c
        .reason
        .as_ref()
        .map(|r| compile(r, s, "close reason"))
        .transpose()?;
    let expected = describe_close(c, reason_pattern.as_ref());
    let view = View {
        filter: None,
        ignore: Vec::new(),
    };
    let mut cursor = s.inbox.first_unclaimed();
    loop {
        match next_visible(s, i, &view, &mut cursor, until).await {
            Next::Message(idx) => {
                if c.strict {
                    return Err(Failure::new(format!(
                        "strict `expect_close` received a message before the close ({})",
                        numbered(s, idx)
                    ))
                    .expected(expected));
                }
            }
            Next::Ended(End::Closed { code, reason }, at) => {
                let code_text = code.map_or("no code".into(), |x| x.to_string());
                if let Some(after) = c.after {
                    let since_step = at.saturating_sub(started);
                    if at < started + after {
                        return Err(Failure::new(format!(
                            "the server closed with {code_text} {reason:?} too early: {:.3}s into the step, before `after: {}`",
                            if at < started { 0.0 } else { since_step.as_secs_f64() },
                            humantime::format_duration(after)
                        ))
                        .expected(format!("{expected}, not before {}", humantime::format_duration(after)))
                        .actual(format!("close {code_text} {reason:?}")));
                    }
                }
                let code_ok = c.codes.is_empty() || code.is_some_and(|x| c.codes.contains(&x));
                let reason_ok = reason_pattern
                    .as_ref()
                    .is_none_or(|p| p.matches(&Value::String(reason.clone())));
                if code_ok && reason_ok {
                    return Ok(());
                }
                return Err(Failure::new(format!(
                    "the server closed with {code_text} {reason:?}, not as expected"
                ))
                .expected(expected)
                .actual(format!("close {code_text} {reason:?}")));
            }
            Next::Ended(end @ End::Refused { .. }, _) => {
                return Err(Failure::new(end.describe())
                    .expected(expected)
                    .hint(LIMIT_HINT));
            }
            Next::Ended(End::Dropped(m), _) => {
                return Err(Failure::new(format!(
                    "the connection dropped without a close frame ({m})"
                ))
                .expected(expected));
            }
            Next::Ended(end @ End::Violation { .. }, _) => {
                return Err(Failure::new(format!(
                    "{}, while the scenario waited for the close",
                    end.describe()
                ))
                .expected(expected));
            }
            Next::TimedOut if s.inbox.has_sent_close() => {
                return Err(Failure::new(format!(
                    "the server never answered the close frame within {}",
                    humantime::format_duration(c.within)
                ))
                .expected(expected)
                .actual("no close frame came back; the connection stayed open")
                .hint("RFC 6455 §5.5.1: an endpoint that receives a close frame must answer with its own"));
            }
            Next::TimedOut => {
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

fn describe_close(c: &CloseExpectation, reason: Option<&Pattern>) -> String {
    let codes = if c.codes.is_empty() {
        "any code".to_string()
    } else {
        c.codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match reason {
        Some(r) => format!("close with {codes}, reason matching {}", r.raw()),
        None => format!("close with {codes}"),
    }
}

/// After the last step: messages matching the scenario's `ignore` are claimed as ignored;
/// the indexes of the messages nobody claimed are returned (arrival order).
pub(crate) fn settle(last_step: usize, s: &mut Session<'_>) -> Result<Vec<usize>, Failure> {
    let view = View::new(None, &[], s)?;
    let left: Vec<usize> = s.inbox.unclaimed().collect();
    let mut unclaimed = Vec::new();
    for idx in left {
        if view.ignored(s.inbox.get(idx).value()) {
            s.claim(last_step, idx, Disposition::Ignored, None, true);
        } else {
            unclaimed.push(idx);
        }
    }
    Ok(unclaimed)
}

/// The failure of `unclaimed: fail` when messages were left.
pub(crate) fn unclaimed_failure(unclaimed: &[usize], s: &Session<'_>) -> Failure {
    let mut f = Failure::new(format!(
        "{} message(s) were never claimed by any step, and the scenario says `unclaimed: fail`",
        unclaimed.len()
    ));
    for idx in unclaimed.iter().take(8) {
        f = f.note(numbered(s, *idx));
    }
    if unclaimed.len() > 8 {
        f = f.note(format!("… and {} more", unclaimed.len() - 8));
    }
    f.hint("expect them, `ignore:` them (at the top, or in a step), or remove `unclaimed: fail`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_looks_like_json_but_does_not_parse_is_named() {
        let broken = Frame::from_text(r#"{"type": "tool_executing", "tool": "#);
        let problem = json_problem(&broken).expect("named");
        assert!(
            problem.starts_with("invalid JSON at line 1 column 35: "),
            "{problem}"
        );
        assert_eq!(json_problem(&Frame::from_text("hello")), None);
        assert_eq!(json_problem(&Frame::from_text(r#"{"ok": 1}"#)), None);
        assert_eq!(json_problem(&Frame::Binary(3)), None);
    }
}
