//! A new team's first hour, in an empty temporary directory outside the repository:
//! `sockspec init`, then `sockspec test` (fails cleanly on the new snapshot), `sockspec
//! accept`, `sockspec test` (passes), with only the binary on PATH (no cargo); `review`
//! answered on standard input; and `sockspec init --cargo`, then `cargo nextest run` there.
//! Every process is bounded by a deadline and killed after it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{Out, bounded};

/// Longest a run of the binary may take.
const DEADLINE: Duration = Duration::from_secs(60);
/// Longest `cargo nextest run` of the generated harness may take (it builds the harness).
const CARGO_DEADLINE: Duration = Duration::from_secs(600);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A directory outside the repository, removed on drop.
struct Empty(PathBuf);

impl Empty {
    fn new(name: &str) -> Empty {
        let dir = std::env::temp_dir().join(format!(
            "sockspec-init-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Empty(dir)
    }

    /// The installed binary, alone: a copy away from the build directory, found on a PATH
    /// that has no cargo, in a clean environment.
    fn sockspec(&self, args: &[&str], stdin: &str) -> Out {
        let bin = self.installed();
        let mut cmd = Command::new("sockspec");
        cmd.args(args)
            .current_dir(&self.0)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", &self.0);
        bounded(cmd, Some(stdin), DEADLINE)
    }
}

impl Empty {
    /// A directory beside this one holding the binary as `cargo install` would leave it,
    /// away from the build directory (a hard link, else a copy).
    fn installed(&self) -> PathBuf {
        let dir = self.bin_dir();
        let to = dir.join("sockspec");
        if !to.exists() {
            std::fs::create_dir_all(&dir).expect("bin dir");
            let from = Path::new(env!("CARGO_BIN_EXE_sockspec"));
            if std::fs::hard_link(from, &to).is_err() {
                std::fs::copy(from, &to).expect("binary copied");
            }
        }
        dir
    }

    fn bin_dir(&self) -> PathBuf {
        let mut name = self.0.file_name().unwrap_or_default().to_os_string();
        name.push("-bin");
        self.0.with_file_name(name)
    }
}

impl Drop for Empty {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_dir_all(self.bin_dir());
    }
}

/// Every file below `dir` with its content.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("readable")));
            }
        }
    }
    out.sort();
    out
}

/// Nothing of sockspec's build or source in what a user sees: no panic, no backtrace, no
/// path of the repository.
fn assert_clean(what: &str, text: &str) {
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "src/",
        "cargo insta",
        "cargo metadata",
        &repo().display().to_string(),
    ] {
        assert!(!text.contains(bad), "{what} shows `{bad}`:\n{text}");
    }
}

#[test]
fn init_test_accept_test_with_only_the_binary() {
    let dir = Empty::new("binary");
    let init = dir.sockspec(&["init"], "");
    assert_eq!(init.code, Some(0), "{}", init.text);
    for f in [
        "sockspec.yaml",
        "scenarios/example.yaml",
        "schema/scenario.schema.json",
        "schema/fragment.schema.json",
        ".github/workflows/sockspec.yml",
        ".gitignore",
    ] {
        assert!(
            dir.0.join(f).is_file(),
            "init did not write {f}:\n{}",
            init.text
        );
    }
    assert!(dir.0.join("snapshots").is_dir());
    assert!(
        !dir.0.join("Cargo.toml").exists(),
        "no Cargo.toml without --cargo"
    );
    let example = std::fs::read_to_string(dir.0.join("scenarios/example.yaml")).unwrap();
    let schema_ref = example.lines().next().unwrap();
    assert_eq!(
        schema_ref,
        "# yaml-language-server: $schema=../schema/scenario.schema.json"
    );
    let gitignore = std::fs::read_to_string(dir.0.join(".gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l == ".env.*") && gitignore.lines().any(|l| l == "*.snap.new")
    );

    let check = dir.sockspec(&["check"], "");
    assert_eq!(check.code, Some(0), "{}", check.text);

    // The first run: the new snapshot fails the test, cleanly, and is written for review.
    let first = dir.sockspec(&["test"], "");
    assert_eq!(first.code, Some(1), "{}", first.text);
    assert!(
        first.text.contains("snapshot: `example` has no snapshot yet; its transcript was written to snapshots/example.snap.new"),
        "{}",
        first.text
    );
    assert!(
        first.text.contains("sockspec accept example"),
        "{}",
        first.text
    );
    assert!(
        first.text.lines().count() < 120,
        "unbounded:\n{}",
        first.text
    );
    assert_clean("the first run", &first.text);
    let pending = dir.0.join("snapshots/example.snap.new");
    let written = std::fs::read_to_string(&pending).expect("the .snap.new is written");
    assert!(
        written.contains("input_file: scenarios/example.yaml\n"),
        "{written}"
    );
    assert_clean("the .snap.new", &written);

    // `review` shows the transcript; skipping keeps it pending.
    let review = dir.sockspec(&["review"], "s\n");
    assert_eq!(review.code, Some(0), "{}", review.text);
    assert!(
        review.text.contains("1 of 1: example (new)"),
        "{}",
        review.text
    );
    assert!(
        review.text.contains("+scenario: example"),
        "{}",
        review.text
    );
    assert!(review.text.contains("1 still pending"), "{}", review.text);
    assert!(pending.exists());
    let listed = dir.sockspec(&["snapshots", "--check"], "");
    assert_eq!(
        listed.code,
        Some(10),
        "a pending snapshot fails --check:\n{}",
        listed.text
    );

    let accept = dir.sockspec(&["accept"], "");
    assert_eq!(accept.code, Some(0), "{}", accept.text);
    assert!(accept.text.contains("accepted example"), "{}", accept.text);
    assert!(!pending.exists() && dir.0.join("snapshots/example.snap").is_file());

    let second = dir.sockspec(&["test"], "");
    assert_eq!(second.code, Some(0), "{}", second.text);
    assert!(
        second.text.contains("1 passed, 0 failed"),
        "{}",
        second.text
    );
    assert_clean("the second run", &second.text);
    let listed = dir.sockspec(&["snapshots", "--check"], "");
    assert_eq!(listed.code, Some(0), "{}", listed.text);

    // An orphan: a snapshot no scenario makes fails --check.
    std::fs::copy(
        dir.0.join("snapshots/example.snap"),
        dir.0.join("snapshots/gone.snap"),
    )
    .unwrap();
    let listed = dir.sockspec(&["snapshots", "--check"], "");
    assert_eq!(listed.code, Some(10), "{}", listed.text);
    assert!(listed.text.contains("orphan   gone"), "{}", listed.text);
    std::fs::remove_file(dir.0.join("snapshots/gone.snap")).unwrap();

    // Idempotent: a second init keeps every file as it is.
    let before = tree(&dir.0);
    let again = dir.sockspec(&["init"], "");
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert!(!again.text.contains("created"), "{}", again.text);
    assert_eq!(tree(&dir.0), before, "a second init changed files");
}

#[test]
fn a_changed_transcript_is_reviewed_and_rejected_or_accepted() {
    let dir = Empty::new("review");
    assert_eq!(dir.sockspec(&["init"], "").code, Some(0));
    assert_eq!(dir.sockspec(&["test", "--accept"], "").code, Some(0));
    let snap = dir.0.join("snapshots/example.snap");
    let accepted = std::fs::read_to_string(&snap).unwrap();
    // The snapshot drifts (as when the server changes): the run fails with a diff.
    std::fs::write(&snap, accepted.replace("agent_thinking", "agent_pondering")).unwrap();
    let run = dir.sockspec(&["test"], "");
    assert_eq!(run.code, Some(1), "{}", run.text);
    assert!(run.text.contains("snapshot: the transcript of `example` differs from snapshots/example.snap (+1 −1 lines)"), "{}", run.text);
    assert!(
        run.text.contains("-    type: agent_pondering")
            && run.text.contains("+    type: agent_thinking"),
        "{}",
        run.text
    );
    assert_clean("a changed snapshot", &run.text);
    // The run record of the failure carries the cause and the diff, for the HTML report.
    let mut records = Vec::new();
    let mut stack = vec![dir.0.join("target/sockspec/runs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("a run directory") {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                records.push(std::fs::read_to_string(&p).unwrap());
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                // `sockspec test`'s bundle: a record per line.
                let text = std::fs::read_to_string(&p).unwrap();
                records.extend(text.lines().map(str::to_owned));
            }
        }
    }
    let failed: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::from_str(r).expect("a JSON record"))
        .filter(|r: &serde_json::Value| r["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{records:?}");
    assert_eq!(
        failed[0]["cause"]["kind"], "snapshot_mismatch",
        "{}",
        failed[0]
    );
    let diff = failed[0]["snapshot_diff"].as_str().unwrap_or_default();
    assert!(diff.contains("+    type: agent_thinking"), "{diff}");

    // Reject keeps the old snapshot; the next failure writes the .snap.new again.
    let review = dir.sockspec(&["review"], "x\nr\n");
    assert!(
        review.text.contains("`x`: answer a, r, s or q"),
        "{}",
        review.text
    );
    assert!(
        review.text.contains("accepted 0, rejected 1"),
        "{}",
        review.text
    );
    assert!(!dir.0.join("snapshots/example.snap.new").exists());
    assert_eq!(dir.sockspec(&["test"], "").code, Some(1));
    let review = dir.sockspec(&["review", "local::example"], "a\n");
    assert!(
        review.text.contains("accepted 1, rejected 0"),
        "{}",
        review.text
    );
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), accepted);
    assert_eq!(dir.sockspec(&["test"], "").code, Some(0));

    let none = dir.sockspec(&["accept", "nothing/here"], "");
    assert_eq!(none.code, Some(2), "{}", none.text);
    assert!(
        none.text
            .contains("no pending snapshot matches nothing/here"),
        "{}",
        none.text
    );
}

#[test]
fn init_cargo_then_cargo_nextest_run() {
    let dir = Empty::new("cargo");
    let init = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["init", "--cargo", "--sockspec-path"])
        .arg(repo())
        .current_dir(&dir.0)
        .output()
        .expect("sockspec init runs");
    assert!(init.status.success(), "{init:?}");
    let harness = std::fs::read_to_string(dir.0.join("tests/scenarios.rs")).unwrap();
    assert_eq!(harness.lines().count(), 3, "{harness}");
    // The same versions as this build (so the build is shared, not repeated), and the same
    // target directory.
    std::fs::copy(repo().join("Cargo.lock"), dir.0.join("Cargo.lock")).unwrap();
    let mut target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    if std::env::var_os("NEXTEST").is_none() {
        // `cargo test` holds the target directory's lock while tests run: build apart.
        target.push("init-harness");
    }
    let nextest = |what: &str| {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["nextest", "run", "--no-fail-fast"])
            .current_dir(&dir.0)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("SOCKSPEC_ENV")
            .env_remove("NEXTEST_PROFILE")
            .env_remove("NEXTEST_RUN_ID")
            .env_remove("SOCKSPEC_ACCEPT");
        let out = bounded(cmd, None, CARGO_DEADLINE);
        println!("{what}:\n{}", out.text);
        out
    };
    let first = nextest("first run");
    if first.text.contains("no such command: `nextest`") {
        panic!("cargo-nextest is not installed: the README's set-up installs it");
    }
    assert_ne!(
        first.code,
        Some(0),
        "a new snapshot must fail:\n{}",
        first.text
    );
    assert!(first.text.contains("has no snapshot yet"), "{}", first.text);
    assert!(dir.0.join("snapshots/example.snap.new").is_file());
    let accept = dir.sockspec(&["accept"], "");
    assert_eq!(accept.code, Some(0), "{}", accept.text);
    let second = nextest("second run");
    assert_eq!(second.code, Some(0), "{}", second.text);
    assert!(
        second.text.contains("1 test run: 1 passed"),
        "{}",
        second.text
    );
}

#[test]
fn the_generated_harness_builds_sockspec_as_this_repository_does() {
    // Sharing one build between this repository and a generated harness needs the same
    // dependency profile: the generated one is this repository's.
    let ours = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let section = |text: &str| -> String {
        let start = text
            .find("[profile.dev.package.\"*\"]")
            .expect("a dependency profile");
        text[start..]
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let dir = Empty::new("profile");
    assert_eq!(dir.sockspec(&["init", "--cargo"], "").code, Some(0));
    let generated = std::fs::read_to_string(dir.0.join("Cargo.toml")).unwrap();
    assert_eq!(section(&generated), section(&ours));
    assert!(generated.contains(&format!("sockspec = \"{}\"", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn filters_that_select_nothing_or_everything_by_accident_are_errors() {
    let dir = Empty::new("filters");
    assert_eq!(dir.sockspec(&["init"], "").code, Some(0));
    assert_eq!(dir.sockspec(&["test"], "").code, Some(1));
    for bad in ["", "/", "::", "local::"] {
        let out = dir.sockspec(&["reject", bad], "");
        assert_eq!(out.code, Some(2), "`{bad}`: {}", out.text);
        assert!(
            out.text.contains("selects no snapshot"),
            "`{bad}`: {}",
            out.text
        );
    }
    assert!(
        dir.0.join("snapshots/example.snap.new").exists(),
        "nothing was rejected"
    );
    // A trial name, a scenario file and a snapshot file all name the same snapshot.
    for good in [
        "local::example",
        "scenarios/example.yaml",
        "snapshots/example.snap.new",
    ] {
        let out = dir.sockspec(&["review", good], "s\n");
        assert!(
            out.text.contains("1 of 1: example (new)"),
            "`{good}`: {}",
            out.text
        );
    }
    let out = dir.sockspec(&["accept", "staging::example"], "");
    assert_eq!(
        out.code,
        Some(0),
        "the shared snapshot of a trial in any environment: {}",
        out.text
    );
}

#[test]
fn init_cargo_in_a_crate_of_the_team_s_own_edits_nothing_and_says_what_to_add() {
    let dir = Empty::new("own-crate");
    let manifest = "[package]\nname = \"their-service\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";
    std::fs::write(dir.0.join("Cargo.toml"), manifest).unwrap();
    let out = dir.sockspec(
        &[
            "init",
            "--cargo",
            "--sockspec-git",
            "https://example.com/sockspec.git",
        ],
        "",
    );
    assert_eq!(out.code, Some(0), "{}", out.text);
    assert_eq!(
        std::fs::read_to_string(dir.0.join("Cargo.toml")).unwrap(),
        manifest
    );
    assert!(
        !dir.0.join("tests/scenarios.rs").exists(),
        "a harness their crate cannot compile"
    );
    for line in [
        "action needed: Cargo.toml is your crate's",
        "sockspec = { git = \"https://example.com/sockspec.git\" }",
        "harness = false",
        "sockspec::harness::main(",
    ] {
        assert!(out.text.contains(line), "no `{line}`:\n{}", out.text);
    }
}

#[test]
fn init_cargo_twice_keeps_everything() {
    let dir = Empty::new("cargo-twice");
    assert_eq!(dir.sockspec(&["init", "--cargo"], "").code, Some(0));
    let manifest = std::fs::read_to_string(dir.0.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
    let before = tree(&dir.0);
    let again = dir.sockspec(&["init", "--cargo"], "");
    assert_eq!(again.code, Some(0), "{}", again.text);
    assert!(
        !again.text.contains("action needed") && !again.text.contains("created"),
        "{}",
        again.text
    );
    assert_eq!(tree(&dir.0), before);
}
