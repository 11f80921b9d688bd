//! Reference server: token locations, the full agent flow, and every rejection before the
//! upgrade (wording, status, algorithm allow-list, claims).

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::json;
use sockspec::server::{ServerConfig, ServerOptions, ServerSecrets};

#[tokio::test]
async fn valid_token_gets_the_full_flow_in_order_with_fields() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-a"))).await;
    let events = run_flow(
        &mut ws,
        json!({"type": "user_message", "text": "cut my costs", "run_id": "run-1"}),
    )
    .await;
    assert_eq!(
        types(&events),
        [
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ]
    );
    for event in &events {
        assert_eq!(event["run_id"], "run-1", "{event}");
        assert_eq!(event["user_id"], "user-a", "{event}");
        let ts = event["timestamp"].as_str().expect("timestamp string");
        humantime::parse_rfc3339(ts).expect("RFC 3339 timestamp");
        let keys: Vec<&str> = event
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys[..4],
            ["type", "run_id", "user_id", "timestamp"],
            "{event}"
        );
    }
    assert_eq!(events[2]["tool"], "cost_analyzer");
    assert_eq!(events[3]["tool"], "cost_analyzer");
    assert_eq!(events[4]["result"]["savings_usd"], 1250.5);
    assert_eq!(
        events[4]["result"]["recommendations"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    stop(server).await;
}

#[tokio::test]
async fn run_id_is_generated_and_tool_is_honoured() {
    let server = start(ServerOptions::default()).await;
    let mut ws = connect(bearer(&server, &token("user-b"))).await;
    let events = run_flow(
        &mut ws,
        json!({"type": "user_message", "text": "x", "tool": "gpu_profiler"}),
    )
    .await;
    let run_id = events[0]["run_id"].as_str().expect("run_id");
    let parsed = uuid::Uuid::parse_str(run_id).expect("uuid run_id");
    assert_eq!(parsed.get_version_num(), 4);
    assert!(events.iter().all(|e| e["run_id"] == run_id));
    assert_eq!(events[2]["tool"], "gpu_profiler");
    stop(server).await;
}

#[tokio::test]
async fn token_is_read_from_query_subprotocol_and_cookie() {
    let server = start(ServerOptions::default()).await;
    let t = token("user-q");
    let mut ws = connect(request(&format!("{}?token={t}", url(&server)))).await;
    send_json(&mut ws, json!({"type": "ping", "id": 1})).await;
    assert_eq!(next_json(&mut ws).await["user_id"], "user-q");

    let t = token("user-p");
    let req = with_header(
        request(&url(&server)),
        "sec-websocket-protocol",
        &format!("agent.v1, jwt.{t}"),
    );
    let (mut ws, resp) = try_connect(req).await.expect("upgrade");
    let selected = resp
        .headers()
        .get("sec-websocket-protocol")
        .expect("protocol echoed");
    assert_eq!(selected.to_str().expect("ascii"), format!("jwt.{t}"));
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["user_id"], "user-p");

    let t = token("user-c");
    let req = with_header(
        request(&url(&server)),
        "cookie",
        &format!("theme=dark; token={t}"),
    );
    let mut ws = connect(req).await;
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["user_id"], "user-c");
    stop(server).await;
}

#[tokio::test]
async fn authorization_header_wins_and_agent_v1_is_selected() {
    let server = start(ServerOptions::default()).await;
    let req = with_header(
        bearer(&server, &token("from-header")),
        "sec-websocket-protocol",
        "graphql-ws, agent.v1",
    );
    let req = with_header(req, "cookie", &format!("token={}", token("from-cookie")));
    let (mut ws, resp) = try_connect(req).await.expect("upgrade");
    assert_eq!(resp.headers()["sec-websocket-protocol"], "agent.v1");
    send_json(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await["user_id"], "from-header");
    stop(server).await;
}

#[tokio::test]
async fn rejections_use_the_staging_wording_with_403() {
    let server = start(ServerOptions::default()).await;
    let cases = [
        (request(&url(&server)), "No token provided"),
        (
            bearer(&server, "staging_jwt_token_user_1_1757260970"),
            "Invalid token: malformed token",
        ),
        (
            bearer(
                &server,
                &sign(
                    &json!({"sub": "u", "exp": now() + 60}),
                    Algorithm::HS256,
                    b"wrong-secret",
                ),
            ),
            "Invalid or expired token",
        ),
        (
            bearer(
                &server,
                &sign(
                    &json!({"sub": "u", "exp": now() - 10}),
                    Algorithm::HS256,
                    SECRET.as_bytes(),
                ),
            ),
            "Invalid or expired token",
        ),
        (
            bearer(
                &server,
                &sign(
                    &json!({"exp": now() + 60}),
                    Algorithm::HS256,
                    SECRET.as_bytes(),
                ),
            ),
            "Invalid token: missing required claim sub",
        ),
        (
            bearer(
                &server,
                &sign(&json!({"sub": "u"}), Algorithm::HS256, SECRET.as_bytes()),
            ),
            "Invalid token: missing required claim exp",
        ),
        (
            bearer(
                &server,
                &sign(
                    &json!({"sub": "", "exp": now() + 60}),
                    Algorithm::HS256,
                    SECRET.as_bytes(),
                ),
            ),
            "Invalid token: empty sub claim",
        ),
    ];
    for (req, expected) in cases {
        let (status, body) = rejected(req).await;
        assert_eq!((status, body), (403, json!({ "detail": expected })));
    }
    stop(server).await;
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let server = start(ServerOptions::default()).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "attacker", "exp": now() + 60}).to_string());
    for forged in [
        format!("{header}.{claims}."),
        format!("{header}.{claims}.c2ln"),
    ] {
        let (status, body) = rejected(bearer(&server, &forged)).await;
        assert_eq!(status, 403);
        assert_eq!(
            body["detail"],
            "Invalid token: algorithm none is not allowed"
        );
    }
    stop(server).await;
}

fn rsa_config(jwt_secret: &str) -> ServerConfig {
    ServerConfig {
        options: ServerOptions::default(),
        secrets: ServerSecrets {
            jwt_secret: jwt_secret.to_owned(),
            rsa_public_key_pem: Some(rsa_public().to_owned()),
            ec_public_key_pem: Some(ec_public().to_owned()),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn rs256_and_es256_work_and_rs_hs_confusion_is_rejected() {
    for jwt_secret in [SECRET, ""] {
        let server = start_with(rsa_config(jwt_secret)).await;
        let claims = json!({"sub": "rsa-user", "exp": now() + 60});
        let rs = sign(&claims, Algorithm::RS256, rsa_private().as_bytes());
        let mut ws = connect(bearer(&server, &rs)).await;
        send_json(&mut ws, json!({"type": "ping"})).await;
        assert_eq!(next_json(&mut ws).await["user_id"], "rsa-user");
        let es = sign(&claims, Algorithm::ES256, ec_private().as_bytes());
        connect(bearer(&server, &es)).await;

        // HS256 "signed" with the RSA public key as the HMAC secret.
        let forged = sign(&claims, Algorithm::HS256, rsa_public().as_bytes());
        let (status, body) = rejected(bearer(&server, &forged)).await;
        assert_eq!(status, 403);
        let expected = if jwt_secret.is_empty() {
            "Invalid token: algorithm HS256 is not allowed"
        } else {
            "Invalid or expired token"
        };
        assert_eq!(body["detail"], expected);
        stop(server).await;
    }
}

#[tokio::test]
async fn rs256_without_a_configured_key_is_not_allowed() {
    let server = start(ServerOptions::default()).await;
    let rs = sign(
        &json!({"sub": "u", "exp": now() + 60}),
        Algorithm::RS256,
        rsa_private().as_bytes(),
    );
    let (status, body) = rejected(bearer(&server, &rs)).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Invalid token: algorithm RS256 is not allowed"))
    );
    stop(server).await;
}

#[tokio::test]
async fn hs384_and_hs512_are_accepted() {
    let server = start(ServerOptions::default()).await;
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let t = sign(
            &json!({"sub": "hs", "exp": now() + 60}),
            alg,
            SECRET.as_bytes(),
        );
        connect(bearer(&server, &t)).await;
    }
    stop(server).await;
}

#[tokio::test]
async fn nbf_in_the_future_is_rejected_and_leeway_admits_it() {
    let t = sign(
        &json!({"sub": "u", "exp": now() + 600, "nbf": now() + 120}),
        Algorithm::HS256,
        SECRET.as_bytes(),
    );
    let server = start(ServerOptions::default()).await;
    let (status, body) = rejected(bearer(&server, &t)).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (403, Some("Invalid token: token not yet valid (nbf)"))
    );
    stop(server).await;

    let server = start(ServerOptions {
        leeway: std::time::Duration::from_secs(300),
        ..Default::default()
    })
    .await;
    connect(bearer(&server, &t)).await;
    stop(server).await;
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let server = start(ServerOptions {
        issuer: Some("netra-auth-service".into()),
        audience: Some("netra-backend".into()),
        ..Default::default()
    })
    .await;
    let claims =
        |iss: &str, aud: &str| json!({"sub": "u", "exp": now() + 60, "iss": iss, "aud": aud});
    let good = sign(
        &claims("netra-auth-service", "netra-backend"),
        Algorithm::HS256,
        SECRET.as_bytes(),
    );
    connect(bearer(&server, &good)).await;
    for (iss, aud, expected) in [
        (
            "someone-else",
            "netra-backend",
            "Invalid token: wrong issuer",
        ),
        (
            "netra-auth-service",
            "other-api",
            "Invalid token: wrong audience",
        ),
    ] {
        let t = sign(&claims(iss, aud), Algorithm::HS256, SECRET.as_bytes());
        let (status, body) = rejected(bearer(&server, &t)).await;
        assert_eq!((status, body["detail"].as_str()), (403, Some(expected)));
    }
    let no_iss = sign(
        &json!({"sub": "u", "exp": now() + 60, "aud": "netra-backend"}),
        Algorithm::HS256,
        SECRET.as_bytes(),
    );
    let (_, body) = rejected(bearer(&server, &no_iss)).await;
    assert_eq!(body["detail"], "Invalid token: missing required claim iss");
    stop(server).await;
}

#[tokio::test]
async fn api_key_is_a_bearer_token() {
    let server = start(ServerOptions {
        require_known_users: true,
        ..Default::default()
    })
    .await;
    let mut ws = connect(bearer(&server, API_KEY)).await;
    send_json(&mut ws, json!({"type": "ping", "id": "k"})).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(
        (pong["type"].as_str(), pong["user_id"].as_str()),
        (Some("pong"), Some("api-key-user"))
    );
    stop(server).await;
}
