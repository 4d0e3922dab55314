//! TLS, both ways, with rustls (its `ring` provider, chosen explicitly: no process-wide
//! default to install or to collide with).
//!
//! - **Out**: every HTTP client the services build (router → subgraphs, router → JWKS,
//!   router → media files, subgraph → subgraph, `folio search reindex`, `folio demo`)
//!   starts from [`client_builder`]: HTTPS verified against the system's roots, plus the
//!   CAs of `FOLIO_TLS_CA_FILE` (a private CA).
//! - **In**: with `FOLIO_TLS_CERT_FILE` and `FOLIO_TLS_KEY_FILE`, every listener of the
//!   process speaks TLS only ([`TlsListener`]), and the services of one process reach each
//!   other at `https://` URLs ([`scheme`]).

use crate::Config;
use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub use rustls::ServerConfig;

/// The scheme the services of this process are reached at: `https` when they listen
/// with TLS.
pub fn scheme(cfg: &Config) -> &'static str {
    if cfg.tls_cert_file.is_some() {
        "https"
    } else {
        "http"
    }
}

/// An HTTP client builder that trusts the system's roots and `FOLIO_TLS_CA_FILE`'s CAs.
pub fn client_builder(cfg: &Config) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder();
    if let Some(path) = &cfg.tls_ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("FOLIO_TLS_CA_FILE: reading {}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("FOLIO_TLS_CA_FILE: {} is not PEM", path.display()))?;
        anyhow::ensure!(
            !certs.is_empty(),
            "FOLIO_TLS_CA_FILE: {} holds no certificate",
            path.display()
        );
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(builder)
}

/// The listeners' TLS settings, when `FOLIO_TLS_CERT_FILE` and `FOLIO_TLS_KEY_FILE` are set
/// (one without the other is an error).
pub fn server_config(cfg: &Config) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let (cert, key) = match (&cfg.tls_cert_file, &cfg.tls_key_file) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => anyhow::bail!("FOLIO_TLS_CERT_FILE and FOLIO_TLS_KEY_FILE go together"),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("FOLIO_TLS_CERT_FILE {}: {e}", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "FOLIO_TLS_CERT_FILE {} holds no certificate",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("FOLIO_TLS_KEY_FILE {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("FOLIO_TLS_CERT_FILE and FOLIO_TLS_KEY_FILE do not make a pair")?;
    // The listeners speak HTTP/1.1 (axum's `http1`), with TLS as without.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP listener whose connections are TLS, for `axum::serve`. Handshakes run in tasks
/// of their own, so a slow or silent client holds up no one; a failed one is dropped
/// (logged at debug). The accepting task ends when the listener is dropped.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Serves TLS with `config` on `tcp`.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = tx.closed() => return,
                    accepted = tcp.accept() => accepted,
                };
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, as axum does.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accepting task only ends once this listener is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
