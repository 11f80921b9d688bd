//! Owns `sockspec init [--cargo]`: sets a project up in an existing repository — a commented
//! `sockspec.yaml`, `scenarios/` with one example that runs against the embedded reference
//! server, `snapshots/`, the JSON Schemas the example's `yaml-language-server` line points
//! at, `.gitignore` lines, a CI workflow, and with `--cargo` a nextest harness (`Cargo.toml`,
//! `tests/scenarios.rs`, `.config/nextest.toml`). Idempotent: an existing file is never
//! overwritten (it is reported as kept), and `.gitignore` only gets the lines it lacks.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::new::{SCHEMA_PATH, starter};
use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::scenario::schema::{fragment_schema_json, scenario_schema_json};

/// The fragment schema, relative to the project root.
const FRAGMENT_SCHEMA_PATH: &str = "schema/fragment.schema.json";

#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Also write a nextest harness (`Cargo.toml` with sockspec as a dev-dependency,
    /// `tests/scenarios.rs`), so `cargo nextest run` runs the scenarios.
    #[arg(long)]
    cargo: bool,
    /// With --cargo: depend on sockspec at this path (a checkout) instead of crates.io.
    #[arg(
        long,
        value_name = "DIR",
        requires = "cargo",
        conflicts_with = "sockspec_git"
    )]
    sockspec_path: Option<PathBuf>,
    /// With --cargo: depend on sockspec from this git repository instead of crates.io.
    #[arg(long, value_name = "URL", requires = "cargo")]
    sockspec_git: Option<String>,
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
enum Done {
    Created,
    Kept,
    Appended(usize),
}

#[derive(Debug, thiserror::Error)]
#[error("write {path}: {error}")]
struct InitError {
    path: String,
    error: std::io::Error,
}

pub(super) fn run(root: &Path, args: &InitArgs) -> u8 {
    match init(root, args) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            exit::SUCCESS
        }
        Err(e) => {
            Diagnostic::bare(format!("failed to {e}; nothing after it was written")).eprint();
            exit::NOT_WRITTEN
        }
    }
}

fn init(root: &Path, args: &InitArgs) -> Result<Vec<String>, InitError> {
    let mut files: Vec<(String, String)> = vec![
        ("sockspec.yaml".into(), CONFIG.into()),
        (
            "scenarios/example.yaml".into(),
            starter("../schema/scenario.schema.json", "Example: an agent flow"),
        ),
        ("snapshots/.gitkeep".into(), String::new()),
        (SCHEMA_PATH.into(), scenario_schema_json()),
        (FRAGMENT_SCHEMA_PATH.into(), fragment_schema_json()),
        (
            ".github/workflows/sockspec.yml".into(),
            workflow(args.cargo),
        ),
    ];
    // A crate of the team's own: its manifest is theirs to edit; the harness would not compile
    // in it without that edit, so neither is written (what to add is printed instead).
    let existing_crate = args.cargo
        && std::fs::read_to_string(root.join("Cargo.toml"))
            .is_ok_and(|m| !m.contains("sockspec::harness") && !m.contains(HARNESS_MARK));
    let dependency = match (&args.sockspec_path, &args.sockspec_git) {
        (Some(p), _) => {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            format!("{{ path = {} }}", toml_string(&p.display().to_string()))
        }
        (None, Some(url)) => format!("{{ git = {} }}", toml_string(url)),
        (None, None) => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
    };
    if args.cargo && !existing_crate {
        let name = package_name(root);
        files.push(("Cargo.toml".into(), cargo_toml(&name, &dependency)));
        files.push(("tests/scenarios.rs".into(), HARNESS.into()));
    }
    if args.cargo {
        files.push((".config/nextest.toml".into(), NEXTEST.into()));
    }
    let mut out = Vec::new();
    for (path, text) in &files {
        let done = create(root, path, text)?;
        out.push(line(path, &done));
    }
    let done = gitignore(root)?;
    out.push(line(".gitignore", &done));
    if existing_crate {
        out.push(String::new());
        out.push(format!(
            "action needed: Cargo.toml is your crate's, and init never edits a file; to run the scenarios with `cargo nextest run`, add to it:\n\n[dev-dependencies]\nsockspec = {dependency}\n\n[[test]]\nname = \"scenarios\"\npath = \"tests/scenarios.rs\"\nharness = false\n\nand write tests/scenarios.rs:\n\n{HARNESS}"
        ));
    }
    out.push(String::new());
    out.push("next:".into());
    out.push("  sockspec check                 validate the scenarios and configuration".into());
    out.push(
        "  sockspec test                  run them (the first run fails: no snapshot yet)".into(),
    );
    out.push("  sockspec review                look at each new transcript, accept it".into());
    out.push("  sockspec test                  passes; commit scenarios/ and snapshots/".into());
    if args.cargo {
        out.push("  cargo nextest run              the same scenarios as tests".into());
    }
    out.push(
        "then add your service as an environment in sockspec.yaml (see the comments there)".into(),
    );
    Ok(out)
}

fn line(path: &str, done: &Done) -> String {
    match done {
        Done::Created => format!("created  {path}"),
        Done::Kept => format!("kept     {path} (exists; init never overwrites)"),
        Done::Appended(0) => format!("kept     {path} (has the lines already)"),
        Done::Appended(n) => format!("appended {path} ({n} line(s))"),
    }
}

/// Writes `text` to `<root>/<path>` unless the file exists.
fn create(root: &Path, path: &str, text: &str) -> Result<Done, InitError> {
    let file = root.join(path);
    let err = |error| InitError {
        path: path.to_owned(),
        error,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(mut f) => {
            f.write_all(text.as_bytes()).map_err(err)?;
            Ok(Done::Created)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Done::Kept),
        Err(e) => Err(err(e)),
    }
}

/// The `.gitignore` lines sockspec needs, those missing appended.
const IGNORED: [&str; 3] = [".env.*", "*.snap.new", "/target"];

fn gitignore(root: &Path) -> Result<Done, InitError> {
    let file = root.join(".gitignore");
    let err = |error| InitError {
        path: ".gitignore".into(),
        error,
    };
    let existing = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(err(e)),
    };
    let missing: Vec<&str> = IGNORED
        .iter()
        .copied()
        .filter(|l| !existing.lines().any(|e| e.trim() == *l))
        .collect();
    if missing.is_empty() {
        return Ok(Done::Appended(0));
    }
    let mut text = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# sockspec: per-environment variables, snapshots waiting for review\n");
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    Ok(Done::Appended(missing.len()))
}

/// A Cargo package name from the directory's name: `<dir>-scenarios`.
fn package_name(root: &Path) -> String {
    let dir = std::fs::canonicalize(root)
        .unwrap_or_else(|_| root.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = dir
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(
            0,
            if name.is_empty() {
                "project"
            } else {
                "project-"
            },
        );
    }
    format!("{name}-scenarios")
}

fn toml_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

const CONFIG: &str = r#"# sockspec project configuration: where scenarios and snapshots live, and the environments
# scenarios run against. Select environments with SOCKSPEC_ENV (comma list; default: local)
# or `sockspec test --env staging`. Validate with `sockspec check`; probe an environment with
# `sockspec doctor --env NAME`.
scenarios: scenarios
snapshots: snapshots
environments:
  # The bundled reference server, started in-process on 127.0.0.1 for each scenario: the
  # example scenario runs against it with no set-up. Remove it once your service is here.
  local:
    local: true
    embedded: {jwt_secret: jwt}
    secrets:
      # `local: true` environments may give a secret a literal default; others may not.
      jwt: {env: [SOCKSPEC_LOCAL_JWT_SECRET], default: sockspec-local-development-secret}

  # Your service. Secrets come from variables (first set wins), or from the environment's
  # `dotenv` file (never committed: .gitignore has `.env.*`); reports show only their names
  # and fingerprints.
  # staging:
  #   ws_url: wss://staging.example.com
  #   http_url: https://staging.example.com
  #   # Checked once before any scenario runs: a down service is reported as unavailable,
  #   # not as every scenario failing. `status`: one code or a list (default: any 2xx).
  #   health: {path: /health, timeout: 2s, status: [200, 204]}
  #   dotenv: .env.staging
  #   secrets:
  #     jwt: {env: [JWT_SECRET_STAGING, JWT_SECRET]}
  #     bypass_key: {env: [E2E_BYPASS_KEY_STAGING, E2E_BYPASS_KEY]}

  # A server your CI starts on a port of its choosing: `{{ env.NAME | default: VALUE }}` in
  # URLs, health checks and timeouts. Values from variables are redacted in every output
  # (`[env WS_PORT]`) unless listed in `public_env`.
  # ci:
  #   local: true
  #   ws_url: "ws://127.0.0.1:{{ env.WS_PORT | default: 8888 }}"
  #   http_url: "http://127.0.0.1:{{ env.WS_PORT | default: 8888 }}"
  #   public_env: [WS_PORT]
  #   health: {path: /health, timeout: "{{ env.HEALTH_TIMEOUT | default: 2s }}"}
  #   secrets:
  #     jwt: {env: [JWT_SECRET], default: a-ci-only-secret}
"#;

/// A comment of the generated manifest: a second `init --cargo` knows the file is its own.
const HARNESS_MARK: &str = "The nextest harness of this repository's sockspec scenarios";

const HARNESS: &str = r#"fn main() -> std::process::ExitCode {
    sockspec::harness::main(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
}
"#;

fn cargo_toml(name: &str, dependency: &str) -> String {
    format!(
        r#"# The nextest harness of this repository's sockspec scenarios: every file in scenarios/
# becomes a test, `<environment>::<id>`. Run with `cargo nextest run` (or `cargo test`).
[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[[test]]
name = "scenarios"
path = "tests/scenarios.rs"
harness = false

[dev-dependencies]
# Until sockspec is on crates.io: `sockspec init --cargo --sockspec-git URL` (or
# `--sockspec-path DIR`) writes a git (or path) dependency here instead.
sockspec = {dependency}

# Its own workspace, even inside a repository with a workspace of its own.
[workspace]

# sockspec and its dependencies are built once, optimised a little (a scenario's process
# under nextest: 12 ms of overhead at opt-level 0, 4 ms at 1) and without debug information
# (a smaller build and link); the same settings as sockspec's own repository.
[profile.dev.package."*"]
debug = false
opt-level = 1
"#
    )
}

const NEXTEST: &str = r#"# nextest configuration. `cargo nextest run --profile ci` in CI.
[profile.default]
slow-timeout = { period = "30s", terminate-after = 4 }

[profile.ci]
fail-fast = false
failure-output = "immediate-final"
slow-timeout = { period = "30s", terminate-after = 4 }

[profile.ci.junit]
path = "junit.xml"
"#;

fn workflow(cargo: bool) -> String {
    let mut text = String::from(
        r#"# sockspec scenarios in CI. Secrets come from the repository's secrets, never from files.
name: sockspec
on: [push, pull_request]

jobs:
  scenarios:
    runs-on: ubuntu-latest
    env:
      CI: "true"
      SOCKSPEC_ENV: local   # a comma list; add your environments once they are configured
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      # Until sockspec is on crates.io: cargo install --locked --git <its repository URL>
      - run: cargo install sockspec --locked
      - run: sockspec check
      - run: sockspec snapshots --check
      - run: sockspec test --junit target/sockspec/junit.xml
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: sockspec-results
          path: |
            target/sockspec/junit.xml
            snapshots/**/*.snap.new
"#,
    );
    if cargo {
        text.push_str(
            r#"
  nextest:
    runs-on: ubuntu-latest
    env:
      CI: "true"
      SOCKSPEC_ENV: local
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - uses: taiki-e/install-action@v2
        with: {tool: cargo-nextest}
      - run: cargo nextest run --profile ci
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: sockspec-nextest
          path: |
            target/nextest/ci/junit.xml
            snapshots/**/*.snap.new
"#,
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_valid() {
        assert_eq!(
            package_name(Path::new("/nonexistent/My Service")),
            "my-service-scenarios"
        );
        assert_eq!(
            package_name(Path::new("/nonexistent/2go")),
            "project-2go-scenarios"
        );
        assert_eq!(package_name(Path::new("/")), "project-scenarios");
        let dir = std::env::temp_dir().join(format!("Web_Sock.{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = package_name(&dir);
        assert!(
            name.starts_with("web-sock-") && name.ends_with("-scenarios"),
            "{name}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_generated_configuration_loads_with_one_local_environment() {
        let config =
            crate::environment::Config::parse(CONFIG, Path::new("/p"), Path::new("sockspec.yaml"))
                .unwrap_or_else(|d| panic!("{}", d.render()));
        let names: Vec<&String> = config.environments.keys().collect();
        assert_eq!(names, ["local"]);
    }
}
