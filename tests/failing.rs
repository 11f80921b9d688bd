//! The golden corpus of failures: every scenario in `scenarios/failing/` must fail against
//! the reference server, and its rendered report must equal its snapshot.

fn main() -> std::process::ExitCode {
    sockspec::harness::failing_main(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
}
