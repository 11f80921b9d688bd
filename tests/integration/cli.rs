//! The QA subcommands through the `sockspec` binary: `token` (explains a scenario's
//! credential, prints it only with `--reveal`), `decode` (reads any JWT without verifying
//! it), `doctor` (checks an environment; here the embedded reference server on 127.0.0.1)
//! and `new` (a starter scenario that validates). Every run of the binary is bounded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sockspec::environment::Config;
use sockspec::environment::fingerprint;
use sockspec::exit;

use crate::support::bounded;

/// Longest a single run of the binary may take (doctor's own waits are 3 s each).
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Variables the project's `local` environment reads, removed so its defaults apply.
fn local_variables() -> Vec<String> {
    let config = Config::load(manifest_dir()).expect("the project's sockspec.yaml loads");
    config
        .environments
        .values()
        .flat_map(|e| e.secrets.values().flat_map(|s| s.env.clone()))
        .collect()
}

/// Every literal `default` of every environment of the project: secret values.
fn default_secret_values() -> Vec<String> {
    let config = Config::load(manifest_dir()).expect("the project's sockspec.yaml loads");
    config
        .environments
        .values()
        .flat_map(|e| e.secrets.values().filter_map(|s| s.default.clone()))
        .collect()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `sockspec --root <root> <args>` in `cwd` with `stdin`, killed after [`RUN_DEADLINE`].
fn sockspec(root: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sockspec"));
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .current_dir(cwd)
        .env_remove("SOCKSPEC_ENV")
        .env("RUST_BACKTRACE", "0");
    for var in local_variables() {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = bounded(cmd, Some(stdin), RUN_DEADLINE);
    Run {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// `sockspec` on this project.
fn project(args: &[&str], env: &[(&str, &str)]) -> Run {
    sockspec(manifest_dir(), manifest_dir(), args, env, "")
}

/// A throwaway project directory, removed on drop.
struct TempProject(PathBuf);

impl TempProject {
    fn new(name: &str, config: Option<&str>) -> TempProject {
        let dir = std::env::temp_dir().join(format!("sockspec-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scenarios")).expect("temp dir");
        if let Some(config) = config {
            std::fs::write(dir.join("sockspec.yaml"), config).expect("config written");
        }
        TempProject(dir)
    }

    fn run(&self, args: &[&str]) -> Run {
        sockspec(&self.0, &self.0, args, &[], "")
    }
}

impl Drop for TempProject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_secs()).expect("fits")
}

fn hand_made_jwt(claims: &serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[test]
fn token_explains_a_jwt_without_printing_it() {
    let run = project(
        &["token", "--env", "local", "--scenario", "agent/full_flow"],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let jwt_fp = fingerprint(b"sockspec-local-development-secret");
    for expected in [
        "strategy:    jwt",
        "algorithm:   HS256",
        &format!(
            "key:         secret `jwt` from the local default in sockspec.yaml (sha256:{jwt_fp})"
        ),
        r#""sub":"qa-user-1""#,
        r#""email":"qa@example.com""#,
        "token validity: expires in 15m",
        "token:       hidden (pass --reveal to print it)",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?}:\n{}",
            run.stdout
        );
    }
    assert!(!run.all().contains("eyJ"), "{}", run.all());
    for value in default_secret_values() {
        assert!(
            !run.all().contains(&value),
            "{value} printed:\n{}",
            run.all()
        );
    }
}

#[test]
fn token_reveal_prints_a_token_that_decode_reads() {
    let run = project(
        &[
            "token",
            "-e",
            "local",
            "-s",
            "scenarios/agent/full_flow.yaml",
            "--reveal",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let token = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("token:"))
        .map(str::trim)
        .expect("a token line");
    assert!(token.starts_with("eyJ"), "{token}");
    assert_eq!(token.split('.').count(), 3, "{token}");

    let decoded = project(&["decode", token], &[]);
    assert_eq!(decoded.code, Some(0), "{}", decoded.all());
    assert!(
        decoded.stdout.contains(r#""sub":"qa-user-1""#),
        "{}",
        decoded.stdout
    );
    assert!(
        decoded.stdout.contains("token validity: expires in"),
        "{}",
        decoded.stdout
    );

    // From standard input, with the scheme, as copied from a request.
    let piped = sockspec(
        manifest_dir(),
        manifest_dir(),
        &["decode", "-"],
        &[],
        &format!("Authorization: Bearer {token}\n"),
    );
    assert_eq!(piped.code, Some(0), "{}", piped.all());
    let claims = |stdout: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with("token claims:"))
            .map(str::to_owned)
    };
    assert!(claims(&piped.stdout).is_some(), "{}", piped.stdout);
    assert_eq!(claims(&piped.stdout), claims(&decoded.stdout));
    let signature = token.rsplit('.').next().expect("signature");
    assert!(!piped.all().contains(signature), "{}", piped.all());
}

#[test]
fn token_of_an_exchange_asks_the_embedded_server() {
    let run = project(
        &["token", "--env", "local", "--scenario", "auth/exchange"],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("strategy:    exchange"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("/auth/e2e/test-auth → 200"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r#""email":"qa-exchange@example.com""#),
        "{}",
        run.stdout
    );
    assert!(!run.all().contains("eyJ"), "{}", run.all());
    for value in default_secret_values() {
        assert!(
            !run.all().contains(&value),
            "{value} printed:\n{}",
            run.all()
        );
    }
}

#[test]
fn token_of_a_static_secret_shows_its_source_not_its_value() {
    let run = project(
        &["token", "--env", "local", "--scenario", "auth/api_key"],
        &[(
            "SOCKSPEC_LOCAL_API_KEY",
            "cli-test-api-key-value-0123456789",
        )],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let fp = fingerprint(b"cli-test-api-key-value-0123456789");
    assert!(
        run.stdout.contains(&format!(
            "secret:      `api_key` from variable SOCKSPEC_LOCAL_API_KEY (sha256:{fp})"
        )),
        "{}",
        run.stdout
    );
    assert!(
        !run.all().contains("cli-test-api-key-value"),
        "{}",
        run.all()
    );
}

#[test]
fn token_of_a_scenario_without_auth_says_there_is_none() {
    let run = project(&["token", "--scenario", "auth/no_token"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("strategy:    none — this scenario connects without a token"),
        "{}",
        run.stdout
    );
}

#[test]
fn token_with_a_missing_secret_names_every_variable_tried() {
    let p = TempProject::new(
        "token-missing",
        Some(
            "environments:\n  local:\n    embedded: {jwt_secret: jwt}\n    secrets:\n      jwt: {env: [SOCKSPEC_CLI_T_UNSET_ONE, SOCKSPEC_CLI_T_UNSET_TWO]}\n",
        ),
    );
    std::fs::write(
        p.0.join("scenarios/ping.yaml"),
        "auth:\n  jwt: {secret: jwt, claims: {sub: qa-user-1}}\n",
    )
    .expect("scenario written");
    let run = p.run(&["token", "--scenario", "ping"]);
    assert_eq!(run.code, Some(i32::from(exit::NO_TOKEN)), "{}", run.all());
    assert!(
        run.stderr.contains(
            "error: failed to resolve secrets for environment 'local': secret `jwt` not set \
             (tried SOCKSPEC_CLI_T_UNSET_ONE, SOCKSPEC_CLI_T_UNSET_TWO)"
        ),
        "{}",
        run.stderr
    );
    let unknown = p.run(&["token", "--scenario", "pong"]);
    assert_eq!(
        unknown.code,
        Some(i32::from(exit::BAD_SELECTION)),
        "{}",
        unknown.all()
    );
    assert!(
        unknown.stderr.contains("did you mean `ping`?"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn decode_flags_an_expired_token_and_hides_the_signature() {
    let exp = now() - 300;
    let token = hand_made_jwt(
        &serde_json::json!({"sub": "qa", "exp": exp}),
        "c2lnbmF0dXJlLWJ5dGVz",
    );
    let run = project(&["decode", &format!("Bearer {token}")], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("token validity: EXPIRED 5m"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("(exp {exp})")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r#"token claims: {"sub":"qa","exp":"#),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("15 bytes (hidden)"), "{}", run.stdout);
    assert!(!run.all().contains("c2lnbmF0dXJlLWJ5dGVz"), "{}", run.all());

    let not_yet = hand_made_jwt(&serde_json::json!({"nbf": now() + 3600}), "c2ln");
    let run = project(&["decode", &not_yet], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("NOT VALID YET"), "{}", run.stdout);
}

#[test]
fn decode_of_garbage_fails_with_an_explanation() {
    for input in ["staging_jwt_token_user_123_1757260800", "not.base64!.x"] {
        let run = project(&["decode", input], &[]);
        assert_eq!(run.code, Some(i32::from(exit::NOT_A_JWT)), "{}", run.all());
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.starts_with("error: failed to decode the token"),
            "{}",
            run.stderr
        );
    }
    let empty = sockspec(manifest_dir(), manifest_dir(), &["decode", "-"], &[], "\n");
    assert_eq!(
        empty.code,
        Some(i32::from(exit::NOT_A_JWT)),
        "{}",
        empty.all()
    );
    assert!(
        empty.stderr.contains("the input is empty"),
        "{}",
        empty.stderr
    );
}

#[test]
fn doctor_passes_every_check_on_the_local_environment_and_prints_no_secret() {
    let run = project(
        &["doctor", "--env", "local"],
        &[(
            "SOCKSPEC_LOCAL_API_KEY",
            "cli-test-doctor-api-key-0123456789",
        )],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(!run.stdout.contains('✗'), "{}", run.stdout);
    let config = Config::load(manifest_dir()).expect("config");
    let local = &config.environments["local"];
    for (name, spec) in &local.secrets {
        let (source, value) = match name.as_str() {
            "api_key" => (
                "from variable SOCKSPEC_LOCAL_API_KEY".to_owned(),
                "cli-test-doctor-api-key-0123456789".to_owned(),
            ),
            _ => (
                "from the local default in sockspec.yaml".to_owned(),
                spec.default.clone().expect("a local default"),
            ),
        };
        let line = format!(
            "✓ secret     `{name}` {source} (sha256:{})",
            fingerprint(value.as_bytes())
        );
        assert!(
            run.stdout.contains(&line),
            "missing {line:?}:\n{}",
            run.stdout
        );
    }
    for check in [
        "✓ server     the embedded reference server listens on 127.0.0.1:",
        "✓ dns        127.0.0.1 resolves to 127.0.0.1",
        "✓ tcp        connected to 127.0.0.1:",
        "✓ clock      ",
        "✓ exchange   POST /auth/e2e/test-auth with secret `bypass_key`",
        "✓ handshake  GET /ws with an HS256 token",
    ] {
        assert!(
            run.stdout.contains(check),
            "missing {check:?}:\n{}",
            run.stdout
        );
    }
    // Each secret, then server, dns, tcp, clock, exchange, handshake; no tls, no health.
    let summary = format!(
        "doctor: {} passed, 0 failed, 2 not applicable",
        local.secrets.len() + 6
    );
    assert!(
        run.stdout.contains(&summary),
        "missing {summary:?}:\n{}",
        run.stdout
    );
    let mut values = default_secret_values();
    values.push("cli-test-doctor-api-key".to_owned());
    for value in values {
        assert!(
            !run.all().contains(&value),
            "{value} printed:\n{}",
            run.all()
        );
    }
    assert!(!run.all().contains("eyJ"), "{}", run.all());
}

#[test]
fn doctor_reports_a_missing_secret_and_carries_on() {
    let p = TempProject::new(
        "doctor-missing",
        Some(
            "environments:\n  local:\n    local: true\n    embedded: {jwt_secret: jwt}\n    secrets:\n      jwt: {default: a-doctor-test-secret-value}\n      extra: {env: [SOCKSPEC_CLI_T_MISSING_A, SOCKSPEC_CLI_T_MISSING_B]}\n",
        ),
    );
    let run = p.run(&["doctor"]);
    assert_eq!(
        run.code,
        Some(i32::from(exit::CHECKS_FAILED)),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains(
            "✗ secret     `extra` is missing: none of its variables is set (tried \
             SOCKSPEC_CLI_T_MISSING_A, SOCKSPEC_CLI_T_MISSING_B), and it has no default"
        ),
        "{}",
        run.stdout
    );
    // The failure does not stop the other checks.
    assert!(
        run.stdout.contains("✓ handshake  GET /ws"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("– exchange   no bypass key declared"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("doctor: 6 passed, 1 failed, 3 not applicable"),
        "{}",
        run.stdout
    );
    assert!(
        !run.all().contains("a-doctor-test-secret-value"),
        "{}",
        run.all()
    );
}

#[test]
fn doctor_of_an_unknown_environment_is_a_bad_selection() {
    let run = project(&["doctor", "--env", "locl"], &[]);
    assert_eq!(
        run.code,
        Some(i32::from(exit::BAD_SELECTION)),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("did you mean `local`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn new_writes_a_scenario_that_loads_and_never_overwrites() {
    let p = TempProject::new("new", None);
    let run = p.run(&["new", "scenarios/my/first_flow.yaml"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("sockspec test local::my/first_flow"),
        "{}",
        run.stdout
    );
    let path = p.0.join("scenarios/my/first_flow.yaml");
    let text = std::fs::read_to_string(&path).expect("written");
    assert_eq!(
        text.lines().next(),
        Some("# yaml-language-server: $schema=../../schema/scenario.schema.json")
    );
    let plan = sockspec::scenario::load(&path, "my/first_flow")
        .unwrap_or_else(|ds| panic!("{}", ds[0].render()));
    assert_eq!(plan.name, "First flow");
    assert_eq!(plan.auth.strategy(), "jwt");
    assert_eq!(plan.steps.len(), 2);
    let check = p.run(&["check"]);
    assert_eq!(check.code, Some(0), "{}", check.all());
    assert!(
        check.stdout.contains("1 valid, 0 invalid"),
        "{}",
        check.stdout
    );

    std::fs::write(&path, "name: edited\n").expect("edited");
    let again = p.run(&["new", "scenarios/my/first_flow.yaml"]);
    assert_eq!(
        again.code,
        Some(i32::from(exit::NOT_WRITTEN)),
        "{}",
        again.all()
    );
    assert!(
        again.stderr.contains("it exists already"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "name: edited\n"
    );

    // Without an extension, `.yaml` is added; at the scenario root the schema is one up.
    let top = p.run(&["new", "scenarios/top"]);
    assert_eq!(top.code, Some(0), "{}", top.all());
    let text = std::fs::read_to_string(p.0.join("scenarios/top.yaml")).expect("written");
    assert!(
        text.starts_with("# yaml-language-server: $schema=../schema/scenario.schema.json\n"),
        "{text}"
    );
}

/// An empty temporary directory outside the repository, used as the current directory.
fn elsewhere(name: &str) -> TempProject {
    let p = TempProject::new(name, None);
    std::fs::remove_dir_all(p.0.join("scenarios")).expect("emptied");
    p
}

#[test]
fn paths_resolve_against_the_current_directory_or_the_root() {
    let cwd = elsewhere("paths");
    // Relative to --root, from a directory outside the project.
    let run = sockspec(
        manifest_dir(),
        &cwd.0,
        &["test", "scenarios/protocol/text_frame.yaml"],
        &[],
        "",
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("sockspec: 1 passed, 0 failed, 0 ignored"),
        "{}",
        run.stdout
    );
    let check = sockspec(
        manifest_dir(),
        &cwd.0,
        &[
            "check",
            "scenarios/protocol/text_frame.yaml",
            "scenarios/agent/",
        ],
        &[],
        "",
    );
    assert_eq!(check.code, Some(0), "{}", check.all());
    let agent = std::fs::read_dir(manifest_dir().join("scenarios/agent"))
        .expect("scenarios/agent")
        .count();
    assert!(
        check
            .stdout
            .contains(&format!("checked {} scenario file(s)", agent + 1)),
        "{}",
        check.stdout
    );
    // Relative to the current directory, which is not the root.
    let inside = manifest_dir().join("scenarios");
    let run = sockspec(
        manifest_dir(),
        &inside,
        &["test", "protocol/text_frame.yaml"],
        &[],
        "",
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("sockspec: 1 passed, 0 failed, 0 ignored"),
        "{}",
        run.stdout
    );
    let check = sockspec(manifest_dir(), &inside, &["check", "protocol"], &[], "");
    assert_eq!(check.code, Some(0), "{}", check.all());
    assert!(!check.stdout.contains("checked 0 "), "{}", check.stdout);
    // A path under neither is a bad selection for `check`.
    let none = sockspec(manifest_dir(), &cwd.0, &["check", "no/such.yaml"], &[], "");
    assert_eq!(
        none.code,
        Some(i32::from(exit::BAD_SELECTION)),
        "{}",
        none.all()
    );
    assert!(none.stderr.contains("no/such.yaml"), "{}", none.stderr);
}

#[test]
fn check_honours_sockspec_env_and_env() {
    let path = "scenarios/protocol/text_frame.yaml";
    let run = project(&["check", path], &[("SOCKSPEC_ENV", "staging-sim")]);
    assert!(
        run.stdout.contains("environment 'staging-sim'"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("environment 'local'"), "{}", run.all());
    let run = project(&["check", path], &[("SOCKSPEC_ENV", "nope")]);
    assert_eq!(
        run.code,
        Some(i32::from(exit::BAD_SELECTION)),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("`nope`"), "{}", run.stderr);
    // --env wins over SOCKSPEC_ENV.
    let run = project(
        &["check", "--env", "local", path],
        &[("SOCKSPEC_ENV", "nope")],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("environment 'local'"), "{}", run.all());
}

#[test]
fn test_jobs_sets_the_number_of_scenarios_run_at_once() {
    let run = project(
        &[
            "test",
            "--jobs",
            "1",
            "scenarios/protocol/text_frame.yaml",
            "scenarios/protocol/clean_close.yaml",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("sockspec: 2 passed, 0 failed, 0 ignored"),
        "{}",
        run.stdout
    );
    let zero = project(
        &["test", "--jobs", "0", "scenarios/protocol/text_frame.yaml"],
        &[],
    );
    assert_eq!(zero.code, Some(2), "{}", zero.all());
    assert!(zero.stderr.contains("--jobs"), "{}", zero.stderr);
}

#[test]
fn test_repeat_counts_passes_per_scenario() {
    let run = project(
        &[
            "test",
            "--repeat",
            "3",
            "scenarios/protocol/text_frame.yaml",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("local::protocol/text_frame: 3 of 3 passed\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("sockspec: 3 passed, 0 failed, 0 ignored"),
        "{}",
        run.stdout
    );
    let help = project(&["test", "--help"], &[]);
    assert!(help.stdout.contains("1000"), "{}", help.stdout);
}

#[test]
fn test_until_fail_stops_at_the_first_failing_round() {
    // A scenario without its snapshot fails every round.
    let p = TempProject::new("until-fail", None);
    std::fs::copy(
        manifest_dir().join("scenarios/protocol/text_frame.yaml"),
        p.0.join("scenarios/text_frame.yaml"),
    )
    .expect("copied");
    let run = sockspec(&p.0, &p.0, &["test", "--until-fail"], &[("CI", "true")], "");
    assert_eq!(run.code, Some(i32::from(exit::FAILURES)), "{}", run.all());
    assert!(
        run.stdout.contains("round 1 of at most 1000"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("round 2 "), "{}", run.stdout);
    assert!(
        run.stdout.contains("local::text_frame: 0 of 1 passed\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("sockspec: 0 passed, 1 failed, 0 ignored"),
        "{}",
        run.stdout
    );
    // Passing rounds go on to the cap given by --repeat.
    let run = project(
        &[
            "test",
            "--until-fail",
            "--repeat",
            "2",
            "scenarios/protocol/text_frame.yaml",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout
            .contains("local::protocol/text_frame: 2 of 2 passed\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_trial_name_selects_its_environment_without_env() {
    let run = project(&["test", "staging-sim::auth/api_key"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("1 passed, 0 failed, 0 ignored in"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("(environments: staging-sim)"),
        "{}",
        run.all()
    );
    // An environment the configuration does not declare is still an unmatched filter.
    let run = project(&["test", "nowhere::auth/api_key"], &[]);
    assert_eq!(
        run.code,
        Some(i32::from(exit::BAD_SELECTION)),
        "{}",
        run.all()
    );
}

#[test]
fn accepting_names_each_snapshot_written_and_a_closed_pipe_is_quiet() {
    let p = TempProject::new("accept-loud", None);
    std::fs::write(
        p.0.join("scenarios/one.yaml"),
        "name: One\nauth: {jwt: {secret: jwt, claims: {sub: u}}}\nsteps:\n  - send: {type: ping, id: 1}\n  - expect: {match: {type: pong}, within: 5s}\n",
    )
    .unwrap();
    let run = p.run(&["test", "--accept"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stderr
            .contains("sockspec: accepted the new snapshot of `one`: "),
        "{}",
        run.all()
    );
    // A reader that stops early (`| head -1`): the process ends without a panic. The reader
    // reads the first line and closes the pipe; only then is review's question answered, so
    // its next line meets a closed pipe.
    let snap = p.0.join("snapshots/one.snap");
    let text = std::fs::read_to_string(&snap).unwrap();
    std::fs::write(&snap, text.replace("pong", "pang")).unwrap();
    assert_eq!(p.run(&["test"]).code, Some(1));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("--root")
        .arg(&p.0)
        .arg("review")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockspec starts");
    let pid = child.id();
    let mut first = String::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut reader, &mut first).unwrap();
    assert!(first.starts_with("── 1 of 1: one (changed)"), "{first}");
    drop(reader);
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(b"s\n");
    drop(stdin);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(RUN_DEADLINE)
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("review did not end after its reader left");
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(i32::from(exit::CLOSED_PIPE)),
        "{stderr}"
    );
}
