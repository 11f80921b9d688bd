//! Owns the receiving side of a connection: frames read from the socket with deadlines,
//! plus the frames a step looked at but did not consume, so the next expectation sees
//! every message received since the last one consumed — including ones that arrived
//! before it started.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::handshake::Ws;
use crate::transcript::Frame;

/// Something that arrived on the connection.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    /// A text or binary frame.
    Frame(Frame),
    /// A close frame.
    Close {
        /// The close code, if the frame had one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The connection ended without a close frame, or failed.
    Dropped(String),
}

/// What arrived on the connection and no step has consumed yet, in arrival order: a step
/// reads from the front, and frames it looked at but did not consume go back to the front
/// ([`Inbox::unread`]) for the next step. Once the connection has ended, nothing more arrives.
pub(crate) struct Inbox {
    pending: VecDeque<Incoming>,
    ended: bool,
}

impl Inbox {
    pub(crate) fn new() -> Self {
        Self {
            pending: VecDeque::new(),
            ended: false,
        }
    }

    /// Puts frames back in front, in order, for the next step to see.
    pub(crate) fn unread(&mut self, items: Vec<Incoming>) {
        for item in items.into_iter().rev() {
            self.pending.push_front(item);
        }
    }

    /// The next incoming item, or `None` when `deadline` passes first.
    pub(crate) async fn next(&mut self, ws: &mut Ws, deadline: Instant) -> Option<Incoming> {
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        if self.ended {
            // Nothing more will come; wait out the deadline is pointless.
            return None;
        }
        loop {
            let read = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
            let item = match read {
                None => Incoming::Dropped(
                    "the server ended the connection without a close frame".into(),
                ),
                Some(Err(e)) => Incoming::Dropped(e.to_string()),
                Some(Ok(Message::Text(t))) => Incoming::Frame(Frame::from_text(t.as_str())),
                Some(Ok(Message::Binary(b))) => Incoming::Frame(Frame::Binary(b.len())),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => Incoming::Close {
                    code: frame
                        .as_ref()
                        .map(|f| u16::from(f.code))
                        .filter(|c| *c != u16::from(CloseCode::Status)),
                    reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                },
            };
            if matches!(item, Incoming::Close { .. } | Incoming::Dropped(_)) {
                self.ended = true;
            }
            return Some(item);
        }
    }

    /// True once the connection has ended (close frame or drop seen).
    pub(crate) fn ended(&self) -> bool {
        self.ended && self.pending.is_empty()
    }
}

impl Default for Inbox {
    fn default() -> Self {
        Self::new()
    }
}

/// A deadline `within` from now.
pub(super) fn deadline(within: Duration) -> Instant {
    Instant::now() + within
}
