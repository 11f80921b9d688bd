//! Owns the server's replies shared by its handlers and sessions: the JSON `{"detail": …}`
//! error body, and the close handshake the server starts (bounded by [`CLOSE_WAIT`], with the
//! reason cut to the 123 bytes RFC 6455 allows).

use std::time::Duration;

use axum::Json;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::AppState;

/// How long a close handshake the server started may take before the socket is dropped.
pub(super) const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// Close reasons are limited to 123 bytes by RFC 6455.
const MAX_CLOSE_REASON: usize = 123;

/// `{"detail": "..."}` with `status`.
pub(super) fn detail(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

/// Sends a Close frame and waits (bounded) for the client's answer. Sending is bounded too:
/// a client that stopped reading (full socket buffers) is given [`CLOSE_WAIT`], then dropped.
pub(super) async fn close_with(mut socket: WebSocket, state: &AppState, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: truncate(reason, MAX_CLOSE_REASON).into(),
    };
    let sent = tokio::time::timeout(CLOSE_WAIT, socket.send(Message::Close(Some(frame)))).await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    tokio::select! {
        _ = tokio::time::timeout(CLOSE_WAIT, drain) => {}
        () = state.stopped() => {}
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
pub(super) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
