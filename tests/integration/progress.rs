//! `sockspec test` on a terminal (a pseudo-terminal made by util-linux `script`): a long run
//! shows one progress line rewritten in place and a `FAILED` line per failure instead of a
//! line per scenario, then each failure's message and the summary; a short run keeps the line
//! per scenario. Every run is bounded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::bounded;

const DEADLINE: Duration = Duration::from_secs(120);

struct Project(PathBuf);

impl Project {
    /// `passing` ping scenarios and one whose expectation cannot hold, snapshots accepted.
    fn new(name: &str, passing: usize) -> Project {
        let dir =
            std::env::temp_dir().join(format!("sockspec-progress-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenarios")).unwrap();
        for i in 0..passing {
            std::fs::write(
                dir.join(format!("scenarios/ping_{i:02}.yaml")),
                format!("name: Ping {i}\nauth: {{jwt: {{secret: jwt, claims: {{sub: u}}}}}}\nsteps:\n  - send: {{type: ping, id: {i}}}\n  - expect: {{match: {{type: pong, id: {i}}}, within: 5s}}\n"),
            )
            .unwrap();
        }
        std::fs::write(
            dir.join("scenarios/wrong.yaml"),
            "name: Wrong\nauth: {jwt: {secret: jwt, claims: {sub: u}}}\nsteps:\n  - send: {type: ping, id: 1}\n  - expect: {match: {type: pong, id: 2}, within: 300ms}\n",
        )
        .unwrap();
        let p = Project(dir);
        // Bounded by coreutils `timeout`.
        let accept = Command::new("timeout")
            .args([
                "60",
                env!("CARGO_BIN_EXE_sockspec"),
                "test",
                "--accept",
                "--root",
            ])
            .arg(&p.0)
            .env_remove("SOCKSPEC_ENV")
            .output()
            .unwrap();
        assert!(
            !accept.status.success(),
            "`wrong` fails even when accepting"
        );
        p
    }

    /// `sockspec test` with a terminal as its standard output.
    fn on_a_terminal(&self) -> String {
        self.on_a_terminal_with(&[])
    }

    /// [`Project::on_a_terminal`] with more environment variables.
    fn on_a_terminal_with(&self, vars: &[(&str, &str)]) -> String {
        let command = format!(
            "{} test --root {}",
            env!("CARGO_BIN_EXE_sockspec"),
            self.0.display()
        );
        let mut script = Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("CI")
            .env_remove("SOCKSPEC_ENV")
            .env("TERM", "xterm")
            .envs(vars.iter().copied());
        bounded(script, None, DEADLINE).text
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn has_script() -> bool {
    Path::new("/usr/bin/script").exists()
}

#[test]
fn a_long_run_on_a_terminal_shows_one_progress_line() {
    assert!(
        has_script(),
        "util-linux `script` (Debian bsdutils) is needed for a pseudo-terminal"
    );
    let p = Project::new("long", 30);
    let text = p.on_a_terminal();
    // `[ 7/31] …` or `[31/31] …`: how far the run got at the first draw depends on how soon
    // the drawing thread runs, so any count will do.
    let drawn = text.split("\r\x1b[K[").skip(1).any(|rest| {
        rest.split_once("/31] ").is_some_and(|(count, _)| {
            !count.trim().is_empty() && count.trim().chars().all(|c| c.is_ascii_digit())
        })
    });
    assert!(drawn, "no progress line:\n{text:?}");
    assert!(text.contains("FAILED local::wrong"), "{text:?}");
    assert!(text.contains("---- local::wrong ----"), "{text:?}");
    assert!(
        text.contains("sockspec: 30 passed, 1 failed, 0 ignored"),
        "{text:?}"
    );
    assert!(
        !text.contains("test local::ping_00 ..."),
        "a line per scenario:\n{text:?}"
    );
}

#[test]
fn a_short_run_on_a_terminal_lists_each_scenario() {
    assert!(
        has_script(),
        "util-linux `script` (Debian bsdutils) is needed for a pseudo-terminal"
    );
    let p = Project::new("short", 3);
    let text = p.on_a_terminal();
    assert!(text.contains("test local::ping_00 ..."), "{text:?}");
    assert!(!text.contains("\x1b[K["), "{text:?}");
    assert!(
        text.contains("sockspec: 3 passed, 1 failed, 0 ignored"),
        "{text:?}"
    );
}

#[test]
fn without_a_private_log_directory_a_long_run_lists_each_scenario() {
    assert!(
        has_script(),
        "util-linux `script` (Debian bsdutils) is needed for a pseudo-terminal"
    );
    let p = Project::new("nolog", 30);
    let text = p.on_a_terminal_with(&[("TMPDIR", "/nonexistent/sockspec")]);
    assert!(!text.contains("panicked"), "{text:?}");
    assert!(text.contains("test local::ping_00 ..."), "{text:?}");
    assert!(
        text.contains("sockspec: 30 passed, 1 failed, 0 ignored"),
        "{text:?}"
    );
}
