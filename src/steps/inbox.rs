//! Owns the receiving side of a connection: every message the server sends enters the inbox
//! in arrival order and stays there until a step claims it (matched, or ignored). A step
//! scans the unclaimed messages it can see (its `where`) from the oldest, so a message one
//! step passes over is still there for a later one, including messages that arrived before
//! the later step started. The end of the connection (a close frame or a drop) is state, not a
//! message: once seen, nothing more arrives, and a step that needs more fails at once.
//!
//! ```text
//!  arrival:   #1 ack(id 7)   #2 next(s1)   #3 next(s2)   #4 next(s1)   #5 complete(s1)
//!  step 2  (where id: s1, sequence next×2, complete)  claims #2 #4 #5, passes over #1 #3
//!  step 3  (expect ack id 7)                          claims #1
//!  end of scenario                                    #3 is listed as unclaimed
//! ```

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::handshake::Ws;
use crate::scenario::BinaryFrames;
use crate::transcript::Frame;

/// How the connection ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    /// The server's close frame.
    Closed {
        /// The close code, if the frame had one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The connection ended without a close frame, or failed.
    Dropped(String),
}

impl End {
    /// One line for reports: `close 1000 "bye"`, or the drop's message.
    pub(crate) fn describe(&self) -> String {
        match self {
            End::Closed { code, reason } => format!(
                "close {} {reason:?}",
                code.map_or("(no code)".to_string(), |c| c.to_string())
            ),
            End::Dropped(m) => format!("connection dropped ({m})"),
        }
    }
}

/// A received message and whether a step has claimed it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Arrival number, from 1.
    pub seq: usize,
    /// The frame as received.
    pub frame: Frame,
    /// What patterns see of a frame that is not JSON (a string); `Null` for JSON frames,
    /// whose value is the frame's own (no second copy).
    text: Value,
    /// Claimed by a step (matched or ignored): invisible to later steps.
    pub claimed: bool,
}

impl Received {
    /// The value patterns are matched against.
    pub(crate) fn value(&self) -> &Value {
        match &self.frame {
            Frame::Json(v) => v,
            Frame::Text(_) | Frame::Binary(_) => &self.text,
        }
    }
}

/// What reading more from the connection gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pulled {
    /// A new message, at this index of [`Inbox::messages`].
    Message(usize),
    /// The connection has just ended (the first time it is seen).
    Ended(End),
    /// The connection had already ended: nothing more will come.
    AlreadyEnded,
    /// The deadline passed first.
    TimedOut,
}

/// Every message received on the connection, in arrival order, with its claim.
pub(crate) struct Inbox {
    messages: Vec<Received>,
    binary: BinaryFrames,
    end: Option<(End, Duration)>,
    /// Every message before this index is claimed (a scan starts here).
    first_unclaimed: usize,
    started: Instant,
}

impl Inbox {
    pub(crate) fn new(binary: BinaryFrames) -> Self {
        Self {
            messages: Vec::new(),
            binary,
            end: None,
            first_unclaimed: 0,
            started: Instant::now(),
        }
    }

    /// Every message received so far.
    pub(crate) fn messages(&self) -> &[Received] {
        &self.messages
    }

    /// The index a scan of unclaimed messages can start at.
    pub(crate) fn first_unclaimed(&self) -> usize {
        self.first_unclaimed
    }

    /// The message at `index`.
    pub(crate) fn get(&self, index: usize) -> &Received {
        &self.messages[index]
    }

    /// Marks the message at `index` claimed.
    pub(crate) fn claim(&mut self, index: usize) {
        self.messages[index].claimed = true;
        while self
            .messages
            .get(self.first_unclaimed)
            .is_some_and(|m| m.claimed)
        {
            self.first_unclaimed += 1;
        }
    }

    /// Time since the inbox started (the upgrade).
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How the connection ended, and when (from the inbox's start), once seen.
    pub(crate) fn end(&self) -> Option<&(End, Duration)> {
        self.end.as_ref()
    }

    /// Reads one more item from the connection, waiting until `deadline` at most.
    pub(crate) async fn pull(&mut self, ws: &mut Ws, deadline: Instant) -> Pulled {
        if self.end.is_some() {
            return Pulled::AlreadyEnded;
        }
        loop {
            let Ok(read) = tokio::time::timeout_at(deadline, ws.next()).await else {
                return Pulled::TimedOut;
            };
            let frame = match read {
                None => {
                    return self.ended(End::Dropped(
                        "the server ended the connection without a close frame".into(),
                    ));
                }
                Some(Err(e)) => return self.ended(End::Dropped(e.to_string())),
                Some(Ok(Message::Text(t))) => Frame::from_text(t.as_str()),
                Some(Ok(Message::Binary(b))) => match self.binary {
                    BinaryFrames::Json => std::str::from_utf8(&b)
                        .ok()
                        .and_then(|t| serde_json::from_str::<Value>(t).ok())
                        .filter(|v| v.is_object() || v.is_array())
                        .map_or(Frame::Binary(b.len()), Frame::Json),
                    BinaryFrames::Bytes => Frame::Binary(b.len()),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    // RFC 6455 §5.5.1: answer the server's close. tungstenite queued the echo
                    // when it read the close; flushing sends it now rather than at the next read.
                    let _ = tokio::time::timeout_at(deadline, ws.flush()).await;
                    return self.ended(End::Closed {
                        code: frame
                            .as_ref()
                            .map(|f| u16::from(f.code))
                            .filter(|c| *c != u16::from(CloseCode::Status)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    });
                }
            };
            let text = match &frame {
                Frame::Json(_) => Value::Null,
                other => other.value(),
            };
            self.messages.push(Received {
                seq: self.messages.len() + 1,
                frame,
                text,
                claimed: false,
            });
            return Pulled::Message(self.messages.len() - 1);
        }
    }

    fn ended(&mut self, end: End) -> Pulled {
        self.end = Some((end.clone(), self.started.elapsed()));
        Pulled::Ended(end)
    }

    /// Indexes of the messages nobody claimed.
    pub(crate) fn unclaimed(&self) -> impl Iterator<Item = usize> + '_ {
        (self.first_unclaimed..self.messages.len()).filter(|i| !self.messages[*i].claimed)
    }
}

/// A deadline `within` from now.
pub(super) fn deadline(within: Duration) -> Instant {
    Instant::now() + within
}
