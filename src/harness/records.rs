//! Owns the run record of each scenario trial: which run directory a trial writes into
//! (`SOCKSPEC_RUN_DIR`, else the nextest run's `<target>/sockspec/runs/<NEXTEST_RUN_ID>/`, else
//! one generated per process), and the record of a [`Run`] (or of an invalid file, or of a
//! snapshot that differs), written when the trial ends. A record that cannot be written is a
//! warning on stderr, never the trial's failure.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use super::run::{Run, RunOutcome};
use crate::environment::Environment;
use crate::report::{
    CauseKind, RUN_DIR_VAR, RecordInput, RecordOutcome, RunRecord, new_run_id, prune_runs,
    runs_root,
};
use crate::scenario::Plan;

/// The nextest run's id: one directory per `cargo nextest run`.
const NEXTEST_RUN_ID_VAR: &str = "NEXTEST_RUN_ID";

/// The run directory of the trials of this process: `SOCKSPEC_RUN_DIR`, else
/// `<target>/sockspec/runs/<NEXTEST_RUN_ID>` under nextest, else a run id generated once per
/// process (`cargo test`). Under the runs directory, older runs beyond the newest
/// `KEEP_RUNS` (`report::run_dir`) are removed (once per process).
pub(super) fn trial_run_dir(root: &Path, process: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    static GENERATED: OnceLock<String> = OnceLock::new();
    if let Some(dir) = process(RUN_DIR_VAR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let id = nextest_run_id(process).unwrap_or_else(|| GENERATED.get_or_init(new_run_id).clone());
    let runs = runs_root(root, process);
    prune_runs(&runs, &id);
    runs.join(id)
}

/// The run directory of one `sockspec test` invocation: `--run-dir`, else `SOCKSPEC_RUN_DIR`,
/// else a new run id under `<root>/target/sockspec/runs/` (or `CARGO_TARGET_DIR`'s; older runs
/// there beyond the newest `KEEP_RUNS` (`report::run_dir`) are removed). Run by
/// a test under nextest (an inherited `NEXTEST_RUN_ID`), the new run goes below that nextest
/// run's directory, in `children/`: not a run of its own (`sockspec report` with no argument
/// takes the newest run), nor mixed with the nextest run's records.
pub(crate) fn command_run_dir(
    root: &Path,
    explicit: Option<&Path>,
    process: &dyn Fn(&str) -> Option<String>,
) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = process(RUN_DIR_VAR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let runs = runs_root(root, process);
    match nextest_run_id(process) {
        Some(id) => runs.join(id).join("children").join(new_run_id()),
        None => {
            let id = new_run_id();
            prune_runs(&runs, &id);
            runs.join(id)
        }
    }
}

/// `NEXTEST_RUN_ID`, when it can name a directory.
fn nextest_run_id(process: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    process(NEXTEST_RUN_ID_VAR)
        .filter(|id| !id.is_empty() && !id.contains(['/', '\\']) && id != "." && id != "..")
}

/// Which trial a record is of, and where it goes.
#[derive(Debug, Clone)]
pub(super) struct TrialInfo {
    pub dir: PathBuf,
    /// The run's background writer (`sockspec test`); `None`: the trial writes its record.
    pub sink: Option<super::record_writer::RecordSink>,
    pub trial: String,
    pub id: String,
    pub file: PathBuf,
    pub environment: String,
}

/// When a trial started.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    at: SystemTime,
    started: Instant,
}

impl Clock {
    pub(super) fn start() -> Clock {
        Clock {
            at: SystemTime::now(),
            started: Instant::now(),
        }
    }
}

/// The record of `run` (of `base` in `env`), which started at `started` and took `duration`.
/// Everything in it comes from the run's redacted transcript and rendered report.
pub fn run_record(
    base: &Plan,
    env: &Environment,
    run: &Run,
    started: SystemTime,
    duration: Duration,
) -> RunRecord {
    let plan = base.for_environment(&env.name);
    let (outcome, report, kind) = match &run.outcome {
        RunOutcome::Passed => (RecordOutcome::Passed, None, None),
        RunOutcome::Failed(_) => (RecordOutcome::Failed, run.report(plan, env), None),
        RunOutcome::Unavailable(_) => (
            RecordOutcome::Unavailable,
            run.report(plan, env),
            Some(CauseKind::EnvironmentUnavailable),
        ),
        RunOutcome::Ignored(_) => (RecordOutcome::Ignored, None, None),
    };
    let ignored = match &run.outcome {
        RunOutcome::Ignored(reason) => Some(reason.clone()),
        _ => None,
    };
    RunRecord::build(RecordInput {
        trial: format!("{}::{}", env.name, base.id),
        scenario: base.id.clone(),
        file: base.file.display().to_string(),
        plan: Some(plan),
        environment: env.name.clone(),
        outcome,
        report: report.map(|d| d.render()).or(ignored),
        kind,
        transcript: run.transcript.as_ref(),
        started,
        duration,
    })
}

/// A transcript that differs from its snapshot: the comparison's failure message and the diff
/// (the record's `snapshot_diff`; for a new snapshot, its whole text as added lines).
#[derive(Debug, Clone)]
pub(super) struct SnapshotMismatch {
    pub message: String,
    pub diff: Option<String>,
}

/// Writes the record of a trial that ran; `snapshot` when its transcript differs from its
/// snapshot (the trial then failed).
pub(super) fn write_run(
    info: &TrialInfo,
    clock: Clock,
    base: &Plan,
    env: &Environment,
    run: &Run,
    snapshot: Option<SnapshotMismatch>,
) {
    let mut record = run_record(base, env, run, clock.at, clock.started.elapsed());
    if let Some(mismatch) = snapshot {
        record.outcome = RecordOutcome::Failed;
        record.cause = Some(crate::report::Cause {
            kind: CauseKind::SnapshotMismatch,
            first_line: mismatch
                .message
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        });
        record.diagnostic = Some(mismatch.message);
        if let Some(diff) = mismatch.diff {
            record.set_snapshot_diff(diff);
        }
    }
    write(info, &record);
}

/// Writes the record of a trial whose file is invalid (`report`: its diagnostics).
pub(super) fn write_invalid(info: &TrialInfo, clock: Clock, report: &str) {
    let record = RunRecord::build(RecordInput {
        trial: info.trial.clone(),
        scenario: info.id.clone(),
        file: info.file.display().to_string(),
        plan: None,
        environment: info.environment.clone(),
        outcome: RecordOutcome::Failed,
        report: Some(report.to_owned()),
        kind: Some(CauseKind::InvalidScenario),
        transcript: None,
        started: clock.at,
        duration: clock.started.elapsed(),
    });
    write(info, &record);
}

fn write(info: &TrialInfo, record: &RunRecord) {
    match &info.sink {
        Some(sink) => sink.send(info.dir.clone(), record.clone()),
        None => super::record_writer::write_now(&info.dir, record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn trials_write_into_the_nextest_run_or_the_variable() {
        let root = Path::new("/p");
        assert_eq!(
            trial_run_dir(root, &vars(&[("NEXTEST_RUN_ID", "abc")])),
            Path::new("/p/target/sockspec/runs/abc")
        );
        assert_eq!(
            trial_run_dir(
                root,
                &vars(&[("NEXTEST_RUN_ID", "abc"), ("SOCKSPEC_RUN_DIR", "/r")])
            ),
            Path::new("/r")
        );
        let generated = trial_run_dir(root, &vars(&[("NEXTEST_RUN_ID", "../x")]));
        assert_eq!(
            generated,
            trial_run_dir(root, &vars(&[])),
            "one id per process"
        );
        assert!(generated.starts_with("/p/target/sockspec/runs/"));
    }

    #[test]
    fn a_command_under_a_test_writes_below_the_nextest_run() {
        let root = Path::new("/p");
        let dir = command_run_dir(root, None, &vars(&[("NEXTEST_RUN_ID", "abc")]));
        assert!(
            dir.starts_with("/p/target/sockspec/runs/abc/children/"),
            "{}",
            dir.display()
        );
        assert_eq!(
            command_run_dir(
                root,
                Some(Path::new("d")),
                &vars(&[("SOCKSPEC_RUN_DIR", "/r")])
            ),
            Path::new("d")
        );
        let own = command_run_dir(root, None, &vars(&[]));
        assert_eq!(own.parent(), Some(Path::new("/p/target/sockspec/runs")));
    }
}
