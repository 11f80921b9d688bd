//! `sockspec check` on the project: every file of `scenarios/invalid/` is reported with
//! file:line:column (a fragment's, for a mistake in a fragment it includes) and nothing else is
//! an error; a missing secret is its own exit code.
//! And `sockspec test PATH` selects by file and directory.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sockspec(args: &[&str], root: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("--root")
        .arg(root)
        .args(args)
        .current_dir(root)
        .env("CI", "true")
        .env_remove("SOCKSPEC_ENV")
        .output()
        .expect("sockspec runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_reports_exactly_the_invalid_corpus_with_positions() {
    let (code, stdout, stderr) = sockspec(&["check"], root());
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    let invalid: Vec<String> = std::fs::read_dir(root().join("scenarios/invalid"))
        .expect("corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(errors, invalid.len(), "{stderr}");
    let locations: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .collect();
    assert_eq!(locations.len(), invalid.len(), "{stderr}");
    // A mistake inside a fragment is located in it (`scenarios/invalid/_shared/`), and the
    // report names the corpus file that includes it.
    let located =
        regex::Regex::new(r"^scenarios/invalid/(_shared/)?[a-z_]+\.yaml:\d+:\d+$").expect("regex");
    for l in &locations {
        assert!(located.is_match(l), "not file:line:column: {l}");
    }
    for name in &invalid {
        assert!(
            stderr.contains(&format!("scenarios/invalid/{name}:")),
            "{name} not reported"
        );
    }
    assert!(
        stdout.contains(&format!("{} invalid", invalid.len())),
        "{stdout}"
    );
}

#[test]
fn check_names_every_variable_of_a_missing_secret() {
    let dir = std::env::temp_dir().join(format!("sockspec-check-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenarios")).expect("dir");
    std::fs::write(
        dir.join("sockspec.yaml"),
        "environments:\n  staging:\n    ws_url: wss://staging.example.invalid\n    secrets:\n      jwt: {env: [SOCKSPEC_T_CHECK_A, SOCKSPEC_T_CHECK_B]}\n",
    )
    .expect("config");
    std::fs::write(
        dir.join("scenarios/a.yaml"),
        "auth:\n  jwt: {secret: jwt, claims: {sub: u}}\n",
    )
    .expect("scenario");
    let (code, stdout, stderr) = sockspec(&["check", "--env", "staging"], &dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(5), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("secret `jwt` not set (tried SOCKSPEC_T_CHECK_A, SOCKSPEC_T_CHECK_B)"),
        "{stderr}"
    );
}

#[test]
fn test_selects_scenarios_by_file_and_directory() {
    let (code, stdout, stderr) = sockspec(&["test", "scenarios/auth/mutate/"], root());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let mutate = std::fs::read_dir(root().join("scenarios/auth/mutate"))
        .expect("dir")
        .count();
    assert!(
        stdout.contains(&format!("sockspec: {mutate} passed, 0 failed")),
        "{stdout}"
    );
    let (code, stdout, _) = sockspec(&["test", "scenarios/agent/full_flow.yaml"], root());
    assert_eq!(code, Some(0));
    assert!(stdout.contains("sockspec: 1 passed, 0 failed"), "{stdout}");
}
