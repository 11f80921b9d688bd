//! Owns loading one scenario file: read it, parse the YAML into the raw model, load the
//! fragments it includes, validate it into a [`Plan`]. Every failure comes back as located [`Diagnostic`]s, never a panic.

use std::path::Path;
use std::sync::Arc;

use super::fragments::resolve;
use super::plan::Plan;
use super::raw::RawScenario;
use super::validate::validate;
use crate::diagnostic::{Diagnostic, Pos, suggest_from_serde_message};

/// Parser options shared by every YAML file sockspec reads: YAML 1.2 booleans only, so
/// `on`, `off`, `y` and `no` stay strings inside patterns and payloads.
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! { strict_booleans: true }
}

/// Parses YAML text into `T`, turning a parse error into a located diagnostic.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
    source: &Arc<str>,
) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(text, yaml_options())
        .map_err(|e| yaml_diagnostic(&e, file, source))
}

fn yaml_diagnostic(e: &serde_saphyr::Error, file: &Path, source: &Arc<str>) -> Diagnostic {
    let pos = e
        .location()
        .map(|l| Pos::from_location(&l))
        .unwrap_or_default();
    // The plain message, without serde-saphyr's own snippet (we render our own).
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    let message = strip_location_prefix(first.trim_start_matches("error: ")).to_string();
    let mut d = Diagnostic::new(message.clone(), file)
        .with_source(source.clone())
        .at(pos);
    if let Some(help) = suggest_from_serde_message(&message) {
        d = d.with_help(help);
    } else if message.contains("unknown variant") {
        d = d.with_help("see docs/scenario-format.md for the accepted values");
    }
    d
}

/// Drops a leading "line N column M: " or a trailing " at line N, column M" that would
/// repeat the location.
fn strip_location_prefix(msg: &str) -> &str {
    if let Some(i) = msg.rfind(" at line ")
        && msg[i..].contains(", column ")
    {
        return &msg[..i];
    }
    if let Some(rest) = msg.strip_prefix("line ")
        && let Some((_, tail)) = rest.split_once(": ")
        && rest
            .split_once(": ")
            .is_some_and(|(head, _)| head.contains("column"))
    {
        return tail;
    }
    msg
}

/// Reads and validates one scenario file. `id` is its name below the scenario root (its
/// fragments are looked up from the file's directory up to that root).
pub fn load(file: &Path, id: &str) -> Result<Plan, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        vec![
            Diagnostic::new(format!("cannot read scenario: {e}"), file)
                .with_help("check the path and its permissions"),
        ]
    })?;
    parse(&text, file, id)
}

/// Parses and validates scenario text (used by `load` and by tests); the fragments it
/// includes are read from the file system, relative to `file`.
pub fn parse(text: &str, file: &Path, id: &str) -> Result<Plan, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(text);
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(vec![
            Diagnostic::new("scenario file is empty", file)
                .with_source(source.clone())
                .at(Pos::new(1, 1))
                .with_help("start from `sockspec new <path>` or docs/scenario-format.md"),
        ]);
    }
    let raw: RawScenario = parse_yaml(text, file, &source).map_err(|d| vec![d])?;
    let included = resolve(&raw.include, file, id, &source)?;
    validate(raw, &included, id, file, &source)
}
