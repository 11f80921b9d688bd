//! Owns performing the upgrade: TCP, TLS (rustls with the system's roots, as
//! tokio-tungstenite does, loaded once per process at the first `wss://` or `https://`), the
//! HTTP/1.1 exchange and RFC 6455's checks of the 101.
//!
//! It replaces `tokio_tungstenite::connect_async` for one reason: tungstenite fails a 101 that
//! selects none of the offered subprotocols (`SubProtocolError::NoSubProtocol`), which RFC 6455
//! (§4.1, §4.2.2) allows. Here that 101 is an open connection with no subprotocol, and only a
//! scenario's assertion (`handshake: {accepted: {subprotocol: ...}}`) can fail it. Everything
//! else is what tungstenite does, with tungstenite's own pieces (`generate_request`,
//! `derive_accept_key`, its response parser) and its error values, so failures are classified
//! and worded as before.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::uri_mode;
use tokio_tungstenite::tungstenite::error::{
    Error as WsError, ProtocolError, SubProtocolError, TlsError, UrlError,
};
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response, generate_request};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::handshake::machine::TryParse;
use tokio_tungstenite::tungstenite::http::{HeaderMap, StatusCode};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::stream::Mode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Ws;
use crate::http::roots;
use crate::size::Limits;

/// Longest response head read before giving up (tungstenite's parser allows 124 headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The subprotocols `request` offers, in order (`Sec-WebSocket-Protocol`, comma-separated).
pub(super) fn offered_subprotocols(request: &Request) -> Vec<String> {
    let mut offered = Vec::new();
    for value in request.headers().get_all("sec-websocket-protocol") {
        let value = String::from_utf8_lossy(value.as_bytes());
        offered.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    offered
}

/// The read buffer a connection allocates at once. tungstenite's default, 128 KiB, is at
/// glibc's threshold for a fresh `mmap`: every connection mapped it, faulted its pages in and
/// unmapped it (a twentieth of a scenario's CPU).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// The WebSocket configuration enforcing `limits`: a frame is refused from its header when
/// it declares more than the frame limit (or the whole message limit), so a huge declared
/// length is never allocated; fragments are refused once they add up to more than the
/// message limit. The read buffer starts at [`READ_BUFFER_BYTES`] and grows for bigger
/// messages.
pub(crate) fn ws_config(limits: Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.effective_frame_size()))
}

/// Opens the TCP connection with `TCP_NODELAY` set: a message is sent when written, not held
/// until the server acknowledges the previous one (Nagle's algorithm), so timings and races
/// are those of a real client.
pub(crate) async fn tcp_connect(addr: &str) -> std::io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// Connects and upgrades. `Err(WsError::Http(..))` is an answer other than 101 (its body holds
/// the bytes that came with the head); other errors are what tungstenite would report.
/// `head_bytes` counts the response bytes read so far, for the report of a timeout;
/// `deadline` is the handshake's (the caller gives up then), which a refusal's body must not
/// reach: a refusal stays a refusal.
pub(super) async fn upgrade(
    request: Request,
    head_bytes: &AtomicUsize,
    limits: Limits,
    deadline: tokio::time::Instant,
) -> Result<(Ws, Response), WsError> {
    let mode = uri_mode(request.uri())?;
    let host = request
        .uri()
        .host()
        .ok_or(WsError::Url(UrlError::NoHostName))?;
    // rustls expects IPv6 addresses without the brackets.
    let domain = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_owned();
    let port = request.uri().port_u16().unwrap_or(match mode {
        Mode::Plain => 80,
        Mode::Tls => 443,
    });
    let offered = offered_subprotocols(&request);
    let (head, key) = generate_request(request)?;
    let tcp = tcp_connect(&format!("{domain}:{port}"))
        .await
        .map_err(WsError::Io)?;
    let mut stream = match mode {
        Mode::Plain => MaybeTlsStream::Plain(tcp),
        Mode::Tls => MaybeTlsStream::Rustls(tls(&domain, tcp).await?),
    };
    stream.write_all(&head).await?;
    stream.flush().await?;
    let (response, tail) = read_head(&mut stream, head_bytes).await?;
    let response = match verify(response, &key, &offered) {
        Ok(r) => r,
        Err(WsError::Http(mut r)) => {
            let body = read_rejection_body(&mut stream, &r, tail, deadline).await;
            *r.body_mut() = Some(body);
            return Err(WsError::Http(r));
        }
        Err(e) => return Err(e),
    };
    let ws =
        WebSocketStream::from_partially_read(stream, tail, Role::Client, Some(ws_config(limits)))
            .await;
    Ok((ws, response))
}

/// The client TLS configuration: the process's (`http::tls_config`), with the system's root
/// certificates, loaded once, at the first TLS connection.
fn tls_config() -> Result<Arc<ClientConfig>, WsError> {
    let not_found = |e: String| WsError::Io(std::io::Error::new(ErrorKind::NotFound, e));
    roots().map_err(not_found)?;
    crate::http::tls_config().map_err(not_found)
}

async fn tls(domain: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>, WsError> {
    let name = ServerName::try_from(domain.to_owned())
        .map_err(|_| WsError::Tls(TlsError::InvalidDnsName))?;
    TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(WsError::Io)
}

/// Reads up to the end of the response head; returns it and the bytes that followed it.
async fn read_head(
    stream: &mut MaybeTlsStream<TcpStream>,
    head_bytes: &AtomicUsize,
) -> Result<(Response, Vec<u8>), WsError> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        if let Some((len, response)) = Response::try_parse(&buf)? {
            let tail = buf.split_off(len);
            return Ok((response, tail));
        }
        if buf.len() >= MAX_HEAD_BYTES {
            return Err(WsError::AttackAttempt);
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(WsError::Protocol(ProtocolError::HandshakeIncomplete));
        }
        head_bytes.store(buf.len(), Ordering::Relaxed);
    }
}

/// Longest rejection body read (a report quotes at most 2 KiB of it anyway).
const MAX_REJECTION_BODY: usize = 64 * 1024;
/// Longest wait for the rest of a rejection body after its head.
const REJECTION_BODY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Longest wait for a body without `Content-Length` (it ends only when the connection does,
/// which a misbehaving server may never do).
const UNDELIMITED_BODY_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
/// Kept between the end of that wait and the handshake's deadline.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(50);

/// The body of a refusal: `tail` (what came with the head) and what follows, up to its
/// `Content-Length` (or the end of the connection without one; nothing more for a chunked
/// body), at most [`MAX_REJECTION_BODY`] bytes, [`REJECTION_BODY_WAIT`]
/// ([`UNDELIMITED_BODY_WAIT`] without a length), and never up to the handshake's `deadline`.
/// A server may send the head and the body in separate segments.
async fn read_rejection_body(
    stream: &mut MaybeTlsStream<TcpStream>,
    response: &Response,
    mut tail: Vec<u8>,
    deadline: tokio::time::Instant,
) -> Vec<u8> {
    let headers = response.headers();
    let length = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    let chunked = has_token(headers, "transfer-encoding", "chunked");
    let want = match length {
        Some(n) => n.min(MAX_REJECTION_BODY),
        None if chunked => return tail,
        None => MAX_REJECTION_BODY,
    };
    let read = async {
        while tail.len() < want {
            match stream.read_buf(&mut tail).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let wait = if length.is_some() {
        REJECTION_BODY_WAIT
    } else {
        UNDELIMITED_BODY_WAIT
    };
    let until = (tokio::time::Instant::now() + wait)
        .min(deadline.checked_sub(DEADLINE_MARGIN).unwrap_or(deadline));
    let _ = tokio::time::timeout_at(until, read).await;
    tail.truncate(want);
    tail
}

/// Whether one of `name`'s comma-separated values is `token` (ASCII case-insensitive).
fn has_token(headers: &HeaderMap, name: &str, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// RFC 6455 §4.1's checks of the server's answer, as tungstenite makes them, except that a
/// 101 selecting no subprotocol is accepted.
fn verify(response: Response, key: &str, offered: &[String]) -> Result<Response, WsError> {
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(WsError::Http(Box::new(response)));
    }
    let headers = response.headers();
    if !has_token(headers, "upgrade", "websocket") {
        return Err(WsError::Protocol(
            ProtocolError::MissingUpgradeWebSocketHeader,
        ));
    }
    if !has_token(headers, "connection", "upgrade") {
        return Err(WsError::Protocol(
            ProtocolError::MissingConnectionUpgradeHeader,
        ));
    }
    if headers
        .get("sec-websocket-accept")
        .is_none_or(|v| v.as_bytes() != derive_accept_key(key.as_bytes()).as_bytes())
    {
        return Err(WsError::Protocol(
            ProtocolError::SecWebSocketAcceptKeyMismatch,
        ));
    }
    if let Some(selected) = headers.get("sec-websocket-protocol") {
        let selected = String::from_utf8_lossy(selected.as_bytes());
        let error = if offered.is_empty() {
            Some(SubProtocolError::ServerSentSubProtocolNoneRequested)
        } else if !offered.iter().any(|p| *p == selected) {
            Some(SubProtocolError::InvalidSubProtocol)
        } else {
            None
        };
        if let Some(e) = error {
            return Err(WsError::Protocol(
                ProtocolError::SecWebSocketSubProtocolError(e),
            ));
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut r = Response::new(None);
        *r.status_mut() = StatusCode::from_u16(status).expect("status");
        for (n, v) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName =
                n.parse().expect("header name");
            r.headers_mut()
                .append(name, v.parse().expect("header value"));
        }
        r
    }

    fn accepted(key: &str, protocol: Option<&str>) -> Response {
        let accept = derive_accept_key(key.as_bytes());
        let mut h = vec![
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-accept", accept.as_str()),
        ];
        h.extend(protocol.map(|p| ("sec-websocket-protocol", p)));
        response(101, &h)
    }

    fn protocol_error(r: Result<Response, WsError>) -> Option<SubProtocolError> {
        match r {
            Err(WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e))) => Some(e),
            _ => None,
        }
    }

    #[test]
    fn a_101_selecting_no_offered_subprotocol_is_accepted() {
        let offered = vec!["graphql-transport-ws".to_owned(), "graphql-ws".to_owned()];
        assert!(verify(accepted("k", None), "k", &offered).is_ok());
        assert!(verify(accepted("k", Some("graphql-ws")), "k", &offered).is_ok());
        assert_eq!(
            protocol_error(verify(accepted("k", Some("agent.v1")), "k", &offered)),
            Some(SubProtocolError::InvalidSubProtocol)
        );
        assert_eq!(
            protocol_error(verify(accepted("k", Some("agent.v1")), "k", &[])),
            Some(SubProtocolError::ServerSentSubProtocolNoneRequested)
        );
    }

    #[test]
    fn the_other_rfc_6455_checks_stay() {
        assert!(matches!(
            verify(accepted("k", None), "other", &[]),
            Err(WsError::Protocol(
                ProtocolError::SecWebSocketAcceptKeyMismatch
            ))
        ));
        assert!(matches!(
            verify(response(101, &[("connection", "upgrade")]), "k", &[]),
            Err(WsError::Protocol(
                ProtocolError::MissingUpgradeWebSocketHeader
            ))
        ));
        assert!(matches!(
            verify(response(403, &[]), "k", &[]),
            Err(WsError::Http(r)) if r.status() == 403
        ));
    }

    /// A loopback WebSocket server for one connection (port 0), bounded by the test's timeout.
    async fn one_connection() -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("ws://{}/ws", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            if let Ok((tcp, _)) = listener.accept().await
                && let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await
            {
                use futures_util::StreamExt;
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await;
            }
        });
        (url, server)
    }

    #[tokio::test]
    async fn the_client_socket_has_tcp_nodelay_and_the_configured_limits() {
        let (url, server) = one_connection().await;
        let request = url.as_str().into_client_request().expect("request");
        let limits = Limits::default().with(Some(1024), Some(4096));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let (ws, _) = tokio::time::timeout_at(
            deadline,
            upgrade(request, &AtomicUsize::new(0), limits, deadline),
        )
        .await
        .expect("in time")
        .expect("upgraded");
        match ws.get_ref() {
            MaybeTlsStream::Plain(tcp) => assert!(tcp.nodelay().expect("nodelay")),
            _ => panic!("a ws:// connection is plain TCP"),
        }
        assert_eq!(ws.get_config().max_message_size, Some(1024));
        // A frame larger than the whole message limit is refused from its header too.
        assert_eq!(ws.get_config().max_frame_size, Some(1024));
        drop(ws);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    }

    #[test]
    fn offered_subprotocols_are_split_and_trimmed() {
        let mut req = "ws://h/ws".into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "jwt.t, graphql-ws ,agent.v1".parse().expect("value"),
        );
        assert_eq!(
            offered_subprotocols(&req),
            ["jwt.t", "graphql-ws", "agent.v1"]
        );
    }
}
