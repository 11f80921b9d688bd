//! Owns writing the HTML report file: the records of every run directory given (in that
//! order, each sorted by trial), the page, and the file written atomically; what it wrote
//! (scenarios, bytes, time) is returned for the command to print.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{RunRecords, render_page};
use crate::report::run_dir::{RecordError, read_run_dir};

#[derive(Debug, thiserror::Error)]
pub(crate) enum HtmlError {
    #[error(transparent)]
    Records(#[from] RecordError),
    #[error("serialize the report data: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("write the report {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a report holds and what it took to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ReportStats {
    /// Scenario runs in it.
    pub records: usize,
    /// Of them, failed or unavailable.
    pub failed: usize,
    /// The file's size.
    pub bytes: usize,
    /// Reading the records and rendering the page.
    pub elapsed: Duration,
}

/// The records of `dirs`, each named by its directory's name.
pub(crate) fn read_runs(dirs: &[PathBuf]) -> Result<Vec<RunRecords>, RecordError> {
    dirs.iter()
        .map(|d| {
            Ok(RunRecords {
                run: d.file_name().map_or_else(
                    || d.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                records: read_run_dir(d)?,
            })
        })
        .collect()
}

/// Writes the report of `runs` to `out` (a temporary file beside it, then renamed).
pub(crate) fn write_report(
    runs: &[RunRecords],
    out: &Path,
    started: Instant,
) -> Result<ReportStats, HtmlError> {
    let generated = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let page = render_page(runs, &generated)?;
    let failed = runs
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.is_failure())
        .count();
    let tmp = out.with_file_name(format!(
        ".{}.{}.tmp",
        out.file_name()
            .map_or_else(|| "report".into(), |n| n.to_string_lossy()),
        uuid::Uuid::new_v4().simple()
    ));
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, page.as_bytes())?;
        std::fs::rename(&tmp, out)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        HtmlError::Write {
            path: out.to_path_buf(),
            source,
        }
    })?;
    Ok(ReportStats {
        records: runs.iter().map(|r| r.records.len()).sum(),
        failed,
        bytes: page.len(),
        elapsed: started.elapsed(),
    })
}
