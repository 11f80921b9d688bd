//! Owns the process exit codes of the `sockspec` binary and the test harness, in one place
//! (a foundation: the harness uses them without importing `cli`).

/// Everything passed.
pub const SUCCESS: u8 = 0;
/// At least one scenario failed.
pub const FAILURES: u8 = 1;
/// The selection is wrong: unknown environment, a filter that matches no scenario, an
/// unreadable configuration, a `--junit` or HTML report file that cannot be written, run
/// records that cannot be read (`report`).
pub const BAD_SELECTION: u8 = 2;
/// `check` found invalid scenarios or configuration.
pub const INVALID: u8 = 3;
/// `serve` could not start (missing secret, port in use).
pub const SERVER_ERROR: u8 = 4;
/// `check` found a selected environment missing a secret its scenarios need.
pub const MISSING_SECRETS: u8 = 5;
/// `decode` was given something that is not a JWT (or nothing at all).
pub const NOT_A_JWT: u8 = 6;
/// `token` could not produce the credential: a missing secret, an unreadable key, a refused
/// exchange, an embedded server that would not start.
pub const NO_TOKEN: u8 = 7;
/// `doctor` found at least one failed check.
pub const CHECKS_FAILED: u8 = 8;
/// A file was not written: `new`'s exists already or cannot be written; `init`, `review`,
/// `accept` or `reject` could not write, rename or read a file.
pub const NOT_WRITTEN: u8 = 9;
/// `snapshots --check` found orphan or pending snapshots.
pub const SNAPSHOT_PROBLEMS: u8 = 10;
/// Standard output was closed by its reader (`sockspec test | head`): 141, as a shell
/// reports a process ended by SIGPIPE.
pub const CLOSED_PIPE: u8 = 141;
