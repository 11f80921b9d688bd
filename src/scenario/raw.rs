//! Owns the raw scenario model: the YAML document exactly as written, with source
//! positions (`Spanned`) on everything validation may need to point at. No meaning is
//! attached here; `validate` turns it into a [`crate::scenario::Plan`].
//!
//! The same types describe the format to editors: `scenario::schema` derives the JSON
//! Schema from them. `Spanned<T>` is schema-transparent (`#[schemars(with = "T")]` on each
//! field), doc comments are the editors' hover texts, and strings the validator checks later
//! (algorithm and method names, status and close codes) get schema-only types from
//! `scenario::schema`, durations from `crate::duration`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::schema::{
    Algorithm, CloseCodes, FallbackPolicy, FragmentName, HttpMethod, JsonPointer, ScalarText,
    StatusCodes, Variables,
};
use crate::duration::{DurationText, SignedDurationText};
use crate::size::SizeText;

pub(super) type S<T> = Spanned<T>;

/// A sockspec scenario: one YAML file under `scenarios/`, one test per selected environment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub(super) struct RawScenario {
    /// Test name shown in reports; default: the scenario id (its path below `scenarios/`
    /// without `.yaml`).
    pub name: Option<String>,
    /// What the scenario proves (free text).
    pub description: Option<String>,
    /// Free-form labels (`smoke`, `negative`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Environments (declared in `sockspec.yaml`) this scenario runs in; default: every
    /// selected environment.
    #[schemars(with = "Option<Vec<String>>")]
    pub environments: Option<Vec<S<String>>>,
    /// Fragments to include, by name, applied in order before the scenario's own keys: `qa_user`
    /// is `_shared/qa_user.yaml` in the scenario's directory or the nearest directory above it,
    /// up to the scenario root, that has one.
    #[serde(default)]
    #[schemars(with = "Vec<FragmentName>")]
    pub include: Vec<S<String>>,
    /// Variables evaluated once per run, in the order written, before `setup` and `auth`:
    /// `msg_id: "{{ uuid }}"` is one UUID that every later `{{ msg_id }}` repeats. Values are
    /// any YAML value; strings may hold templates using builtins, `env.NAME`, `secrets.NAME`
    /// and earlier variables.
    #[serde(default)]
    #[schemars(with = "Variables")]
    pub vars: RawVars,
    /// Where the handshake token comes from: `none` (default), `jwt`, `bearer`, `api_key`,
    /// `exchange` or `chain`.
    #[schemars(with = "Option<RawAuth>")]
    pub auth: Option<S<RawAuth>>,
    /// How the WebSocket is opened: path or URL, headers, query, subprotocols, where the token
    /// goes, handshake deadline.
    #[serde(default)]
    #[schemars(with = "RawConnect")]
    pub connect: Option<RawConnect>,
    /// The expected outcome of the upgrade: `accepted` (default), `{rejected: ...}`,
    /// `timeout` or `{closed: ...}`.
    #[schemars(with = "Option<RawHandshake>")]
    pub handshake: Option<S<RawHandshake>>,
    /// HTTP steps run before auth (captures are available to auth and later steps).
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub setup: Vec<S<RawStep>>,
    /// What happens on the open connection, in order (only with an accepted handshake).
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub steps: Vec<S<RawStep>>,
    /// HTTP steps run after everything else, always: also after a failure or a timeout.
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub teardown: Vec<S<RawStep>>,
    /// Per-environment replacements of whole top-level fields.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawOverride>")]
    pub overrides: BTreeMap<String, S<RawOverride>>,
    /// Dotted JSON paths, relative to a message or an HTTP body (setup, auth, teardown),
    /// whose values are replaced by `[redacted]` in snapshots.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub redact: Vec<S<String>>,
    /// A pattern, or a list of patterns, that every expect step ignores (heartbeats, acks):
    /// a visible message matching one is claimed as ignored instead of being left over.
    #[schemars(with = "Option<Value>")]
    pub ignore: Option<S<Value>>,
    /// What happens to messages no step claimed by the end: `list` them in the transcript
    /// (default) or `fail` the scenario.
    #[schemars(with = "Option<RawUnclaimed>")]
    pub unclaimed: Option<S<RawUnclaimed>>,
    /// Which frames the snapshot holds: `all` (default: every step's frames and the
    /// unclaimed messages), `claimed` (no unclaimed list) or `none` (no frames: for
    /// scenarios whose messages are not worth committing, e.g. a 10,000-message stream).
    #[schemars(with = "Option<RawSnapshotFrames>")]
    pub snapshot_frames: Option<S<RawSnapshotFrames>>,
    /// Behaviour of the embedded reference server for this scenario (replaces the
    /// environment's `embedded.options`); ignored by environments without one.
    #[schemars(with = "Option<crate::server_options::ServerOptions>")]
    pub reference_server: Option<S<crate::server_options::ServerOptions>>,
}

/// `snapshot_frames:`: which frames the snapshot holds.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "SnapshotFrames")]
pub(super) enum RawSnapshotFrames {
    /// Every step's frames and the unclaimed messages.
    All,
    /// Every step's frames, without the unclaimed messages.
    Claimed,
    /// No frames.
    None,
}

/// `connect.binary:`: how binary frames are read.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "BinaryFrames")]
pub(super) enum RawBinary {
    /// As bytes.
    Bytes,
    /// As UTF-8 JSON text.
    Json,
}

/// A fragment: a file in a `_shared/` directory holding top-level keys that scenarios include
/// by name (`include: [qa_user]`). Not a scenario: it has no name, environments or overrides
/// of its own. The scenario's keys and the fragments' combine as docs/scenario-format.md
/// ("Shared fragments") describes: `vars` merge by name, lists (`setup`, `steps`, `ignore`,
/// `redact`, `tags`) are joined, `teardown` runs after the scenario's, and any other key
/// written later replaces the earlier one whole.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fragment")]
pub(super) struct RawFragment {
    /// Further fragments, applied before this one's keys (a fragment may not include itself,
    /// directly or through others).
    #[serde(default)]
    #[schemars(with = "Vec<FragmentName>")]
    pub include: Vec<S<String>>,
    /// Labels added to the including scenario's.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Variables, before the scenario's; a name assigned again later keeps its place and takes
    /// the later value.
    #[serde(default)]
    #[schemars(with = "Variables")]
    pub vars: RawVars,
    /// The auth strategy, unless the scenario (or a later fragment) has its own.
    #[schemars(with = "Option<RawAuth>")]
    pub auth: Option<S<RawAuth>>,
    /// How the WebSocket is opened, unless the scenario (or a later fragment) says so itself
    /// (replaced whole, not merged field by field).
    pub connect: Option<RawConnect>,
    /// The expected outcome of the upgrade, unless the scenario (or a later fragment) has its
    /// own.
    #[schemars(with = "Option<RawHandshake>")]
    pub handshake: Option<S<RawHandshake>>,
    /// HTTP steps run before the scenario's `setup`.
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub setup: Vec<S<RawStep>>,
    /// Steps run before the scenario's `steps` (only with an accepted handshake).
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub steps: Vec<S<RawStep>>,
    /// HTTP steps run after the scenario's `teardown` (the fragments' in reverse order), always.
    #[serde(default)]
    #[schemars(with = "Vec<RawStep>")]
    pub teardown: Vec<S<RawStep>>,
    /// Dotted JSON paths redacted in snapshots, added to the scenario's.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub redact: Vec<S<String>>,
    /// A pattern, or a list of patterns, that every expect step ignores, added to the
    /// scenario's.
    #[schemars(with = "Option<Value>")]
    pub ignore: Option<S<Value>>,
    /// What happens to unclaimed messages, unless the scenario (or a later fragment) says so.
    #[schemars(with = "Option<RawUnclaimed>")]
    pub unclaimed: Option<S<RawUnclaimed>>,
    /// Behaviour of the embedded reference server, unless the scenario (or a later fragment)
    /// has its own.
    #[schemars(with = "Option<crate::server_options::ServerOptions>")]
    pub reference_server: Option<S<crate::server_options::ServerOptions>>,
}

/// `unclaimed:`: what happens to messages no step claimed.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Unclaimed")]
pub(super) enum RawUnclaimed {
    /// List them in the transcript (`unclaimed:` in the snapshot).
    List,
    /// Fail the scenario, naming them.
    Fail,
}

/// What an environment may replace in a scenario (`overrides: {prod: {...}}`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Override")]
pub(super) struct RawOverride {
    /// Replaces the scenario's `vars` (the whole map; absent: the scenario's are kept).
    #[schemars(with = "Option<Variables>")]
    pub vars: Option<RawVars>,
    /// Replaces the scenario's `auth`.
    #[schemars(with = "Option<RawAuth>")]
    pub auth: Option<S<RawAuth>>,
    /// Replaces the scenario's `connect`.
    pub connect: Option<RawConnect>,
    /// Replaces the scenario's `handshake`.
    #[schemars(with = "Option<RawHandshake>")]
    pub handshake: Option<S<RawHandshake>>,
    /// Replaces the scenario's `setup`.
    #[schemars(with = "Option<Vec<RawStep>>")]
    pub setup: Option<Vec<S<RawStep>>>,
    /// Replaces the scenario's `steps` (`[]` for none).
    #[schemars(with = "Option<Vec<RawStep>>")]
    pub steps: Option<Vec<S<RawStep>>>,
    /// Replaces the scenario's `teardown`.
    #[schemars(with = "Option<Vec<RawStep>>")]
    pub teardown: Option<Vec<S<RawStep>>>,
    /// Replaces the scenario's `reference_server`.
    #[schemars(with = "Option<crate::server_options::ServerOptions>")]
    pub reference_server: Option<S<crate::server_options::ServerOptions>>,
}

/// An auth strategy: `none`, or a one-key map naming the strategy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Auth")]
pub(super) enum RawAuth {
    /// No token: the handshake carries no credential.
    None,
    /// Mint a JWT.
    Jwt(Box<RawJwt>),
    /// A static token from a secret or an environment variable, sent as a bearer token.
    Bearer(RawBearer),
    /// A static API key from a secret or an environment variable (the same as `bearer`,
    /// named for what it is).
    ApiKey(RawBearer),
    /// Ask an auth service for a real user's token (an HTTP call).
    Exchange(Box<RawHttp>),
    /// Strategies tried in order, with a fallback policy.
    Chain(RawChain),
}

/// `jwt`: how the token is minted.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Jwt")]
pub(super) struct RawJwt {
    /// Name of a secret declared by the environment: the HMAC secret, or a PEM private key.
    #[schemars(with = "Option<String>")]
    pub secret: Option<S<String>>,
    /// A PEM private key file (RS256/ES256), relative to the project root.
    #[schemars(with = "Option<String>")]
    pub key_file: Option<S<String>>,
    /// Signing algorithm: HS256 (default), HS384, HS512, RS256 or ES256.
    #[schemars(with = "Option<Algorithm>")]
    pub algorithm: Option<S<String>>,
    /// Key id written into the header.
    #[schemars(with = "Option<String>")]
    pub kid: Option<S<String>>,
    /// Claims; string values may hold templates. `iat` and `exp` are added unless set here.
    #[schemars(with = "Option<Value>")]
    pub claims: Option<S<Value>>,
    /// Token lifetime, default `15m`; a leading `-` mints an already expired token.
    #[schemars(with = "Option<SignedDurationText>")]
    pub expires_in: Option<S<String>>,
    /// `nbf` relative to now (`5m` is in the future, `-1m` in the past).
    #[schemars(with = "Option<SignedDurationText>")]
    pub not_before: Option<S<String>>,
    /// Makes the token deliberately bad, to prove the server enforces auth.
    #[schemars(with = "Option<RawMutation>")]
    pub mutate: Option<S<RawMutation>>,
}

/// A deliberately bad token.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Mutation")]
pub(super) enum RawMutation {
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
    /// The named claim removed (`{drop_claim: sub}`).
    DropClaim(String),
    /// `iss` replaced by an issuer nobody trusts.
    WrongIssuer,
    /// `aud` replaced by an audience nobody expects.
    WrongAudience,
}

/// `chain`: strategies tried in order.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Chain")]
pub(super) struct RawChain {
    /// The strategies, in order (a chain cannot contain another chain).
    #[schemars(with = "Vec<RawAuth>")]
    pub strategies: S<Vec<S<RawAuth>>>,
    /// `forbid` (default): fail with the first strategy's error; `warn` or `allow`: try the
    /// next one (`warn` also prints the failed attempt).
    #[schemars(with = "Option<FallbackPolicy>")]
    pub fallback: Option<S<String>>,
}

/// An HTTP call: a step in `setup`/`steps`/`teardown`, or an `exchange` strategy.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Http")]
pub(super) struct RawHttp {
    /// HTTP method; default GET (POST for `exchange`).
    #[schemars(with = "Option<HttpMethod>")]
    pub method: Option<S<String>>,
    /// Appended to the environment's HTTP base URL.
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    /// A full `http://` or `https://` URL.
    #[schemars(with = "Option<String>")]
    pub url: Option<S<String>>,
    /// Request headers; values may hold templates (`{{ secrets.bypass_key }}`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ScalarText>")]
    pub headers: BTreeMap<String, S<String>>,
    /// A JSON body (templates allowed).
    #[schemars(with = "Option<Value>")]
    pub body: Option<S<Value>>,
    /// Expected status or statuses; default any 2xx.
    #[schemars(with = "Option<StatusCodes>")]
    pub status: Option<S<Value>>,
    /// Deadline for the call (default 10s).
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<S<String>>,
    /// `exchange` only: JSON pointer to the token in the answer (`/access_token`).
    #[schemars(with = "Option<JsonPointer>")]
    pub token: Option<S<String>>,
    /// Variables taken from the JSON answer by JSON pointer (`user_id: /user_id`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, JsonPointer>")]
    pub capture: BTreeMap<String, S<String>>,
}

/// `bearer` / `api_key`: where the static token comes from (one of `secret`, `env`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StaticToken")]
pub(super) struct RawBearer {
    /// Name of a secret declared by the environment.
    #[schemars(with = "Option<String>")]
    pub secret: Option<S<String>>,
    /// Name of an environment variable holding the token.
    #[schemars(with = "Option<String>")]
    pub env: Option<S<String>>,
}

/// How the WebSocket is opened.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Connect")]
pub(super) struct RawConnect {
    /// Appended to the environment's `ws_url` (default `/ws`); templates allowed.
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    /// A full `ws://` or `wss://` URL instead of `path`; templates allowed.
    #[schemars(with = "Option<String>")]
    pub url: Option<S<String>>,
    /// Extra handshake headers; values may hold templates.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ScalarText>")]
    pub headers: BTreeMap<String, S<String>>,
    /// Headers of `headers` that carry a credential (a session header, a signed token
    /// header) beside the usual names (Authorization, Proxy-Authorization, Cookie, X-Api-Key,
    /// X-Auth-Token): their values are redacted, and a 401/403 is blamed on them.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub credential_headers: Vec<S<String>>,
    /// Query parameters added to the URL; values may hold templates.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, ScalarText>")]
    pub query: BTreeMap<String, S<String>>,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub subprotocols: Vec<S<String>>,
    /// Where the token goes: `header` (default), `{query: NAME}`, `{subprotocol: PREFIX}`,
    /// `{cookie: NAME}` or `message`.
    #[schemars(with = "Option<RawTokenIn>")]
    pub token_in: Option<S<RawTokenIn>>,
    /// Handshake deadline (default 10s).
    #[schemars(with = "Option<DurationText>")]
    pub timeout: Option<S<String>>,
    /// How binary frames from the server are read: `bytes` (default: shown as
    /// `binary (N bytes)`, never matched as JSON) or `json` (decoded as UTF-8 JSON text, for
    /// protocols that send JSON in binary frames).
    #[schemars(with = "Option<RawBinary>")]
    pub binary: Option<S<RawBinary>>,
    /// The largest message the client accepts, all its frames together (default: the
    /// environment's, else 16MiB); a larger one is refused from its frame header and the client
    /// closes with 1009. Bytes (`1048576`) or a size (`64KiB`, `16MiB`), at most 1GiB.
    #[schemars(with = "Option<SizeText>")]
    pub max_message_size: Option<S<Value>>,
    /// The largest single frame the client accepts (default: the environment's, else 16MiB;
    /// never more than `max_message_size`). Bytes or a size, as `max_message_size`.
    #[schemars(with = "Option<SizeText>")]
    pub max_frame_size: Option<S<Value>>,
    /// At the end of the scenario the client sends its close (1000) and waits this long for
    /// the server's answer (default: the environment's `close_timeout`, else 2s).
    #[schemars(with = "Option<DurationText>")]
    pub close_timeout: Option<S<String>>,
    /// Fails the scenario when the closing handshake at its end is not clean: the server
    /// never answers the client's close within `close_timeout`, or ends the connection
    /// without a close frame (default false: recorded in the transcript only).
    #[serde(default)]
    pub expect_clean_close: bool,
    /// How many same-origin redirects (301, 302, 303, 307, 308 to the same scheme, host and
    /// port) the upgrade follows, re-sending the request (default 0: a redirect is reported,
    /// not followed). A redirect to another origin is never followed: credentials stay with
    /// the origin they were meant for.
    #[schemars(with = "Option<u8>")]
    pub follow_redirects: Option<S<Value>>,
}

/// Where the handshake carries the token.
#[derive(Debug, Clone)]
pub(super) enum RawTokenIn {
    /// `Authorization: Bearer <token>`.
    Header,
    /// `{header: NAME, scheme: S}`: header `NAME` with `S <token>`, or the bare token
    /// without a scheme.
    NamedHeader {
        name: String,
        scheme: Option<String>,
    },
    /// `?<param>=<token>`.
    Query(String),
    /// A `Sec-WebSocket-Protocol` entry `<prefix><token>`.
    Subprotocol(String),
    /// A cookie `<name>=<token>`.
    Cookie(String),
    /// Nowhere in the handshake: the scenario sends `{{ auth.token }}` itself.
    Message,
}

// Schema-only: the spellings of `token_in` (read by the `Deserialize` impl of `RawTokenIn`).
/// Where the handshake carries the token.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "TokenIn")]
#[expect(dead_code, reason = "describes the schema; never constructed")]
enum TokenInForms {
    /// `Authorization: Bearer <token>` (the default).
    Header,
    /// Nowhere in the handshake: the scenario sends `{{ auth.token }}` itself.
    Message,
    /// `?<param>=<token>`.
    Query(String),
    /// A `Sec-WebSocket-Protocol` entry `<prefix><token>`.
    Subprotocol(String),
    /// A cookie `<name>=<token>`.
    Cookie(String),
    /// `{header: X-Api-Key}` (the bare token) or `{header: Authorization, scheme: token}`
    /// (`token <token>`): any header, with or without a scheme; the header is the credential
    /// (redacted, and blamed by diagnoses of a 401/403).
    #[serde(untagged)]
    NamedHeader(RawTokenHeader),
}

// Schema-only.
/// `{header: NAME, scheme: S}`: the token in any header, with or without a scheme.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TokenInHeader")]
#[expect(dead_code, reason = "describes the schema; never constructed")]
struct RawTokenHeader {
    /// The header's name (`X-Api-Key`, `Authorization`).
    header: String,
    /// Written before the token with a space (`token` gives `token <token>`); none: the bare
    /// token.
    scheme: Option<String>,
}

impl JsonSchema for RawTokenIn {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        TokenInForms::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        TokenInForms::json_schema(generator)
    }
}

const TOKEN_IN_FORMS: &str = "`header`, `message`, `{query: NAME}`, `{subprotocol: PREFIX}`, \
                              `{cookie: NAME}` or `{header: NAME, scheme: S}`";

/// The keys of a `token_in` map.
const TOKEN_IN_KEYS: &[&str] = &["header", "scheme", "query", "subprotocol", "cookie"];

impl<'de> Deserialize<'de> for RawTokenIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;

        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RawTokenIn;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(TOKEN_IN_FORMS)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawTokenIn, E> {
                match v {
                    "header" => Ok(RawTokenIn::Header),
                    "message" => Ok(RawTokenIn::Message),
                    "query" | "subprotocol" | "cookie" => {
                        Err(E::custom(format!("`{v}` needs a name: `{{{v}: NAME}}`")))
                    }
                    other => Err(E::custom(format!(
                        "unknown `token_in` `{other}`, expected {TOKEN_IN_FORMS}"
                    ))),
                }
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawTokenIn, A::Error> {
                let mut entries: Vec<(String, String)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !TOKEN_IN_KEYS.contains(&key.as_str()) {
                        return Err(serde::de::Error::unknown_variant(&key, TOKEN_IN_KEYS));
                    }
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
                    }
                    let value: String = map.next_value()?;
                    entries.push((key, value));
                }
                let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                match keys.as_slice() {
                    ["query"] => Ok(RawTokenIn::Query(get("query").unwrap_or_default())),
                    ["subprotocol"] => Ok(RawTokenIn::Subprotocol(
                        get("subprotocol").unwrap_or_default(),
                    )),
                    ["cookie"] => Ok(RawTokenIn::Cookie(get("cookie").unwrap_or_default())),
                    ["header"] | ["header", "scheme"] | ["scheme", "header"] => {
                        Ok(RawTokenIn::NamedHeader {
                            name: get("header").unwrap_or_default(),
                            scheme: get("scheme"),
                        })
                    }
                    ["scheme"] => Err(serde::de::Error::custom(
                        "`scheme` needs a `header`: `{header: Authorization, scheme: token}`",
                    )),
                    _ => Err(serde::de::Error::custom(format!(
                        "`token_in` is one of {TOKEN_IN_FORMS}; got the keys {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
        }

        d.deserialize_any(Visit)
    }
}

/// The expected outcome of the upgrade.
// Read by the `Deserialize` impl below: `accepted` is written both bare and as a key
// (`{accepted: {subprotocol: ...}}`), which a derived enum cannot read. The schema is
// derived, one variant per spelling.
#[derive(Debug, Clone, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "Handshake")]
pub(super) enum RawHandshake {
    /// The server answers 101.
    Accepted,
    /// The server answers 101, and the 101 carries what is listed: `{accepted: {subprotocol:
    /// graphql-transport-ws, headers: {x-request-id: {regex: ...}}}}` (`{accepted: null}` is
    /// plain `accepted`).
    #[serde(rename = "accepted")]
    AcceptedWith(#[schemars(with = "Option<RawAccepted>")] RawAccepted),
    /// The server refuses the upgrade with an HTTP status: `rejected: 403`,
    /// `rejected: [401, 403]`, or `rejected: {status: 403, body: {detail: ...}}`.
    Rejected(#[schemars(with = "RejectedForms")] RawRejected),
    /// The server does not answer the upgrade before `connect.timeout` (a silent rejection).
    Timeout,
    /// The server accepts the upgrade, then closes with a code.
    Closed(RawCloseExpectation),
}

/// The keys (and bare values) of `handshake`, for "unknown variant" errors.
const HANDSHAKE_VARIANTS: &[&str] = &["accepted", "rejected", "timeout", "closed"];

/// What `handshake:` holds, in words.
const HANDSHAKE_FORMS: &str =
    "`accepted`, `timeout`, or a map with one key: `accepted`, `rejected` or `closed`";

/// serde's "unknown variant" message for a bare `handshake:` value, as a custom error: the
/// parser locates those at the value (`E::unknown_variant` would point at the key).
fn unknown<E: serde::de::Error>(v: impl std::fmt::Display) -> E {
    E::custom(format!(
        "unknown variant `{v}`, expected one of {}",
        HANDSHAKE_VARIANTS.join(", ")
    ))
}

impl<'de> Deserialize<'de> for RawHandshake {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;

        /// One of [`HANDSHAKE_VARIANTS`], read as a key so an unknown one is reported there.
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Key {
            Accepted,
            Rejected,
            Timeout,
            Closed,
        }

        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RawHandshake;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(HANDSHAKE_FORMS)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawHandshake, E> {
                match v {
                    "accepted" => Ok(RawHandshake::Accepted),
                    "timeout" => Ok(RawHandshake::Timeout),
                    "rejected" => Err(E::custom(
                        "`rejected` needs a status: `rejected: 403`, `rejected: [401, 403]` or \
                         `rejected: {status: 403, body: ...}`",
                    )),
                    "closed" => Err(E::custom(
                        "`closed` needs a map: `closed: {code: 1008}` (`closed: {}` for any code)",
                    )),
                    other => Err(unknown(other)),
                }
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawHandshake, E> {
                Err(unknown(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawHandshake, E> {
                Err(unknown(v))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawHandshake, E> {
                Err(unknown(v))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawHandshake, E> {
                Err(unknown(v))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                _seq: A,
            ) -> Result<RawHandshake, A::Error> {
                Err(serde::de::Error::custom(format!(
                    "`handshake` is a list: expected {HANDSHAKE_FORMS}"
                )))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawHandshake, A::Error> {
                let Some(key) = map.next_key::<Key>()? else {
                    return Err(serde::de::Error::custom(format!(
                        "`handshake` is empty: expected {HANDSHAKE_FORMS}"
                    )));
                };
                let handshake = match key {
                    Key::Accepted => match map.next_value::<Option<RawAccepted>>()? {
                        None => RawHandshake::Accepted,
                        Some(a) => RawHandshake::AcceptedWith(a),
                    },
                    Key::Rejected => RawHandshake::Rejected(map.next_value()?),
                    Key::Timeout => {
                        map.next_value::<()>()?;
                        RawHandshake::Timeout
                    }
                    Key::Closed => RawHandshake::Closed(map.next_value()?),
                };
                if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom(
                        "`handshake` is one outcome: a map with a single key",
                    ));
                }
                Ok(handshake)
            }
        }

        d.deserialize_any(Visit)
    }
}

/// `handshake: {accepted: ...}`: what the 101 must carry. Each entry is a pattern (the
/// pattern language of `expect`); an absent entry is not checked.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Accepted")]
pub(super) struct RawAccepted {
    /// The subprotocol the server selects (`Sec-WebSocket-Protocol` of the 101): a name, a
    /// pattern (`{regex: ^graphql}`, `{one_of: [a, b]}`), or `null` for none selected (legal:
    /// a server may speak none of the offered ones).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<Value>", transform = no_default)]
    pub subprotocol: Option<S<Value>>,
    /// Response headers of the 101 (names case-insensitive): each value must match its
    /// pattern (a string is compared exactly); `null` requires the header to be absent.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub headers: BTreeMap<String, S<Value>>,
}

/// Schema only: no `default` for `subprotocol`, whose `null` means "none selected", not
/// "not checked".
fn no_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

/// Reads a field that may be `null` as `Some(null)`, so an explicit `null` differs from an
/// absent field (`#[serde(default)]` gives `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<S<Value>>, D::Error> {
    S::<Value>::deserialize(d).map(Some)
}

/// `handshake: {rejected: ...}`: the full form (the short forms `403` and `[401, 403]` are
/// read by the `Deserialize` impl below, which keeps positions in the full form).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(rename = "Rejected", deny_unknown_fields)]
pub(super) struct RawRejected {
    /// A status or a list of statuses (`403`, `[401, 403]`).
    #[schemars(with = "StatusCodes")]
    pub status: S<Value>,
    /// A pattern for the response body (JSON subset, or a string/regex for text).
    #[schemars(with = "Option<Value>")]
    pub body: Option<S<Value>>,
}

/// Schema-only: the three spellings of `rejected`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "describes the schema; never constructed")]
enum RejectedForms {
    Short(StatusCodes),
    Full(Box<RawRejected>),
}

const REJECTED_FIELDS: &[&str] = &["status", "body"];

impl<'de> Deserialize<'de> for RawRejected {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;

        fn short(status: Value) -> RawRejected {
            let unknown = serde_saphyr::Location::UNKNOWN;
            RawRejected {
                status: Spanned {
                    value: status,
                    referenced: unknown,
                    defined: unknown,
                },
                body: None,
            }
        }

        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RawRejected;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a status (403), a list of statuses, or a map with `status` and `body`")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawRejected, E> {
                Ok(short(Value::from(v)))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawRejected, E> {
                Ok(short(Value::from(v)))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawRejected, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    items.push(v);
                }
                Ok(short(Value::Array(items)))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawRejected, A::Error> {
                let mut status = None;
                let mut body = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "status" if status.is_none() => status = Some(map.next_value()?),
                        "body" if body.is_none() => body = Some(map.next_value()?),
                        "status" | "body" => {
                            return Err(serde::de::Error::custom(format!(
                                "duplicate field `{key}`"
                            )));
                        }
                        other => {
                            return Err(serde::de::Error::unknown_field(other, REJECTED_FIELDS));
                        }
                    }
                }
                let status = status.ok_or_else(|| serde::de::Error::missing_field("status"))?;
                Ok(RawRejected { status, body })
            }
        }

        d.deserialize_any(Visit)
    }
}

/// An expected close from the server: `handshake: {closed: ...}` and `expect_close`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CloseExpectation")]
pub(super) struct RawCloseExpectation {
    /// A close code or a list of them; none means any code.
    #[schemars(with = "Option<CloseCodes>")]
    pub code: Option<S<Value>>,
    /// A pattern for the close reason.
    #[schemars(with = "Option<Value>")]
    pub reason: Option<S<Value>>,
    /// Deadline (default 5s).
    #[schemars(with = "Option<DurationText>")]
    pub within: Option<S<String>>,
    /// A close earlier than this (from the step's start) fails, naming when it came.
    #[schemars(with = "Option<DurationText>")]
    pub after: Option<S<String>>,
    /// Fail on any message that arrives before the close (by default such messages are left
    /// unclaimed).
    #[serde(default)]
    pub strict: bool,
}

/// One step: a one-key map naming what it does.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Step")]
pub(super) enum RawStep {
    /// Send a JSON frame; a YAML string sends a text frame. Templates allowed.
    Send(#[schemars(with = "Value")] S<Value>),
    /// The next message matching a pattern, within a deadline.
    Expect(RawExpect),
    /// Patterns in order; other messages are skipped.
    ExpectSequence(RawMany),
    /// Every pattern, in any order, within the window.
    ExpectUnordered(RawMany),
    /// No message matching the pattern arrives within the window.
    ExpectNone(RawExpectNone),
    /// The client closes the connection (code 1000 or 3000–4999).
    Close(RawClose),
    /// The server closes with a code and a reason matching a pattern.
    ExpectClose(RawCloseExpectation),
    /// An HTTP call (the only step allowed in `setup` and `teardown`).
    Http(Box<RawHttp>),
    /// Assign variables, in the order written (`set: {msg_id: "{{ uuid }}"}`); later steps
    /// use them. Recorded in the transcript like a capture.
    Set(#[schemars(with = "Variables")] RawVars),
}

/// `vars:` and `set:`: variable names and values in the order written, each name with its
/// position (a map in YAML; the `Deserialize` impl keeps the order and the key positions).
#[derive(Debug, Clone, Default)]
pub(super) struct RawVars(pub Vec<(S<String>, S<Value>)>);

impl<'de> Deserialize<'de> for RawVars {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;

        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RawVars;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of variable names to values")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawVars, A::Error> {
                let mut entries = Vec::new();
                while let Some(name) = map.next_key::<S<String>>()? {
                    entries.push((name, map.next_value::<S<Value>>()?));
                }
                Ok(RawVars(entries))
            }
        }

        d.deserialize_any(Visit)
    }
}

/// `expect`: the next message matching a pattern.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Expect")]
pub(super) struct RawExpect {
    /// The pattern: a map is a subset (dotted keys), predicates (`eq`, `regex`, `gt`,
    /// `exists`, `one_of`, `type`, …) test a value, a scalar matches by equality.
    #[serde(rename = "match")]
    #[schemars(with = "Value")]
    pub pattern: S<Value>,
    /// Deadline (default 5s).
    #[schemars(with = "Option<DurationText>")]
    pub within: Option<S<String>>,
    /// Variables taken from the matched message by dotted path (`run: run_id`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub capture: BTreeMap<String, S<String>>,
    /// Fail on any visible message that matches neither the pattern nor an `ignore` pattern.
    #[serde(default)]
    pub strict: bool,
    /// Only messages matching this pattern (templates allowed) are visible to the step; the
    /// others stay for later steps.
    #[serde(rename = "where")]
    #[schemars(with = "Option<Value>")]
    pub filter: Option<S<Value>>,
    /// A pattern, or a list of patterns, for visible messages to claim as ignored.
    #[schemars(with = "Option<Value>")]
    pub ignore: Option<S<Value>>,
}

/// `expect_sequence` / `expect_unordered`: several patterns.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ExpectMany")]
pub(super) struct RawMany {
    /// The events (at least one): a pattern takes exactly one message; `{repeat: PATTERN,
    /// count: N}`, `{repeat: PATTERN, min: A, max: B}` or `{repeat: PATTERN, until: PATTERN}`
    /// takes several.
    #[schemars(with = "Vec<crate::scenario::schema::SequenceEvent>")]
    pub events: S<Vec<S<Value>>>,
    /// A pattern, or a list of patterns, for visible messages to claim as ignored.
    #[schemars(with = "Option<Value>")]
    pub ignore: Option<S<Value>>,
    /// Only messages matching this pattern (templates allowed) are visible to the step; the
    /// others stay for later steps.
    #[serde(rename = "where")]
    #[schemars(with = "Option<Value>")]
    pub filter: Option<S<Value>>,
    /// Deadline for the whole set (default 5s).
    #[schemars(with = "Option<DurationText>")]
    pub within: Option<S<String>>,
    /// Deadline for each event after the previous one (sequences only).
    #[schemars(with = "Option<DurationText>")]
    pub each_within: Option<S<String>>,
    /// Variables taken from the matched messages; the path starts with the event's index
    /// (`4.result.savings_usd`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub capture: BTreeMap<String, S<String>>,
    /// Fail on any message that matches neither an event nor an `ignore` pattern.
    #[serde(default)]
    pub strict: bool,
}

/// `expect_none`: no matching message within the window.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ExpectNone")]
pub(super) struct RawExpectNone {
    /// The pattern no message may match.
    #[serde(rename = "match")]
    #[schemars(with = "Value")]
    pub pattern: S<Value>,
    /// How long to watch.
    #[schemars(with = "DurationText")]
    pub within: S<String>,
    /// Only messages matching this pattern (templates allowed) are watched.
    #[serde(rename = "where")]
    #[schemars(with = "Option<Value>")]
    pub filter: Option<S<Value>>,
}

/// `close`: the client closes the connection.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Close")]
pub(super) struct RawClose {
    /// Close code: 1000 or 3000–4999 (default 1000).
    #[schemars(with = "Option<u16>")]
    pub code: Option<S<u16>>,
    /// Close reason.
    pub reason: Option<String>,
}
