//! Reference server in staging mode: the E2E bypass exchange, known/active user checks,
//! user deletion, seed users inline and from a file.

use crate::support::*;
use serde_json::json;
use sockspec::server::{SeedUser, ServerConfig, ServerOptions, ServerSecrets};

fn staging() -> ServerOptions {
    ServerOptions {
        require_known_users: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn bypass_token_works_and_unknown_sub_is_user_not_found() {
    let server = start(staging()).await;
    let (status, body) = test_auth(&server, Some(BYPASS_KEY), "e2e@staging.example").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "e2e-user-1");
    assert_eq!(body["email"], "e2e@staging.example");
    assert_eq!(body["expires_in"], 900);
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["access_token", "user_id", "email", "expires_in"]);
    let access = body["access_token"].as_str().expect("token");

    let mut ws = connect(bearer(&server, access)).await;
    let events = run_flow(&mut ws, json!({"type": "user_message", "text": "hi"})).await;
    assert!(events.iter().all(|e| e["user_id"] == "e2e-user-1"));

    let (status, body) = rejected(bearer(&server, &token("test-user-90ee2de1"))).await;
    assert_eq!((status, body), (403, json!({"detail": "User not found"})));

    // Same email, same user; a new email, the next id.
    let (_, again) = test_auth(&server, Some(BYPASS_KEY), "e2e@staging.example").await;
    assert_eq!(again["user_id"], "e2e-user-1");
    let (_, other) = test_auth(&server, Some(BYPASS_KEY), "second@staging.example").await;
    assert_eq!(other["user_id"], "e2e-user-2");
    stop(server).await;
}

#[tokio::test]
async fn wrong_or_missing_bypass_key_is_401() {
    let server = start(staging()).await;
    for key in [
        Some("dev-e2e-oauth-bypass-key-for-testing-only"),
        Some(""),
        None,
    ] {
        let (status, body) = test_auth(&server, key, "e2e@staging.example").await;
        assert_eq!(
            (status, body),
            (401, json!({"detail": "Invalid E2E bypass key"}))
        );
    }
    stop(server).await;
}

#[tokio::test]
async fn bypass_is_404_when_no_key_is_configured() {
    let mut secrets = secrets();
    secrets.bypass_key = None;
    let server = start_with(ServerConfig {
        options: staging(),
        secrets,
    })
    .await;
    let (status, body) = test_auth(&server, Some(BYPASS_KEY), "e2e@staging.example").await;
    assert_eq!(
        (status, body),
        (404, json!({"detail": "E2E bypass not enabled"}))
    );
    stop(server).await;
}

#[tokio::test]
async fn deleted_user_is_rejected_afterwards() {
    let server = start(staging()).await;
    let (_, body) = test_auth(&server, Some(BYPASS_KEY), "gone@staging.example").await;
    let access = body["access_token"].as_str().expect("token").to_owned();
    let id = body["user_id"].as_str().expect("id").to_owned();
    connect(bearer(&server, &access)).await;

    let delete = |key: &'static str| {
        http()
            .delete(format!("{}/auth/e2e/users/{id}", server.http_base()))
            .header("X-E2E-Bypass-Key", key)
            .send()
    };
    let wrong = delete("nope").await.expect("answered");
    assert_eq!(wrong.status().as_u16(), 401);
    let resp = delete(BYPASS_KEY).await.expect("answered");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"deleted": id})
    );
    let (status, body) = rejected(bearer(&server, &access)).await;
    assert_eq!((status, body), (403, json!({"detail": "User not found"})));
    let again = delete(BYPASS_KEY).await.expect("answered");
    assert_eq!(again.status().as_u16(), 404);
    stop(server).await;
}

#[tokio::test]
async fn seed_users_inline_and_from_file() {
    let dir = std::env::temp_dir().join(format!("sockspec-users-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("users.yaml");
    std::fs::write(
        &file,
        "- {id: file-user, email: f@example.test}\n- {id: file-off, email: o@example.test, active: false}\n",
    )
    .expect("write users file");
    let server = start(ServerOptions {
        users: vec![SeedUser {
            id: "inline-user".into(),
            email: "i@example.test".into(),
            name: None,
            active: true,
        }],
        users_file: Some(file),
        ..staging()
    })
    .await;
    connect(bearer(&server, &token("inline-user"))).await;
    connect(bearer(&server, &token("file-user"))).await;
    let (status, body) = rejected(bearer(&server, &token("file-off"))).await;
    assert_eq!((status, body), (403, json!({"detail": "User inactive"})));
    stop(server).await;
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[tokio::test]
async fn outside_staging_mode_any_signed_sub_is_accepted() {
    let server = start(ServerOptions::default()).await;
    connect(bearer(&server, &token("never-registered"))).await;
    stop(server).await;
}

#[tokio::test]
async fn bad_configuration_is_reported_by_spawn() {
    let missing_file = ServerConfig {
        options: ServerOptions {
            users_file: Some("/nonexistent/users.yaml".into()),
            ..staging()
        },
        secrets: secrets(),
    };
    let error = sockspec::server::spawn(missing_file)
        .await
        .expect_err("missing file");
    assert!(
        error
            .to_string()
            .starts_with("read /nonexistent/users.yaml"),
        "{error}"
    );

    let no_way_in = ServerConfig {
        options: ServerOptions::default(),
        secrets: ServerSecrets::default(),
    };
    let error = sockspec::server::spawn(no_way_in)
        .await
        .expect_err("no secret");
    assert!(error.to_string().contains("jwt_secret is empty"), "{error}");
}
