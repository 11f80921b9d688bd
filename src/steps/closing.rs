//! Owns the closing handshake at the end of a scenario (RFC 6455 §7): the client sends its
//! close (1000) unless it or the server already closed, then reads and discards messages until
//! the server's close frame answers it, for at most the close timeout. A server that closed
//! first has its close echoed (tungstenite queues the echo; flushing sends it). The outcome is
//! recorded as one `Closing` event; it fails the scenario only under
//! `connect.expect_clean_close`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::inbox::End;
use super::runner::Session;
use crate::transcript::{CloseEnding, Event, Failure};

/// Closes the connection at the end of the scenario, waiting `timeout` at most for the
/// server's answer, and records how it went under step `step`. `Err` only when
/// `expect_clean` and the handshake was not clean.
pub(crate) async fn close_at_end(
    step: usize,
    timeout: Duration,
    expect_clean: bool,
    s: &mut Session<'_>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    let (sent, ending, discarded) = match s.inbox.end().map(|(e, _)| e.clone()) {
        // Nothing to answer and nobody to answer it.
        Some(End::Dropped(m)) => {
            return if expect_clean {
                Err(Failure::new(format!(
                    "the connection ended without a closing handshake ({m})"
                ))
                .hint("`connect.expect_clean_close` asks for a close frame each way"))
            } else {
                Ok(())
            };
        }
        // The client already failed the connection with its own close (1002, 1007, 1009);
        // the step that saw it reports the failure.
        Some(End::Violation { .. } | End::Refused { .. }) => return Ok(()),
        Some(End::Closed { .. }) => {
            // Sends the echo tungstenite queued when the server's close came (if a read has
            // not sent it already).
            let _ = tokio::time::timeout_at(deadline, s.ws.flush()).await;
            (false, CloseEnding::ServerClosed, 0)
        }
        None => {
            let already_sent = s
                .rec
                .transcript()
                .entries
                .iter()
                .any(|e| matches!(e.event, Event::CloseSent { .. }));
            let mut sent = false;
            if !already_sent {
                let frame = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                };
                sent = matches!(
                    tokio::time::timeout_at(deadline, s.ws.close(Some(frame))).await,
                    Ok(Ok(()))
                );
            }
            let (ending, discarded) = wait_for_answer(s, deadline, timeout).await;
            (sent, ending, discarded)
        }
    };
    let abnormal = ending.abnormal();
    s.rec.record(Event::Closing {
        step,
        sent,
        ending,
        discarded,
    });
    match abnormal {
        Some(what) if expect_clean => Err(Failure::new(what)
            .expected("the server's close frame answering the client's close")
            .hint(
                "`connect.expect_clean_close` asks for a clean close; raise \
                 `connect.close_timeout` if the server is only slow to answer",
            )),
        _ => Ok(()),
    }
}

/// Reads until the server's close frame, discarding messages, until `deadline`.
async fn wait_for_answer(
    s: &mut Session<'_>,
    deadline: Instant,
    timeout: Duration,
) -> (CloseEnding, usize) {
    let mut discarded = 0;
    loop {
        let Ok(read) = tokio::time::timeout_at(deadline, s.ws.next()).await else {
            return (CloseEnding::Unanswered { after: timeout }, discarded);
        };
        match read {
            Some(Ok(Message::Close(frame))) => {
                return (
                    CloseEnding::Answered {
                        code: frame
                            .as_ref()
                            .map(|f| u16::from(f.code))
                            .filter(|c| *c != u16::from(CloseCode::Status)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    },
                    discarded,
                );
            }
            Some(Ok(_)) => discarded += 1,
            Some(Err(e)) => {
                return (
                    CloseEnding::Dropped {
                        message: e.to_string(),
                    },
                    discarded,
                );
            }
            None => {
                return (
                    CloseEnding::Dropped {
                        message: "the server ended the connection".into(),
                    },
                    discarded,
                );
            }
        }
    }
}
