//! Owns run directories: where a run's records go (`target/sockspec/runs/<run id>/`, or
//! `SOCKSPEC_RUN_DIR`), the file name of a trial's record, the atomic write (a temporary
//! file renamed into place), the record bundle of one `sockspec test` (JSON Lines, a line
//! per record, appended by one write each), and reading every record of one or more
//! directories back, with errors that name the file (and the line of a bundle).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::record::{FORMAT, RunRecord};

/// Overrides the run directory of the scenario trials and of `sockspec test`.
pub const RUN_DIR_VAR: &str = "SOCKSPEC_RUN_DIR";

/// The directory of run directories below the target directory.
pub(crate) const RUNS_BELOW_TARGET: [&str; 2] = ["sockspec", "runs"];

/// Why a run record or run directory could not be written or read; every variant names the
/// file or directory.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The run directory could not be created.
    #[error("create the run directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The record could not be written.
    #[error("write the run record {}: {source}", path.display())]
    Write {
        /// The record's file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The record could not be serialized.
    #[error("serialize the run record of {trial}: {source}")]
    Serialize {
        /// The trial.
        trial: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The run directory could not be listed.
    #[error("read the run directory {}: {source}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record could not be read.
    #[error("read the run record {}: {source}", path.display())]
    Read {
        /// The record's file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record is not JSON, or not a record.
    #[error("parse the run record {}: {source}", path.display())]
    Parse {
        /// The record's file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A record of another format or version.
    #[error("read the run record {}: its format is {found:?}, this sockspec reads {FORMAT:?}", path.display())]
    Format {
        /// The record's file.
        path: PathBuf,
        /// Its `format`.
        found: String,
    },
    /// No run directory to report.
    #[error("find the newest run: no run directory under {}", path.display())]
    NoRuns {
        /// Where run directories were looked for.
        path: PathBuf,
    },
}

/// `<target>/sockspec/runs/`: `target` is `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub(crate) fn runs_root(root: &Path, process: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let target = process("CARGO_TARGET_DIR")
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .map_or_else(
            || root.join("target"),
            |t| if t.is_relative() { root.join(t) } else { t },
        );
    RUNS_BELOW_TARGET.iter().fold(target, |p, c| p.join(c))
}

/// How many run directories `<target>/sockspec/runs/` keeps: a run of 1,000 scenarios records
/// a few megabytes, and a benchmark or a `--repeat` loop makes hundreds of runs.
const KEEP_RUNS: usize = 20;

/// A run directory modified more recently than this may belong to a run still going.
const ACTIVE_RUN: std::time::Duration = std::time::Duration::from_secs(120);

/// Removes the run directories under `runs` beyond the [`KEEP_RUNS`] most recently modified,
/// never `current` (the run starting), once per process. Only directories are removed;
/// `SOCKSPEC_RUN_DIR` and `--run-dir` directories are never under it unless the user put them
/// there. A directory that cannot be removed (another process removing it too) is skipped.
pub(crate) fn prune_runs(runs: &Path, current: &str) {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| prune_runs_now(runs, current, KEEP_RUNS));
}

fn prune_runs_now(runs: &Path, current: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_name() != current)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_dir().then_some((meta.modified().ok()?, e.path()))
        })
        // A run still going touches its directory (a new record file, or `sockspec test`'s
        // writer every second): never one modified in the last minutes.
        .filter(|(modified, _)| modified.elapsed().is_ok_and(|age| age > ACTIVE_RUN))
        .collect();
    // Newest first; the current run counts as one of the kept.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    for (_, path) in dirs.into_iter().skip(keep.saturating_sub(1)) {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// A new run id: the UTC time to the second, then 8 random hex digits (sorts by time).
pub(crate) fn new_run_id() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now.chars().filter(char::is_ascii_alphanumeric).collect();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &random[..8])
}

/// The record's file name: the trial name with `::` as `.`, `/` as `~`, any other character
/// outside `[A-Za-z0-9_.-]` as `_`; leading dots dropped.
pub(crate) fn record_file_name(trial: &str) -> String {
    let name: String = trial
        .replace("::", ".")
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' => c,
            '/' => '~',
            _ => '_',
        })
        .collect();
    // Never hidden (readers skip dot files), never empty.
    match name.trim_start_matches('.') {
        "" => "_.json".to_owned(),
        n => format!("{n}.json"),
    }
}

/// Writes `record` into `dir` (created if missing) atomically: a temporary file in the same
/// directory, renamed over the record's name. Returns the record's path.
pub fn write_record(dir: &Path, record: &RunRecord) -> Result<PathBuf, RecordError> {
    std::fs::create_dir_all(dir).map_err(|source| RecordError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let json = serde_json::to_vec_pretty(record).map_err(|source| RecordError::Serialize {
        trial: record.trial.clone(),
        source,
    })?;
    let path = dir.join(record_file_name(&record.trial));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        record_file_name(&record.trial),
        uuid::Uuid::new_v4().simple()
    ));
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, &json)?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        RecordError::Write {
            path: path.clone(),
            source,
        }
    })?;
    Ok(path)
}

/// A new record bundle's file name: `sockspec-test-<8 hex digits>.jsonl`. One `sockspec test`
/// appends all its records to one bundle: a file per record cost a file creation and a rename
/// per trial, about a tenth of an in-process run's CPU.
pub(crate) fn new_bundle_name() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("sockspec-test-{}.jsonl", &random[..8])
}

/// Creates the bundle `name` in `dir` (created if missing), empty, for appending.
pub(crate) fn create_bundle(dir: &Path, name: &str) -> Result<(PathBuf, File), RecordError> {
    std::fs::create_dir_all(dir).map_err(|source| RecordError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| RecordError::Write {
            path: path.clone(),
            source,
        })?;
    Ok((path, file))
}

/// Appends `record` to the bundle `file` at `path` as one line, in one write: a run that is
/// killed leaves whole lines.
pub(crate) fn append_record(
    file: &mut File,
    path: &Path,
    record: &RunRecord,
) -> Result<(), RecordError> {
    let mut line = serde_json::to_vec(record).map_err(|source| RecordError::Serialize {
        trial: record.trial.clone(),
        source,
    })?;
    line.push(b'\n');
    file.write_all(&line).map_err(|source| RecordError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads one record, checking its format.
pub(crate) fn read_record(path: &Path) -> Result<RunRecord, RecordError> {
    let text = std::fs::read(path).map_err(|source| RecordError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_record(&text, path)
}

/// Every record of the bundle at `path`, in file order; an error names the line
/// (`<file>:<line>`).
fn read_bundle(path: &Path) -> Result<Vec<RunRecord>, RecordError> {
    let text = std::fs::read(path).map_err(|source| RecordError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let complete = text.ends_with(b"\n");
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    let last = lines.len() - 1;
    let mut records = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let place = PathBuf::from(format!("{}:{}", path.display(), i + 1));
        match parse_record(line, &place) {
            Ok(r) => records.push(r),
            // A last line without its newline is a record still being written (a run going
            // on, or one killed mid-write): not a broken bundle.
            Err(_) if i == last && !complete => {}
            Err(e) => return Err(e),
        }
    }
    Ok(records)
}

/// `text` as a record of this format; errors name `place`.
fn parse_record(text: &[u8], place: &Path) -> Result<RunRecord, RecordError> {
    let format_error = |found: &str| RecordError::Format {
        path: place.to_path_buf(),
        found: found.to_owned(),
    };
    match serde_json::from_slice::<RunRecord>(text) {
        Ok(record) if record.format == FORMAT => Ok(record),
        Ok(record) => Err(format_error(&record.format)),
        Err(source) => {
            // A record of another version is named as such, not as malformed.
            let found = serde_json::from_slice::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("format")?.as_str().map(str::to_owned));
            match found {
                Some(f) if f != FORMAT => Err(format_error(&f)),
                _ => Err(RecordError::Parse {
                    path: place.to_path_buf(),
                    source,
                }),
            }
        }
    }
}

/// Every record of `dir` (its `*.json` files and `*.jsonl` bundles, not hidden), sorted by
/// trial name; of a trial recorded more than once (`--repeat`, or two runs sharing the
/// directory) the latest started.
pub(crate) fn read_run_dir(dir: &Path) -> Result<Vec<RunRecord>, RecordError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RecordError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| RecordError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if (name.ends_with(".json") || name.ends_with(".jsonl")) && !name.starts_with('.') {
            paths.push(entry.path());
        }
    }
    paths.sort();
    let mut records = Vec::new();
    for p in &paths {
        if p.extension().is_some_and(|e| e == "jsonl") {
            records.extend(read_bundle(p)?);
        } else {
            records.push(read_record(p)?);
        }
    }
    // Stable: of equal start times, the later in file order wins.
    records.sort_by(|a, b| a.trial.cmp(&b.trial).then(a.started_at.cmp(&b.started_at)));
    let mut latest: Vec<RunRecord> = Vec::with_capacity(records.len());
    for r in records {
        match latest.last_mut() {
            Some(last) if last.trial == r.trial => *last = r,
            _ => latest.push(r),
        }
    }
    Ok(latest)
}

/// The most recently modified directory of `runs` (the newest run).
pub(crate) fn newest_run(runs: &Path) -> Result<PathBuf, RecordError> {
    let entries = std::fs::read_dir(runs).map_err(|_| RecordError::NoRuns {
        path: runs.to_path_buf(),
    })?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
        .ok_or_else(|| RecordError::NoRuns {
            path: runs.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sockspec-runs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn file_names_are_sanitized_trial_names() {
        assert_eq!(
            record_file_name("local::auth/no token"),
            "local.auth~no_token.json"
        );
        assert_eq!(record_file_name("::../x"), "~x.json");
        assert_eq!(record_file_name("::"), "_.json");
    }

    #[test]
    fn runs_root_follows_cargo_target_dir() {
        let root = Path::new("/p");
        assert_eq!(
            runs_root(root, &|_| None),
            Path::new("/p/target/sockspec/runs")
        );
        assert_eq!(
            runs_root(root, &|n| (n == "CARGO_TARGET_DIR")
                .then(|| "/t".to_owned())),
            Path::new("/t/sockspec/runs")
        );
    }

    #[test]
    fn malformed_and_foreign_records_are_named() {
        let dir = temp_dir();
        std::fs::write(dir.join("bad.json"), "{not json").expect("write");
        let err = read_run_dir(&dir).expect_err("malformed");
        assert!(
            err.to_string().starts_with("parse the run record ")
                && err.to_string().contains("bad.json"),
            "{err}"
        );
        std::fs::write(dir.join("bad.json"), r#"{"format": "sockspec-run/9"}"#).expect("write");
        let err = read_run_dir(&dir).expect_err("foreign");
        assert!(err.to_string().contains("sockspec-run/9"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn minimal(trial: &str, started_at: &str, outcome: &str) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "format": FORMAT, "trial": trial, "scenario": "a", "file": "a.yaml", "name": "a",
            "environment": "local", "outcome": outcome, "started_at": started_at,
            "duration_ms": 1.0, "steps": [], "timeline": [], "http": []
        }))
        .expect("a minimal record")
    }

    #[test]
    fn bundles_are_read_beside_files_and_the_latest_record_of_a_trial_wins() {
        let dir = temp_dir();
        let (path, mut file) = create_bundle(&dir, "sockspec-test-0.jsonl").expect("bundle");
        assert!(
            create_bundle(&dir, "sockspec-test-0.jsonl").is_err(),
            "never reused"
        );
        let rounds = [
            minimal("local::b", "2026-12-02T10:00:00.000Z", "failed"),
            minimal("local::a", "2026-12-02T10:00:00.001Z", "passed"),
            minimal("local::b", "2026-12-02T10:00:01.000Z", "passed"),
        ];
        for r in &rounds {
            append_record(&mut file, &path, r).expect("appended");
        }
        write_record(
            &dir,
            &minimal("local::c", "2026-12-02T09:00:00.000Z", "passed"),
        )
        .expect("a file");
        let text = std::fs::read_to_string(&path).expect("bundle text");
        assert_eq!(text.lines().count(), 3, "a line per record: {text}");
        let records = read_run_dir(&dir).expect("readable");
        let seen: Vec<(&str, String)> = records
            .iter()
            .map(|r| (r.trial.as_str(), format!("{:?}", r.outcome)))
            .collect();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[0].0, "local::a");
        assert_eq!(seen[1].0, "local::b");
        assert!(
            seen[1].1.to_lowercase().contains("pass"),
            "the later round: {seen:?}"
        );
        assert_eq!(seen[2].0, "local::c");

        std::fs::write(
            &path,
            format!("{text}{{\"format\": \"sockspec-run/1\", \"tri"),
        )
        .expect("cut");
        assert_eq!(read_run_dir(&dir).expect("a record being written").len(), 3);
        std::fs::write(&path, format!("{}{{broken\n", text)).expect("corrupt");
        let err = read_run_dir(&dir).expect_err("a bad line").to_string();
        assert!(err.contains("sockspec-test-0.jsonl:4"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn only_the_newest_runs_are_kept_and_never_the_current_or_an_active_one_removed() {
        let runs = temp_dir();
        let now = std::time::SystemTime::now();
        for i in 0..8u64 {
            let dir = runs.join(format!("run{i}"));
            std::fs::create_dir_all(dir.join("children")).expect("dir");
            std::fs::write(dir.join("r.json"), "{}").expect("file");
            // run0 is the oldest, run7 the newest.
            let at = now - std::time::Duration::from_secs(600 * (8 - i));
            std::fs::File::open(&dir)
                .and_then(|f| f.set_modified(at))
                .expect("dated");
        }
        std::fs::write(runs.join("not-a-run.txt"), "kept").expect("file");
        // Modified just now: maybe a run still going, kept whatever the count.
        std::fs::create_dir_all(runs.join("running")).expect("dir");
        prune_runs_now(&runs, "run0", 4);
        let mut left: Vec<String> = std::fs::read_dir(&runs)
            .expect("listed")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["not-a-run.txt", "run0", "run5", "run6", "run7", "running"]
        );
        std::fs::remove_dir_all(&runs).expect("cleanup");
    }

    #[test]
    fn newest_run_is_an_error_without_runs() {
        let dir = temp_dir();
        let err = newest_run(&dir.join("none")).expect_err("no runs");
        assert!(err.to_string().contains("no run directory"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
