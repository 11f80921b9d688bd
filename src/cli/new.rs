//! Owns `sockspec new PATH`: writes a commented starter scenario (a `jwt` token, a
//! `user_message` and the agent's five events, with an `exchange` alternative and an
//! `overrides` example commented out) whose first line points editors at the JSON schema.
//! Never overwrites a file; creates missing directories.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use super::support::{self, SetupError};
use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::harness::id_of;

/// The scenario schema, relative to the project root.
pub(super) const SCHEMA_PATH: &str = "schema/scenario.schema.json";

#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The file to create, e.g. `scenarios/my/first.yaml` (`.yaml` is added when missing).
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
enum NewError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(
        "create {0}: scenario files end in `.yaml` (only those are discovered); name it `.yaml`"
    )]
    Extension(String),
    #[error("create {0}: it exists already (sockspec new never overwrites a file)")]
    Exists(String),
    #[error("create {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

pub(super) fn run(root: &Path, args: &NewArgs) -> u8 {
    match create(root, &args.path) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            exit::SUCCESS
        }
        Err(NewError::Setup(e)) => {
            e.print();
            exit::BAD_SELECTION
        }
        Err(e) => {
            Diagnostic::bare(format!("failed to {e}")).eprint();
            exit::NOT_WRITTEN
        }
    }
}

fn create(root: &Path, path: &Path) -> Result<Vec<String>, NewError> {
    let config = support::load_config(root)?;
    let path = match path.extension().and_then(|e| e.to_str()) {
        None => path.with_extension("yaml"),
        Some("yaml") => path.to_path_buf(),
        Some(_) => return Err(NewError::Extension(path.display().to_string())),
    };
    let shown = path.display().to_string();
    let io = |error| NewError::Io {
        path: shown.clone(),
        error,
    };
    let absolute = absolute(&path).map_err(io)?;
    let dir = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(io)?;
    // Now that it exists, the directory resolves like the (canonical) project root.
    let dir = std::fs::canonicalize(&dir).map_err(io)?;
    let file = dir.join(absolute.file_name().unwrap_or_default());
    let schema = relative(&dir, &config.root.join(SCHEMA_PATH));
    let id = id_of(&config.scenarios_dir, &file);
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let text = starter(&schema, &title(&stem));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => NewError::Exists(shown.clone()),
            _ => io(error),
        })?;
    f.write_all(text.as_bytes()).map_err(io)?;
    let mut out = vec![format!("created {shown}")];
    // The schema its first line points at, for editors: written when the project has none.
    let schema_file = config.root.join(SCHEMA_PATH);
    if !schema_file.exists() {
        let io = |error| NewError::Io {
            path: SCHEMA_PATH.to_owned(),
            error,
        };
        std::fs::create_dir_all(schema_file.parent().unwrap_or(&config.root)).map_err(io)?;
        std::fs::write(
            &schema_file,
            crate::scenario::schema::scenario_schema_json(),
        )
        .map_err(io)?;
        out.push(format!(
            "created {SCHEMA_PATH} (the JSON Schema its first line points editors at)"
        ));
    }
    match id {
        Some(id) => {
            out.push("check it:  sockspec check".to_owned());
            out.push(format!("run it:    sockspec test local::{id}"));
            out.push(format!(
                "the first run fails: no snapshot yet; it writes {}/{id}.snap.new",
                config
                    .snapshots_dir
                    .strip_prefix(&config.root)
                    .unwrap_or(&config.snapshots_dir)
                    .display()
            ));
            out.push(format!(
                "accept it:  sockspec review (or sockspec accept {id})"
            ));
        }
        None => out.push(format!(
            "note: {shown} is outside the scenarios directory {}, so `sockspec test` will not \
             find it",
            config.scenarios_dir.display()
        )),
    }
    Ok(out)
}

/// `path` made absolute against the current directory, `.` and `..` resolved lexically.
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `to` relative to the directory `from` (both absolute), `/`-separated.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `first_flow` → `First flow`.
fn title(stem: &str) -> String {
    let words = stem.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "New scenario".to_owned(),
    }
}

pub(super) fn starter(schema: &str, name: &str) -> String {
    let name = serde_json::Value::String(name.to_owned()).to_string();
    format!(
        r#"# yaml-language-server: $schema={schema}
# A sockspec scenario: one end-to-end test of an authenticated WebSocket service.
# The whole format: docs/scenario-format.md. Validate with `sockspec check`.
name: {name}
description: What this scenario proves.
tags: [draft]

# How the handshake's token is obtained. `jwt` mints one with a secret the environment
# declares (sockspec.yaml → environments.<name>.secrets); see it with
# `sockspec token --env local --scenario <this file>`.
auth:
  jwt:
    secret: jwt
    claims: {{sub: qa-user-1, email: qa@example.com}}
    expires_in: 15m

# Or ask the auth service for a real user's token with the E2E bypass key:
# auth:
#   exchange:
#     path: /auth/e2e/test-auth
#     headers: {{X-E2E-Bypass-Key: "{{{{ secrets.bypass_key }}}}"}}
#     body: {{email: qa@example.com, name: QA}}
#     token: /access_token
#     capture: {{user_id: /user_id}}

# The default: the server answers the upgrade with 101. To expect a refusal instead:
# handshake: {{rejected: {{status: 403}}}}

steps:
  - send: {{type: user_message, text: "Optimise my cloud costs"}}
  - expect_sequence:
      ignore: {{type: heartbeat}}
      events:
        - {{type: agent_started}}
        - {{type: agent_thinking}}
        - {{type: tool_executing, tool: {{exists: true}}}}
        - {{type: tool_completed}}
        - {{type: agent_completed, result.savings_usd: {{gt: 0}}}}
      within: 5s

# Where an environment behaves differently, replace whole top-level fields for it:
# overrides:
#   staging-sim:
#     steps: []
#     handshake: {{rejected: {{status: 403, body: {{detail: User not found}}}}}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_path_climbs_to_the_root() {
        assert_eq!(
            relative(
                Path::new("/p/scenarios/my"),
                Path::new("/p/schema/scenario.schema.json")
            ),
            "../../schema/scenario.schema.json"
        );
        assert_eq!(
            relative(Path::new("/p"), Path::new("/p/schema/s.json")),
            "schema/s.json"
        );
    }

    #[test]
    fn the_starter_validates() {
        let text = starter("../schema/scenario.schema.json", &title("first_flow"));
        let plan = crate::scenario::parse(&text, Path::new("scenarios/first_flow.yaml"), "x")
            .unwrap_or_else(|ds| panic!("{}", ds[0].render()));
        assert_eq!(plan.name, "First flow");
        assert_eq!(plan.required_secrets(), vec!["jwt"]);
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/scenario.schema.json\n")
        );
    }

    #[test]
    fn absolute_resolves_dots() {
        assert_eq!(
            absolute(Path::new("/a/./b/../c.yaml")).ok(),
            Some(PathBuf::from("/a/c.yaml"))
        );
    }
}
