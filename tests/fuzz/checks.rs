//! Owns the checks the parse properties share: a scenario text is either accepted as a plan
//! whose durations cannot overflow where the runner and the reference server use them, and
//! whose repeated events and close windows can be met, or rejected with located diagnostics
//! that render with the right excerpt.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use sockspec::diagnostic::{Diagnostic, Pos};
use sockspec::scenario::{CloseExpectation, EventPlan, HandshakePlan, Plan, StepKind};

pub const FILE: &str = "scenarios/fuzz/case.yaml";

/// Parses `text`; a rejection must carry diagnostics with messages, and each must render.
pub fn check_parse(text: &str) -> Result<(), TestCaseError> {
    check_parse_at(text, Path::new(FILE), "fuzz/case")
}

/// [`check_parse`] for a scenario at `file` with id `id`. A diagnostic about another file (a
/// fragment the scenario includes) is checked against that file's text, which it carries.
pub fn check_parse_at(text: &str, file: &Path, id: &str) -> Result<(), TestCaseError> {
    match sockspec::scenario::parse(text, file, id) {
        Ok(plan) => {
            for p in std::iter::once(&plan).chain(plan.overrides.values()) {
                check_plan(p)?;
            }
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty(), "rejected without a diagnostic");
            for d in &diagnostics {
                let own = if d.file == file {
                    text
                } else {
                    d.source.as_deref().unwrap_or_default()
                };
                check_diagnostic(d, own)?;
            }
        }
    }
    Ok(())
}

/// An accepted plan must be runnable: its durations can be used the way the runner and the
/// reference server use them without overflowing. The runner turns every wait into a deadline
/// `Instant::now() + d` (steps/inbox.rs); the server starts heartbeats at
/// `Instant::now() + heartbeat_interval`, mints tokens expiring at `now_unix + token_ttl`, and
/// jsonwebtoken checks `exp` against `now_unix - leeway` and `nbf` against `now_unix + leeway`.
/// (Timeouts given to `tokio::time::timeout`, and `event_delay` given to `sleep`, are clamped
/// by tokio.) Its repeated events can end and be met, as the runner assumes (steps/matching.rs):
/// `max` is positive and at least `min`, an event without `max` has `until`, only a sequence
/// uses `until`; and a close's `after` is shorter than its `within`.
pub fn check_plan(plan: &Plan) -> Result<(), TestCaseError> {
    let mut deadlines: Vec<(&'static str, Duration)> = Vec::new();
    if let HandshakePlan::Closed(c) = &plan.handshake {
        deadlines.push(("handshake.closed.within", c.within));
        check_close(c)?;
    }
    for step in plan.setup.iter().chain(&plan.steps).chain(&plan.teardown) {
        match &step.kind {
            StepKind::Expect(e) => deadlines.push(("expect.within", e.within)),
            StepKind::Sequence(m) | StepKind::Unordered(m) => {
                deadlines.push(("within", m.within));
                deadlines.extend(m.each_within.map(|d| ("each_within", d)));
                let ordered = matches!(step.kind, StepKind::Sequence(_));
                for e in &m.events {
                    check_event(e, ordered)?;
                }
            }
            StepKind::ExpectNone { within, .. } => {
                deadlines.push(("expect_none.within", *within));
            }
            StepKind::ExpectClose(c) => {
                deadlines.push(("expect_close.within", c.within));
                check_close(c)?;
            }
            StepKind::Http(_) | StepKind::Send(_) | StepKind::Close { .. } | StepKind::Set(_) => {}
        }
    }
    let now = Instant::now();
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(o) = &plan.reference_server {
        deadlines.extend(
            o.heartbeat_interval
                .map(|d| ("reference_server.heartbeat_interval", d)),
        );
        let ttl = o.token_ttl().as_secs();
        prop_assert!(
            now_unix.checked_add(ttl).is_some(),
            "accepted reference_server.token_ttl = {ttl}s overflows a token's expiry"
        );
        let leeway = o.leeway.as_secs();
        prop_assert!(
            now_unix.checked_sub(leeway).is_some() && now_unix.checked_add(leeway).is_some(),
            "accepted reference_server.leeway = {leeway}s overflows jsonwebtoken's checks"
        );
    }
    for (what, d) in deadlines {
        prop_assert!(
            now.checked_add(d).is_some(),
            "accepted {what} = {d:?}, which overflows a deadline"
        );
    }
    Ok(())
}

/// An accepted event of a sequence (`ordered`) or an unordered set can end and be met.
fn check_event(e: &EventPlan, ordered: bool) -> Result<(), TestCaseError> {
    prop_assert!(
        e.max.is_some() || e.until.is_some(),
        "accepted a repeated event without `max` or `until`: {e:?}"
    );
    prop_assert!(
        e.max.is_none_or(|max| max > 0 && max >= e.min),
        "accepted a repeated event whose `max` is zero or below `min`: {e:?}"
    );
    prop_assert!(
        ordered || e.until.is_none(),
        "accepted `until` in an unordered set: {e:?}"
    );
    Ok(())
}

/// An accepted close expectation leaves room for the close between `after` and `within`.
fn check_close(c: &CloseExpectation) -> Result<(), TestCaseError> {
    prop_assert!(
        c.after.is_none_or(|after| after < c.within),
        "accepted `after` = {:?}, not shorter than `within` = {:?}",
        c.after,
        c.within
    );
    Ok(())
}

/// A diagnostic about `text`: it has a message, renders with its location, and a known
/// position lies inside the text (lines counted as YAML counts them: `\n`, `\r\n` or a lone
/// `\r` ends a line; the column at most one past the line's last character), the excerpt
/// showing that line.
pub fn check_diagnostic(d: &Diagnostic, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!d.message.trim().is_empty(), "empty message: {d:?}");
    let rendered = d.render();
    prop_assert!(
        rendered.starts_with("error: "),
        "rendered without a headline: {rendered}"
    );
    prop_assert!(
        rendered.contains(&format!("--> {}", d.location())),
        "rendered without its location: {rendered}"
    );
    if d.pos.is_known() && !(text.is_empty() && d.pos == Pos::new(1, 1)) {
        let lines: Vec<&str> = text
            .split("\r\n")
            .flat_map(|l| l.split(['\r', '\n']))
            .collect();
        let line = lines.get(d.pos.line - 1);
        prop_assert!(
            line.is_some_and(|l| d.pos.column <= l.chars().count() + 1),
            "{}:{} is outside the text ({} lines): {rendered}",
            d.pos.line,
            d.pos.column,
            lines.len()
        );
        prop_assert!(
            shows_line(&rendered, d.pos.line, line.unwrap_or(&"")),
            "the excerpt does not show line {}: {rendered}",
            d.pos.line
        );
    }
    Ok(())
}

/// Whether `rendered` shows source line `number` as an excerpt does: a line `N | text` (the
/// number right-aligned), control characters made visible and tabs expanded as
/// annotate-snippets does, no space after `|` on an empty line.
pub fn shows_line(rendered: &str, number: usize, text: &str) -> bool {
    let shown = match annotate_snippets::normalize_untrusted_str(text) {
        t if t.is_empty() => format!("{number} |"),
        t => format!("{number} | {t}"),
    };
    rendered
        .split('\n')
        .any(|l| l.trim_start_matches(' ') == shown)
}
