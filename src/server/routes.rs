//! The HTTP surface: the router, `GET /health`, the JSON 404 fallback, and `GET /ws`, which
//! validates the token BEFORE the upgrade and either rejects (403, silent hold, or accept-then-
//! close, per the options) or upgrades into a session.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::Rejection;
use super::bypass;
use super::extract::credentials;
use super::message_auth;
use super::reply::{close_with, detail};
use super::session;
use super::state::{AppState, HeldFlag};

/// Read buffer per WebSocket (grows when a client sends more); keeps idle connections small.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Largest message accepted from a client.
const MAX_CLIENT_MESSAGE_BYTES: usize = 1 << 20;

/// All routes of the reference server.
pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(ws_handler))
        .route("/health", get(health))
        .route("/auth/e2e/test-auth", post(bypass::test_auth))
        .route("/auth/e2e/users/{id}", delete(bypass::delete_user))
        .fallback(not_found)
        .with_state(state)
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
        Some((token, _)) => state.authorize(token),
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
