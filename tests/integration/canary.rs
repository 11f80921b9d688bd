//! The secret canary: a recognisable value in every variable a secret of `sockspec.yaml`
//! reads, one `sockspec test --junit --run-dir --html` run of every offline (embedded)
//! environment, and no canary and no JWT in any artifact: stdout, stderr, the JUnit report,
//! the run records, the HTML report, `snapshots/`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sockspec::environment::{Config, Endpoint};

/// The run takes a couple of seconds; past this it is killed and the test fails.
const DEADLINE: Duration = Duration::from_secs(120);

/// The start of every base64url JSON object, so of every JWT header.
const JWT_START: &str = "eyJ";

/// Something that must not appear in an artifact, and how to name it in a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Needle {
    what: String,
    value: String,
}

fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Variable → canary, for every variable named by any secret of any environment.
fn canaries(config: &Config) -> BTreeMap<String, String> {
    config
        .environments
        .values()
        .flat_map(|env| env.secrets.values())
        .flat_map(|spec| spec.env.iter())
        .map(|var| (var.clone(), format!("canary-{var}-7f3a9c")))
        .collect()
}

/// The environments that run offline: the embedded reference server on loopback.
fn offline_environments(config: &Config) -> Vec<String> {
    config
        .environments
        .values()
        .filter(|env| matches!(env.endpoint, Endpoint::Embedded(_)))
        .map(|env| env.name.clone())
        .collect()
}

/// Secrets read from no variable: their literal `default` is the value, and a secret too.
fn default_only(config: &Config) -> Vec<Needle> {
    config
        .environments
        .values()
        .flat_map(|env| env.secrets.iter())
        .filter(|(_, spec)| spec.env.is_empty())
        .filter_map(|(name, spec)| {
            spec.default.as_ref().map(|d| Needle {
                what: format!("the default value of secret `{name}`"),
                value: d.clone(),
            })
        })
        .collect()
}

fn needles(canaries: &BTreeMap<String, String>, config: &Config) -> Vec<Needle> {
    canaries
        .iter()
        .map(|(var, value)| Needle {
            what: format!("the canary of {var}"),
            value: value.clone(),
        })
        .chain(default_only(config))
        .chain([Needle {
            what: format!("what looks like a JWT (`{JWT_START}`)"),
            value: JWT_START.to_owned(),
        }])
        .collect()
}

/// One line per needle found in `text`, naming the artifact and the needle.
fn leaks(artifact: &str, text: &str, needles: &[Needle]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| text.contains(n.value.as_str()))
        .map(|n| format!("{artifact} contains {}", n.what))
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("sockspec-canary-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_all(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = from.read_to_end(&mut out);
        out
    })
}

struct Finished {
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Waits for `child` until [`DEADLINE`], reading its output meanwhile; kills it past that.
fn wait_bounded(mut child: Child) -> Finished {
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`sockspec test` took more than {DEADLINE:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |h: JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&h.join().expect("reader thread")).into_owned()
    };
    Finished {
        success: status.success(),
        code: status.code(),
        stdout: text(stdout),
        stderr: text(stderr),
    }
}

#[test]
fn canary_secrets_reach_no_artifact() {
    let config = Config::load(project_root()).expect("valid sockspec.yaml");
    let canaries = canaries(&config);
    assert!(
        !canaries.is_empty(),
        "no secret of sockspec.yaml names a variable: the canary has nothing to plant"
    );
    let environments = offline_environments(&config);
    assert!(
        !environments.is_empty(),
        "no environment of sockspec.yaml runs offline (embedded)"
    );

    let tmp = TempDir::new();
    let junit = tmp.0.join("junit.xml");
    let runs = tmp.0.join("runs");
    let html = tmp.0.join("report.html");
    let child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["test", "--junit"])
        .arg(&junit)
        .arg("--run-dir")
        .arg(&runs)
        .arg("--html")
        .arg(&html)
        .current_dir(project_root())
        .envs(&canaries)
        .env("SOCKSPEC_ENV", environments.join(","))
        // Snapshots are compared, never written; nothing may force a pass.
        .env("CI", "true")
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sockspec binary starts");
    let run = wait_bounded(child);

    assert!(
        run.success,
        "`sockspec test` with canary secrets failed (exit {:?})\n--- stdout\n{}\n--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    let report = std::fs::read_to_string(&junit).expect("the junit report was written");
    assert!(
        report.contains("<testcase name=\""),
        "the junit report holds no testcase:\n{report}"
    );

    let needles = needles(&canaries, &config);
    let mut found = Vec::new();
    found.extend(leaks("stdout", &run.stdout, &needles));
    found.extend(leaks("stderr", &run.stderr, &needles));
    found.extend(leaks("junit.xml", &report, &needles));
    let page = std::fs::read_to_string(&html).expect("the HTML report was written");
    assert!(
        page.contains("data-total=\""),
        "the HTML report has no summary"
    );
    found.extend(leaks("report.html", &page, &needles));
    let mut records = Vec::new();
    files_under(&runs, &mut records);
    assert!(
        !records.is_empty(),
        "no run record under {}",
        runs.display()
    );
    for file in records {
        let text = std::fs::read_to_string(&file).expect("readable record");
        found.extend(leaks(&file.display().to_string(), &text, &needles));
    }
    let mut snapshots = Vec::new();
    files_under(&config.snapshots_dir, &mut snapshots);
    assert!(
        !snapshots.is_empty(),
        "no file under {}",
        config.snapshots_dir.display()
    );
    for file in snapshots {
        let bytes = std::fs::read(&file).expect("readable snapshot");
        found.extend(leaks(
            &file.display().to_string(),
            &String::from_utf8_lossy(&bytes),
            &needles,
        ));
    }
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
}

/// The negative control: the search must find what is planted, and name it.
#[test]
fn the_search_finds_a_planted_canary() {
    let config = Config::load(project_root()).expect("valid sockspec.yaml");
    let canaries = canaries(&config);
    let needles = needles(&canaries, &config);
    assert!(
        leaks("clean", "test local::auth/no_token ... ok", &needles).is_empty(),
        "false positive on ordinary output"
    );
    for (var, value) in &canaries {
        let text = format!("error: handshake with Authorization: Bearer {value} rejected");
        assert_eq!(
            leaks("stderr", &text, &needles),
            [format!("stderr contains the canary of {var}")]
        );
    }
    let token = "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJxYSJ9.c2ln";
    assert_eq!(
        leaks("junit.xml", token, &needles),
        ["junit.xml contains what looks like a JWT (`eyJ`)"]
    );
    let distinct: std::collections::BTreeSet<&String> = canaries.values().collect();
    assert_eq!(distinct.len(), canaries.len(), "canaries must be distinct");
}

/// Variable → canary for the throwaway project of [`canary_env_values_reach_no_artifact`].
const ENV_CANARIES: &[(&str, &str)] = &[
    ("SOCKSPEC_CANARY_API_KEY", "canary-query-token-5b2e81"),
    ("SOCKSPEC_CANARY_HEADER", "canary-header-value-c41d07"),
    ("SOCKSPEC_CANARY_MESSAGE", "canary-message-value-93aa4f"),
];

/// A public variable: shown in clear, the negative control of the redaction.
const PUBLIC_VALUE: &str = "public-region-eu-9";

const ENV_PROJECT_CONFIG: &str = "\
environments:
  canary:
    local: true
    embedded: {jwt_secret: jwt, api_keys: [api_key]}
    public_env: [SOCKSPEC_CANARY_PUBLIC]
    secrets:
      jwt: {default: canary-project-development-secret}
      api_key: {env: [SOCKSPEC_CANARY_API_KEY]}
";

/// Values from the environment in every place a scenario can put them: the credential in the
/// query string (read from a variable), a header, a message, and a value captured from the
/// server's answer.
const ENV_PROJECT_SCENARIO: &str = "\
name: Values from the environment
auth: {bearer: {env: SOCKSPEC_CANARY_API_KEY}}
connect:
  path: /ws
  token_in: {query: token}
  headers: {X-Trace: \"{{ env.SOCKSPEC_CANARY_HEADER }}\", X-Region: \"{{ env.SOCKSPEC_CANARY_PUBLIC }}\", Cookie: \"session=canary-literal-cookie-6e1f\", X-Session: \"canary-marked-session-8d2b\"}
  credential_headers: [X-Session]
vars:
  greeting: \"{{ env.SOCKSPEC_CANARY_MESSAGE }}\"
steps:
  - send: {type: ping, id: \"{{ greeting }}\"}
  - expect: {match: {type: pong, id: {exists: true}}, capture: {echoed: id}}
  - send: {type: ping, id: \"again {{ echoed }}\"}
  - expect: {match: {type: pong}}
";

/// `sockspec test` of the throwaway project; with `accept`, new transcripts become snapshots.
fn run_in(root: &Path, vars: &[(&str, &str)], envs: &str, accept: bool) -> Finished {
    let child = Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .args(["test", "--root"])
        .arg(root)
        .current_dir(root)
        .envs(vars.iter().copied())
        .env("SOCKSPEC_CANARY_PUBLIC", PUBLIC_VALUE)
        .env("SOCKSPEC_ENV", envs)
        .env("SOCKSPEC_ACCEPT", if accept { "1" } else { "0" })
        .env_remove("INSTA_UPDATE")
        // Run records go to their default place, `<root>/target/sockspec/runs/`.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove(sockspec::harness::RUN_DIR_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sockspec binary starts");
    wait_bounded(child)
}

#[test]
fn canary_env_values_reach_no_artifact() {
    let tmp = TempDir::new();
    let root = &tmp.0;
    std::fs::write(root.join("sockspec.yaml"), ENV_PROJECT_CONFIG).expect("config written");
    std::fs::create_dir_all(root.join("scenarios")).expect("scenarios/");
    std::fs::create_dir_all(root.join("snapshots")).expect("snapshots/");
    std::fs::write(root.join("scenarios/env_values.yaml"), ENV_PROJECT_SCENARIO)
        .expect("scenario written");

    // The first run fails on the new snapshot: its message shows the transcript, and the
    // transcript is written to a `.snap.new`; both are searched with the rest.
    let first = run_in(root, ENV_CANARIES, "canary", false);
    assert!(
        !first.success && first.stdout.contains("has no snapshot yet"),
        "the first run must fail on the new snapshot:\n{}\n{}",
        first.stdout,
        first.stderr
    );
    let mut pending = Vec::new();
    files_under(&root.join("snapshots"), &mut pending);
    assert!(
        pending
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".snap.new")),
        "no .snap.new written: {pending:?}"
    );
    let pending_texts: Vec<(String, String)> = pending
        .iter()
        .map(|f| {
            (
                f.display().to_string(),
                std::fs::read_to_string(f).expect("readable"),
            )
        })
        .collect();

    let run = run_in(root, ENV_CANARIES, "canary", true);
    let mut snapshots = Vec::new();
    files_under(&root.join("snapshots"), &mut snapshots);
    let texts: Vec<(String, String)> = snapshots
        .iter()
        .map(|f| {
            let bytes = std::fs::read(f).expect("readable snapshot");
            (
                f.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    let all: String = texts.iter().map(|(_, t)| t.as_str()).collect();
    assert!(
        run.success && !texts.is_empty(),
        "the env canary project failed (exit {:?})\n--- stdout\n{}\n--- stderr\n{}\n--- snapshots\n{all}",
        run.code,
        run.stdout,
        run.stderr
    );

    let needles: Vec<Needle> = ENV_CANARIES
        .iter()
        .map(|(var, value)| Needle {
            what: format!("the canary of {var}"),
            value: (*value).to_owned(),
        })
        .collect();
    let needles: Vec<Needle> = needles
        .into_iter()
        .chain([
            Needle {
                what: "the literal value of a credential header (Cookie)".to_owned(),
                value: "canary-literal-cookie-6e1f".to_owned(),
            },
            Needle {
                what: "the value of a header marked in credential_headers".to_owned(),
                value: "canary-marked-session-8d2b".to_owned(),
            },
        ])
        .collect();
    let mut found = Vec::new();
    found.extend(leaks("stdout", &run.stdout, &needles));
    found.extend(leaks("stderr", &run.stderr, &needles));
    found.extend(leaks("the first run's stdout", &first.stdout, &needles));
    found.extend(leaks("the first run's stderr", &first.stderr, &needles));
    for (file, text) in texts.iter().chain(&pending_texts) {
        found.extend(leaks(file, text, &needles));
    }
    // The run records, in their default place below the project's target directory.
    let mut records = Vec::new();
    files_under(&root.join("target/sockspec/runs"), &mut records);
    assert!(
        !records.is_empty(),
        "no run record under the project's target/"
    );
    for file in &records {
        let text = std::fs::read_to_string(file).expect("readable record");
        found.extend(leaks(&file.display().to_string(), &text, &needles));
    }
    assert!(
        found.is_empty(),
        "values from the environment leaked:\n{}\n{all}",
        found.join("\n")
    );
    for marker in [
        "token=[secret api_key]",
        "[env SOCKSPEC_CANARY_HEADER]",
        "[env SOCKSPEC_CANARY_MESSAGE]",
        "[credential header cookie]",
        "[credential header x-session]",
        PUBLIC_VALUE,
    ] {
        assert!(
            all.contains(marker),
            "no `{marker}` in the snapshot:\n{all}"
        );
    }

    // Another token gives the same snapshot: the query marker is stable.
    let other: Vec<(&str, &str)> = ENV_CANARIES
        .iter()
        .map(|&(var, value)| {
            if var == "SOCKSPEC_CANARY_API_KEY" {
                (var, "another-query-token-0d9e2c")
            } else {
                (var, value)
            }
        })
        .collect();
    let again = run_in(root, &other, "canary", false);
    let mut after = Vec::new();
    files_under(&root.join("snapshots"), &mut after);
    let all_after: String = after
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable snapshot"))
        .collect();
    assert!(again.success, "second run failed:\n{}", again.stderr);
    assert_eq!(all_after, all, "the snapshot changed with the token");
}
