//! Owns `sockspec decode TOKEN`: reads any JWT without verifying it (`auth::decode_unverified`)
//! and prints its header, claims, times, validity and signature length — never the
//! signature. Accepts `Bearer <jwt>` (or a whole `Authorization:` header) and `-` for
//! standard input, so a token need not appear in the shell history.

use std::io::Read;

use serde_json::Value;

use crate::auth::{DecodeError, Decoded, decode_unverified, now_unix};
use crate::diagnostic::Diagnostic;
use crate::exit;

/// Longest input read from standard input.
const MAX_STDIN_BYTES: u64 = 1 << 20;

/// Claims holding Unix times, shown as dates too.
const TIME_CLAIMS: [&str; 3] = ["iat", "nbf", "exp"];

#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// The token: a JWT, `Bearer <jwt>`, or `-` to read it from standard input.
    #[arg(required = true, num_args = 1.., value_name = "TOKEN")]
    token: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
enum DecodeCliError {
    #[error("read the token from standard input: {0}")]
    Stdin(std::io::Error),
    #[error("decode the token: the input is empty")]
    Empty,
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

pub(super) fn run(args: &DecodeArgs) -> u8 {
    match decode(args) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            println!("note: decoded without verifying the signature");
            exit::SUCCESS
        }
        Err(e) => {
            let mut d = Diagnostic::bare(format!("failed to {e}"));
            if matches!(e, DecodeCliError::Decode(_)) {
                d = d.with_help(
                    "a JWT is three base64url parts separated by dots (`eyJ…`); an opaque token \
                     (an API key, a session id) has no readable contents",
                );
            }
            d.eprint();
            exit::NOT_A_JWT
        }
    }
}

fn decode(args: &DecodeArgs) -> Result<Vec<String>, DecodeCliError> {
    let input = if args.token.len() == 1 && args.token[0] == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_STDIN_BYTES)
            .read_to_string(&mut text)
            .map_err(DecodeCliError::Stdin)?;
        text
    } else {
        args.token.join(" ")
    };
    let token = strip_scheme(&input);
    if token.is_empty() {
        return Err(DecodeCliError::Empty);
    }
    let decoded = decode_unverified(token)?;
    Ok(report(&decoded, now_unix()))
}

/// The token without `Authorization:` and `Bearer ` (any case) around it.
fn strip_scheme(input: &str) -> &str {
    let mut t = input.trim();
    if let Some(rest) = strip_prefix_ignore_case(t, "authorization:") {
        t = rest.trim_start();
    }
    if let Some(rest) = strip_prefix_ignore_case(t, "bearer ") {
        t = rest.trim_start();
    }
    t.trim()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The lines `decode` prints: `Decoded::describe`, then the time claims as dates.
pub(super) fn report(decoded: &Decoded, now: i64) -> Vec<String> {
    let mut lines = decoded.describe(now);
    let times: Vec<String> = TIME_CLAIMS
        .iter()
        .filter_map(|name| {
            let t = decoded.claims.get(*name).and_then(Value::as_i64)?;
            Some(format!("{name} {} ({})", date(t), relative(t - now)))
        })
        .collect();
    if !times.is_empty() {
        lines.insert(2, format!("token times: {}", times.join(", ")));
    }
    lines
}

/// RFC 3339 in UTC, or the number when it is out of range.
fn date(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .and_then(|s| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s)))
        .map_or_else(
            || unix.to_string(),
            |t| humantime::format_rfc3339_seconds(t).to_string(),
        )
}

/// `in 14m 59s`, `5m ago`, `now`.
fn relative(secs: i64) -> String {
    if secs == 0 {
        return "now".to_owned();
    }
    let d = humantime::format_duration(std::time::Duration::from_secs(secs.unsigned_abs()));
    if secs > 0 {
        format!("in {d}")
    } else {
        format!("{d} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_header_name_are_stripped() {
        assert_eq!(strip_scheme("  Bearer a.b.c \n"), "a.b.c");
        assert_eq!(strip_scheme("authorization: bearer a.b.c"), "a.b.c");
        assert_eq!(strip_scheme("a.b.c"), "a.b.c");
        assert_eq!(strip_scheme("Bear"), "Bear");
        assert_eq!(strip_scheme("é"), "é");
    }

    #[test]
    fn times_are_dates_relative_to_now() {
        let decoded = Decoded {
            header: serde_json::json!({"alg": "HS256"}),
            claims: serde_json::json!({"iat": 1000, "exp": 700}),
            signature_bytes: 32,
        };
        let lines = report(&decoded, 1000);
        assert_eq!(
            lines[2],
            "token times: iat 1970-01-01T00:16:40Z (now), exp 1970-01-01T00:11:40Z (5m ago)"
        );
        assert!(
            lines.iter().any(|l| l.contains("EXPIRED 5m ago")),
            "{lines:?}"
        );
    }
}
