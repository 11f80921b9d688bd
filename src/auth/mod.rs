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

pub(crate) use credential::{AuthEnv, Credential, acquire};
pub(crate) use decode::{DecodeError, Decoded, decode_unverified};
pub(crate) use error::AuthError;
pub(crate) use jwt::{mint, now_unix};
