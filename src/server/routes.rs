//! The HTTP surface: the router, `GET /health`, the JSON 404 fallback, and `GET /ws`, which
//! validates the token BEFORE the upgrade and either rejects (403, silent hold, or accept-then-
//! close, per the options) or upgrades into a session.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Principal, Rejection};
use super::bypass;
use super::extract::credentials;
use super::message_auth;
use super::session;
use super::state::{AppState, HeldFlag};

/// Read buffer per WebSocket (grows when a client sends more); keeps idle connections small.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Largest message accepted from a client.
const MAX_CLIENT_MESSAGE_BYTES: usize = 1 << 20;
/// How long a close handshake the server started may take before the socket is dropped.
pub const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// Close reasons are limited to 123 bytes by RFC 6455.
const MAX_CLOSE_REASON: usize = 123;

/// All routes of the reference server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(ws_handler))
        .route("/health", get(health))
        .route("/auth/e2e/test-auth", post(bypass::test_auth))
        .route("/auth/e2e/users/{id}", delete(bypass::delete_user))
        .fallback(not_found)
        .with_state(state)
}

/// `{"detail": "..."}` with `status`.
pub fn detail(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

async fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

async fn health(State(state): State<AppState>) -> Response {
    let healthy = state.healthy.load(std::sync::atomic::Ordering::SeqCst);
    tracing::debug!(healthy, "health check");
    if healthy {
        (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
    } else {
        let body = Json(json!({ "status": "unavailable" }));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn ws_handler(
    State(state): State<AppState>,
    held: Option<Extension<HeldFlag>>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let mut upgrade = match upgrade {
        Ok(upgrade) => upgrade
            .read_buffer_size(READ_BUFFER_BYTES)
            .max_message_size(MAX_CLIENT_MESSAGE_BYTES),
        Err(rejection) => {
            let status = rejection.status();
            return detail(status, &rejection.body_text());
        }
    };
    let query_token = query.ok().and_then(|Query(q)| q.token);
    let creds = credentials(&headers, query_token);
    if let Some(protocol) = creds.protocol.as_deref()
        && let Ok(value) = HeaderValue::from_str(protocol)
    {
        upgrade.set_selected_protocol(value);
    }
    let source = creds.token.as_ref().map(|(_, s)| s.as_str());
    if creds.token.is_none() && state.options.message_auth {
        let token = state.tracker.token();
        return upgrade.on_upgrade(move |socket| message_auth::run(socket, state, token));
    }
    let verdict = match &creds.token {
        None => Err(Rejection::NoToken),
        Some((token, _)) => authorize(&state, token),
    };
    match verdict {
        Ok(principal) => {
            tracing::debug!(user_id = %principal.user_id, source, "websocket accepted");
            let token = state.tracker.token();
            upgrade.on_upgrade(move |socket| session::run(socket, state, principal, token))
        }
        Err(rejection) => reject(state, upgrade, held, rejection, source).await,
    }
}

/// Token check plus, in staging mode, the known-and-active user check.
pub(super) fn authorize(state: &AppState, token: &str) -> Result<Principal, Rejection> {
    let principal = state.auth.authenticate(token)?;
    if state.options.require_known_users && !principal.api_key {
        state.users.check(&principal.user_id)?;
    }
    Ok(principal)
}

async fn reject(
    state: AppState,
    upgrade: WebSocketUpgrade,
    held: Option<Extension<HeldFlag>>,
    rejection: Rejection,
    source: Option<&str>,
) -> Response {
    let text = rejection.detail();
    tracing::info!(detail = %text, source, "websocket rejected");
    if state.options.silent_reject {
        // Never answer: the connection is held until the client gives up (hyper drops this
        // future when it sees EOF) or the server shuts down (the accept loop drops held
        // connections unanswered). Returning anything here would answer.
        if let Some(Extension(flag)) = held {
            flag.hold();
        }
        return std::future::pending().await;
    }
    if let Some(code) = state.options.close_after_accept {
        let token = state.tracker.token();
        return upgrade.on_upgrade(move |socket| async move {
            let _token = token;
            close_with(socket, &state, code, &text).await;
        });
    }
    detail(StatusCode::FORBIDDEN, &text)
}

/// Sends a Close frame and waits (bounded) for the client's answer.
pub async fn close_with(mut socket: WebSocket, state: &AppState, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: truncate(reason, MAX_CLOSE_REASON).into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    tokio::select! {
        _ = tokio::time::timeout(CLOSE_WAIT, drain) => {}
        () = state.stopped() => {}
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
