//! Reference server: the protocol families real services speak besides the agent flow —
//! request/reply correlated by id and answered out of order, subscriptions streaming `next`
//! frames (interleaved, unsubscribed, failing), seeded random timing, the limits, and
//! first-message auth closing with a configured 44xx code.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::*;
use futures_util::SinkExt;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sockspec::server::{ServerConfig, ServerHandle, ServerOptions, spawn};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// Frames read before a helper gives up on an end it waits for.
const MAX_FRAMES: usize = 10_000;

/// Sends all `messages` in one flush, so the server reads them together.
async fn send_together(ws: &mut Ws, messages: &[Value]) {
    for m in messages {
        timeout(WAIT, ws.feed(Message::Text(m.to_string().into())))
            .await
            .expect("feed before the deadline")
            .expect("feed");
    }
    timeout(WAIT, ws.flush())
        .await
        .expect("flush before the deadline")
        .expect("flush");
}

fn ended(frame: &Value) -> bool {
    frame["type"] == "complete" || frame["type"] == "error"
}

/// Reads frames until every subscription in `ids` has ended (`complete` or `error`).
async fn until_ended(ws: &mut Ws, ids: &[Value]) -> Vec<Value> {
    let mut open: Vec<&Value> = ids.iter().collect();
    let mut frames = Vec::new();
    while !open.is_empty() {
        let frame = next_json(ws).await;
        if ended(&frame) {
            open.retain(|id| **id != frame["id"]);
        }
        frames.push(frame);
        assert!(
            frames.len() < MAX_FRAMES,
            "no end after {MAX_FRAMES} frames"
        );
    }
    frames
}

/// Reads `n` frames.
async fn take(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut frames = Vec::with_capacity(n);
    for _ in 0..n {
        frames.push(next_json(ws).await);
    }
    frames
}

/// The `seq` of every `next` frame of subscription `id`, in arrival order.
fn seqs(frames: &[Value], id: &str) -> Vec<u64> {
    frames
        .iter()
        .filter(|f| f["type"] == "next" && f["id"] == id)
        .map(|f| f["seq"].as_u64().expect("seq"))
        .collect()
}

/// A ping answered by the very next frame: nothing else was on its way.
async fn assert_quiet(ws: &mut Ws) {
    send_json(ws, json!({"type": "ping", "id": "quiet?"})).await;
    let pong = next_json(ws).await;
    assert_eq!(
        (pong["type"].as_str(), &pong["id"]),
        (Some("pong"), &json!("quiet?")),
        "expected nothing before the pong"
    );
}

fn error_code(frame: &Value) -> i64 {
    assert_eq!(frame["type"], "error", "not an error frame: {frame}");
    frame["error"]["code"].as_i64().expect("numeric code")
}

#[tokio::test]
async fn replies_come_back_in_completion_order_not_send_order() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("rpc-user"))).await;
    send_together(
        &mut ws,
        &[
            json!({"type": "request", "id": "A", "method": "echo", "params": {"slow": true}, "delay_ms": 400}),
            json!({"type": "request", "id": 2, "method": "add", "params": [1, 2, 3.5]}),
            json!({"type": "request", "id": {"k": [1]}, "method": "whoami", "delay_ms": 200}),
            json!({"type": "request", "id": "D", "method": "launch", "delay_ms": 100}),
        ],
    )
    .await;
    let replies = take(&mut ws, 4).await;
    assert_eq!(
        replies[0],
        json!({"type": "response", "id": 2, "result": 6.5})
    );
    assert_eq!(replies[1]["id"], "D");
    assert_eq!(error_code(&replies[1]), -32601);
    assert_eq!(replies[1]["error"]["message"], "method not found: launch");
    assert_eq!(
        replies[2],
        json!({"type": "response", "id": {"k": [1]}, "result": {"user_id": "rpc-user"}})
    );
    assert_eq!(
        replies[3],
        json!({"type": "response", "id": "A", "result": {"slow": true}})
    );
    assert_quiet(&mut ws).await;
    stop(server).await;
}

#[tokio::test]
async fn two_subscriptions_interleave_and_each_completes_in_order() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("sub-user"))).await;
    send_together(
        &mut ws,
        &[
            json!({"type": "subscribe", "id": "s1", "topic": "ticks", "count": 5, "interval_ms": 20}),
            json!({"type": "subscribe", "id": "s2", "topic": "ticks", "count": 5, "interval_ms": 30}),
        ],
    )
    .await;
    let frames = until_ended(&mut ws, &[json!("s1"), json!("s2")]).await;
    assert_eq!(frames.len(), 12, "{frames:?}");
    for id in ["s1", "s2"] {
        assert_eq!(seqs(&frames, id), [1, 2, 3, 4, 5], "{id}");
        let own: Vec<&Value> = frames.iter().filter(|f| f["id"] == id).collect();
        assert_eq!(*own[5], json!({"type": "complete", "id": id}));
        assert_eq!(
            *own[0],
            json!({"type": "next", "id": id, "seq": 1, "payload": {"topic": "ticks", "tick": 1}})
        );
    }
    let first_s2 = frames.iter().position(|f| f["id"] == "s2").expect("s2");
    let s1_done = frames
        .iter()
        .position(|f| f["id"] == "s1" && f["type"] == "complete")
        .expect("s1 complete");
    assert!(first_s2 < s1_done, "streams did not interleave: {frames:?}");
    assert_quiet(&mut ws).await;
    stop(server).await;
}

#[tokio::test]
async fn a_failing_subscription_ends_with_an_error_and_no_complete() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("fail-user"))).await;
    send_together(
        &mut ws,
        &[
            json!({"type": "subscribe", "id": "bad", "topic": "fail", "count": 2, "interval_ms": 10}),
            json!({"type": "subscribe", "id": "good", "topic": "ticks", "count": 3, "interval_ms": 25}),
        ],
    )
    .await;
    let frames = until_ended(&mut ws, &[json!("bad"), json!("good")]).await;
    let bad: Vec<&Value> = frames.iter().filter(|f| f["id"] == "bad").collect();
    assert_eq!(seqs(&frames, "bad"), [1, 2]);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert_eq!(error_code(bad[2]), -32002);
    assert_eq!(seqs(&frames, "good"), [1, 2, 3]);
    assert!(
        frames
            .iter()
            .any(|f| f["id"] == "good" && f["type"] == "complete")
    );
    // The error was the failing stream's last frame: no `complete` follows it.
    assert_quiet(&mut ws).await;

    send_json(
        &mut ws,
        json!({"type": "subscribe", "id": 9, "topic": "fail", "count": 0}),
    )
    .await;
    let only = next_json(&mut ws).await;
    assert_eq!((error_code(&only), &only["id"]), (-32002, &json!(9)));
    assert_quiet(&mut ws).await;
    stop(server).await;
}

#[tokio::test]
async fn unsubscribe_stops_one_stream_and_leaves_the_others() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("unsub-user"))).await;
    send_together(
        &mut ws,
        &[
            json!({"type": "subscribe", "id": "endless", "topic": "ticks", "count": 100_000, "interval_ms": 5}),
            json!({"type": "subscribe", "id": "short", "topic": "ticks", "count": 3, "interval_ms": 40}),
        ],
    )
    .await;
    loop {
        let frame = next_json(&mut ws).await;
        if frame["id"] == "endless" && frame["seq"] == 2 {
            break;
        }
    }
    send_json(&mut ws, json!({"type": "unsubscribe", "id": "endless"})).await;
    let mut after_ack = false;
    let mut frames = Vec::new();
    loop {
        let frame = next_json(&mut ws).await;
        if frame == json!({"type": "unsubscribed", "id": "endless"}) {
            after_ack = true;
            // A third stream, timed after the ack, proves `endless` stays quiet meanwhile.
            send_json(
                &mut ws,
                json!({"type": "subscribe", "id": "probe", "topic": "ticks", "count": 3, "interval_ms": 20}),
            )
            .await;
            continue;
        }
        if after_ack {
            assert_ne!(frame["id"], "endless", "frame after unsubscribed: {frame}");
        }
        let done = frame["id"] == "probe" && frame["type"] == "complete";
        frames.push(frame);
        if done {
            break;
        }
        assert!(frames.len() < MAX_FRAMES);
    }
    assert_eq!(seqs(&frames, "probe"), [1, 2, 3]);
    if !frames
        .iter()
        .any(|f| f["id"] == "short" && f["type"] == "complete")
    {
        until_ended(&mut ws, &[json!("short")]).await;
    }
    send_json(&mut ws, json!({"type": "unsubscribe", "id": "endless"})).await;
    let again = next_json(&mut ws).await;
    assert_eq!(
        (error_code(&again), &again["id"]),
        (-32004, &json!("endless"))
    );
    stop(server).await;
}

/// The order in which `a` and `b` (six ticks each, 10 ms apart plus jitter) reach a fresh
/// connection, as `a1 b1 a2 …`.
async fn interleaving(server: &ServerHandle) -> Vec<String> {
    let mut ws = connect(bearer(server, &token("jitter-user"))).await;
    let subscribe = |id| json!({"type": "subscribe", "id": id, "topic": "ticks", "count": 6, "interval_ms": 10});
    send_together(&mut ws, &[subscribe("a"), subscribe("b")]).await;
    let frames = until_ended(&mut ws, &[json!("a"), json!("b")]).await;
    for id in ["a", "b"] {
        assert_eq!(seqs(&frames, id), [1, 2, 3, 4, 5, 6], "{id}: {frames:?}");
    }
    frames
        .iter()
        .filter(|f| f["type"] == "next")
        .map(|f| format!("{}{}", f["id"].as_str().expect("string id"), f["seq"]))
        .collect()
}

fn jittered(seed: Option<u64>) -> ServerOptions {
    ServerOptions {
        jitter: Duration::from_millis(30),
        jitter_seed: seed,
        ..Default::default()
    }
}

#[tokio::test]
async fn seeded_jitter_reproduces_the_interleaving_and_other_seeds_change_it() {
    let server = start(jittered(Some(42))).await;
    let first = interleaving(&server).await;
    assert_eq!(first, interleaving(&server).await, "same seed, same server");
    stop(server).await;
    let server = start(jittered(Some(42))).await;
    assert_eq!(first, interleaving(&server).await, "same seed, new server");
    stop(server).await;

    let mut seen = HashSet::from([first]);
    for seed in 1..=8 {
        let server = start(jittered(Some(seed))).await;
        seen.insert(interleaving(&server).await);
        stop(server).await;
        if seen.len() >= 2 {
            return;
        }
    }
    panic!("nine seeds gave one interleaving: {seen:?}");
}

#[tokio::test]
async fn unseeded_jitter_varies_between_connections() {
    let server = start(jittered(None)).await;
    let mut seen = HashSet::new();
    for _ in 0..8 {
        seen.insert(interleaving(&server).await);
        if seen.len() >= 2 {
            stop(server).await;
            return;
        }
    }
    panic!("eight unseeded connections gave one interleaving: {seen:?}");
}

/// The ids of ten zero-delay requests in the order their replies arrive.
async fn reply_order(server: &ServerHandle) -> Vec<Value> {
    let mut ws = connect(bearer(server, &token("jitter-rpc"))).await;
    let requests: Vec<Value> = (0..10)
        .map(|i| json!({"type": "request", "id": i, "method": "echo", "params": i}))
        .collect();
    send_together(&mut ws, &requests).await;
    let replies = take(&mut ws, 10).await;
    for r in &replies {
        assert_eq!(
            (r["type"].as_str(), &r["result"]),
            (Some("response"), &r["id"])
        );
    }
    replies.into_iter().map(|r| r["id"].clone()).collect()
}

#[tokio::test]
async fn seeded_jitter_reorders_replies_reproducibly() {
    let server = start(jittered(Some(7))).await;
    let order = reply_order(&server).await;
    assert_eq!(order, reply_order(&server).await);
    let sorted: Vec<Value> = (0..10).map(|i| json!(i)).collect();
    let mut ids = order.clone();
    ids.sort_by_key(|v| v.as_i64());
    assert_eq!(ids, sorted, "every request answered once");
    assert_ne!(order, sorted, "seed 7 reorders the replies");
    stop(server).await;
    let server = start(jittered(Some(8))).await;
    assert_ne!(
        order,
        reply_order(&server).await,
        "another seed, another order"
    );
    stop(server).await;
}

#[tokio::test]
async fn limits_are_refused_with_an_error_reply_and_shutdown_stays_prompt() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("limits-user"))).await;
    let refusals = [
        (
            json!({"type": "subscribe", "id": "c", "topic": "ticks", "count": 100_001}),
            -32000,
        ),
        (
            json!({"type": "subscribe", "id": "i", "topic": "ticks", "interval_ms": 10_001}),
            -32000,
        ),
        (
            json!({"type": "request", "id": "d", "method": "echo", "delay_ms": 10_001}),
            -32000,
        ),
        (
            json!({"type": "subscribe", "id": "t", "topic": "weather"}),
            -32001,
        ),
        (
            json!({"type": "subscribe", "id": "n", "topic": "ticks", "count": -1}),
            -32600,
        ),
        (json!({"type": "request", "method": "echo"}), -32600),
        (json!({"type": "request", "id": "m", "method": 5}), -32600),
        (json!({"type": "unsubscribe", "id": "never"}), -32004),
        (
            json!({"type": "request", "id": "p", "method": "add", "params": "1+1"}),
            -32602,
        ),
    ];
    for (message, code) in refusals {
        send_json(&mut ws, message.clone()).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(error_code(&reply), code, "{message} → {reply}");
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        assert_eq!(reply["id"], id);
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    // Fill the per-connection room with long-lived work, then go one over.
    let subs: Vec<Value> = (0..16)
        .map(|i| json!({"type": "subscribe", "id": i, "topic": "ticks", "count": 100_000, "interval_ms": 10_000}))
        .collect();
    send_together(&mut ws, &subs).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "id": 0, "topic": "ticks"}),
    )
    .await;
    assert_eq!(
        error_code(&next_json(&mut ws).await),
        -32003,
        "duplicate id"
    );
    send_json(
        &mut ws,
        json!({"type": "subscribe", "id": "one-more", "topic": "ticks"}),
    )
    .await;
    assert_eq!(error_code(&next_json(&mut ws).await), -32000, "17th stream");
    let requests: Vec<Value> = (0..64)
        .map(|i| json!({"type": "request", "id": i, "method": "echo", "delay_ms": 10_000}))
        .collect();
    send_together(&mut ws, &requests).await;
    send_json(
        &mut ws,
        json!({"type": "request", "id": "65th", "method": "echo"}),
    )
    .await;
    let refused = next_json(&mut ws).await;
    assert_eq!(
        (error_code(&refused), &refused["id"]),
        (-32000, &json!("65th"))
    );
    assert_quiet(&mut ws).await;

    let started = Instant::now();
    let shutdown = tokio::spawn(server.shutdown());
    assert_eq!(expect_close(&mut ws).await.0, 1001);
    timeout(WAIT, shutdown)
        .await
        .expect("shutdown in time")
        .expect("joined");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown with 80 pending items took {:?}",
        started.elapsed()
    );
}

fn message_auth(code: Option<u16>) -> ServerOptions {
    ServerOptions {
        message_auth: true,
        message_auth_close_code: code,
        ..Default::default()
    }
}

#[tokio::test]
async fn refused_auth_message_closes_with_the_configured_code() {
    let server = start(message_auth(Some(4401))).await;
    let forged = sign(
        &json!({"sub": "mallory", "exp": now() + 3600}),
        Algorithm::HS256,
        b"not-the-server-secret-0123456789abcdef",
    );
    let mut ws = connect(request(&url(&server))).await;
    send_json(&mut ws, json!({"type": "auth", "token": forged})).await;
    assert_eq!(
        expect_close(&mut ws).await,
        (4401, "Invalid or expired token".to_owned())
    );

    let mut ws = connect(request(&url(&server))).await;
    send_json(&mut ws, json!({"type": "hello"})).await;
    assert_eq!(
        expect_close(&mut ws).await,
        (4401, "No token provided".to_owned())
    );

    let mut ws = connect(request(&url(&server))).await;
    ws.send(Message::Binary(vec![1, 2].into()))
        .await
        .expect("send binary");
    assert_eq!(expect_close(&mut ws).await.0, 4401);

    // Accepted: the protocols work after `auth_ok`.
    let mut ws = connect(request(&url(&server))).await;
    send_json(&mut ws, json!({"type": "auth", "token": token("alice")})).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "auth_ok", "user_id": "alice"})
    );
    send_json(
        &mut ws,
        json!({"type": "request", "id": 1, "method": "whoami"}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["result"]["user_id"], "alice");
    stop(server).await;

    let server = start(message_auth(None)).await;
    let mut ws = connect(request(&url(&server))).await;
    send_json(&mut ws, json!({"type": "auth", "token": "garbage"})).await;
    assert_eq!(expect_close(&mut ws).await.0, 1008, "default code");
    stop(server).await;
}

#[tokio::test]
async fn missing_auth_message_closes_with_the_timeout_code() {
    let server = start(ServerOptions {
        message_auth_timeout: Some(Duration::from_millis(100)),
        message_auth_timeout_close_code: Some(4408),
        ..message_auth(Some(4401))
    })
    .await;
    let started = Instant::now();
    let mut ws = connect(request(&url(&server))).await;
    assert_eq!(
        expect_close(&mut ws).await,
        (4408, "No auth message".to_owned())
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    stop(server).await;
}

#[tokio::test]
async fn unusable_options_are_refused_at_start() {
    for options in [
        message_auth(Some(1006)),
        ServerOptions {
            message_auth_timeout_close_code: Some(999),
            ..Default::default()
        },
        ServerOptions {
            message_auth_timeout: Some(Duration::ZERO),
            ..Default::default()
        },
        ServerOptions {
            jitter: Duration::from_secs(11),
            ..Default::default()
        },
    ] {
        let config = ServerConfig {
            options: options.clone(),
            secrets: secrets(),
        };
        let started = timeout(WAIT, spawn(config)).await.expect("in time");
        assert!(started.is_err(), "{options:?} was accepted");
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_hold_up_shutdown() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("stalled-user"))).await;
    let bulk = "x".repeat(900 * 1024);
    let requests: Vec<Value> = (0..16)
        .map(|i| json!({"type": "request", "id": i, "method": "echo", "params": bulk}))
        .collect();
    send_together(&mut ws, &requests).await;
    // The server is writing its replies (about 14 MiB) to a client that reads no more of them.
    assert_eq!(next_json(&mut ws).await["id"], 0);

    let started = Instant::now();
    stop(server).await;
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "shutdown waited {:?} for a stalled session",
        started.elapsed()
    );
}
