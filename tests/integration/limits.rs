//! The client's size limits end to end: a loopback server (tungstenite, one connection, every
//! wait bounded) sends a message larger than the scenario's `connect.max_message_size`; the
//! scenario fails within its deadline with a first line naming both sizes, and the server
//! receives the client's close 1009.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::{Message, accept};

/// Serves one WebSocket connection on 127.0.0.1:0 that sends `message_bytes` bytes of text,
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
        let _ = ws.send(Message::text("x".repeat(message_bytes)));
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

#[test]
fn a_message_over_the_limit_fails_the_scenario_naming_its_size_and_closes_with_1009() {
    let (port, closed) = serve_one(64 * 1024);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("sockspec-limits-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenarios")).expect("temp dir");
    std::fs::create_dir_all(dir.join("snapshots")).expect("temp dir");
    let config = format!(
        "environments:\n  tiny:\n    local: true\n    ws_url: ws://127.0.0.1:{port}\n    \
         max_frame_size: 512KiB\n"
    );
    std::fs::write(dir.join("sockspec.yaml"), config).expect("config");
    std::fs::write(
        dir.join("scenarios/big.yaml"),
        "connect: {max_message_size: 1KiB}\nsteps:\n  - expect: {match: {type: hello}, within: 5s}\n",
    )
    .expect("scenario");

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("--root")
        .arg(&dir)
        .args(["test", "--env", "tiny"])
        .env_remove("SOCKSPEC_ENV")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("sockspec runs");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);

    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error: message exceeds max size: 65536 > 1024"),
        "{stdout}"
    );
    assert!(stdout.contains("the client closed with 1009"), "{stdout}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let code = closed
        .recv_timeout(Duration::from_secs(10))
        .expect("the server finished");
    assert_eq!(code, Some(1009), "{stdout}");
}
