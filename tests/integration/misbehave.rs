//! Scenarios against the misbehaving server ([`crate::misbehave_server`]), one test per
//! misbehaviour, through `harness::run`: each ends within its deadlines + 1 s, nothing
//! panics, and the report's first line names what the server did.

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use sockspec::environment::Config;
use sockspec::harness::RunOutcome;

use crate::misbehave_server;

/// Two messages, `a` then `b`: every mode that completes the upgrade sends `a` first.
const TWO_MESSAGES: &str = "\
steps:
  - expect: {match: {type: a}, within: 2s}
  - expect: {match: {type: b}, within: 2s}
";

/// Runs `steps` against the server's `mode`; asserts the run fails within `bound` + 1 s and
/// returns the report's first line.
fn first_line(mode: &str, steps: &str, bound: Duration) -> String {
    run_mode(mode, steps, bound).0
}

/// [`first_line`], and the close codes the server saw the client send first.
fn run_mode(mode: &str, steps: &str, bound: Duration) -> (String, Receiver<u16>) {
    let (run, server, line) = run_raw(mode, steps, bound);
    assert!(
        matches!(run.outcome, RunOutcome::Failed(_)),
        "{mode}: {:?}",
        run.outcome
    );
    (line.expect("a report"), server.closes)
}

/// Runs `steps` against the server's `mode`; asserts the run passes within `bound` + 1 s and
/// returns how many pongs the client sent.
fn passes(mode: &str, steps: &str, bound: Duration) -> usize {
    let (run, server, line) = run_raw(mode, steps, bound);
    assert!(
        matches!(run.outcome, RunOutcome::Passed),
        "{mode}: {:?} {line:?}",
        run.outcome
    );
    server
        .pongs
        .recv_timeout(Duration::from_secs(3))
        .expect("the connection's pongs")
}

/// Runs `steps` against the server's `mode` within `bound` + 1 s: the run, the server, and
/// the report's first line if it failed.
fn run_raw(
    mode: &str,
    steps: &str,
    bound: Duration,
) -> (
    sockspec::harness::Run,
    misbehave_server::Server,
    Option<String>,
) {
    let server = misbehave_server::start();
    let addr = server.addr;
    let config = format!("environments:\n  misbehave:\n    ws_url: ws://{addr}\n");
    let config =
        Config::parse(&config, Path::new("."), Path::new("sockspec.yaml")).expect("config");
    let env = &config.environments["misbehave"];
    // Every scenario here has a handshake deadline of 1 s.
    // The closing handshake at the end may wait `close_timeout` once more; keep it within the
    // bound checked below (declared deadlines + 1 s).
    let scenario =
        format!("connect: {{path: /{mode}, timeout: 1s, close_timeout: 300ms}}\n{steps}");
    let plan = sockspec::scenario::parse(&scenario, Path::new("m.yaml"), mode).expect("scenario");
    let start = Instant::now();
    let run = sockspec::harness::run(&plan, env, &|_| None);
    let took = start.elapsed();
    assert!(
        took < bound + Duration::from_secs(1),
        "{mode}: took {took:?}, more than {bound:?} + 1s"
    );
    let line = run.report(&plan, env).map(|r| {
        let report = r.render();
        report.lines().next().unwrap_or_default().to_string()
    });
    eprintln!(
        "{mode} | {} | {took:?}",
        line.as_deref().unwrap_or("passed")
    );
    (run, server, line)
}

/// Asserts that `line` contains every one of `words`.
fn names(line: &str, words: &[&str]) {
    for w in words {
        assert!(line.contains(w), "expected {w:?} in the first line: {line}");
    }
}

/// A frame-level violation: named as a protocol error, and the client's first frame back is
/// a close with `code` (1002 protocol error, 1007 invalid data, 1009 too big).
fn frames(mode: &str, words: &[&str], code: u16) {
    let (line, closes) = run_mode(mode, TWO_MESSAGES, Duration::from_secs(3));
    let close = closes.recv_timeout(Duration::from_secs(2)).ok();
    names(line.as_str(), words);
    assert!(!line.contains("connection dropped"), "{line}");
    assert_eq!(close, Some(code), "{mode}: the client's close");
}

#[test]
fn silent_server_is_no_response() {
    let line = first_line("silent", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["no response (0 bytes)", "1s"]);
}

#[test]
fn head_byte_by_byte_is_an_incomplete_response() {
    let line = first_line("byte-by-byte", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["incomplete response (", "bytes of head)"]);
}

#[test]
fn redirect_names_the_location() {
    let line = first_line("redirect", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &["server redirected (302) to /elsewhere; not followed"],
    );
}

#[test]
fn garbage_is_not_http() {
    let line = first_line("garbage", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["invalid handshake response: not HTTP"]);
}

#[test]
fn bad_accept_key_is_named() {
    let line = first_line("bad-accept", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &["invalid handshake response: Sec-WebSocket-Accept does not match"],
    );
}

#[test]
fn missing_upgrade_header_is_named() {
    let line = first_line("no-upgrade", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &["invalid handshake response: no `Upgrade: websocket`"],
    );
}

#[test]
fn drop_after_the_upgrade_is_eof_without_close() {
    let line = first_line("drop", TWO_MESSAGES, Duration::from_secs(3));
    names(
        &line,
        &[
            "connection dropped (EOF without a close frame)",
            r#"{"type":"b"}"#,
        ],
    );
}

#[test]
fn reset_mid_sequence_is_a_reset() {
    let line = first_line("reset", TWO_MESSAGES, Duration::from_secs(3));
    names(
        &line,
        &[
            "connection dropped (reset by the server, no close frame)",
            r#"{"type":"b"}"#,
        ],
    );
}

#[test]
fn masked_frame_from_server() {
    frames(
        "masked",
        &["protocol error: masked frame from server"],
        1002,
    );
}

#[test]
fn reserved_bits_set() {
    frames(
        "reserved-bits",
        &["protocol error: reserved bits set"],
        1002,
    );
}

#[test]
fn unknown_opcode() {
    frames(
        "unknown-opcode",
        &["protocol error: unknown opcode 3"],
        1002,
    );
}

#[test]
fn invalid_utf8_in_a_text_frame() {
    frames(
        "invalid-utf8",
        &["protocol error: invalid UTF-8 in a text frame"],
        1007,
    );
}

#[test]
fn invalid_close_code_on_the_wire() {
    frames("close-1005", &["protocol error: invalid close code"], 1002);
}

#[test]
fn fragmented_control_frame() {
    frames(
        "fragmented-ping",
        &["protocol error: fragmented control frame"],
        1002,
    );
}

#[test]
fn huge_declared_length() {
    frames(
        "huge-length",
        &["message exceeds max size: 4611686018427387904 > 16777216"],
        1009,
    );
}

#[test]
fn server_that_never_answers_the_close() {
    let steps = "\
steps:
  - expect: {match: {type: a}, within: 2s}
  - expect: {match: {type: b}, within: 2s}
  - close: {code: 1000}
  - expect_close: {within: 1s}
";
    let line = first_line("no-close-answer", steps, Duration::from_secs(1));
    names(
        &line,
        &["the server never answered the close frame within 1s"],
    );
}

#[test]
fn unexpected_continuation() {
    frames(
        "unexpected-continuation",
        &["protocol error: unexpected continuation frame"],
        1002,
    );
}

#[test]
fn expected_continuation() {
    frames(
        "expected-continuation",
        &["protocol error: expected a continuation frame"],
        1002,
    );
}

#[test]
fn control_frame_too_big() {
    frames(
        "control-too-big",
        &["protocol error: control frame too big"],
        1002,
    );
}

#[test]
fn close_frame_too_short() {
    frames(
        "close-too-short",
        &["protocol error: close frame too short"],
        1002,
    );
}

#[test]
fn unknown_control_opcode() {
    frames(
        "unknown-control-opcode",
        &["protocol error: unknown opcode 11"],
        1002,
    );
}

#[test]
fn invalid_utf8_in_a_close_reason() {
    frames(
        "invalid-utf8-close-reason",
        &["protocol error: invalid UTF-8"],
        1007,
    );
}

/// tungstenite reports EOF inside a frame as it reports EOF between frames.
#[test]
fn frame_cut_by_eof() {
    let line = first_line("cut-frame", TWO_MESSAGES, Duration::from_secs(3));
    names(&line, &["connection dropped (EOF without a close frame)"]);
}

#[test]
fn unauthorized_names_the_status() {
    let line = first_line("unauthorized", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["401"]);
}

#[test]
fn unoffered_subprotocol_is_refused() {
    let line = first_line(
        "unoffered-subprotocol",
        TWO_MESSAGES,
        Duration::from_secs(1),
    );
    names(&line, &["invalid handshake response: subprotocol"]);
}

#[test]
fn missing_connection_header_is_named() {
    let line = first_line("no-connection", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &["invalid handshake response: no `Connection: Upgrade` header"],
    );
}

#[test]
fn header_flood_is_named() {
    let line = first_line("header-flood", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["invalid handshake response: too many headers"]);
}

#[test]
fn head_too_large_is_named() {
    let line = first_line("head-too-large", TWO_MESSAGES, Duration::from_secs(1));
    names(&line, &["invalid handshake response: head too large"]);
}

#[test]
fn head_cut_by_eof_is_named() {
    let line = first_line("incomplete-head", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &[
            "invalid handshake response: the server closed the connection before the end of the response head",
        ],
    );
}

/// One message `b` within 1 s, after `a`.
const B_WITHIN_1S: &str = "\
steps:
  - expect: {match: {type: a}, within: 2s}
  - expect: {match: {type: b}, within: 1s}
";

#[test]
fn huge_error_body_is_bounded() {
    let line = first_line("huge-error-body", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &[
            "server answered 500 instead of 101",
            "bytes in all]",
            "the server failed",
        ],
    );
    assert!(!line.contains("credential"), "{line}");
    assert!(line.chars().count() < 200, "{line}");
}

#[test]
fn undelimited_error_body_is_bounded() {
    let line = first_line(
        "undelimited-error-body",
        TWO_MESSAGES,
        Duration::from_secs(1),
    );
    names(
        &line,
        &[
            "server answered 500 instead of 101",
            "<html>",
            "the server failed",
        ],
    );
    assert!(!line.contains("credential"), "{line}");
    assert!(line.chars().count() < 200, "{line}");
}

#[test]
fn trickled_frame_within_the_deadline_passes() {
    passes("trickle-frame", B_WITHIN_1S, Duration::from_secs(3));
}

#[test]
fn trickled_frame_beyond_the_deadline() {
    let line = first_line("trickle-frame-slow", B_WITHIN_1S, Duration::from_secs(3));
    names(&line, &[r#"{"type":"b"}"#, "within 1s"]);
}

#[test]
fn slow_frame_just_before_within_passes() {
    passes("slow-before", B_WITHIN_1S, Duration::from_secs(3));
}

#[test]
fn slow_frame_just_after_within() {
    let line = first_line("slow-after", B_WITHIN_1S, Duration::from_secs(3));
    names(&line, &[r#"{"type":"b"}"#, "within 1s"]);
}

#[test]
fn malformed_json_is_named() {
    let line = first_line("malformed-json", B_WITHIN_1S, Duration::from_secs(3));
    names(&line, &["invalid JSON at line 1 column"]);
}

#[test]
fn fragments_with_interleaved_pings_pass_and_pings_are_answered() {
    let pongs = passes("fragments-with-pings", B_WITHIN_1S, Duration::from_secs(3));
    assert!(pongs >= 1, "no pong sent");
}

#[test]
fn ping_flood_then_a_message_passes() {
    let pongs = passes("ping-flood", B_WITHIN_1S, Duration::from_secs(3));
    assert!(pongs >= 1, "no pong sent");
}

#[test]
fn huge_fragmented_message_over_the_limit() {
    frames(
        "huge-fragmented",
        &["message exceeds max size:", "> 16777216"],
        1009,
    );
}

#[test]
fn binary_instead_of_text_is_named() {
    let line = first_line("binary-json", B_WITHIN_1S, Duration::from_secs(3));
    names(&line, &["binary"]);
}

// Redirects and statuses other than 101 (issue 11 item 3: `connect.follow_redirects`).

/// Runs `steps` against `mode` with `connect.follow_redirects: follow`, within 1 s + 1 s;
/// returns the outcome, the report's first line (empty when it passed) and the transcript.
fn run_following(mode: &str, follow: u8, steps: &str) -> (bool, String, String) {
    let server = misbehave_server::start();
    let config = format!(
        "environments:\n  misbehave:\n    ws_url: ws://{}\n",
        server.addr
    );
    let config =
        Config::parse(&config, Path::new("."), Path::new("sockspec.yaml")).expect("config");
    let env = &config.environments["misbehave"];
    let scenario = format!(
        "connect: {{path: /{mode}, timeout: 1s, close_timeout: 300ms, follow_redirects: {follow}}}\n{steps}"
    );
    let plan = sockspec::scenario::parse(&scenario, Path::new("m.yaml"), mode).expect("scenario");
    let start = Instant::now();
    let run = sockspec::harness::run(&plan, env, &|_| None);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "{mode}: took {took:?}");
    let passed = matches!(run.outcome, RunOutcome::Passed);
    let line = if passed {
        String::new()
    } else {
        let report = run.report(&plan, env).expect("a report").render();
        report.lines().next().unwrap_or_default().to_string()
    };
    eprintln!("{mode} (follow {follow}) | {line} | {took:?}");
    (passed, line, format!("{:?}", run.transcript))
}

const ONE_MESSAGE: &str = "steps:\n  - expect: {match: {type: a}, within: 2s}\n";

#[test]
fn a_same_origin_redirect_is_followed_and_recorded() {
    let (passed, line, transcript) = run_following("hop", 1, ONE_MESSAGE);
    assert!(passed, "{line}");
    assert!(transcript.contains("302"), "{transcript}");
    assert!(transcript.contains("/hop-target"), "{transcript}");
    // Not followed by default.
    let (passed, line, _) = run_following("hop", 0, ONE_MESSAGE);
    assert!(!passed);
    names(
        &line,
        &["server redirected (302) to /hop-target; not followed"],
    );
}

#[test]
fn a_redirect_loop_is_too_many_redirects() {
    let (passed, line, _) = run_following("loop", 2, ONE_MESSAGE);
    assert!(!passed);
    names(&line, &["too many redirects (2)", "/loop"]);
}

#[test]
fn more_hops_than_allowed_is_too_many_redirects() {
    let (passed, line, _) = run_following("two-hops", 2, ONE_MESSAGE);
    assert!(passed, "{line}");
    let (passed, line, _) = run_following("two-hops", 1, ONE_MESSAGE);
    assert!(!passed);
    names(
        &line,
        &["too many redirects (1); the last (302) to /hop-target"],
    );
}

#[test]
fn a_cross_origin_redirect_is_not_followed() {
    let (passed, line, transcript) = run_following("cross-origin", 3, ONE_MESSAGE);
    assert!(!passed);
    names(
        &line,
        &["server redirected (302) to ws://localhost.invalid:1/ws; not followed: another origin"],
    );
    assert!(
        !transcript.contains("url: \"ws://localhost.invalid"),
        "{transcript}"
    );
}

#[test]
fn a_503_is_not_blamed_on_the_credential() {
    let line = first_line("unavailable", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &[
            "server answered 503 instead of 101",
            "down for maintenance",
            "unavailable",
        ],
    );
    assert!(!line.contains("credential"), "{line}");
}

#[test]
fn a_500_body_is_truncated_and_not_blamed_on_the_credential() {
    let line = first_line("server-error", TWO_MESSAGES, Duration::from_secs(1));
    names(
        &line,
        &[
            "server answered 500 instead of 101",
            "truncated",
            "the server failed",
        ],
    );
    assert!(!line.contains("credential"), "{line}");
    assert!(line.len() < 200, "{line}");
}
