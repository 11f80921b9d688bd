//! Owns `sockspec schema`: prints the JSON Schema of scenario files (the one committed as
//! `schema/scenario.schema.json`) on stdout.

use std::io::Write;

use crate::diagnostic::Diagnostic;
use crate::exit;
use crate::scenario::schema::scenario_schema_json;

/// Writes the schema to stdout; a closed or failing stdout is reported, never a panic.
pub(super) fn run() -> u8 {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(scenario_schema_json().as_bytes())
        .and_then(|()| out.flush())
    {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            Diagnostic::bare(format!("cannot write the schema: {e}")).eprint();
            exit::BAD_SELECTION
        }
    }
}
