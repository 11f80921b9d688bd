//! Owns writing the run records of an in-process run (`sockspec test`) on one background
//! thread: trials hand their records over and go on, and the writer appends each to the
//! run's one record bundle (`sockspec-test-<hex>.jsonl`, a line per record) in its run
//! directory. Trials writing files into one directory at the same time contended for its lock
//! (a profile of 1,000 scenarios on 8 threads: a quarter of the run's CPU in the file system),
//! and a file per record still cost a creation and a rename each. [`RecordWriter::finish`]
//! waits until every record is written.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often a run's directory is touched while its records are written.
const TOUCH_EVERY: Duration = Duration::from_secs(1);

use crate::report::{RunRecord, append_record, create_bundle, new_bundle_name, write_record};

/// Where trials hand their records over (cloned into each trial).
#[derive(Debug, Clone)]
pub struct RecordSink(mpsc::Sender<(PathBuf, RunRecord)>);

impl RecordSink {
    /// Queues `record` to be written into `dir`; written at once if the writer is gone.
    pub(super) fn send(&self, dir: PathBuf, record: RunRecord) {
        if let Err(mpsc::SendError((dir, record))) = self.0.send((dir, record)) {
            write_now(&dir, &record);
        }
    }
}

/// The background writer of one run.
#[derive(Debug)]
pub struct RecordWriter {
    sink: Option<RecordSink>,
    thread: Option<JoinHandle<()>>,
}

impl RecordWriter {
    /// Starts the writer thread.
    pub fn start() -> RecordWriter {
        let (tx, rx) = mpsc::channel::<(PathBuf, RunRecord)>();
        let thread = std::thread::spawn(move || {
            // `None`: the directory's bundle could not be made or written; it was said once.
            let mut bundles: HashMap<PathBuf, Option<(PathBuf, File)>> = HashMap::new();
            let mut last_touch = Instant::now();
            for (dir, record) in rx {
                let touch = last_touch.elapsed() >= TOUCH_EVERY;
                if touch {
                    // Appending leaves the directory's time alone: touch it, so a process
                    // pruning old runs sees this one as going (`report::prune_runs`).
                    let _ = File::open(&dir).and_then(|d| d.set_modified(SystemTime::now()));
                    last_touch = Instant::now();
                }
                let bundle = bundles.entry(dir).or_insert_with_key(|dir| {
                    create_bundle(dir, &new_bundle_name())
                        .map_err(|e| {
                            eprintln!(
                                "warning: sockspec: cannot {e}; this run's records are not written"
                            );
                        })
                        .ok()
                });
                if let Some((path, file)) = bundle
                    && let Err(e) = append_record(file, path, &record)
                {
                    eprintln!(
                        "warning: sockspec: cannot {e}; the run's later records are not written"
                    );
                    *bundle = None;
                }
            }
        });
        RecordWriter {
            sink: Some(RecordSink(tx)),
            thread: Some(thread),
        }
    }

    /// A sink for the trials of the run.
    pub fn sink(&self) -> Option<RecordSink> {
        self.sink.clone()
    }

    /// Waits until every record handed over is written (every sink must be dropped first:
    /// the trials' own copies go with the trials).
    pub fn finish(mut self) {
        self.sink = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Writes `record` into `dir`; a failure is a warning, never the trial's.
pub(super) fn write_now(dir: &std::path::Path, record: &RunRecord) {
    if let Err(e) = write_record(dir, record) {
        eprintln!("warning: sockspec: cannot {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_handed_over_is_in_the_bundle_after_finish() {
        let dir = std::env::temp_dir().join(format!("sockspec-writer-{}", uuid::Uuid::new_v4()));
        let writer = RecordWriter::start();
        let sink = writer.sink().expect("a sink");
        let record: RunRecord = serde_json::from_value(serde_json::json!({
            "format": "sockspec-run/1", "trial": "local::a", "scenario": "a", "file": "a.yaml",
            "name": "a", "environment": "local", "outcome": "passed", "started_at": "2026-12-02T00:00:00Z",
            "duration_ms": 1.0, "steps": [], "timeline": [], "http": []
        }))
        .expect("a minimal record");
        for i in 0..20 {
            let mut r = record.clone();
            r.trial = format!("local::s{i:02}");
            sink.send(dir.clone(), r);
        }
        drop(sink);
        writer.finish();
        let files = std::fs::read_dir(&dir).expect("written").count();
        assert_eq!(files, 1, "one bundle");
        let records = crate::report::read_run_dir(&dir).expect("readable");
        let trials: Vec<&str> = records.iter().map(|r| r.trial.as_str()).collect();
        let expected: Vec<String> = (0..20).map(|i| format!("local::s{i:02}")).collect();
        assert_eq!(trials, expected);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
