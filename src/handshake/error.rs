//! Owns [`HandshakeError`]: why the upgrade request could not be built.

/// The upgrade request could not be built from the scenario's `connect` section.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// A template in the URL, query or headers did not render.
    #[error("render the connection settings: {0}")]
    Template(String),
    /// The URL is not a valid WebSocket URL.
    #[error("build the request URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    /// A header name or value is not valid HTTP.
    #[error("set header `{0}`: the name or value is not valid in HTTP")]
    Header(String),
}
