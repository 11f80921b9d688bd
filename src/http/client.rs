//! Owns the process's one HTTP client and its TLS configuration, built once, lazily: a
//! scenario pays for neither (building a reqwest client with its default TLS loads the
//! system's root certificates, milliseconds of CPU, although most scenarios use no TLS at
//! all). The root certificates themselves are loaded once, at the first certificate to verify
//! (an `https://` call or a `wss://` upgrade), by [`LazyRoots`]; `wss://` uses the same
//! configuration ([`tls_config`]).

use std::sync::{Arc, LazyLock, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The process's HTTP client: no proxy (loopback and the configured hosts only, never through
/// a proxy from the environment, whose address nobody chose for this test), no connection
/// pool (each run has its own runtime, and a pooled connection's task dies with the runtime
/// that opened it), TLS through [`tls_config`]. Deadlines are per request (`tokio::time`).
pub(crate) fn shared() -> reqwest::Client {
    static CLIENT: LazyLock<reqwest::Client> =
        LazyLock::new(|| builder().build().unwrap_or_else(|_| reqwest::Client::new()));
    CLIENT.clone()
}

/// A client builder with the process's TLS configuration and no proxy, for callers that need
/// other settings (`sockspec doctor`'s whole-request deadline).
pub(crate) fn builder() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0);
    match tls_config() {
        Ok(config) => builder.tls_backend_preconfigured(ClientConfig::clone(&config)),
        // reqwest's own TLS (roots loaded when the client is built) rather than none.
        Err(_) => builder,
    }
}

/// The client TLS configuration of the process (aws-lc-rs, the system's roots loaded at the
/// first certificate to verify).
pub(crate) fn tls_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: LazyLock<Result<Arc<ClientConfig>, String>> = LazyLock::new(|| {
        let provider = provider();
        let verifier = Arc::new(LazyRoots {
            algorithms: provider.signature_verification_algorithms,
            provider: provider.clone(),
            verifier: OnceLock::new(),
        });
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| {
                Arc::new(
                    b.dangerous()
                        .with_custom_certificate_verifier(verifier)
                        .with_no_client_auth(),
                )
            })
            .map_err(|e| format!("no TLS protocol version available: {e}"))
    });
    CONFIG.clone()
}

/// The system's root certificates, loaded once; `Err` says why there are none.
pub(crate) fn roots() -> Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                return Err(format!(
                    "no native root CA certificates found (errors: {:?})",
                    found.errors
                ));
            }
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(found.certs);
            Ok(Arc::new(roots))
        })
        .clone()
}

/// The one crypto provider: the process default if one is installed, else aws-lc-rs.
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// A WebPKI verifier over the system's roots, built at the first certificate it verifies.
#[derive(Debug)]
struct LazyRoots {
    provider: Arc<CryptoProvider>,
    algorithms: WebPkiSupportedAlgorithms,
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl LazyRoots {
    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let roots = roots().map_err(rustls::Error::General)?;
                WebPkiServerVerifier::builder_with_provider(roots, self.provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_and_its_tls_are_built_without_loading_roots() {
        let _client = shared();
        let _again = shared();
        let config = tls_config().expect("aws-lc-rs supports TLS 1.2 and 1.3");
        assert!(Arc::ptr_eq(&config, &tls_config().expect("built once")));
        // Nothing verified yet in this process's test: the verifier is still unbuilt.
        let fresh = LazyRoots {
            algorithms: provider().signature_verification_algorithms,
            provider: provider(),
            verifier: OnceLock::new(),
        };
        assert!(!fresh.supported_verify_schemes().is_empty());
        assert!(fresh.verifier.get().is_none());
    }
}
