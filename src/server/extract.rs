//! Where the upgrade request's token comes from and which subprotocol is selected.
//!
//! Order: `Authorization: Bearer <t>`, query `?token=<t>`, a `Sec-WebSocket-Protocol` entry
//! `jwt.<t>`, cookie `token=<t>`, `X-Api-Key: <t>`. A `jwt.` entry, when offered, is always the selected
//! subprotocol (echoed back); otherwise the first offered protocol the server supports.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE, SEC_WEBSOCKET_PROTOCOL};

/// Subprotocols the server speaks besides `jwt.<token>`.
pub(crate) const SUPPORTED_PROTOCOLS: &[&str] = &["agent.v1"];

/// Prefix of a subprotocol entry carrying a token.
pub(crate) const JWT_PROTOCOL_PREFIX: &str = "jwt.";

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenSource {
    /// `Authorization: Bearer`.
    Header,
    /// `?token=`.
    Query,
    /// `Sec-WebSocket-Protocol: jwt.<t>`.
    Subprotocol,
    /// `Cookie: token=`.
    Cookie,
    /// `X-Api-Key: <t>`.
    ApiKeyHeader,
}

impl TokenSource {
    /// Short name used in logs.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Header => "authorization header",
            Self::Query => "query",
            Self::Subprotocol => "subprotocol",
            Self::Cookie => "cookie",
            Self::ApiKeyHeader => "x-api-key header",
        }
    }
}

/// What the upgrade request offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Credentials {
    /// The token and where it came from; `None` when none was found.
    pub token: Option<(String, TokenSource)>,
    /// The subprotocol to echo back, if any.
    pub protocol: Option<String>,
}

/// Reads the token and picks the subprotocol. `query_token` is the decoded `token` query value.
pub(super) fn credentials(headers: &HeaderMap, query_token: Option<String>) -> Credentials {
    let offered = offered_protocols(headers);
    let jwt_entry = offered
        .iter()
        .find(|p| p.starts_with(JWT_PROTOCOL_PREFIX) && p.len() > JWT_PROTOCOL_PREFIX.len());
    let protocol = jwt_entry.cloned().or_else(|| {
        offered
            .iter()
            .find(|p| SUPPORTED_PROTOCOLS.contains(&p.as_str()))
            .cloned()
    });
    let token = bearer(headers)
        .map(|t| (t, TokenSource::Header))
        .or_else(|| {
            query_token
                .filter(|t| !t.is_empty())
                .map(|t| (t, TokenSource::Query))
        })
        .or_else(|| {
            jwt_entry.map(|p| {
                (
                    p[JWT_PROTOCOL_PREFIX.len()..].to_owned(),
                    TokenSource::Subprotocol,
                )
            })
        })
        .or_else(|| cookie_token(headers).map(|t| (t, TokenSource::Cookie)))
        .or_else(|| api_key_header(headers).map(|t| (t, TokenSource::ApiKeyHeader)));
    Credentials { token, protocol }
}

/// Every offered subprotocol, in the order the client sent them.
fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bare token of an `X-Api-Key` header.
fn api_key_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("x-api-key")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .find(|t| !t.is_empty())
        .map(str::to_owned)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get_all(AUTHORIZATION).iter().find_map(|v| {
        let v = v.to_str().ok()?.trim();
        let (scheme, rest) = v.split_once(' ')?;
        let token = rest.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
    })
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            let value = value.trim().trim_matches('"');
            (name.trim() == "token" && !value.is_empty()).then(|| value.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn precedence_header_query_protocol_cookie() {
        let h = headers(&[
            ("authorization", "Bearer H"),
            ("sec-websocket-protocol", "agent.v1, jwt.P"),
            ("cookie", "a=b; token=C"),
        ]);
        let c = credentials(&h, Some("Q".into()));
        assert_eq!(c.token, Some(("H".into(), TokenSource::Header)));
        assert_eq!(c.protocol.as_deref(), Some("jwt.P"));
        let h = headers(&[("sec-websocket-protocol", "jwt.P"), ("cookie", "token=C")]);
        assert_eq!(
            credentials(&h, None).token,
            Some(("P".into(), TokenSource::Subprotocol))
        );
        let h = headers(&[("cookie", "a=b; token=C")]);
        assert_eq!(
            credentials(&h, None).token,
            Some(("C".into(), TokenSource::Cookie))
        );
        assert_eq!(
            credentials(&h, Some("Q".into())).token,
            Some(("Q".into(), TokenSource::Query))
        );
        let h = headers(&[("x-api-key", " K ")]);
        assert_eq!(
            credentials(&h, None).token,
            Some(("K".into(), TokenSource::ApiKeyHeader))
        );
    }

    #[test]
    fn protocol_selection_without_jwt_entry() {
        let h = headers(&[("sec-websocket-protocol", "graphql-ws, agent.v1")]);
        let c = credentials(&h, None);
        assert_eq!(c.protocol.as_deref(), Some("agent.v1"));
        assert_eq!(c.token, None);
        let h = headers(&[("authorization", "Basic abc")]);
        assert_eq!(credentials(&h, None).token, None);
    }
}
