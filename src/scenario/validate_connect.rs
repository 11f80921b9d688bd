//! Owns validating how the scenario opens its WebSocket: the `connect` section (path or URL,
//! headers, query, subprotocols, token placement, timeout) and the expected `handshake`
//! outcome (accepted, with what its 101 must carry; rejected with statuses and body; closed;
//! timeout).

use serde_json::Value;

use super::plan::*;
use super::raw::*;
use super::validate::{Ctx, pos};
use super::validate_steps::{close_expectation, codes};
use crate::diagnostic::Pos;
use crate::pattern::Pattern;

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
                RawTokenIn::NamedHeader { name, scheme } => {
                    let valid_scheme = scheme
                        .as_ref()
                        .is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()));
                    if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        cx.error(
                            pos(t),
                            "connect.token_in.header",
                            format!("`{name}` is not a valid header name"),
                        )
                        .help = Some(
                            "a header name is a token without spaces: `X-Api-Key`, `Authorization`"
                                .into(),
                        );
                    } else if !valid_scheme {
                        cx.error(
                            pos(t),
                            "connect.token_in.scheme",
                            "`scheme` is one word without spaces (`Bearer`, `token`)",
                        )
                        .help = Some("leave `scheme` out to send the bare token".into());
                    }
                    TokenPlacement::NamedHeader {
                        name: name.to_ascii_lowercase(),
                        scheme: scheme.clone(),
                    }
                }
                RawTokenIn::Query(p) => TokenPlacement::Query(p.clone()),
                RawTokenIn::Subprotocol(p) => TokenPlacement::Subprotocol(p.clone()),
                RawTokenIn::Cookie(n) => TokenPlacement::Cookie(n.clone()),
                RawTokenIn::Message => TokenPlacement::Message,
            }
        }
    };
    let credential_headers = credential_headers(cx, &c.credential_headers, &headers);
    ConnectPlan {
        target,
        credential_headers,
        headers,
        query,
        subprotocols: c.subprotocols.iter().map(|s| s.value.clone()).collect(),
        token_in,
        timeout: cx.duration(&c.timeout, "connect.timeout", DEFAULT_HANDSHAKE_TIMEOUT),
        binary: match c.binary.as_ref().map(|b| b.value) {
            None | Some(RawBinary::Bytes) => BinaryFrames::Bytes,
            Some(RawBinary::Json) => BinaryFrames::Json,
        },
        max_message_size: size(cx, &c.max_message_size, "connect.max_message_size"),
        max_frame_size: size(cx, &c.max_frame_size, "connect.max_frame_size"),
        follow_redirects: follow_redirects(cx, &c.follow_redirects),
    }
}

/// `connect.credential_headers`: names of headers written in `connect.headers`, lowercase.
fn credential_headers(
    cx: &mut Ctx<'_>,
    raw: &[S<String>],
    headers: &[(String, String)],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in raw {
        let lower = name.value.to_ascii_lowercase();
        if headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(&lower)) {
            if !out.contains(&lower) {
                out.push(lower);
            }
            continue;
        }
        let hint =
            crate::diagnostic::did_you_mean(&name.value, headers.iter().map(|(h, _)| h.as_str()))
                .map(|h| format!("did you mean `{h}`? "))
                .unwrap_or_default();
        cx.error(
            pos(name),
            "connect.credential_headers",
            format!("`{}` is not a header of `connect.headers`", name.value),
        )
        .help = Some(format!(
            "{hint}list the names of headers written in `connect.headers` whose values are credentials{}",
            if headers.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    headers
                        .iter()
                        .map(|(h, _)| h.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    out
}

/// The most redirects `connect.follow_redirects` may ask for.
pub(crate) const MAX_FOLLOW_REDIRECTS: u64 = 10;

/// `connect.follow_redirects`: a whole number of hops from 0 to [`MAX_FOLLOW_REDIRECTS`].
fn follow_redirects(cx: &mut Ctx<'_>, raw: &Option<S<Value>>) -> u8 {
    let Some(s) = raw else { return 0 };
    match s.value.as_u64() {
        Some(n) if n <= MAX_FOLLOW_REDIRECTS => u8::try_from(n).unwrap_or(0),
        _ => {
            let shown = match &s.value {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            cx.error(
                pos(s),
                "connect.follow_redirects",
                format!("`{shown}` is not a number of redirects"),
            )
            .help = Some(format!(
                "write how many same-origin redirects to follow, from 0 (the default: none) to {MAX_FOLLOW_REDIRECTS}"
            ));
            0
        }
    }
}

/// A size limit (`1048576`, `64KiB`, `16MiB`); `None` when not written or invalid.
fn size(cx: &mut Ctx<'_>, raw: &Option<S<Value>>, field: &str) -> Option<usize> {
    let s = raw.as_ref()?;
    match crate::size::parse_value(&s.value) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            cx.error(pos(s), field, e.to_string()).help = Some(crate::size::HELP.into());
            None
        }
    }
}

/// The closing handshake `connect` asks for (`close_timeout`, `expect_clean_close`).
pub(super) fn closing_plan(cx: &mut Ctx<'_>, c: &RawConnect) -> ClosingPlan {
    ClosingPlan {
        timeout: c.close_timeout.as_ref().map(|_| {
            cx.duration(
                &c.close_timeout,
                "connect.close_timeout",
                DEFAULT_CLOSE_TIMEOUT,
            )
        }),
        expect_clean: c.expect_clean_close,
    }
}

pub(super) fn handshake_plan(
    cx: &mut Ctx<'_>,
    h: &S<RawHandshake>,
    connect: &ConnectPlan,
) -> HandshakePlan {
    match &h.value {
        RawHandshake::Accepted => HandshakePlan::Accepted(AcceptedExpectation::default()),
        RawHandshake::AcceptedWith(a) => {
            HandshakePlan::Accepted(accepted_expectation(cx, a, connect, pos(h)))
        }
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

/// `handshake: {accepted: ...}`: the subprotocol and header patterns, with the misuses caught
/// here rather than by a run that cannot pass (a subprotocol the scenario never offers, a
/// header name that cannot exist or is listed twice, a list where a value is a string).
fn accepted_expectation(
    cx: &mut Ctx<'_>,
    a: &RawAccepted,
    connect: &ConnectPlan,
    section: Pos,
) -> AcceptedExpectation {
    let at = |p: Pos| if p.is_known() { p } else { section };
    let subprotocol = a.subprotocol.as_ref().and_then(|p| {
        let field = "handshake.accepted.subprotocol";
        let value = scalar_text(&p.value);
        let pattern = string_pattern(cx, &value, at(pos(p)), field)?;
        let token_prefix = match &connect.token_in {
            TokenPlacement::Subprotocol(prefix) => Some(prefix.as_str()),
            _ => None,
        };
        if connect.subprotocols.is_empty()
            && token_prefix.is_none()
            && !pattern.matches(&Value::Null)
        {
            cx.error(
                at(pos(p)),
                field,
                "the scenario expects a subprotocol but offers none",
            )
            .help = Some(
                "a server selects only a subprotocol the client offers: list them in \
                 `connect.subprotocols`, or expect `subprotocol: null`"
                    .into(),
            );
        } else if let Value::String(name) = &value
            && !connect.subprotocols.contains(name)
            && !token_prefix.is_some_and(|prefix| name.starts_with(prefix))
        {
            let offered: Vec<String> = token_prefix
                .map(|prefix| format!("{prefix}<token>"))
                .into_iter()
                .chain(connect.subprotocols.iter().cloned())
                .collect();
            cx.error(
                at(pos(p)),
                field,
                format!("the scenario expects subprotocol `{name}`, which it does not offer"),
            )
            .help = Some(format!(
                "a server selects only a subprotocol the client offers: add `{name}` to \
                 `connect.subprotocols` (offered: {})",
                offered.join(", ")
            ));
        }
        Some(pattern)
    });
    let mut headers: Vec<(String, Pattern)> = Vec::new();
    for (name, p) in &a.headers {
        let field = format!("handshake.accepted.headers.{name}");
        let lower = name.to_ascii_lowercase();
        if !is_header_name(name) {
            cx.error(
                at(pos(p)),
                &field,
                format!("`{name}` is not an HTTP header name"),
            )
            .help =
                Some("a header name is letters, digits and `-` (or one of !#$%&'*+.^_`|~)".into());
        } else if headers.iter().any(|(n, _)| *n == lower) {
            cx.error(
                at(pos(p)),
                &field,
                format!("header `{name}` is listed twice (header names are case-insensitive)"),
            );
        } else if let Some(pattern) = string_pattern(cx, &scalar_text(&p.value), at(pos(p)), &field)
        {
            headers.push((lower, pattern));
        }
    }
    AcceptedExpectation {
        subprotocol,
        headers,
    }
}

/// A number or boolean as the text a header carries (`x-version: 2` means `"2"`).
fn scalar_text(v: &Value) -> Value {
    match v {
        Value::Number(_) | Value::Bool(_) => Value::String(v.to_string()),
        other => other.clone(),
    }
}

/// A pattern for a value that is a string or absent (`null`): a list can never match one.
fn string_pattern(cx: &mut Ctx<'_>, value: &Value, at: Pos, field: &str) -> Option<Pattern> {
    if value.is_array() {
        cx.error(
            at,
            field,
            "a list never matches here: the value is a string (or null when absent)",
        )
        .help = Some("to accept any of several values, write `{one_of: [a, b]}`".into());
        return None;
    }
    cx.pattern(value, at, field)
}

/// Whether `name` is an HTTP field name (RFC 9110 `token`).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::{HandshakePlan, parse};

    /// The handshake plan of a scenario offering `agent.v1`, or its diagnostics' messages.
    fn handshake(yaml: &str) -> Result<HandshakePlan, Vec<String>> {
        let text = format!("connect: {{subprotocols: [agent.v1]}}\nhandshake: {yaml}\n");
        parse(&text, Path::new("t.yaml"), "t")
            .map(|p| p.handshake)
            .map_err(|ds| ds.into_iter().map(|d| d.message).collect())
    }

    fn accepted(yaml: &str) -> (Option<serde_json::Value>, Vec<String>) {
        match handshake(yaml) {
            Ok(HandshakePlan::Accepted(e)) => (
                e.subprotocol.map(|p| p.raw().clone()),
                e.headers.into_iter().map(|(n, _)| n).collect(),
            ),
            other => panic!("{yaml}: not accepted: {other:?}"),
        }
    }

    #[test]
    fn accepted_is_written_bare_as_null_or_with_what_the_101_carries() {
        assert_eq!(accepted("accepted"), (None, vec![]));
        assert_eq!(accepted("{accepted: null}"), (None, vec![]));
        assert_eq!(accepted("{accepted: {}}"), (None, vec![]));
        assert_eq!(
            accepted("{accepted: {subprotocol: null}}"),
            (Some(serde_json::Value::Null), vec![])
        );
        assert_eq!(
            accepted("{accepted: {subprotocol: agent.v1, headers: {X-Id: 1, server: null}}}"),
            (
                Some(serde_json::json!("agent.v1")),
                vec!["x-id".to_owned(), "server".to_owned()]
            )
        );
        assert!(matches!(handshake("timeout"), Ok(HandshakePlan::Timeout)));
        assert!(matches!(
            handshake("{timeout: null}"),
            Ok(HandshakePlan::Timeout)
        ));
        assert!(matches!(
            handshake("{rejected: 403}"),
            Ok(HandshakePlan::Rejected { .. })
        ));
        assert!(matches!(
            handshake("{closed: {code: 1008}}"),
            Ok(HandshakePlan::Closed(_))
        ));
    }

    #[test]
    fn misuses_are_reported_before_a_run() {
        let first = |yaml: &str| handshake(yaml).err().unwrap_or_default().join("\n");
        assert!(first("{accepted: {subprotocol: graphql-ws}}").contains("does not offer"));
        assert!(first("{accepted: {headers: {a b: x}}}").contains("not an HTTP header name"));
        assert!(first("{accepted: {headers: {X-A: x, x-a: y}}}").contains("listed twice"));
        assert!(first("{accepted: {headers: {x: [a, b]}}}").contains("a list never matches"));
        assert!(first("{accepted: {subprotcol: x}}").contains("unknown field `subprotcol`"));
        assert!(first("acepted").contains("unknown variant `acepted`"));
        assert!(first("rejected").contains("needs a status"));
        assert!(first("{accepted: null, timeout: null}").contains("a single key"));
    }

    #[test]
    fn a_subprotocol_the_token_entry_carries_is_offered() {
        let text = "auth: {jwt: {secret: jwt}}\nconnect: {token_in: {subprotocol: jwt.}}\n\
                    handshake: {accepted: {subprotocol: {regex: '^jwt\\.'}}}\n";
        assert!(parse(text, Path::new("t.yaml"), "t").is_ok());
        let text = "handshake: {accepted: {subprotocol: {regex: '^graphql'}}}\n";
        let messages: Vec<String> = parse(text, Path::new("t.yaml"), "t")
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.message)
            .collect();
        assert_eq!(
            messages,
            ["the scenario expects a subprotocol but offers none"]
        );
    }
}
