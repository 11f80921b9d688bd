//! The typed error of the reference server: everything `run`, `spawn` and `serve` can fail with.
//!
//! Messages are lowercase and read after "failed to", e.g. "failed to bind 127.0.0.1:8765: ...".

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the reference server could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening socket could not be created.
    #[error("bind {addr}")]
    Bind {
        /// Address that was asked for.
        addr: SocketAddr,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The listener's local address could not be read.
    #[error("read the listener's local address")]
    LocalAddr(#[source] std::io::Error),
    /// No JWT secret was found in any of the variables tried.
    #[error(
        "find a JWT secret for environment '{environment}': set one of {}",
        tried.join(", ")
    )]
    MissingJwtSecret {
        /// The environment name given to `serve`.
        environment: String,
        /// Every variable name that was looked up, in order.
        tried: Vec<String>,
    },
    /// The options or secrets are inconsistent.
    #[error("accept the configuration: {0}")]
    InvalidConfig(String),
    /// A configured public key is not a usable PEM key.
    #[error("load the {kind} public key")]
    PublicKey {
        /// "RSA" or "EC".
        kind: &'static str,
        /// Error from jsonwebtoken.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// A file named in the options or flags could not be read.
    #[error("read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The users seed file is not a list of users.
    #[error("parse the users file {}: {message}", path.display())]
    UsersFile {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}
