//! Owns `sockspec doctor --env E`: checks an environment and explains each result on one
//! line (✓ passed, ✗ failed, – not applicable), continuing after failures. It checks every
//! declared secret (variable and fingerprint, or every variable tried), then the service —
//! remote, or the embedded reference server started in-process on 127.0.0.1 — DNS, TCP,
//! TLS, the health check, clock skew from the HTTP `Date` header, the bypass-key exchange
//! and one probe handshake on `/ws` with a token minted from the `jwt` secret. Every
//! network wait has a deadline; no secret value is ever printed. A remote environment's
//! probe token and bypass key come from the secrets named `jwt` and `bypass_key`; an embedded
//! one's from its `jwt_secret` and `bypass_key`.

mod auth;
mod network;
mod report;
mod run;

pub(super) use run::{DoctorArgs, run};
