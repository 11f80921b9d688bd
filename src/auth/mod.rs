//! Auth strategies: turn a scenario's `auth` plan and the environment's secrets into a
//! [`Credential`] (the token plus a description of where it came from), or an [`AuthError`].

mod chain;
mod credential;
mod decode;
mod error;
mod exchange;
mod jwt;
mod mutate;
#[cfg(test)]
mod testkit;

pub use credential::{AuthEnv, Credential, acquire};
pub use decode::{DecodeError, Decoded, decode_unverified};
pub use error::AuthError;
pub use jwt::{mint, now_unix};
