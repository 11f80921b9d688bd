//! The transcript: the ordered record of one run (the only interface between execution
//! and output), its redaction, and its renderings, among them the snapshot document
//! ([`Snapshot`] and the types it holds: the committed snapshot format).

mod event;
mod failure;
mod normalize;
mod redact;
mod render;
mod snapshot_doc;

pub use event::{Disposition, Entry, Event, Frame, Recorder, Transcript};
pub use failure::Failure;
pub use normalize::Normalizer;
pub use redact::{Redactor, percent_encode};
pub use render::{render_last_frames, render_snapshot};
pub use snapshot_doc::{
    Auth, AuthAttempt, Capture, CloseReceived, CloseSent, FrameAction, FrameContent, FrameItem,
    Handshake, HandshakeRequest, HandshakeResponse, Headers, HttpCall, HttpRequest, HttpResponse,
    Outcome, Snapshot, UpgradeResponse,
};
