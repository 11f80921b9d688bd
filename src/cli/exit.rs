//! Owns the process exit codes of the `sockspec` binary and the test harness, in one place.

/// Everything passed.
pub const SUCCESS: u8 = 0;
/// At least one scenario failed.
pub const FAILURES: u8 = 1;
/// The selection is wrong: unknown environment, a filter that matches no scenario, an
/// unreadable configuration, a `--junit` file that cannot be written.
pub const BAD_SELECTION: u8 = 2;
/// `check` found invalid scenarios or configuration.
pub const INVALID: u8 = 3;
/// `serve` could not start (missing secret, port in use).
pub const SERVER_ERROR: u8 = 4;
/// `check` found a selected environment missing a secret its scenarios need.
pub const MISSING_SECRETS: u8 = 5;
