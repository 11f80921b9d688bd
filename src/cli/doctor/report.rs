//! Owns the doctor's report: one line per check (✓ passed, ✗ failed, – not applicable),
//! redacted, and the counts; and the deadline every network check shares.

use std::time::Duration;

use crate::transcript::Redactor;

/// Deadline of every network wait (except a declared health check's own timeout).
pub(super) const DEADLINE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Pass,
    Fail,
    Skip,
}

/// Prints each check as it completes (redacted) and counts them.
pub(super) struct Report {
    pub(super) redactor: Redactor,
    pub(super) passed: usize,
    pub(super) failed: usize,
    pub(super) skipped: usize,
}

impl Report {
    /// An empty report that redacts with `redactor`.
    pub(super) fn new(redactor: Redactor) -> Self {
        Self {
            redactor,
            passed: 0,
            failed: 0,
            skipped: 0,
        }
    }

    fn line(&mut self, mark: Mark, label: &str, detail: &str) {
        let symbol = match mark {
            Mark::Pass => {
                self.passed += 1;
                '✓'
            }
            Mark::Fail => {
                self.failed += 1;
                '✗'
            }
            Mark::Skip => {
                self.skipped += 1;
                '–'
            }
        };
        println!("{symbol} {label:<10} {}", self.redactor.redact(detail));
    }

    pub(super) fn pass(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Pass, label, detail.as_ref());
    }

    pub(super) fn fail(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Fail, label, detail.as_ref());
    }

    pub(super) fn skip(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Skip, label, detail.as_ref());
    }
}
