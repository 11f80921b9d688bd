//! Owns running a property: case counts (`SOCKSPEC_FUZZ_CASES`), the seed
//! (`SOCKSPEC_FUZZ_SEED`), the hang watchdog (`SOCKSPEC_FUZZ_CASE_LIMIT_SECS`: a case that
//! runs longer aborts the process with its input printed) and the statistics line of each run.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// Cases per property: `SOCKSPEC_FUZZ_CASES`, or `default` (sized for a quick CI run).
pub fn cases(default: u32) -> u32 {
    std::env::var("SOCKSPEC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

pub fn seed() -> u64 {
    std::env::var("SOCKSPEC_FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(Instant::now())
        })
}

pub fn case_limit() -> Duration {
    let secs = std::env::var("SOCKSPEC_FUZZ_CASE_LIMIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// A copy of a case's input, formatted only if the case hangs (formatting every input
/// would cost more than running most cases).
pub type Input = Box<dyn Debug + Send>;

/// Aborts the process, printing the input, when one case runs longer than the limit: a hang
/// must be reported with its input, not as a test that never ends.
pub struct Watchdog {
    tx: mpsc::Sender<Option<Input>>,
}

impl Watchdog {
    fn new(property: &'static str, limit: Duration) -> Self {
        let (tx, rx) = mpsc::channel::<Option<Input>>();
        std::thread::spawn(move || {
            // `Some(input)`: a case started; `None`: it ended.
            while let Ok(started) = rx.recv() {
                let Some(input) = started else { continue };
                match rx.recv_timeout(limit) {
                    Ok(_) => {}
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        eprintln!(
                            "fuzz: {property}: one case ran for more than {limit:?} (a hang?); input:\n{input:#?}"
                        );
                        std::process::abort();
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        Watchdog { tx }
    }

    fn watch(&self, input: Input) -> WatchGuard<'_> {
        let _ = self.tx.send(Some(input));
        WatchGuard(self)
    }
}

pub struct WatchGuard<'a>(&'a Watchdog);

impl Drop for WatchGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.tx.send(None);
    }
}

/// Runs `property` on `cases` inputs from `strategy`; panics (failing the test) with the
/// shrunk input on the first failure or panic.
pub fn fuzz<S: Strategy>(
    name: &'static str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug + Clone + Send + 'static,
{
    let seed = seed();
    let cases = cases(default_cases);
    let config = Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let watchdog = Watchdog::new(name, case_limit());
    let executions = AtomicU64::new(0);
    let slowest = AtomicU64::new(0);
    let start = Instant::now();
    let result = runner.run(&strategy, |input| {
        let _guard = watchdog.watch(Box::new(input.clone()));
        let t = Instant::now();
        let outcome = property(input);
        let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        slowest.fetch_max(micros, Ordering::Relaxed);
        executions.fetch_add(1, Ordering::Relaxed);
        outcome
    });
    eprintln!(
        "fuzz: {name}: {cases} cases, {} executions in {:.2?} (slowest {:.2?}), seed {seed}",
        executions.load(Ordering::Relaxed),
        start.elapsed(),
        Duration::from_micros(slowest.load(Ordering::Relaxed)),
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => {
            panic!("{name} failed (SOCKSPEC_FUZZ_SEED={seed}): {reason}\nminimal input: {input:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("{name} aborted: {reason}"),
    }
}
