//! Owns the inputs that once crashed, kept as plain tests: each names the property that found
//! it and what broke.

use std::path::Path;

use sockspec::diagnostic::Diagnostic;

use crate::checks::{FILE, check_parse};

fn rejected(text: &str) -> Vec<Diagnostic> {
    match sockspec::scenario::parse(text, Path::new(FILE), "fuzz/case") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(ds) => ds,
    }
}

/// Found by `parse_generated_scenarios` (the accepted-plan check): a wait such as
/// `within: 18446744073709551615s` passed validation, then the runner panicked with
/// "overflow when adding duration to instant" computing its deadline.
#[test]
fn wait_durations_that_overflow_a_deadline_are_rejected() {
    let huge = "18446744073709551615s";
    let cases = [
        (format!("connect: {{timeout: {huge}}}\n"), "connect.timeout"),
        (
            format!("steps:\n  - expect: {{match: {{type: pong}}, within: {huge}}}\n"),
            "steps[0].expect.within",
        ),
        (
            format!(
                "steps:\n  - expect_sequence: {{events: [{{type: a}}], each_within: {huge}}}\n"
            ),
            "steps[0].expect_sequence.each_within",
        ),
        (
            format!("steps:\n  - expect_none: {{match: {{type: a}}, within: {huge}}}\n"),
            "steps[0].expect_none.within",
        ),
        (
            format!("steps:\n  - expect_close: {{within: {huge}}}\n"),
            "steps[0].expect_close.within",
        ),
        (
            format!("handshake: {{closed: {{within: {huge}}}}}\n"),
            "handshake.closed.within",
        ),
        (
            format!("setup:\n  - http: {{path: /x, timeout: {huge}}}\n"),
            "setup[0].http.timeout",
        ),
        (
            "auth: {exchange: {path: /x, timeout: 584542046090y}}\n".to_owned(),
            "auth.exchange.timeout",
        ),
        (
            "steps:\n  - expect: {match: {type: pong}, within: 25h}\n".to_owned(),
            "steps[0].expect.within",
        ),
    ];
    for (text, field) in cases {
        let ds = rejected(&text);
        assert_eq!(ds.len(), 1, "{text}");
        assert_eq!(ds[0].field.as_deref(), Some(field), "{text}");
        assert!(
            ds[0].message.ends_with("is longer than 24h"),
            "{}",
            ds[0].render()
        );
        assert!(check_parse(&text).is_ok());
    }
    // The longest wait allowed is still accepted.
    let ok = "steps:\n  - expect: {match: {type: pong}, within: 24h}\n";
    assert!(sockspec::scenario::parse(ok, Path::new(FILE), "x").is_ok());
}

/// Found by `parse_generated_scenarios` (the accepted-plan check); each of the first three
/// made the reference server panic once a scenario ran: `heartbeat_interval` computing
/// its first tick (`Instant + Duration`), `token_ttl` minting a token (`now + ttl`),
/// `leeway` inside jsonwebtoken (`now - leeway`). `event_delay` never overflowed (tokio
/// clamps sleeps) but shares the bound.
#[test]
fn reference_server_durations_that_overflow_are_rejected() {
    for option in [
        "heartbeat_interval: 18446744073709551615s",
        "token_ttl: 18446744073709551615s",
        "leeway: 100y",
        "event_delay: 18446744073709551615s",
    ] {
        let text = format!("reference_server: {{{option}}}\n");
        let ds = rejected(&text);
        assert_eq!(ds.len(), 1, "{text}");
        // The one duration parser caps every duration at 24h, so the error points at the
        // value itself (1-based column) rather than at `reference_server:`.
        let value_column = text.rfind(": ").map(|i| i + 3);
        assert!(
            ds[0].message.ends_with("is longer than 24h") && Some(ds[0].pos.column) == value_column,
            "{}",
            ds[0].render()
        );
    }
}

/// Found by all three parse properties (the excerpt check): YAML ends a line at a lone
/// `\r` and so do serde-saphyr's positions, but the renderer split lines with
/// `str::lines`, so the excerpt showed the wrong line, a raw `\r`, or nothing.
#[test]
fn a_lone_carriage_return_ends_a_line_in_excerpts() {
    let ds = rejected("\r");
    assert!(!ds[0].render().contains('\r'), "{:?}", ds[0].render());

    let text = "name: x\rsteps: [{expect_sequence: {ignore: {nmae: 1}}}]\n";
    let ds = rejected(text);
    let rendered = ds[0].render();
    assert_eq!(ds[0].message, "missing field `events`");
    assert_eq!((ds[0].pos.line, ds[0].pos.column), (2, 28));
    assert!(
        rendered.contains("1 | name: x\n2 | steps: [{expect_sequence: {ignore: {nmae: 1}}}]\n"),
        "{rendered}"
    );
    for text in [
        "\r",
        text,
        "name: Capture\r\rsteps: [{send: {a: \"{{\"}}]\n",
    ] {
        assert!(check_parse(text).is_ok(), "{text:?}");
    }
}
