//! Owns the progress line of `sockspec test` on a terminal for long runs: one line rewritten
//! in place (`[57/200] 55 passed, 2 failed, 0 ignored · 3.1s`), a `FAILED <name>` line above it
//! as each failure lands, and afterwards the failures' messages (libtest-mimic's own output
//! goes to a log file meanwhile, so the two never interleave).

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::harness::Observer;
use crate::report::{Counts, TrialOutcome, TrialRecord};

/// Runs of at least this many trials get the progress line; shorter ones print a line per
/// trial.
pub(super) const PROGRESS_FROM: usize = 30;
/// How often the line is redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// The redrawing thread; [`Progress::finish`] stops it and clears the line.
pub(super) struct Progress {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts redrawing the progress of the `total` trials `observer` sees (records it held
    /// before are not counted).
    pub(super) fn start(observer: Observer, total: usize) -> Progress {
        let (stop, stopped) = mpsc::channel::<()>();
        let skip = observer.so_far().len();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            let mut shown_failures = 0;
            let mut stopping = false;
            loop {
                let done: Vec<TrialRecord> = observer.so_far().into_iter().skip(skip).collect();
                let mut out = std::io::stdout().lock();
                // Every failure gets its line, the last ones too (after the stop).
                for r in done
                    .iter()
                    .filter(|r| matches!(r.outcome, TrialOutcome::Failed(_)))
                    .skip(shown_failures)
                {
                    let _ = writeln!(out, "\r\x1b[KFAILED {}", r.name);
                    shown_failures += 1;
                }
                if stopping {
                    let _ = write!(out, "\r\x1b[K");
                    let _ = out.flush();
                    break;
                }
                let _ = write!(out, "\r\x1b[K{}", line(&done, total, started.elapsed()));
                let _ = out.flush();
                drop(out);
                stopping = !matches!(
                    stopped.recv_timeout(REDRAW),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
            }
        });
        Progress {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the line and clears it.
    pub(super) fn finish(mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A new directory under the temp dir that only this user can enter (mode 0700), for
/// libtest-mimic's log; `None` when it cannot be made (the caller then shows no progress line).
pub(super) fn private_dir() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "sockspec-progress-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    // `create`, not `create_all`: an existing path (a planted link) is refused.
    builder.create(&dir).ok()?;
    Some(dir)
}

/// `[57/200] 55 passed, 2 failed, 0 ignored · 3.1s`.
pub(super) fn line(done: &[TrialRecord], total: usize, elapsed: Duration) -> String {
    let c = Counts::of(done);
    format!(
        "[{:>width$}/{total}] {} passed, {} failed, {} ignored · {:.1}s",
        done.len(),
        c.passed,
        c.failed,
        c.ignored,
        elapsed.as_secs_f64(),
        width = total.to_string().len(),
    )
}

/// The failures' messages, as libtest-mimic prints them (`---- name ----` then the message).
pub(super) fn failures(records: &[TrialRecord]) -> String {
    let mut out = String::new();
    for r in records {
        if let TrialOutcome::Failed(message) = &r.outcome {
            out.push_str(&format!("\n---- {} ----\n{message}\n", r.name));
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
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn the_line_counts_outcomes() {
        let done = [
            record("a::x", TrialOutcome::Passed),
            record("a::y", TrialOutcome::Failed("boom".into())),
            record("a::z", TrialOutcome::Ignored(String::new())),
        ];
        assert_eq!(
            line(&done, 200, Duration::from_millis(3140)),
            "[  3/200] 1 passed, 1 failed, 1 ignored · 3.1s"
        );
        assert_eq!(failures(&done), "\n---- a::y ----\nboom\n");
    }
}
