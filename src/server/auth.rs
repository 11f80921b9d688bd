//! Token validation and minting: which algorithms are allowed, which key verifies which
//! algorithm, how `jsonwebtoken` errors map to the staging backend's rejection wording, API
//! keys as bearer tokens, and the HS256 tokens minted for the E2E bypass endpoint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::ServerError;
use super::secrets::ServerSecrets;
use crate::server_options::ServerOptions;

/// User id given to connections authenticated with an API key.
pub(crate) const API_KEY_USER: &str = "api-key-user";

/// Tokens longer than this are rejected without being parsed.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why an upgrade request was refused. `detail()` is the JSON `detail` of the 403 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// No token in any of the places looked at.
    NoToken,
    /// Bad signature or expired.
    InvalidOrExpired,
    /// Malformed, disallowed algorithm, missing or wrong claim; the reason is lowercase.
    Invalid(String),
    /// Staging mode: `sub` is not a known user.
    UserNotFound,
    /// Staging mode: `sub` is a deactivated user.
    UserInactive,
}

impl Rejection {
    /// The staging backend's wording.
    pub(crate) fn detail(&self) -> String {
        match self {
            Self::NoToken => "No token provided".to_owned(),
            Self::InvalidOrExpired => "Invalid or expired token".to_owned(),
            Self::Invalid(reason) => format!("Invalid token: {reason}"),
            Self::UserNotFound => "User not found".to_owned(),
            Self::UserInactive => "User inactive".to_owned(),
        }
    }
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    /// The token's `sub`, or [`API_KEY_USER`].
    pub user_id: String,
    /// True when authenticated by API key (exempt from the known-user check).
    pub api_key: bool,
}

/// Only `sub` is read; `jsonwebtoken` checks `exp`, `nbf`, `iss`, `aud` and that `sub` is a
/// string. `Value` so a missing `sub` reaches that check instead of failing deserialization.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: serde_json::Value,
}

/// Verifies tokens and mints bypass tokens. Built once per server.
pub(crate) struct Authenticator {
    hmac: Option<(DecodingKey, EncodingKey)>,
    rsa: Option<DecodingKey>,
    ec: Option<DecodingKey>,
    api_keys: Vec<Vec<u8>>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    token_ttl: Duration,
}

impl Authenticator {
    /// Loads the keys. An empty `jwt_secret` disables the HS family.
    pub(crate) fn new(
        secrets: &ServerSecrets,
        options: &ServerOptions,
    ) -> Result<Self, ServerError> {
        let hmac = (!secrets.jwt_secret.is_empty()).then(|| {
            let bytes = secrets.jwt_secret.as_bytes();
            (
                DecodingKey::from_secret(bytes),
                EncodingKey::from_secret(bytes),
            )
        });
        let rsa = secrets
            .rsa_public_key_pem
            .as_deref()
            .map(|pem| DecodingKey::from_rsa_pem(pem.as_bytes()))
            .transpose()
            .map_err(|source| ServerError::PublicKey {
                kind: "RSA",
                source,
            })?;
        let ec = secrets
            .ec_public_key_pem
            .as_deref()
            .map(|pem| DecodingKey::from_ec_pem(pem.as_bytes()))
            .transpose()
            .map_err(|source| ServerError::PublicKey { kind: "EC", source })?;
        let api_keys: Vec<Vec<u8>> = secrets
            .api_keys
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| k.as_bytes().to_vec())
            .collect();
        if hmac.is_none() && rsa.is_none() && ec.is_none() && api_keys.is_empty() {
            return Err(ServerError::InvalidConfig(
                "no way to authenticate: jwt_secret is empty and no public key or api key is set"
                    .to_owned(),
            ));
        }
        if hmac.is_none() && secrets.bypass_key.is_some() {
            return Err(ServerError::InvalidConfig(
                "the bypass endpoint needs a jwt_secret to mint tokens".to_owned(),
            ));
        }
        Ok(Self {
            hmac,
            rsa,
            ec,
            api_keys,
            issuer: options.issuer.clone(),
            audience: options.audience.clone(),
            leeway: options.leeway.as_secs(),
            token_ttl: options.token_ttl(),
        })
    }

    /// Accepts an API key or a valid JWT; the known-user check is the caller's.
    pub(crate) fn authenticate(&self, token: &str) -> Result<Principal, Rejection> {
        if token.is_empty() {
            return Err(Rejection::NoToken);
        }
        let is_api_key = self
            .api_keys
            .iter()
            .fold(subtle::Choice::from(0), |acc, k| {
                acc | token.as_bytes().ct_eq(k)
            });
        if bool::from(is_api_key) {
            return Ok(Principal {
                user_id: API_KEY_USER.to_owned(),
                api_key: true,
            });
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("token too long"));
        }
        let alg_name = header_alg(token).ok_or_else(|| invalid("malformed token"))?;
        let (alg, key) = self
            .key_for(&alg_name)
            .ok_or_else(|| invalid(&format!("algorithm {alg_name} is not allowed")))?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation(alg))
            .map_err(|e| map_error(e.kind(), &alg_name))?
            .claims;
        let sub = claims.sub.as_str().unwrap_or_default();
        if sub.is_empty() {
            return Err(invalid("empty sub claim"));
        }
        Ok(Principal {
            user_id: sub.to_owned(),
            api_key: false,
        })
    }

    fn key_for(&self, alg: &str) -> Option<(Algorithm, &DecodingKey)> {
        let hmac = self.hmac.as_ref().map(|(d, _)| d);
        match alg {
            "HS256" => Some((Algorithm::HS256, hmac?)),
            "HS384" => Some((Algorithm::HS384, hmac?)),
            "HS512" => Some((Algorithm::HS512, hmac?)),
            "RS256" => Some((Algorithm::RS256, self.rsa.as_ref()?)),
            "ES256" => Some((Algorithm::ES256, self.ec.as_ref()?)),
            _ => None,
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        v.set_required_spec_claims(&required);
        v
    }

    /// Mints an HS256 token for `user_id`; returns the token and its lifetime in seconds.
    pub(crate) fn mint(
        &self,
        user_id: &str,
        email: &str,
        name: Option<&str>,
    ) -> Option<(String, u64)> {
        let (_, key) = self.hmac.as_ref()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let ttl = self.token_ttl.as_secs().max(1);
        let mut claims = serde_json::json!({
            "sub": user_id,
            "email": email,
            "iat": now,
            "exp": now + ttl,
            "token_type": "access",
        });
        if let Some(name) = name {
            claims["name"] = name.into();
        }
        if let Some(iss) = &self.issuer {
            claims["iss"] = iss.as_str().into();
        }
        if let Some(aud) = &self.audience {
            claims["aud"] = aud.as_str().into();
        }
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key).ok()?;
        Some((token, ttl))
    }
}

fn invalid(reason: &str) -> Rejection {
    Rejection::Invalid(reason.to_owned())
}

/// Reads `alg` from the token's header without verifying anything.
fn header_alg(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (header, _, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

fn map_error(kind: &ErrorKind, alg: &str) -> Rejection {
    match kind {
        ErrorKind::InvalidSignature | ErrorKind::ExpiredSignature => Rejection::InvalidOrExpired,
        ErrorKind::ImmatureSignature => invalid("token not yet valid (nbf)"),
        ErrorKind::InvalidIssuer => invalid("wrong issuer"),
        ErrorKind::InvalidAudience => invalid("wrong audience"),
        ErrorKind::MissingRequiredClaim(c) => invalid(&format!("missing required claim {c}")),
        ErrorKind::InvalidClaimFormat(c) => invalid(&format!("malformed claim {c}")),
        ErrorKind::InvalidAlgorithm => invalid(&format!("algorithm {alg} is not allowed")),
        ErrorKind::Json(_) => invalid("malformed claims"),
        _ => invalid("malformed token"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let secrets = ServerSecrets {
            jwt_secret: "s3cret".into(),
            api_keys: vec!["key-1".into()],
            ..Default::default()
        };
        Authenticator::new(&secrets, &ServerOptions::default()).expect("valid")
    }

    #[test]
    fn minted_token_round_trips() {
        let a = auth();
        let (token, ttl) = a
            .mint("e2e-user-1", "a@b.c", None)
            .expect("hmac configured");
        assert_eq!(ttl, 900);
        assert_eq!(
            a.authenticate(&token).map(|p| p.user_id),
            Ok("e2e-user-1".into())
        );
    }

    #[test]
    fn api_key_and_garbage() {
        let a = auth();
        assert!(a.authenticate("key-1").expect("api key").api_key);
        assert_eq!(
            a.authenticate("staging_jwt_token_user_1"),
            Err(Rejection::Invalid("malformed token".into()))
        );
        assert_eq!(a.authenticate(""), Err(Rejection::NoToken));
    }
}
