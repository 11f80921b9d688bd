//! Owns the deliberate defects `mutate:` puts into a minted JWT, for scenarios proving that a
//! server enforces auth: claim changes (expired, not yet valid, a dropped claim, wrong issuer or
//! audience), the wrong signing key, a tampered signature and the unsigned `alg: none` form, plus
//! the stable mutation names used in credential origins and markers.
//!
//! `wrong_secret` signs HS* tokens with 32 fresh bytes (two v4 UUIDs, 244 random bits), and
//! RS256/ES256 tokens with a second committed test key (`keys/test-rsa-other-private.pem`,
//! `keys/test-ec-other-private.pem`) compiled into the binary, so it works whatever the project
//! root holds. Those keys are public and must never be configured as a real signing key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::scenario::{JwtAlgorithm, Mutation};

/// `iss` written by `wrong_issuer`.
pub(super) const WRONG_ISSUER: &str = "https://wrong-issuer.sockspec.invalid";
/// `aud` written by `wrong_audience`.
pub(super) const WRONG_AUDIENCE: &str = "wrong-audience.sockspec.invalid";

/// How far `expired` and `not_yet_valid` move `exp` / `nbf` from now, in seconds.
const SHIFT_SECS: i64 = 3600;

/// Signing key of `wrong_secret` for RS256 (PKCS#8, 2048-bit test key).
const WRONG_RSA_KEY: &str = include_str!("../../keys/test-rsa-other-private.pem");
/// Signing key of `wrong_secret` for ES256 (PKCS#8, P-256 test key).
const WRONG_EC_KEY: &str = include_str!("../../keys/test-ec-other-private.pem");

/// Applies the claim part of `m` to claims that already carry their defaults (`iat`, `exp`,
/// `nbf`). Mutations acting on the key or the signature leave the claims alone.
pub(super) fn apply_to_claims(m: &Mutation, claims: &mut Map<String, Value>, now: i64) {
    match m {
        Mutation::Expired => {
            claims.insert("iat".into(), Value::from(now - 2 * SHIFT_SECS));
            claims.insert("exp".into(), Value::from(now - SHIFT_SECS));
        }
        Mutation::NotYetValid => {
            claims.insert("nbf".into(), Value::from(now + SHIFT_SECS));
        }
        Mutation::DropClaim(claim) => {
            claims.remove(claim);
        }
        Mutation::WrongIssuer => {
            claims.insert("iss".into(), Value::from(WRONG_ISSUER));
        }
        Mutation::WrongAudience => {
            claims.insert("aud".into(), Value::from(WRONG_AUDIENCE));
        }
        Mutation::WrongSecret | Mutation::TamperedSignature | Mutation::AlgNone => {}
    }
}

/// Key material `wrong_secret` signs with: a random HMAC secret, or the PEM of the other test key.
pub(super) fn wrong_key(algorithm: JwtAlgorithm) -> Vec<u8> {
    match algorithm {
        JwtAlgorithm::Hs256 | JwtAlgorithm::Hs384 | JwtAlgorithm::Hs512 => {
            let mut bytes = Vec::with_capacity(32);
            bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            bytes
        }
        JwtAlgorithm::Rs256 => WRONG_RSA_KEY.as_bytes().to_vec(),
        JwtAlgorithm::Es256 => WRONG_EC_KEY.as_bytes().to_vec(),
    }
}

/// Whether `key` is the PEM `wrong_secret` would sign with (then the mutation would be a no-op).
pub(super) fn is_wrong_key(algorithm: JwtAlgorithm, key: &[u8]) -> bool {
    let builtin = match algorithm {
        JwtAlgorithm::Rs256 => WRONG_RSA_KEY,
        JwtAlgorithm::Es256 => WRONG_EC_KEY,
        JwtAlgorithm::Hs256 | JwtAlgorithm::Hs384 | JwtAlgorithm::Hs512 => return false,
    };
    key.trim_ascii() == builtin.as_bytes().trim_ascii()
}

/// `b64(header).b64(claims).` with header `{"alg":"none","typ":"JWT"}` (plus `kid`): no signature.
pub(super) fn unsigned(
    claims: &Map<String, Value>,
    kid: Option<&str>,
) -> Result<String, serde_json::Error> {
    let mut header = json!({"alg": "none", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = Value::from(kid);
    }
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    Ok(format!("{header}.{payload}."))
}

/// Changes the middle character of the signature segment to another base64url character.
/// Every bit of a middle character is significant, so the decoded signature changes too.
pub(super) fn tamper(token: &str) -> String {
    let Some(dot) = token.rfind('.') else {
        return token.to_owned();
    };
    let (message, signature) = token.split_at(dot + 1);
    let mut chars: Vec<char> = signature.chars().collect();
    if let Some(c) = chars.get_mut(signature.len() / 2) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    let signature: String = chars.into_iter().collect();
    format!("{message}{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testkit::{
        ALGORITHMS, ISSUER, accepted, file_plan, key_file, mint_with, parts, strict_server,
    };
    use crate::server::auth::Rejection;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    /// What the strict server (issuer and audience set) says about each mutation.
    fn expected(m: &Mutation) -> Rejection {
        let invalid = |reason: &str| Rejection::Invalid(reason.to_owned());
        match m {
            Mutation::Expired | Mutation::WrongSecret | Mutation::TamperedSignature => {
                Rejection::InvalidOrExpired
            }
            Mutation::NotYetValid => invalid("token not yet valid (nbf)"),
            Mutation::AlgNone => invalid("algorithm none is not allowed"),
            Mutation::DropClaim(c) => invalid(&format!("missing required claim {c}")),
            Mutation::WrongIssuer => invalid("wrong issuer"),
            Mutation::WrongAudience => invalid("wrong audience"),
        }
    }

    fn mutations() -> Vec<Mutation> {
        vec![
            Mutation::Expired,
            Mutation::NotYetValid,
            Mutation::WrongSecret,
            Mutation::TamperedSignature,
            Mutation::AlgNone,
            Mutation::DropClaim("sub".into()),
            Mutation::DropClaim("exp".into()),
            Mutation::DropClaim("iss".into()),
            Mutation::DropClaim("aud".into()),
            Mutation::WrongIssuer,
            Mutation::WrongAudience,
        ]
    }

    #[test]
    fn every_mutation_is_rejected_for_the_expected_reason() {
        let server = strict_server();
        for alg in ALGORITHMS {
            let plain = mint_with(&file_plan(alg)).expect("mints");
            assert!(
                accepted(&server, &plain.token),
                "{alg:?}: un-mutated token must pass the strict server"
            );
            for m in mutations() {
                let mut plan = file_plan(alg);
                plan.mutate = Some(m.clone());
                let cred = mint_with(&plan).expect("mints");
                assert_eq!(
                    server.authenticate(&cred.token),
                    Err(expected(&m)),
                    "{alg:?} mutate={}",
                    m.name()
                );
                assert!(cred.origin.ends_with(&format!(", mutated: {}", m.name())));
                assert!(cred.marker.contains(&format!(" mutate={}]", m.name())));
            }
        }
    }

    #[test]
    fn time_and_claim_mutations_shape_the_payload() {
        let mut plan = file_plan(JwtAlgorithm::Hs256);
        plan.mutate = Some(Mutation::Expired);
        let (_, c) = parts(&mint_with(&plan).expect("mints").token);
        let now = crate::auth::now_unix();
        let exp = c["exp"].as_i64().expect("exp");
        assert!(
            (now - SHIFT_SECS - 5..=now - SHIFT_SECS).contains(&exp),
            "{c}"
        );
        assert!(c["iat"].as_i64().expect("iat") < exp);

        plan.mutate = Some(Mutation::NotYetValid);
        let (_, c) = parts(&mint_with(&plan).expect("mints").token);
        let nbf = c["nbf"].as_i64().expect("nbf");
        assert!(
            (now + SHIFT_SECS..=now + SHIFT_SECS + 5).contains(&nbf),
            "{c}"
        );

        plan.mutate = Some(Mutation::DropClaim("email".into()));
        let (_, c) = parts(&mint_with(&plan).expect("mints").token);
        assert!(c.get("email").is_none() && c.get("sub").is_some(), "{c}");

        plan.mutate = Some(Mutation::WrongIssuer);
        let (_, c) = parts(&mint_with(&plan).expect("mints").token);
        assert_eq!(c["iss"], WRONG_ISSUER);
        assert_ne!(c["iss"], ISSUER);
    }

    #[test]
    fn alg_none_token_is_unsigned_and_keeps_kid() {
        let mut plan = file_plan(JwtAlgorithm::Rs256);
        plan.kid = Some("k-7".into());
        plan.mutate = Some(Mutation::AlgNone);
        let token = mint_with(&plan).expect("mints").token;
        assert!(
            token.ends_with('.') && token.matches('.').count() == 2,
            "{token}"
        );
        let (h, c) = parts(&token);
        assert_eq!(h, json!({"alg": "none", "typ": "JWT", "kid": "k-7"}));
        assert_eq!(c["sub"], "user-r1");
    }

    #[test]
    fn wrong_secret_tokens_are_well_formed_but_signed_by_another_key() {
        // RS256/ES256: the signature is valid for the other committed key's public half.
        for (alg, jwt_alg, public) in [
            (
                JwtAlgorithm::Rs256,
                Algorithm::RS256,
                "test-rsa-other-public.pem",
            ),
            (
                JwtAlgorithm::Es256,
                Algorithm::ES256,
                "test-ec-other-public.pem",
            ),
        ] {
            let mut plan = file_plan(alg);
            plan.mutate = Some(Mutation::WrongSecret);
            let token = mint_with(&plan).expect("mints").token;
            let pem = key_file(public);
            let key = if alg == JwtAlgorithm::Rs256 {
                DecodingKey::from_rsa_pem(pem.as_bytes())
            } else {
                DecodingKey::from_ec_pem(pem.as_bytes())
            }
            .expect("public key");
            let mut v = Validation::new(jwt_alg);
            v.validate_aud = false;
            jsonwebtoken::decode::<Value>(&token, &key, &v).expect("verifies with the other key");
        }
        // HS*: a fresh secret each time, so two tokens with equal claims differ in signature.
        let mut plan = file_plan(JwtAlgorithm::Hs256);
        plan.claims = json!({"sub": "u", "iat": 1, "exp": 4_000_000_000_i64});
        plan.mutate = Some(Mutation::WrongSecret);
        let a = mint_with(&plan).expect("mints").token;
        let b = mint_with(&plan).expect("mints").token;
        assert_eq!(
            a.rsplit_once('.').map(|p| p.0),
            b.rsplit_once('.').map(|p| p.0)
        );
        assert_ne!(a, b);
    }

    #[test]
    fn tamper_changes_one_signature_character_and_stays_base64url() {
        for alg in ALGORITHMS {
            let token = mint_with(&file_plan(alg)).expect("mints").token;
            let tampered = tamper(&token);
            let diff: Vec<usize> = token
                .bytes()
                .zip(tampered.bytes())
                .enumerate()
                .filter_map(|(i, (a, b))| (a != b).then_some(i))
                .collect();
            assert_eq!(diff.len(), 1, "{alg:?}");
            assert!(diff[0] > token.rfind('.').expect("three parts"), "{alg:?}");
            let sig = |t: &str| URL_SAFE_NO_PAD.decode(t.rsplit('.').next().unwrap_or_default());
            let (before, after) = (sig(&token).expect("b64"), sig(&tampered).expect("b64"));
            assert_eq!(before.len(), after.len());
            assert_ne!(before, after);
        }
    }

    #[test]
    fn names_match_the_yaml_spelling() {
        assert_eq!(Mutation::AlgNone.name(), "alg_none");
        assert_eq!(Mutation::NotYetValid.name(), "not_yet_valid");
        assert_eq!(Mutation::DropClaim("sub".into()).name(), "drop_claim(sub)");
    }
}
