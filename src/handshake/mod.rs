//! The WebSocket handshake: building the upgrade request, classifying its [`Outcome`],
//! recording it, and judging it against the scenario's expectation ([`open`] does all four
//! for a run).

mod connect;
mod error;
mod expect;
mod open;
mod request;
mod upgrade;

pub(crate) use connect::{
    FailureKind, Negotiated, Outcome, RedirectStop, Ws, connect, connect_following,
};
pub(crate) use error::HandshakeError;
pub(crate) use expect::{Sent, body_detail, diagnose_rejection, judge};
pub(crate) use open::{open, strategy_shown};
pub(crate) use request::{SHOWN_REQUEST_HEADERS_SKIP, build};
