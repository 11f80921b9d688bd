//! The transcript: the ordered record of one run (the only interface between execution
//! and output), its redaction, and its renderings.

mod event;
mod failure;
mod normalize;
mod redact;
mod render;

pub use event::{Disposition, Entry, Event, Frame, Recorder, Transcript};
pub use failure::Failure;
pub use normalize::Normalizer;
pub use redact::{Redactor, percent_encode};
pub use render::{render_last_frames, render_snapshot};
