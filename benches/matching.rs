//! Benchmark: matching interleaved streams. A loopback WebSocket server (written here, so the
//! reference server's own costs stay out) sends `N` messages of 10 streams interleaved
//! round-robin, as fast as it can; the scenario matches them with 10 `where`-filtered
//! `expect_sequence` steps, each one counted event (`{repeat: {type: next}, count: N/10}`).
//! The first step reads the whole socket (its stream's last message is near the end), so the
//! other nine match from a buffer of `N` messages.
//!
//! Each size runs `ITERATIONS` times through `harness::run` (the entry point the tests use);
//! the report gives, per size, min/median/max of (a) the whole run, (b) reading and matching,
//! from the transcript (first message received to last claim), (c) matching the buffered
//! messages (end of step 1, which read nearly everything, to the last claim: steps 2–10 match
//! from the buffer; for the baseline, one step, it is zero), and the cost per message of (b),
//! which stays flat when matching is linear. A baseline run at each size
//! (one step: `{repeat: {}, count: N}`, no `where`) is measured in the same go.
//!
//! `cargo bench --bench matching` (release); `-- <iterations> <sizes…>` to change them.
//! `.ci/run` runs it once with tiny sizes so it cannot rot. Loopback only.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use sockspec::environment::Config;
use sockspec::harness::{RunOutcome, run};
use sockspec::transcript::Event;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const STREAMS: usize = 10;

/// Serves every connection: sends `n` messages of `STREAMS` streams, round-robin.
async fn serve(listener: TcpListener, n: usize) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            for k in 0..n {
                let text = format!(
                    r#"{{"type":"next","id":"s{}","seq":{},"payload":{{"v":{k}}}}}"#,
                    k % STREAMS,
                    k / STREAMS
                );
                if ws.feed(Message::text(text)).await.is_err() {
                    return;
                }
            }
            let _ = ws.flush().await;
            // Keep the connection open until the client closes it.
            use futures_util::StreamExt;
            while let Some(Ok(_)) = ws.next().await {}
        });
    }
}

fn scenario(n: usize, filtered: bool) -> String {
    let mut yaml = String::from("steps:\n");
    if filtered {
        for s in 0..STREAMS {
            yaml.push_str(&format!(
                "  - expect_sequence:\n      where: {{id: s{s}}}\n      within: 60s\n      events: [{{repeat: {{type: next}}, count: {}}}]\n",
                n / STREAMS
            ));
        }
    } else {
        yaml.push_str(&format!(
            "  - expect_sequence:\n      within: 60s\n      events: [{{repeat: {{}}, count: {n}}}]\n"
        ));
    }
    yaml
}

/// One run: (whole run, reading and matching, matching of the buffered messages).
fn once(addr: SocketAddr, n: usize, filtered: bool) -> (Duration, Duration, Duration) {
    let config = format!("environments:\n  bench:\n    ws_url: ws://{addr}\n");
    let config = Config::parse(&config, Path::new("."), Path::new("sockspec.yaml"))
        .expect("bench configuration");
    let env = &config.environments["bench"];
    let plan = sockspec::scenario::parse(&scenario(n, filtered), Path::new("bench.yaml"), "bench")
        .expect("bench scenario");
    let start = Instant::now();
    let result = run(&plan, env, &|_| None);
    let whole = start.elapsed();
    assert!(
        matches!(result.outcome, RunOutcome::Passed),
        "{n} messages: {:?}",
        result.outcome
    );
    let t = result.transcript.expect("a transcript");
    let first = t
        .entries
        .iter()
        .find(|e| matches!(e.event, Event::Received { .. }))
        .map(|e| e.at);
    // The end of the first step: from there on the other steps match what it buffered.
    let first_step_done = t
        .entries
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::Claimed { step: 0, .. }))
        .map(|e| e.at);
    let last = t
        .entries
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::Claimed { .. }))
        .map(|e| e.at);
    let span = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    (whole, span(first, last), span(first_step_done, last))
}

fn stats(mut xs: Vec<Duration>) -> (Duration, Duration, Duration) {
    xs.sort();
    (xs[0], xs[xs.len() / 2], xs[xs.len() - 1])
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let iterations = args.first().copied().unwrap_or(7).max(1);
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1_000, 10_000, 100_000]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{:>8} {:>9} {:>26} {:>26} {:>26} {:>10}",
        "messages",
        "kind",
        "run min/med/max",
        "read+match min/med/max",
        "buffered min/med/max",
        "r+m/msg"
    );
    for &n in &sizes {
        let n = n.max(STREAMS) / STREAMS * STREAMS;
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server = runtime.spawn(serve(listener, n));
        for (kind, filtered) in [("baseline", false), ("10 where", true)] {
            let (mut runs, mut matches, mut buffered) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..iterations {
                let (whole, matching, after_read) = once(addr, n, filtered);
                runs.push(whole);
                matches.push(matching);
                buffered.push(after_read);
            }
            let (r0, r1, r2) = stats(runs);
            let (m0, m1, m2) = stats(matches);
            let (b0, b1, b2) = stats(buffered);
            println!(
                "{n:>8} {kind:>9} {:>26} {:>26} {:>26} {:>7.2} µs",
                format!("{r0:.1?}/{r1:.1?}/{r2:.1?}"),
                format!("{m0:.1?}/{m1:.1?}/{m2:.1?}"),
                format!("{b0:.1?}/{b1:.1?}/{b2:.1?}"),
                m1.as_secs_f64() * 1e6 / n as f64
            );
        }
        server.abort();
    }
}
