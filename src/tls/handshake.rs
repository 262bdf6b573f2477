//! One TLS handshake with a deadline per phase: TCP connect (resolution included), then the
//! TLS handshake through the [`RecordingVerifier`], so the presented chain and the verdict are
//! known even when verification fails. Returns the per-phase durations, the peer, the TLS
//! version, what was recorded and the stream (probes speak HTTP over it; see the verifier's
//! safety note).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::facts::{self, FactsError};
use super::verify::{Recorded, RecordingVerifier};

/// What to trust.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The system's roots (rustls-native-certs, loaded once).
    System,
    /// A CA bundle file (PEM).
    File(PathBuf),
    /// CA certificates in PEM (a kubeconfig's `certificate-authority-data`).
    Pem(Vec<u8>),
    /// A ready store.
    Store(Arc<RootCertStore>),
}

/// A client certificate (mTLS).
#[derive(Debug)]
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl ClientIdentity {
    /// From PEM texts (certificate chain, private key).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TrustError> {
        let chain = facts::pem_ders(cert_pem).map_err(TrustError::ClientCert)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| TrustError::ClientKey("no readable PEM private key".into()))?;
        Ok(ClientIdentity { chain, key })
    }
}

/// Per-phase deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Name resolution and TCP connect.
    pub connect: Duration,
    /// The TLS handshake, from the connected socket.
    pub handshake: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            connect: Duration::from_secs(3),
            handshake: Duration::from_secs(5),
        }
    }
}

/// One handshake to make.
#[derive(Clone, Debug)]
pub struct Request {
    /// `host:port` or `ip:port`.
    pub address: String,
    /// SNI and the name checked (defaults to the host part of `address`).
    pub server_name: Option<String>,
    pub trust: Trust,
    pub client: Option<ClientIdentity>,
    pub deadlines: Deadlines,
    /// Verification time (tests); `None` is the clock.
    pub now: Option<Timestamp>,
    /// The whole attempt (connect and handshake) ends within this, from its start: each
    /// phase's deadline is cut to what is left. A sweep of endpoints is then bounded by it,
    /// whichever phase hangs (a black hole that accepts and never answers, or a full-backlog
    /// listener whose connect never completes). `None`: the phases' deadlines alone.
    pub within: Option<Duration>,
}

impl Request {
    pub fn new(address: impl Into<String>) -> Self {
        Request {
            address: address.into(),
            server_name: None,
            trust: Trust::System,
            client: None,
            deadlines: Deadlines::default(),
            now: None,
            within: None,
        }
    }

    /// The name sent as SNI and checked: `server_name`, else the address's host.
    pub fn name(&self) -> String {
        match &self.server_name {
            Some(n) => n.clone(),
            None => host_of(&self.address).to_string(),
        }
    }
}

/// The host part of `host:port`, `[v6]:port` or a bare host.
pub fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => address,
    }
}

/// A completed handshake (verification may still have failed: see `recorded.outcome`).
pub struct Handshake {
    pub peer: SocketAddr,
    /// Resolution + TCP connect.
    pub connect: Duration,
    pub tls: Duration,
    /// `TLS 1.3`, `TLS 1.2`.
    pub version: &'static str,
    pub recorded: Recorded,
    pub stream: TlsStream<TcpStream>,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("peer", &self.peer)
            .field("connect", &self.connect)
            .field("tls", &self.tls)
            .field("version", &self.version)
            .field("outcome", &self.recorded.outcome)
            .finish_non_exhaustive()
    }
}

/// What could not be trusted or loaded before connecting.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrustError {
    #[error("CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("CA data is not PEM: {0}")]
    CaNotPem(FactsError),
    #[error("no trusted root certificates ({0})")]
    NoRoots(String),
    #[error("client certificate: {0}")]
    ClientCert(FactsError),
    #[error("client key: {0}")]
    ClientKey(String),
}

/// A failed handshake, naming the phase.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("bad address {0:?} (expected host:port)")]
    Address(String),
    #[error("bad server name {0:?}")]
    ServerName(String),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("connect {addr}: refused")]
    Refused { addr: String },
    #[error("connect {addr}: timed out after {}", humantime::format_duration(*.after))]
    ConnectTimeout { addr: String, after: Duration },
    #[error("connect {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("TLS handshake with {addr}: timed out after {}", humantime::format_duration(*.after))]
    HandshakeTimeout {
        addr: String,
        after: Duration,
        recorded: Option<Recorded>,
    },
    #[error("TLS handshake with {addr}: {reason}")]
    Tls {
        addr: String,
        reason: String,
        recorded: Option<Recorded>,
    },
}

impl HandshakeError {
    /// The chain recorded before the failure, if the server got that far.
    pub fn recorded(&self) -> Option<&Recorded> {
        match self {
            HandshakeError::HandshakeTimeout { recorded, .. }
            | HandshakeError::Tls { recorded, .. } => recorded.as_ref(),
            _ => None,
        }
    }

    /// The phase that failed, in one word (`connect`, `tls`, `config`).
    pub fn phase(&self) -> &'static str {
        match self {
            HandshakeError::Address(_)
            | HandshakeError::ServerName(_)
            | HandshakeError::Trust(_) => "config",
            HandshakeError::Resolve { .. } => "dns",
            HandshakeError::Refused { .. }
            | HandshakeError::ConnectTimeout { .. }
            | HandshakeError::Connect { .. } => "connect",
            HandshakeError::HandshakeTimeout { .. } | HandshakeError::Tls { .. } => "tls",
        }
    }
}

/// ring, the one provider.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static P: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's roots, loaded once.
pub fn system_roots() -> Result<Arc<RootCertStore>, TrustError> {
    static R: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    R.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        let (added, _ignored) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| crate::sanitize::display_line(&e.to_string()).into_owned())
                .unwrap_or_else(|| "the system has none".into());
            Err(why)
        } else {
            Ok(Arc::new(store))
        }
    })
    .clone()
    .map_err(TrustError::NoRoots)
}

/// A root store from PEM text; says when the data is not PEM at all (a kubeconfig whose CA
/// data is DER or garbage), rather than letting it surface as "unknown authority" later.
pub fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, TrustError> {
    let ders = facts::pem_ders(pem).map_err(TrustError::CaNotPem)?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(ders);
    if added == 0 {
        return Err(TrustError::NoRoots(
            "no usable CA certificate in the PEM data".into(),
        ));
    }
    Ok(store)
}

impl Trust {
    /// The store this trust means.
    pub fn load(&self) -> Result<Arc<RootCertStore>, TrustError> {
        match self {
            Trust::System => system_roots(),
            Trust::Store(s) => Ok(s.clone()),
            Trust::Pem(p) => roots_from_pem(p).map(Arc::new),
            Trust::File(path) => {
                let data = std::fs::read(path).map_err(|e| TrustError::CaFile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                roots_from_pem(&data)
                    .map(Arc::new)
                    .map_err(|e| TrustError::CaFile {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })
            }
        }
    }
}

/// Connects and shakes hands (see the module doc).
pub async fn handshake(req: &Request) -> Result<Handshake, HandshakeError> {
    let name = req.name();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| HandshakeError::ServerName(crate::sanitize::display_line(&name).into()))?;
    let roots = req.trust.load()?;
    let verifier = Arc::new(
        RecordingVerifier::new(roots, provider(), req.now)
            .map_err(|e| TrustError::NoRoots(e.to_string()))?,
    );
    let slot = verifier.slot();
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::NoRoots(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &req.client {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| TrustError::ClientKey(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    let addr_text = crate::sanitize::display_line(&req.address).into_owned();
    if !req.address.contains(':') {
        return Err(HandshakeError::Address(addr_text));
    }

    let start = Instant::now();
    // A phase's deadline, cut to what is left of `within`, and the deadline a timeout names
    // (the whole attempt's when that is what ran out).
    let phase = |deadline: Duration| match req.within {
        Some(w) if w.saturating_sub(start.elapsed()) < deadline => {
            (w.saturating_sub(start.elapsed()), w)
        }
        _ => (deadline, deadline),
    };
    let (connect_deadline, connect_named) = phase(req.deadlines.connect);
    let tcp = tokio::time::timeout(connect_deadline, connect(&req.address, &addr_text))
        .await
        .map_err(|_| HandshakeError::ConnectTimeout {
            addr: addr_text.clone(),
            after: connect_named,
        })??;
    let connect_took = start.elapsed();
    let peer = tcp.peer_addr().map_err(|e| HandshakeError::Connect {
        addr: addr_text.clone(),
        reason: e.to_string(),
    })?;
    let _ = tcp.set_nodelay(true);

    let tls_start = Instant::now();
    let connector = TlsConnector::from(Arc::new(config));
    let taken = || slot.lock().ok().and_then(|mut g| g.take());
    let (handshake_deadline, handshake_named) = phase(req.deadlines.handshake);
    let stream = match tokio::time::timeout(
        handshake_deadline,
        connector.connect(server_name.to_owned(), tcp),
    )
    .await
    {
        Err(_) => {
            return Err(HandshakeError::HandshakeTimeout {
                addr: addr_text,
                after: handshake_named,
                recorded: taken(),
            });
        }
        Ok(Err(e)) => {
            return Err(HandshakeError::Tls {
                addr: addr_text,
                reason: crate::sanitize::display_line(&e.to_string()).into_owned(),
                recorded: taken(),
            });
        }
        Ok(Ok(s)) => s,
    };
    let tls_took = tls_start.elapsed();
    let Some(recorded) = taken() else {
        // Resumed sessions skip verification; ondeck never resumes (a fresh config each
        // time), so this is a bug, said loudly rather than shown as "ok".
        return Err(HandshakeError::Tls {
            addr: addr_text,
            reason: "handshake completed without presenting a certificate".into(),
            recorded: None,
        });
    };
    let version = match stream.get_ref().1.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
        _ => "TLS",
    };
    Ok(Handshake {
        peer,
        connect: connect_took,
        tls: tls_took,
        version,
        recorded,
        stream,
    })
}

async fn connect(address: &str, addr_text: &str) -> Result<TcpStream, HandshakeError> {
    let addrs: Vec<SocketAddr> = match address.parse::<SocketAddr>() {
        Ok(a) => vec![a],
        Err(_) => tokio::net::lookup_host(address)
            .await
            .map_err(|e| HandshakeError::Resolve {
                host: host_of(addr_text).to_string(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => HandshakeError::Refused {
            addr: addr_text.to_string(),
        },
        Some(e) => HandshakeError::Connect {
            addr: addr_text.to_string(),
            reason: e.to_string(),
        },
        None => HandshakeError::Resolve {
            host: host_of(addr_text).to_string(),
            reason: "no addresses".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("api.example:443"), "api.example");
        assert_eq!(host_of("[::1]:6443"), "::1");
        assert_eq!(host_of("10.0.0.5:6443"), "10.0.0.5");
        assert_eq!(host_of("bare"), "bare");
    }
}
