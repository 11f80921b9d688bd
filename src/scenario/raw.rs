//! Owns the raw scenario model: the YAML document exactly as written, with source
//! positions (`Spanned`) on everything validation may need to point at. No meaning is
//! attached here; `validate` turns it into a [`crate::scenario::Plan`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
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
    #[serde(default)]
    pub steps: Vec<S<RawStep>>,
    /// Dotted JSON paths whose values are replaced by `[redacted]` in snapshots.
    #[serde(default)]
    pub redact: Vec<S<String>>,
    /// Behaviour of the embedded reference server for this scenario (replaces the
    /// environment's `embedded.options`); ignored by environments without one.
    pub reference_server: Option<S<crate::server::ServerOptions>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawAuth {
    None,
    Jwt(Box<RawJwt>),
    Bearer(RawBearer),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwt {
    /// Name of a secret declared by the environment.
    pub secret: S<String>,
    pub algorithm: Option<S<String>>,
    /// Claims; string values may hold templates.
    pub claims: Option<S<Value>>,
    /// `15m`; a leading `-` mints an already expired token.
    pub expires_in: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBearer {
    /// Name of a secret declared by the environment.
    pub secret: Option<S<String>>,
    /// Name of an environment variable holding the token.
    pub env: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawHandshake {
    Accepted,
    Rejected(RawRejected),
    Timeout,
    Closed(RawCloseExpectation),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRejected {
    /// A status or a list of statuses.
    pub status: S<Value>,
    /// A pattern for the response body (JSON subset, or a string/regex for text).
    pub body: Option<S<Value>>,
}

/// An expected close from the server: `handshake: {closed: ...}` and `expect_close`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloseExpectation {
    /// A close code or a list of them; none means any code.
    pub code: Option<S<Value>>,
    /// A pattern for the close reason.
    pub reason: Option<S<Value>>,
    pub within: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawStep {
    Send(S<Value>),
    Expect(RawExpect),
    ExpectSequence(RawMany),
    ExpectUnordered(RawMany),
    ExpectNone(RawExpectNone),
    Close(RawClose),
    ExpectClose(RawCloseExpectation),
}

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectNone {
    #[serde(rename = "match")]
    pub pattern: S<Value>,
    pub within: S<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClose {
    pub code: Option<S<u16>>,
    pub reason: Option<String>,
}
