//! Benchmark: sockspec against the Python stack and a bare client, on one generated corpus
//! (issue 13, "Fast where it matters"). Not a timed test: it prints numbers, and fails only
//! when a leg does not pass.
//!
//! For each N it generates an N-scenario corpus into a temp dir (70% full agent flows like
//! `scenarios/agent/full_flow.yaml`, with heartbeats ignored; 10% each of no token, wrong
//! secret, expired token, each an expected 403 with its `detail`), a `sockspec.yaml` pointing
//! at one `sockspec serve` this bench starts on a free loopback port, and a cargo harness
//! (`Cargo.toml` depending on sockspec by path, `tests/scenarios.rs` calling
//! `sockspec::harness::main`), accepts the snapshots once, then times, interleaved, several
//! runs of each leg:
//!
//! - `sockspec test` (the binary built with this bench: release under `cargo bench`);
//! - `cargo nextest run --release` and `cargo nextest run` (dev) of the generated harness;
//! - the nextest floor: as many libtest-mimic tests that do nothing, `cargo nextest run
//!   --release` (what a process per test costs here before any harness does anything);
//! - the same work with tokio-tungstenite + jsonwebtoken and nothing else (mint, connect, send,
//!   the five events ignoring heartbeats, close; the three 403 checks), one at a time and 8 at
//!   a time, in this process;
//! - the Python stack (`../shared/bench/pytest_suite`, pytest + websockets + PyJWT) when its
//!   venv exists (`SOCKSPEC_COMPARE_VENV`, default `/tmp/bench-venv`), else skipped with a
//!   message.
//!
//! It prints wall time, client CPU per scenario (user + system of the child, from `wait4`, or
//! of this process for the bare client), peak RSS, medians with min–max, and the ratios of
//! the targets; then the cost of one scenario's process beyond the scenario (`--exact` of a
//! trivial scenario vs. the same `harness::run` in this process).
//!
//! ```sh
//! scripts/compare.sh                                   # N = 200 and 1000, 5 runs each
//! cargo bench --bench compare -- n=200 runs=3 jobs=1,2,4,8,16 threads=2,4,8,16
//! cargo bench --profile dev --bench compare -- smoke   # CI: N = 10, one run, no cargo legs
//! ```
//!
//! Arguments: `smoke`, `n=200,1000`, `runs=5`, `no-nextest`, `no-dev`, `no-python`,
//! `jobs=LIST` (a `sockspec test --jobs` sweep), `threads=LIST` (a nextest `--test-threads`
//! sweep), `keep` (leave the corpus). Loopback only.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt as _, StreamExt as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// The bench's JWT secret (the server's and the corpus's).
const SECRET: &str = "compare-bench-hs256-secret-at-least-32-bytes";
const EVENTS: [&str; 5] = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
];

struct Options {
    smoke: bool,
    ns: Vec<usize>,
    runs: usize,
    nextest: bool,
    dev: bool,
    python: bool,
    jobs: Vec<usize>,
    threads: Vec<usize>,
    keep: bool,
}

impl Options {
    fn parse() -> Options {
        let mut o = Options {
            smoke: false,
            ns: vec![200, 1000],
            runs: 5,
            nextest: true,
            dev: true,
            python: true,
            jobs: Vec::new(),
            threads: Vec::new(),
            keep: false,
        };
        let list =
            |v: &str| -> Vec<usize> { v.split(',').filter_map(|x| x.parse().ok()).collect() };
        // cargo bench passes `--bench`; anything unknown is ignored.
        for arg in std::env::args().skip(1) {
            match arg.split_once('=') {
                Some(("n", v)) => o.ns = list(v),
                Some(("runs", v)) => o.runs = v.parse().unwrap_or(o.runs).max(1),
                Some(("jobs", v)) => o.jobs = list(v),
                Some(("threads", v)) => o.threads = list(v),
                _ => match arg.as_str() {
                    "smoke" => {
                        o.smoke = true;
                        o.ns = vec![10];
                        o.runs = 1;
                        o.nextest = false;
                        o.dev = false;
                        o.python = false;
                    }
                    "no-nextest" => o.nextest = false,
                    "no-dev" => o.dev = false,
                    "no-python" => o.python = false,
                    "keep" => o.keep = true,
                    _ => {}
                },
            }
        }
        o
    }
}

/// One timed run of one leg.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
}

fn main() {
    let o = Options::parse();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sockspec = PathBuf::from(env!("CARGO_BIN_EXE_sockspec"));
    let port = free_port();
    let mut server = Command::new(&sockspec)
        .args(["serve", "--port", &port.to_string()])
        .env("JWT_SECRET_KEY", SECRET)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sockspec serve starts");
    wait_for_port(port);
    println!(
        "sockspec serve on 127.0.0.1:{port}; sockspec binary {}; {} cores",
        sockspec.display(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );

    let venv = PathBuf::from(
        std::env::var("SOCKSPEC_COMPARE_VENV").unwrap_or_else(|_| "/tmp/bench-venv".into()),
    );
    let suite = std::env::var("SOCKSPEC_COMPARE_SUITE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo.join("../shared/bench/pytest_suite"));
    let python = o.python && venv.join("bin/pytest").is_file() && suite.is_dir();
    if o.python && !python {
        println!(
            "python row skipped: no {} or no {} (scripts/compare.sh creates the venv)",
            venv.join("bin/pytest").display(),
            suite.display()
        );
    }
    let nextest = o.nextest && cargo_nextest_available();
    if o.nextest && !nextest {
        println!("nextest rows skipped: `cargo nextest` is not installed");
    }

    let mut failed = false;
    for &n in &o.ns {
        let corpus = Corpus::generate(repo, n, port);
        corpus.accept(&sockspec);
        let mut legs: Vec<Leg> = Vec::new();
        if python {
            legs.push(Leg::Python {
                pytest: venv.join("bin/pytest"),
                suite: suite.clone(),
            });
        }
        legs.push(Leg::SockspecTest { jobs: None });
        for &j in &o.jobs {
            legs.push(Leg::SockspecTest { jobs: Some(j) });
        }
        if nextest {
            corpus.build(true);
            legs.push(Leg::NextestFloor);
            legs.push(Leg::Nextest {
                release: true,
                threads: None,
            });
            for &t in &o.threads {
                legs.push(Leg::Nextest {
                    release: true,
                    threads: Some(t),
                });
            }
            if o.dev {
                corpus.build(false);
                legs.push(Leg::Nextest {
                    release: false,
                    threads: None,
                });
            }
        }
        legs.push(Leg::Bare { at_once: 1 });
        legs.push(Leg::Bare { at_once: 8 });

        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); legs.len()];
        for run in 0..o.runs {
            // Interleaved: drift on this shared machine hits every leg alike.
            for (i, leg) in legs.iter().enumerate() {
                match leg.run(&corpus, &sockspec, port) {
                    Ok(s) => samples[i].push(s),
                    Err(e) => {
                        println!("N={n} run {run}: {} FAILED: {e}", leg.name());
                        failed = true;
                    }
                }
            }
        }
        print!("{}", table(n, &legs, &samples));
        if nextest && !o.smoke {
            print!("{}", corpus.process_overhead(true));
            if o.dev {
                print!("{}", corpus.process_overhead(false));
            }
        }
        if o.keep {
            println!("corpus kept in {}", corpus.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&corpus.dir);
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    if failed {
        std::process::exit(1);
    }
}

enum Leg {
    Python {
        pytest: PathBuf,
        suite: PathBuf,
    },
    SockspecTest {
        jobs: Option<usize>,
    },
    Nextest {
        release: bool,
        threads: Option<usize>,
    },
    /// The same number of tests that do nothing, under nextest in release: what a process per
    /// test costs here before any harness does anything.
    NextestFloor,
    Bare {
        at_once: usize,
    },
}

impl Leg {
    fn name(&self) -> String {
        match self {
            Leg::Python { .. } => "python (pytest + websockets)".into(),
            Leg::SockspecTest { jobs: None } => "sockspec test".into(),
            Leg::SockspecTest { jobs: Some(j) } => format!("sockspec test -j {j}"),
            Leg::Nextest {
                release: true,
                threads: None,
            } => "cargo nextest run --release".into(),
            Leg::Nextest {
                release: true,
                threads: Some(t),
            } => format!("cargo nextest run --release -j {t}"),
            Leg::Nextest { release: false, .. } => "cargo nextest run (dev)".into(),
            Leg::NextestFloor => "nextest floor: no-op tests, release".into(),
            Leg::Bare { at_once } => format!("bare client, {at_once} at a time"),
        }
    }

    fn run(&self, corpus: &Corpus, sockspec: &Path, port: u16) -> Result<Sample, String> {
        match self {
            Leg::Python { pytest, suite } => {
                let mut cmd = Command::new(pytest);
                cmd.args(["-q", "-p", "no:cacheprovider"])
                    .arg(suite)
                    .env("PERF_PORT", port.to_string())
                    .env("PERF_SECRET", SECRET)
                    .env("PERF_N", corpus.n.to_string());
                timed(cmd)
            }
            Leg::SockspecTest { jobs } => {
                let mut cmd = Command::new(sockspec);
                cmd.arg("--root")
                    .arg(&corpus.dir)
                    .args(["test", "--env", "bench"]);
                if let Some(j) = jobs {
                    cmd.args(["--jobs", &j.to_string()]);
                }
                corpus.env(&mut cmd);
                timed(cmd)
            }
            Leg::NextestFloor => timed(corpus.cargo(
                &["nextest", "run", "--no-fail-fast", "--test", "floor"],
                true,
            )),
            Leg::Nextest { release, threads } => {
                let mut cmd = corpus.cargo(
                    &["nextest", "run", "--no-fail-fast", "--test", "scenarios"],
                    *release,
                );
                if let Some(t) = threads {
                    cmd.args(["--test-threads", &t.to_string()]);
                }
                timed(cmd)
            }
            Leg::Bare { at_once } => bare(corpus.n, port, *at_once),
        }
    }
}

/// Runs `cmd` (output captured), waits with `wait4`: wall time, the child's CPU and peak RSS.
fn timed(mut cmd: Command) -> Result<Sample, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let (status, usage, out) = wait4(child);
    let wall = start.elapsed();
    if !status.success() {
        let tail: String = out
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(format!("{cmd:?} exited with {status}:\n{tail}"));
    }
    Ok(Sample {
        wall,
        cpu: cpu_of(&usage),
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// Waits for `child` with `wait4` (its own rusage, including its waited-for descendants),
/// reading its output meanwhile.
fn wait4(mut child: Child) -> (ExitStatus, libc::rusage, String) {
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    })
    .collect();
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unreaped child; `status` and `usage` are valid for writes.
    let rc = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let out = readers
        .into_iter()
        .map(|h| h.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    (ExitStatus::from_raw(status), usage, out)
}

fn cpu_of(u: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn self_usage() -> libc::rusage {
    // SAFETY: a zeroed rusage is valid; getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut usage) };
    usage
}

/// What one case of the corpus is.
#[derive(Clone, Copy)]
enum Case {
    Flow,
    NoToken,
    WrongSecret,
    Expired,
}

/// The mix of the Python suite: N/10 of each negative kind, the rest full flows.
fn cases(n: usize) -> Vec<(Case, usize)> {
    let neg = n / 10;
    let mut all: Vec<(Case, usize)> = (0..n - 3 * neg).map(|i| (Case::Flow, i)).collect();
    for kind in [Case::NoToken, Case::WrongSecret, Case::Expired] {
        all.extend((0..neg).map(|i| (kind, i)));
    }
    all
}

struct Corpus {
    dir: PathBuf,
    n: usize,
    target: PathBuf,
}

impl Corpus {
    fn generate(repo: &Path, n: usize, port: u16) -> Corpus {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sockspec-compare-{n}-{}-{nanos}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["scenarios/flow", "scenarios/reject", "snapshots", "tests"] {
            std::fs::create_dir_all(dir.join(sub)).expect("corpus dir");
        }
        let write = |rel: &str, text: &str| {
            std::fs::write(dir.join(rel), text).expect("corpus file written");
        };
        write(
            "sockspec.yaml",
            &format!(
                "scenarios: scenarios\nsnapshots: snapshots\nenvironments:\n  bench:\n    local: true\n    \
                 ws_url: ws://127.0.0.1:{port}\n    http_url: http://127.0.0.1:{port}\n    secrets:\n      \
                 jwt: {{env: [PERF_SECRET]}}\n      wrong_jwt: {{default: a-secret-the-server-does-not-know}}\n"
            ),
        );
        for (case, i) in cases(n) {
            let (rel, text) = match case {
                Case::Flow => (
                    format!("scenarios/flow/f{i:04}.yaml"),
                    format!(
                        "name: Full agent flow {i}\nauth:\n  jwt:\n    secret: jwt\n    claims: {{sub: perf-user-{i:04}, email: perf-user-{i:04}@perf.example}}\n    \
                         expires_in: 10m\nsteps:\n  - send: {{type: user_message, text: \"scenario {i}: analyse my cloud costs\", heartbeats: true}}\n  \
                         - expect_sequence:\n      ignore: {{type: heartbeat}}\n      events:\n{}      within: 10s\n",
                        EVENTS
                            .iter()
                            .fold(String::new(), |mut s, e| {
                                let _ = writeln!(s, "        - {{type: {e}}}");
                                s
                            })
                    ),
                ),
                Case::NoToken => (
                    format!("scenarios/reject/no_token_{i:04}.yaml"),
                    "auth: none\nhandshake:\n  rejected:\n    status: 403\n    body: {detail: No token provided}\n".into(),
                ),
                Case::WrongSecret => (
                    format!("scenarios/reject/wrong_secret_{i:04}.yaml"),
                    format!(
                        "auth:\n  jwt: {{secret: wrong_jwt, claims: {{sub: perf-user-w{i:04}}}}}\nhandshake:\n  rejected:\n    status: 403\n    \
                         body: {{detail: Invalid or expired token}}\n"
                    ),
                ),
                Case::Expired => (
                    format!("scenarios/reject/expired_{i:04}.yaml"),
                    format!(
                        "auth:\n  jwt: {{secret: jwt, claims: {{sub: perf-user-e{i:04}}}, expires_in: -1h}}\nhandshake:\n  rejected:\n    status: 403\n    \
                         body: {{detail: Invalid or expired token}}\n"
                    ),
                ),
            };
            write(&rel, &text);
        }
        // The cargo harness `sockspec init --cargo` would write (docs/performance.md), with
        // this repository's lock file so the dependencies built for it are reused.
        write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"compare-corpus\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [[test]]\nname = \"scenarios\"\npath = \"tests/scenarios.rs\"\nharness = false\n\n\
                 [[test]]\nname = \"floor\"\npath = \"tests/floor.rs\"\nharness = false\n\n\
                 [dev-dependencies]\nsockspec = {{ path = {:?} }}\nlibtest-mimic = \"0.8\"\n\n[workspace]\n\n{}",
                repo.display().to_string(),
                harness_profile(repo)
            ),
        );
        write(
            "tests/scenarios.rs",
            "fn main() -> std::process::ExitCode {\n    sockspec::harness::main(std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")))\n}\n",
        );
        // The floor: as many libtest-mimic tests as scenarios, each doing nothing.
        write(
            "tests/floor.rs",
            &format!(
                "fn main() -> std::process::ExitCode {{\n    let args = libtest_mimic::Arguments::from_args();\n    \
                 let trials = (0..{n}).map(|i| libtest_mimic::Trial::test(format!(\"noop{{i:04}}\"), || Ok(()))).collect();\n    \
                 libtest_mimic::run(&args, trials).exit_code()\n}}\n"
            ),
        );
        let _ = std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock"));
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from);
        Corpus { dir, n, target }
    }

    /// The variables every run of the corpus gets.
    fn env(&self, cmd: &mut Command) {
        cmd.env("PERF_SECRET", SECRET)
            .env("SOCKSPEC_ENV", "bench")
            .env("CI", "true")
            .env("RUST_BACKTRACE", "0")
            .env("INSTA_WORKSPACE_ROOT", &self.dir)
            .env_remove("INSTA_UPDATE")
            .env_remove("SOCKSPEC_ACCEPT");
    }

    fn cargo(&self, args: &[&str], release: bool) -> Command {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args)
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never");
        if release {
            cmd.arg("--release");
        }
        self.env(&mut cmd);
        cmd
    }

    /// Writes every snapshot once (insta's `INSTA_UPDATE=always`; `SOCKSPEC_ACCEPT=1` for the
    /// accept mechanism replacing it), then checks that a CI run passes.
    fn accept(&self, sockspec: &Path) {
        let mut cmd = Command::new(sockspec);
        cmd.arg("--root")
            .arg(&self.dir)
            .args(["test", "--env", "bench"]);
        self.env(&mut cmd);
        cmd.env_remove("CI")
            .env("INSTA_UPDATE", "always")
            .env("SOCKSPEC_ACCEPT", "1");
        let _ = timed(cmd);
        let mut check = Command::new(sockspec);
        check
            .arg("--root")
            .arg(&self.dir)
            .args(["test", "--env", "bench"]);
        self.env(&mut check);
        if let Err(e) = timed(check) {
            panic!("the corpus does not pass after accepting its snapshots: {e}");
        }
    }

    /// Builds the generated harness (not timed).
    fn build(&self, release: bool) {
        let started = Instant::now();
        let mut cmd = self.cargo(&["build", "--tests", "--quiet"], release);
        cmd.stdout(Stdio::null());
        let ok = cmd.status().is_ok_and(|s| s.success());
        assert!(ok, "the generated cargo harness does not build");
        println!(
            "built the generated harness ({}) in {:.1?}",
            if release { "release" } else { "dev" },
            started.elapsed()
        );
    }

    /// The test executable of the generated harness.
    fn executable(&self, release: bool) -> Option<PathBuf> {
        let out = self
            .cargo(
                &[
                    "test",
                    "--no-run",
                    "--quiet",
                    "--message-format=json",
                    "--test",
                    "scenarios",
                ],
                release,
            )
            .stderr(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v.get("executable")?.as_str().map(PathBuf::from))
            .next_back()
    }

    /// The cost of a scenario's process beyond the scenario: `--exact` of a 403 scenario, as
    /// nextest runs it, against the same `harness::run` in this process.
    fn process_overhead(&self, release: bool) -> String {
        let profile = if release { "release" } else { "dev" };
        let Some(exe) = self.executable(release) else {
            return format!("process overhead ({profile}): no test executable found\n");
        };
        let name = "bench::reject/no_token_0000";
        let times = 30;
        let mut process = Vec::new();
        for _ in 0..times {
            let mut cmd = Command::new(&exe);
            cmd.args(["--exact", name, "--nocapture"])
                .env("NEXTEST", "1")
                .current_dir(&self.dir);
            self.env(&mut cmd);
            match timed(cmd) {
                Ok(s) => process.push(s.wall),
                Err(e) => return format!("process overhead ({profile}): {e}\n"),
            }
        }
        // The in-process twin: the same plan and environment, `harness::run` only.
        let config = sockspec::environment::Config::load(&self.dir).expect("corpus config");
        let env = config.environments.get("bench").expect("bench environment");
        let plan = sockspec::scenario::load(
            &self.dir.join("scenarios/reject/no_token_0000.yaml"),
            "reject/no_token_0000",
        )
        .expect("corpus scenario");
        let lookup = |var: &str| {
            if var == "PERF_SECRET" {
                Some(SECRET.to_owned())
            } else {
                sockspec::harness::process_env(var)
            }
        };
        let mut inside = Vec::new();
        for _ in 0..times {
            let start = Instant::now();
            let run = sockspec::harness::run(&plan, env, &lookup);
            inside.push(start.elapsed());
            assert!(
                matches!(run.outcome, sockspec::harness::RunOutcome::Passed),
                "{:?}",
                run.outcome
            );
        }
        let (p, i) = (median(&mut process), median(&mut inside));
        format!(
            "process overhead, {profile} (harness built {}): `--exact` {:.2} ms, in-process run {:.2} ms → {:.2} ms per scenario process (this binary is built {})\n",
            profile,
            ms(p),
            ms(i),
            ms(p.saturating_sub(i)),
            if cfg!(debug_assertions) {
                "dev"
            } else {
                "release"
            }
        )
    }
}

/// The profile settings of this repository's `Cargo.toml` (the generated harness must build
/// its dependencies the same way to reuse them, and so would a user's harness).
fn harness_profile(repo: &Path) -> String {
    let text = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap_or_default();
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with('[') {
            inside = line.starts_with("[profile.");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median with min–max of each leg, then the targets' ratios.
fn table(n: usize, legs: &[Leg], samples: &[Vec<Sample>]) -> String {
    let mut out = String::new();
    let runs = samples.iter().map(Vec::len).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "\nN = {n} scenarios, {runs} run(s) per leg: median [min – max]"
    );
    let _ = writeln!(
        out,
        "{:<34} {:>26} {:>28} {:>12}",
        "leg", "wall s", "client CPU ms/scenario", "peak RSS MB"
    );
    let mut medians = Vec::new();
    for (leg, s) in legs.iter().zip(samples) {
        if s.is_empty() {
            let _ = writeln!(out, "{:<34} (failed)", leg.name());
            medians.push(None);
            continue;
        }
        let mut wall: Vec<f64> = s.iter().map(|x| x.wall.as_secs_f64()).collect();
        let mut cpu: Vec<f64> = s.iter().map(|x| ms(x.cpu) / n as f64).collect();
        let rss = s.iter().map(|x| x.max_rss_kib).max().unwrap_or(0);
        let (w, c) = (stats(&mut wall), stats(&mut cpu));
        let _ = writeln!(
            out,
            "{:<34} {:>26} {:>28} {:>12}",
            leg.name(),
            format!("{:.3} [{:.3} – {:.3}]", w.0, w.1, w.2),
            format!("{:.3} [{:.3} – {:.3}]", c.0, c.1, c.2),
            if matches!(leg, Leg::Bare { .. }) {
                "-".to_string()
            } else {
                format!("{:.1}", rss as f64 / 1024.0)
            }
        );
        medians.push(Some((w.0, c.0)));
    }
    let find = |pred: &dyn Fn(&Leg) -> bool| {
        legs.iter()
            .zip(&medians)
            .find(|(l, _)| pred(l))
            .and_then(|(_, m)| *m)
    };
    let python = find(&|l| matches!(l, Leg::Python { .. }));
    let test = find(&|l| matches!(l, Leg::SockspecTest { jobs: None }));
    let release = find(&|l| {
        matches!(
            l,
            Leg::Nextest {
                release: true,
                threads: None
            }
        )
    });
    let dev = find(&|l| matches!(l, Leg::Nextest { release: false, .. }));
    let floor = find(&|l| matches!(l, Leg::NextestFloor));
    let bare = find(&|l| matches!(l, Leg::Bare { at_once: 8 }));
    let _ = writeln!(out, "targets at N = {n}:");
    if let (Some(p), Some(t)) = (python, test) {
        let _ = writeln!(
            out,
            "  python / sockspec test wall      {:>7.1}×   (target ≥ 10)",
            p.0 / t.0
        );
    }
    if let (Some(t), Some(b)) = (test, bare) {
        let _ = writeln!(
            out,
            "  sockspec test / bare client CPU  {:>7.2}×   (target ≤ 3)",
            t.1 / b.1
        );
    }
    if let (Some(p), Some(r)) = (python, release) {
        let _ = writeln!(
            out,
            "  python / nextest --release wall  {:>7.2}×   (target ≥ 2)",
            p.0 / r.0
        );
    }
    if let (Some(p), Some(d)) = (python, dev) {
        let _ = writeln!(
            out,
            "  python / nextest (dev) wall      {:>7.2}×   (target ≥ 1)",
            p.0 / d.0
        );
    }
    if let (Some(p), Some(f)) = (python, floor) {
        let _ = writeln!(
            out,
            "  python / nextest floor wall      {:>7.2}×   (the most any harness could reach here)",
            p.0 / f.0
        );
    }
    if let (Some(r), Some(f)) = (release, floor) {
        let _ = writeln!(
            out,
            "  nextest --release beyond the floor: {:.3} ms wall per scenario",
            (r.0 - f.0) * 1000.0 / n as f64
        );
    }
    if let Some(t) = test {
        let _ = writeln!(
            out,
            "  sockspec test per scenario: {:.3} ms wall, {:.3} ms CPU",
            t.0 * 1000.0 / n as f64,
            t.1
        );
    }
    out
}

/// (median, min, max).
fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (
        v[v.len() / 2],
        v.first().copied().unwrap_or_default(),
        v.last().copied().unwrap_or_default(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sockspec serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cargo_nextest_available() -> bool {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------- the bare client

/// The corpus's work with tokio-tungstenite + jsonwebtoken only, `at_once` at a time, on one
/// current-thread runtime in this process; CPU is this process's.
fn bare(n: usize, port: u16, at_once: usize) -> Result<Sample, String> {
    let before = self_usage();
    let start = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let results: Vec<Result<(), String>> = runtime.block_on(
        futures_util::stream::iter(cases(n))
            .map(|(case, i)| bare_case(port, case, i))
            .buffer_unordered(at_once)
            .collect(),
    );
    drop(runtime);
    let wall = start.elapsed();
    let after = self_usage();
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e);
    }
    let _ = std::io::stdout().flush();
    Ok(Sample {
        wall,
        cpu: cpu_of(&after).saturating_sub(cpu_of(&before)),
        max_rss_kib: 0,
    })
}

fn mint(sub: &str, secret: &str, exp_offset: i64) -> Result<String, String> {
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs(),
    )
    .map_err(|e| e.to_string())?;
    let claims = json!({
        "sub": sub,
        "email": format!("{sub}@perf.example"),
        "iat": now,
        "exp": now + exp_offset,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

async fn bare_case(port: u16, case: Case, i: usize) -> Result<(), String> {
    let sub = format!("perf-user-{i:04}");
    let (token, detail) = match case {
        Case::Flow => (Some(mint(&sub, SECRET, 600)?), None),
        Case::NoToken => (None, Some("No token provided")),
        Case::WrongSecret => (
            Some(mint(&sub, "a-secret-the-server-does-not-know", 600)?),
            Some("Invalid or expired token"),
        ),
        Case::Expired => (
            Some(mint(&sub, SECRET, -3600)?),
            Some("Invalid or expired token"),
        ),
    };
    let mut request = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if let Some(t) = &token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().map_err(|_| "header")?,
        );
    }
    let connected = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?;
    match (detail, connected) {
        (Some(detail), Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or(&[]))
                .map_err(|e| format!("403 body: {e}"))?;
            if response.status() == 403 && body == json!({"detail": detail}) {
                Ok(())
            } else {
                Err(format!("case {i}: got {} {body}", response.status()))
            }
        }
        (Some(_), other) => Err(format!("case {i}: expected a 403, got {other:?}")),
        (None, Ok((mut ws, _))) => {
            let text = json!({
                "type": "user_message",
                "text": format!("scenario {i}: analyse my cloud costs"),
                "heartbeats": true,
            })
            .to_string();
            ws.send(Message::text(text))
                .await
                .map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            let events = async {
                while let Some(m) = ws.next().await {
                    let Message::Text(t) = m.map_err(|e| e.to_string())? else {
                        continue;
                    };
                    let v: Value = serde_json::from_str(&t).map_err(|e| e.to_string())?;
                    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
                    if kind == "heartbeat" {
                        continue;
                    }
                    got.push(kind.to_owned());
                    if kind == "agent_completed" {
                        break;
                    }
                }
                Ok::<_, String>(())
            };
            tokio::time::timeout(Duration::from_secs(10), events)
                .await
                .map_err(|_| "events timed out".to_string())??;
            if got != EVENTS {
                return Err(format!("case {i}: events {got:?}"));
            }
            ws.close(None).await.map_err(|e| e.to_string())?;
            while let Some(Ok(_)) = ws.next().await {}
            Ok(())
        }
        (None, Err(e)) => Err(format!("case {i}: {e}")),
    }
}
