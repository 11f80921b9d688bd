//! Owns the measurement of the HTML report (an ignored test that prints numbers, not a timed
//! assertion): generation time and size for the full corpus, 1,000 synthetic records and a
//! 10,000-frame transcript, and how long chromium takes to open the latter.

use std::path::PathBuf;
use std::time::Instant;

use super::browser::Browser;
use super::html_report::{TempDir, report, run_corpora};

/// Generation time and size for the full corpus, 1,000 synthetic records and a 10,000-frame
/// transcript: `cargo nextest run --run-ignored only -E 'test(report_numbers)' --no-capture`.
/// With `SOCKSPEC_REPORT_NUMBERS_KEEP=DIR`, the records and pages are kept in `DIR`.
#[test]
#[ignore = "prints numbers; run by hand"]
fn report_numbers() {
    let keep = std::env::var_os("SOCKSPEC_REPORT_NUMBERS_KEEP").map(PathBuf::from);
    let tmp = TempDir::new("html-numbers");
    let (examples, failing) = (tmp.0.join("examples"), tmp.0.join("failing"));
    run_corpora(&examples, &failing);
    let out = tmp.0.join("corpus.html");
    eprintln!("corpus: {}", report(&[&examples, &failing], &out).trim());

    let many = tmp.0.join("many");
    let big = tmp.0.join("big");
    let template = std::fs::read_to_string(
        std::fs::read_dir(&failing)
            .expect("records")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.ends_with("failing.failing~closed_while_waiting.json"))
            .expect("a record"),
    )
    .expect("readable");
    let base: serde_json::Value = serde_json::from_str(&template).expect("json");
    std::fs::create_dir_all(&many).expect("dir");
    for i in 0..1000 {
        let mut r = base.clone();
        r["trial"] = format!("local::synthetic/s{i:04}").into();
        r["outcome"] = if i % 10 == 0 { "failed" } else { "passed" }.into();
        std::fs::write(many.join(format!("s{i:04}.json")), r.to_string()).expect("write");
    }
    let started = Instant::now();
    eprintln!(
        "1000 records: {}",
        report(&[&many], &tmp.0.join("many.html")).trim()
    );
    eprintln!("  (with process start: {:?})", started.elapsed());

    std::fs::create_dir_all(&big).expect("dir");
    let mut r = base.clone();
    r["trial"] = "local::synthetic/big".into();
    let frame = serde_json::json!({"at_ms": 1.0, "lane": "server", "kind": "received", "step": 2,
        "seq": 1, "text": "{\"type\":\"tick\",\"n\":1,\"payload\":\"abcdefghijklmnopqrstuvwxyz\"}",
        "disposition": "claimed", "claimed_by": 2});
    r["timeline"] = (0..10_000)
        .map(|i| {
            let mut f = frame.clone();
            f["at_ms"] = (f64::from(i) * 0.5).into();
            f["seq"] = (i + 1).into();
            f
        })
        .collect::<Vec<_>>()
        .into();
    std::fs::write(big.join("big.json"), r.to_string()).expect("write");
    eprintln!(
        "10,000 frames: {}",
        report(&[&big], &tmp.0.join("big.html")).trim()
    );
    if let Some(browser) = Browser::find() {
        let started = Instant::now();
        let url = format!(
            "file://{}#trial={}",
            tmp.0.join("big.html").display(),
            "local%3A%3Asynthetic%2Fbig"
        );
        let dom = browser.dump_dom(&url, &tmp.0.join("profile-big"));
        eprintln!(
            "  chromium opened it and the scenario in {:?} (DOM {} KiB)",
            started.elapsed(),
            dom.len() / 1024
        );
    }
    if let Some(keep) = keep {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::rename(&tmp.0, &keep).expect("kept");
    }
}
