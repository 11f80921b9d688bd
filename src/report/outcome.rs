//! Owns what a run reports about each trial — [`TrialRecord`] (name, outcome, duration),
//! collected by the harness — and the one-line summary `sockspec test` prints after a run.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

/// How one trial ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrialOutcome {
    Passed,
    /// The failure message: a rendered diagnostic, or `test panicked: ...` (e.g. a snapshot
    /// mismatch).
    Failed(String),
    /// The reason; empty when none was given.
    Ignored(String),
}

/// One trial of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialRecord {
    /// The trial name, `<environment>::<scenario id>`.
    pub name: String,
    pub outcome: TrialOutcome,
    pub duration: Duration,
}

impl TrialRecord {
    /// The environment part of the name (the whole name if it has no `::`).
    pub fn environment(&self) -> &str {
        self.name
            .split_once("::")
            .map_or(self.name.as_str(), |(env, _)| env)
    }
}

/// How many trials passed, failed and were ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) ignored: usize,
}

impl Counts {
    /// The counts of `records`.
    pub(crate) fn of(records: &[TrialRecord]) -> Counts {
        records.iter().fold(Counts::default(), |mut c, r| {
            match r.outcome {
                TrialOutcome::Passed => c.passed += 1,
                TrialOutcome::Failed(_) => c.failed += 1,
                TrialOutcome::Ignored(_) => c.ignored += 1,
            }
            c
        })
    }
}

/// `sockspec: N passed, M failed, K ignored in 1.23s (environments: local)`, then, when
/// something failed, one indented line per failed trial. Ends with a newline.
pub(crate) fn summary(records: &[TrialRecord], elapsed: Duration) -> String {
    let Counts {
        passed,
        failed,
        ignored,
    } = Counts::of(records);
    let environments: BTreeSet<&str> = records.iter().map(TrialRecord::environment).collect();
    let mut out = format!(
        "sockspec: {passed} passed, {failed} failed, {ignored} ignored in {:.2}s (environments: {})\n",
        elapsed.as_secs_f64(),
        environments.into_iter().collect::<Vec<_>>().join(", ")
    );
    if failed > 0 {
        out.push_str("failed:\n");
        // Once each, when `--repeat` ran a scenario several times.
        let mut listed: Vec<&str> = Vec::new();
        for r in records {
            if matches!(r.outcome, TrialOutcome::Failed(_)) && !listed.contains(&r.name.as_str()) {
                listed.push(&r.name);
                let _ = writeln!(out, "    {}", r.name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, outcome: TrialOutcome) -> TrialRecord {
        TrialRecord {
            name: name.into(),
            outcome,
            duration: Duration::from_millis(5),
        }
    }

    #[test]
    fn summary_counts_outcomes_and_lists_failures() {
        let records = [
            record("local::a", TrialOutcome::Passed),
            record("staging::b", TrialOutcome::Failed("boom".into())),
            record("local::c", TrialOutcome::Ignored(String::new())),
            record("local::d", TrialOutcome::Failed("bang".into())),
        ];
        assert_eq!(
            summary(&records, Duration::from_millis(1234)),
            "sockspec: 1 passed, 2 failed, 1 ignored in 1.23s (environments: local, staging)\n\
             failed:\n    staging::b\n    local::d\n"
        );
    }

    #[test]
    fn summary_without_failures_is_one_line() {
        let records = [record("local::a", TrialOutcome::Passed)];
        assert_eq!(
            summary(&records, Duration::from_millis(50)),
            "sockspec: 1 passed, 0 failed, 0 ignored in 0.05s (environments: local)\n"
        );
    }

    #[test]
    fn summary_of_repeated_runs_counts_each_run_and_lists_a_failure_once() {
        let records = [
            record("local::a", TrialOutcome::Failed("boom".into())),
            record("local::a", TrialOutcome::Passed),
            record("local::a", TrialOutcome::Failed("boom".into())),
        ];
        assert_eq!(
            summary(&records, Duration::from_millis(50)),
            "sockspec: 1 passed, 2 failed, 0 ignored in 0.05s (environments: local)\n\
             failed:\n    local::a\n"
        );
    }
}
