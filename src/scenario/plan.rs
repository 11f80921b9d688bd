//! Owns the validated plan of a scenario: what the runner executes. Every duration is
//! parsed, every pattern compiled, every template parsed and checked; each step keeps the
//! source position it came from so failures can point at it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::report::Pos;
use crate::steps::Pattern;

/// Handshake deadline when `connect.timeout` is not given.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of an expect step without `within`.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Plan {
    /// Path under the scenario root without `.yaml`, `/`-separated (`auth/valid_jwt`).
    pub id: String,
    pub file: PathBuf,
    pub source: Arc<str>,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Environments the scenario applies to; `None` means every selected one.
    pub environments: Option<Vec<String>>,
    pub auth: AuthPlan,
    pub auth_pos: Pos,
    pub connect: ConnectPlan,
    pub handshake: HandshakePlan,
    pub handshake_pos: Pos,
    pub steps: Vec<StepPlan>,
    pub redact: Vec<String>,
    /// Reference-server behaviour for this scenario, when the environment embeds one.
    pub reference_server: Option<crate::server::ServerOptions>,
}

impl Plan {
    pub fn applies_to(&self, environment: &str) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e == environment))
    }

    /// Names of the environment secrets this scenario needs.
    pub fn required_secrets(&self) -> Vec<&str> {
        match &self.auth {
            AuthPlan::Jwt(jwt) => vec![jwt.secret.as_str()],
            AuthPlan::Bearer(BearerSource::Secret(name)) => vec![name.as_str()],
            AuthPlan::None | AuthPlan::Bearer(BearerSource::Env(_)) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum AuthPlan {
    None,
    Jwt(JwtPlan),
    Bearer(BearerSource),
}

impl AuthPlan {
    pub fn strategy(&self) -> &'static str {
        match self {
            AuthPlan::None => "none",
            AuthPlan::Jwt(_) => "jwt",
            AuthPlan::Bearer(_) => "bearer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    Hs384,
    Hs512,
}

impl JwtAlgorithm {
    pub const NAMES: [&'static str; 3] = ["HS256", "HS384", "HS512"];

    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "HS256" => Some(Self::Hs256),
            "HS384" => Some(Self::Hs384),
            "HS512" => Some(Self::Hs512),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct JwtPlan {
    pub secret: String,
    pub algorithm: JwtAlgorithm,
    /// Claims object; strings may hold templates, rendered at mint time.
    pub claims: Value,
    /// Seconds from now; negative mints an expired token.
    pub expires_in_secs: i64,
}

#[derive(Debug, Clone)]
pub enum BearerSource {
    Secret(String),
    Env(String),
}

#[derive(Debug, Clone)]
pub enum Target {
    /// Appended to the environment's WebSocket base URL.
    Path(String),
    /// A full `ws://` or `wss://` URL.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlacement {
    Header,
    Query(String),
    Subprotocol(String),
    Cookie(String),
    Message,
}

#[derive(Debug, Clone)]
pub struct ConnectPlan {
    pub target: Target,
    /// Header values may hold templates.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub token_in: TokenPlacement,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum HandshakePlan {
    Accepted,
    Rejected {
        statuses: Vec<u16>,
        body: Option<Pattern>,
    },
    Timeout,
    Closed(CloseExpectation),
}

/// An expected close: code (any when empty), reason pattern, window.
#[derive(Debug, Clone)]
pub struct CloseExpectation {
    pub codes: Vec<u16>,
    pub reason: Option<Pattern>,
    pub within: Duration,
}

#[derive(Debug, Clone)]
pub struct StepPlan {
    pub index: usize,
    pub pos: Pos,
    pub kind: StepKind,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    /// A JSON value (sent as JSON text) or a string (sent as a text frame); templated.
    Send(Value),
    Expect(ExpectOne),
    Sequence(ExpectMany),
    Unordered(ExpectMany),
    ExpectNone {
        pattern: Value,
        within: Duration,
    },
    Close {
        code: u16,
        reason: String,
    },
    ExpectClose(CloseExpectation),
}

impl StepKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Send(_) => "send",
            StepKind::Expect(_) => "expect",
            StepKind::Sequence(_) => "expect_sequence",
            StepKind::Unordered(_) => "expect_unordered",
            StepKind::ExpectNone { .. } => "expect_none",
            StepKind::Close { .. } => "close",
            StepKind::ExpectClose(_) => "expect_close",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExpectOne {
    /// Raw pattern; templates are rendered, then compiled, when the step runs.
    pub pattern: Value,
    pub within: Duration,
    pub captures: Vec<(String, String)>,
    pub strict: bool,
}

#[derive(Debug, Clone)]
pub struct ExpectMany {
    pub events: Vec<Value>,
    pub ignore: Vec<Pattern>,
    pub within: Duration,
    pub each_within: Option<Duration>,
    /// Paths start with the event's index: `4.result.savings_usd`.
    pub captures: Vec<(String, String)>,
    pub strict: bool,
}
