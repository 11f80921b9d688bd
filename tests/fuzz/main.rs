//! Property tests ("fuzzing") of everything that reads untrusted scenario text: the scenario
//! parser and validator, templates, patterns and the diagnostic renderer.
//!
//! Each property generates inputs with proptest — arbitrary text, structurally plausible
//! scenario YAML with wrong and mutated values, mutations of the scenario corpus, patterns and
//! JSON — and checks that nothing panics, that every rejection carries a located diagnostic
//! with a message, and the documented invariants (`explain` is empty exactly when `matches`).
//!
//! By default each property runs a few hundred cases (the whole target takes a few seconds). A
//! long run, as described in ARCHITECTURE.md ("Fuzzing"):
//!
//! ```text
//! SOCKSPEC_FUZZ_CASES=800000 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! `SOCKSPEC_FUZZ_SEED=<u64>` replays a run. A case that runs longer than
//! `SOCKSPEC_FUZZ_CASE_LIMIT_SECS` (default 60) is taken for a hang: its input is printed and
//! the process aborts.
//!
//! Inputs that once crashed are kept as plain tests in `regressions`.
//!
//! One module per concern, each saying in its `//!` what it owns: `runner` (running a
//! property), `checks` (what every parse must satisfy), the generators `gen_text`, `gen_yaml`,
//! `gen_pattern` and `gen_scenario`, `mutate` (mutations of the corpus), `props` (the
//! properties), `regressions`, and `schema_coverage` (the generator writes every step kind,
//! auth strategy and handshake outcome of the JSON Schema, and every property of the scenario,
//! the expect steps, close expectations and repeated events).

mod checks;
mod gen_pattern;
mod gen_scenario;
mod gen_text;
mod gen_yaml;
mod mutate;
mod props;
mod regressions;
mod runner;
mod schema_coverage;
