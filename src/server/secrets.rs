//! Secrets of the reference server: the `ServerSecrets` record (whose `Debug` shows
//! fingerprints, never values), the fingerprint function used in every log line that mentions
//! a secret, and the staging-style lookup of secrets from environment variables.

use std::fmt;

use super::error::ServerError;

/// Variable holding the E2E bypass key.
pub(crate) const BYPASS_KEY_VAR: &str = "E2E_BYPASS_KEY";
/// Variable holding an API key accepted as a bearer token.
pub(crate) const API_KEY_VAR: &str = "STAGING_TEST_API_KEY";

/// Keys and secrets. Never printed: `Debug` shows fingerprints only.
#[derive(Clone, Default)]
pub struct ServerSecrets {
    /// HMAC secret for HS256/HS384/HS512 tokens, also used to mint bypass tokens.
    pub jwt_secret: String,
    /// Value expected in `X-E2E-Bypass-Key`; `None` disables the bypass endpoints (404).
    pub bypass_key: Option<String>,
    /// Opaque API keys accepted as bearer tokens (user id `api-key-user`).
    pub api_keys: Vec<String>,
    /// PEM public key (PKCS#1 or SPKI) enabling RS256 tokens.
    pub rsa_public_key_pem: Option<String>,
    /// PEM public key (SPKI, P-256) enabling ES256 tokens.
    pub ec_public_key_pem: Option<String>,
}

impl fmt::Debug for ServerSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSecrets")
            .field("jwt_secret", &Fingerprint(&self.jwt_secret))
            .field("bypass_key", &self.bypass_key.as_deref().map(Fingerprint))
            .field(
                "api_keys",
                &self
                    .api_keys
                    .iter()
                    .map(|k| Fingerprint(k))
                    .collect::<Vec<_>>(),
            )
            .field(
                "rsa_public_key_pem",
                &self.rsa_public_key_pem.as_deref().map(Fingerprint),
            )
            .field(
                "ec_public_key_pem",
                &self.ec_public_key_pem.as_deref().map(Fingerprint),
            )
            .finish()
    }
}

/// Debug-prints as `sha256:<fingerprint>`.
struct Fingerprint<'a>(&'a str);

impl fmt::Debug for Fingerprint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", fingerprint(self.0))
    }
}

/// The first 16 hex digits of the SHA-256 of `value`: safe to log, enough to compare.
pub fn fingerprint(value: &str) -> String {
    crate::environment::fingerprint(value.as_bytes())
}

/// The variables tried for the JWT secret of `environment`, in order:
/// `JWT_SECRET_<ENVIRONMENT>` (uppercased, `-` → `_`), `JWT_SECRET_KEY`, `JWT_SECRET`.
pub fn jwt_secret_variables(environment: &str) -> Vec<String> {
    let suffix: String = environment
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    vec![
        format!("JWT_SECRET_{suffix}"),
        "JWT_SECRET_KEY".to_owned(),
        "JWT_SECRET".to_owned(),
    ]
}

/// A secret found in the environment, with the variable it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedSecret {
    /// Name of the variable that held the value.
    pub variable: String,
    /// The secret itself.
    pub value: String,
}

impl fmt::Debug for ResolvedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedSecret")
            .field("variable", &self.variable)
            .field("value", &Fingerprint(&self.value))
            .finish()
    }
}

/// Finds the JWT secret for `environment` through `lookup` (the process environment in
/// `serve`, a map in tests). Empty values count as unset. The error names every variable tried.
pub fn resolve_jwt_secret(
    environment: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ResolvedSecret, ServerError> {
    let tried = jwt_secret_variables(environment);
    for variable in &tried {
        if let Some(value) = lookup(variable).filter(|v| !v.is_empty()) {
            return Ok(ResolvedSecret {
                variable: variable.clone(),
                value,
            });
        }
    }
    Err(ServerError::MissingJwtSecret {
        environment: environment.to_owned(),
        tried,
    })
}

/// Builds `ServerSecrets` the way staging does: the JWT secret as in [`resolve_jwt_secret`],
/// the bypass key from `E2E_BYPASS_KEY`, API keys from `api_keys` plus `STAGING_TEST_API_KEY`.
/// Returns the secrets and the variable the JWT secret came from.
pub(super) fn secrets_from_env(
    environment: &str,
    api_keys: &[String],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(ServerSecrets, String), ServerError> {
    let jwt = resolve_jwt_secret(environment, &lookup)?;
    let mut keys: Vec<String> = api_keys.iter().filter(|k| !k.is_empty()).cloned().collect();
    if let Some(key) = lookup(API_KEY_VAR).filter(|v| !v.is_empty()) {
        keys.push(key);
    }
    let secrets = ServerSecrets {
        jwt_secret: jwt.value,
        bypass_key: lookup(BYPASS_KEY_VAR).filter(|v| !v.is_empty()),
        api_keys: keys,
        rsa_public_key_pem: None,
        ec_public_key_pem: None,
    };
    Ok((secrets, jwt.variable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_16_hex_digits_of_sha256() {
        // sha256("abc") = ba7816bf8f01cfea...
        assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea");
    }

    #[test]
    fn debug_never_shows_values() {
        let s = ServerSecrets {
            jwt_secret: "super-secret-value".into(),
            bypass_key: Some("bypass-value".into()),
            api_keys: vec!["api-value".into()],
            ..Default::default()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("super-secret-value"), "{text}");
        assert!(!text.contains("bypass-value"), "{text}");
        assert!(!text.contains("api-value"), "{text}");
        assert!(text.contains(&fingerprint("super-secret-value")), "{text}");
    }
}
