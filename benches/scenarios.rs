//! Benchmark: time per scenario in-process (parse, mint, spawn the embedded server,
//! handshake, flow, shutdown), over every example scenario. Run with
//! `cargo bench --bench scenarios` (optionally `-- <iterations>`). Loopback only.

use std::path::Path;
use std::time::{Duration, Instant};

use sockspec::environment::{Config, Endpoint, Secrets};
use sockspec::harness::{discover, execute};
use sockspec::scenario::{self, HandshakePlan, StepKind};

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(root).expect("valid sockspec.yaml");
    let env = config.environments.get("local").expect("local environment");
    let files = discover(&config.scenarios_dir).expect("scenarios");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut all = Vec::new();
    println!("{:<40} {:>10} {:>10}", "scenario", "median", "p90");
    for (id, path) in &files {
        let mut times = Vec::with_capacity(iterations);
        let mut waits = false;
        for _ in 0..iterations {
            let start = Instant::now();
            let plan = scenario::load(path, id).expect("valid example");
            // Scenarios that wait out a window by design are reported, not averaged.
            waits = matches!(plan.handshake, HandshakePlan::Timeout)
                || plan
                    .steps
                    .iter()
                    .any(|s| matches!(s.kind, StepKind::ExpectNone { .. }));
            let mut names = plan.required_secrets();
            if let Endpoint::Embedded(e) = &env.endpoint {
                names.push(e.jwt_secret.as_str());
            }
            let secrets =
                Secrets::resolve(env, names, &|v| std::env::var(v).ok()).expect("secrets");
            let outcome = runtime.block_on(execute(&plan, env, &secrets));
            assert!(
                outcome.failure.is_none(),
                "{id} failed: {:?}",
                outcome.failure
            );
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{id:<40} {:>10.2?} {:>10.2?}{}",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            if waits {
                "  (waits 300ms by design)"
            } else {
                ""
            }
        );
        if !waits {
            all.extend(times);
        }
    }
    all.sort();
    let median: Duration = all[all.len() / 2];
    println!(
        "\nscenarios that do not wait by design: {} runs, median {median:.2?}, p90 {:.2?}",
        all.len(),
        all[all.len() * 9 / 10]
    );
}
