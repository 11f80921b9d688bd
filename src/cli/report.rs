//! Owns `sockspec report [RUN_DIR…] -o FILE`: the HTML report of run directories (several
//! merge into one page, in the order given); with none, the newest run directory under
//! `<root>/target/sockspec/runs/`. Also the `--html` part of `sockspec test`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::harness::process_env;
use crate::report::{HtmlError, newest_run, read_runs, runs_root, write_report};

/// `sockspec report`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run directories (`target/sockspec/runs/<run id>`) to report, merged into one page;
    /// none reports the newest run under `<root>/target/sockspec/runs/`.
    #[arg(value_name = "RUN_DIR")]
    pub dirs: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "report.html")]
    pub output: PathBuf,
}

pub(super) fn run(root: &Path, args: &ReportArgs) -> u8 {
    let dirs = if args.dirs.is_empty() {
        match newest_run(&runs_root(root, &process_env)) {
            Ok(d) => vec![d],
            Err(e) => {
                Diagnostic::bare(format!("cannot {e}"))
                    .with_help(
                        "run `sockspec test` or `cargo nextest run` first, or name run directories",
                    )
                    .eprint();
                return exit::BAD_SELECTION;
            }
        }
    } else {
        args.dirs.clone()
    };
    if let Err(d) = check_output(&args.output) {
        d.eprint();
        return exit::BAD_SELECTION;
    }
    write_html(&dirs, &args.output)
}

/// Makes `out`'s directory; fails (before a run) when it cannot be made.
pub(super) fn check_output(out: &Path) -> Result<(), Diagnostic> {
    // Its directory is made, as `--junit`'s is (`--html target/sockspec/report.html`).
    match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            Diagnostic::bare(format!(
                "cannot write the report {}: cannot create {}: {e}",
                out.display(),
                dir.display()
            ))
        }),
        _ => Ok(()),
    }
}

/// Writes the report of `dirs` to `out` and says what it wrote; the exit code.
pub(super) fn write_html(dirs: &[PathBuf], out: &Path) -> u8 {
    let started = Instant::now();
    let written = read_runs(dirs)
        .map_err(HtmlError::from)
        .and_then(|runs| write_report(&runs, out, started));
    match written {
        Ok(stats) => {
            println!(
                "sockspec: wrote {} ({} scenario runs, {} failed, {} KiB in {:.0} ms)",
                out.display(),
                stats.records,
                stats.failed,
                stats.bytes.div_ceil(1024),
                stats.elapsed.as_secs_f64() * 1000.0
            );
            exit::SUCCESS
        }
        Err(e) => {
            Diagnostic::bare(format!("cannot {e}")).eprint();
            exit::BAD_SELECTION
        }
    }
}
