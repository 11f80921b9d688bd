//! Owns the end-to-end test of run records and the HTML report: the example corpus (in
//! `local`) and the failing corpus run in-process through `harness::run`, their records
//! written into two run directories (plus a third with a frame that tries to inject markup),
//! `sockspec report` merging the three into one page, and the page checked in a real browser
//! (`browser`): the counts per outcome, a failing scenario's cause, excerpt and timeline
//! (as many frame marks as its transcript has frames), no injected element, and a screenshot
//! whose size and header region are as expected. Without chromium the browser part is
//! skipped, saying so on stderr.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use sockspec::environment::{Config, Environment};
use sockspec::harness::{CauseKind, RunRecord, discover, run_record, write_record};
use sockspec::transcript::Event;

use super::browser::{Browser, DEADLINE, wait_bounded};

/// The failing scenario whose details the browser test opens.
const OPENED: &str = "closed_while_waiting";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory, removed on drop.
pub(super) struct TempDir(pub PathBuf);

impl TempDir {
    pub(super) fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("sockspec-{what}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the corpus runs gave: counts, and the opened scenario's frames and cause.
#[derive(Debug, Default)]
pub(super) struct Expected {
    passed: usize,
    failed: usize,
    unavailable: usize,
    ignored: usize,
    opened_frames: usize,
    opened_cause: String,
}

/// Runs `path` (id `id`) in `env` and writes its record into `dir`; the record and the number
/// of data frames in its transcript.
fn run_one(dir: &Path, id: &str, path: &Path, env: &Environment) -> (RunRecord, usize) {
    let plan = sockspec::scenario::load(path, id).unwrap_or_else(|ds| {
        panic!(
            "{}",
            ds.iter().map(|d| d.render()).collect::<Vec<_>>().join("\n")
        )
    });
    let started = SystemTime::now();
    let clock = Instant::now();
    // Every failing scenario must fail here, even where unavailable environments are ignored.
    let run = sockspec::harness::run(&plan, env, &|n| {
        (n != sockspec::harness::ALLOW_UNAVAILABLE_VAR)
            .then(|| std::env::var(n).ok())
            .flatten()
    });
    let frames = run.transcript.as_ref().map_or(0, |t| {
        t.entries
            .iter()
            .filter(|e| matches!(e.event, Event::Sent { .. } | Event::Received { .. }))
            .count()
    });
    let record = run_record(&plan, env, &run, started, clock.elapsed());
    write_record(dir, &record).expect("the record is written");
    (record, frames)
}

fn count(expected: &mut Expected, record: &RunRecord) {
    match serde_json::to_value(record.outcome)
        .expect("outcome")
        .as_str()
    {
        Some("passed") => expected.passed += 1,
        Some("failed") => expected.failed += 1,
        Some("unavailable") => expected.unavailable += 1,
        _ => expected.ignored += 1,
    }
}

/// Runs both corpora into `examples` and `failing`.
pub(super) fn run_corpora(examples: &Path, failing: &Path) -> Expected {
    let mut expected = Expected::default();
    let config = Config::load(root()).expect("the project's configuration");
    let env = &config.environments["local"];
    for (id, path) in discover(&config.scenarios_dir).expect("the example corpus") {
        let plan_env = sockspec::scenario::load(&path, &id).expect("an example is valid");
        if !plan_env.applies_to("local") {
            continue;
        }
        let (record, _) = run_one(examples, &id, &path, env);
        count(&mut expected, &record);
    }

    let dir = config.scenarios_dir.join("failing");
    let env_file = dir.join("environments.yml");
    let text = std::fs::read_to_string(&env_file).expect("environments.yml");
    let failing_config = Config::parse(&text, root(), &env_file).expect("failing environments");
    for (id, path) in discover(&dir).expect("the failing corpus") {
        let plan = sockspec::scenario::load(&path, &format!("failing/{id}")).expect("valid");
        let env_name = plan
            .environments
            .as_ref()
            .and_then(|e| e.first().cloned())
            .unwrap_or_else(|| "failing".to_owned());
        let env = &failing_config.environments[&env_name];
        let (record, frames) = run_one(failing, &format!("failing/{id}"), &path, env);
        // Every cause of the corpus has a kind: a new first line gets one in `CauseKind`.
        let kind = record.cause.as_ref().map(|c| c.kind);
        assert!(
            kind.is_some_and(|k| k != CauseKind::Other),
            "{id}: cause {:?} has no kind of its own (src/report/record.rs)",
            record.cause
        );
        count(&mut expected, &record);
        if id == OPENED {
            expected.opened_frames = frames;
            expected.opened_cause = record.cause.expect("cause").first_line;
        }
    }
    expected
}

/// A record whose frames and cause try to inject markup.
fn hostile(dir: &Path) {
    let text = r#"{
      "format": "sockspec-run/1", "trial": "local::hostile/<script>", "scenario": "hostile",
      "name": "<b>bold</b>", "file": "x.yaml", "environment": "local", "outcome": "failed",
      "cause": {"kind": "other", "first_line": "</script><img id=\"pwned\" src=x onerror=\"document.title='pwned'\">"},
      "diagnostic": "<script>document.title='pwned'</script>", "started_at": "2026-01-01T00:00:00.000Z",
      "duration_ms": 3.0, "steps": [],
      "timeline": [{"at_ms": 1.0, "lane": "server", "kind": "received", "step": 1, "seq": 1,
        "text": "<script>document.title='pwned'</script>", "disposition": "unclaimed", "claimed_by": null}],
      "http": [], "credential": null, "snapshot_diff": "-<i>old</i>\n+<i>new</i>"
    }"#;
    std::fs::write(dir.join("local.hostile.json"), text).expect("hostile record");
}

/// Runs `sockspec report DIRS -o OUT`, bounded by [`DEADLINE`].
pub(super) fn report(dirs: &[&Path], out: &Path) -> String {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("report")
        .args(dirs)
        .arg("-o")
        .arg(out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sockspec starts");
    let done = wait_bounded(child, DEADLINE, "sockspec report");
    assert!(done.success, "sockspec report failed: {}", done.stderr);
    done.stdout
}

/// The dumped DOM of `<details>` of `trial` (to the next scenario).
fn details_of<'a>(dom: &'a str, trial: &str) -> &'a str {
    let marker = format!("data-trial=\"{trial}\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no scenario {trial} in the DOM"));
    let rest = &dom[start..];
    let end = rest[1..]
        .find("<details class=\"scenario\"")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn the_report_of_both_corpora_shows_every_trial_in_a_browser() {
    let tmp = TempDir::new("html-report");
    let (examples, failing, hostile_dir) = (
        tmp.0.join("examples"),
        tmp.0.join("failing"),
        tmp.0.join("hostile"),
    );
    std::fs::create_dir_all(&hostile_dir).expect("dir");
    let mut expected = run_corpora(&examples, &failing);
    hostile(&hostile_dir);
    expected.failed += 1;
    let out = tmp.0.join("report.html");
    let said = report(&[&examples, &failing, &hostile_dir], &out);
    assert!(said.contains("sockspec: wrote"), "{said}");
    let html = std::fs::read_to_string(&out).expect("the report");
    assert!(
        !html.contains("<script>document.title"),
        "unescaped markup in the page"
    );
    assert!(
        html.contains(&format!(
            r#"data-passed="{}" data-failed="{}" data-unavailable="{}" data-ignored="{}""#,
            expected.passed, expected.failed, expected.unavailable, expected.ignored
        )),
        "summary counts: {expected:?}"
    );

    let opened = format!("failing::failing/{OPENED}");
    check_in_browser(&out, &expected, &opened, &tmp.0);
    // Markup from a record is shown as text, never becomes an element.
    let Some(browser) = Browser::find() else {
        return;
    };
    let dom = browser.dump_dom(
        &format!("file://{}", out.display()),
        &tmp.0.join("profile-hostile"),
    );
    assert!(
        !dom.contains("<img id=\"pwned\"") && !dom.contains("<title>pwned"),
        "markup from a record became an element"
    );
    assert!(
        dom.contains("&lt;/script&gt;&lt;img id="),
        "escaped text shown"
    );
}

/// The browser checks of the page `out`: the counts per outcome of `expected`, and the
/// scenario `opened` (through its `#trial=` link): its cause, its diagnostic with the excerpt,
/// as many frame marks on its timeline as `expected.opened_frames`; then a screenshot.
/// Without chromium: SKIPPED on stderr.
fn check_in_browser(out: &Path, expected: &Expected, opened: &str, tmp: &Path) {
    let Some(browser) = Browser::find() else {
        eprintln!(
            "SKIPPED the browser part of the HTML report test: no chromium (install it with \
             `apt-get install -y chromium`)"
        );
        return;
    };
    let url = format!(
        "file://{}#trial={}",
        out.display(),
        opened.replace(':', "%3A").replace('/', "%2F")
    );
    let dom = browser.dump_dom(&url, &tmp.join("profile-dom"));
    assert!(dom.contains("data-ready=\"1\""), "the script did not run");
    let rows = |outcome: &str| {
        dom.matches(&format!(
            "<details class=\"scenario\" data-outcome=\"{outcome}\""
        ))
        .count()
    };
    assert_eq!(rows("passed"), expected.passed, "{expected:?}");
    assert_eq!(rows("failed"), expected.failed, "{expected:?}");
    assert_eq!(rows("unavailable"), expected.unavailable, "{expected:?}");
    assert_eq!(rows("ignored"), expected.ignored, "{expected:?}");

    let details = details_of(&dom, opened);
    assert!(details.contains(" open=\"\""), "the #trial link opens it");
    let cause = expected
        .opened_cause
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        details.contains(&cause),
        "cause {:?} not in {details}",
        expected.opened_cause
    );
    if !cause.is_empty() {
        assert!(
            details.contains("<pre class=\"diagnostic\">") && details.contains(" --&gt; "),
            "diagnostic with its excerpt"
        );
    }
    assert_eq!(
        details.matches("class=\"frame ").count(),
        expected.opened_frames,
        "frame marks on the timeline"
    );

    let shot = tmp.join("shot.png");
    browser.screenshot(
        &format!("file://{}", out.display()),
        &shot,
        &tmp.join("profile-shot"),
    );
    super::browser::check_screenshot(&shot, 1280, 900);
}

/// The browser checks on the report of run directories made elsewhere (e.g. the two
/// partitions of a nextest run): `SOCKSPEC_REPORT_RUN_DIRS=dir1:dir2 cargo nextest run --test
/// integration --run-ignored only -E 'test(browser_checks_given_runs)'`. The counts come from
/// the records; the opened scenario is the first failure (else the first record), and its
/// frame marks must be its record's frames.
#[test]
#[ignore = "needs run directories: SOCKSPEC_REPORT_RUN_DIRS"]
fn browser_checks_given_runs() {
    let Some(given) = std::env::var_os("SOCKSPEC_REPORT_RUN_DIRS") else {
        eprintln!("SKIPPED: set SOCKSPEC_REPORT_RUN_DIRS=dir1:dir2 to check their report");
        return;
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&given).collect();
    let mut expected = Expected::default();
    let mut records: Vec<serde_json::Value> = Vec::new();
    for dir in &dirs {
        for entry in std::fs::read_dir(dir).expect("a run directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("readable");
                records.push(serde_json::from_str(&text).expect("a record"));
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                // `sockspec test`'s bundle (each trial ran once here: no repeats to drop).
                let text = std::fs::read_to_string(&path).expect("readable");
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    records.push(serde_json::from_str(line).expect("a record"));
                }
            }
        }
    }
    for r in &records {
        match r["outcome"].as_str() {
            Some("passed") => expected.passed += 1,
            Some("failed") => expected.failed += 1,
            Some("unavailable") => expected.unavailable += 1,
            _ => expected.ignored += 1,
        }
    }
    records.sort_by_key(|r| (r["outcome"] == "passed", r["trial"].to_string()));
    let opened = records.first().expect("records");
    expected.opened_frames = opened["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "sent" || e["kind"] == "received")
        .count();
    expected.opened_cause = opened["cause"]["first_line"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tmp = TempDir::new("html-given");
    let out = tmp.0.join("report.html");
    let dir_refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    eprintln!("{}", report(&dir_refs, &out).trim());
    let trial = opened["trial"].as_str().expect("trial").to_owned();
    check_in_browser(&out, &expected, &trial, &tmp.0);
    eprintln!(
        "checked {} records in a browser; opened {trial} ({} frames)",
        records.len(),
        expected.opened_frames
    );
}

/// `sockspec <args…>` in the repository, bounded.
fn sockspec_in_repo(args: &[&std::ffi::OsStr], what: &str) -> super::browser::Finished {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sockspec starts");
    wait_bounded(child, DEADLINE, what)
}

/// Records that cannot be written are one warning, and never the trials' failure.
#[test]
fn a_run_directory_that_cannot_be_made_is_one_warning_not_one_per_record() {
    let tmp = TempDir::new("records-unwritable");
    std::fs::write(tmp.0.join("file"), "a file, not a directory").unwrap();
    let run_dir = tmp.0.join("file/runs");
    let done = sockspec_in_repo(
        &[
            "test".as_ref(),
            "--run-dir".as_ref(),
            run_dir.as_os_str(),
            "scenarios/protocol/".as_ref(),
        ],
        "sockspec test --run-dir <file>/runs",
    );
    assert!(
        done.success,
        "records are not the trials' failure:\n{}",
        done.stderr
    );
    let warnings = done.stderr.matches("warning: sockspec: cannot").count();
    assert_eq!(warnings, 1, "{}", done.stderr);
    assert!(
        done.stderr.contains("records are not written"),
        "{}",
        done.stderr
    );
    assert!(done.stdout.contains(" passed"), "{}", done.stdout);
}

/// `sockspec test --html` makes the report's directory, like `--junit`; a path where no
/// directory can be made (below a file) fails before any scenario runs.
#[test]
fn test_html_into_a_missing_directory_fails_before_the_run() {
    let tmp = TempDir::new("html-missing");
    std::fs::write(tmp.0.join("missing"), "a file, not a directory").unwrap();
    let report = tmp.0.join("missing/report.html");
    let runs = tmp.0.join("runs");
    let done = sockspec_in_repo(
        &[
            "test".as_ref(),
            "--html".as_ref(),
            report.as_os_str(),
            "--run-dir".as_ref(),
            runs.as_os_str(),
            "scenarios/protocol/text_frame.yaml".as_ref(),
        ],
        "sockspec test --html",
    );
    assert!(!done.success);
    assert!(
        done.stderr.contains("cannot write the report ") && done.stderr.contains("missing"),
        "{}",
        done.stderr
    );
    assert!(!tmp.0.join("runs").exists(), "a scenario ran");
}
