//! Owns minting JWTs from a scenario's `auth.jwt` plan: the signing key (an environment secret
//! or a PEM file under the project root), claims rendered from templates with `iat`/`exp`/`nbf`
//! defaults, the `kid` header, signing, and the credential's origin and marker. The deliberate
//! defects of `mutate:` live in [`super::mutate`].

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use super::mutate;
use super::{AuthError, Credential};
use crate::environment::Secrets;
use crate::scenario::{JwtAlgorithm, JwtPlan, KeySource, Mutation};
use crate::template::{Resolve, render_value};

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
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The configured key material and how to describe it without showing it.
struct Key {
    bytes: Vec<u8>,
    /// Names the key in errors: ``secret `jwt` `` or `key file keys/a.pem`.
    from: String,
    /// For the origin: name plus source and fingerprint.
    described: String,
    /// For the marker: name only, stable across runs and machines.
    marked: String,
}

fn load_key(plan: &JwtPlan, secrets: &Secrets, root: &Path) -> Result<Key, AuthError> {
    match &plan.key {
        KeySource::Secret(name) => {
            let s = secrets
                .get(name)
                .ok_or_else(|| AuthError::UnknownSecret(name.clone()))?;
            Ok(Key {
                bytes: s.value.as_bytes().to_vec(),
                from: format!("secret `{}`", s.name),
                described: format!(
                    "secret `{}` (from {}, sha256:{})",
                    s.name, s.source, s.fingerprint
                ),
                marked: format!("secret {}", s.name),
            })
        }
        KeySource::File(path) => {
            let mut bytes =
                std::fs::read(root.join(path)).map_err(|error| AuthError::ReadKeyFile {
                    path: path.clone(),
                    error,
                })?;
            let fingerprint = crate::environment::fingerprint(&bytes);
            if plan.algorithm.is_hmac() {
                trim_newline(&mut bytes);
            }
            let shown = path.display();
            Ok(Key {
                bytes,
                from: format!("key file {shown}"),
                described: format!("key file {shown} (sha256:{fingerprint})"),
                marked: format!("file {shown}"),
            })
        }
    }
}

/// Drops one trailing `\n` or `\r\n`: an editor's final newline is not part of the secret.
fn trim_newline(bytes: &mut Vec<u8>) {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
}

/// The text between `-----BEGIN ` and the next `-----`.
fn pem_label(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let rest = &text[text.find("-----BEGIN ")? + "-----BEGIN ".len()..];
    Some(&rest[..rest.find("-----")?])
}

/// Explains PEM contents that cannot be the private key `alg` needs, before parsing.
fn pem_problem(alg: JwtAlgorithm, bytes: &[u8]) -> Option<&'static str> {
    let Some(label) = pem_label(bytes) else {
        return Some("not a PEM key (no `-----BEGIN` line)");
    };
    if label.ends_with("PUBLIC KEY") || label == "CERTIFICATE" {
        return Some("it is a public key or certificate; sign with the private key");
    }
    if label == "ENCRYPTED PRIVATE KEY" {
        return Some("the key is encrypted; give an unencrypted PKCS#8 key");
    }
    match (alg, label) {
        (JwtAlgorithm::Es256, "EC PRIVATE KEY") => Some(
            "the key is in SEC1 form (`EC PRIVATE KEY`); ES256 needs PKCS#8: \
             convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`",
        ),
        (JwtAlgorithm::Es256, "RSA PRIVATE KEY") => {
            Some("it is an RSA key; ES256 needs a P-256 EC key")
        }
        _ => None,
    }
}

fn key_error(alg: JwtAlgorithm, from: &str, reason: String) -> AuthError {
    AuthError::ParseKey {
        algorithm: alg.name(),
        from: from.to_owned(),
        reason,
    }
}

/// Lowercase reason for a key `jsonwebtoken` refused (its texts name no key material).
fn key_reason(alg: JwtAlgorithm, e: &JwtError) -> String {
    let wanted = if alg == JwtAlgorithm::Es256 {
        "a P-256 EC private key in PKCS#8 form"
    } else {
        "an RSA private key (PKCS#8 or PKCS#1)"
    };
    match e.kind() {
        ErrorKind::InvalidKeyFormat | ErrorKind::InvalidEcdsaKey => format!("not {wanted}"),
        ErrorKind::InvalidRsaKey(m) | ErrorKind::Signing(m) => format!("not {wanted} ({m})"),
        _ => format!("not {wanted} ({e})"),
    }
}

fn encoding_key(alg: JwtAlgorithm, bytes: &[u8], from: &str) -> Result<EncodingKey, AuthError> {
    if alg.is_hmac() {
        if bytes.is_empty() {
            return Err(AuthError::EmptyKey(from.to_owned()));
        }
        return Ok(EncodingKey::from_secret(bytes));
    }
    if let Some(problem) = pem_problem(alg, bytes) {
        return Err(key_error(alg, from, problem.to_owned()));
    }
    let parsed = if alg == JwtAlgorithm::Es256 {
        EncodingKey::from_ec_pem(bytes)
    } else {
        EncodingKey::from_rsa_pem(bytes)
    };
    parsed.map_err(|e| key_error(alg, from, key_reason(alg, &e)))
}

/// Signs; a key that parsed as PEM but that the crypto backend refuses is a key error.
fn sign(
    alg: JwtAlgorithm,
    header: &Header,
    claims: &Map<String, Value>,
    key: &EncodingKey,
    from: &str,
) -> Result<String, AuthError> {
    jsonwebtoken::encode(header, claims, key).map_err(|e| match e.kind() {
        ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::Signing(_)
            if !alg.is_hmac() =>
        {
            key_error(alg, from, key_reason(alg, &e))
        }
        _ => AuthError::Sign(e.to_string()),
    })
}

/// Rendered claims with defaults (`iat`, `exp`, `nbf`; claims written in the plan win), then
/// the claim part of the mutation.
fn claims(plan: &JwtPlan, ctx: &dyn Resolve, now: i64) -> Result<Map<String, Value>, AuthError> {
    let rendered = render_value(&plan.claims, ctx).map_err(|e| AuthError::Claims(e.to_string()))?;
    let Value::Object(mut claims) = rendered else {
        return Err(AuthError::Claims("the claims are not a map".into()));
    };
    claims.entry("iat").or_insert_with(|| Value::from(now));
    claims
        .entry("exp")
        .or_insert_with(|| Value::from(now.saturating_add(plan.expires_in_secs)));
    if let Some(secs) = plan.not_before_secs {
        claims
            .entry("nbf")
            .or_insert_with(|| Value::from(now.saturating_add(secs)));
    }
    if let Some(m) = &plan.mutate {
        mutate::apply_to_claims(m, &mut claims, now);
    }
    Ok(claims)
}

/// Mints the token described by `plan`. Key files are relative to `root`.
pub(crate) fn mint(
    plan: &JwtPlan,
    secrets: &Secrets,
    root: &Path,
    ctx: &dyn Resolve,
) -> Result<Credential, AuthError> {
    let alg = plan.algorithm;
    let key = load_key(plan, secrets, root)?;
    let encoding = encoding_key(alg, &key.bytes, &key.from)?;
    let claims = claims(plan, ctx, now_unix())?;
    let mut header = Header::new(algorithm(alg));
    header.kid.clone_from(&plan.kid);
    let token = match &plan.mutate {
        Some(Mutation::AlgNone) => mutate::unsigned(&claims, plan.kid.as_deref())
            .map_err(|e| AuthError::Sign(e.to_string()))?,
        Some(Mutation::WrongSecret) => {
            if mutate::is_wrong_key(alg, &key.bytes) {
                return Err(AuthError::KeyIsWrongKey(key.from));
            }
            let from = "the built-in wrong key";
            let wrong = encoding_key(alg, &mutate::wrong_key(alg), from)?;
            sign(alg, &header, &claims, &wrong, from)?
        }
        Some(Mutation::TamperedSignature) => {
            mutate::tamper(&sign(alg, &header, &claims, &encoding, &key.from)?)
        }
        _ => sign(alg, &header, &claims, &encoding, &key.from)?,
    };
    Ok(credential(plan, &key, token))
}

fn credential(plan: &JwtPlan, key: &Key, token: String) -> Credential {
    let alg = plan.algorithm.name();
    let mut origin = format!("{alg} signed with {}", key.described);
    let mut marker = format!("[jwt {alg} {}", key.marked);
    if let Some(kid) = &plan.kid {
        origin.push_str(&format!(", kid `{kid}`"));
        marker.push_str(&format!(" kid={kid}"));
    }
    if let Some(m) = &plan.mutate {
        let name = m.name();
        origin.push_str(&format!(", mutated: {name}"));
        marker.push_str(&format!(" mutate={name}"));
    }
    marker.push(']');
    Credential {
        token,
        strategy: "jwt",
        origin,
        marker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testkit::{
        ALGORITHMS, HMAC_SECRET, accepted, file_plan, key_file, mint_with, parts, plan, server,
    };
    use crate::server::auth::Rejection;
    use serde_json::json;

    #[test]
    fn plain_tokens_are_accepted_for_every_algorithm() {
        let server = server();
        for alg in ALGORITHMS {
            let cred = mint_with(&file_plan(alg)).expect("mints");
            assert!(accepted(&server, &cred.token), "{alg:?}: {:?}", cred);
            let (h, c) = parts(&cred.token);
            assert_eq!(h["alg"], alg.name());
            assert!(h.get("kid").is_none(), "{h}");
            assert_eq!(c["sub"], "user-r1");
            let iat = c["iat"].as_i64().expect("iat");
            assert_eq!(c["exp"].as_i64(), Some(iat + 600));
            assert!(c.get("nbf").is_none(), "{c}");
            assert_eq!(cred.strategy, "jwt");
        }
    }

    #[test]
    fn pem_keys_from_secrets_sign_too() {
        let server = server();
        for (alg, name) in [
            (JwtAlgorithm::Rs256, "rsa_key"),
            (JwtAlgorithm::Es256, "ec_key"),
        ] {
            let cred = mint_with(&plan(alg, KeySource::Secret(name.into()))).expect("mints");
            assert!(accepted(&server, &cred.token), "{alg:?}");
        }
    }

    #[test]
    fn kid_is_carried_in_the_header() {
        let server = server();
        for alg in ALGORITHMS {
            let mut plan = file_plan(alg);
            plan.kid = Some("key-2026".into());
            let cred = mint_with(&plan).expect("mints");
            let header = jsonwebtoken::decode_header(&cred.token).expect("header");
            assert_eq!(header.kid.as_deref(), Some("key-2026"), "{alg:?}");
            assert!(accepted(&server, &cred.token), "{alg:?}");
            assert!(cred.origin.contains(", kid `key-2026`"), "{}", cred.origin);
            assert!(cred.marker.contains(" kid=key-2026"), "{}", cred.marker);
        }
    }

    #[test]
    fn not_before_in_the_future_is_rejected_in_the_past_accepted() {
        let server = server();
        for alg in ALGORITHMS {
            let mut plan = file_plan(alg);
            plan.not_before_secs = Some(300);
            let token = mint_with(&plan).expect("mints").token;
            let (_, c) = parts(&token);
            assert_eq!(c["nbf"].as_i64(), c["iat"].as_i64().map(|t| t + 300));
            assert_eq!(
                server.authenticate(&token),
                Err(Rejection::Invalid("token not yet valid (nbf)".into())),
                "{alg:?}"
            );
            plan.not_before_secs = Some(-300);
            let token = mint_with(&plan).expect("mints").token;
            assert!(accepted(&server, &token), "{alg:?}");
        }
    }

    #[test]
    fn claims_written_in_the_plan_win_over_defaults() {
        let mut plan = file_plan(JwtAlgorithm::Hs256);
        plan.claims = json!({"sub": "u", "iat": 7, "exp": 4_000_000_000_i64, "nbf": 8});
        plan.not_before_secs = Some(60);
        let (_, c) = parts(&mint_with(&plan).expect("mints").token);
        assert_eq!(
            c,
            json!({"sub": "u", "iat": 7, "exp": 4_000_000_000_i64, "nbf": 8})
        );
    }

    #[test]
    fn negative_expires_in_mints_a_token_the_server_calls_expired() {
        let mut plan = file_plan(JwtAlgorithm::Hs384);
        plan.expires_in_secs = -120;
        let token = mint_with(&plan).expect("mints").token;
        assert_eq!(
            server().authenticate(&token),
            Err(Rejection::InvalidOrExpired)
        );
    }

    #[test]
    fn hmac_key_file_drops_one_trailing_newline() {
        let dir = std::env::temp_dir().join(format!("sockspec-jwt-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("hmac.key"), format!("{HMAC_SECRET}\r\n")).expect("write");
        let p = plan(JwtAlgorithm::Hs512, KeySource::File("hmac.key".into()));
        let cred = mint(
            &p,
            &Secrets::default(),
            &dir,
            &crate::template::MapResolver::new("r1"),
        );
        std::fs::remove_dir_all(&dir).ok();
        let cred = cred.expect("mints");
        assert!(accepted(&server(), &cred.token));
        assert!(
            cred.origin
                .starts_with("HS512 signed with key file hmac.key (sha256:"),
            "{}",
            cred.origin
        );
        assert_eq!(cred.marker, "[jwt HS512 file hmac.key]");
    }

    #[test]
    fn origin_and_marker_describe_the_key_without_its_value() {
        let mut p = file_plan(JwtAlgorithm::Hs256);
        p.mutate = Some(Mutation::AlgNone);
        let a = mint_with(&p).expect("mints");
        let fp = crate::environment::fingerprint(HMAC_SECRET.as_bytes());
        assert_eq!(
            a.origin,
            format!("HS256 signed with secret `jwt` (from T_JWT, sha256:{fp}), mutated: alg_none")
        );
        assert_eq!(a.marker, "[jwt HS256 secret jwt mutate=alg_none]");

        let rsa_pem = key_file("test-rsa-private.pem");
        let body_line = rsa_pem.lines().nth(1).expect("pem body");
        for (alg, key) in [
            (JwtAlgorithm::Rs256, KeySource::Secret("rsa_key".into())),
            (
                JwtAlgorithm::Rs256,
                KeySource::File("keys/test-rsa-private.pem".into()),
            ),
            (JwtAlgorithm::Hs256, KeySource::Secret("jwt".into())),
        ] {
            let c = mint_with(&plan(alg, key)).expect("mints");
            for text in [&c.origin, &c.marker, &format!("{c:?}")] {
                assert!(!text.contains(HMAC_SECRET), "{text}");
                assert!(!text.contains(body_line), "{text}");
                assert!(!text.contains(&c.token), "{text}");
            }
            assert!(c.origin.contains("sha256:"), "{}", c.origin);
            assert!(!c.marker.contains("sha256"), "{}", c.marker);
        }
        let file_fp = crate::environment::fingerprint(rsa_pem.as_bytes());
        let c = mint_with(&file_plan(JwtAlgorithm::Rs256)).expect("mints");
        assert_eq!(
            c.origin,
            format!("RS256 signed with key file keys/test-rsa-private.pem (sha256:{file_fp})")
        );
        assert_eq!(c.marker, "[jwt RS256 file keys/test-rsa-private.pem]");
    }

    #[test]
    fn missing_key_file_names_the_path() {
        let p = plan(
            JwtAlgorithm::Rs256,
            KeySource::File("keys/missing.pem".into()),
        );
        let e = mint_with(&p).expect_err("no such file");
        assert!(matches!(e, AuthError::ReadKeyFile { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("read key file keys/missing.pem: "),
            "{text}"
        );
        assert!(text.contains("No such file"), "{text}");
    }

    #[test]
    fn bad_private_keys_are_parse_errors() {
        let err = |alg, key| mint_with(&plan(alg, key)).expect_err("bad key").to_string();
        let text = err(JwtAlgorithm::Rs256, KeySource::Secret("garbage".into()));
        assert!(
            text.starts_with("parse RS256 private key from secret `garbage`: not a PEM key"),
            "{text}"
        );
        assert!(!text.contains("definitely-not"), "{text}");
        let text = err(
            JwtAlgorithm::Rs256,
            KeySource::File("keys/test-rsa-public.pem".into()),
        );
        assert!(
            text.contains("key file keys/test-rsa-public.pem: it is a public key"),
            "{text}"
        );
        let text = err(JwtAlgorithm::Es256, KeySource::Secret("rsa_key".into()));
        assert!(
            text.starts_with("parse ES256 private key from secret `rsa_key`: not a P-256"),
            "{text}"
        );
        let text = err(JwtAlgorithm::Rs256, KeySource::Secret("ec_key".into()));
        assert!(
            text.starts_with("parse RS256 private key from secret `ec_key`: not an RSA"),
            "{text}"
        );
    }

    #[test]
    fn pem_framed_garbage_and_sec1_keys_are_parse_errors() {
        let framed = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let sec1 = b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        // A public key labelled as a private one parses as PEM; only signing refuses it.
        let relabelled = key_file("test-rsa-public.pem").replace("PUBLIC KEY", "PRIVATE KEY");
        for (alg, bytes) in [
            (JwtAlgorithm::Rs256, &framed[..]),
            (JwtAlgorithm::Es256, &framed[..]),
            (JwtAlgorithm::Es256, &sec1[..]),
            (JwtAlgorithm::Rs256, relabelled.as_bytes()),
        ] {
            let e = encoding_key(alg, bytes, "secret `k`")
                .and_then(|k| {
                    let header = Header::new(algorithm(alg));
                    sign(alg, &header, &Map::new(), &k, "secret `k`")
                })
                .expect_err("refused");
            assert!(matches!(e, AuthError::ParseKey { .. }), "{alg:?}: {e:?}");
        }
        let e = encoding_key(JwtAlgorithm::Es256, sec1, "secret `k`").expect_err("sec1");
        assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
    }

    #[test]
    fn wrong_secret_refuses_to_sign_with_its_own_key() {
        let mut p = plan(
            JwtAlgorithm::Es256,
            KeySource::File("keys/test-ec-other-private.pem".into()),
        );
        assert!(mint_with(&p).is_ok(), "usable as a key otherwise");
        p.mutate = Some(Mutation::WrongSecret);
        let e = mint_with(&p).expect_err("would not be wrong");
        assert!(matches!(e, AuthError::KeyIsWrongKey(_)), "{e:?}");
    }

    #[test]
    fn unknown_secret_and_empty_hmac_key_are_errors() {
        let e = mint_with(&plan(JwtAlgorithm::Hs256, KeySource::Secret("nope".into())));
        assert!(matches!(e, Err(AuthError::UnknownSecret(n)) if n == "nope"));
        let e = encoding_key(JwtAlgorithm::Hs256, b"", "key file k").expect_err("empty");
        assert_eq!(e.to_string(), "use key file k as an HMAC key: it is empty");
    }
}
