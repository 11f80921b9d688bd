//! One test per malformed scenario in `scenarios/invalid/`: its diagnostic is snapshotted.

fn main() -> std::process::ExitCode {
    sockspec::harness::diagnostics_main(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
}
