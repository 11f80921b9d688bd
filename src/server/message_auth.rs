//! Owns first-message authentication (`message_auth`): the upgrade is accepted without a
//! token, the first frame must be `{"type": "auth", "token": "..."}` within
//! `message_auth_timeout` (default 5s), and the token goes through the same checks as one sent
//! in the handshake. Accepted: `{"type": "auth_ok", "user_id": ...}` and the agent session.
//! Refused: a close with `message_auth_close_code` (default 1008) whose reason is the rejection
//! detail; no auth message in time: a close with `message_auth_timeout_close_code` (default
//! 1008) and the reason `No auth message`.

use axum::extract::ws::{Message, WebSocket};
use serde_json::{Value, json};

use super::auth::Rejection;
use super::reply::close_with;
use super::session;
use super::state::{AppState, TaskToken};

pub(super) async fn run(mut socket: WebSocket, state: AppState, token: TaskToken) {
    let options = &state.options;
    let (window, refused, timed_out) = (
        options.message_auth_timeout(),
        options.message_auth_close_code(),
        options.message_auth_timeout_close_code(),
    );
    let first = tokio::select! {
        r = tokio::time::timeout(window, socket.recv()) => r,
        () = state.stopped() => return,
    };
    let text = match first {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return,
        Ok(Some(Ok(_))) => {
            close_with(socket, &state, refused, "Expected an auth message").await;
            return;
        }
        Err(_) => {
            close_with(socket, &state, timed_out, "No auth message").await;
            return;
        }
    };
    let sent = serde_json::from_str::<Value>(text.as_str())
        .ok()
        .filter(|v| v.get("type").and_then(Value::as_str) == Some("auth"))
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
        .filter(|t| !t.is_empty());
    let verdict = match &sent {
        None => Err(Rejection::NoToken),
        Some(t) => state.authorize(t),
    };
    match verdict {
        Ok(principal) => {
            let ok = json!({"type": "auth_ok", "user_id": principal.user_id}).to_string();
            if socket.send(Message::Text(ok.into())).await.is_err() {
                return;
            }
            tracing::debug!(user_id = %principal.user_id, "websocket authenticated by message");
            session::run(socket, state, principal, token).await;
        }
        Err(rejection) => {
            let detail = rejection.detail();
            tracing::info!(detail = %detail, code = refused, "auth message rejected");
            close_with(socket, &state, refused, &detail).await;
        }
    }
}
