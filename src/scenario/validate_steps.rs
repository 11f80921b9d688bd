//! Owns validating steps (`send`, `expect`, `expect_sequence`, `expect_unordered`,
//! `expect_none`, `close`, `expect_close`, `set`, and `http` through `validate_auth`), close
//! expectations, and lists of codes checked against a range.

use std::time::Duration;

use serde_json::Value;

use super::plan::*;
use super::raw::*;
use super::validate::{Ctx, pos};
use super::validate_auth::http_plan;
use crate::diagnostic::Pos;

pub(super) fn close_expectation(
    cx: &mut Ctx<'_>,
    raw: &RawCloseExpectation,
    field: &str,
) -> CloseExpectation {
    let RawCloseExpectation {
        code,
        reason,
        within,
        after,
        strict,
    } = raw;
    let codes = match code {
        None => Vec::new(),
        Some(c) => {
            let list = codes(cx, &c.value, pos(c), &format!("{field}.code"), 1000..=4999);
            if list.is_empty() {
                cx.error(
                    pos(c),
                    &format!("{field}.code"),
                    "expected a close code such as 1008 or 4403, or a list of them",
                );
            }
            list
        }
    };
    let reason = reason.as_ref().map(|r| {
        cx.templated_pattern(&r.value, pos(r), &format!("{field}.reason"));
        r.value.clone()
    });
    let within = cx.duration(within, &format!("{field}.within"), DEFAULT_WITHIN);
    let after = after.as_ref().map(|a| {
        let d = cx.duration(
            &Some(clone_span(a)),
            &format!("{field}.after"),
            Duration::ZERO,
        );
        if d >= within {
            cx.error(
                pos(a),
                &format!("{field}.after"),
                format!(
                    "`after` ({}) is not shorter than `within` ({})",
                    humantime::format_duration(d),
                    humantime::format_duration(within)
                ),
            )
            .help = Some("the close must be allowed to come between `after` and `within`".into());
        }
        d
    });
    CloseExpectation {
        codes,
        reason,
        within,
        after,
        strict: *strict,
    }
}

/// A number or a list of numbers inside `range`; reports out-of-range values.
pub(super) fn codes(
    cx: &mut Ctx<'_>,
    v: &Value,
    at: Pos,
    field: &str,
    range: std::ops::RangeInclusive<u16>,
) -> Vec<u16> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        match item
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| range.contains(n))
        {
            Some(n) => out.push(n),
            None => {
                cx.error(
                    at,
                    field,
                    format!(
                        "`{item}` is not a code in {}..={}",
                        range.start(),
                        range.end()
                    ),
                );
            }
        }
    }
    out
}

pub(super) fn step_plan(cx: &mut Ctx<'_>, phase: &str, i: usize, s: &S<RawStep>) -> StepKind {
    let at = pos(s);
    match &s.value {
        RawStep::Http(h) => StepKind::Http(Box::new(http_plan(
            cx,
            h,
            at,
            &format!("{phase}[{i}].http"),
            false,
        ))),
        RawStep::Send(v) => {
            cx.templates(&v.value, pos(v), &format!("steps[{i}].send"), true);
            StepKind::Send(v.value.clone())
        }
        RawStep::Expect(e) => {
            let field = format!("steps[{i}].expect");
            cx.templated_pattern(&e.pattern.value, pos(&e.pattern), &format!("{field}.match"));
            let within = cx.duration(&e.within, &format!("{field}.within"), DEFAULT_WITHIN);
            let captures = cx.captures(&e.capture);
            let filter = filter(cx, &e.filter, &field);
            let ignore = ignore_list(cx, &e.ignore, &field);
            StepKind::Expect(ExpectOne {
                pattern: e.pattern.value.clone(),
                within,
                captures,
                strict: e.strict,
                filter,
                ignore,
            })
        }
        RawStep::ExpectSequence(m) => {
            StepKind::Sequence(many(cx, m, &format!("steps[{i}].expect_sequence"), true))
        }
        RawStep::ExpectUnordered(m) => {
            StepKind::Unordered(many(cx, m, &format!("steps[{i}].expect_unordered"), false))
        }
        RawStep::ExpectNone(n) => {
            let field = format!("steps[{i}].expect_none");
            cx.templated_pattern(&n.pattern.value, pos(&n.pattern), &format!("{field}.match"));
            let within = cx.duration(
                &Some(clone_span(&n.within)),
                &format!("{field}.within"),
                DEFAULT_WITHIN,
            );
            StepKind::ExpectNone {
                pattern: n.pattern.value.clone(),
                within,
                filter: filter(cx, &n.filter, &field),
            }
        }
        RawStep::Close(c) => {
            let code = c.code.as_ref().map_or(1000, |c| c.value);
            if !(code == 1000 || (3000..=4999).contains(&code)) {
                let at = c.code.as_ref().map_or(at, pos);
                cx.error(
                    at,
                    &format!("steps[{i}].close.code"),
                    format!("a client may not close with code {code}"),
                )
                .help = Some("use 1000 (normal) or an application code in 3000..=4999".into());
            }
            StepKind::Close {
                code,
                reason: c.reason.clone().unwrap_or_default(),
            }
        }
        RawStep::ExpectClose(c) => StepKind::ExpectClose(close_expectation(
            cx,
            c,
            &format!("steps[{i}].expect_close"),
        )),
        RawStep::Set(vars) => {
            let field = format!("{phase}[{i}].set");
            if vars.0.is_empty() {
                cx.error(at, &field, "`set` assigns nothing").help =
                    Some("name at least one variable: `set: {msg_id: \"{{ uuid }}\"}`".into());
            }
            StepKind::Set(cx.assignments(vars, &field))
        }
    }
}

fn clone_span(s: &S<String>) -> S<String> {
    S {
        value: s.value.clone(),
        referenced: s.referenced,
        defined: s.defined,
    }
}

fn many(cx: &mut Ctx<'_>, m: &RawMany, field: &str, ordered: bool) -> ExpectMany {
    if m.events.value.is_empty() {
        cx.error(
            pos(&m.events),
            &format!("{field}.events"),
            "`events` is empty",
        )
        .help = Some("list at least one pattern".into());
    }
    let events: Vec<EventPlan> = m
        .events
        .value
        .iter()
        .enumerate()
        .map(|(k, e)| event_plan(cx, e, &format!("{field}.events[{k}]"), ordered))
        .collect();
    let ignore = ignore_list(cx, &m.ignore, field);
    let filter = filter(cx, &m.filter, field);
    if !ordered && let Some(e) = &m.each_within {
        cx.error(
            pos(e),
            &format!("{field}.each_within"),
            "`each_within` applies to `expect_sequence` only",
        );
    }
    let within = cx.duration(&m.within, &format!("{field}.within"), DEFAULT_WITHIN);
    let each_within = m.each_within.as_ref().map(|_| {
        cx.duration(
            &m.each_within,
            &format!("{field}.each_within"),
            DEFAULT_WITHIN,
        )
    });
    let n = m.events.value.len();
    for (name, path) in &m.capture {
        let first = path.value.split('.').next().unwrap_or("");
        if first.parse::<usize>().map_or(true, |k| k >= n) {
            cx.error(
                pos(path),
                &format!("{field}.capture.{name}"),
                format!(
                    "capture path `{}` must start with an event index below {n}",
                    path.value
                ),
            )
            .help = Some(
                "write `<index>.<path>`, e.g. `4.result.savings_usd` for the fifth event".into(),
            );
        }
    }
    let captures = cx.captures(&m.capture);
    ExpectMany {
        events,
        ignore,
        filter,
        within,
        each_within,
        captures,
        strict: m.strict,
    }
}

/// `where:`: a pattern (templates allowed) selecting the messages a step sees.
fn filter(cx: &mut Ctx<'_>, raw: &Option<S<Value>>, field: &str) -> Option<Value> {
    raw.as_ref().map(|w| {
        cx.templated_pattern(&w.value, pos(w), &format!("{field}.where"));
        w.value.clone()
    })
}

/// `ignore:`: a pattern or a list of patterns (templates allowed).
pub(super) fn ignore_list(cx: &mut Ctx<'_>, raw: &Option<S<Value>>, field: &str) -> Vec<Value> {
    let Some(v) = raw else {
        return Vec::new();
    };
    let list: Vec<Value> = match &v.value {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    for (k, p) in list.iter().enumerate() {
        cx.templated_pattern(p, pos(v), &format!("{field}.ignore[{k}]"));
    }
    list
}

/// The keys of a repeated event.
const REPEAT_KEYS: [&str; 5] = ["repeat", "count", "min", "max", "until"];

/// One event of a sequence: a pattern, or `{repeat: P, count | min/max | until}`.
fn event_plan(cx: &mut Ctx<'_>, e: &S<Value>, field: &str, ordered: bool) -> EventPlan {
    let at = pos(e);
    let Some(map) = e.value.as_object().filter(|m| m.contains_key("repeat")) else {
        cx.templated_pattern(&e.value, at, field);
        return EventPlan::once(e.value.clone());
    };
    for key in map.keys() {
        if !REPEAT_KEYS.contains(&key.as_str()) {
            let d = cx.error(
                at,
                &format!("{field}.{key}"),
                format!("unknown key `{key}` in a repeated event"),
            );
            d.help = Some(format!(
                "a map with `repeat` is a repeated event: its keys are {}; to match a field \
                 named `repeat`, write the pattern as `{{repeat: PATTERN, count: 1}}`",
                REPEAT_KEYS.join(", ")
            ));
        }
    }
    let pattern = map.get("repeat").cloned().unwrap_or(Value::Null);
    cx.templated_pattern(&pattern, at, &format!("{field}.repeat"));
    let mut number = |key: &str| -> Option<usize> {
        let v = map.get(key)?;
        match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= MAX_REPEAT => Some(n),
            _ => {
                cx.error(
                    at,
                    &format!("{field}.{key}"),
                    format!("`{key}` must be a whole number up to {MAX_REPEAT}, not `{v}`"),
                );
                None
            }
        }
    };
    let count = number("count");
    let min = number("min");
    let max = number("max");
    let until = map.get("until").cloned();
    if let Some(u) = &until {
        cx.templated_pattern(u, at, &format!("{field}.until"));
        if !ordered {
            cx.error(
                at,
                &format!("{field}.until"),
                "`until` needs an order: use it in `expect_sequence`",
            );
        }
    }
    let (min, max) = match (count, min, max) {
        (Some(n), None, None) => (n, Some(n)),
        (Some(_), _, _) => {
            cx.error(
                at,
                &format!("{field}.count"),
                "`count` cannot be combined with `min` or `max`",
            )
            .help = Some("write `count: N` for exactly N, or `min`/`max` for a range".into());
            (1, Some(1))
        }
        (None, min, max) => (min.unwrap_or(usize::from(until.is_none())), max),
    };
    if count.is_none() && max.is_none() && until.is_none() {
        cx.error(
            at,
            field,
            "a repeated event needs `count`, `max` or `until` to know when it ends",
        )
        .help = Some("e.g. `{repeat: {type: next}, count: 800}`".into());
    }
    if let Some(mx) = max
        && (mx < min || mx == 0)
    {
        cx.error(
            at,
            &format!("{field}.max"),
            format!("`max` ({mx}) is below `min` ({min}) or zero"),
        );
    }
    EventPlan {
        pattern,
        min,
        max,
        until,
    }
}

/// The largest count a repeated event may ask for.
const MAX_REPEAT: usize = 1_000_000;
