//! The transcript: the ordered record of one run (the only interface between execution
//! and output), its redaction, and its renderings, among them the snapshot document
//! (`Snapshot` and the types it holds: the committed snapshot format).

mod event;
mod failure;
mod normalize;
mod redact;
mod render;
mod snapshot_doc;
mod volatile;

pub(crate) use event::Recorder;
pub use event::{CloseEnding, Disposition, Entry, Event, Frame, Transcript};
pub use failure::Failure;
pub(crate) use normalize::Normalizer;
pub(crate) use redact::{Redactor, percent_encode};
pub(crate) use render::{render_last_frames, render_snapshot};
