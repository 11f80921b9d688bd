//! The client's size limits end to end: a loopback server (tungstenite, one connection, every
//! wait bounded) sends a message larger than the scenario's `connect.max_message_size`; the
//! scenario fails within its deadline with a first line naming both sizes, and the server
//! receives the client's close 1009; a frame over a lower `max_frame_size` is named as a frame;
//! a message within the limit passes.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::{Message, accept};

/// Serves one WebSocket connection on 127.0.0.1:0 that sends a `{type: hello}` message of
/// `message_bytes` bytes,
/// then reads until the client's close; sends the close code received (or `None`) on the
/// returned channel.
fn serve_one(message_bytes: usize) -> (u16, mpsc::Receiver<Option<u16>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let started = Instant::now();
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if started.elapsed() > Duration::from_secs(20) {
                        let _ = tx.send(None);
                        return;
                    }
                    thread::sleep(Duration::from_millis(10));
                }
                Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let Ok(mut ws) = accept(stream) else {
            let _ = tx.send(None);
            return;
        };
        // `{"type":"hello","data":"xx…"}`, exactly `message_bytes` long.
        let frame = r#"{"type":"hello","data":""}"#;
        let data = "x".repeat(message_bytes.saturating_sub(frame.len()));
        let _ = ws.send(Message::text(format!(
            r#"{{"type":"hello","data":"{data}"}}"#
        )));
        let mut code = None;
        for _ in 0..16 {
            match ws.read() {
                Ok(Message::Close(frame)) => {
                    code = frame.map(|f| u16::from(f.code));
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(code);
    });
    (port, rx)
}

/// Runs one scenario with `connect` against a server sending `message_bytes`, on an
/// environment with `env_keys`; returns the exit code, stdout, the time taken and the close
/// code the server received.
fn run(
    name: &str,
    env_keys: &str,
    connect: &str,
    message_bytes: usize,
) -> (Option<i32>, String, Duration, Option<u16>) {
    let (port, closed) = serve_one(message_bytes);
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "sockspec-limits-test-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenarios")).expect("temp dir");
    std::fs::create_dir_all(dir.join("snapshots")).expect("temp dir");
    let config = format!(
        "environments:\n  tiny:\n    local: true\n    ws_url: ws://127.0.0.1:{port}\n{env_keys}"
    );
    std::fs::write(dir.join("sockspec.yaml"), config).expect("config");
    std::fs::write(
        dir.join("scenarios/big.yaml"),
        format!("connect: {connect}\nsteps:\n  - expect: {{match: {{type: hello}}, within: 5s}}\n"),
    )
    .expect("scenario");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("--root")
        .arg(&dir)
        .args(["test", "--env", "tiny"])
        .env_remove("SOCKSPEC_ENV")
        // A throwaway project: its first snapshot is written, not compared.
        .env_remove("CI")
        .env("INSTA_UPDATE", "always")
        .stdin(Stdio::null())
        .output()
        .expect("sockspec runs");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let code = closed
        .recv_timeout(Duration::from_secs(10))
        .expect("the server finished");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        elapsed,
        code,
    )
}

#[test]
fn a_message_over_the_limit_fails_the_scenario_naming_its_size_and_closes_with_1009() {
    let (code, stdout, elapsed, closed) = run(
        "message",
        "    max_frame_size: 512KiB\n",
        "{max_message_size: 1KiB}",
        64 * 1024,
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout
            .contains("error: message exceeds max size: 65536 > 1024; the client closed with 1009"),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ close 1009 \"message too big\""),
        "{stdout}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(closed, Some(1009), "{stdout}");
}

#[test]
fn a_frame_over_a_lower_frame_limit_is_named_as_a_frame() {
    // The environment's frame limit applies; the scenario raises only the message limit.
    let (code, stdout, elapsed, closed) = run(
        "frame",
        "    max_frame_size: 1KiB\n",
        "{max_message_size: 1MiB}",
        64 * 1024,
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("error: frame exceeds max frame size: 65536 > 1024"),
        "{stdout}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(closed, Some(1009), "{stdout}");
}

#[test]
fn a_message_within_the_limit_is_received() {
    let (code, stdout, _, _) = run("within", "", "{max_message_size: 128KiB}", 64 * 1024);
    assert_eq!(code, Some(0), "{stdout}");
}
