//! Owns reading a JWT without verifying it: header and claims decoded, the signature only
//! measured, expiry and not-before described relative to now. Used by failure reports,
//! `sockspec decode` and `sockspec token`. Decoding never needs a key and never fails
//! loudly: what is not a JWT says so.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A token's readable parts. The signature is never shown, only its length.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    pub header: Value,
    pub claims: Value,
    pub signature_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("decode the token: it has {0} dot-separated part(s), a JWT has 3")]
    Parts(usize),
    #[error("decode the token's {part}: {reason}")]
    Segment { part: &'static str, reason: String },
}

fn segment(part: &'static str, text: &str) -> Result<Value, DecodeError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| DecodeError::Segment {
            part,
            reason: format!("not base64url ({e})"),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| DecodeError::Segment {
        part,
        reason: format!("not JSON ({e})"),
    })
}

/// Decodes `token` (a bare JWT, or `Bearer <jwt>`) without verifying the signature.
pub(crate) fn decode_unverified(token: &str) -> Result<Decoded, DecodeError> {
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(DecodeError::Parts(parts.len()));
    }
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(parts[2].trim_end_matches('='))
        .map(|s| s.len())
        .unwrap_or(0);
    Ok(Decoded {
        header: segment("header", parts[0])?,
        claims: segment("claims", parts[1])?,
        signature_bytes,
    })
}

/// `in 14m 59s` or `5m ago`.
fn relative(secs: i64) -> String {
    let d = humantime::format_duration(std::time::Duration::from_secs(secs.unsigned_abs()));
    if secs >= 0 {
        format!("in {d}")
    } else {
        format!("{d} ago")
    }
}

impl Decoded {
    fn time_claim(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(Value::as_i64)
    }

    /// Seconds until `exp` (negative once expired), when the token has one.
    pub(crate) fn expires_in(&self, now: i64) -> Option<i64> {
        self.time_claim("exp").map(|exp| exp - now)
    }

    pub(crate) fn is_expired(&self, now: i64) -> bool {
        self.expires_in(now).is_some_and(|s| s <= 0)
    }

    /// One line on validity in time: `expires in 14m 59s`, `EXPIRED 5m ago`, `no exp claim`,
    /// plus `not valid before …` when `nbf` is in the future.
    pub(crate) fn validity(&self, now: i64) -> String {
        let mut out = match self.expires_in(now) {
            Some(s) if s > 0 => format!("expires {} (exp {})", relative(s), now + s),
            Some(s) => format!("EXPIRED {} (exp {})", relative(s), now + s),
            None => "no `exp` claim: never expires".to_string(),
        };
        if let Some(nbf) = self.time_claim("nbf")
            && nbf > now
        {
            out.push_str(&format!("; NOT VALID YET: nbf {}", relative(nbf - now)));
        }
        out
    }

    /// Report lines: header, claims, validity, signature length.
    pub(crate) fn describe(&self, now: i64) -> Vec<String> {
        let alg = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let signature = if self.signature_bytes == 0 {
            "none (unsigned)".to_string()
        } else {
            format!("{} bytes (hidden)", self.signature_bytes)
        };
        vec![
            format!("token header: {}", self.header),
            format!("token claims: {}", self.claims),
            format!("token validity: {}", self.validity(now)),
            format!("token signature ({alg}): {signature}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str, sig: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            sig
        )
    }

    #[test]
    fn decodes_header_and_claims_and_hides_the_signature() {
        let t = jwt(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"qa","exp":1100}"#,
            "c2lnbmF0dXJl",
        );
        let d = decode_unverified(&format!("Bearer {t}")).expect("decodes");
        assert_eq!(d.header["alg"], "HS256");
        assert_eq!(d.claims["sub"], "qa");
        let lines = d.describe(1000).join("\n");
        assert!(lines.contains("expires in 1m 40s (exp 1100)"), "{lines}");
        assert!(lines.contains("9 bytes (hidden)"), "{lines}");
        assert!(!lines.contains("c2lnbmF0dXJl"), "{lines}");
        assert!(!d.is_expired(1000));
        assert!(d.is_expired(1100));
    }

    #[test]
    fn expired_and_not_yet_valid_are_flagged() {
        let t = jwt(r#"{"alg":"none"}"#, r#"{"exp":700,"nbf":1300}"#, "");
        let d = decode_unverified(&t).expect("decodes");
        let v = d.validity(1000);
        assert!(v.starts_with("EXPIRED 5m ago (exp 700)"), "{v}");
        assert!(v.contains("NOT VALID YET: nbf in 5m"), "{v}");
        assert!(d.describe(1000)[3].contains("none (unsigned)"));
    }

    #[test]
    fn what_is_not_a_jwt_says_so() {
        assert_eq!(
            decode_unverified("staging_jwt_token_user_123"),
            Err(DecodeError::Parts(1))
        );
        let e = decode_unverified("a.b.c").expect_err("not json");
        assert!(
            e.to_string().starts_with("decode the token's header: not"),
            "{e}"
        );
    }
}
