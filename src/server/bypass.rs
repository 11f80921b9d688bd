//! The E2E bypass endpoints of the staging auth service: `POST /auth/e2e/test-auth` creates
//! (or finds, by email) a user and mints a token for it; `DELETE /auth/e2e/users/{id}` removes
//! a user. Both need `X-E2E-Bypass-Key`, compared in constant time.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::reply::detail;
use super::secrets::fingerprint;
use super::state::AppState;

/// Header carrying the bypass key.
pub(super) const BYPASS_HEADER: &str = "x-e2e-bypass-key";

/// Body of `POST /auth/e2e/test-auth`.
#[derive(Debug, Deserialize)]
pub(super) struct TestAuthRequest {
    /// Identifies the user; the same email gets the same user id.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// 404 when the bypass is disabled, 401 when the key is missing or wrong.
fn check_key(state: &AppState, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
    if !state.bypass_enabled() {
        return Err((StatusCode::NOT_FOUND, "E2E bypass not enabled"));
    }
    let offered = headers
        .get(BYPASS_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if offered.is_empty() || !state.bypass_key_matches(offered) {
        tracing::info!("e2e bypass refused: invalid key");
        return Err((StatusCode::UNAUTHORIZED, "Invalid E2E bypass key"));
    }
    Ok(())
}

/// `POST /auth/e2e/test-auth` → 200 `{"access_token","user_id","email","expires_in"}`.
pub(super) async fn test_auth(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<TestAuthRequest>, JsonRejection>,
) -> Response {
    if let Err((status, text)) = check_key(&state, &headers) {
        return detail(status, text);
    }
    let Ok(Json(request)) = body else {
        return detail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request body");
    };
    let email = request.email.trim();
    if email.is_empty() {
        return detail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request body");
    }
    let (user, created) = state.users.ensure(email, request.name.as_deref());
    let Some((token, expires_in)) = state.auth.mint(&user.id, &user.email, user.name.as_deref())
    else {
        return detail(StatusCode::INTERNAL_SERVER_ERROR, "Token minting failed");
    };
    tracing::info!(
        user_id = %user.id,
        created,
        token_fingerprint = %fingerprint(&token),
        "e2e token issued"
    );
    let body = json!({
        "access_token": token,
        "user_id": user.id,
        "email": user.email,
        "expires_in": expires_in,
    });
    (StatusCode::OK, Json(body)).into_response()
}

/// `DELETE /auth/e2e/users/{id}` → 200 `{"deleted": id}` or 404 "User not found".
pub(super) async fn delete_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err((status, text)) = check_key(&state, &headers) {
        return detail(status, text);
    }
    if state.users.remove(&id) {
        tracing::info!(user_id = %id, "e2e user deleted");
        (StatusCode::OK, Json(json!({ "deleted": id }))).into_response()
    } else {
        detail(StatusCode::NOT_FOUND, "User not found")
    }
}
