//! Owns the test fixtures shared by the JWT tests: secrets resolved from a small config, plans
//! for each algorithm using the committed keys under `keys/`, and the reference server's own
//! authenticator configured with the matching verification keys.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{AuthError, Credential, mint};
use crate::environment::{Config, Secrets};
use crate::scenario::{JwtAlgorithm, JwtPlan, KeySource};
use crate::server::auth::Authenticator;
use crate::server::{ServerOptions, ServerSecrets};
use crate::template::MapResolver;

pub(super) const ALGORITHMS: [JwtAlgorithm; 5] = [
    JwtAlgorithm::Hs256,
    JwtAlgorithm::Hs384,
    JwtAlgorithm::Hs512,
    JwtAlgorithm::Rs256,
    JwtAlgorithm::Es256,
];

/// HMAC secret shared by the secrets and the server.
pub(super) const HMAC_SECRET: &str = "test-hmac-secret-0123456789abcdef";
pub(super) const ISSUER: &str = "https://issuer.sockspec.test";
pub(super) const AUDIENCE: &str = "sockspec-tests";

pub(super) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Contents of `keys/<name>`.
pub(super) fn key_file(name: &str) -> String {
    std::fs::read_to_string(root().join("keys").join(name)).expect("committed test key")
}

/// Secrets `jwt` (the HMAC secret), `rsa_key` and `ec_key` (the committed private PEMs) and
/// `garbage`, resolved from variables as a real environment would.
pub(super) fn secrets() -> Secrets {
    let config = "environments:\n  test:\n    ws_url: ws://127.0.0.1:1\n    secrets:\n      \
                  jwt: {env: [T_JWT]}\n      rsa_key: {env: [T_RSA]}\n      \
                  ec_key: {env: [T_EC]}\n      garbage: {env: [T_GARBAGE]}\n";
    let c = Config::parse(config, root(), Path::new("sockspec.yaml")).expect("config");
    let lookup = |var: &str| match var {
        "T_JWT" => Some(HMAC_SECRET.to_owned()),
        "T_RSA" => Some(key_file("test-rsa-private.pem")),
        "T_EC" => Some(key_file("test-ec-private.pem")),
        "T_GARBAGE" => Some("definitely-not-a-pem-key".to_owned()),
        _ => None,
    };
    Secrets::resolve(
        &c.environments["test"],
        ["jwt", "rsa_key", "ec_key", "garbage"],
        &lookup,
    )
    .expect("secrets")
}

/// A plan whose claims carry `sub`, `email`, and the strict server's `iss` and `aud`.
pub(super) fn plan(algorithm: JwtAlgorithm, key: KeySource) -> JwtPlan {
    JwtPlan {
        key,
        algorithm,
        kid: None,
        claims: json!({
            "sub": "user-{{ run_id }}",
            "email": "u@example.test",
            "iss": ISSUER,
            "aud": AUDIENCE,
        }),
        expires_in_secs: 600,
        not_before_secs: None,
        mutate: None,
    }
}

/// HS* with secret `jwt`; RS256/ES256 with the committed private key files.
pub(super) fn file_plan(algorithm: JwtAlgorithm) -> JwtPlan {
    let key = match algorithm {
        JwtAlgorithm::Rs256 => KeySource::File("keys/test-rsa-private.pem".into()),
        JwtAlgorithm::Es256 => KeySource::File("keys/test-ec-private.pem".into()),
        _ => KeySource::Secret("jwt".into()),
    };
    plan(algorithm, key)
}

/// Mints with [`secrets`], the crate root, and run id `r1`.
pub(super) fn mint_with(plan: &JwtPlan) -> Result<Credential, AuthError> {
    mint(plan, &secrets(), root(), &MapResolver::new("r1"))
}

fn server_with(options: &ServerOptions) -> Authenticator {
    let secrets = ServerSecrets {
        jwt_secret: HMAC_SECRET.to_owned(),
        rsa_public_key_pem: Some(key_file("test-rsa-public.pem")),
        ec_public_key_pem: Some(key_file("test-ec-public.pem")),
        ..Default::default()
    };
    Authenticator::new(&secrets, options).expect("server keys load")
}

/// The reference server's authenticator, with default options (no iss/aud check).
pub(super) fn server() -> Authenticator {
    server_with(&ServerOptions::default())
}

/// The reference server's authenticator requiring [`ISSUER`] and [`AUDIENCE`].
pub(super) fn strict_server() -> Authenticator {
    server_with(&ServerOptions {
        issuer: Some(ISSUER.to_owned()),
        audience: Some(AUDIENCE.to_owned()),
        ..Default::default()
    })
}

/// Whether `server` accepts `token` as user `user-r1`.
pub(super) fn accepted(server: &Authenticator, token: &str) -> bool {
    server.authenticate(token).map(|p| p.user_id) == Ok("user-r1".to_owned())
}

/// Header and claims of `token`, decoded without verification.
pub(super) fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut next = || {
        let bytes = URL_SAFE_NO_PAD
            .decode(it.next().expect("segment"))
            .expect("base64url");
        serde_json::from_slice::<Value>(&bytes).expect("json")
    };
    let header = next();
    (header, next())
}
