//! Owns `sockspec doctor --env E`: checks an environment and explains each result on one
//! line (✓ passed, ✗ failed, – not applicable), continuing after failures. It checks every
//! declared secret (variable and fingerprint, or every variable tried), then the service —
//! remote, or the embedded reference server started in-process on 127.0.0.1 — DNS, TCP,
//! TLS, the health check, clock skew from the HTTP `Date` header, the bypass-key exchange
//! and one probe handshake on `/ws` with a token minted from the `jwt` secret. Every
//! network wait has a deadline; no secret value is ever printed. A remote environment's
//! probe token and bypass key come from the secrets named `jwt` and `bypass_key`; an embedded
//! one's from its `jwt_secret` and `bypass_key`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use super::exit;
use super::support::{self, SetupError};
use crate::auth::mint;
use crate::environment::{self, Endpoint, Environment, Secrets};
use crate::handshake::{self, Outcome, Sent, body_detail, diagnose_rejection};
use crate::harness::spawn_embedded;
use crate::scenario::template::MapResolver;
use crate::scenario::{ConnectPlan, JwtAlgorithm, JwtPlan, KeySource, Target, TokenPlacement};
use crate::transcript::Redactor;

/// Deadline of every network wait (except a declared health check's own timeout).
const DEADLINE: Duration = Duration::from_secs(3);
/// Larger clock differences fail: servers usually allow about a minute of leeway on
/// `iat`/`nbf`/`exp`, and half of it is already a problem waiting to happen.
const SKEW_LIMIT_SECS: i64 = 30;
/// A remote environment's secret used to mint the probe token (embedded: `jwt_secret`).
const JWT_SECRET: &str = "jwt";
/// A remote environment's secret holding the E2E bypass key (embedded: `bypass_key`).
const BYPASS_SECRET: &str = "bypass_key";
const BYPASS_PATH: &str = "/auth/e2e/test-auth";
const BYPASS_HEADER: &str = "X-E2E-Bypass-Key";
/// The user the exchange check creates (or finds again: the same email is the same user).
const DOCTOR_EMAIL: &str = "sockspec-doctor@example.com";
/// `sub` of the probe token when the exchange did not name a user.
const DOCTOR_SUB: &str = "sockspec-doctor";
const PROBE_PATH: &str = "/ws";
/// Lifetime of the probe token.
const PROBE_TOKEN_SECS: i64 = 300;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The environment to check [default: local].
    #[arg(long, short = 'e')]
    env: Option<String>,
}

pub fn run(root: &std::path::Path, args: &DoctorArgs) -> u8 {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Pass,
    Fail,
    Skip,
}

/// Prints each check as it completes (redacted) and counts them.
struct Report {
    redactor: Redactor,
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Report {
    fn line(&mut self, mark: Mark, label: &str, detail: &str) {
        let symbol = match mark {
            Mark::Pass => {
                self.passed += 1;
                '✓'
            }
            Mark::Fail => {
                self.failed += 1;
                '✗'
            }
            Mark::Skip => {
                self.skipped += 1;
                '–'
            }
        };
        println!("{symbol} {label:<10} {}", self.redactor.redact(detail));
    }

    fn pass(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Pass, label, detail.as_ref());
    }

    fn fail(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Fail, label, detail.as_ref());
    }

    fn skip(&mut self, label: &str, detail: impl AsRef<str>) {
        self.line(Mark::Skip, label, detail.as_ref());
    }
}

async fn diagnose(env: &Environment) -> Report {
    let (secrets, _) = Secrets::resolve_declared(env);
    let mut report = Report {
        redactor: secrets.redactor(),
        passed: 0,
        failed: 0,
        skipped: 0,
    };
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
        client: reqwest::Client::builder()
            .no_proxy()
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

/// One host and port the environment's URLs point at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HostPort {
    host: String,
    port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A parsed base URL.
#[derive(Debug, Clone)]
struct Base {
    url: reqwest::Url,
    at: HostPort,
    secure: bool,
}

impl Base {
    fn parse(text: &str) -> Result<Base, String> {
        let url = reqwest::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        let host = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .ok_or_else(|| format!("`{text}` has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("`{text}` has no port and no known default port"))?;
        let secure = matches!(url.scheme(), "wss" | "https");
        Ok(Base {
            url,
            at: HostPort { host, port },
            secure,
        })
    }

    /// `https://host:port` (or `http://`) for the same server, also for a ws URL.
    fn http_origin(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.at)
    }
}

/// What an HTTP GET of a server's root answered.
struct Fetched {
    status: u16,
    date: Option<String>,
    /// Local time when the answer arrived.
    received: SystemTime,
}

struct Doctor<'a> {
    env: &'a Environment,
    secrets: &'a Secrets,
    client: reqwest::Client,
    jwt_secret: Option<String>,
    bypass_secret: Option<String>,
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

    /// DNS, then TCP; whether the host accepted a connection.
    async fn reach(&self, at: &HostPort, report: &mut Report) -> bool {
        let lookup = tokio::net::lookup_host((at.host.as_str(), at.port));
        let addrs: Vec<std::net::SocketAddr> = match tokio::time::timeout(DEADLINE, lookup).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => {
                report.fail("dns", format!("{} does not resolve: {e}", at.host));
                return false;
            }
            Err(_) => {
                report.fail(
                    "dns",
                    format!("{}: no answer within {}", at.host, secs(DEADLINE)),
                );
                return false;
            }
        };
        if addrs.is_empty() {
            report.fail("dns", format!("{} resolves to no address", at.host));
            return false;
        }
        let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        report.pass(
            "dns",
            format!("{} resolves to {}", at.host, shown.join(", ")),
        );
        let started = Instant::now();
        match tokio::time::timeout(DEADLINE, tokio::net::TcpStream::connect(&addrs[..])).await {
            Ok(Ok(stream)) => {
                let peer = stream
                    .peer_addr()
                    .map_or_else(|_| at.to_string(), |p| p.to_string());
                report.pass(
                    "tcp",
                    format!("connected to {peer} in {}ms", started.elapsed().as_millis()),
                );
                true
            }
            Ok(Err(e)) => {
                let why = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    "connection refused: nothing listens there".to_owned()
                } else {
                    e.to_string().to_lowercase()
                };
                report.fail("tcp", format!("{at}: {why}"));
                false
            }
            Err(_) => {
                report.fail(
                    "tcp",
                    format!(
                        "{at}: no connection within {} (a firewall, or the wrong port)",
                        secs(DEADLINE)
                    ),
                );
                false
            }
        }
    }

    /// `GET origin/` with the deadline: any status will do.
    async fn fetch(&self, origin: &str) -> Result<Fetched, String> {
        let url = format!("{origin}/");
        match tokio::time::timeout(DEADLINE, self.client.get(&url).send()).await {
            Ok(Ok(response)) => Ok(Fetched {
                status: response.status().as_u16(),
                date: response
                    .headers()
                    .get(reqwest::header::DATE)
                    .and_then(|d| d.to_str().ok())
                    .map(str::to_owned),
                received: SystemTime::now(),
            }),
            Ok(Err(e)) => Err(request_error(&e)),
            Err(_) => Err(format!("GET {url}: no answer within {}", secs(DEADLINE))),
        }
    }

    async fn health(
        &self,
        http: Option<&Base>,
        down: &dyn Fn(&HostPort) -> bool,
        report: &mut Report,
    ) {
        let Some(spec) = &self.env.health else {
            report.skip("health", "no health check declared");
            return;
        };
        let url = match (&spec.target, http) {
            (Target::Url(u), _) => u.clone(),
            (Target::Path(p), Some(base)) => {
                format!("{}{p}", base.url.as_str().trim_end_matches('/'))
            }
            (Target::Path(p), None) => {
                report.fail(
                    "health",
                    format!("the health check path `{p}` needs the environment's `http_url`"),
                );
                return;
            }
        };
        if let Ok(b) = Base::parse(&url)
            && down(&b.at)
        {
            report.skip("health", format!("{}: not reachable (above)", b.at));
            return;
        }
        match environment::check(&self.client, &self.env.name, &url, spec.timeout).await {
            Ok(()) => report.pass("health", format!("GET {url} answered 2xx")),
            Err(u) => report.fail("health", format!("GET {url} → {}", u.reason)),
        }
    }

    /// The bypass-key exchange; the user id it returned, when it worked.
    async fn exchange(
        &self,
        http: Option<&Base>,
        down: &dyn Fn(&HostPort) -> bool,
        report: &mut Report,
    ) -> Option<String> {
        let Some(name) = &self.bypass_secret else {
            report.skip("exchange", "no bypass key declared");
            return None;
        };
        let Some(key) = self.secrets.get(name) else {
            report.skip(
                "exchange",
                format!("the bypass key secret `{name}` is missing (above)"),
            );
            return None;
        };
        let Some(base) = http else {
            report.skip("exchange", "the environment has no `http_url`");
            return None;
        };
        if down(&base.at) {
            report.skip("exchange", format!("{}: not reachable (above)", base.at));
            return None;
        }
        let url = format!("{}{BYPASS_PATH}", base.url.as_str().trim_end_matches('/'));
        let call = self
            .client
            .post(&url)
            .header(BYPASS_HEADER, &key.value)
            .json(&json!({"email": DOCTOR_EMAIL, "name": "sockspec doctor"}))
            .send();
        let with = format!("with secret `{name}` (sha256:{})", key.fingerprint);
        let response = match tokio::time::timeout(DEADLINE, call).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                report.fail(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with}: {}", request_error(&e)),
                );
                return None;
            }
            Err(_) => {
                report.fail(
                    "exchange",
                    format!(
                        "POST {BYPASS_PATH} {with}: no answer within {}",
                        secs(DEADLINE)
                    ),
                );
                return None;
            }
        };
        let status = response.status().as_u16();
        let body = match tokio::time::timeout(DEADLINE, response.text()).await {
            Ok(Ok(b)) => b,
            _ => String::new(),
        };
        let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        match status {
            200..=299 => {
                let user = parsed
                    .as_ref()
                    .and_then(|v| v.get("user_id"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
                let as_user = user
                    .as_deref()
                    .map(|u| format!(" (user `{u}`)"))
                    .unwrap_or_default();
                report.pass(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with} → {status}: the bypass key works{as_user}"),
                );
                user
            }
            _ => {
                let detail = shorten(&body_detail(Some(&body)));
                let meaning = match status {
                    401 | 403 => {
                        "the key is wrong for this environment (compare its fingerprint \
                                  with the one the service expects)"
                    }
                    404 => "the bypass endpoint is not enabled in this environment",
                    _ => "the service did not issue a token",
                };
                report.fail(
                    "exchange",
                    format!("POST {BYPASS_PATH} {with} → {status} {detail}: {meaning}"),
                );
                None
            }
        }
    }

    /// One upgrade on `/ws` with a token minted from the `jwt` secret.
    async fn handshake(&self, ws_base: &str, user: Option<&str>, report: &mut Report) {
        let Some(name) = &self.jwt_secret else {
            report.skip(
                "handshake",
                format!("no `{JWT_SECRET}` secret declared to mint a token"),
            );
            return;
        };
        let Some(secret) = self.secrets.get(name) else {
            report.skip(
                "handshake",
                format!("the secret `{name}` is missing (above)"),
            );
            return;
        };
        let (sub, whose) = match user {
            Some(u) => (u, " (the user the exchange returned)"),
            None => (DOCTOR_SUB, ""),
        };
        let plan = JwtPlan {
            key: KeySource::Secret(name.clone()),
            algorithm: JwtAlgorithm::Hs256,
            kid: None,
            claims: json!({"sub": sub}),
            expires_in_secs: PROBE_TOKEN_SECS,
            not_before_secs: None,
            mutate: None,
        };
        let vars = MapResolver::new("doctor");
        let with = format!(
            "an HS256 token for `{sub}`{whose} signed with secret `{name}` (sha256:{})",
            secret.fingerprint
        );
        let credential = match mint(&plan, self.secrets, &self.env.root, &vars) {
            Ok(c) => c,
            Err(e) => {
                report.fail("handshake", format!("cannot mint {with}: {e}"));
                return;
            }
        };
        report
            .redactor
            .add_secret(&credential.token, credential.marker.clone());
        let connect = ConnectPlan {
            target: Target::Path(PROBE_PATH.to_owned()),
            headers: Vec::new(),
            query: Vec::new(),
            subprotocols: Vec::new(),
            token_in: TokenPlacement::Header,
            timeout: DEADLINE,
        };
        let request = match handshake::build(&connect, ws_base, Some(&credential.token), &vars) {
            Ok(r) => r,
            Err(e) => {
                report.fail("handshake", format!("cannot {e}"));
                return;
            }
        };
        match handshake::connect(request, DEADLINE).await {
            Outcome::Accepted { mut ws, .. } => {
                report.pass(
                    "handshake",
                    format!("GET {PROBE_PATH} with {with} → 101: accepted"),
                );
                let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
            }
            Outcome::Rejected { response } => {
                let detail = shorten(&body_detail(response.body.as_deref()));
                // A freshly minted, unexpired token: a signature failure means another secret.
                let (cause, hint) = diagnose_rejection(
                    response.status,
                    &detail,
                    &Sent {
                        strategy: "jwt",
                        expired: Some(false),
                        key: None,
                    },
                );
                let hint = format!("{cause}: {hint}");
                report.fail(
                    "handshake",
                    format!(
                        "GET {PROBE_PATH} with {with} → {} {detail}: {hint}",
                        response.status
                    ),
                );
            }
            Outcome::TimedOut { after } => report.fail(
                "handshake",
                format!(
                    "GET {PROBE_PATH} with {with}: no answer to the upgrade within {} (a silent \
                     rejection, or the service is stuck)",
                    secs(after)
                ),
            ),
            Outcome::Failed { message, .. } => {
                report.fail(
                    "handshake",
                    format!("GET {PROBE_PATH} with {with}: {message}"),
                );
            }
        }
    }
}

/// The clock line from the `Date` header of `origin`'s answer.
fn clock(origin: &str, fetched: Result<Fetched, String>, report: &mut Report) {
    let f = match fetched {
        Ok(f) => f,
        Err(e) => {
            report.fail("clock", format!("no answer to read the time from: {e}"));
            return;
        }
    };
    let Some(date) = f.date else {
        report.skip(
            "clock",
            format!("GET {origin}/ answered without a `Date` header"),
        );
        return;
    };
    let server = match httpdate::parse_http_date(&date) {
        Ok(t) => t,
        Err(_) => {
            report.fail(
                "clock",
                format!("the `Date` header `{date}` is not an HTTP date"),
            );
            return;
        }
    };
    // The header has whole seconds: up to 1s behind is no skew.
    let skew = match server.duration_since(f.received) {
        Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
        Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let size = secs(Duration::from_secs(skew.unsigned_abs()));
    let direction = if skew > 0 { "ahead of" } else { "behind" };
    if skew.abs() <= 1 {
        report.pass(
            "clock",
            format!("the server's clock matches this machine's (Date: {date})"),
        );
    } else if skew.abs() <= SKEW_LIMIT_SECS {
        report.pass(
            "clock",
            format!(
                "the server's clock is {size} {direction} this machine's: within the usual leeway"
            ),
        );
    } else {
        report.fail(
            "clock",
            format!(
                "the server's clock is {size} {direction} this machine's (Date: {date}): tokens \
                 minted here may look expired or not yet valid to it; fix the clock (NTP)"
            ),
        );
    }
}

/// `TLS failed: …`, `connection refused`, or the innermost cause.
fn request_error(e: &reqwest::Error) -> String {
    if let Some(t) = find_rustls(e) {
        return format!("TLS failed: {t}");
    }
    if e.is_timeout() {
        return format!("no answer within {}", secs(DEADLINE));
    }
    let mut cause: &dyn std::error::Error = e;
    let mut refused = false;
    while let Some(next) = cause.source() {
        refused |= next
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        cause = next;
    }
    if refused {
        "connection refused: nothing listens there".to_owned()
    } else {
        format!("request failed: {cause}")
    }
}

/// The TLS error somewhere in `e`'s chain: rustls errors travel inside (nested) I/O errors,
/// whose `source()` skips the wrapped error itself.
fn find_rustls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = e.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        && let Some(r) = find_rustls(inner)
    {
        return Some(r);
    }
    e.source().and_then(find_rustls)
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// At most 120 characters of a service's answer, on one line.
fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(120).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}
