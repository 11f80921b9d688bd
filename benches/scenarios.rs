//! Benchmark: time per scenario in-process (parse, secrets, runtime, mint, spawn the embedded
//! server, handshake, flow, teardown, shutdown: one `harness::run`, the entry point the tests
//! use), over every example scenario. Run with `cargo bench --bench scenarios` (optionally
//! `-- <iterations>`); `.ci/run` runs it once with one iteration so it cannot rot. Loopback only.

use std::path::Path;
use std::time::{Duration, Instant};

use sockspec::environment::Config;
use sockspec::harness::{RunOutcome, discover, process_env, run};
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
            let outcome = run(&plan, env, &process_env).outcome;
            assert!(
                matches!(outcome, RunOutcome::Passed),
                "{id} did not pass: {outcome:?}"
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
