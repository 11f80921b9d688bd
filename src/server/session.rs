//! One upgraded WebSocket connection: reads client frames, answers them per the agent
//! protocol, applies the per-event failure behaviours (`event_delay`, `drop_after`,
//! `close_1011`...), sends optional timer heartbeats, sends the `request` replies and
//! subscription ticks of its schedule as they fall due, and closes with 1001 at shutdown.
//!
//! All of it runs in the session's one task: nothing is spawned per request or stream, so a
//! connection's work is bounded by the schedule's limits and ends with the session.
//!
//! A session only ever writes to its own socket, with the user id it authenticated as, so
//! events cannot reach another user's connection.

use axum::extract::ws::{Message, WebSocket};
use tokio::time::{Instant, MissedTickBehavior};

use super::auth::Principal;
use super::events::{self, Request, Step, UserMessage};
use super::reply::{CLOSE_WAIT, close_with};
use super::rpc::{self, code};
use super::schedule::Schedule;
use super::state::{AppState, TaskToken};
use crate::server_options::is_sendable_close_code;

/// Close code sent to open sessions when the server shuts down.
const GOING_AWAY: u16 = 1001;

/// How a step ended the conversation, if it did.
enum End {
    /// The connection is gone or must be dropped without a close frame.
    Drop,
    /// Close with this code and reason, then wait for the client's answer.
    Close(u16, String),
    /// The server is shutting down.
    Shutdown,
}

struct Session {
    socket: WebSocket,
    state: AppState,
    user_id: String,
    sent: u32,
    schedule: Schedule,
}

/// Runs the session until the client leaves, a behaviour ends it, or the server stops.
pub(super) async fn run(
    socket: WebSocket,
    state: AppState,
    principal: Principal,
    token: TaskToken,
) {
    let _token = token;
    let schedule = Schedule::new(&state.options);
    let mut session = Session {
        socket,
        state,
        user_id: principal.user_id,
        sent: 0,
        schedule,
    };
    let end = session.serve().await;
    match end {
        End::Drop => {}
        End::Close(code, reason) => close_with(session.socket, &session.state, code, &reason).await,
        End::Shutdown => {
            close_with(
                session.socket,
                &session.state,
                GOING_AWAY,
                "server shutting down",
            )
            .await
        }
    }
}

impl Session {
    async fn serve(&mut self) -> End {
        if self.state.options.drop_after == Some(0) {
            return End::Drop;
        }
        let period = self.state.options.heartbeat_interval;
        let mut ticker = period.map(|p| {
            let mut t = tokio::time::interval_at(Instant::now() + p, p);
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        });
        let state = self.state.clone();
        loop {
            let tick = async {
                match ticker.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let due = self.schedule.next_due();
            let fire = async move {
                match due {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending::<()>().await,
                }
            };
            // Biased: shutdown first, then whatever the client already sent (so messages sent
            // together are all scheduled before anything due is sent), then due replies/ticks.
            let incoming = tokio::select! {
                biased;
                () = state.stopped() => return End::Shutdown,
                incoming = self.socket.recv() => incoming,
                () = fire => {
                    if let Err(end) = self.fire_due().await {
                        return end;
                    }
                    continue;
                }
                () = tick => {
                    let text = events::render("heartbeat", None, &self.user_id, Default::default());
                    if let Err(end) = self.send(text).await {
                        return end;
                    }
                    continue;
                }
            };
            let result = match incoming {
                None | Some(Err(_)) => return End::Drop,
                Some(Ok(Message::Text(text))) => self.answer(events::parse(text.as_str())).await,
                Some(Ok(Message::Binary(bytes))) => self.send_message(Message::Binary(bytes)).await,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_))) => {
                    // tungstenite queued the echo of the client's close; reading flushes it.
                    let drain = async { while let Some(Ok(_)) = self.socket.recv().await {} };
                    let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
                    return End::Drop;
                }
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    async fn answer(&mut self, request: Request) -> Result<(), End> {
        match request {
            Request::UserMessage(msg) => self.agent_flow(msg).await,
            Request::Binary(bytes) => self.send_message(Message::Binary(bytes.into())).await,
            Request::Ping(id) => {
                let mut extra = serde_json::Map::new();
                if let Some(id) = id {
                    extra.insert("id".into(), id);
                }
                self.send(events::render("pong", None, &self.user_id, extra))
                    .await
            }
            Request::Disconnect { code, reason } if is_sendable_close_code(code) => {
                Err(End::Close(code, reason))
            }
            Request::Disconnect { .. } => self.error(None, "invalid close code").await,
            Request::Call(call) => {
                let outcome = rpc::evaluate(&call, &self.user_id);
                let now = Instant::now();
                match self
                    .schedule
                    .add_reply(now, call.id.clone(), call.delay, outcome)
                {
                    Ok(()) => Ok(()),
                    Err(fault) => self.send(rpc::error(&call.id, &fault)).await,
                }
            }
            Request::Subscribe(sub) => {
                let id = sub.id.clone();
                match self.schedule.add_stream(Instant::now(), sub) {
                    Ok(()) => Ok(()),
                    Err(fault) => self.send(rpc::error(&id, &fault)).await,
                }
            }
            Request::Unsubscribe(id) => {
                let text = if self.schedule.cancel(&id) {
                    rpc::unsubscribed(&id)
                } else {
                    let fault = rpc::Fault::new(
                        code::NO_SUBSCRIPTION,
                        "no subscription with this id is streaming",
                    );
                    rpc::error(&id, &fault)
                };
                self.send(text).await
            }
            Request::Refused(refusal) => self.send(rpc::error(&refusal.id, &refusal.fault)).await,
            Request::Echo(text) => self.send(format!("echo: {text}")).await,
            Request::Invalid(error) => self.error(None, &error).await,
        }
    }

    async fn error(&mut self, run_id: Option<&str>, error: &str) -> Result<(), End> {
        let mut extra = serde_json::Map::new();
        extra.insert("error".into(), error.into());
        self.send(events::render("agent_error", run_id, &self.user_id, extra))
            .await
    }

    async fn agent_flow(&mut self, msg: UserMessage) -> Result<(), End> {
        let run_id = msg
            .run_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let delay = self.state.options.event_delay;
        for step in events::agent_flow(&msg, &self.state.options) {
            if !delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.state.stopped() => return Err(End::Shutdown),
                }
            }
            let text = match step {
                Step::Event(kind, extra) => {
                    events::render(kind, Some(&run_id), &self.user_id, extra)
                }
                Step::Raw(text) => text,
                Step::Oversized(bytes) => {
                    events::render_oversized(bytes, Some(&run_id), &self.user_id)
                }
                Step::Close1011 => return Err(End::Close(1011, "Internal server error".into())),
            };
            self.send(text).await?;
        }
        Ok(())
    }

    /// Sends the frames of the schedule's earliest item, if it is due.
    async fn fire_due(&mut self) -> Result<(), End> {
        for frame in self.schedule.fire(Instant::now()) {
            self.send(frame).await?;
        }
        Ok(())
    }

    async fn send(&mut self, text: String) -> Result<(), End> {
        self.send_message(Message::Text(text.into())).await
    }

    /// Sends one frame; after `drop_after` frames the connection is dropped (no close frame).
    /// A send blocked by a client that does not read gives way to shutdown.
    async fn send_message(&mut self, message: Message) -> Result<(), End> {
        if self.state.is_stopping() {
            return Err(End::Shutdown);
        }
        let sent = tokio::select! {
            sent = self.socket.send(message) => sent,
            () = self.state.stopped() => return Err(End::Shutdown),
        };
        sent.map_err(|_| End::Drop)?;
        self.sent += 1;
        match self.state.options.drop_after {
            Some(limit) if self.sent >= limit => Err(End::Drop),
            _ => Ok(()),
        }
    }
}
