//! `sockspec serve`: the command-line flags (`ServeArgs`: address, secrets, and `ServerOptions`
//! flattened, one flag per option), staging-style secret resolution from environment variables
//! (logged as variable name plus fingerprint, never the value), and running on a TCP port until
//! Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use tokio::net::TcpListener;

use super::config::ServerConfig;
use super::error::ServerError;
use super::lifecycle::run;
use super::secrets::{API_KEY_VAR, BYPASS_KEY_VAR, ServerSecrets, fingerprint, secrets_from_env};
use crate::server_options::ServerOptions;

/// Flags of `sockspec serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// TCP port to listen on.
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Environment name: the JWT secret is read from JWT_SECRET_{ENVIRONMENT}, JWT_SECRET_KEY
    /// or JWT_SECRET, the first one set.
    #[arg(long, default_value = "staging")]
    pub environment: String,
    /// API key accepted as a bearer token (repeatable; STAGING_TEST_API_KEY is added too).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// PEM public key enabling RS256 tokens.
    #[arg(long, value_name = "PATH")]
    pub rsa_public_key: Option<PathBuf>,
    /// PEM public key enabling ES256 tokens.
    #[arg(long, value_name = "PATH")]
    pub ec_public_key: Option<PathBuf>,
    /// The server's behaviour knobs, one flag per `ServerOptions` field (`users` excepted).
    #[command(flatten)]
    pub options: ServerOptions,
}

impl ServeArgs {
    /// The behaviour knobs these flags select.
    pub fn options(&self) -> ServerOptions {
        self.options.clone()
    }

    /// Options and secrets, with secrets looked up through `lookup` (the process environment
    /// in `serve`). Logs where each secret came from, by variable name and fingerprint.
    pub fn config(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ServerConfig, ServerError> {
        let (mut secrets, variable) = secrets_from_env(&self.environment, &self.api_keys, &lookup)?;
        tracing::info!(
            variable = %variable,
            fingerprint = %fingerprint(&secrets.jwt_secret),
            "jwt secret loaded"
        );
        log_optional_secrets(&secrets);
        secrets.rsa_public_key_pem = self.rsa_public_key.as_deref().map(read).transpose()?;
        secrets.ec_public_key_pem = self.ec_public_key.as_deref().map(read).transpose()?;
        Ok(ServerConfig {
            options: self.options(),
            secrets,
        })
    }
}

fn log_optional_secrets(secrets: &ServerSecrets) {
    match &secrets.bypass_key {
        Some(key) => tracing::info!(
            variable = BYPASS_KEY_VAR,
            fingerprint = %fingerprint(key),
            "e2e bypass key loaded"
        ),
        None => tracing::info!(
            variable = BYPASS_KEY_VAR,
            "unset: e2e bypass endpoints disabled"
        ),
    }
    for key in &secrets.api_keys {
        tracing::info!(
            sources = %format!("--api-key or {API_KEY_VAR}"),
            fingerprint = %fingerprint(key),
            "api key accepted"
        );
    }
}

fn read(path: &Path) -> Result<String, ServerError> {
    std::fs::read_to_string(path).map_err(|source| ServerError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

/// Resolves secrets from the process environment, binds `--host:--port` and serves until
/// Ctrl-C. Installs a `tracing` subscriber (RUST_LOG, default `info`) unless one is set.
pub(crate) async fn serve(args: ServeArgs) -> Result<(), ServerError> {
    // Colours only on a terminal: a log redirected to a file stays plain text.
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let config = args.config(|name| std::env::var(name).ok())?;
    let addr = SocketAddr::new(args.host, args.port);
    if !args.host.is_loopback() {
        tracing::warn!(%addr, "listening on a non-loopback address");
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(ServerError::LocalAddr)?;
    tracing::info!(ws = %format!("ws://{local}/ws"), "reference server listening");
    run(listener, config, async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c; stopping");
        }
        tracing::info!("shutting down");
    })
    .await
}
