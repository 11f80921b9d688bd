//! Owns the `doctor` command itself: its arguments, the shared deadline and secret names, the
//! order of the checks (secrets, then the service, remote or embedded), the `Doctor` state they
//! share, and the `Report` that prints each ✓/✗/– line redacted and counts them.

use std::collections::{BTreeMap, BTreeSet};

use super::network::{Base, Fetched, HostPort, clock};
use super::report::{DEADLINE, Report};
use crate::cli::support::{self, SetupError};
use crate::environment::{Endpoint, Environment, Secrets};
use crate::exit;
use crate::harness::spawn_embedded;
use crate::transcript::Redactor;

/// A remote environment's secret used to mint the probe token (embedded: `jwt_secret`).
pub(super) const JWT_SECRET: &str = "jwt";
/// A remote environment's secret holding the E2E bypass key (embedded: `bypass_key`).
const BYPASS_SECRET: &str = "bypass_key";

#[derive(Debug, clap::Args)]
pub(crate) struct DoctorArgs {
    /// The environment to check [default: local].
    #[arg(long, short = 'e')]
    env: Option<String>,
}

pub(crate) fn run(root: &std::path::Path, args: &DoctorArgs) -> u8 {
    let setup = || -> Result<_, SetupError> {
        let config = support::load_config(root)?;
        let env = support::environment(&config, args.env.as_deref())?.clone();
        Ok((env, support::runtime()?))
    };
    let (env, runtime) = match setup() {
        Ok(s) => s,
        Err(e) => {
            e.print();
            return exit::BAD_SELECTION;
        }
    };
    println!(
        "doctor: environment `{}` — {}",
        env.name,
        support::describe_endpoint(&env)
    );
    let report = runtime.block_on(diagnose(&env));
    println!(
        "doctor: {} passed, {} failed, {} not applicable",
        report.passed, report.failed, report.skipped
    );
    if report.failed == 0 {
        exit::SUCCESS
    } else {
        exit::CHECKS_FAILED
    }
}

async fn diagnose(env: &Environment) -> Report {
    let (secrets, _) = Secrets::resolve_declared(env);
    let mut report = Report::new(Redactor::from_secrets(&secrets));
    check_secrets(env, &secrets, &mut report);
    let (jwt_secret, bypass_secret) = match &env.endpoint {
        Endpoint::Embedded(e) => (Some(e.jwt_secret.clone()), e.bypass_key.clone()),
        Endpoint::Remote { .. } => (
            env.secrets
                .contains_key(JWT_SECRET)
                .then(|| JWT_SECRET.to_owned()),
            env.secrets
                .contains_key(BYPASS_SECRET)
                .then(|| BYPASS_SECRET.to_owned()),
        ),
    };
    let doctor = Doctor {
        env,
        secrets: &secrets,
        client: crate::http::client_builder()
            .timeout(DEADLINE)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new()),
        jwt_secret,
        bypass_secret,
    };
    match &env.endpoint {
        Endpoint::Remote { ws_base, http_base } => {
            doctor
                .service(ws_base, http_base.as_deref(), &mut report)
                .await;
        }
        Endpoint::Embedded(e) => match spawn_embedded(e, None, &secrets).await {
            Ok(server) => {
                report.pass(
                    "server",
                    format!("the embedded reference server listens on {}", server.addr()),
                );
                let http_base = server.http_base();
                doctor
                    .service(&server.ws_base(), Some(&http_base), &mut report)
                    .await;
                server.shutdown().await;
            }
            Err(f) => {
                report.fail(
                    "server",
                    format!("{} (the checks of the service need it)", f.message),
                );
            }
        },
    }
    report
}

fn check_secrets(env: &Environment, secrets: &Secrets, report: &mut Report) {
    if env.secrets.is_empty() {
        report.skip("secrets", "the environment declares none");
    }
    for (name, spec) in &env.secrets {
        match secrets.get(name) {
            Some(s) => report.pass("secret", format!("`{name}` {}", support::secret_source(s))),
            None => report.fail(
                "secret",
                format!(
                    "`{name}` is missing: none of its variables is set (tried {}), and it has \
                     no default",
                    spec.env.join(", ")
                ),
            ),
        }
    }
}

pub(super) struct Doctor<'a> {
    pub(super) env: &'a Environment,
    pub(super) secrets: &'a Secrets,
    pub(super) client: reqwest::Client,
    pub(super) jwt_secret: Option<String>,
    pub(super) bypass_secret: Option<String>,
}

impl Doctor<'_> {
    /// Every check of the service at `ws_base` / `http_base`.
    async fn service(&self, ws_base: &str, http_base: Option<&str>, report: &mut Report) {
        let ws = match Base::parse(ws_base) {
            Ok(b) => b,
            Err(e) => {
                report.fail("url", format!("the WebSocket base URL: {e}"));
                return;
            }
        };
        let http = match http_base.map(Base::parse).transpose() {
            Ok(b) => b,
            Err(e) => {
                report.fail("url", format!("the HTTP base URL: {e}"));
                None
            }
        };
        let hosts: BTreeSet<HostPort> = std::iter::once(ws.at.clone())
            .chain(http.iter().map(|h| h.at.clone()))
            .collect();
        let mut unreachable = BTreeSet::new();
        for at in &hosts {
            if !self.reach(at, report).await {
                unreachable.insert(at.clone());
            }
        }
        let down = |at: &HostPort| unreachable.contains(at);

        // TLS, and the GET whose `Date` header tells the server's clock.
        let mut fetched: BTreeMap<String, Result<Fetched, String>> = BTreeMap::new();
        let mut bases = vec![&ws];
        bases.extend(http.iter());
        let secure: Vec<&&Base> = bases.iter().filter(|b| b.secure).collect();
        if secure.is_empty() {
            report.skip(
                "tls",
                "not used: the environment's URLs are ws:// and http://",
            );
        }
        let mut seen = BTreeSet::new();
        for base in secure {
            let origin = base.http_origin();
            if !seen.insert(origin.clone()) {
                continue;
            }
            if down(&base.at) {
                report.skip("tls", format!("{}: not reachable (above)", base.at));
                continue;
            }
            let result = self.fetch(&origin).await;
            match &result {
                Ok(f) => report.pass(
                    "tls",
                    format!(
                        "{}: handshake and certificate accepted (GET / → {})",
                        base.at, f.status
                    ),
                ),
                Err(e) => report.fail("tls", format!("{}: {e}", base.at)),
            }
            fetched.insert(origin, result);
        }
        self.health(http.as_ref(), &down, report).await;
        let clock_base = http.as_ref().unwrap_or(&ws);
        if down(&clock_base.at) {
            report.skip("clock", format!("{}: not reachable (above)", clock_base.at));
        } else {
            let origin = clock_base.http_origin();
            match fetched.remove(&origin) {
                Some(Err(_)) => {
                    report.skip("clock", "no HTTP answer to read the time from (tls above)");
                }
                Some(fetched) => clock(&origin, fetched, report),
                None => clock(&origin, self.fetch(&origin).await, report),
            }
        }
        let user = self.exchange(http.as_ref(), &down, report).await;
        if down(&ws.at) {
            report.skip("handshake", format!("{}: not reachable (above)", ws.at));
        } else {
            self.handshake(ws_base, user.as_deref(), report).await;
        }
    }
}
