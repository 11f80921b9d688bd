//! The WebSocket handshake: building the upgrade request, classifying its outcome and
//! judging it against the scenario's expectation.

mod connect;
mod expect;
mod request;

pub use connect::{FailureKind, Outcome, ResponseInfo, Ws, connect};
pub use expect::{Observed, Sent, body_detail, diagnose_rejection, judge};
pub use request::{SHOWN_REQUEST_HEADERS_SKIP, build};

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("render the connection settings: {0}")]
    Template(String),
    #[error("build the request URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("set header `{0}`: the name or value is not valid in HTTP")]
    Header(String),
}
