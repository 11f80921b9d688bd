//! Owns the reference server's behaviour knobs (`ServerOptions`) and the seed-user record:
//! pure data, a foundation below the pipeline, because three layers read it: the scenario
//! format (`reference_server:`), the environment (`embedded:` in `sockspec.yaml`) and the
//! server itself.
//!
//! `ServerOptions` is meant to be written in YAML under an environment's `embedded:` key (and
//! a scenario's `reference_server:`), so every field is snake_case, optional
//! (`#[serde(default)]`) and unknown keys are rejected. It also derives `JsonSchema`: the
//! scenario schema (`scenario::schema`) describes `reference_server:` from this very type; and
//! `clap::Args`: `sockspec serve` flattens it into its flags (`--event-delay` for
//! `event_delay`, …). A field's doc comment is both its schema description and its flag's help,
//! so the YAML keys, the schema and the flags cannot drift apart.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::duration::{self, DurationText};

/// Lifetime of tokens minted by `POST /auth/e2e/test-auth` when `token_ttl` is not set.
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Largest `oversized_frame` accepted (64 MiB, tungstenite's default message limit).
pub(crate) const MAX_OVERSIZED_FRAME: usize = 64 << 20;

/// How long `message_auth` waits for the auth message when `message_auth_timeout` is not set.
pub(crate) const DEFAULT_MESSAGE_AUTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Close code of a refused or missing auth message when no other code is configured
/// (1008, policy violation).
pub(crate) const DEFAULT_MESSAGE_AUTH_CLOSE_CODE: u16 = 1008;

/// Largest `jitter` accepted: every reply and stream tick waits at most this much extra.
pub(crate) const MAX_JITTER: Duration = Duration::from_secs(10);

/// Longest duration an option may give (`leeway`, `token_ttl`, `event_delay`,
/// `heartbeat_interval`, `message_auth_timeout`): [`duration::MAX`]. The server adds them to
/// the current time (heartbeat deadlines, token expiry) and jsonwebtoken subtracts the leeway from it: without
/// a bound, `heartbeat_interval: 18446744073709551615s`, `token_ttl: 18446744073709551615s` or
/// `leeway: 100y` passed validation and made the server panic on overflow. YAML is capped by
/// the parser; [`ServerOptions::validate`] checks options built in code.
pub(crate) const MAX_OPTION_DURATION: Duration = duration::MAX;

/// Options that contradict each other or are out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("accept the configuration: {0}")]
pub struct InvalidOptions(pub String);

/// Behaviour knobs of the reference server. Every field is optional; the defaults are a
/// well-behaved server that accepts any validly signed token.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields, default)]
pub struct ServerOptions {
    /// Staging mode: the token's `sub` must be a known, active user.
    #[arg(long)]
    pub require_known_users: bool,
    /// Users known from the start (staging mode).
    #[arg(skip)]
    pub users: Vec<SeedUser>,
    /// YAML or JSON file holding a list of users, loaded at start.
    #[arg(long, value_name = "PATH")]
    pub users_file: Option<PathBuf>,
    /// Required `iss` claim; also written into minted tokens.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Required `aud` claim; also written into minted tokens. When unset, `aud` is not checked.
    #[arg(long)]
    pub audience: Option<String>,
    /// Clock leeway for `exp` and `nbf` (default 0s).
    #[serde(deserialize_with = "crate::duration::serde::duration")]
    #[schemars(with = "DurationText", default = "zero_duration_text")]
    #[arg(long, value_parser = duration::parse_arg, default_value = "0s", hide_default_value = true)]
    pub leeway: Duration,
    /// Lifetime of tokens minted by the bypass endpoint (default 15m).
    #[serde(deserialize_with = "crate::duration::serde::option")]
    #[schemars(with = "Option<DurationText>")]
    #[arg(long, value_parser = duration::parse_arg)]
    pub token_ttl: Option<Duration>,
    /// Start with `/health` answering 503.
    #[arg(long)]
    pub start_unhealthy: bool,
    /// Rejected upgrades are never answered: the connection is held until the client gives up.
    #[arg(long, conflicts_with = "close_after_accept")]
    pub silent_reject: bool,
    /// Rejected upgrades are accepted, then closed with this code and the rejection detail.
    #[arg(long, value_name = "CODE")]
    pub close_after_accept: Option<u16>,
    /// Delay before each event of the agent flow.
    #[serde(deserialize_with = "crate::duration::serde::duration")]
    #[schemars(with = "DurationText", default = "zero_duration_text")]
    #[arg(long, value_parser = duration::parse_arg, default_value = "0s")]
    pub event_delay: Duration,
    /// Drop the TCP connection (no close frame) after this many frames sent on a connection.
    #[arg(long, value_name = "N")]
    pub drop_after: Option<u32>,
    /// Send a non-JSON text frame between `agent_thinking` and `tool_executing`.
    #[arg(long)]
    pub malformed_frame: bool,
    /// Send one `tool_output` frame of this many bytes between `tool_executing` and `tool_completed`.
    #[arg(long, value_name = "BYTES")]
    pub oversized_frame: Option<usize>,
    /// Close with 1011 right after `agent_thinking`.
    #[arg(long = "close-1011")]
    pub close_1011: bool,
    /// Accept an upgrade that carries no token, and expect `{"type": "auth", "token": ...}`
    /// as the first message (within `message_auth_timeout`, default 5s): answered with
    /// `auth_ok`, or a close (`message_auth_close_code`, default 1008) with the rejection
    /// detail.
    #[arg(long)]
    pub message_auth: bool,
    /// With `message_auth`: the close code of a refused auth message (default 1008; 4401
    /// "unauthorized" or 4403 "forbidden" are typical).
    #[arg(long, value_name = "CODE")]
    pub message_auth_close_code: Option<u16>,
    /// With `message_auth`: how long the server waits for the auth message (default 5s).
    #[serde(deserialize_with = "crate::duration::serde::option")]
    #[schemars(with = "Option<DurationText>")]
    #[arg(long, value_parser = duration::parse_arg)]
    pub message_auth_timeout: Option<Duration>,
    /// With `message_auth`: the close code when no auth message arrives in time (default 1008;
    /// 4408 is typical).
    #[arg(long, value_name = "CODE")]
    pub message_auth_timeout_close_code: Option<u16>,
    /// Largest random extra delay added to each `request` reply and each subscription tick
    /// (default 0s, at most 10s), so concurrent replies and streams interleave differently.
    #[serde(deserialize_with = "crate::duration::serde::duration")]
    #[schemars(with = "DurationText", default = "zero_duration_text")]
    #[arg(long, value_parser = duration::parse_arg, default_value = "0s")]
    pub jitter: Duration,
    /// Seed of the `jitter` draws: the same seed and the same client messages give the same
    /// interleaving on every connection and run. Unset: a fresh random seed per connection.
    #[arg(long, value_name = "SEED")]
    pub jitter_seed: Option<u64>,
    /// Send an idle `heartbeat` event at this interval (off by default).
    #[serde(deserialize_with = "crate::duration::serde::option")]
    #[schemars(with = "Option<DurationText>")]
    #[arg(long, value_parser = duration::parse_arg)]
    pub heartbeat_interval: Option<Duration>,
}

impl ServerOptions {
    /// Checks the options for contradictions and out-of-range values.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        let invalid = |m: &str| Err(InvalidOptions(m.to_owned()));
        if self.silent_reject && self.close_after_accept.is_some() {
            return invalid("silent_reject and close_after_accept cannot both be set");
        }
        if let Some(code) = self.close_after_accept
            && !is_sendable_close_code(code)
        {
            return Err(InvalidOptions(format!(
                "close_after_accept {code} is not a close code a server may send"
            )));
        }
        if let Some(bytes) = self.oversized_frame
            && bytes > MAX_OVERSIZED_FRAME
        {
            return Err(InvalidOptions(format!(
                "oversized_frame {bytes} is larger than {MAX_OVERSIZED_FRAME} bytes"
            )));
        }
        for (name, code) in [
            ("message_auth_close_code", self.message_auth_close_code),
            (
                "message_auth_timeout_close_code",
                self.message_auth_timeout_close_code,
            ),
        ] {
            if let Some(code) = code
                && !is_sendable_close_code(code)
            {
                return Err(InvalidOptions(format!(
                    "{name} {code} is not a close code a server may send"
                )));
            }
        }
        if self.message_auth_timeout == Some(Duration::ZERO) {
            return invalid("message_auth_timeout must be longer than 0s");
        }
        if self.jitter > MAX_JITTER {
            return invalid("jitter is longer than 10s");
        }
        if self.heartbeat_interval == Some(Duration::ZERO) {
            return invalid("heartbeat_interval must be longer than 0s");
        }
        if self.token_ttl == Some(Duration::ZERO) {
            return invalid("token_ttl must be longer than 0s");
        }
        for (name, duration) in [
            ("leeway", Some(self.leeway)),
            ("token_ttl", self.token_ttl),
            ("event_delay", Some(self.event_delay)),
            ("heartbeat_interval", self.heartbeat_interval),
            ("message_auth_timeout", self.message_auth_timeout),
        ] {
            if let Some(d) = duration
                && d > MAX_OPTION_DURATION
            {
                return Err(InvalidOptions(format!("{name} is longer than 24h")));
            }
        }
        Ok(())
    }

    /// Lifetime of minted tokens.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl.unwrap_or(DEFAULT_TOKEN_TTL)
    }

    /// How long `message_auth` waits for the auth message.
    pub(crate) fn message_auth_timeout(&self) -> Duration {
        self.message_auth_timeout
            .unwrap_or(DEFAULT_MESSAGE_AUTH_TIMEOUT)
    }

    /// Close code of a refused auth message.
    pub(crate) fn message_auth_close_code(&self) -> u16 {
        self.message_auth_close_code
            .unwrap_or(DEFAULT_MESSAGE_AUTH_CLOSE_CODE)
    }

    /// Close code when no auth message arrives in time.
    pub(crate) fn message_auth_timeout_close_code(&self) -> u16 {
        self.message_auth_timeout_close_code
            .unwrap_or(DEFAULT_MESSAGE_AUTH_CLOSE_CODE)
    }
}

/// Whether a server may put `code` in a Close frame (RFC 6455 §7.4).
pub(crate) fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// A user known to the server in staging mode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// The value tokens carry in `sub`.
    pub id: String,
    /// Contact address (informational).
    #[serde(default)]
    pub email: String,
    /// Display name (informational).
    #[serde(default)]
    pub name: Option<String>,
    /// Inactive users are rejected with "User inactive".
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The schema's `default` for the duration fields that default to zero (the derive would
/// otherwise serialize `Duration::ZERO` as `{secs, nanos}`).
fn zero_duration_text() -> &'static str {
    "0s"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_with_durations_and_users() {
        let yaml = "require_known_users: true\nevent_delay: 50ms\ntoken_ttl: 2m\n\
                    users:\n  - {id: u1, email: a@b.c}\n  - {id: u2, active: false}\n";
        let o: ServerOptions = serde_saphyr::from_str(yaml).expect("valid yaml");
        assert!(o.require_known_users);
        assert_eq!(o.event_delay, Duration::from_millis(50));
        assert_eq!(o.token_ttl(), Duration::from_secs(120));
        assert_eq!(o.leeway, Duration::ZERO);
        assert!(o.users[0].active);
        assert!(!o.users[1].active);
    }

    #[test]
    fn unknown_key_and_bad_duration_are_errors() {
        assert!(serde_saphyr::from_str::<ServerOptions>("silent: true\n").is_err());
        assert!(serde_saphyr::from_str::<ServerOptions>("event_delay: soon\n").is_err());
    }

    #[test]
    fn contradictions_are_rejected() {
        let o = ServerOptions {
            silent_reject: true,
            close_after_accept: Some(1008),
            ..Default::default()
        };
        assert!(o.validate().is_err());
        let o = ServerOptions {
            close_after_accept: Some(1006),
            ..Default::default()
        };
        assert!(o.validate().is_err());
        assert!(ServerOptions::default().validate().is_ok());
    }

    #[test]
    fn message_auth_codes_timeout_and_jitter_are_checked() {
        let yaml = "message_auth: true\nmessage_auth_close_code: 4401\n\
                    message_auth_timeout: 250ms\nmessage_auth_timeout_close_code: 4408\n\
                    jitter: 20ms\njitter_seed: 7\n";
        let o: ServerOptions = serde_saphyr::from_str(yaml).expect("valid yaml");
        assert!(o.validate().is_ok());
        assert_eq!(o.message_auth_close_code(), 4401);
        assert_eq!(o.message_auth_timeout(), Duration::from_millis(250));
        assert_eq!(o.message_auth_timeout_close_code(), 4408);
        assert_eq!(
            (o.jitter, o.jitter_seed),
            (Duration::from_millis(20), Some(7))
        );

        let d = ServerOptions::default();
        assert_eq!(d.message_auth_close_code(), 1008);
        assert_eq!(d.message_auth_timeout_close_code(), 1008);
        assert_eq!(d.message_auth_timeout(), Duration::from_secs(5));
        assert_eq!(d.jitter, Duration::ZERO);

        for o in [
            ServerOptions {
                message_auth_close_code: Some(1005),
                ..Default::default()
            },
            ServerOptions {
                message_auth_timeout_close_code: Some(5000),
                ..Default::default()
            },
            ServerOptions {
                message_auth_timeout: Some(Duration::ZERO),
                ..Default::default()
            },
            ServerOptions {
                jitter: MAX_JITTER + Duration::from_millis(1),
                ..Default::default()
            },
        ] {
            assert!(o.validate().is_err(), "{o:?}");
        }
    }

    #[test]
    fn durations_that_would_overflow_are_rejected() {
        let day = MAX_OPTION_DURATION;
        let huge = Duration::from_secs(u64::MAX);
        for o in [
            ServerOptions {
                leeway: day + Duration::from_secs(1),
                ..Default::default()
            },
            ServerOptions {
                token_ttl: Some(huge),
                ..Default::default()
            },
            ServerOptions {
                event_delay: huge,
                ..Default::default()
            },
            ServerOptions {
                heartbeat_interval: Some(huge),
                ..Default::default()
            },
            ServerOptions {
                message_auth_timeout: Some(huge),
                ..Default::default()
            },
        ] {
            assert!(o.validate().is_err(), "{o:?}");
        }
        let o = ServerOptions {
            leeway: day,
            token_ttl: Some(day),
            event_delay: day,
            heartbeat_interval: Some(day),
            ..Default::default()
        };
        assert!(o.validate().is_ok());
    }
}
