//! Starting and stopping: `run` (accept loop over a caller-provided listener, mini-redis
//! style), `spawn` (binds 127.0.0.1:0 and runs in a task), `ServerHandle`, and the bounded
//! graceful shutdown of connections and sessions.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use super::config::ServerConfig;
use super::error::ServerError;
use super::routes::router;
use super::state::{AppState, HeldFlag, Shared};

/// How long `run` waits for connections and sessions after the shutdown signal.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);
/// How long an HTTP connection with a request in flight may take to finish at shutdown.
const CONNECTION_GRACE: Duration = Duration::from_millis(500);
/// Upper bound of `ServerHandle::shutdown`.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(3);
/// Pause after an accept error (e.g. out of file descriptors) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serves on `listener` until `shutdown` resolves, then closes sessions (1001), lets HTTP
/// connections finish (bounded), drops held connections unanswered, and returns.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let healthy = Arc::new(AtomicBool::new(!config.options.start_unhealthy));
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = Arc::new(Shared::new(config, healthy, stop_rx)?);
    serve_until(listener, state, stop_tx, shutdown).await;
    Ok(())
}

async fn serve_until(
    listener: TcpListener,
    state: AppState,
    stop_tx: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = router(state.clone());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Each frame goes out when written (no Nagle delay), as the client's do.
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY");
                    }
                    spawn_connection(stream, app.clone(), state.clone());
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN_DEADLINE, state.tracker.wait_idle())
        .await
        .is_err()
    {
        tracing::warn!(
            live = state.tracker.live(),
            "shutdown deadline passed with tasks still running"
        );
    }
}

fn spawn_connection(stream: TcpStream, app: Router, state: AppState) {
    let token = state.tracker.token();
    let _ = stream.set_nodelay(true);
    let held = HeldFlag::default();
    let flag = held.clone();
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(flag.clone());
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await;
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    tokio::spawn(async move {
        let _token = token;
        let connection = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            () = state.stopped() => {}
        }
        if held.is_held() {
            return; // silent_reject: drop the connection without ever answering
        }
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(CONNECTION_GRACE, connection).await;
    });
}

/// A server started by [`spawn`]. Dropping it also stops the server (without waiting).
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    healthy: Arc<AtomicBool>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Binds 127.0.0.1:0 and runs the server in a task of the current runtime (a current-thread
/// runtime is fine). Configuration errors are returned here, before anything runs.
pub async fn spawn(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    let requested = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listener = TcpListener::bind(requested)
        .await
        .map_err(|source| ServerError::Bind {
            addr: requested,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServerError::LocalAddr)?;
    let healthy = Arc::new(AtomicBool::new(!config.options.start_unhealthy));
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = Arc::new(Shared::new(config, healthy.clone(), stop_rx)?);
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve_until(listener, state, stop_tx, shutdown));
    Ok(ServerHandle {
        addr,
        healthy,
        stop,
        task,
    })
}

impl ServerHandle {
    /// The bound address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws_base(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches `/health` between 200 and 503.
    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    /// Stops accepting, closes sessions with 1001 and waits for the server task, at most a
    /// few seconds (the task is aborted after that).
    pub async fn shutdown(self) {
        let Self { stop, mut task, .. } = self;
        let _ = stop.send(());
        if tokio::time::timeout(SHUTDOWN_DEADLINE, &mut task)
            .await
            .is_err()
        {
            tracing::warn!("server task did not stop in time; aborting it");
            task.abort();
        }
    }
}
