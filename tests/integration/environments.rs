//! The environment matrix end to end, through the `sockspec` binary on throwaway projects:
//! an unavailable environment fails every scenario at once with one message (or reports
//! them ignored with SOCKSPEC_ALLOW_UNAVAILABLE=1), a missing secret fails every scenario
//! that needs it with one message naming every variable tried, and overrides give an
//! environment its own snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Project(PathBuf);

impl Project {
    fn new(name: &str, config: &str, scenarios: &[(&str, &str)]) -> Project {
        let dir =
            std::env::temp_dir().join(format!("sockspec-env-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenarios")).expect("temp dir");
        std::fs::create_dir_all(dir.join("snapshots")).expect("temp dir");
        std::fs::write(dir.join("sockspec.yaml"), config).expect("config written");
        for (file, text) in scenarios {
            std::fs::write(dir.join("scenarios").join(file), text).expect("scenario written");
        }
        Project(dir)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Output, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
            .arg("--root")
            .arg(&self.0)
            .args(args)
            .env_remove("SOCKSPEC_ENV")
            .env_remove("SOCKSPEC_ALLOW_UNAVAILABLE")
            .env("CI", "true")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("sockspec runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out, stdout, stderr)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DOWN_CONFIG: &str = "\
environments:
  down:
    local: true
    embedded:
      jwt_secret: jwt
      options: {start_unhealthy: true}
    health: {path: /health, timeout: 1s}
    secrets:
      jwt: {default: s3cr3t-for-the-down-test}
";

const PING: &str = "\
auth:
  jwt: {secret: jwt, claims: {sub: qa-user-1}}
steps:
  - send: {type: ping}
  - expect: {match: {type: pong}}
";

const NO_TOKEN: &str = "\
auth: none
handshake:
  rejected: 403
";

#[test]
fn an_unavailable_environment_fails_every_scenario_with_one_message() {
    let p = Project::new(
        "down",
        DOWN_CONFIG,
        &[("a.yaml", PING), ("b.yaml", NO_TOKEN)],
    );
    let (out, stdout, _) = p.run(&["test", "--env", "down"], &[]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let re = regex::Regex::new(
        r"environment 'down' unavailable: GET http://127\.0\.0\.1:\d+/health → 503 Service Unavailable",
    )
    .expect("regex");
    assert_eq!(re.find_iter(&stdout).count(), 2, "{stdout}");
    assert!(stdout.contains("0 passed, 2 failed"), "{stdout}");
    // No scenario ran: no handshake, no snapshot.
    assert!(!stdout.contains("handshake"), "{stdout}");
}

#[test]
fn allow_unavailable_reports_the_scenarios_as_ignored() {
    let p = Project::new(
        "down-ok",
        DOWN_CONFIG,
        &[("a.yaml", PING), ("b.yaml", NO_TOKEN)],
    );
    let (out, stdout, _) = p.run(
        &["test", "--env", "down"],
        &[("SOCKSPEC_ALLOW_UNAVAILABLE", "1")],
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed, 2 ignored"), "{stdout}");
}

#[test]
fn a_missing_secret_fails_each_scenario_with_one_message_naming_every_variable() {
    let config = "\
environments:
  staging:
    ws_url: ws://127.0.0.1:9
    secrets:
      jwt: {env: [SOCKSPEC_T_JWT_SECRET_STAGING, SOCKSPEC_T_JWT_SECRET_KEY, SOCKSPEC_T_JWT_SECRET]}
      bypass: {env: [SOCKSPEC_T_E2E_BYPASS_KEY]}
";
    let p = Project::new(
        "missing",
        config,
        &[("a.yaml", PING), ("b.yaml", PING), ("c.yaml", NO_TOKEN)],
    );
    let junit_path = p.path("j.xml");
    let junit_arg = junit_path.to_string_lossy().into_owned();
    let (out, stdout, _) = p.run(&["test", "--env", "staging", "--junit", &junit_arg], &[]);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let message = "failed to resolve secrets for environment 'staging': secret `bypass` not set (tried SOCKSPEC_T_E2E_BYPASS_KEY); secret `jwt` not set (tried SOCKSPEC_T_JWT_SECRET_STAGING, SOCKSPEC_T_JWT_SECRET_KEY, SOCKSPEC_T_JWT_SECRET)";
    assert_eq!(stdout.matches(message).count(), 2, "{stdout}");
    // The scenario that needs no secret is not blocked by the missing ones: it runs, and
    // fails on the closed port with a different message.
    assert!(stdout.contains("staging::c"), "{stdout}");
    let junit = std::fs::read_to_string(&junit_path).expect("junit written");
    assert!(
        junit.matches("tried SOCKSPEC_T_E2E_BYPASS_KEY").count() >= 2,
        "{junit}"
    );
}

#[test]
fn overrides_change_the_plan_and_the_snapshot_per_environment() {
    let config = "\
environments:
  local:
    local: true
    embedded: {jwt_secret: jwt}
    secrets:
      jwt: {default: local-secret-for-overrides}
  strict:
    local: true
    embedded: {jwt_secret: jwt, options: {require_known_users: true}}
    secrets:
      jwt: {default: strict-secret-for-overrides}
";
    let scenario = "\
auth:
  jwt: {secret: jwt, claims: {sub: nobody-knows-me}}
steps:
  - send: {type: ping}
  - expect: {match: {type: pong}}
overrides:
  strict:
    steps: []
    handshake:
      rejected: {status: 403, body: {detail: User not found}}
";
    let p = Project::new("overrides", config, &[("who.yaml", scenario)]);
    // Without CI, insta writes new snapshots as `.snap.new`: one shared, one per override.
    let out = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("--root")
        .arg(&p.0)
        .args(["test", "--env", "local,strict"])
        .env("INSTA_UPDATE", "new")
        .env_remove("CI")
        .env_remove("SOCKSPEC_ENV")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("local::who"), "{stdout}");
    assert!(stdout.contains("strict::who"), "{stdout}");
    let shared =
        std::fs::read_to_string(p.path("snapshots/who.snap.new")).expect("shared snapshot");
    let strict = std::fs::read_to_string(p.path("snapshots/who@strict.snap.new"))
        .expect("override snapshot");
    assert!(shared.contains("status: 101"), "{shared}");
    assert!(
        strict.contains("status: 403") && strict.contains("User not found"),
        "{strict}"
    );
    assert!(Path::new(&p.path("snapshots")).is_dir());
}

#[test]
fn scenarios_that_need_the_embedded_server_are_ignored_on_remote_environments() {
    let config = "\
environments:
  remote:
    local: true
    ws_url: ws://127.0.0.1:1
    secrets:
      jwt: {default: remote-secret-for-the-ignore-test}
";
    let scenario = "\
reference_server: {silent_reject: true}
auth:
  jwt: {secret: jwt, claims: {sub: u}}
handshake: timeout
";
    let p = Project::new(
        "remote-ignore",
        config,
        &[("needs_embedded.yaml", scenario)],
    );
    let (out, stdout, _) = p.run(&["test", "--env", "remote"], &[]);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed, 1 ignored"), "{stdout}");
}
