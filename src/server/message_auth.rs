//! Owns first-message authentication (`message_auth`): the upgrade is accepted without a
//! token, the first frame must be `{"type": "auth", "token": "..."}` within
//! [`AUTH_WINDOW`], and the token goes through the same checks as one sent in the
//! handshake. Accepted: `{"type": "auth_ok", "user_id": ...}` and the agent session.
//! Refused: a close 1008 whose reason is the rejection detail.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use serde_json::{Value, json};

use super::auth::Rejection;
use super::reply::close_with;
use super::session;
use super::state::{AppState, TaskToken};

/// How long the server waits for the auth message.
pub(super) const AUTH_WINDOW: Duration = Duration::from_secs(5);
/// Policy violation: the close code for a refused or missing auth message.
const POLICY_VIOLATION: u16 = 1008;

pub(super) async fn run(mut socket: WebSocket, state: AppState, token: TaskToken) {
    let first = tokio::select! {
        r = tokio::time::timeout(AUTH_WINDOW, socket.recv()) => r,
        () = state.stopped() => return,
    };
    let text = match first {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return,
        Ok(Some(Ok(_))) => {
            close_with(socket, &state, POLICY_VIOLATION, "Expected an auth message").await;
            return;
        }
        Err(_) => {
            close_with(socket, &state, POLICY_VIOLATION, "No auth message").await;
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
            tracing::info!(detail = %detail, "auth message rejected");
            close_with(socket, &state, POLICY_VIOLATION, &detail).await;
        }
    }
}
