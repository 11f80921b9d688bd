//! Reference server: the switchable failure behaviours of the staging backend (silent
//! rejection, accept-then-close, delays, dropped connections, malformed and oversized frames,
//! 1011 mid-flow).

use std::time::{Duration, Instant};

use crate::support::*;
use futures_util::StreamExt;
use serde_json::json;
use sockspec::server::{MALFORMED_FRAME, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn silent_reject_never_answers_a_rejected_upgrade() {
    let server = start(ServerOptions {
        silent_reject: true,
        ..Default::default()
    })
    .await;
    // A valid token is still upgraded.
    connect(bearer(&server, &token("ok-user"))).await;

    // A rejected one is never answered: the client's own timeout fires (seed 003's 15 s).
    let bad = bearer(&server, "fallback-user-22b78328");
    let attempt = tokio::time::timeout(
        Duration::from_millis(300),
        tokio_tungstenite::connect_async(bad),
    )
    .await;
    assert!(attempt.is_err(), "expected no answer, got {attempt:?}");

    // At shutdown a held connection is dropped without an answer, and quickly.
    let mut raw = tokio::time::timeout(WAIT, TcpStream::connect(server.addr()))
        .await
        .expect("connect in time")
        .expect("connected");
    let upgrade = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer fallback-user-22b78328\r\n\r\n",
        server.addr()
    );
    raw.write_all(upgrade.as_bytes())
        .await
        .expect("request written");
    let mut buf = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_millis(300), raw.read(&mut buf)).await;
    assert!(early.is_err(), "expected no answer, got {early:?}");
    let started = Instant::now();
    stop(server).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shutdown took {:?}",
        started.elapsed()
    );
    let after = tokio::time::timeout(WAIT, raw.read(&mut buf))
        .await
        .expect("closed before the deadline");
    match after {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!(
            "held request was answered: {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
    }
}

#[tokio::test]
async fn close_after_accept_upgrades_then_closes_with_the_detail() {
    for code in [1008u16, 4001] {
        let server = start(ServerOptions {
            close_after_accept: Some(code),
            ..Default::default()
        })
        .await;
        let mut ws = connect(bearer(&server, "not-a-jwt")).await;
        assert_eq!(
            expect_close(&mut ws).await,
            (code, "Invalid token: malformed token".to_owned())
        );
        let mut ws = connect(request(&url(&server))).await;
        assert_eq!(
            expect_close(&mut ws).await,
            (code, "No token provided".to_owned())
        );
        // Valid tokens are unaffected.
        let mut ws = connect(bearer(&server, &token("fine"))).await;
        assert_eq!(
            run_flow(&mut ws, json!({"type": "user_message", "text": "x"}))
                .await
                .len(),
            5
        );
        stop(server).await;
    }
}

#[tokio::test]
async fn event_delay_spaces_out_the_events() {
    let delay = Duration::from_millis(40);
    let server = start(ServerOptions {
        event_delay: delay,
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("slow"))).await;
    let started = Instant::now();
    let events = run_flow(&mut ws, json!({"type": "user_message", "text": "x"})).await;
    assert_eq!(events.len(), 5);
    assert!(
        started.elapsed() >= delay * 5,
        "flow took only {:?}",
        started.elapsed()
    );
    stop(server).await;
}

#[tokio::test]
async fn drop_after_cuts_the_connection_without_a_close_frame() {
    let server = start(ServerOptions {
        drop_after: Some(2),
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("dropped"))).await;
    send_json(&mut ws, json!({"type": "user_message", "text": "x"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "agent_started");
    assert_eq!(next_json(&mut ws).await["type"], "agent_thinking");
    let after = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("outcome before the deadline");
    match after {
        None | Some(Err(_)) => {}
        Some(Ok(Message::Close(frame))) => panic!("expected no close frame, got {frame:?}"),
        Some(Ok(other)) => panic!("expected the connection to drop, got {other:?}"),
    }
    stop(server).await;
}

#[tokio::test]
async fn malformed_frame_sits_between_thinking_and_tool_executing() {
    let server = start(ServerOptions {
        malformed_frame: true,
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("m"))).await;
    send_json(&mut ws, json!({"type": "user_message", "text": "x"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "agent_started");
    assert_eq!(next_json(&mut ws).await["type"], "agent_thinking");
    let raw = next_text(&mut ws).await;
    assert_eq!(raw, MALFORMED_FRAME);
    assert!(serde_json::from_str::<serde_json::Value>(&raw).is_err());
    for expected in ["tool_executing", "tool_completed", "agent_completed"] {
        assert_eq!(next_json(&mut ws).await["type"], expected);
    }
    stop(server).await;
}

#[tokio::test]
async fn oversized_frame_has_the_requested_size() {
    let bytes = 2 * 1024 * 1024;
    let server = start(ServerOptions {
        oversized_frame: Some(bytes),
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("big"))).await;
    send_json(
        &mut ws,
        json!({"type": "user_message", "text": "x", "run_id": "r"}),
    )
    .await;
    for expected in ["agent_started", "agent_thinking", "tool_executing"] {
        assert_eq!(next_json(&mut ws).await["type"], expected);
    }
    let big = next_text(&mut ws).await;
    assert_eq!(big.len(), bytes);
    let big: serde_json::Value = serde_json::from_str(&big).expect("json");
    assert_eq!(
        (big["type"].as_str(), big["run_id"].as_str()),
        (Some("tool_output"), Some("r"))
    );
    assert_eq!(next_json(&mut ws).await["type"], "tool_completed");
    assert_eq!(next_json(&mut ws).await["type"], "agent_completed");
    stop(server).await;
}

#[tokio::test]
async fn close_1011_after_agent_thinking() {
    let server = start(ServerOptions {
        close_1011: true,
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, &token("x"))).await;
    send_json(&mut ws, json!({"type": "user_message", "text": "x"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "agent_started");
    assert_eq!(next_json(&mut ws).await["type"], "agent_thinking");
    assert_eq!(
        expect_close(&mut ws).await,
        (1011, "Internal server error".to_owned())
    );
    stop(server).await;
}
