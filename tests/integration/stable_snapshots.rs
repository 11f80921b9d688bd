//! A correct server whose streams interleave differently on every run gives one snapshot:
//! `scenarios/protocol/interleaved_streams.yaml` (two subscriptions with random timing, one
//! `where`-filtered sequence per stream) runs 100 times through the one run entry point; the
//! arrival orders differ between runs, the snapshot texts do not.

use std::collections::BTreeSet;
use std::path::Path;

use sockspec::environment::Config;
use sockspec::harness::{RunOutcome, run};
use sockspec::transcript::{Event, Frame};

const RUNS: usize = 100;

#[test]
fn an_interleaving_server_gives_one_snapshot_in_100_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(root).expect("sockspec.yaml");
    let env = &config.environments["local"];
    let path = config
        .scenarios_dir
        .join("protocol/interleaved_streams.yaml");
    let plan = sockspec::scenario::load(&path, "protocol/interleaved_streams").expect("valid");
    let mut snapshots = BTreeSet::new();
    let mut orders = BTreeSet::new();
    for i in 0..RUNS {
        let r = run(&plan, env, &|_| None);
        assert!(
            matches!(r.outcome, RunOutcome::Passed),
            "run {i}: {:?}",
            r.outcome
        );
        snapshots.insert(r.snapshot_text(&plan).expect("a transcript"));
        // The order in which the two streams' messages arrived, as a string of ids.
        let order: String = r
            .transcript
            .expect("a transcript")
            .entries
            .iter()
            .filter_map(|e| match &e.event {
                Event::Received {
                    frame: Frame::Json(v),
                    ..
                } => v["id"].as_str().map(|id| id.chars().last().unwrap_or('?')),
                _ => None,
            })
            .collect();
        orders.insert(order);
    }
    assert!(
        orders.len() > 1,
        "the server interleaved the streams the same way in all {RUNS} runs: {orders:?}"
    );
    assert_eq!(
        snapshots.len(),
        1,
        "{} different snapshots in {RUNS} runs ({} different arrival orders)",
        snapshots.len(),
        orders.len()
    );
}
