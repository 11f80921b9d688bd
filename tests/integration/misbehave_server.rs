//! A test server that misbehaves on purpose: raw TCP on 127.0.0.1:0, so it can write any
//! bytes. The request path selects the misbehaviour ([`Mode`]). Every loop is bounded in
//! count and time: the server accepts at most [`MAX_CONNECTIONS`] connections within
//! [`LIFETIME`], reads at most [`MAX_HEAD`] bytes of request, and holds no connection longer
//! than [`HOLD`].

use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Connections the server accepts before it stops.
const MAX_CONNECTIONS: usize = 4;
/// The most client bytes kept after the upgrade (enough for 10,000 pongs).
const MAX_KEPT: usize = 256 * 1024;
/// How long the server lives.
const LIFETIME: Duration = Duration::from_secs(20);
/// The most request bytes read.
const MAX_HEAD: usize = 16 * 1024;
/// The longest a connection is held open without an answer.
const HOLD: Duration = Duration::from_secs(8);

/// The first message every mode that completes the upgrade sends before misbehaving.
const FIRST: &[u8] = br#"{"type":"a"}"#;

/// The server's address, and the close codes of the first frames clients sent after the
/// server misbehaved (one per connection that sent a close frame first).
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub closes: Receiver<u16>,
    /// Per connection that the client closed: how many pong frames it sent.
    pub pongs: Receiver<usize>,
}

/// Starts the server on its own thread.
pub(crate) fn start() -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    let (close_tx, closes) = std::sync::mpsc::channel();
    let (pong_tx, pongs) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            let serve = async {
                for _ in 0..MAX_CONNECTIONS {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let _ = stream.set_nodelay(true);
                    let sent = Sent {
                        closes: close_tx.clone(),
                        pongs: pong_tx.clone(),
                    };
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(HOLD * 2, handle(stream, sent)).await;
                    });
                }
                // Let the last connections finish.
                tokio::time::sleep(HOLD * 2).await;
            };
            let _ = tokio::time::timeout(LIFETIME, serve).await;
        });
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("server address");
    Server {
        addr,
        closes,
        pongs,
    }
}

/// Where a connection reports what the client sent.
struct Sent {
    closes: Sender<u16>,
    pongs: Sender<usize>,
}

/// The request head: its path and `Sec-WebSocket-Key`.
async fn read_head(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = tokio::time::timeout(HOLD, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let path = text.split_whitespace().nth(1)?.to_string();
    let key = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    Some((path, key))
}

fn switching(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

/// An unmasked server frame: FIN, `opcode`, `payload` (< 126 bytes).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![0x80 | opcode, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

/// The header of an unmasked frame with a 64-bit length: `fin`, `opcode`, `len`.
fn long_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 | opcode } else { opcode }, 0x7F];
    out.extend_from_slice(&len.to_be_bytes());
    out
}

/// The number of pong frames among `bytes` (client frames, masked, from the start of the
/// connection after the upgrade); stops at the first frame it cannot parse whole.
fn count_pongs(bytes: &[u8]) -> usize {
    let mut at = 0;
    let mut pongs = 0;
    for _ in 0..100_000 {
        let (Some(&b0), Some(&b1)) = (bytes.get(at), bytes.get(at + 1)) else {
            break;
        };
        let (len, head) = match b1 & 0x7F {
            126 => match bytes.get(at + 2..at + 4) {
                Some(l) => (u16::from_be_bytes([l[0], l[1]]) as usize, 4),
                None => break,
            },
            127 => break,
            n => (n as usize, 2),
        };
        let head = head + if b1 & 0x80 != 0 { 4 } else { 0 };
        if b0 & 0x0F == 0xA {
            pongs += 1;
        }
        at += head + len;
    }
    pongs
}

/// Writes `bytes` `step` bytes at a time, sleeping `pause` between writes; stops after
/// `count` writes or a write error.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], step: usize, pause: Duration, count: usize) {
    for chunk in bytes.chunks(step).take(count) {
        if stream.write_all(chunk).await.is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

/// Writes `total` bytes of `{"type":"b","data":"xx…"}` in text fragments of `fragment`
/// bytes, generated as they go (the server never holds the message).
async fn fragmented(stream: &mut (impl AsyncWriteExt + Unpin), total: usize, fragment: usize) {
    let prefix = br#"{"type":"b","data":""#;
    let suffix = br#""}"#;
    let filler = vec![b'x'; fragment];
    let mut sent = 0;
    for k in 0..(total / fragment + 1) {
        let len = fragment.min(total - sent);
        let fin = sent + len >= total;
        let opcode = if k == 0 { 0x1 } else { 0x0 };
        let mut payload = filler[..len].to_vec();
        if k == 0 {
            payload[..prefix.len()].copy_from_slice(prefix);
        }
        if fin {
            let n = payload.len();
            payload[n - suffix.len()..].copy_from_slice(suffix);
        }
        let mut out = long_header(fin, opcode, len as u64);
        out.extend_from_slice(&payload);
        if stream.write_all(&out).await.is_err() {
            return;
        }
        sent += len;
        if fin {
            return;
        }
    }
}

/// Reads what the client sends, until it closes the TCP connection or `HOLD`; returns the
/// first [`MAX_KEPT`] bytes.
async fn drain(stream: &mut (impl AsyncReadExt + Unpin)) -> Vec<u8> {
    let mut chunk = [0u8; 4096];
    let mut kept = Vec::new();
    let _ = tokio::time::timeout(HOLD, async {
        for _ in 0..100_000 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) if kept.len() < MAX_KEPT => kept.extend_from_slice(&chunk[..n]),
                Ok(_) => {}
            }
        }
    })
    .await;
    kept
}

/// The close code of `bytes`' first frame (a client frame, masked), if it is a close frame
/// with a code.
fn close_code(bytes: &[u8]) -> Option<u16> {
    let [b0, b1, m0, m1, _, _, c0, c1, ..] = *bytes else {
        return None;
    };
    (b0 & 0x0F == 0x8 && b1 & 0x80 != 0 && b1 & 0x7F >= 2)
        .then(|| u16::from_be_bytes([c0 ^ m0, c1 ^ m1]))
}

async fn handle(mut stream: TcpStream, sent: Sent) {
    let Some((path, key)) = read_head(&mut stream).await else {
        return;
    };
    let mode = path.trim_start_matches('/');
    let accepted = switching(&key);
    let mut upgraded = accepted.as_bytes().to_vec();
    upgraded.extend(frame(0x1, FIRST));
    let after_first = |bad: &[u8]| {
        let mut out = upgraded.clone();
        out.extend_from_slice(bad);
        out
    };
    let bytes: Vec<u8> = match mode {
        "undelimited-error-body" => {
            let head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n\r\n<html>";
            if stream.write_all(head).await.is_err() {
                return;
            }
            trickle(&mut stream, &[b'x'; 200], 1, Duration::from_millis(50), 200).await;
            return;
        }
        "trickle-frame" | "trickle-frame-slow" => {
            if stream.write_all(&upgraded).await.is_err() {
                return;
            }
            // 14 bytes: 0.7 s at 50 ms a byte, 4.2 s at 300 ms.
            let pause = if mode == "trickle-frame" { 50 } else { 300 };
            let b = frame(0x1, br#"{"type":"b"}"#);
            trickle(&mut stream, &b, 1, Duration::from_millis(pause), b.len()).await;
            report(&mut stream, &sent).await;
            return;
        }
        "slow-before" | "slow-after" => {
            if stream.write_all(&upgraded).await.is_err() {
                return;
            }
            let pause = if mode == "slow-before" { 700 } else { 1300 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if stream.write_all(&frame(0x1, br#"{"type":"b"}"#)).await.is_err() {
                return;
            }
            report(&mut stream, &sent).await;
            return;
        }
        "huge-fragmented" => {
            if stream.write_all(&upgraded).await.is_err() {
                return;
            }
            let (mut read, mut write) = stream.into_split();
            let writing = fragmented(&mut write, 32 << 20, 64 << 10);
            let (_, bytes) = tokio::join!(writing, drain(&mut read));
            if let Some(code) = close_code(&bytes) {
                let _ = sent.closes.send(code);
            }
            return;
        }
        "silent" => {
            let _ = drain(&mut stream).await;
            return;
        }
        "byte-by-byte" => {
            for b in accepted.as_bytes().iter().take(200) {
                if stream.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = drain(&mut stream).await;
            return;
        }
        "redirect" => b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec(),
        "garbage" => b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n".to_vec(),
        "bad-accept" => b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n".to_vec(),
        "no-upgrade" => format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        )
        .into_bytes(),
        "drop" => upgraded.clone(),
        "reset" => {
            let _ = stream.write_all(&upgraded).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
            return;
        }
        "masked" => after_first(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]),
        "reserved-bits" => after_first(&[0xC1, 0x02, b'h', b'i']),
        "unknown-opcode" => after_first(&frame(0x3, b"")),
        "invalid-utf8" => after_first(&frame(0x1, &[0xC3, 0x28])),
        "close-1005" => after_first(&frame(0x8, &1005u16.to_be_bytes())),
        "fragmented-ping" => after_first(&[0x09, 0x00]),
        "huge-length" => after_first(&[0x82, 0x7F, 0x40, 0, 0, 0, 0, 0, 0, 0]),
        "no-close-answer" => after_first(&frame(0x1, br#"{"type":"b"}"#)),
        "unexpected-continuation" => after_first(&frame(0x0, b"x")),
        "expected-continuation" => after_first(&[0x01, 0x01, b'x', 0x81, 0x01, b'y']),
        "control-too-big" => {
            let mut ping = vec![0x89, 0x7E, 0x00, 0x7E];
            ping.extend([b'p'; 126]);
            after_first(&ping)
        }
        "close-too-short" => after_first(&[0x88, 0x01, 0x03]),
        "unknown-control-opcode" => after_first(&frame(0xB, b"")),
        "invalid-utf8-close-reason" => after_first(&frame(0x8, &[0x03, 0xE8, 0xC3, 0x28])),
        "cut-frame" => after_first(&[0x81, 0x10, b'{']),
        "unauthorized" => b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nno token sent".to_vec(),
        "unoffered-subprotocol" => {
            let mut head = accepted.clone();
            head.insert_str(head.len() - 2, "Sec-WebSocket-Protocol: chat\r\n");
            head.into_bytes()
        }
        "no-connection" => format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        )
        .into_bytes(),
        "header-flood" => {
            let mut head = accepted.clone();
            let flood: String = (0..200).map(|k| format!("X-Flood-{k}: x\r\n")).collect();
            head.insert_str(head.len() - 2, &flood);
            head.into_bytes()
        }
        "head-too-large" => {
            let mut head = accepted.clone();
            let big = format!("X-Big: {}\r\n", "x".repeat(80 * 1024));
            head.insert_str(head.len() - 2, &big);
            head.into_bytes()
        }
        "incomplete-head" => accepted.as_bytes()[..16].to_vec(),
        "huge-error-body" => {
            let mut out =
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5242880\r\n\r\n".to_vec();
            out.resize(out.len() + (5 << 20), b'x');
            out
        }
        "malformed-json" => after_first(&frame(0x1, br#"{"type": "a","#)),
        "binary-json" => after_first(&frame(0x2, br#"{"type":"b"}"#)),
        "fragments-with-pings" => after_first(&[
            &[0x01, 0x07][..],
            br#"{"type""#,
            &frame(0x9, b"p1"),
            &[0x00, 0x04],
            br#":"b""#,
            &frame(0x9, b"p2"),
            &[0x80, 0x01, b'}'],
        ]
        .concat()),
        "ping-flood" => {
            let mut flood = Vec::with_capacity(20_016);
            for _ in 0..10_000 {
                flood.extend_from_slice(&[0x89, 0x00]);
            }
            flood.extend(frame(0x1, br#"{"type":"b"}"#));
            after_first(&flood)
        }
        _ => redirect_or_status(mode, &upgraded)
            .unwrap_or_else(|| b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
    };
    if stream.write_all(&bytes).await.is_err() {
        return;
    }
    let _ = stream.flush().await;
    match mode {
        // Closes the TCP connection (FIN) without a close frame.
        "drop" | "redirect" | "garbage" | "bad-accept" | "no-upgrade" | "cut-frame"
        | "unauthorized" | "no-connection" | "incomplete-head" | "huge-error-body" => {
            let _ = stream.shutdown().await;
        }
        _ => report(&mut stream, &sent).await,
    }
}

/// Drains what the client sends and reports its first close code and its pongs.
async fn report(stream: &mut TcpStream, sent: &Sent) {
    let bytes = drain(stream).await;
    if let Some(code) = close_code(&bytes) {
        let _ = sent.closes.send(code);
    }
    let _ = sent.pongs.send(count_pongs(&bytes));
}

// Redirects and statuses other than 101 (issue 11 item 3: `connect.follow_redirects`).

/// The answer of the redirect and status modes, `None` for other paths: `hop` redirects to
/// `hop-target` (`two-hops` to `hop`), which upgrades and sends the first message; `loop` redirects to itself;
/// `cross-origin` to another host; `unavailable` is a 503 with a JSON detail, `server-error`
/// a 500 with a long HTML page.
fn redirect_or_status(mode: &str, upgraded: &[u8]) -> Option<Vec<u8>> {
    let redirect =
        |to: &str| format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
    let status = |line: &str, body: &str| {
        format!(
            "HTTP/1.1 {line}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    Some(
        match mode {
            "hop" => redirect("/hop-target"),
            "two-hops" => redirect("/hop"),
            "hop-target" => return Some(upgraded.to_vec()),
            "loop" => redirect("/loop"),
            "cross-origin" => redirect("ws://localhost.invalid:1/ws"),
            "unavailable" => status(
                "503 Service Unavailable",
                r#"{"detail":"down for maintenance"}"#,
            ),
            "server-error" => status(
                "500 Internal Server Error",
                &format!("<html><body>{}</body></html>", "stack trace ".repeat(300)),
            ),
            _ => return None,
        }
        .into_bytes(),
    )
}
