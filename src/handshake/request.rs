//! Owns building the upgrade request: URL from the environment base and the scenario's
//! path or URL, query parameters, headers, subprotocols, and the token in its place.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Request};

use super::HandshakeError;
use crate::scenario::{ConnectPlan, Target, TokenPlacement};
use crate::template::Resolve;
use crate::transcript::percent_encode;

/// Request headers the transcript shows (the generated ones vary per run).
pub(crate) const SHOWN_REQUEST_HEADERS_SKIP: [&str; 5] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
];

fn render(s: &str, ctx: &dyn Resolve) -> Result<String, HandshakeError> {
    let t = crate::template::Template::parse(s).map_err(|e| HandshakeError::Template(e.message))?;
    t.render_string(ctx)
        .map_err(|e| HandshakeError::Template(e.to_string()))
}

/// Builds the client request. `token` is placed as `plan.token_in` says.
pub(crate) fn build(
    plan: &ConnectPlan,
    ws_base: &str,
    token: Option<&str>,
    ctx: &dyn Resolve,
) -> Result<Request<()>, HandshakeError> {
    let mut url = match &plan.target {
        Target::Url(u) => render(u, ctx)?,
        Target::Path(p) => format!("{}{}", ws_base.trim_end_matches('/'), render(p, ctx)?),
    };
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in &plan.query {
        query.push((k.clone(), render(v, ctx)?));
    }
    if let (TokenPlacement::Query(param), Some(t)) = (&plan.token_in, token) {
        query.push((param.clone(), t.to_string()));
    }
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        let pairs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        url.push_str(&pairs.join("&"));
    }
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| HandshakeError::Url {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let headers = req.headers_mut();
    let mut put = |name: &str, value: String| -> Result<(), HandshakeError> {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HandshakeError::Header(name.to_string()))?;
        let v =
            HeaderValue::from_str(&value).map_err(|_| HandshakeError::Header(name.to_string()))?;
        headers.insert(n, v);
        Ok(())
    };
    for (k, v) in &plan.headers {
        put(k, render(v, ctx)?)?;
    }
    let mut protocols = plan.subprotocols.clone();
    match (&plan.token_in, token) {
        (TokenPlacement::Header, Some(t)) => put("authorization", format!("Bearer {t}"))?,
        (TokenPlacement::NamedHeader { name, scheme }, Some(t)) => put(
            name,
            scheme
                .as_ref()
                .map_or_else(|| t.to_owned(), |s| format!("{s} {t}")),
        )?,
        (TokenPlacement::Subprotocol(prefix), Some(t)) => {
            protocols.insert(0, format!("{prefix}{t}"))
        }
        (TokenPlacement::Cookie(name), Some(t)) => put("cookie", format!("{name}={t}"))?,
        // The query token is placed with the URL above; a message token is sent after the
        // upgrade by a step (`{{ auth.token }}`); without a credential nothing is placed.
        (TokenPlacement::Query(_) | TokenPlacement::Message, _)
        | (
            TokenPlacement::Header
            | TokenPlacement::NamedHeader { .. }
            | TokenPlacement::Subprotocol(_)
            | TokenPlacement::Cookie(_),
            None,
        ) => {}
    }
    if !protocols.is_empty() {
        put("sec-websocket-protocol", protocols.join(", "))?;
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::template::MapResolver;

    fn plan(target: Target, query: &[(&str, &str)], token_in: TokenPlacement) -> ConnectPlan {
        ConnectPlan {
            target,
            headers: Vec::new(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            subprotocols: Vec::new(),
            token_in,
            credential_headers: Vec::new(),
            timeout: Duration::from_secs(1),
            binary: crate::scenario::BinaryFrames::Bytes,
            max_message_size: None,
            max_frame_size: None,
            follow_redirects: 0,
        }
    }

    fn url(plan: &ConnectPlan, ws_base: &str, token: Option<&str>) -> String {
        build(plan, ws_base, token, &MapResolver::new("run"))
            .expect("builds")
            .uri()
            .to_string()
    }

    #[test]
    fn query_parameters_are_percent_encoded_after_the_path() {
        let p = plan(
            Target::Path("/ws".into()),
            &[("q", "a b/c+é~*"), ("k&=", "v")],
            TokenPlacement::Query("tok en".into()),
        );
        assert_eq!(
            url(&p, "ws://h:1/", Some("t.o-k_")),
            "ws://h:1/ws?q=a%20b%2Fc%2B%C3%A9~%2A&k%26%3D=v&tok%20en=t.o-k_"
        );
        let p = plan(
            Target::Url("ws://h:1/ws?x=1".into()),
            &[("q", "1")],
            TokenPlacement::Header,
        );
        assert_eq!(url(&p, "", Some("t")), "ws://h:1/ws?x=1&q=1");
        let p = plan(Target::Path("/ws".into()), &[], TokenPlacement::Header);
        assert_eq!(url(&p, "ws://h:1", None), "ws://h:1/ws");
    }

    #[test]
    fn a_named_header_carries_the_token_with_or_without_a_scheme() {
        let header = |scheme: Option<&str>| {
            let p = plan(
                Target::Path("/ws".into()),
                &[],
                TokenPlacement::NamedHeader {
                    name: "x-api-key".into(),
                    scheme: scheme.map(str::to_owned),
                },
            );
            let req = build(&p, "ws://h:1", Some("k3y"), &MapResolver::new("run")).expect("builds");
            assert!(req.headers().get("authorization").is_none());
            req.headers()
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header(None).as_deref(), Some("k3y"));
        assert_eq!(header(Some("token")).as_deref(), Some("token k3y"));
    }
}
