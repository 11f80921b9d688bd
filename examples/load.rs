//! Load benchmark of the reference server (run by `scripts/load.sh`, loopback only).
//!
//! The server runs in a child process (this same binary with `--server-child`) so its peak
//! RSS can be read from `/proc/<pid>/status` (VmHWM) and each process stays under its own
//! file-descriptor limit. The parent opens `--connections` authenticated WebSockets (all open
//! at once), then every connection sends one `user_message` and reads the whole flow.
//! Lost and misrouted events are counted; the run is bounded by `--deadline-secs`.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use sockspec::server::{ServerConfig, ServerOptions, ServerSecrets, run};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const SECRET: &str = "load-benchmark-secret-not-a-real-one";
const FLOW: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

struct Args {
    connections: usize,
    deadline: Duration,
    handshakes: usize,
    server_child: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        connections: 10_000,
        deadline: Duration::from_secs(120),
        handshakes: 256,
        server_child: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match flag.as_str() {
            "--connections" => args.connections = value("--connections")?,
            "--deadline-secs" => {
                args.deadline = Duration::from_secs(value("--deadline-secs")? as u64)
            }
            "--handshakes" => args.handshakes = value("--handshakes")?.max(1),
            "--server-child" => args.server_child = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: failed to build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.server_child {
        runtime.block_on(server_child())
    } else {
        runtime.block_on(parent(args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Child: serve on 127.0.0.1:0 with a deep backlog, print the port, stop at stdin EOF.
async fn server_child() -> Result<(), String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .map_err(|e| e.to_string())?;
    let listener = socket.listen(4096).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("PORT {port}");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = tx.send(());
    });
    let config = ServerConfig {
        options: ServerOptions::default(),
        secrets: ServerSecrets {
            jwt_secret: SECRET.to_owned(),
            ..Default::default()
        },
    };
    run(listener, config, async {
        let _ = rx.await;
    })
    .await
    .map_err(|e| e.to_string())
}

fn proc_status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct ServerChild(Child);

impl Drop for ServerChild {
    fn drop(&mut self) {
        drop(self.0.stdin.take()); // EOF: graceful stop
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::yield_now();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Outcome {
    latency: Option<Duration>,
    received: usize,
    lost: usize,
    misrouted: usize,
    error: Option<String>,
}

async fn parent(args: Args) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("--server-child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failed to start the server child: {e}"))?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let pid = child.id().to_string();
    let child = ServerChild(child);
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = port_tx.send(line);
    });
    let line = port_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "server child did not report its port within 10 s")?;
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("unexpected child output {line:?}"))?;
    let baseline_kb = proc_status_kb(&pid, "VmRSS:").unwrap_or(0);

    let started = Instant::now();
    let result = tokio::time::timeout(args.deadline, drive(&args, port, &pid)).await;
    let server_hwm_kb = proc_status_kb(&pid, "VmHWM:").unwrap_or(0);
    let client_hwm_kb = proc_status_kb("self", "VmHWM:").unwrap_or(0);
    drop(child);
    let Ok(report) = result else {
        return Err(format!(
            "deadline of {:?} passed before the benchmark finished",
            args.deadline
        ));
    };
    let report = report?;
    let n = args.connections as f64;
    println!("connections           {}", args.connections);
    println!(
        "connect phase         {:.2?} ({:.0} connections/s)",
        report.connect_time,
        n / report.connect_time.as_secs_f64()
    );
    println!("failed connections    {}", report.failed);
    println!(
        "events received       {} of {}",
        report.received,
        args.connections * FLOW.len()
    );
    println!("events lost           {}", report.lost);
    println!("events misrouted      {}", report.misrouted);
    println!("flow latency p50      {:.2?}", report.p50);
    println!("flow latency p99      {:.2?}", report.p99);
    println!("flow latency max      {:.2?}", report.max);
    println!("server RSS baseline   {baseline_kb} kB");
    println!("server RSS all open   {} kB", report.open_kb);
    println!(
        "server RSS/connection {:.1} kB",
        (report.open_kb.saturating_sub(baseline_kb)) as f64 / n
    );
    println!("server peak RSS       {server_hwm_kb} kB (VmHWM of the server child process)");
    println!("client peak RSS       {client_hwm_kb} kB (VmHWM of the load generator)");
    println!("total                 {:.2?}", started.elapsed());
    if report.failed + report.lost + report.misrouted > 0 {
        return Err("events were lost or misrouted".to_owned());
    }
    Ok(())
}

struct Report {
    connect_time: Duration,
    open_kb: u64,
    failed: usize,
    received: usize,
    lost: usize,
    misrouted: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn drive(args: &Args, port: u16, pid: &str) -> Result<Report, String> {
    let url = format!("ws://127.0.0.1:{port}/ws");
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs()
        + 3600;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let handshakes = Arc::new(Semaphore::new(args.handshakes));
    let (go_tx, go_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<bool>(1024);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let user = format!("load-user-{i}");
        let token =
            jsonwebtoken::encode(&Header::default(), &json!({"sub": user, "exp": exp}), &key)
                .map_err(|e| e.to_string())?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let auth = format!("Bearer {token}")
            .parse()
            .map_err(|_| "bad header")?;
        request.headers_mut().insert("authorization", auth);
        let handshakes = handshakes.clone();
        let ready = ready_tx.clone();
        let mut go = go_rx.clone();
        tasks.push(tokio::spawn(async move {
            let permit = handshakes.acquire_owned().await;
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let connected =
                tokio_tungstenite::connect_async_with_config(request, Some(config), true).await;
            drop(permit);
            let mut ws = match connected {
                Ok((ws, _)) => {
                    let _ = ready.send(true).await;
                    ws
                }
                Err(e) => {
                    let _ = ready.send(false).await;
                    return Outcome {
                        lost: FLOW.len(),
                        error: Some(e.to_string()),
                        ..Default::default()
                    };
                }
            };
            drop(ready);
            let _ = go.wait_for(|g| *g).await;
            flow(&mut ws, &user, &format!("run-{i}")).await
        }));
    }
    drop(ready_tx);
    let mut failed = 0;
    for _ in 0..args.connections {
        match ready_rx.recv().await {
            Some(true) => {}
            Some(false) | None => failed += 1,
        }
    }
    let connect_time = started.elapsed();
    let open_kb = proc_status_kb(pid, "VmRSS:").unwrap_or(0);
    let _ = go_tx.send(true);
    let mut latencies = Vec::with_capacity(args.connections);
    let (mut received, mut lost, mut misrouted) = (0, 0, 0);
    let mut first_error = None;
    for task in tasks {
        let outcome = task.await.map_err(|e| e.to_string())?;
        received += outcome.received;
        lost += outcome.lost;
        misrouted += outcome.misrouted;
        latencies.extend(outcome.latency);
        if first_error.is_none() {
            first_error = outcome.error;
        }
    }
    if let Some(e) = first_error {
        eprintln!("first connection error: {e}");
    }
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    Ok(Report {
        connect_time,
        open_kb,
        failed,
        received,
        lost,
        misrouted,
        p50: pick(0.50),
        p99: pick(0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}

async fn flow(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    user: &str,
    run_id: &str,
) -> Outcome {
    let mut outcome = Outcome::default();
    let message = json!({"type": "user_message", "text": "load", "run_id": run_id});
    let sent = Instant::now();
    if let Err(e) = ws.send(Message::Text(message.to_string().into())).await {
        outcome.lost = FLOW.len();
        outcome.error = Some(e.to_string());
        return outcome;
    }
    let mut next = 0;
    while next < FLOW.len() {
        let text = match ws.next().await {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                outcome.error = Some(e.to_string());
                break;
            }
            None => break,
        };
        let event: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        if event["user_id"] != user || event["run_id"] != run_id {
            outcome.misrouted += 1;
            continue;
        }
        if event["type"] != FLOW[next] {
            outcome.error = Some(format!("expected {}, got {}", FLOW[next], event["type"]));
            break;
        }
        outcome.received += 1;
        next += 1;
    }
    outcome.lost = FLOW.len() - next;
    if next == FLOW.len() {
        outcome.latency = Some(sent.elapsed());
    }
    let _ = ws.close(None).await;
    outcome
}
