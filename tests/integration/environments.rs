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

/// A loopback HTTP server answering `204 No Content` to every request, on a thread that
/// lives as long as the test process.
fn no_content_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let answer = "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

fn variables_config(status: &str) -> String {
    format!(
        "\
environments:
  ci:
    local: true
    ws_url: \"ws://127.0.0.1:{{{{ env.SOCKSPEC_IT_PORT }}}}\"
    http_url: \"http://{{{{ env.SOCKSPEC_IT_HOST | default: 127.0.0.1 }}}}:{{{{ env.SOCKSPEC_IT_PORT }}}}\"
    health: {{path: /health, timeout: \"{{{{ env.SOCKSPEC_IT_TIMEOUT | default: 2s }}}}\", status: {status}}}
    dotenv: .env.ci
"
    )
}

const NO_AUTH_PING: &str = "\
auth: none
steps:
  - send: {type: ping}
";

#[test]
fn variables_in_the_configuration_give_the_port_and_health_accepts_a_status_list() {
    let port = no_content_server().to_string();
    let accepting = Project::new(
        "vars-204",
        &variables_config("[200, 204]"),
        &[("a.yaml", NO_AUTH_PING)],
    );
    let (out, stdout, stderr) =
        accepting.run(&["test", "--env", "ci"], &[("SOCKSPEC_IT_PORT", &port)]);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    // Healthy (204 is listed): the scenario ran and met the server's 204 at the upgrade.
    assert!(!stdout.contains("unavailable"), "{stdout}");
    assert!(stdout.contains("204"), "{stdout}");

    // The port from the environment's .env file, when the process does not set it; 204 is
    // refused when the list does not name it.
    let refusing = Project::new(
        "vars-200",
        &variables_config("[200]"),
        &[("a.yaml", NO_AUTH_PING)],
    );
    std::fs::write(
        refusing.path(".env.ci"),
        format!("SOCKSPEC_IT_PORT={port}\n"),
    )
    .expect("dotenv");
    let (out, stdout, stderr) = refusing.run(&["test", "--env", "ci"], &[]);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let expected = format!(
        "environment 'ci' unavailable: GET http://127.0.0.1:{port}/health → 204 No Content"
    );
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn an_unset_variable_without_default_names_the_variable_and_its_place() {
    let p = Project::new(
        "vars-unset",
        &variables_config("204"),
        &[("a.yaml", NO_AUTH_PING)],
    );
    let (out, stdout, stderr) = p.run(&["test", "--env", "ci"], &[]);
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("environment variable `SOCKSPEC_IT_PORT` is not set"),
        "{all}"
    );
    assert!(all.contains("sockspec.yaml:4:29"), "{all}");
    assert!(!all.contains("ci::a"), "no scenario runs: {all}");
}

/// The cargo target directory the `sockspec` binary was built into.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_sockspec"))
        .ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .expect("the binary lives in a cargo target directory")
        .to_path_buf()
}

#[test]
fn the_health_cache_of_a_nextest_run_leaves_nothing_in_the_temp_dir() {
    let port = no_content_server().to_string();
    let p = Project::new(
        "health-litter",
        &variables_config("[200, 204]"),
        &[("a.yaml", NO_AUTH_PING), ("b.yaml", NO_AUTH_PING)],
    );
    let tmp = std::env::temp_dir().join(format!("sockspec-tmpdir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let run_id = format!("litter-test-{}", std::process::id());
    let tmp_text = tmp.to_string_lossy().into_owned();
    let (out, stdout, stderr) = p.run(
        &["test", "--env", "ci"],
        &[
            ("SOCKSPEC_IT_PORT", &port),
            ("NEXTEST_RUN_ID", &run_id),
            ("TMPDIR", &tmp_text),
        ],
    );
    // Healthy (204 is listed); the scenarios then fail at the upgrade, which does not matter.
    assert!(!stdout.contains("unavailable"), "{stdout}{stderr}");
    assert!(out.status.code().is_some(), "{stdout}{stderr}");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("temp dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(left.is_empty(), "left in the temp dir: {left:?}");
    // The run's cache is under the target directory instead.
    let cache = target_dir().join("sockspec/health").join(&run_id);
    let cached = cache.is_dir();
    let _ = std::fs::remove_dir_all(&cache);
    assert!(cached, "no health cache at {}", cache.display());
}
