//! Owns a trial's snapshot comparison: the text compared by `report::snapshot`, its verdict
//! turned into the trial's result (a new or changed snapshot fails the trial with a bounded
//! message naming its `.snap.new`; an unreadable snapshot file fails it with the file's name).

use super::records::SnapshotMismatch;
use crate::report::snapshot::{Mode, SnapshotError, Target, check};

/// Compares `text` with the target's snapshot; `Err` holds the trial's failure message (and
/// the diff, for its run record).
pub(super) fn compare(target: Target<'_>, text: &str, mode: Mode) -> Result<(), SnapshotMismatch> {
    match check(target, text, mode) {
        Ok(verdict) => {
            // Accepting is never silent: one line on stderr per snapshot written.
            // On a terminal the line first clears a progress line being drawn there.
            if let Some(line) = verdict.accepted() {
                let clear = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    "\r\x1b[K"
                } else {
                    ""
                };
                eprintln!("{clear}{line}");
            }
            match verdict.failure() {
                Some(message) => Err(SnapshotMismatch {
                    message,
                    diff: verdict.diff(),
                }),
                None => Ok(()),
            }
        }
        Err(e) => Err(SnapshotMismatch {
            message: match e {
                // Already a located report.
                SnapshotError::Parse { message, .. } => message,
                other => format!("snapshot: {other}"),
            },
            diff: None,
        }),
    }
}
