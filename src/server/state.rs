//! Shared server state handed to every handler and session (`AppState`), the stop signal, and
//! the task tracker `run` uses to wait (with a deadline) for connections and sessions to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use subtle::ConstantTimeEq;
use tokio::sync::{Notify, watch};

use super::auth::{Authenticator, Principal, Rejection};
use super::config::ServerConfig;
use super::error::ServerError;
use super::users::{UserStore, load_users_file};

/// What handlers and sessions share.
pub(super) type AppState = Arc<Shared>;

/// The server's shared state.
pub(super) struct Shared {
    /// Behaviour knobs.
    pub options: crate::server_options::ServerOptions,
    /// Token checks and minting.
    pub auth: Authenticator,
    /// Staging user table.
    pub users: UserStore,
    bypass_key: Option<Vec<u8>>,
    /// `/health` answers 200 when true, 503 when false.
    pub healthy: Arc<AtomicBool>,
    stop: watch::Receiver<bool>,
    /// Counts connection and session tasks still running.
    pub tracker: Tracker,
}

impl Shared {
    /// Token check plus, in staging mode, the known-and-active user check.
    pub(super) fn authorize(&self, token: &str) -> Result<Principal, Rejection> {
        let principal = self.auth.authenticate(token)?;
        if self.options.require_known_users && !principal.api_key {
            self.users.check(&principal.user_id)?;
        }
        Ok(principal)
    }
}

impl Shared {
    /// Validates the configuration and loads keys and users.
    pub(super) fn new(
        config: ServerConfig,
        healthy: Arc<AtomicBool>,
        stop: watch::Receiver<bool>,
    ) -> Result<Self, ServerError> {
        let ServerConfig { options, secrets } = config;
        options
            .validate()
            .map_err(|e| ServerError::InvalidConfig(e.0))?;
        let auth = Authenticator::new(&secrets, &options)?;
        let mut seed = options.users.clone();
        if let Some(path) = &options.users_file {
            seed.extend(load_users_file(path)?);
        }
        Ok(Self {
            users: UserStore::new(seed),
            auth,
            bypass_key: secrets.bypass_key.map(String::into_bytes),
            healthy,
            stop,
            tracker: Tracker::default(),
            options,
        })
    }

    /// Whether the bypass endpoints are enabled.
    pub(super) fn bypass_enabled(&self) -> bool {
        self.bypass_key.is_some()
    }

    /// Constant-time comparison with the configured bypass key (false when none is set).
    pub(super) fn bypass_key_matches(&self, offered: &[u8]) -> bool {
        self.bypass_key
            .as_deref()
            .is_some_and(|key| bool::from(key.ct_eq(offered)))
    }

    /// Resolves once the server is shutting down.
    pub(super) async fn stopped(&self) {
        let mut rx = self.stop.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// True once the server is shutting down.
    pub(super) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }
}

/// Counts live tasks; `wait_idle` resolves when the count is back to zero.
#[derive(Clone, Default)]
pub(super) struct Tracker(Arc<TrackerInner>);

#[derive(Default)]
struct TrackerInner {
    live: AtomicUsize,
    idle: Notify,
}

/// Held by a tracked task; dropping it marks the task as finished.
pub(super) struct TaskToken(Arc<TrackerInner>);

impl Tracker {
    /// Registers one more live task.
    pub(super) fn token(&self) -> TaskToken {
        self.0.live.fetch_add(1, Ordering::SeqCst);
        TaskToken(Arc::clone(&self.0))
    }

    /// Number of live tasks.
    pub(super) fn live(&self) -> usize {
        self.0.live.load(Ordering::SeqCst)
    }

    /// Resolves when no task is live.
    pub(super) async fn wait_idle(&self) {
        loop {
            let notified = self.0.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.live() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for TaskToken {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Per-connection flag set by a handler that holds the request unanswered (`silent_reject`):
/// at shutdown such a connection is dropped without an answer instead of drained.
#[derive(Clone, Default)]
pub(super) struct HeldFlag(pub Arc<AtomicBool>);

impl HeldFlag {
    /// Marks the connection as held.
    pub(super) fn hold(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a handler holds the connection.
    pub(super) fn is_held(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn tracker_waits_for_tokens() {
        let tracker = Tracker::default();
        let token = tracker.token();
        let waiter = tokio::spawn({
            let tracker = tracker.clone();
            async move { tracker.wait_idle().await }
        });
        assert_eq!(tracker.live(), 1);
        drop(token);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("idle before the deadline")
            .expect("waiter joined");
        assert_eq!(tracker.live(), 0);
    }
}
