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

use std::io::ErrorKind;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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
    /// The connection ended without a close frame: the kind of drop (EOF without a close
    /// frame, reset, an I/O error).
    Dropped(String),
    /// The server broke the protocol (RFC 6455); the client closed with `close_code`.
    Violation {
        /// What the server did, e.g. `masked frame from server`.
        what: String,
        /// The close code the client sent (1002, 1007, 1009).
        close_code: u16,
    },
    /// The client refused what the server sent (a message beyond the size limit) and closed
    /// the connection itself.
    Refused {
        /// What was refused: `message exceeds max size: 67108864 > 16777216`.
        message: String,
        /// The close code the client sent (1009).
        code: u16,
        /// The close reason the client sent.
        reason: String,
    },
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
            End::Violation { what, .. } => format!("protocol error: {what}"),
            End::Refused { message, code, .. } => {
                format!("{message}; the client closed with {code}")
            }
        }
    }

    /// How a read error ends the connection: a protocol violation (with the close code the
    /// client answers with), or a drop of a named kind.
    pub(crate) fn from_error(e: &WsError) -> End {
        let violation = |what: String, close_code: u16| End::Violation { what, close_code };
        match e {
            WsError::Protocol(p) => match p {
                ProtocolError::ResetWithoutClosingHandshake => {
                    End::Dropped("EOF without a close frame".into())
                }
                ProtocolError::MaskedFrameFromServer => {
                    violation("masked frame from server".into(), 1002)
                }
                ProtocolError::NonZeroReservedBits => violation("reserved bits set".into(), 1002),
                ProtocolError::UnknownControlFrameType(n)
                | ProtocolError::UnknownDataFrameType(n)
                | ProtocolError::InvalidOpcode(n) => violation(format!("unknown opcode {n}"), 1002),
                ProtocolError::UnexpectedContinueFrame => {
                    violation("unexpected continuation frame".into(), 1002)
                }
                ProtocolError::ExpectedFragment(d) => violation(
                    format!("expected a continuation frame, got a new {d} frame"),
                    1002,
                ),
                ProtocolError::ControlFrameTooBig => violation(
                    "control frame too big (payload over 125 bytes)".into(),
                    1002,
                ),
                ProtocolError::FragmentedControlFrame => {
                    violation("fragmented control frame".into(), 1002)
                }
                ProtocolError::InvalidCloseSequence => {
                    violation("close frame too short (1 byte of payload)".into(), 1002)
                }
                ProtocolError::ReceivedAfterClosing => {
                    violation("frame after the server's close frame".into(), 1002)
                }
                other => violation(other.to_string(), 1002),
            },
            WsError::Utf8(_) => violation(
                "invalid UTF-8 in a text frame or a close reason".into(),
                1007,
            ),
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                violation(format!("message too big: {size} > {max_size} bytes"), 1009)
            }
            WsError::Capacity(c) => violation(c.to_string(), 1009),
            WsError::Io(io) => End::Dropped(match io.kind() {
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe => "reset by the server, no close frame".to_string(),
                ErrorKind::UnexpectedEof => "EOF in the middle of a frame".to_string(),
                _ => format!("I/O error: {io}"),
            }),
            WsError::ConnectionClosed | WsError::AlreadyClosed => {
                End::Dropped("EOF without a close frame".into())
            }
            other => End::Dropped(other.to_string()),
        }
    }
}

/// The reason tungstenite puts in the close it reports when the server's close code may not
/// appear on the wire (1005, 1006, 1015, 0–999, …): the code itself is lost.
const REPLACED_CLOSE_REASON: &str = "Protocol violation";

/// How long the client's close after a protocol violation may take to go out.
const VIOLATION_CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

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
    /// The client has sent its close frame (a `close` step): what the server owes is its own.
    close_sent: bool,
}

impl Inbox {
    pub(crate) fn new(binary: BinaryFrames) -> Self {
        Self {
            messages: Vec::new(),
            binary,
            end: None,
            first_unclaimed: 0,
            started: Instant::now(),
            close_sent: false,
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

    /// Notes that the client sent its close frame.
    pub(crate) fn close_sent(&mut self) {
        self.close_sent = true;
    }

    /// Whether the client has sent its close frame.
    pub(crate) fn has_sent_close(&self) -> bool {
        self.close_sent
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
                    return self.ended(End::Dropped("EOF without a close frame".into()));
                }
                // Beyond the size limit: refused from the header, the client closes with 1009.
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                    let end = refuse(ws, size, max_size).await;
                    return self.ended(end);
                }
                Some(Err(e)) => {
                    let end = End::from_error(&e);
                    if let End::Violation { close_code, .. } = &end {
                        // RFC 6455 §7.1.7: fail the connection with the right code. Bounded: a
                        // server that stops reading cannot hold the scenario.
                        let frame = CloseFrame {
                            code: CloseCode::from(*close_code),
                            reason: "".into(),
                        };
                        let _ = tokio::time::timeout(
                            VIOLATION_CLOSE_TIMEOUT,
                            ws.send(Message::Close(Some(frame))),
                        )
                        .await;
                    }
                    return self.ended(end);
                }
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
                Some(Ok(Message::Close(Some(f))))
                    if f.code == CloseCode::Protocol && f.reason == REPLACED_CLOSE_REASON =>
                {
                    // tungstenite replaced a code that may not appear on the wire and queued
                    // its 1002 reply; flush it out (bounded).
                    let _ = tokio::time::timeout(VIOLATION_CLOSE_TIMEOUT, ws.flush()).await;
                    return self.ended(End::Violation {
                        what: "invalid close code (one that may not appear on the wire, e.g. 1005)"
                            .into(),
                        close_code: 1002,
                    });
                }
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

/// How long the client tries to send its close after refusing a message.
const REFUSAL_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Refuses a message or frame of `size` bytes over the limit `max_size` (tungstenite stopped
/// at its header, before reading or allocating it): names which limit, and closes with 1009
/// (RFC 6455 §7.4.1, "message too big"), bounded.
async fn refuse(ws: &mut Ws, size: usize, max_size: usize) -> End {
    let message = if ws.get_config().max_message_size == Some(max_size) {
        format!("message exceeds max size: {size} > {max_size}")
    } else {
        format!("frame exceeds max frame size: {size} > {max_size}")
    };
    let code = CloseCode::Size;
    let reason = "message too big".to_owned();
    let frame = CloseFrame {
        code,
        reason: reason.clone().into(),
    };
    let _ = tokio::time::timeout(REFUSAL_CLOSE_TIMEOUT, ws.close(Some(frame))).await;
    End::Refused {
        message,
        code: code.into(),
        reason,
    }
}

/// A deadline `within` from now.
pub(super) fn deadline(within: Duration) -> Instant {
    Instant::now() + within
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_are_named_by_kind() {
        let v = |e: WsError| End::from_error(&e).describe();
        assert_eq!(
            v(WsError::Protocol(ProtocolError::MaskedFrameFromServer)),
            "protocol error: masked frame from server"
        );
        assert_eq!(
            v(WsError::Protocol(ProtocolError::UnknownDataFrameType(3))),
            "protocol error: unknown opcode 3"
        );
        assert_eq!(
            v(WsError::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            )),
            "connection dropped (EOF without a close frame)"
        );
        assert_eq!(
            v(WsError::Io(std::io::Error::from(
                ErrorKind::ConnectionReset
            ))),
            "connection dropped (reset by the server, no close frame)"
        );
        let too_big = End::from_error(&WsError::Capacity(CapacityError::MessageTooLong {
            size: 1 << 62,
            max_size: 16 << 20,
        }));
        assert!(matches!(
            too_big,
            End::Violation {
                close_code: 1009,
                ..
            }
        ));
        assert!(matches!(
            End::from_error(&WsError::Utf8("bad".into())),
            End::Violation {
                close_code: 1007,
                ..
            }
        ));
    }
}
