//! Owns minting JWTs from a scenario's `auth.jwt` plan: claims rendered from templates,
//! `iat`/`exp` set from `expires_in`, signed with the named environment secret.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use super::{AuthError, Credential};
use crate::environment::Secrets;
use crate::scenario::template::{Resolve, render_value};
use crate::scenario::{JwtAlgorithm, JwtPlan, KeySource};

fn algorithm(a: JwtAlgorithm) -> Algorithm {
    match a {
        JwtAlgorithm::Hs256 => Algorithm::HS256,
        JwtAlgorithm::Hs384 => Algorithm::HS384,
        JwtAlgorithm::Hs512 => Algorithm::HS512,
        JwtAlgorithm::Rs256 => Algorithm::RS256,
        JwtAlgorithm::Es256 => Algorithm::ES256,
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Mints the token described by `plan`. Key files are relative to `root`.
pub fn mint(
    plan: &JwtPlan,
    secrets: &Secrets,
    _root: &std::path::Path,
    ctx: &dyn Resolve,
) -> Result<Credential, AuthError> {
    let KeySource::Secret(name) = &plan.key else {
        return Err(AuthError::Sign("key files are not supported yet".into()));
    };
    let secret = secrets
        .get(name)
        .ok_or_else(|| AuthError::UnknownSecret(name.clone()))?;
    let rendered = render_value(&plan.claims, ctx).map_err(|e| AuthError::Claims(e.to_string()))?;
    let mut claims: Map<String, Value> = match rendered {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let now = now_unix();
    claims.entry("iat").or_insert_with(|| Value::from(now));
    claims
        .entry("exp")
        .or_insert_with(|| Value::from(now + plan.expires_in_secs));
    let header = Header::new(algorithm(plan.algorithm));
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.value.as_bytes()),
    )
    .map_err(|e| AuthError::Sign(e.to_string()))?;
    Ok(Credential {
        token,
        strategy: "jwt",
        origin: format!(
            "{:?} signed with secret `{}` (from {}, sha256:{})",
            header.alg, secret.name, secret.source, secret.fingerprint
        ),
        marker: format!("[jwt signed with secret {}]", secret.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::{Config, DEFAULT_CONFIG};
    use crate::scenario::template::MapResolver;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn mints_a_verifiable_token_with_rendered_claims() {
        let c = Config::parse(
            DEFAULT_CONFIG,
            std::path::Path::new("."),
            std::path::Path::new("x"),
        )
        .expect("config");
        let secrets =
            Secrets::resolve(&c.environments["local"], ["jwt"], &|_| None).expect("secrets");
        let plan = JwtPlan {
            key: KeySource::Secret("jwt".into()),
            algorithm: JwtAlgorithm::Hs256,
            kid: None,
            claims: serde_json::json!({"sub": "user-{{ run_id }}"}),
            expires_in_secs: 60,
            not_before_secs: None,
            mutate: None,
        };
        let ctx = MapResolver::new("r1");
        let cred = mint(&plan, &secrets, std::path::Path::new("."), &ctx).expect("mints");
        let key = DecodingKey::from_secret(secrets.get("jwt").expect("jwt").value.as_bytes());
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(&cred.token, &key, &v).expect("verifies");
        assert_eq!(data.claims["sub"], "user-r1");
        assert!(cred.origin.contains("sha256:"));
        assert!(
            !cred
                .origin
                .contains(&secrets.get("jwt").expect("jwt").value)
        );
    }
}
