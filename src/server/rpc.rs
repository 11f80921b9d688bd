//! Owns the reference server's request/reply and subscription protocols, the two families real
//! services speak besides the agent flow (JSON-RPC style calls correlated by `id`, graphql-ws
//! style streams): parsing `request`, `subscribe` and `unsubscribe` (with their limits),
//! evaluating methods, and rendering the `response`, `next`, `complete`, `unsubscribed` and
//! `error` frames. When replies and ticks are sent is the schedule's business (`schedule.rs`).
//!
//! These frames carry only `type`, `id` and their own fields (no `user_id`/`timestamp`): they
//! imitate third-party protocols, not the agent service.

use std::time::Duration;

use serde_json::{Map, Value, json};

/// Largest `count` of a subscription.
pub(super) const MAX_COUNT: u64 = 100_000;
/// Largest `interval_ms` of a subscription.
pub(super) const MAX_INTERVAL_MS: u64 = 10_000;
/// Largest `delay_ms` of a request.
pub(super) const MAX_DELAY_MS: u64 = 10_000;
/// Most subscriptions streaming at once on one connection.
pub(super) const MAX_SUBSCRIPTIONS: usize = 16;
/// Most requests waiting for their reply at once on one connection.
pub(super) const MAX_PENDING_REQUESTS: usize = 64;

/// `error.code` values (JSON-RPC's where one fits, its server range otherwise).
pub(super) mod code {
    /// The message lacks a field or has one of the wrong type.
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    /// `request` names a method the server does not have.
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    /// The method's `params` do not fit it.
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    /// A count, interval, delay or per-connection limit is exceeded.
    pub(crate) const LIMIT_EXCEEDED: i64 = -32000;
    /// `subscribe` names a topic the server does not have.
    pub(crate) const UNKNOWN_TOPIC: i64 = -32001;
    /// The `fail` topic's end.
    pub(crate) const STREAM_FAILED: i64 = -32002;
    /// `subscribe` reuses the id of a subscription still streaming.
    pub(crate) const DUPLICATE_ID: i64 = -32003;
    /// `unsubscribe` names no subscription still streaming.
    pub(crate) const NO_SUBSCRIPTION: i64 = -32004;
}

/// The `error` object of an `error` frame.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fault {
    /// One of [`code`].
    pub code: i64,
    /// Human-readable explanation.
    pub message: String,
}

impl Fault {
    pub(super) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A protocol message refused as soon as it is read: answered at once with `error`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Refusal {
    /// The message's `id`, `null` when it has none.
    pub id: Value,
    /// Why.
    pub fault: Fault,
}

/// `{"type":"request","id":any,"method":str,"params"?:any,"delay_ms"?:int}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    /// Echoed in the reply (any JSON value but `null`).
    pub id: Value,
    /// `echo`, `add`, `whoami`; anything else is answered with an error.
    pub method: String,
    /// The method's argument.
    pub params: Option<Value>,
    /// How long the server takes to answer (before jitter).
    pub delay: Duration,
}

/// What a subscription streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Topic {
    /// `count` ticks, then `complete`.
    Ticks,
    /// `count` ticks, then `error` (and no `complete`).
    Fail,
}

impl Topic {
    fn name(self) -> &'static str {
        match self {
            Topic::Ticks => "ticks",
            Topic::Fail => "fail",
        }
    }
}

/// `{"type":"subscribe","id":any,"topic":str,"count"?:int,"interval_ms"?:int}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Subscribe {
    /// Tags every frame of the stream (any JSON value but `null`).
    pub id: Value,
    /// What to stream.
    pub topic: Topic,
    /// Number of `next` frames (default 1).
    pub count: u64,
    /// Pause before each `next` (before jitter; default 0).
    pub interval: Duration,
}

fn refuse(id: &Value, code: i64, message: impl Into<String>) -> Refusal {
    Refusal {
        id: id.clone(),
        fault: Fault::new(code, message),
    }
}

/// The message's `id`: required, any JSON value but `null`.
fn id_of(obj: &Map<String, Value>, kind: &str) -> Result<Value, Refusal> {
    match obj.get("id") {
        None | Some(Value::Null) => Err(refuse(
            &Value::Null,
            code::INVALID_REQUEST,
            format!("{kind} needs an id"),
        )),
        Some(id) => Ok(id.clone()),
    }
}

/// An optional non-negative integer field of at most `max`.
fn bounded(
    obj: &Map<String, Value>,
    id: &Value,
    key: &str,
    default: u64,
    max: u64,
) -> Result<u64, Refusal> {
    let n = match obj.get(key) {
        None | Some(Value::Null) => return Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            refuse(
                id,
                code::INVALID_REQUEST,
                format!("{key} must be a non-negative integer"),
            )
        })?,
    };
    if n > max {
        return Err(refuse(
            id,
            code::LIMIT_EXCEEDED,
            format!("{key} {n} is over the limit of {max}"),
        ));
    }
    Ok(n)
}

/// Reads a `request` message.
pub(super) fn parse_request(obj: &Map<String, Value>) -> Result<Call, Refusal> {
    let id = id_of(obj, "request")?;
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Err(refuse(
            &id,
            code::INVALID_REQUEST,
            "method must be a string",
        ));
    };
    let delay = bounded(obj, &id, "delay_ms", 0, MAX_DELAY_MS)?;
    Ok(Call {
        method: method.to_owned(),
        params: obj.get("params").cloned(),
        delay: Duration::from_millis(delay),
        id,
    })
}

/// Reads a `subscribe` message.
pub(super) fn parse_subscribe(obj: &Map<String, Value>) -> Result<Subscribe, Refusal> {
    let id = id_of(obj, "subscribe")?;
    let topic = match obj.get("topic").and_then(Value::as_str) {
        Some("ticks") => Topic::Ticks,
        Some("fail") => Topic::Fail,
        Some(other) => {
            return Err(refuse(
                &id,
                code::UNKNOWN_TOPIC,
                format!("unknown topic {other:?} (known: ticks, fail)"),
            ));
        }
        None => {
            return Err(refuse(&id, code::INVALID_REQUEST, "topic must be a string"));
        }
    };
    let count = bounded(obj, &id, "count", 1, MAX_COUNT)?;
    let interval = bounded(obj, &id, "interval_ms", 0, MAX_INTERVAL_MS)?;
    Ok(Subscribe {
        id,
        topic,
        count,
        interval: Duration::from_millis(interval),
    })
}

/// Reads an `unsubscribe` message: the id of the subscription to stop.
pub(super) fn parse_unsubscribe(obj: &Map<String, Value>) -> Result<Value, Refusal> {
    id_of(obj, "unsubscribe")
}

/// The reply to `call`, computed when it arrives and sent once its delay has passed.
pub(super) fn evaluate(call: &Call, user_id: &str) -> Result<Value, Fault> {
    match call.method.as_str() {
        "echo" => Ok(call.params.clone().unwrap_or(Value::Null)),
        "add" => add(call.params.as_ref()),
        "whoami" => Ok(json!({ "user_id": user_id })),
        other => Err(Fault::new(
            code::METHOD_NOT_FOUND,
            format!("method not found: {other}"),
        )),
    }
}

/// `add`: the sum of an array of numbers, an integer when they all are and it fits in i64.
fn add(params: Option<&Value>) -> Result<Value, Fault> {
    let bad = || Fault::new(code::INVALID_PARAMS, "add needs an array of numbers");
    let Some(Value::Array(items)) = params else {
        return Err(bad());
    };
    let mut integer = Some(0i64);
    let mut float = 0f64;
    for item in items {
        let Value::Number(n) = item else {
            return Err(bad());
        };
        integer = integer.and_then(|sum| n.as_i64().and_then(|i| sum.checked_add(i)));
        float += n.as_f64().ok_or_else(bad)?;
    }
    match integer {
        Some(sum) => Ok(sum.into()),
        None if float.is_finite() => Ok(float.into()),
        None => Err(Fault::new(code::INVALID_PARAMS, "the sum is not finite")),
    }
}

/// `{"type":"response","id":...,"result":...}`.
pub(super) fn response(id: &Value, result: &Value) -> String {
    json!({ "type": "response", "id": id, "result": result }).to_string()
}

/// `{"type":"error","id":...,"error":{"code":...,"message":...}}`.
pub(super) fn error(id: &Value, fault: &Fault) -> String {
    json!({
        "type": "error",
        "id": id,
        "error": { "code": fault.code, "message": fault.message },
    })
    .to_string()
}

/// `{"type":"next","id":...,"seq":k,"payload":{"topic":...,"tick":k}}`.
pub(super) fn next(id: &Value, topic: Topic, seq: u64) -> String {
    json!({
        "type": "next",
        "id": id,
        "seq": seq,
        "payload": { "topic": topic.name(), "tick": seq },
    })
    .to_string()
}

/// How a stream ends after its last `next`: `complete`, or `error` for the `fail` topic.
pub(super) fn end(id: &Value, topic: Topic) -> String {
    match topic {
        Topic::Ticks => json!({ "type": "complete", "id": id }).to_string(),
        Topic::Fail => error(
            id,
            &Fault::new(
                code::STREAM_FAILED,
                "the fail topic failed, as it always does",
            ),
        ),
    }
}

/// `{"type":"unsubscribed","id":...}`: no frame of that subscription follows.
pub(super) fn unsubscribed(id: &Value) -> String {
    json!({ "type": "unsubscribed", "id": id }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn requests_parse_with_limits() {
        let call = parse_request(&obj(
            json!({"id": [1], "method": "echo", "params": {"a": 1}, "delay_ms": 10}),
        ))
        .expect("valid");
        assert_eq!(call.id, json!([1]));
        assert_eq!(call.delay, Duration::from_millis(10));
        assert_eq!(evaluate(&call, "u"), Ok(json!({"a": 1})));

        let refused = |v: Value| parse_request(&obj(v)).expect_err("refused");
        assert_eq!(
            refused(json!({"method": "echo"})).fault.code,
            code::INVALID_REQUEST
        );
        assert_eq!(refused(json!({"id": 1})).fault.code, code::INVALID_REQUEST);
        let r = refused(json!({"id": 1, "method": "echo", "delay_ms": MAX_DELAY_MS + 1}));
        assert_eq!((r.id, r.fault.code), (json!(1), code::LIMIT_EXCEEDED));
        let r = refused(json!({"id": 1, "method": "echo", "delay_ms": -1}));
        assert_eq!(r.fault.code, code::INVALID_REQUEST);
    }

    #[test]
    fn methods() {
        let call = |method: &str, params: Value| Call {
            id: json!(1),
            method: method.into(),
            params: Some(params),
            delay: Duration::ZERO,
        };
        assert_eq!(evaluate(&call("add", json!([1, 2, 3])), "u"), Ok(json!(6)));
        assert_eq!(evaluate(&call("add", json!([1, 0.5])), "u"), Ok(json!(1.5)));
        assert_eq!(
            evaluate(&call("add", json!([i64::MAX, 1])), "u"),
            Ok(json!(i64::MAX as f64 + 1.0))
        );
        assert_eq!(
            evaluate(&call("add", json!(["1"])), "u").map_err(|f| f.code),
            Err(code::INVALID_PARAMS)
        );
        assert_eq!(
            evaluate(&call("whoami", Value::Null), "u-1"),
            Ok(json!({"user_id": "u-1"}))
        );
        assert_eq!(
            evaluate(&call("nope", Value::Null), "u").map_err(|f| f.code),
            Err(code::METHOD_NOT_FOUND)
        );
    }

    #[test]
    fn subscriptions_parse_with_limits() {
        let s = parse_subscribe(&obj(json!({"id": "s1", "topic": "ticks"}))).expect("valid");
        assert_eq!((s.count, s.interval), (1, Duration::ZERO));
        let refused = |v: Value| parse_subscribe(&obj(v)).expect_err("refused").fault.code;
        assert_eq!(
            refused(json!({"id": "s", "topic": "weather"})),
            code::UNKNOWN_TOPIC
        );
        assert_eq!(
            refused(json!({"id": "s", "topic": "ticks", "count": MAX_COUNT + 1})),
            code::LIMIT_EXCEEDED
        );
        assert_eq!(
            refused(json!({"id": "s", "topic": "ticks", "interval_ms": MAX_INTERVAL_MS + 1})),
            code::LIMIT_EXCEEDED
        );
        assert_eq!(
            refused(json!({"id": "s", "topic": "ticks", "count": 1.5})),
            code::INVALID_REQUEST
        );
        assert_eq!(refused(json!({"topic": "ticks"})), code::INVALID_REQUEST);
    }

    #[test]
    fn frames_keep_their_key_order() {
        assert_eq!(
            response(&json!(1), &json!(2)),
            r#"{"type":"response","id":1,"result":2}"#
        );
        assert_eq!(
            next(&json!("s"), Topic::Ticks, 3),
            r#"{"type":"next","id":"s","seq":3,"payload":{"topic":"ticks","tick":3}}"#
        );
        assert_eq!(
            end(&json!("s"), Topic::Ticks),
            r#"{"type":"complete","id":"s"}"#
        );
        assert!(
            end(&json!("s"), Topic::Fail)
                .starts_with(r#"{"type":"error","id":"s","error":{"code":-32002,"#)
        );
    }
}
