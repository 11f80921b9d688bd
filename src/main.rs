//! The `sockspec` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    sockspec::cli::main()
}
