//! Owns snapshots: the text a transcript is compared as ([`text`]), the `.snap` file format
//! ([`file`]: insta's, so `cargo insta review` still works for those who have it), one
//! comparison per trial that reads one file and never spawns a process ([`check`]), and the
//! pending (`.snap.new`) and orphan snapshots of a project ([`store`]) that `sockspec
//! review`, `accept`, `reject` and `snapshots --check` work on.

mod check;
mod file;
mod store;
mod text;

pub(crate) use check::{Mode, SnapshotError, Target, check, shown};
pub(crate) use store::{Filter, Pending, Status, accept, entries, pending, reject};
pub(crate) use text::snapshot_text;
