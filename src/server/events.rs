//! The agent protocol's vocabulary: parsing client frames into requests (the request/reply and
//! subscription messages are read by `rpc.rs`) and rendering server events. Every agent event
//! carries `type`, (`run_id`), `user_id`, `timestamp` first, in that order.
//!
//! The agent flow for one `user_message` is a fixed list of [`Step`]s so transcripts are
//! deterministic apart from `timestamp` and a server-generated `run_id`.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::rpc::{self, Call, Refusal, Subscribe};
use crate::server_options::ServerOptions;

/// Tool named in `tool_executing`/`tool_completed` when the client gives none.
pub(super) const DEFAULT_TOOL: &str = "cost_analyzer";

/// Non-JSON text sent by `malformed_frame`.
pub const MALFORMED_FRAME: &str = "{\"type\": \"tool_executing\", \"tool\": ";

/// Largest binary frame a `binary` request may ask for.
const MAX_BINARY_BYTES: u64 = 1 << 20;

/// What a client text frame asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Request {
    /// `{"type":"user_message",...}`.
    UserMessage(UserMessage),
    /// `{"type":"ping","id"?:any}`; `id` echoed in the pong when present.
    Ping(Option<Value>),
    /// `{"type":"disconnect","code"?:u16,"reason"?:str}`.
    Disconnect {
        /// Close code (default 1000).
        code: u16,
        /// Close reason (default empty).
        reason: String,
    },
    /// `{"type":"request",...}`: answered with `response` or `error` once its delay passed.
    Call(Call),
    /// `{"type":"subscribe",...}`: streams `next` frames, then `complete` (or `error`).
    Subscribe(Subscribe),
    /// `{"type":"unsubscribe","id":any}`: stops that subscription.
    Unsubscribe(serde_json::Value),
    /// A `request`, `subscribe` or `unsubscribe` that cannot be accepted: answered with `error`.
    Refused(Refusal),
    /// `{"type":"binary","json"?:any,"bytes"?:int}`: answered with one binary frame holding
    /// `json` serialized, or `bytes` bytes (0xFF, not UTF-8; at most 1 MiB).
    Binary(Vec<u8>),
    /// Not JSON: answered with `echo: <text>`.
    Echo(String),
    /// JSON that is not a known request: answered with `agent_error`.
    Invalid(String),
}

/// A `user_message` request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UserMessage {
    /// What the user typed.
    pub text: String,
    /// Client-chosen run id, else a fresh uuid v4.
    pub run_id: Option<String>,
    /// Interleave deterministic heartbeats.
    pub heartbeats: bool,
    /// Tool name (default [`DEFAULT_TOOL`]).
    pub tool: Option<String>,
}

/// Parses one client text frame.
pub(super) fn parse(text: &str) -> Request {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Request::Echo(text.to_owned());
    };
    let unknown = || Request::Invalid("unknown message type".to_owned());
    let Some(obj) = value.as_object() else {
        return unknown();
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("user_message") => parse_user_message(obj),
        Some("ping") => Request::Ping(obj.get("id").cloned()),
        Some("binary") => match (obj.get("json"), obj.get("bytes").and_then(Value::as_u64)) {
            (Some(json), None) => Request::Binary(json.to_string().into_bytes()),
            (None, Some(n)) if n <= MAX_BINARY_BYTES => {
                Request::Binary(vec![0xFF; usize::try_from(n).unwrap_or(0)])
            }
            _ => Request::Invalid(format!(
                "invalid binary request: give `json` or `bytes` (at most {MAX_BINARY_BYTES})"
            )),
        },
        Some("request") => rpc::parse_request(obj).map_or_else(Request::Refused, Request::Call),
        Some("subscribe") => {
            rpc::parse_subscribe(obj).map_or_else(Request::Refused, Request::Subscribe)
        }
        Some("unsubscribe") => {
            rpc::parse_unsubscribe(obj).map_or_else(Request::Refused, Request::Unsubscribe)
        }
        Some("disconnect") => {
            let code = match obj.get("code") {
                None => 1000,
                Some(v) => match v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                    Some(code) => code,
                    None => return Request::Invalid("invalid close code".to_owned()),
                },
            };
            let reason = obj.get("reason").and_then(Value::as_str).unwrap_or("");
            Request::Disconnect {
                code,
                reason: reason.to_owned(),
            }
        }
        _ => unknown(),
    }
}

fn parse_user_message(obj: &Map<String, Value>) -> Request {
    let bad = |m: &str| Request::Invalid(format!("invalid user_message: {m}"));
    let Some(text) = obj.get("text").and_then(Value::as_str) else {
        return bad("text must be a string");
    };
    let run_id = match obj.get("run_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return bad("run_id must be a non-empty string"),
    };
    let heartbeats = match obj.get("heartbeats") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return bad("heartbeats must be a boolean"),
    };
    let tool = match obj.get("tool") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => return bad("tool must be a non-empty string"),
    };
    Request::UserMessage(UserMessage {
        text: text.to_owned(),
        run_id,
        heartbeats,
        tool,
    })
}

/// One thing the server does while answering a `user_message`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// An event: its `type` and the fields after the common ones.
    Event(&'static str, Map<String, Value>),
    /// A raw text frame (the malformed frame).
    Raw(String),
    /// A `tool_output` event padded to this many bytes.
    Oversized(usize),
    /// Close with 1011.
    Close1011,
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The steps answering `msg`, with the failure behaviours of `options` woven in.
pub(super) fn agent_flow(msg: &UserMessage, options: &ServerOptions) -> Vec<Step> {
    let tool = msg.tool.as_deref().unwrap_or(DEFAULT_TOOL);
    let mut agent = vec![
        Step::Event(
            "agent_started",
            fields(json!({ "agent": "optimization_agent" })),
        ),
        Step::Event(
            "agent_thinking",
            fields(json!({ "thought": format!("Analyzing request: {}", msg.text) })),
        ),
        Step::Event("tool_executing", fields(json!({ "tool": tool }))),
        Step::Event(
            "tool_completed",
            fields(json!({
                "tool": tool,
                "result": { "status": "success", "records_analyzed": 1250 },
            })),
        ),
        Step::Event(
            "agent_completed",
            fields(json!({ "result": {
                "summary": "Found 3 optimization opportunities",
                "savings_usd": 1250.5,
                "recommendations": [
                    { "id": "rec-1", "action": "Right-size idle GPU instances", "savings_usd": 800.0 },
                    { "id": "rec-2", "action": "Enable prompt caching", "savings_usd": 300.5 },
                    { "id": "rec-3", "action": "Route simple queries to a smaller model", "savings_usd": 150.0 },
                ],
            }})),
        ),
    ];
    if options.close_1011 {
        agent.truncate(2);
        agent.push(Step::Close1011);
    } else {
        if let Some(bytes) = options.oversized_frame {
            agent.insert(3, Step::Oversized(bytes));
        }
        if options.malformed_frame {
            agent.insert(2, Step::Raw(MALFORMED_FRAME.to_owned()));
        }
    }
    if !msg.heartbeats {
        return agent;
    }
    let mut steps = Vec::with_capacity(agent.len() * 2);
    let count = agent.len();
    for (i, step) in agent.into_iter().enumerate() {
        let last = i + 1 == count;
        steps.push(step);
        if !last {
            steps.push(Step::Event("heartbeat", fields(json!({ "seq": i + 1 }))));
        }
    }
    steps
}

/// Renders an event: `type`, `run_id` (if any), `user_id`, `timestamp`, then `extra`.
pub(super) fn render(
    kind: &str,
    run_id: Option<&str>,
    user_id: &str,
    extra: Map<String, Value>,
) -> String {
    let mut map = Map::with_capacity(4 + extra.len());
    map.insert("type".into(), kind.into());
    if let Some(run_id) = run_id {
        map.insert("run_id".into(), run_id.into());
    }
    map.insert("user_id".into(), user_id.into());
    map.insert("timestamp".into(), now().into());
    map.extend(extra);
    Value::Object(map).to_string()
}

/// A `tool_output` event of exactly `bytes` bytes (or its minimal size when that is larger).
pub(super) fn render_oversized(bytes: usize, run_id: Option<&str>, user_id: &str) -> String {
    let base = render(
        "tool_output",
        run_id,
        user_id,
        fields(json!({ "data": "" })),
    );
    let padding = bytes.saturating_sub(base.len());
    render(
        "tool_output",
        run_id,
        user_id,
        fields(json!({ "data": "x".repeat(padding) })),
    )
}

/// RFC 3339 UTC with milliseconds.
pub(super) fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Event(k, _) => (*k).to_owned(),
                Step::Raw(_) => "raw".to_owned(),
                Step::Oversized(_) => "oversized".to_owned(),
                Step::Close1011 => "close".to_owned(),
            })
            .collect()
    }

    fn msg(heartbeats: bool) -> UserMessage {
        UserMessage {
            text: "hi".into(),
            run_id: None,
            heartbeats,
            tool: None,
        }
    }

    #[test]
    fn flows() {
        let o = ServerOptions::default();
        assert_eq!(
            kinds(&agent_flow(&msg(false), &o)),
            [
                "agent_started",
                "agent_thinking",
                "tool_executing",
                "tool_completed",
                "agent_completed"
            ]
        );
        assert_eq!(agent_flow(&msg(true), &o).len(), 9);
        let o = ServerOptions {
            malformed_frame: true,
            oversized_frame: Some(10),
            ..Default::default()
        };
        assert_eq!(
            kinds(&agent_flow(&msg(false), &o)),
            [
                "agent_started",
                "agent_thinking",
                "raw",
                "tool_executing",
                "oversized",
                "tool_completed",
                "agent_completed"
            ]
        );
        let o = ServerOptions {
            close_1011: true,
            ..Default::default()
        };
        assert_eq!(
            kinds(&agent_flow(&msg(false), &o)),
            ["agent_started", "agent_thinking", "close"]
        );
    }

    #[test]
    fn parsing() {
        assert_eq!(parse("hello"), Request::Echo("hello".into()));
        assert_eq!(
            parse(r#"{"type":"binary","json":{"a":1}}"#),
            Request::Binary(br#"{"a":1}"#.to_vec())
        );
        assert_eq!(
            parse(r#"{"type":"binary","bytes":3}"#),
            Request::Binary(vec![0xFF; 3])
        );
        assert!(matches!(
            parse(r#"{"type":"binary","bytes":99999999}"#),
            Request::Invalid(_)
        ));
        assert_eq!(
            parse("[1]"),
            Request::Invalid("unknown message type".into())
        );
        assert_eq!(
            parse(r#"{"type":"nope"}"#),
            Request::Invalid("unknown message type".into())
        );
        assert_eq!(
            parse(r#"{"type":"ping","id":7}"#),
            Request::Ping(Some(json!(7)))
        );
        assert_eq!(
            parse(r#"{"type":"disconnect","code":4000,"reason":"bye"}"#),
            Request::Disconnect {
                code: 4000,
                reason: "bye".into()
            }
        );
        assert!(matches!(
            parse(r#"{"type":"user_message"}"#),
            Request::Invalid(_)
        ));
    }

    #[test]
    fn oversized_has_exact_size_and_field_order() {
        let text = render_oversized(5000, Some("r"), "u");
        assert_eq!(text.len(), 5000);
        assert!(
            text.starts_with(r#"{"type":"tool_output","run_id":"r","user_id":"u","timestamp":"#)
        );
    }
}
