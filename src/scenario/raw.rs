//! Owns the raw scenario model: the YAML document exactly as written, with source
//! positions (`Spanned`) on everything validation may need to point at. No meaning is
//! attached here; `validate` turns it into a [`crate::scenario::Plan`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub environments: Option<Vec<S<String>>>,
    pub auth: Option<S<RawAuth>>,
    #[serde(default)]
    pub connect: RawConnect,
    pub handshake: Option<S<RawHandshake>>,
    /// HTTP steps run before auth (captures are available to auth and later steps).
    #[serde(default)]
    pub setup: Vec<S<RawStep>>,
    #[serde(default)]
    pub steps: Vec<S<RawStep>>,
    /// HTTP steps run after everything else, always: also after a failure or a timeout.
    #[serde(default)]
    pub teardown: Vec<S<RawStep>>,
    /// Per-environment replacements of whole top-level fields.
    #[serde(default)]
    pub overrides: BTreeMap<String, S<RawOverride>>,
    /// Dotted JSON paths whose values are replaced by `[redacted]` in snapshots.
    #[serde(default)]
    pub redact: Vec<S<String>>,
    /// Behaviour of the embedded reference server for this scenario (replaces the
    /// environment's `embedded.options`); ignored by environments without one.
    pub reference_server: Option<S<crate::server::ServerOptions>>,
}

/// What an environment may replace in a scenario (`overrides: {prod: {...}}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    pub auth: Option<S<RawAuth>>,
    pub connect: Option<RawConnect>,
    pub handshake: Option<S<RawHandshake>>,
    pub setup: Option<Vec<S<RawStep>>>,
    pub steps: Option<Vec<S<RawStep>>>,
    pub teardown: Option<Vec<S<RawStep>>>,
    pub reference_server: Option<S<crate::server::ServerOptions>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawAuth {
    None,
    Jwt(Box<RawJwt>),
    Bearer(RawBearer),
    ApiKey(RawBearer),
    Exchange(Box<RawHttp>),
    Chain(RawChain),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    /// Name of a secret declared by the environment: the HMAC secret, or a PEM private key.
    pub secret: Option<S<String>>,
    /// A PEM private key file (RS256/ES256), relative to the project root.
    pub key_file: Option<S<String>>,
    pub algorithm: Option<S<String>>,
    /// Key id written into the header.
    pub kid: Option<S<String>>,
    /// Claims; string values may hold templates.
    pub claims: Option<S<Value>>,
    /// `15m`; a leading `-` mints an already expired token.
    pub expires_in: Option<S<String>>,
    /// `nbf` relative to now (`5m` is in the future, `-1m` in the past).
    pub not_before: Option<S<String>>,
    /// Makes the token deliberately bad, to prove the server enforces auth.
    pub mutate: Option<S<RawMutation>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawMutation {
    Expired,
    NotYetValid,
    WrongSecret,
    TamperedSignature,
    AlgNone,
    DropClaim(String),
    WrongIssuer,
    WrongAudience,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChain {
    pub strategies: S<Vec<S<RawAuth>>>,
    /// `forbid` (default), `warn` or `allow`.
    pub fallback: Option<S<String>>,
}

/// An HTTP call: a step in `setup`/`steps`/`teardown`, or an `exchange` strategy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub method: Option<S<String>>,
    /// Appended to the environment's HTTP base URL.
    pub path: Option<S<String>>,
    /// A full `http://` or `https://` URL.
    pub url: Option<S<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    /// A JSON body (templates allowed).
    pub body: Option<S<Value>>,
    /// Expected status or statuses; default any 2xx.
    pub status: Option<S<Value>>,
    pub timeout: Option<S<String>>,
    /// `exchange` only: JSON pointer to the token in the answer (`/access_token`).
    pub token: Option<S<String>>,
    /// Variables taken from the JSON answer by JSON pointer (`user_id: /user_id`).
    #[serde(default)]
    pub capture: BTreeMap<String, S<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBearer {
    /// Name of a secret declared by the environment.
    pub secret: Option<S<String>>,
    /// Name of an environment variable holding the token.
    pub env: Option<S<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnect {
    pub path: Option<S<String>>,
    pub url: Option<S<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub query: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub subprotocols: Vec<S<String>>,
    pub token_in: Option<S<RawTokenIn>>,
    pub timeout: Option<S<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawTokenIn {
    /// `Authorization: Bearer <token>`.
    Header,
    /// `?<param>=<token>`.
    Query(String),
    /// A `Sec-WebSocket-Protocol` entry `<prefix><token>`.
    Subprotocol(String),
    /// A cookie `<name>=<token>`.
    Cookie(String),
    /// Nowhere in the handshake: the scenario sends `{{ auth.token }}` itself.
    Message,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawHandshake {
    Accepted,
    Rejected(RawRejected),
    Timeout,
    Closed(RawCloseExpectation),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRejected {
    /// A status or a list of statuses.
    pub status: S<Value>,
    /// A pattern for the response body (JSON subset, or a string/regex for text).
    pub body: Option<S<Value>>,
}

/// An expected close from the server: `handshake: {closed: ...}` and `expect_close`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloseExpectation {
    /// A close code or a list of them; none means any code.
    pub code: Option<S<Value>>,
    /// A pattern for the close reason.
    pub reason: Option<S<Value>>,
    pub within: Option<S<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawStep {
    Send(S<Value>),
    Expect(RawExpect),
    ExpectSequence(RawMany),
    ExpectUnordered(RawMany),
    ExpectNone(RawExpectNone),
    Close(RawClose),
    ExpectClose(RawCloseExpectation),
    Http(Box<RawHttp>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    #[serde(rename = "match")]
    pub pattern: S<Value>,
    pub within: Option<S<String>>,
    #[serde(default)]
    pub capture: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMany {
    pub events: S<Vec<S<Value>>>,
    /// A pattern, or a list of patterns, for messages to skip.
    pub ignore: Option<S<Value>>,
    /// Deadline for the whole set.
    pub within: Option<S<String>>,
    /// Deadline for each event after the previous one (sequences only).
    pub each_within: Option<S<String>>,
    #[serde(default)]
    pub capture: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectNone {
    #[serde(rename = "match")]
    pub pattern: S<Value>,
    pub within: S<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClose {
    pub code: Option<S<u16>>,
    pub reason: Option<String>,
}
