//! The closing handshake at the end of a scenario and bounded reports, through `harness::run`
//! against small misbehaving servers on loopback (std threads, port 0, every wait bounded):
//! an unanswered close is recorded (a failure only under `expect_clean_close`) and bounded by
//! `close_timeout`; a close from the server is echoed; an answered close stays out of the
//! snapshot; a 3 KB 403 body and a 1 MiB message give reports whose lines are bounded.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockspec::environment::Config;
use sockspec::harness::{Run, RunOutcome};
use sockspec::transcript::{CloseEnding, Event};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// Every read of the test servers gives up after this.
const READ: Duration = Duration::from_secs(3);

/// A server for one connection on 127.0.0.1:0, running `serve` on its own thread.
fn server<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (u16, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("one connection");
        stream.set_read_timeout(Some(READ)).expect("read timeout");
        stream.set_write_timeout(Some(READ)).expect("write timeout");
        serve(stream)
    });
    (port, handle)
}

/// Reads the whole request head (to its blank line): closing with unread bytes would reset the
/// connection, and the client could lose the answer.
fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

/// Upgrades `stream` and answers the first message with `{"type":"pong"}`.
fn accept_and_pong(stream: TcpStream) -> WebSocket<TcpStream> {
    let mut ws = tungstenite::accept(stream).expect("upgrade");
    let _ping = ws.read().expect("the ping");
    ws.send(Message::text(r#"{"type":"pong"}"#)).expect("pong");
    ws
}

/// Runs `scenario` against the server on `port`.
fn run(port: u16, scenario: &str) -> (Run, sockspec::scenario::Plan, Config) {
    let config = Config::parse(
        &format!("environments:\n  bad:\n    local: true\n    ws_url: ws://127.0.0.1:{port}\n"),
        Path::new("."),
        Path::new("sockspec.yaml"),
    )
    .expect("config");
    let plan = sockspec::scenario::parse(scenario, Path::new("t.yaml"), "t").expect("valid");
    let run = sockspec::harness::run(&plan, &config.environments["bad"], &|_| None);
    (run, plan, config)
}

fn closing(run: &Run) -> Option<(bool, CloseEnding)> {
    run.transcript
        .as_ref()?
        .entries
        .iter()
        .find_map(|e| match &e.event {
            Event::Closing { sent, ending, .. } => Some((*sent, ending.clone())),
            _ => None,
        })
}

fn ping_pong(connect: &str) -> String {
    format!(
        "auth: none\nconnect: {connect}\nsteps:\n  - send: {{type: ping}}\n  - expect: {{match: {{type: pong}}, within: 2s}}\n"
    )
}

/// A server that reads nothing after the pong: the client's close is never answered.
fn silent_after_pong(stream: TcpStream) {
    let ws = accept_and_pong(stream);
    std::thread::sleep(Duration::from_millis(1500));
    drop(ws);
}

#[test]
fn an_unanswered_close_is_recorded_and_bounded_by_the_close_timeout() {
    let (port, server) = server(silent_after_pong);
    let started = Instant::now();
    let (run, plan, _) = run(port, &ping_pong("{close_timeout: 300ms}"));
    let elapsed = started.elapsed();
    assert!(
        matches!(run.outcome, RunOutcome::Passed),
        "{:?}",
        run.outcome
    );
    assert_eq!(
        closing(&run),
        Some((
            true,
            CloseEnding::Unanswered {
                after: Duration::from_millis(300)
            }
        ))
    );
    assert!(elapsed < Duration::from_millis(1400), "{elapsed:?}");
    let snapshot = run.snapshot_text(&plan).expect("a snapshot");
    assert!(
        snapshot.contains(
            "close_unanswered: server never answered the close frame (aborted after 300ms)"
        ),
        "{snapshot}"
    );
    server.join().expect("server thread");
}

#[test]
fn an_unanswered_close_fails_a_scenario_that_expects_a_clean_close() {
    let (port, server) = server(silent_after_pong);
    let (run, plan, config) = run(
        port,
        &ping_pong("{close_timeout: 300ms, expect_clean_close: true}"),
    );
    let RunOutcome::Failed(f) = &run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(
        f.message,
        "server never answered the close frame (aborted after 300ms)"
    );
    let report = run
        .report(&plan, &config.environments["bad"])
        .expect("a report")
        .render();
    assert!(
        report.contains("× server never answered the close frame"),
        "{report}"
    );
    server.join().expect("server thread");
}

#[test]
fn an_answered_close_is_recorded_but_left_out_of_the_snapshot() {
    let (port, server) = server(|stream| {
        let mut ws = accept_and_pong(stream);
        // tungstenite answers the close while it reads.
        loop {
            match ws.read() {
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = ws.flush();
    });
    let (run, plan, _) = run(port, &ping_pong("{expect_clean_close: true}"));
    assert!(
        matches!(run.outcome, RunOutcome::Passed),
        "{:?}",
        run.outcome
    );
    assert_eq!(
        closing(&run),
        Some((
            true,
            CloseEnding::Answered {
                code: Some(1000),
                reason: String::new()
            }
        ))
    );
    let snapshot = run.snapshot_text(&plan).expect("a snapshot");
    assert!(!snapshot.contains("close"), "{snapshot}");
    server.join().expect("server thread");
}

#[test]
fn a_close_from_the_server_is_echoed_and_not_closed_again() {
    let (tx, rx) = mpsc::channel();
    let (port, server) = server(move |stream| {
        let mut ws = tungstenite::accept(stream).expect("upgrade");
        ws.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Library(4000),
            reason: "bye".into(),
        })))
        .expect("close sent");
        let mut frames = Vec::new();
        let mut raw = Vec::new();
        // The echo, then the end of the connection: no second close.
        while let Ok(m) = ws.read() {
            frames.push(m);
        }
        let _ = ws.get_mut().read_to_end(&mut raw);
        tx.send((frames, raw)).expect("report");
    });
    let (run, _, _) = run(
        port,
        "auth: none\nsteps:\n  - expect_close: {code: 4000, within: 2s}\n",
    );
    assert!(
        matches!(run.outcome, RunOutcome::Passed),
        "{:?}",
        run.outcome
    );
    assert_eq!(closing(&run), Some((false, CloseEnding::ServerClosed)));
    let (frames, raw) = rx.recv_timeout(READ * 2).expect("the server's report");
    assert_eq!(frames.len(), 1, "{frames:?}");
    let Message::Close(Some(echo)) = &frames[0] else {
        panic!("not a close: {frames:?}")
    };
    assert_eq!(u16::from(echo.code), 4000);
    assert!(raw.is_empty(), "{raw:?}");
    server.join().expect("server thread");
}

/// Asserts the report's first line is under 200 characters and every line is bounded.
fn assert_bounded(report: &str) {
    let first = report.lines().next().unwrap_or("");
    assert!(first.chars().count() < 200, "{first}");
    for line in report.lines() {
        assert!(line.len() <= 2048 + 200, "a line of {} bytes", line.len());
    }
    assert!(
        report.len() < 64 * 1024,
        "a report of {} bytes",
        report.len()
    );
}

#[test]
fn a_3_kb_rejection_body_gives_a_bounded_report() {
    let (port, server) = server(|mut stream| {
        read_request_head(&mut stream);
        let body = format!("<html>{}</html>", "denied ".repeat(440));
        // The head and the body in separate segments: the client must wait for the body.
        let _ = stream.set_nodelay(true);
        let _ = write!(
            stream,
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.flush();
        let _ = stream.write_all(body.as_bytes());
        let _ = stream.flush();
        body.len()
    });
    let (run, plan, config) = run(port, &ping_pong("{}"));
    let report = run
        .report(&plan, &config.environments["bad"])
        .expect("a report")
        .render();
    let size = server.join().expect("server thread");
    assert!(size > 3000, "{size}");
    assert!(
        report.starts_with("error: handshake rejected with 403"),
        "{report}"
    );
    assert!(report.contains("3,093 bytes in all]"), "{report}");
    assert_bounded(&report);
    let snapshot = run.snapshot_text(&plan).expect("a snapshot");
    for line in snapshot.lines() {
        assert!(
            line.len() <= 2048 + 200,
            "a snapshot line of {} bytes",
            line.len()
        );
    }
}

#[test]
fn a_1_mib_message_gives_a_bounded_report() {
    let (port, server) = server(|stream| {
        let mut ws = tungstenite::accept(stream).expect("upgrade");
        let _ping = ws.read().expect("the ping");
        let big = format!(r#"{{"type":"big","data":"{}"}}"#, "x".repeat(1 << 20));
        ws.send(Message::text(big)).expect("big message");
        while ws.read().is_ok() {}
    });
    let (run, plan, config) = run(port, &ping_pong("{close_timeout: 1s}"));
    let report = run
        .report(&plan, &config.environments["bad"])
        .expect("a report")
        .render();
    assert!(report.contains("1,048,"), "{report}");
    assert_bounded(&report);
    let snapshot = run.snapshot_text(&plan).expect("a snapshot");
    assert!(
        snapshot.len() < 16 * 1024,
        "a snapshot of {} bytes",
        snapshot.len()
    );
    server.join().expect("server thread");
}

#[test]
fn the_environment_close_timeout_applies_when_the_scenario_sets_none() {
    let (port, server) = server(silent_after_pong);
    let config = Config::parse(
        &format!(
            "environments:\n  bad:\n    local: true\n    ws_url: ws://127.0.0.1:{port}\n    close_timeout: 250ms\n"
        ),
        Path::new("."),
        Path::new("sockspec.yaml"),
    )
    .expect("config");
    let plan =
        sockspec::scenario::parse(&ping_pong("{}"), Path::new("t.yaml"), "t").expect("valid");
    let run = sockspec::harness::run(&plan, &config.environments["bad"], &|_| None);
    assert_eq!(
        closing(&run),
        Some((
            true,
            CloseEnding::Unanswered {
                after: Duration::from_millis(250)
            }
        ))
    );
    server.join().expect("server thread");
    let bad = Config::parse(
        "environments:\n  bad:\n    ws_url: ws://127.0.0.1:1\n    close_timeout: soon\n",
        Path::new("."),
        Path::new("sockspec.yaml"),
    )
    .expect_err("a bad duration")
    .render();
    assert!(bad.contains("environments.bad.close_timeout"), "{bad}");
}

#[test]
fn a_refusal_whose_body_never_completes_stays_a_refusal_within_the_deadline() {
    let (port, server) = server(|mut stream| {
        read_request_head(&mut stream);
        // 100 bytes announced, 7 sent, and the connection held open.
        let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\npartial");
        let _ = stream.flush();
        // Until the client goes away (or the read timeout).
        let _ = stream.read(&mut [0u8; 1]);
    });
    let (run, plan, config) = run(port, &ping_pong("{timeout: 300ms}"));
    let report = run
        .report(&plan, &config.environments["bad"])
        .expect("a report")
        .render();
    server.join().expect("server thread");
    assert!(
        report.starts_with("error: handshake rejected with 403"),
        "{report}"
    );
    assert!(report.contains("partial"), "{report}");
}
