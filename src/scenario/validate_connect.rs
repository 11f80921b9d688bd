//! Owns validating how the scenario opens its WebSocket: the `connect` section (path or URL,
//! headers, query, subprotocols, token placement, timeout) and the expected `handshake`
//! outcome (accepted, rejected with statuses and body, closed, timeout).

use serde_json::Value;

use super::plan::*;
use super::raw::*;
use super::validate::{Ctx, pos};
use super::validate_steps::{close_expectation, codes};

pub(super) fn connect_plan(cx: &mut Ctx<'_>, c: &RawConnect, auth: &AuthPlan) -> ConnectPlan {
    let target = match (&c.path, &c.url) {
        (Some(_), Some(u)) => {
            cx.error(
                pos(u),
                "connect.url",
                "give either `path` or `url`, not both",
            );
            Target::Path("/ws".into())
        }
        (None, Some(u)) => {
            if !(u.value.starts_with("ws://") || u.value.starts_with("wss://")) {
                cx.error(
                    pos(u),
                    "connect.url",
                    format!("`{}` is not a WebSocket URL", u.value),
                )
                .help = Some(
                    "start it with ws:// or wss://, or use `path` relative to the environment"
                        .into(),
                );
            }
            cx.template_str(&u.value, pos(u), "connect.url", true);
            Target::Url(u.value.clone())
        }
        (Some(p), None) => {
            if !p.value.starts_with('/') {
                cx.error(
                    pos(p),
                    "connect.path",
                    format!("path `{}` must start with `/`", p.value),
                );
            }
            cx.template_str(&p.value, pos(p), "connect.path", true);
            Target::Path(p.value.clone())
        }
        (None, None) => Target::Path("/ws".into()),
    };
    let mut pairs = |map: &std::collections::BTreeMap<String, S<String>>,
                     field: &str|
     -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| {
                cx.template_str(&v.value, pos(v), &format!("{field}.{k}"), true);
                (k.clone(), v.value.clone())
            })
            .collect()
    };
    let headers = pairs(&c.headers, "connect.headers");
    let query = pairs(&c.query, "connect.query");
    let token_in = match &c.token_in {
        None => TokenPlacement::Header,
        Some(t) => {
            if matches!(auth, AuthPlan::None) && !matches!(t.value, RawTokenIn::Header) {
                cx.error(
                    pos(t),
                    "connect.token_in",
                    "`token_in` is set but the scenario has no auth strategy",
                )
                .help = Some("add an `auth:` section, or remove `token_in`".into());
            }
            match &t.value {
                RawTokenIn::Header => TokenPlacement::Header,
                RawTokenIn::Query(p) => TokenPlacement::Query(p.clone()),
                RawTokenIn::Subprotocol(p) => TokenPlacement::Subprotocol(p.clone()),
                RawTokenIn::Cookie(n) => TokenPlacement::Cookie(n.clone()),
                RawTokenIn::Message => TokenPlacement::Message,
            }
        }
    };
    ConnectPlan {
        target,
        headers,
        query,
        subprotocols: c.subprotocols.iter().map(|s| s.value.clone()).collect(),
        token_in,
        timeout: cx.duration(&c.timeout, "connect.timeout", DEFAULT_HANDSHAKE_TIMEOUT),
    }
}

pub(super) fn handshake_plan(cx: &mut Ctx<'_>, h: &S<RawHandshake>) -> HandshakePlan {
    match &h.value {
        RawHandshake::Accepted => HandshakePlan::Accepted,
        RawHandshake::Timeout => HandshakePlan::Timeout,
        RawHandshake::Rejected(r) => {
            // The short forms (`rejected: 403`) carry no position of their own.
            let at = Some(pos(&r.status))
                .filter(|p| p.is_known())
                .unwrap_or_else(|| pos(h));
            let statuses = codes(
                cx,
                &r.status.value,
                at,
                "handshake.rejected.status",
                100..=599,
            );
            if matches!(&r.status.value, Value::Array(a) if a.is_empty()) {
                cx.error(
                    at,
                    "handshake.rejected.status",
                    "expected an HTTP status such as 403 or a list [401, 403]",
                );
            }
            let body = r
                .body
                .as_ref()
                .and_then(|b| cx.pattern(&b.value, pos(b), "handshake.rejected.body"));
            HandshakePlan::Rejected { statuses, body }
        }
        RawHandshake::Closed(c) => {
            HandshakePlan::Closed(close_expectation(cx, c, "handshake.closed"))
        }
    }
}
