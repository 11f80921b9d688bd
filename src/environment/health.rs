//! Owns environment health: one `GET` of an environment's health URL with a deadline
//! ([`check`]), and [`HealthCache`], which makes that one request per (environment, URL) per
//! test run: a locked file shared by every process of a nextest run (`NEXTEST_RUN_ID`), kept
//! under the cargo target directory (`target/sockspec/health/<run id>`, never the system temp
//! dir; older runs' directories are removed by the next run), or a process-wide map otherwise. Caching is best effort: a cache that cannot be used (I/O
//! error, lock not obtained before its deadline) falls back to an uncached check.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::environment::fingerprint;

/// Deadline of one health request when the environment sets none.
pub(crate) const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// The variable nextest sets to the same UUID in every test process of one run.
pub(crate) const RUN_ID_VAR: &str = "NEXTEST_RUN_ID";
/// How much longer than the request deadline a process waits for another one's result.
const LOCK_MARGIN: Duration = Duration::from_secs(1);
/// Interval between attempts to take a cache file's lock.
const LOCK_POLL: Duration = Duration::from_millis(10);

/// An environment whose health check failed; every scenario of it fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("environment '{environment}' unavailable: GET {url} → {reason}")]
pub struct Unavailable {
    /// The environment's name.
    pub environment: String,
    /// The health URL that failed.
    pub url: String,
    /// `503 Service Unavailable`, `connection refused`, `timed out after 2s`, or a short error.
    pub reason: String,
}

type Outcome = Result<(), Unavailable>;

/// Whether `status` means healthy: one of `accepted`, or any 2xx when `accepted` is empty.
pub(crate) fn healthy(status: reqwest::StatusCode, accepted: &[u16]) -> bool {
    if accepted.is_empty() {
        status.is_success()
    } else {
        accepted.contains(&status.as_u16())
    }
}

/// One `GET url` that must answer within `timeout` with one of `accepted` (any 2xx when
/// `accepted` is empty).
pub(crate) async fn check(
    client: &reqwest::Client,
    environment: &str,
    url: &str,
    timeout: Duration,
    accepted: &[u16],
) -> Outcome {
    let reason = match tokio::time::timeout(timeout, client.get(url).send()).await {
        Ok(Ok(response)) if healthy(response.status(), accepted) => return Ok(()),
        Ok(Ok(response)) => {
            let status = response.status();
            match status.canonical_reason() {
                Some(canonical) => format!("{} {canonical}", status.as_u16()),
                None => status.as_u16().to_string(),
            }
        }
        Ok(Err(error)) => describe(&error),
        Err(_elapsed) => format!("timed out after {}", humantime::format_duration(timeout)),
    };
    Err(Unavailable {
        environment: environment.to_owned(),
        url: url.to_owned(),
        reason,
    })
}

/// `connection refused`, or the error's kind followed by its innermost cause.
fn describe(error: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = error;
    let mut refused = false;
    while let Some(next) = root.source() {
        refused |= next
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::ConnectionRefused);
        root = next;
    }
    if error.is_connect() && refused {
        return "connection refused".to_owned();
    }
    let kind = if error.is_builder() {
        "invalid request"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {}", root.to_string().to_lowercase())
}

/// Results of [`check`], kept for the rest of the test run.
#[derive(Debug, Clone)]
pub(crate) struct HealthCache {
    store: Store,
}

#[derive(Debug, Clone)]
enum Store {
    Memory(Arc<Memory>),
    Dir(PathBuf),
}

/// (environment, [`cache_key`]) → the result, computed once even when asked concurrently.
type Memory = Mutex<HashMap<(String, String), Arc<OnceCell<Outcome>>>>;

impl HealthCache {
    /// The cache of this run: files for the nextest run in `NEXTEST_RUN_ID`, else the process's.
    pub(crate) fn from_env() -> Self {
        Self::for_run(std::env::var(RUN_ID_VAR).ok().as_deref())
    }

    /// Files under `<target>/sockspec/health/<run id>` for `Some(run id)` (see
    /// [`target_dir`]); the process-wide map for `None` (or an empty id), or when no target
    /// directory is found.
    pub(crate) fn for_run(run_id: Option<&str>) -> Self {
        Self::for_run_in(run_id, target_dir().as_deref())
    }

    /// [`HealthCache::for_run`] with the target directory given.
    fn for_run_in(run_id: Option<&str>, target: Option<&Path>) -> Self {
        static PROCESS: OnceLock<Arc<Memory>> = OnceLock::new();
        match (run_id.filter(|id| !id.is_empty()), target) {
            (Some(id), Some(target)) => {
                let plain = id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                let component = if plain {
                    id.to_owned()
                } else {
                    fingerprint(id.as_bytes())
                };
                let runs = target.join("sockspec").join("health");
                prune_old_runs(&runs, &component);
                Self::in_dir(runs.join(component))
            }
            _ => Self {
                store: Store::Memory(PROCESS.get_or_init(Arc::default).clone()),
            },
        }
    }

    /// One file per (environment, url) in `dir`, shared with every process using `dir`.
    pub(crate) fn in_dir(dir: PathBuf) -> Self {
        Self {
            store: Store::Dir(dir),
        }
    }

    /// A fresh in-memory cache, shared only with its clones.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Self {
        Self {
            store: Store::Memory(Arc::default()),
        }
    }

    /// The cached result for (environment, url), or [`check`]'s, which is then cached.
    pub(crate) async fn check(
        &self,
        client: &reqwest::Client,
        environment: &str,
        url: &str,
        timeout: Duration,
        accepted: &[u16],
    ) -> Outcome {
        match &self.store {
            Store::Memory(memory) => {
                let cell = memory
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry((environment.to_owned(), cache_key(url, accepted)))
                    .or_default()
                    .clone();
                let run = || check(client, environment, url, timeout, accepted);
                cell.get_or_init(run).await.clone()
            }
            Store::Dir(dir) => check_in_dir(dir, client, environment, url, timeout, accepted).await,
        }
    }
}

/// Under the lock of the (environment, url) file in `dir`: its recorded result, or a fresh
/// one, recorded for the other processes.
async fn check_in_dir(
    dir: &Path,
    client: &reqwest::Client,
    environment: &str,
    url: &str,
    timeout: Duration,
    accepted: &[u16],
) -> Outcome {
    let path = cache_file(dir, environment, &cache_key(url, accepted));
    let file = match lock(&path, Instant::now() + timeout + LOCK_MARGIN).await {
        Ok(file) => file,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "health cache unusable; checking uncached");
            return check(client, environment, url, timeout, accepted).await;
        }
    };
    let mut text = String::new();
    if (&file).read_to_string(&mut text).is_ok()
        && let Ok(outcome) = serde_json::from_str::<Outcome>(&text)
    {
        return outcome;
    }
    let outcome = check(client, environment, url, timeout, accepted).await;
    if let Err(error) = record(&file, &outcome) {
        tracing::warn!(path = %path.display(), %error, "could not record the health result");
    }
    outcome // the lock is released when `file` drops
}

/// Runs' directories older than this are removed when another run starts.
const STALE_RUN: Duration = Duration::from_secs(24 * 60 * 60);

/// The cargo target directory of this process: `CARGO_TARGET_DIR` when set, else the nearest
/// ancestor of the executable holding cargo's `CACHEDIR.TAG` (test binaries live in
/// `<target>/<profile>/deps/`, the `sockspec` binary in `<target>/<profile>/`).
pub(crate) fn target_dir() -> Option<PathBuf> {
    static TARGET: OnceLock<Option<PathBuf>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
                let dir = PathBuf::from(dir);
                return Some(if dir.is_absolute() {
                    dir
                } else {
                    std::env::current_dir().ok()?.join(dir)
                });
            }
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .skip(1)
                .find(|d| d.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .clone()
}

/// Removes the directories of earlier runs under `runs` (older than a day, so a concurrent
/// run's is left alone), once per process: the first process of a run creates its directory.
fn prune_old_runs(runs: &Path, current: &str) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let Ok(entries) = std::fs::read_dir(runs) else {
            return;
        };
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_RUN);
            if stale && entry.file_name() != current {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// What a result is cached under besides the environment: the URL, and the accepted
/// statuses when they are not the default (any 2xx).
fn cache_key(url: &str, accepted: &[u16]) -> String {
    if accepted.is_empty() {
        url.to_owned()
    } else {
        format!("{url}\0{accepted:?}")
    }
}

/// `<dir>/<16 hex digits of sha256(environment NUL url)>.json`.
fn cache_file(dir: &Path, environment: &str, url: &str) -> PathBuf {
    let name = fingerprint(format!("{environment}\0{url}").as_bytes());
    dir.join(format!("{name}.json"))
}

/// Opens (creating) `path` and takes its exclusive lock, polling until `deadline`.
async fn lock(path: &Path, deadline: Instant) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                tokio::time::sleep(LOCK_POLL).await;
            }
            Err(TryLockError::WouldBlock) => {
                let message = "lock still held by another process at the deadline";
                return Err(io::Error::new(ErrorKind::TimedOut, message));
            }
            Err(TryLockError::Error(error)) => return Err(error),
        }
    }
}

fn record(mut file: &File, outcome: &Outcome) -> io::Result<()> {
    let text = serde_json::to_string(outcome)?;
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::server::{ServerConfig, ServerHandle, ServerOptions, ServerSecrets, spawn};

    const SHORT: Duration = Duration::from_millis(200);

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
    }

    async fn server(healthy: bool) -> (ServerHandle, String) {
        let options = ServerOptions {
            start_unhealthy: !healthy,
            ..Default::default()
        };
        let secrets = ServerSecrets {
            jwt_secret: "s".into(),
            ..Default::default()
        };
        let handle = spawn(ServerConfig { options, secrets })
            .await
            .expect("server");
        let url = format!("{}/health", handle.http_base());
        (handle, url)
    }

    /// A unique directory under the temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> Self {
            let name = format!("sockspec-health-test-{}", uuid::Uuid::new_v4());
            Self(std::env::temp_dir().join(name))
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn reason(outcome: Outcome) -> String {
        outcome.expect_err("unavailable").reason
    }

    #[tokio::test]
    async fn healthy_server_is_ok() {
        let (server, url) = server(true).await;
        assert_eq!(check(&client(), "local", &url, SHORT, &[]).await, Ok(()));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn unhealthy_server_reports_status_and_canonical_reason() {
        let (server, url) = server(false).await;
        let error = check(&client(), "staging", &url, SHORT, &[])
            .await
            .expect_err("503");
        let expected =
            format!("environment 'staging' unavailable: GET {url} → 503 Service Unavailable");
        assert_eq!(error.to_string(), expected);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn closed_port_reports_connection_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        drop(listener);
        assert_eq!(
            reason(check(&client(), "e", &url, DEFAULT_HEALTH_TIMEOUT, &[]).await),
            "connection refused"
        );
    }

    #[tokio::test]
    async fn silent_listener_times_out() {
        // Never accepted: the kernel completes the TCP handshake, nobody ever answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        assert_eq!(
            reason(check(&client(), "e", &url, SHORT, &[]).await),
            "timed out after 200ms"
        );
        drop(listener);
    }

    #[tokio::test]
    async fn invalid_url_is_a_short_error() {
        let reason = reason(check(&client(), "e", "not a url", SHORT, &[]).await);
        assert_eq!(reason, "invalid request: relative url without a base");
    }

    async fn through(cache: HealthCache, url: &str) -> Outcome {
        cache.check(&client(), "staging", url, SHORT, &[]).await
    }

    #[tokio::test]
    async fn file_cache_keeps_the_first_result_of_its_run() {
        let (run, other) = (TempDir::new(), TempDir::new());
        let (server, url) = server(false).await;
        let first = through(HealthCache::in_dir(run.0.clone()), &url).await;
        assert_eq!(reason(first), "503 Service Unavailable");
        server.set_healthy(true);
        let direct = check(&client(), "staging", &url, SHORT, &[]).await;
        assert_eq!(direct, Ok(()), "the server is healthy now");
        let again = through(HealthCache::in_dir(run.0.clone()), &url).await;
        assert_eq!(
            reason(again),
            "503 Service Unavailable",
            "cached, not requested"
        );
        assert_eq!(
            through(HealthCache::in_dir(other.0.clone()), &url).await,
            Ok(())
        );
        server.shutdown().await;
    }

    #[tokio::test]
    async fn process_cache_keeps_the_first_result() {
        let (server, url) = server(false).await;
        let first = through(HealthCache::for_run(None), &url).await;
        assert_eq!(reason(first), "503 Service Unavailable");
        server.set_healthy(true);
        let again = through(HealthCache::for_run(Some("")), &url).await;
        assert_eq!(reason(again), "503 Service Unavailable", "process-wide");
        assert_eq!(through(HealthCache::in_memory(), &url).await, Ok(()));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn held_lock_falls_back_to_an_uncached_check_at_the_deadline() {
        let run = TempDir::new();
        let (server, url) = server(true).await;
        let path = cache_file(&run.0, "staging", &url);
        let held = lock(&path, Instant::now()).await.expect("lock");
        let checked = tokio::time::timeout(
            SHORT + LOCK_MARGIN * 3,
            through(HealthCache::in_dir(run.0.clone()), &url),
        );
        assert_eq!(checked.await, Ok(Ok(())), "no hang past the deadline");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "",
            "nothing recorded"
        );
        drop(held);
        server.shutdown().await;
    }

    #[test]
    fn run_id_selects_a_directory_per_run_under_the_target_dir() {
        let target = Path::new("/work/target");
        let Store::Dir(dir) = HealthCache::for_run_in(Some("0b9e-42"), Some(target)).store else {
            panic!("a run id selects the file cache");
        };
        assert_eq!(dir, target.join("sockspec/health/0b9e-42"));
        let Store::Dir(dir) = HealthCache::for_run_in(Some("../x"), Some(target)).store else {
            panic!("a run id selects the file cache");
        };
        assert_eq!(dir.parent(), Some(target.join("sockspec/health").as_path()));
        // No target directory: the process's map, never the temp dir.
        assert!(matches!(
            HealthCache::for_run_in(Some("0b9e-42"), None).store,
            Store::Memory(_)
        ));
    }

    #[test]
    fn the_target_dir_of_a_test_binary_holds_cargo_s_tag() {
        let dir = target_dir().expect("tests run from a cargo target directory");
        assert!(dir.join("CACHEDIR.TAG").is_file(), "{}", dir.display());
    }

    /// An HTTP server answering 503 to every connection, counting them.
    async fn counting_server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (url, count)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_checks_share_one_request() {
        let run = TempDir::new();
        let (url, requests) = counting_server().await;
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, url, barrier) = (
                    HealthCache::in_dir(run.0.clone()),
                    url.clone(),
                    barrier.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    cache
                        .check(&client(), "staging", &url, DEFAULT_HEALTH_TIMEOUT, &[])
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(reason(task.await.expect("task")), "503 Service Unavailable");
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    /// An HTTP server answering `status` to every request.
    async fn answering(status: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/health", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn a_status_list_accepts_only_its_statuses() {
        let no_content = answering("204 No Content").await;
        let ok = answering("200 OK").await;
        let c = client();
        assert_eq!(
            check(&c, "e", &no_content, SHORT, &[200, 204]).await,
            Ok(())
        );
        assert_eq!(
            check(&c, "e", &no_content, SHORT, &[]).await,
            Ok(()),
            "any 2xx"
        );
        assert_eq!(reason(check(&c, "e", &ok, SHORT, &[204]).await), "200 OK");
        assert_eq!(check(&c, "e", &ok, SHORT, &[200]).await, Ok(()));
        let unavailable = answering("503 Service Unavailable").await;
        assert_eq!(check(&c, "e", &unavailable, SHORT, &[503]).await, Ok(()));
    }
}
