//! Owns the JUnit XML report of a run (`sockspec test --junit FILE`): one testsuite named
//! `sockspec`, one testcase per trial (name `<environment>::<scenario id>`, classname the
//! environment), failures carrying the failure message, runtime-ignored trials skipped
//! with their reason.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{TrialOutcome, TrialRecord};
use crate::diagnostic::quote::{FIRST_LINE_LIMIT, QUOTE_LIMIT, bound, bound_lines};

/// The name of the report and of its one testsuite.
const SUITE_NAME: &str = "sockspec";

#[derive(Debug, thiserror::Error)]
pub(crate) enum JunitError {
    #[error("create the junit report {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serialize the junit report: {0}")]
    Serialize(#[from] quick_junit::SerializeError),
    #[error("write the junit report {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The report file, created before the run so that a bad path fails before any trial runs.
#[derive(Debug)]
pub(crate) struct JunitFile {
    path: PathBuf,
    file: File,
}

impl JunitFile {
    /// Creates (or truncates) `path`.
    pub(crate) fn create(path: &Path) -> Result<JunitFile, JunitError> {
        // Its directory is made (`--junit target/sockspec/junit.xml` on a fresh checkout).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JunitError::Create {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(path).map_err(|source| JunitError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(JunitFile {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Writes the report of `records` (a run that took `elapsed`).
    pub(crate) fn write(
        mut self,
        records: &[TrialRecord],
        elapsed: Duration,
    ) -> Result<(), JunitError> {
        let xml = junit_report(records, elapsed).to_string()?;
        self.file
            .write_all(xml.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|source| JunitError::Write {
                path: self.path,
                source,
            })
    }
}

/// The report of `records`, in their order.
pub(crate) fn junit_report(records: &[TrialRecord], elapsed: Duration) -> Report {
    let mut suite = TestSuite::new(SUITE_NAME);
    suite.set_time(elapsed);
    suite.add_test_cases(records.iter().map(test_case));
    let mut report = Report::new(SUITE_NAME);
    report.set_time(elapsed);
    report.add_test_suite(suite);
    report
}

fn test_case(r: &TrialRecord) -> TestCase {
    let status = match &r.outcome {
        TrialOutcome::Passed => TestCaseStatus::success(),
        TrialOutcome::Failed(message) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            // Reports are bounded already (`Failure::redact`); bounded again here so that no
            // other source of a message can make the file grow with what a server sent.
            if let Some(first) = message.lines().find(|l| !l.trim().is_empty()) {
                s.set_message(bound(first.trim(), FIRST_LINE_LIMIT + "error: ".len()).as_ref());
            }
            s.set_description(bound_lines(message, QUOTE_LIMIT).as_ref());
            s
        }
        TrialOutcome::Ignored(reason) => {
            let mut s = TestCaseStatus::skipped();
            if !reason.is_empty() {
                s.set_message(reason.as_str());
            }
            s
        }
    };
    let mut case = TestCase::new(r.name.as_str(), status);
    case.set_classname(r.environment());
    case.set_time(r.duration);
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, outcome: TrialOutcome) -> TrialRecord {
        TrialRecord {
            name: name.into(),
            outcome,
            duration: Duration::from_millis(250),
        }
    }

    #[test]
    fn a_huge_failure_gives_bounded_junit() {
        let huge = format!("error: {}\n{}", "x".repeat(5000), "y".repeat(1 << 20));
        let records = vec![record("local::big", TrialOutcome::Failed(huge))];
        let xml = junit_report(&records, Duration::from_secs(1))
            .to_string()
            .expect("serializes");
        assert!(xml.len() < 16 * 1024, "{} bytes", xml.len());
        assert!(xml.contains("…[truncated, 1,048,576 bytes in all]"));
    }

    #[test]
    fn report_has_one_suite_with_a_case_per_trial() {
        let records = [
            record("local::auth/no_token", TrialOutcome::Passed),
            record(
                "local::agent/flow",
                TrialOutcome::Failed("error: expected <agent_completed>\n  --> x.yaml".into()),
            ),
            record(
                "local::seeds/later",
                TrialOutcome::Ignored("needs staging".into()),
            ),
        ];
        let xml = junit_report(&records, Duration::from_secs(2))
            .to_string()
            .expect("serializable");
        assert!(
            xml.contains(
                r#"<testsuites name="sockspec" tests="3" skipped="1" failures="1" errors="0""#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="sockspec" tests="3""#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase name="local::auth/no_token" classname="local" time="0.250"/>"#
            ),
            "{xml}"
        );
        assert!(xml.contains(r#"<failure message="error: expected &lt;agent_completed&gt;">error: expected &lt;agent_completed&gt;"#), "{xml}");
        assert!(xml.contains("  --&gt; x.yaml</failure>"), "{xml}");
        assert!(
            xml.contains(r#"<skipped message="needs staging"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn write_creates_the_file_first_and_fails_on_a_bad_path() {
        let dir = std::env::temp_dir().join(format!("sockspec-junit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("junit.xml");
        let file = JunitFile::create(&path).expect("creatable");
        file.write(&[record("local::a", TrialOutcome::Passed)], Duration::ZERO)
            .expect("writable");
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(text.contains(r#"<testcase name="local::a""#), "{text}");

        // A missing directory is made; a directory that cannot be (under a file) fails.
        JunitFile::create(&dir.join("made/junit.xml")).expect("its directory is made");
        let err = JunitFile::create(&dir.join("junit.xml/inside/junit.xml"))
            .expect_err("a file is no directory");
        assert!(
            err.to_string().starts_with("create the junit report "),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
