//! `setup`/`teardown` and `.env` files, through `harness::run` on the embedded server:
//! teardown runs after a failure and after a handshake timeout, a failing teardown fails a
//! scenario that otherwise passed, and a secret can come from the environment's `.env` file.

use std::path::Path;

use sockspec::environment::{Config, Secrets};
use sockspec::harness::RunOutcome;
use sockspec::transcript::{Event, Failure, Transcript};

const CONFIG: &str = "\
environments:
  sim:
    local: true
    embedded: {jwt_secret: jwt, bypass_key: bypass}
    secrets:
      jwt: {default: teardown-test-jwt-secret}
      bypass: {default: teardown-test-bypass-key}
      other: {default: not-the-server-secret}
";

/// A run's transcript, and its failure when it failed.
struct Out {
    transcript: Transcript,
    failure: Option<Failure>,
}

/// Runs `scenario` through the one entry point, with no process environment (every secret
/// has a default or comes from a `.env` file).
fn run(scenario: &str) -> Out {
    let config = Config::parse(CONFIG, Path::new("."), Path::new("sockspec.yaml")).expect("config");
    let env = &config.environments["sim"];
    let plan = sockspec::scenario::parse(scenario, Path::new("t.yaml"), "t").expect("valid");
    let run = sockspec::harness::run(&plan, env, &|_| None);
    let failure = match run.outcome {
        RunOutcome::Passed => None,
        RunOutcome::Failed(f) => Some(*f),
        other => panic!("the run neither passed nor failed: {other:?}"),
    };
    Out {
        transcript: run.transcript.expect("the scenario executed"),
        failure,
    }
}

/// `(phase, method, status)` of every HTTP call, in order.
fn calls(outcome: &Out) -> Vec<(String, String, Option<u16>)> {
    outcome
        .transcript
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Http {
                phase,
                method,
                status,
                ..
            } => Some((phase.clone(), method.clone(), *status)),
            _ => None,
        })
        .collect()
}

const SETUP_AND_TEARDOWN: &str = "\
setup:
  - http:
      method: POST
      path: /auth/e2e/test-auth
      headers: {X-E2E-Bypass-Key: '{{ secrets.bypass }}'}
      body: {email: qa@example.com, name: QA}
      capture: {user_id: /user_id}
teardown:
  - http:
      method: DELETE
      path: '/auth/e2e/users/{{ user_id }}'
      headers: {X-E2E-Bypass-Key: '{{ secrets.bypass }}'}
      status: 200
";

#[test]
fn teardown_runs_after_a_failed_handshake() {
    // The token is signed with the wrong secret: rejected with 403 while acceptance is expected.
    let scenario = format!(
        "{SETUP_AND_TEARDOWN}auth:\n  jwt: {{secret: other, claims: {{sub: '{{{{ user_id }}}}'}}}}\n"
    );
    let out = run(&scenario);
    let failure = out.failure.as_ref().expect("the handshake fails");
    assert!(failure.message.contains("403"), "{}", failure.message);
    assert_eq!(
        calls(&out),
        [
            ("setup".into(), "POST".into(), Some(200)),
            ("teardown".into(), "DELETE".into(), Some(200)),
        ]
    );
}

#[test]
fn teardown_runs_after_a_handshake_timeout() {
    let scenario = format!(
        "{SETUP_AND_TEARDOWN}reference_server: {{silent_reject: true}}\nconnect: {{timeout: 200ms}}\nauth:\n  jwt: {{secret: other, claims: {{sub: x}}}}\n"
    );
    let out = run(&scenario);
    let failure = out.failure.as_ref().expect("the handshake times out");
    assert!(
        failure.message.starts_with("handshake timed out"),
        "{}",
        failure.message
    );
    assert_eq!(
        calls(&out).last().map(|c| (c.0.as_str(), c.2)),
        Some(("teardown", Some(200)))
    );
}

#[test]
fn a_failing_teardown_fails_a_passing_scenario_and_names_the_answer() {
    let scenario = "\
auth:
  jwt: {secret: jwt, claims: {sub: qa-user-1}}
teardown:
  - http:
      method: DELETE
      path: /auth/e2e/users/nobody
      headers: {X-E2E-Bypass-Key: '{{ secrets.bypass }}'}
      status: 200
";
    let out = run(scenario);
    let failure = out.failure.as_ref().expect("teardown fails");
    assert!(
        failure
            .message
            .starts_with("teardown HTTP call failed: DELETE ")
            && failure.message.contains(" answered 404"),
        "{}",
        failure.message
    );
    assert_eq!(
        failure.actual.as_deref(),
        Some(r#"404 {"detail":"User not found"}"#)
    );
}

#[test]
fn a_failed_setup_still_runs_teardown_and_skips_the_rest() {
    let scenario = "\
setup:
  - http: {method: POST, path: /auth/e2e/test-auth, headers: {X-E2E-Bypass-Key: wrong}, body: {email: a@b.c, name: A}}
auth:
  jwt: {secret: jwt, claims: {sub: qa-user-1}}
teardown:
  - http: {method: GET, path: /health}
";
    let out = run(scenario);
    let failure = out.failure.as_ref().expect("setup fails");
    assert!(failure.message.contains("401"), "{}", failure.message);
    assert!(
        failure.message.contains("Invalid E2E bypass key"),
        "{}",
        failure.message
    );
    let phases: Vec<String> = calls(&out).into_iter().map(|c| c.0).collect();
    assert_eq!(phases, ["setup", "teardown"]);
    assert!(
        !out.transcript
            .entries
            .iter()
            .any(|e| matches!(e.event, Event::Request { .. })),
        "no handshake after a failed setup"
    );
}

#[test]
fn a_secret_can_come_from_the_environments_dotenv_file() {
    let dir = std::env::temp_dir().join(format!("sockspec-dotenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join(".env.test"),
        "# comment\nSOCKSPEC_T_DOTENV_JWT=from-the-dotenv-file\n",
    )
    .expect("write");
    let config = "\
environments:
  ci:
    embedded: {jwt_secret: jwt}
    dotenv: .env.test
    secrets:
      jwt: {env: [SOCKSPEC_T_DOTENV_JWT_UNSET, SOCKSPEC_T_DOTENV_JWT]}
";
    let c = Config::parse(config, &dir, &dir.join("sockspec.yaml")).expect("config");
    let (secrets, missing) = Secrets::resolve_declared(&c.environments["ci"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(missing.is_none(), "{missing:?}");
    let jwt = secrets.get("jwt").expect("resolved");
    assert_eq!(jwt.source, "SOCKSPEC_T_DOTENV_JWT in .env.test");
    assert_eq!(jwt.value, "from-the-dotenv-file");
}

#[test]
fn a_malformed_dotenv_file_is_a_configuration_error() {
    let dir = std::env::temp_dir().join(format!("sockspec-dotenv-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join(".env.bad"),
        "GOOD=1\nthis line is not an assignment\n",
    )
    .expect("write");
    let config = "\
environments:
  ci:
    embedded: {jwt_secret: jwt}
    dotenv: .env.bad
    secrets:
      jwt: {env: [X]}
";
    let err = Config::parse(config, &dir, &dir.join("sockspec.yaml")).expect_err("refused");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(err.message.contains(".env.bad"), "{}", err.message);
}

#[test]
fn a_token_in_an_unexpected_answer_is_redacted_in_the_failure_and_transcript() {
    // The service answers 200 with an access token; the step expects 201.
    let scenario = "\
setup:
  - http:
      method: POST
      path: /auth/e2e/test-auth
      headers: {X-E2E-Bypass-Key: '{{ secrets.bypass }}'}
      body: {email: qa@example.com, name: QA}
      status: 201
auth: none
";
    let out = run(scenario);
    let failure = out.failure.as_ref().expect("the status differs");
    let actual = failure.actual.as_deref().unwrap_or_default();
    assert!(actual.starts_with("200 "), "{actual}");
    assert!(
        actual.contains("[setup POST answer /access_token]"),
        "{actual}"
    );
    assert!(!actual.contains("eyJ"), "{actual}");
    let transcript = format!("{:?}", out.transcript);
    assert!(!transcript.contains("eyJ"), "{transcript}");
}
