//! Owns `sockspec schema`: prints the JSON Schema of scenario files (the one committed as
//! `schema/scenario.schema.json`), or with `--fragment` that of fragments
//! (`schema/fragment.schema.json`), on stdout.

use std::io::Write;

use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::scenario::schema::{fragment_schema_json, scenario_schema_json};

/// Writes the schema (of fragments when `fragment`) to stdout; a closed or failing stdout is
/// reported, never a panic.
pub(super) fn run(fragment: bool) -> u8 {
    let schema = if fragment {
        fragment_schema_json()
    } else {
        scenario_schema_json()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(schema.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            Diagnostic::bare(format!("cannot write the schema: {e}")).eprint();
            exit::BAD_SELECTION
        }
    }
}
