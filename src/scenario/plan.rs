//! Owns the validated plan of a scenario: what the runner executes. Every duration is
//! parsed, every pattern compiled, every template parsed and checked; each step keeps the
//! source position it came from so failures can point at it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::diagnostic::Pos;
use crate::pattern::Pattern;

/// Handshake deadline when `connect.timeout` is not given.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of an expect step without `within`.
pub(crate) const DEFAULT_WITHIN: Duration = Duration::from_secs(5);
/// A validated scenario: everything the pipeline executes, with the source positions reports
/// point at. Built by `scenario::parse`/`load` from the raw model; one per file, with one
/// more per environment it overrides ([`Plan::for_environment`]).
#[derive(Debug, Clone)]
pub struct Plan {
    /// Path under the scenario root without `.yaml`, `/`-separated (`auth/valid_jwt`).
    pub id: String,
    /// The file as found (relative to the project root when under it).
    pub file: PathBuf,
    /// The file's text, for excerpts in reports.
    pub source: Arc<str>,
    /// The name shown in reports (default: the id).
    pub name: String,
    /// What the scenario checks, in words.
    pub description: Option<String>,
    /// Free labels.
    pub tags: Vec<String>,
    /// Environments the scenario applies to; `None` means every selected one.
    pub environments: Option<Vec<String>>,
    /// `vars:`, evaluated once per run in this order, before `setup` and `auth`.
    pub vars: Vec<Assignment>,
    /// How the credential is produced.
    pub auth: AuthPlan,
    /// Where `auth:` is written (unknown when not written).
    pub auth_pos: Pos,
    /// Where and how to connect.
    pub connect: ConnectPlan,
    /// How the connection is closed at the end (`connect.close_timeout`,
    /// `connect.expect_clean_close`).
    pub closing: ClosingPlan,
    /// The expected outcome of the upgrade.
    pub handshake: HandshakePlan,
    /// Where `handshake:` is written (unknown when not written: acceptance is implied).
    pub handshake_pos: Pos,
    /// HTTP steps before auth.
    pub setup: Vec<StepPlan>,
    /// What to send and expect on the open connection.
    pub steps: Vec<StepPlan>,
    /// HTTP steps that always run last.
    pub teardown: Vec<StepPlan>,
    /// Secrets the scenario names (auth, `{{ secrets.NAME }}` templates), sorted.
    pub secrets: Vec<String>,
    /// The scenario as it applies to an environment with `overrides:` (validated whole).
    pub overrides: std::collections::BTreeMap<String, Plan>,
    /// Dotted paths whose values are replaced in the snapshot.
    pub redact: Vec<String>,
    /// Patterns (templated) every expect step ignores (`ignore:` at the top).
    pub ignore: Vec<Value>,
    /// What happens to messages no step claimed.
    pub unclaimed: UnclaimedPolicy,
    /// Which frames the snapshot holds.
    pub snapshot_frames: SnapshotFrames,
    /// Reference-server behaviour for this scenario, when the environment embeds one.
    pub reference_server: Option<crate::server_options::ServerOptions>,
    /// The fragments it includes (`include:`), in the order they were read: a position whose
    /// `origin` is `n` points into `fragments[n - 1]` ([`Plan::file_of`]).
    pub fragments: Vec<super::fragments::Fragment>,
}

impl Plan {
    /// Whether the scenario runs in `environment` (its `environments:` list, or all).
    pub fn applies_to(&self, environment: &str) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e == environment))
    }

    /// The plan that runs in `environment`: its override when it has one.
    pub fn for_environment(&self, environment: &str) -> &Plan {
        self.overrides.get(environment).unwrap_or(self)
    }

    /// The file a position of this plan points into, its text, and where that file is
    /// included (empty for the scenario itself).
    pub fn file_of(&self, pos: Pos) -> (&std::path::Path, &Arc<str>, &[String]) {
        let fragment = usize::try_from(pos.origin)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.fragments.get(i));
        match fragment {
            Some(f) => (&f.file, &f.source, &f.included),
            None => (&self.file, &self.source, &[]),
        }
    }

    /// Names of the environment secrets this scenario needs.
    pub fn required_secrets(&self) -> Vec<&str> {
        self.secrets.iter().map(String::as_str).collect()
    }
}

/// The scenario's auth strategy: how the credential is produced (`auth:`).
#[derive(Debug, Clone)]
pub enum AuthPlan {
    /// No credential (`auth: none`, or no `auth:`).
    None,
    /// A JWT minted with a secret or a key file, possibly deliberately broken (`mutate`).
    Jwt(Box<JwtPlan>),
    /// A static token from a secret or a variable, sent as a bearer token.
    Bearer(BearerSource),
    /// Like `bearer`; named for what the token is.
    ApiKey(BearerSource),
    /// An HTTP call whose answer holds the token (`HttpPlan::token` is set).
    Exchange(Box<HttpPlan>),
    /// Strategies tried in order; every failed attempt is recorded.
    Chain {
        /// The strategies, each with its position.
        strategies: Vec<(AuthPlan, Pos)>,
        /// What happens when one fails and a later one succeeds.
        fallback: Fallback,
    },
}

impl AuthPlan {
    /// The strategy's key in the scenario format.
    pub fn strategy(&self) -> &'static str {
        match self {
            AuthPlan::None => "none",
            AuthPlan::Jwt(_) => "jwt",
            AuthPlan::Bearer(_) => "bearer",
            AuthPlan::ApiKey(_) => "api_key",
            AuthPlan::Exchange(_) => "exchange",
            AuthPlan::Chain { .. } => "chain",
        }
    }
}

/// What a `chain` does when a strategy fails and a later one succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The scenario fails with the first strategy's error.
    Forbid,
    /// The next strategy is used; a warning goes to stderr and the transcript.
    Warn,
    /// The next strategy is used; the transcript records it.
    Allow,
}

impl Fallback {
    /// The policy names, as written in `fallback:`.
    pub const NAMES: [&'static str; 3] = ["forbid", "warn", "allow"];

    /// The policy named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "forbid" => Some(Self::Forbid),
            "warn" => Some(Self::Warn),
            "allow" => Some(Self::Allow),
            _ => None,
        }
    }

    /// The policy's name in the scenario format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Forbid => "forbid",
            Self::Warn => "warn",
            Self::Allow => "allow",
        }
    }
}

/// A JWT signing algorithm the `jwt` strategy can mint with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 (a shared secret).
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
    /// RSA PKCS#1 v1.5 with SHA-256 (a private key file or secret).
    Rs256,
    /// ECDSA P-256 with SHA-256 (a PKCS#8 private key).
    Es256,
}

impl JwtAlgorithm {
    /// The algorithm names, as written in `algorithm:`.
    pub const NAMES: [&'static str; 5] = ["HS256", "HS384", "HS512", "RS256", "ES256"];

    /// The algorithm named `name` (any case), if supported.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "HS256" => Some(Self::Hs256),
            "HS384" => Some(Self::Hs384),
            "HS512" => Some(Self::Hs512),
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    /// The name as written in YAML and in JWT headers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    /// Whether the key is a shared secret (HMAC) rather than a PEM private key.
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::Hs256 | Self::Hs384 | Self::Hs512)
    }
}

/// Where the signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A secret the environment declares (HMAC secret or PEM private key).
    Secret(String),
    /// A PEM file, relative to the project root.
    File(PathBuf),
}

/// A deliberately bad token, for scenarios proving that auth is enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// `exp` an hour in the past.
    Expired,
    /// `nbf` an hour in the future.
    NotYetValid,
    /// Signed with a random key instead of the environment's.
    WrongSecret,
    /// One character of the signature changed.
    TamperedSignature,
    /// Header `alg: none`, no signature.
    AlgNone,
    /// The named claim removed.
    DropClaim(String),
    /// `iss` replaced by one no server trusts.
    WrongIssuer,
    /// `aud` replaced by one no server expects.
    WrongAudience,
}

impl Mutation {
    /// The mutation as written in YAML, stable across runs: `alg_none`, `drop_claim(sub)`.
    pub fn name(&self) -> String {
        match self {
            Self::Expired => "expired".to_owned(),
            Self::NotYetValid => "not_yet_valid".to_owned(),
            Self::WrongSecret => "wrong_secret".to_owned(),
            Self::TamperedSignature => "tampered_signature".to_owned(),
            Self::AlgNone => "alg_none".to_owned(),
            Self::DropClaim(claim) => format!("drop_claim({claim})"),
            Self::WrongIssuer => "wrong_issuer".to_owned(),
            Self::WrongAudience => "wrong_audience".to_owned(),
        }
    }
}

/// How the `jwt` strategy mints its token.
#[derive(Debug, Clone)]
pub struct JwtPlan {
    /// The signing key: a secret or a key file.
    pub key: KeySource,
    /// The signing algorithm (default HS256).
    pub algorithm: JwtAlgorithm,
    /// The `kid` header, when set.
    pub kid: Option<String>,
    /// Claims object; strings may hold templates, rendered at mint time.
    pub claims: Value,
    /// Seconds from now; negative mints an expired token.
    pub expires_in_secs: i64,
    /// `nbf` in seconds from now, when set.
    pub not_before_secs: Option<i64>,
    /// A deliberate defect (expired, wrong secret, `alg: none`, …), for negative tests.
    pub mutate: Option<Mutation>,
}

/// An HTTP call (`http` step or `exchange`). Strings may hold templates.
#[derive(Debug, Clone)]
pub struct HttpPlan {
    /// The HTTP method (uppercase).
    pub method: String,
    /// A path below the environment's HTTP base, or a full URL.
    pub target: Target,
    /// Request headers; values may hold templates.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any; strings may hold templates.
    pub body: Option<Value>,
    /// Accepted statuses; empty means any 2xx.
    pub statuses: Vec<u16>,
    /// The deadline of the whole call.
    pub timeout: Duration,
    /// JSON pointer to the token in the answer (`exchange` only).
    pub token: Option<String>,
    /// `(variable, JSON pointer)` pairs taken from the answer.
    pub captures: Vec<(String, String)>,
}

/// The HTTP methods an `http` call or `exchange` may use (validation and the schema share it).
pub(crate) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Deadline of an HTTP call without `timeout`.
pub(crate) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a static token (`bearer`, `api_key`) comes from.
#[derive(Debug, Clone)]
pub enum BearerSource {
    /// A secret of the environment, by name.
    Secret(String),
    /// An environment variable, by name.
    Env(String),
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Appended to the environment's base URL (WebSocket or HTTP).
    Path(String),
    /// A full URL.
    Url(String),
}

/// Headers that carry a credential when a scenario writes them in `connect.headers` (beside
/// those it marks in `credential_headers`): their values are redacted, and a 401/403 blames
/// them rather than a missing `auth:`. Lowercase.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-auth-token",
];

impl ConnectPlan {
    /// The first header of `headers` that carries a credential (lowercase).
    pub fn credential_header(&self) -> Option<String> {
        self.headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .find(|n| {
                CREDENTIAL_HEADERS.contains(&n.as_str()) || self.credential_headers.contains(n)
            })
    }
}

/// Where the credential goes in the upgrade request (`token_in:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlacement {
    /// `Authorization: Bearer <token>` (the default).
    Header,
    /// Header `name` (lowercase) carrying `<scheme> <token>`, or the bare token without a
    /// scheme (`{header: X-Api-Key}`).
    NamedHeader {
        /// The header's name, lowercase.
        name: String,
        /// Written before the token with a space; `None`: the bare token.
        scheme: Option<String>,
    },
    /// A query parameter of this name.
    Query(String),
    /// A subprotocol: this prefix followed by the token, offered first.
    Subprotocol(String),
    /// A cookie of this name.
    Cookie(String),
    /// Not in the upgrade: a step sends it in a message (`{{ auth.token }}`).
    Message,
}

/// Where and how the scenario connects (`connect:`).
#[derive(Debug, Clone)]
pub struct ConnectPlan {
    /// A path below the environment's WebSocket base, or a full URL.
    pub target: Target,
    /// Header values may hold templates.
    pub headers: Vec<(String, String)>,
    /// Query parameters; values may hold templates.
    pub query: Vec<(String, String)>,
    /// Subprotocols offered, in order.
    pub subprotocols: Vec<String>,
    /// Where the credential goes.
    pub token_in: TokenPlacement,
    /// Headers of `headers` that carry a credential besides the usual names
    /// (`credential_headers:`), lowercase.
    pub credential_headers: Vec<String>,
    /// The deadline of the whole upgrade.
    pub timeout: Duration,
    /// How binary frames from the server are read.
    pub binary: BinaryFrames,
    /// `max_message_size`, in bytes; `None`: the environment's.
    pub max_message_size: Option<usize>,
    /// `max_frame_size`, in bytes; `None`: the environment's.
    pub max_frame_size: Option<usize>,
    /// How many same-origin redirects the upgrade follows (`follow_redirects`, default 0).
    pub follow_redirects: u8,
}

/// The closing handshake at the end of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClosingPlan {
    /// How long to wait for the server's answer to the client's close; `None`: the
    /// environment's `close_timeout`, else [`DEFAULT_CLOSE_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Whether an unanswered close (or a drop instead of a close frame) fails the scenario.
    pub expect_clean: bool,
}

/// How long the client waits for the answer to its close when neither the scenario nor the
/// environment says.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How binary frames from the server are read (`connect.binary:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryFrames {
    /// As bytes: shown as `binary (N bytes)`, matched as the string `<N bytes binary>`.
    #[default]
    Bytes,
    /// As UTF-8 JSON text (a frame that is not is kept as bytes).
    Json,
}

/// The expected outcome of the upgrade (`handshake:`).
#[derive(Debug, Clone)]
pub enum HandshakePlan {
    /// 101 Switching Protocols, carrying what the expectation asks for; the steps follow.
    Accepted(AcceptedExpectation),
    /// Refused with one of `statuses`, optionally with a body matching `body`.
    Rejected {
        /// The acceptable statuses.
        statuses: Vec<u16>,
        /// A pattern the (JSON) body must match.
        body: Option<Pattern>,
    },
    /// No answer before the handshake deadline (a silent rejection).
    Timeout,
    /// Accepted, then closed by the server.
    Closed(CloseExpectation),
}

impl Default for HandshakePlan {
    /// Accepted, with nothing asserted about the 101: the expectation when `handshake:` is
    /// not written.
    fn default() -> Self {
        HandshakePlan::Accepted(AcceptedExpectation::default())
    }
}

/// What an accepted upgrade's 101 must carry (`handshake: {accepted: ...}`); nothing for
/// `handshake: accepted`.
#[derive(Debug, Clone, Default)]
pub struct AcceptedExpectation {
    /// A pattern for the selected subprotocol, matched against its name, or against `null`
    /// when the server selected none; `None` when not checked.
    pub subprotocol: Option<Pattern>,
    /// `(lowercase name, pattern)`: the header's value must match (`null` when the 101 has
    /// no such header).
    pub headers: Vec<(String, Pattern)>,
}

/// An expected close: code (any when empty), reason pattern, window.
#[derive(Debug, Clone)]
pub struct CloseExpectation {
    /// A close before this (from the step's start) fails, naming when it came.
    pub after: Option<Duration>,
    /// Fail on any message that arrives before the close (instead of leaving it unclaimed).
    pub strict: bool,
    /// The acceptable codes; any code when empty.
    pub codes: Vec<u16>,
    /// A pattern the close reason must match.
    /// A pattern (templated) the close reason must match.
    pub reason: Option<Value>,
    /// How long to wait for the close.
    pub within: Duration,
}

/// Names no variable (`vars:`, `set:`) may take: the template builtins, `env`, `secrets` and
/// `auth`.
pub(crate) const RESERVED_NAMES: [&str; 7] = [
    "uuid", "now", "now_unix", "run_id", "env", "secrets", "auth",
];

/// One variable of `vars:` or of a `set` step.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The variable's name (an identifier, not one of the reserved names).
    pub name: String,
    /// Its value; strings may hold templates, rendered once, when it is assigned.
    pub value: Value,
    /// Where the name is written.
    pub pos: Pos,
}

/// One step of the scenario, where it is written.
#[derive(Debug, Clone)]
pub struct StepPlan {
    /// Its 1-based index among the steps.
    pub index: usize,
    /// Where it is written.
    pub pos: Pos,
    /// What it does.
    pub kind: StepKind,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// A JSON value (sent as JSON text) or a string (sent as a text frame); templated.
    Send(Value),
    /// Wait for one message matching a pattern.
    Expect(ExpectOne),
    /// Wait for messages matching patterns, in order.
    Sequence(ExpectMany),
    /// Wait for messages matching patterns, in any order.
    Unordered(ExpectMany),
    /// Fail if a message matching `pattern` arrives within `within`.
    ExpectNone {
        /// The pattern that must not match (templated).
        pattern: Value,
        /// How long to watch.
        within: Duration,
        /// Only messages matching this (templated) are watched.
        filter: Option<Value>,
    },
    /// Send a close frame.
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Wait for the server's close frame.
    ExpectClose(CloseExpectation),
    /// An HTTP call in the middle of the conversation.
    Http(Box<HttpPlan>),
    /// Assign variables, in order (`set:`).
    Set(Vec<Assignment>),
}

impl StepKind {
    /// The step's key in the scenario format.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepKind::Send(_) => "send",
            StepKind::Expect(_) => "expect",
            StepKind::Sequence(_) => "expect_sequence",
            StepKind::Unordered(_) => "expect_unordered",
            StepKind::ExpectNone { .. } => "expect_none",
            StepKind::Close { .. } => "close",
            StepKind::ExpectClose(_) => "expect_close",
            StepKind::Http(_) => "http",
            StepKind::Set(_) => "set",
        }
    }
}

/// An `expect` step.
#[derive(Debug, Clone)]
pub struct ExpectOne {
    /// Raw pattern; templates are rendered, then compiled, when the step runs.
    pub pattern: Value,
    /// How long to wait for the message.
    pub within: Duration,
    /// `(variable, dotted path)` pairs taken from the matched message.
    pub captures: Vec<(String, String)>,
    /// Fail on any other visible message instead of leaving it for later steps.
    pub strict: bool,
    /// `where`: only messages matching this (templated) are visible to the step.
    pub filter: Option<Value>,
    /// Visible messages matching these (templated) are claimed as ignored.
    pub ignore: Vec<Value>,
}

/// An `expect_sequence` or `expect_unordered` step.
#[derive(Debug, Clone)]
pub struct ExpectMany {
    /// The events, each a pattern (templated) and how many messages it takes.
    pub events: Vec<EventPlan>,
    /// Visible messages matching these (templated) are claimed as ignored.
    pub ignore: Vec<Value>,
    /// `where`: only messages matching this (templated) are visible to the step.
    pub filter: Option<Value>,
    /// How long to wait for all of them.
    pub within: Duration,
    /// How long to wait for each one after the previous (sequences only).
    pub each_within: Option<Duration>,
    /// Paths start with the event's index: `4.result.savings_usd`.
    pub captures: Vec<(String, String)>,
    /// Fail on any visible message that is neither expected nor ignored.
    pub strict: bool,
}

/// One event of `expect_sequence` / `expect_unordered`: a pattern, and how many messages it
/// takes (`repeat:` with `count`, `min`/`max` or `until`; exactly one otherwise).
#[derive(Debug, Clone)]
pub struct EventPlan {
    /// The pattern (templated).
    pub pattern: Value,
    /// At least this many messages.
    pub min: usize,
    /// At most this many (`None`: no upper bound, with `until`).
    pub max: Option<usize>,
    /// The event ends when a message matching this (templated) arrives; that message is left
    /// for the next event.
    pub until: Option<Value>,
}

impl EventPlan {
    /// A plain event: exactly one message matching `pattern`.
    pub fn once(pattern: Value) -> Self {
        Self {
            pattern,
            min: 1,
            max: Some(1),
            until: None,
        }
    }

    /// Whether this event takes more than exactly one message.
    pub fn repeats(&self) -> bool {
        self.min != 1 || self.max != Some(1) || self.until.is_some()
    }
}

/// Which frames the snapshot holds (`snapshot_frames:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotFrames {
    /// Every step's frames, and the unclaimed messages (the default).
    #[default]
    All,
    /// Every step's frames; unclaimed messages are left out.
    Claimed,
    /// No frames at all (the handshake, HTTP calls and outcome remain).
    None,
}

/// What happens to messages no step claimed by the end of the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnclaimedPolicy {
    /// They are listed in the transcript (the default).
    #[default]
    List,
    /// The scenario fails, naming them.
    Fail,
}
