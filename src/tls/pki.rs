//! Certificates made with rcgen for tests, benches and the demo's local TLS endpoints: a CA,
//! intermediates and leaves with a chosen validity (days relative to now), and a loopback TLS
//! server presenting a chosen chain.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A made certificate with its key and the parameters to sign others.
pub struct Made {
    pub der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl std::fmt::Debug for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Made").finish_non_exhaustive()
    }
}

impl Made {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

fn validity(params: &mut CertificateParams, from_days: i64, to_days: i64) {
    let now = jiff::Timestamp::now().as_second();
    let at = |d: i64| {
        let secs = now + d * 86_400;
        let base = rcgen::date_time_ymd(1970, 1, 1);
        base + std::time::Duration::from_secs(secs.max(0) as u64)
    };
    params.not_before = at(from_days);
    params.not_after = at(to_days);
}

fn validity_secs(params: &mut CertificateParams, from: i64, to: i64) {
    let now = jiff::Timestamp::now().as_second();
    let base = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = base + std::time::Duration::from_secs((now + from).max(0) as u64);
    params.not_after = base + std::time::Duration::from_secs((now + to).max(0) as u64);
}

fn made(
    params: CertificateParams,
    key: KeyPair,
    signer: Option<&Made>,
) -> Result<Made, rcgen::Error> {
    let cert = match signer {
        Some(s) => params.signed_by(&key, &s.issuer())?,
        None => params.self_signed(&key)?,
    };
    Ok(Made {
        der: cert.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        params,
        key,
    })
}

fn ca_params(cn: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

/// A self-signed root CA valid from `from_days` to `to_days` relative to now.
pub fn try_ca(cn: &str, from_days: i64, to_days: i64) -> Result<Made, rcgen::Error> {
    let mut p = ca_params(cn)?;
    validity(&mut p, from_days, to_days);
    made(p, KeyPair::generate()?, None)
}

/// An intermediate CA signed by `parent`.
pub fn try_intermediate(
    parent: &Made,
    cn: &str,
    from_days: i64,
    to_days: i64,
) -> Result<Made, rcgen::Error> {
    let mut p = ca_params(cn)?;
    validity(&mut p, from_days, to_days);
    made(p, KeyPair::generate()?, Some(parent))
}

/// A server leaf for `names` (DNS names or IP addresses) signed by `issuer` (self-signed
/// when `None`), valid from `from_secs` to `to_secs` relative to now.
pub fn try_leaf_secs(
    issuer: Option<&Made>,
    cn: &str,
    names: &[&str],
    from_secs: i64,
    to_secs: i64,
) -> Result<Made, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    for n in names {
        p.subject_alt_names
            .push(match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into()?),
            });
    }
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity_secs(&mut p, from_secs, to_secs);
    made(p, KeyPair::generate()?, issuer)
}

/// [`try_leaf_secs`] in days, signed by `issuer`.
pub fn try_leaf(
    issuer: &Made,
    cn: &str,
    names: &[&str],
    from_days: i64,
    to_days: i64,
) -> Result<Made, rcgen::Error> {
    try_leaf_secs(
        Some(issuer),
        cn,
        names,
        from_days * 86_400,
        to_days * 86_400,
    )
}

/// Test shorthands that panic on rcgen failure (tests and benches only).
#[doc(hidden)]
pub fn ca(cn: &str, from_days: i64, to_days: i64) -> Made {
    try_ca(cn, from_days, to_days).expect("rcgen CA")
}

#[doc(hidden)]
pub fn intermediate(parent: &Made, cn: &str, from_days: i64, to_days: i64) -> Made {
    try_intermediate(parent, cn, from_days, to_days).expect("rcgen intermediate")
}

#[doc(hidden)]
pub fn leaf(issuer: &Made, cn: &str, names: &[&str], from_days: i64, to_days: i64) -> Made {
    try_leaf(issuer, cn, names, from_days, to_days).expect("rcgen leaf")
}

/// A loopback TLS server presenting `chain` (leaf first) with `key`: each connection is
/// handshaken, answers one HTTP/1.1 request with `200 OK` and is closed. Stops when the
/// handle is aborted.
pub async fn serve(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    serve_answering(chain, key, "200 OK").await
}

/// [`serve`], answering every request with `status` (`"401 Unauthorized"`).
pub async fn serve_answering(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    status: &'static str,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(std::io::Error::other)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let work = async {
                    let mut tls = acceptor.accept(tcp).await.ok()?;
                    let mut buf = [0u8; 1024];
                    let _ = tls.read(&mut buf).await.ok()?;
                    let body = "ok\n";
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    tls.write_all(resp.as_bytes()).await.ok()?;
                    tls.shutdown().await.ok()
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), work).await;
            });
        }
    });
    Ok((addr, task))
}

/// A loopback listener whose accept queue is full and never drained (a small backlog, never
/// accepted, filled with connections first until a new one's SYN is dropped): a connect to it
/// hangs (SYN retransmits) until the caller's deadline, on loopback too. For deadline tests,
/// benches and the demo. The fillers and the listener keep it full while they are held.
pub async fn full_backlog() -> std::io::Result<(SocketAddr, Vec<tokio::net::TcpStream>, TcpListener)>
{
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = sock.listen(1)?;
    let addr = listener.local_addr()?;
    let mut fillers = Vec::new();
    loop {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(std::time::Duration::from_millis(200), connect).await {
            Ok(Ok(s)) => fillers.push(s),
            Ok(Err(e)) => return Err(e),
            // This connection's SYN was dropped: the queue is full.
            Err(_) => return Ok((addr, fillers, listener)),
        }
        if fillers.len() >= 64 {
            return Err(std::io::Error::other(format!(
                "the accept queue of {addr} never filled"
            )));
        }
    }
}

/// A listener that accepts and never answers (a black hole for deadline tests and benches).
pub async fn black_hole() -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            if held.len() < 4096 {
                held.push(tcp);
            }
        }
    });
    Ok((addr, task))
}
