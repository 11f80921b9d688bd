//! Owns `sockspec check`: parse and validate every scenario file (examples, `invalid/`,
//! `failing/`) and the configuration, and check — without touching the network — that each
//! selected environment declares every secret its scenarios name and that every declared
//! secret is set. Reports each problem once, with file:line:column where there is one.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::environment::{Config, Secrets};
use crate::exit;
use crate::harness::{EXCLUDED_DIRS, discover};
use crate::scenario::{self, Plan};

/// Runs the check; returns the exit code (`SUCCESS`, `INVALID`, `MISSING_SECRETS`,
/// `BAD_SELECTION`).
/// `paths` (files or directories, relative to the current directory or to `root`) restrict
/// the files checked; none checks every file.
pub(super) fn check(root: &Path, paths: &[String], env_spec: Option<&str>) -> u8 {
    let config = match Config::load(root) {
        Ok(c) => c,
        Err(d) => {
            d.eprint();
            return exit::INVALID;
        }
    };
    let envs = match config.select(env_spec) {
        Ok(e) => e,
        Err(m) => {
            Diagnostic::bare(m).eprint();
            return exit::BAD_SELECTION;
        }
    };
    // (id, path, is an example): the corpora of `invalid/` and `failing/` are only parsed.
    let mut files: Vec<(String, std::path::PathBuf, bool)> = Vec::new();
    let mut dirs = vec![(config.scenarios_dir.clone(), String::new())];
    dirs.extend(
        EXCLUDED_DIRS
            .iter()
            .map(|d| (config.scenarios_dir.join(d), format!("{d}/")))
            .filter(|(d, _)| d.is_dir()),
    );
    for (d, prefix) in &dirs {
        match discover(d) {
            Ok(f) => files.extend(
                f.into_iter()
                    .map(|(id, p)| (format!("{prefix}{id}"), p, prefix.is_empty())),
            ),
            Err(e) => {
                Diagnostic::bare(format!("cannot read {}: {e}", d.display())).eprint();
                return exit::INVALID;
            }
        }
    }
    files.sort();
    files.dedup();
    if !paths.is_empty() {
        let mut wanted = Vec::new();
        for arg in paths {
            match super::support::existing_path(root, arg) {
                Some(p) => wanted.push(p),
                None => {
                    Diagnostic::bare(format!(
                        "`{arg}` exists neither in the current directory nor below the project \
                         root {}",
                        config.root.display()
                    ))
                    .eprint();
                    return exit::BAD_SELECTION;
                }
            }
        }
        files.retain(|(_, p, _)| {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            wanted.iter().any(|w| p.starts_with(w))
        });
        if files.is_empty() {
            Diagnostic::bare(format!("no scenario file below {}", paths.join(", "))).eprint();
            return exit::BAD_SELECTION;
        }
    }

    let mut invalid = 0;
    let mut examples: Vec<Plan> = Vec::new();
    for (id, path, example) in &files {
        match scenario::load(path, id) {
            Ok(plan) => {
                if *example {
                    examples.push(plan);
                }
            }
            Err(ds) => {
                invalid += 1;
                ds.iter().for_each(Diagnostic::eprint);
            }
        }
    }

    let mut warnings = 0;
    for plan in &examples {
        for w in scenario::warnings(plan) {
            warnings += 1;
            w.eprint();
        }
    }

    let mut secret_problems = 0;
    for env in &envs {
        let mut undeclared: Vec<(String, std::path::PathBuf)> = Vec::new();
        let mut needed: Vec<String> = Vec::new();
        for plan in examples.iter().filter(|p| p.applies_to(&env.name)) {
            let plan = plan.for_environment(&env.name);
            for name in plan.required_secrets() {
                if !env.secrets.contains_key(name) {
                    undeclared.push((name.to_string(), plan.file.clone()));
                }
                needed.push(name.to_string());
            }
        }
        for (name, file) in &undeclared {
            secret_problems += 1;
            Diagnostic::new(
                format!(
                    "{} needs secret `{name}`, which environment '{}' does not declare",
                    file.display(),
                    env.name
                ),
                file,
            )
            .with_help(format!(
                "declare it under `environments.{}.secrets` in sockspec.yaml",
                env.name
            ))
            .eprint();
        }
        let (secrets, missing) = Secrets::resolve_declared(env);
        if let Some(m) = missing {
            secret_problems += 1;
            Diagnostic::bare(format!("failed to {m}"))
                .with_help(
                    "set one of the variables of each secret, or add them to the environment's \
                     .env file",
                )
                .eprint();
        }
        let present: Vec<String> = env
            .secrets
            .keys()
            .filter_map(|n| secrets.get(n))
            .map(|s| format!("{} ({} sha256:{})", s.name, s.source, s.fingerprint))
            .collect();
        println!(
            "environment '{}': {} secret(s) set{}{}",
            env.name,
            present.len(),
            if present.is_empty() { "" } else { ": " },
            present.join(", ")
        );
    }
    println!(
        "checked {} scenario file(s): {} valid, {invalid} invalid, {warnings} warning(s)",
        files.len(),
        files.len() - invalid
    );
    if invalid > 0 {
        exit::INVALID
    } else if secret_problems > 0 {
        exit::MISSING_SECRETS
    } else {
        exit::SUCCESS
    }
}
