//! Owns [`AuthError`]: why a strategy could not produce a credential. Messages follow the
//! crate's convention: what could not be done, as a verb phrase the caller prefixes with
//! `cannot`.

use crate::http::HttpError;

/// Why a strategy could not produce a credential.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("find secret `{0}`: the environment does not declare it")]
    UnknownSecret(String),
    #[error("render JWT claims: {0}")]
    Claims(String),
    #[error("sign JWT: {0}")]
    Sign(String),
    #[error("read the token: environment variable `{0}` is not set")]
    MissingEnv(String),
    #[error("exchange a key for a token: {0}")]
    Exchange(HttpError),
    #[error("exchange a key for a token: the answer's `{pointer}` is not a non-empty string")]
    ExchangeToken { pointer: String },
    #[error("authenticate: a chain cannot contain another chain")]
    NestedChain,
    #[error(
        "authenticate with strategy {index} (`{strategy}`) of the chain, and `fallback: forbid` stops there: cannot {error}"
    )]
    FallbackForbidden {
        index: usize,
        strategy: &'static str,
        error: Box<AuthError>,
    },
    #[error("authenticate with any strategy of the chain: {}", .0.join("; "))]
    ChainExhausted(Vec<String>),
    /// A `key_file` could not be read; `path` is as written in the scenario.
    #[error("read key file {}: {error}", path.display())]
    ReadKeyFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    /// The key is not a private key the algorithm can sign with. `from` names the key
    /// (``secret `rsa_key` `` or `key file keys/a.pem`); `reason` never quotes key material.
    #[error("parse {algorithm} private key from {from}: {reason}")]
    ParseKey {
        algorithm: &'static str,
        from: String,
        reason: String,
    },
    /// An HMAC key (secret or file) with no bytes.
    #[error("use {0} as an HMAC key: it is empty")]
    EmptyKey(String),
    /// `mutate: wrong_secret` with the very key that mutation signs with.
    #[error(
        "apply mutation wrong_secret: {0} is the built-in wrong key, so the token would be \
         correctly signed; sign with another key"
    )]
    KeyIsWrongKey(String),
}
