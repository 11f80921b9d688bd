//! Owns a trial's snapshot comparison: the text compared by `report::snapshot`, its verdict
//! turned into the trial's result (a new or changed snapshot fails the trial with a bounded
//! message naming its `.snap.new`; an unreadable snapshot file fails it with the file's name).

use std::path::Path;

use super::records::SnapshotMismatch;
use crate::report::snapshot::{Mode, Target, check};

/// Compares `text` with `<dir>/<id>.snap`; `Err` holds the trial's failure message (and the
/// diff, for its run record).
pub(super) fn compare(
    root: &Path,
    dir: &Path,
    id: &str,
    input: &Path,
    description: &str,
    text: &str,
    mode: Mode,
) -> Result<(), SnapshotMismatch> {
    let target = Target {
        root,
        dir,
        id,
        input,
        description,
    };
    match check(target, text, mode) {
        Ok(verdict) => {
            // Accepting is never silent: one line on stderr per snapshot written.
            if let Some(line) = verdict.accepted() {
                eprintln!("{line}");
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
            message: format!("snapshot: {e}"),
            diff: None,
        }),
    }
}
