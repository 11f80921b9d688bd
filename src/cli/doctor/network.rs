//! Owns the network checks of `doctor`: the host and port of each base URL, DNS, TCP, TLS
//! (an HTTP GET of the root), the declared health check, clock skew from the HTTP `Date`
//! header, and the helpers that turn request errors and service answers into one short line.

use std::time::{Duration, Instant, SystemTime};

use super::report::{DEADLINE, Report};
use super::run::Doctor;
use crate::environment;
use crate::scenario::Target;

/// Larger clock differences fail: servers usually allow about a minute of leeway on
/// `iat`/`nbf`/`exp`, and half of it is already a problem waiting to happen.
const SKEW_LIMIT_SECS: i64 = 30;

/// One host and port the environment's URLs point at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct HostPort {
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
pub(super) struct Base {
    pub(super) url: reqwest::Url,
    pub(super) at: HostPort,
    pub(super) secure: bool,
}

impl Base {
    pub(super) fn parse(text: &str) -> Result<Base, String> {
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
    pub(super) fn http_origin(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.at)
    }
}

/// What an HTTP GET of a server's root answered.
pub(super) struct Fetched {
    pub(super) status: u16,
    date: Option<String>,
    /// Local time when the answer arrived.
    received: SystemTime,
}

impl Doctor<'_> {
    /// DNS, then TCP; whether the host accepted a connection.
    pub(super) async fn reach(&self, at: &HostPort, report: &mut Report) -> bool {
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
    pub(super) async fn fetch(&self, origin: &str) -> Result<Fetched, String> {
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

    pub(super) async fn health(
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
        match environment::check(
            &self.client,
            &self.env.name,
            &url,
            spec.timeout,
            &spec.status,
        )
        .await
        {
            Ok(()) if spec.status.is_empty() => {
                report.pass("health", format!("GET {url} answered 2xx"));
            }
            Ok(()) => report.pass("health", format!("GET {url} answered an accepted status")),
            Err(u) => report.fail("health", format!("GET {url} → {}", u.reason)),
        }
    }
}

/// The clock line from the `Date` header of `origin`'s answer.
pub(super) fn clock(origin: &str, fetched: Result<Fetched, String>, report: &mut Report) {
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
pub(super) fn request_error(e: &reqwest::Error) -> String {
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

pub(super) fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// At most 120 characters of a service's answer, on one line.
pub(super) fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(120).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}
