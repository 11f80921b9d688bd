//! One test per (environment × scenario file): hands control to sockspec's harness.

fn main() -> std::process::ExitCode {
    sockspec::harness::main(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
}
