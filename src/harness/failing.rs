//! Owns the golden corpus of failures: one trial per file in `scenarios/failing/`, named
//! `failing::<name>`, run against the environments of `scenarios/failing/environments.yml`
//! (the scenario's first listed environment, default `failing`). The scenario must fail;
//! its rendered report — ports, timings and clock-dependent values normalized — is compared
//! with `snapshots/failing/<name>.snap`, and must not contain any secret value.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};

use libtest_mimic::{Arguments, Failed, Trial};
use regex::Regex;

use super::discover::{discover, display_path};
use super::health::ALLOW_UNAVAILABLE_VAR;
use super::run::{RunOutcome, process_env, run};
use super::snapshot::compare;
use crate::diagnostic::Diagnostic;
use crate::environment::{Config, Secrets};
use crate::report::snapshot::{Mode, Target};
use crate::scenario;

/// The corpus's directory below the scenario root, and its environments file.
pub(crate) const FAILING_DIR: &str = "failing";
pub(super) const FAILING_ENVIRONMENTS: &str = "environments.yml";
/// Environment of a failing scenario that names none.
pub(super) const DEFAULT_FAILING_ENVIRONMENT: &str = "failing";

/// Entry point of `tests/failing.rs`.
pub fn failing_main(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    match build(root) {
        Ok(trials) => libtest_mimic::run(&args, trials).exit_code(),
        Err(d) => {
            d.eprint();
            ExitCode::from(crate::exit::BAD_SELECTION)
        }
    }
}

fn build(root: &Path) -> Result<Vec<Trial>, Diagnostic> {
    let project = Config::load(root)?;
    let dir = project.scenarios_dir.join(FAILING_DIR);
    let env_file = dir.join(FAILING_ENVIRONMENTS);
    let text = std::fs::read_to_string(&env_file)
        .map_err(|e| format!("cannot read {}: {e}", env_file.display()))?;
    let config = Arc::new(Config::parse(&text, &project.root, &env_file)?);
    let files = discover(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if files.is_empty() {
        return Err(format!(
            "no scenarios in {}: the failing corpus must not be empty",
            dir.display()
        )
        .into());
    }
    let snapshots = Arc::new(project.snapshots_dir.clone());
    Ok(files
        .into_iter()
        .map(|(id, path)| {
            let config = config.clone();
            let snapshots = snapshots.clone();
            Trial::test(format!("failing::{id}"), move || {
                check_one(&config, &snapshots, &id, &path)
            })
        })
        .collect())
}

fn check_one(config: &Config, snapshots: &Path, id: &str, path: &Path) -> Result<(), Failed> {
    let path: PathBuf = display_path(path);
    let plan = scenario::load(&path, &format!("{FAILING_DIR}/{id}"))
        .map_err(|ds| Failed::from(ds.iter().map(|d| d.render()).collect::<Vec<_>>().join("\n")))?;
    let env_name = plan
        .environments
        .as_ref()
        .and_then(|e| e.first().cloned())
        .unwrap_or_else(|| DEFAULT_FAILING_ENVIRONMENT.to_string());
    let env = config.environments.get(&env_name).ok_or_else(|| {
        Failed::from(format!(
            "{} names environment `{env_name}`, which {FAILING_ENVIRONMENTS} does not declare",
            path.display()
        ))
    })?;
    // Every scenario here must fail, even where unavailable environments are ignored.
    let process = |name: &str| {
        (name != ALLOW_UNAVAILABLE_VAR)
            .then(|| process_env(name))
            .flatten()
    };
    let run = run(&plan, env, &process);
    let ran = plan.for_environment(&env.name);
    let report = match run.report(ran, env) {
        Some(d) => d.render(),
        None => {
            return Err(Failed::from(format!(
                "{} {}, but every scenario in scenarios/{FAILING_DIR}/ must fail",
                path.display(),
                match &run.outcome {
                    RunOutcome::Ignored(reason) => format!("was ignored ({reason})"),
                    _ => "passed".to_string(),
                }
            )));
        }
    };
    let (secrets, _) = Secrets::resolve_declared(env);
    for name in env.secrets.keys() {
        if let Some(s) = secrets.get(name)
            && report.contains(&s.value)
        {
            return Err(Failed::from(format!(
                "the report shows the value of secret `{name}`:\n{report}"
            )));
        }
    }
    compare(
        Target {
            root: &config.root,
            dir: snapshots,
            id: &format!("{FAILING_DIR}/{id}"),
            input: &path,
            description: "failure report",
            environment: &env.name,
        },
        &normalize(&report),
        Mode::from_env(),
    )
    .map_err(|m| Failed::from(m.message))
}

static VOLATILE: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (
            r"(expires|EXPIRED) (in )?[0-9hms ]+?( ago)? \(exp \d+\)",
            "$1 [relative] (exp [unix])",
        ),
        (r#""(exp|iat|nbf)":\d+"#, r#""$1":[unix]"#),
        (r"nbf in [0-9hms ]+", "nbf in [relative]"),
        (r"\d+\.\d+s (after the upgrade|into the step)", "[t] $1"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z",
            "[timestamp]",
        ),
    ]
    .into_iter()
    .map(|(re, with)| (Regex::new(re).expect("valid regex"), with))
    .collect()
});

/// A frame's time at the start of a line of "last frames": right-aligned in a fixed-width
/// field, so its width varies with the number of digits.
static FRAME_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^( *\d+\.\d) ms").expect("valid regex"));

/// The report with ports, timings, times and ids replaced, so it is stable across runs.
/// A frame time keeps its column whatever its digits (`5.2 ms` and `123.4 ms` both become
/// `[ms]` at the column of a two-digit time).
pub(super) fn normalize(report: &str) -> String {
    let text = FRAME_TIME.replace_all(report, |c: &regex::Captures<'_>| {
        format!("{}[ms]", " ".repeat(c[1].len().saturating_sub(4)))
    });
    VOLATILE.iter().fold(text.into_owned(), |text, (re, with)| {
        re.replace_all(&text, *with).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn volatile_parts_are_normalized() {
        let r = "GET http://127.0.0.1:40123/health\n    12.3 ms  ← {}\n     5.2 ms  ← {}\n   123.4 ms  ← {}\ntoken validity: expires in 14m 59s (exp 1790000000)\ntoken claims: {\"exp\":1790000000,\"sub\":\"u\"}\nEXPIRED 1h 1s ago (exp 17)";
        let n = normalize(r);
        assert_eq!(
            n,
            "GET http://127.0.0.1:[port]/health\n    [ms]  ← {}\n    [ms]  ← {}\n    [ms]  ← {}\ntoken validity: expires [relative] (exp [unix])\ntoken claims: {\"exp\":[unix],\"sub\":\"u\"}\nEXPIRED [relative] (exp [unix])"
        );
    }
}
