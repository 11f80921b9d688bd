//! Reference server: `sockspec serve` flags and staging-style secret resolution, tested with
//! an injected environment lookup (the process environment is never touched).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use sockspec::server::{ServeArgs, fingerprint, jwt_secret_variables, resolve_jwt_secret};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn missing_secret_error_names_every_variable_tried() {
    let error = resolve_jwt_secret("staging", env(&[])).expect_err("nothing set");
    assert_eq!(
        error.to_string(),
        "find a JWT secret for environment 'staging': set one of JWT_SECRET_STAGING, JWT_SECRET_KEY, JWT_SECRET"
    );
    let error =
        resolve_jwt_secret("e2e-staging", env(&[("JWT_SECRET", "")])).expect_err("empty is unset");
    assert!(
        error
            .to_string()
            .contains("JWT_SECRET_E2E_STAGING, JWT_SECRET_KEY, JWT_SECRET"),
        "{error}"
    );
}

#[test]
fn first_set_variable_wins() {
    let all = env(&[
        ("JWT_SECRET_STAGING", "from-env-specific"),
        ("JWT_SECRET_KEY", "from-key"),
        ("JWT_SECRET", "from-legacy"),
    ]);
    let found = resolve_jwt_secret("staging", &all).expect("found");
    assert_eq!(
        (found.variable.as_str(), found.value.as_str()),
        ("JWT_SECRET_STAGING", "from-env-specific")
    );
    let found = resolve_jwt_secret("development", &all).expect("found");
    assert_eq!(found.variable, "JWT_SECRET_KEY");
    let found = resolve_jwt_secret("development", env(&[("JWT_SECRET", "x")])).expect("found");
    assert_eq!(found.variable, "JWT_SECRET");
    assert_eq!(jwt_secret_variables("prod-eu")[0], "JWT_SECRET_PROD_EU");
}

#[test]
fn flags_map_onto_options() {
    let cli = Cli::try_parse_from([
        "serve",
        "--require-known-users",
        "--api-key",
        "k1",
        "--event-delay",
        "50ms",
        "--drop-after",
        "3",
        "--close-after-accept",
        "4001",
        "--oversized-frame",
        "1048576",
        "--close-1011",
        "--malformed-frame",
        "--start-unhealthy",
    ])
    .expect("valid flags");
    let args = cli.serve;
    assert_eq!(args.port, 8765);
    assert!(args.host.is_loopback());
    assert_eq!(args.environment, "staging");
    let o = args.options();
    assert!(o.require_known_users && o.close_1011 && o.malformed_frame && o.start_unhealthy);
    assert_eq!(o.event_delay, Duration::from_millis(50));
    assert_eq!(
        (o.drop_after, o.close_after_accept, o.oversized_frame),
        (Some(3), Some(4001), Some(1 << 20))
    );
    assert!(o.validate().is_ok());

    let cli = Cli::try_parse_from([
        "serve",
        "--message-auth",
        "--message-auth-close-code",
        "4401",
        "--message-auth-timeout",
        "2s",
        "--message-auth-timeout-close-code",
        "4408",
        "--jitter",
        "20ms",
        "--jitter-seed",
        "7",
    ])
    .expect("valid protocol flags");
    let o = cli.serve.options();
    assert!(o.message_auth);
    assert_eq!(
        (o.message_auth_close_code, o.message_auth_timeout_close_code),
        (Some(4401), Some(4408))
    );
    assert_eq!(o.message_auth_timeout, Some(Duration::from_secs(2)));
    assert_eq!(
        (o.jitter, o.jitter_seed),
        (Duration::from_millis(20), Some(7))
    );
    assert!(o.validate().is_ok());

    let both = Cli::try_parse_from(["serve", "--silent-reject", "--close-after-accept", "1008"]);
    assert!(
        both.is_err(),
        "silent-reject and close-after-accept conflict"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn config_reads_all_secrets_and_logs_only_names_and_fingerprints() {
    let cli = Cli::try_parse_from([
        "serve",
        "--environment",
        "staging",
        "--api-key",
        "flag-api-key",
    ])
    .expect("flags");
    let lookup = env(&[
        ("JWT_SECRET_KEY", "jwt-secret-value-123"),
        ("E2E_BYPASS_KEY", "bypass-value-456"),
        ("STAGING_TEST_API_KEY", "env-api-key-789"),
    ]);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let config =
        tracing::subscriber::with_default(subscriber, || cli.serve.config(lookup)).expect("config");
    assert_eq!(config.secrets.jwt_secret, "jwt-secret-value-123");
    assert_eq!(
        config.secrets.bypass_key.as_deref(),
        Some("bypass-value-456")
    );
    assert_eq!(config.secrets.api_keys, ["flag-api-key", "env-api-key-789"]);

    let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(log.contains("JWT_SECRET_KEY"), "{log}");
    assert!(log.contains(&fingerprint("jwt-secret-value-123")), "{log}");
    assert!(log.contains("E2E_BYPASS_KEY"), "{log}");
    assert!(log.contains(&fingerprint("bypass-value-456")), "{log}");
    for secret in [
        "jwt-secret-value-123",
        "bypass-value-456",
        "env-api-key-789",
        "flag-api-key",
    ] {
        assert!(
            !log.contains(secret),
            "secret value leaked into the log: {log}"
        );
    }
    let debug = format!("{config:?}");
    assert!(!debug.contains("jwt-secret-value-123"), "{debug}");
}
