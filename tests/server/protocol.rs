//! Reference server: the agent protocol after the upgrade (ping, echo, errors, disconnect,
//! close handshake, heartbeats), `/health`, shutdown, and user isolation under concurrency.

use std::time::{Duration, Instant};

use crate::support::*;
use futures_util::SinkExt;
use serde_json::json;
use sockspec::server::ServerOptions;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn ping_echo_and_errors() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-p"))).await;
    send_json(&mut ws, json!({"type": "ping", "id": {"n": 42}})).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(
        (pong["type"].as_str(), &pong["id"]),
        (Some("pong"), &json!({"n": 42}))
    );
    assert_eq!(pong["user_id"], "user-p");

    ws.send(Message::Text("hello there".into()))
        .await
        .expect("send");
    assert_eq!(next_text(&mut ws).await, "echo: hello there");

    send_json(&mut ws, json!({"type": "launch_missiles"})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        (error["type"].as_str(), error["error"].as_str()),
        (Some("agent_error"), Some("unknown message type"))
    );

    send_json(&mut ws, json!({"type": "user_message", "text": 7})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        error["error"],
        "invalid user_message: text must be a string"
    );
    stop(server).await;
}

#[tokio::test]
async fn disconnect_request_closes_with_the_given_code_and_reason() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-d"))).await;
    send_json(
        &mut ws,
        json!({"type": "disconnect", "code": 4000, "reason": "bye"}),
    )
    .await;
    assert_eq!(expect_close(&mut ws).await, (4000, "bye".to_owned()));
    assert!(
        next(&mut ws).await.is_none(),
        "stream ends after the close handshake"
    );

    let mut ws = connect(bearer(&server, &token("user-d"))).await;
    send_json(&mut ws, json!({"type": "disconnect", "code": 1005})).await;
    assert_eq!(next_json(&mut ws).await["error"], "invalid close code");
    stop(server).await;
}

#[tokio::test]
async fn client_close_is_answered_with_the_same_code() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-c"))).await;
    let frame = CloseFrame {
        code: CloseCode::Library(4100),
        reason: "done".into(),
    };
    ws.send(Message::Close(Some(frame)))
        .await
        .expect("send close");
    assert_eq!(expect_close(&mut ws).await.0, 4100);
    stop(server).await;
}

#[tokio::test]
async fn deterministic_heartbeats_sit_between_agent_events() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-h"))).await;
    let events = run_flow(
        &mut ws,
        json!({"type": "user_message", "text": "x", "run_id": "r", "heartbeats": true}),
    )
    .await;
    assert_eq!(
        types(&events),
        [
            "agent_started",
            "heartbeat",
            "agent_thinking",
            "heartbeat",
            "tool_executing",
            "heartbeat",
            "tool_completed",
            "heartbeat",
            "agent_completed"
        ]
    );
    assert_eq!(events[1]["seq"], 1);
    assert_eq!(events[7]["seq"], 4);
    assert!(
        events
            .iter()
            .all(|e| e["run_id"] == "r" && e["user_id"] == "user-h")
    );
    stop(server).await;
}

#[tokio::test]
async fn timer_heartbeat_when_configured() {
    let server = start(ServerOptions {
        heartbeat_interval: Some(Duration::from_millis(30)),
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("user-t"))).await;
    for _ in 0..2 {
        let beat = next_json(&mut ws).await;
        assert_eq!(
            (beat["type"].as_str(), beat["user_id"].as_str()),
            (Some("heartbeat"), Some("user-t"))
        );
    }
    stop(server).await;
}

#[tokio::test]
async fn health_switches_at_run_time() {
    let server = start(ServerOptions::default()).await;
    let get = || http().get(format!("{}/health", server.http_base())).send();
    let resp = get().await.expect("answered");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"status": "ok"})
    );
    server.set_healthy(false);
    let resp = get().await.expect("answered");
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"status": "unavailable"})
    );
    server.set_healthy(true);
    assert_eq!(get().await.expect("answered").status().as_u16(), 200);
    stop(server).await;

    let server = start(ServerOptions {
        start_unhealthy: true,
        ..Default::default()
    })
    .await;
    let resp = http()
        .get(format!("{}/health", server.http_base()))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 503);
    stop(server).await;
}

#[tokio::test]
async fn unknown_path_is_a_json_404() {
    let server = start(ServerOptions::default()).await;
    let resp = http()
        .get(format!("{}/nope", server.http_base()))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json"),
        json!({"detail": "Not Found"})
    );
    stop(server).await;
}

#[tokio::test]
async fn shutdown_is_fast_and_closes_open_sessions_with_1001() {
    let started = Instant::now();
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-s"))).await;
    let addr = server.addr();
    let shutdown = tokio::spawn(server.shutdown());
    assert_eq!(expect_close(&mut ws).await.0, 1001);
    assert!(next(&mut ws).await.is_none());
    tokio::time::timeout(WAIT, shutdown)
        .await
        .expect("shutdown in time")
        .expect("joined");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    let refused = tokio::time::timeout(WAIT, tokio::net::TcpStream::connect(addr))
        .await
        .expect("connect attempt in time");
    assert!(refused.is_err(), "listener closed after shutdown");
}

#[tokio::test]
async fn idle_spawn_and_shutdown_take_milliseconds() {
    let started = Instant::now();
    for _ in 0..20 {
        let server = start(ServerOptions::default()).await;
        stop(server).await;
    }
    let each = started.elapsed() / 20;
    assert!(
        each < Duration::from_millis(50),
        "spawn+shutdown took {each:?} each"
    );
}

#[tokio::test]
async fn events_never_cross_users_under_concurrency() {
    const USERS: usize = 64;
    let server = start(ServerOptions {
        event_delay: Duration::from_millis(2),
        ..Default::default()
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..USERS {
        let req = bearer(&server, &token(&format!("iso-user-{i}")));
        tasks.push(tokio::spawn(async move {
            let mut ws = connect(req).await;
            let mut seen = Vec::new();
            for round in 0..3 {
                let run_id = format!("run-{i}-{round}");
                let events = run_flow(
                    &mut ws,
                    json!({"type": "user_message", "text": "x", "run_id": run_id, "heartbeats": round == 1}),
                )
                .await;
                for e in &events {
                    assert_eq!(e["user_id"], format!("iso-user-{i}"), "misrouted: {e}");
                    assert_eq!(e["run_id"], run_id, "misrouted: {e}");
                }
                seen.push(events.len());
            }
            seen
        }));
    }
    for task in tasks {
        let seen = tokio::time::timeout(WAIT, task)
            .await
            .expect("in time")
            .expect("no panic");
        assert_eq!(seen, [5, 9, 5]);
    }
    stop(server).await;
}

#[tokio::test]
async fn plain_get_on_ws_is_refused_with_a_json_detail() {
    let server = start(ServerOptions::default()).await;
    let resp = http()
        .get(format!("{}/ws", server.http_base()))
        .bearer_auth(token("plain"))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("upgrade")),
        "{body}"
    );
    stop(server).await;
}
