//! Shared helpers for the reference server's integration tests: starting servers, minting
//! tokens, connecting with tokio-tungstenite and reading frames, every wait under a deadline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sockspec::server::{ServerConfig, ServerHandle, ServerOptions, ServerSecrets, spawn};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const SECRET: &str = "reference-server-test-secret-0123456789";
pub const BYPASS_KEY: &str = "bypass-key-for-tests";
pub const API_KEY: &str = "api-key-for-tests";
/// Deadline of every single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn rsa_private() -> &'static str {
    include_str!("../fixtures/rsa_private.pem")
}
pub fn rsa_public() -> &'static str {
    include_str!("../fixtures/rsa_public.pem")
}
pub fn ec_private() -> &'static str {
    include_str!("../fixtures/ec_private.pem")
}
pub fn ec_public() -> &'static str {
    include_str!("../fixtures/ec_public.pem")
}

pub fn secrets() -> ServerSecrets {
    ServerSecrets {
        jwt_secret: SECRET.to_owned(),
        bypass_key: Some(BYPASS_KEY.to_owned()),
        api_keys: vec![API_KEY.to_owned()],
        rsa_public_key_pem: None,
        ec_public_key_pem: None,
    }
}

pub async fn start(options: ServerOptions) -> ServerHandle {
    start_with(ServerConfig {
        options,
        secrets: secrets(),
    })
    .await
}

pub async fn start_with(config: ServerConfig) -> ServerHandle {
    timeout(WAIT, spawn(config))
        .await
        .expect("spawn before the deadline")
        .expect("server starts")
}

pub async fn stop(server: ServerHandle) {
    timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown before the deadline");
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// HS256 token for `sub`, valid for an hour.
pub fn token(sub: &str) -> String {
    sign(
        &json!({ "sub": sub, "exp": now() + 3600 }),
        Algorithm::HS256,
        SECRET.as_bytes(),
    )
}

/// Signs `claims` with `alg`: HMAC algorithms use `key` as the secret, others a PEM key.
pub fn sign(claims: &Value, alg: Algorithm, key: &[u8]) -> String {
    let encoding = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => EncodingKey::from_secret(key),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(key).expect("rsa pem"),
        Algorithm::ES256 => EncodingKey::from_ec_pem(key).expect("ec pem"),
        other => panic!("unsupported test algorithm {other:?}"),
    };
    jsonwebtoken::encode(&Header::new(alg), claims, &encoding).expect("encode")
}

pub fn url(server: &ServerHandle) -> String {
    format!("{}/ws", server.ws_base())
}

pub fn request(url: &str) -> Request {
    url.into_client_request().expect("valid url")
}

pub fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut()
        .insert(name, value.parse().expect("header value"));
    req
}

pub fn bearer(server: &ServerHandle, token: &str) -> Request {
    with_header(
        request(&url(server)),
        "authorization",
        &format!("Bearer {token}"),
    )
}

pub async fn try_connect(req: Request) -> Result<(Ws, Response), tungstenite::Error> {
    timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("handshake before the deadline")
}

pub async fn connect(req: Request) -> Ws {
    try_connect(req).await.expect("upgrade accepted").0
}

/// Connects and expects an HTTP rejection; returns status and JSON body.
pub async fn rejected(req: Request) -> (u16, Value) {
    match try_connect(req).await {
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            assert!(
                body.len() < 200,
                "rejection body too large: {} bytes",
                body.len()
            );
            let json = serde_json::from_slice(&body).expect("json rejection body");
            (resp.status().as_u16(), json)
        }
        Err(other) => panic!("expected an HTTP rejection, got {other}"),
        Ok(_) => panic!("expected an HTTP rejection, the upgrade was accepted"),
    }
}

pub async fn next(ws: &mut Ws) -> Option<Message> {
    timeout(WAIT, ws.next())
        .await
        .expect("frame before the deadline")
        .map(|r| r.expect("no websocket error"))
}

pub async fn next_text(ws: &mut Ws) -> String {
    match next(ws).await {
        Some(Message::Text(t)) => t.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

pub async fn next_json(ws: &mut Ws) -> Value {
    let text = next_text(ws).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub async fn send_json(ws: &mut Ws, value: Value) {
    timeout(WAIT, ws.send(Message::Text(value.to_string().into())))
        .await
        .expect("send before the deadline")
        .expect("send");
}

/// Sends a user_message and collects events up to and including `agent_completed`.
pub async fn run_flow(ws: &mut Ws, message: Value) -> Vec<Value> {
    send_json(ws, message).await;
    let mut events = Vec::new();
    loop {
        let event = next_json(ws).await;
        let done = event["type"] == "agent_completed";
        events.push(event);
        if done {
            return events;
        }
        assert!(events.len() < 50, "no agent_completed after 50 events");
    }
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("?"))
        .collect()
}

/// Expects a Close frame; returns its code and reason.
pub async fn expect_close(ws: &mut Ws) -> (u16, String) {
    loop {
        match next(ws).await {
            Some(Message::Close(Some(frame))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned());
            }
            Some(Message::Close(None)) => panic!("close frame without a code"),
            Some(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .expect("http client")
}

/// POST /auth/e2e/test-auth; returns status and JSON body.
pub async fn test_auth(server: &ServerHandle, key: Option<&str>, email: &str) -> (u16, Value) {
    let mut req = http()
        .post(format!("{}/auth/e2e/test-auth", server.http_base()))
        .json(&json!({ "email": email, "name": "E2E Test User" }));
    if let Some(key) = key {
        req = req.header("X-E2E-Bypass-Key", key);
    }
    let resp = req.send().await.expect("test-auth answered");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}
