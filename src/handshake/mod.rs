//! The WebSocket handshake: building the upgrade request, classifying its [`Outcome`],
//! recording it, and judging it against the scenario's expectation ([`open`] does all four
//! for a run).

mod connect;
mod error;
mod expect;
mod open;
mod request;

pub use connect::{FailureKind, Outcome, ResponseInfo, Ws, connect};
pub use error::HandshakeError;
pub use expect::{Sent, body_detail, diagnose_rejection, judge};
pub use open::{locate_failure, open, strategy_shown};
pub use request::{SHOWN_REQUEST_HEADERS_SKIP, build};
