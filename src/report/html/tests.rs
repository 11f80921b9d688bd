//! Unit tests of the HTML report: the summary of a small fixed run (snapshot), escaping, and
//! the data blob that no record text can break out of.

use super::summary;
use super::{RunRecords, SCRIPT, STYLE, escape, render_page};
use crate::report::record::{
    Cause, CauseKind, EntryKind, FORMAT, FrameDisposition, Lane, RecordOutcome, RunRecord,
    TimelineEntry,
};

fn record(trial: &str, outcome: RecordOutcome, ms: f64) -> RunRecord {
    let (environment, scenario) = trial.split_once("::").unwrap_or(("local", trial));
    RunRecord {
        format: FORMAT.to_owned(),
        trial: trial.to_owned(),
        scenario: scenario.to_owned(),
        name: scenario.to_owned(),
        file: format!("scenarios/{scenario}.yaml"),
        environment: environment.to_owned(),
        outcome,
        cause: (outcome == RecordOutcome::Failed).then(|| Cause {
            kind: CauseKind::MessageTimeout,
            first_line: "no message matching {\"type\":\"<done>\"} arrived within 1s".to_owned(),
        }),
        diagnostic: None,
        started_at: "2026-01-01T00:00:00.000Z".to_owned(),
        duration_ms: ms,
        steps: Vec::new(),
        timeline: vec![TimelineEntry {
            at_ms: 1.5,
            lane: Lane::Server,
            kind: EntryKind::Received,
            step: Some(1),
            seq: Some(1),
            text: "text \"</script><script>alert(1)</script>\"".to_owned(),
            disposition: Some(FrameDisposition::Unclaimed),
            claimed_by: None,
        }],
        http: Vec::new(),
        credential: None,
        snapshot_diff: None,
    }
}

fn run() -> Vec<RunRecords> {
    vec![RunRecords {
        run: "run-1".to_owned(),
        records: vec![
            record("local::auth/<ok>", RecordOutcome::Passed, 120.0),
            record("local::agent/flow", RecordOutcome::Failed, 1500.0),
            record("staging::agent/flow", RecordOutcome::Ignored, 0.0),
            record("staging::auth/ok", RecordOutcome::Passed, 80.25),
        ],
    }]
}

#[test]
fn summary_of_a_small_run() {
    let runs = run();
    let all: Vec<&RunRecord> = runs.iter().flat_map(|r| &r.records).collect();
    insta::assert_snapshot!(summary::render(&all));
}

#[test]
fn page_of_a_small_run() {
    // The embedded CSS and JavaScript are left out: they are files of their own.
    let page = render_page(&run(), "2026-01-01T00:00:00Z")
        .expect("renders")
        .replace(STYLE, "/* style.css */\n")
        .replace(SCRIPT, "/* app.js */\n");
    insta::assert_snapshot!(page);
}

#[test]
fn text_is_escaped_for_elements_and_attributes() {
    assert_eq!(
        escape(r#"<script>"a" & 'b'</script>"#),
        "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
    );
}

#[test]
fn no_record_text_can_close_the_data_element() {
    let page = render_page(&run(), "<now>").expect("renders");
    assert!(!page.contains("<!--@"), "a slot left unfilled");
    assert!(
        !page.contains("alert(1)</script>"),
        "raw frame text in the page"
    );
    assert!(page.contains(r#"\u003c/script\u003e\u003cscript\u003ealert(1)"#));
    // Only the template's own two scripts close.
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(page.contains("generated &lt;now&gt;"));
    // The blob parses back to the records.
    let start = page.find(r#"id="sockspec-data">"#).expect("blob") + r#"id="sockspec-data">"#.len();
    let end = start + page[start..].find("</script>").expect("end");
    let blob: serde_json::Value = serde_json::from_str(&page[start..end]).expect("JSON");
    assert_eq!(blob["records"].as_array().map(Vec::len), Some(4));
    assert_eq!(blob["records"][0]["trial"], "local::auth/<ok>");
}
