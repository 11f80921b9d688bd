//! Owns observing trials: an [`Observer`] shared by every trial of a run, whose
//! [`Observer::observe`] wraps a trial's runner to record its name, outcome and duration.
//! A panic (a snapshot mismatch) is recorded, then resumed, so libtest-mimic reports it
//! exactly as without an observer.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use libtest_mimic::{Completion, Failed};

use crate::report::{TrialOutcome, TrialRecord};

/// Collects a `TrialRecord` from every observed trial that runs. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Observer {
    records: Arc<Mutex<Vec<TrialRecord>>>,
    /// Where the trials write their run records (`sockspec test`); `None`: the default.
    run_dir: Option<std::path::PathBuf>,
    /// Who writes them (`sockspec test`'s background writer); `None`: each trial itself.
    sink: Option<super::record_writer::RecordSink>,
}

impl Observer {
    /// An observer with no record yet.
    pub fn new() -> Observer {
        Observer::default()
    }

    /// An observer whose trials write their run records into `dir`.
    pub fn with_run_dir(dir: std::path::PathBuf) -> Observer {
        Observer {
            run_dir: Some(dir),
            ..Observer::default()
        }
    }

    /// An observer whose trials write their run records into `dir` through `sink`.
    pub fn with_records(
        dir: std::path::PathBuf,
        sink: Option<super::record_writer::RecordSink>,
    ) -> Observer {
        Observer {
            run_dir: Some(dir),
            sink,
            ..Observer::default()
        }
    }

    /// The writer the trials hand their records to, if any.
    pub fn sink(&self) -> Option<&super::record_writer::RecordSink> {
        self.sink.as_ref()
    }

    /// Where the trials write their run records, if this observer says.
    pub fn run_dir(&self) -> Option<&std::path::Path> {
        self.run_dir.as_deref()
    }

    /// `runner`, recording its outcome under `name` when it returns or panics.
    pub fn observe<R>(
        &self,
        name: String,
        runner: R,
    ) -> impl FnOnce() -> Result<Completion, Failed> + Send + 'static
    where
        R: FnOnce() -> Result<Completion, Failed> + Send + 'static,
    {
        let observer = self.clone();
        move || {
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(runner));
            let outcome = match &result {
                Ok(Ok(Completion::Completed)) => TrialOutcome::Passed,
                Ok(Ok(Completion::Ignored { reason })) => {
                    TrialOutcome::Ignored(reason.clone().unwrap_or_default())
                }
                Ok(Err(failed)) => TrialOutcome::Failed(failed.message().unwrap_or("").to_owned()),
                Err(payload) => TrialOutcome::Failed(panic_message(payload.as_ref())),
            };
            observer.push(TrialRecord {
                name,
                outcome,
                duration: started.elapsed(),
            });
            result.unwrap_or_else(|payload| resume_unwind(payload))
        }
    }

    /// The records of the trials `names`, in that order. A trial that did not run (ignored
    /// by flag) is `Ignored("not run")`.
    pub fn records(&self, names: &[String]) -> Vec<TrialRecord> {
        let mut recorded: HashMap<String, TrialRecord> = self
            .lock()
            .iter()
            .map(|r| (r.name.clone(), r.clone()))
            .collect();
        names
            .iter()
            .map(|name| {
                recorded.remove(name).unwrap_or_else(|| TrialRecord {
                    name: name.clone(),
                    outcome: TrialOutcome::Ignored("not run".into()),
                    duration: Duration::ZERO,
                })
            })
            .collect()
    }

    /// Every record so far, in the order the trials finished (for a progress display).
    pub fn so_far(&self) -> Vec<TrialRecord> {
        self.lock().clone()
    }

    fn push(&self, record: TrialRecord) {
        self.lock().push(record);
    }

    /// A trial that panicked while holding the lock cannot have left a half-pushed record.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TrialRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The message libtest-mimic reports for a panicking trial.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    match text {
        Some(t) => format!("test panicked: {t}"),
        None => "test panicked".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_outcome_and_resumes_panics() {
        let observer = Observer::new();
        let pass = observer.observe("e::pass".into(), || Ok(Completion::Completed));
        let fail = observer.observe("e::fail".into(), || Err(Failed::from("broken")));
        let skip = observer.observe("e::skip".into(), || Ok(Completion::ignored_with("later")));
        let boom = observer.observe("e::boom".into(), || panic!("snapshot mismatch"));
        assert!(pass().is_ok());
        assert!(fail().is_err_and(|f| f.message() == Some("broken")));
        assert!(skip().is_ok());
        let resumed = catch_unwind(AssertUnwindSafe(boom));
        assert!(resumed.is_err(), "the panic reaches libtest-mimic");

        let names: Vec<String> = ["e::boom", "e::fail", "e::never", "e::pass", "e::skip"]
            .map(String::from)
            .into();
        let outcomes: Vec<_> = observer
            .records(&names)
            .into_iter()
            .map(|r| (r.name, r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                (
                    "e::boom".into(),
                    TrialOutcome::Failed("test panicked: snapshot mismatch".into())
                ),
                ("e::fail".into(), TrialOutcome::Failed("broken".into())),
                ("e::never".into(), TrialOutcome::Ignored("not run".into())),
                ("e::pass".into(), TrialOutcome::Passed),
                ("e::skip".into(), TrialOutcome::Ignored("later".into())),
            ]
        );
    }
}
