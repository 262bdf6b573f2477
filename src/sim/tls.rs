//! Certificates for the simulated cluster, made with rcgen at start: a CA, a serving
//! certificate for 127.0.0.1/localhost (plus an expired twin for the `expired-cert` fault,
//! chosen per handshake), client certificates with a chosen expiry, and TLS secrets' certs.

use super::faults::FaultHandle;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Shifts rcgen's time type by seconds (generic so the `time` crate need not be a direct
/// dependency).
fn shift<T>(t: T, secs: i64) -> T
where
    T: std::ops::Add<std::time::Duration, Output = T>
        + std::ops::Sub<std::time::Duration, Output = T>,
{
    if secs >= 0 {
        t + std::time::Duration::from_secs(secs as u64)
    } else {
        t - std::time::Duration::from_secs(secs.unsigned_abs())
    }
}

/// Sets a certificate's validity from Unix times.
fn set_validity(params: &mut CertificateParams, not_before: i64, not_after: i64) {
    params.not_before = shift(rcgen::date_time_ymd(1970, 1, 1), not_before);
    params.not_after = shift(rcgen::date_time_ymd(1970, 1, 1), not_after);
}

fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A certificate and its private key in PEM.
#[derive(Clone)]
pub struct PemPair {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemPair")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl PemPair {
    fn private_key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// The cluster's CA plus everything it signed.
pub struct ClusterPki {
    pub ca: PemPair,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    pub serving: PemPair,
    pub serving_expired: PemPair,
}

impl std::fmt::Debug for ClusterPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPki").finish_non_exhaustive()
    }
}

fn pair(cert: rcgen::Certificate, key: &KeyPair) -> PemPair {
    PemPair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
        key_der: key.serialize_der(),
    }
}

impl ClusterPki {
    pub fn generate() -> Result<Self, TlsError> {
        let now = now_unix();
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ondeck-sim-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut ca_params, now - 86_400, now + 10 * 365 * 86_400);
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca = pair(ca_cert, &ca_key);
        let mut pki = ClusterPki {
            serving: ca.clone(),
            serving_expired: ca.clone(),
            ca,
            ca_params,
            ca_key,
        };
        pki.serving = pki.serving_cert(now - 3600, now + 365 * 86_400)?;
        pki.serving_expired = pki.serving_cert(now - 400 * 86_400, now - 2 * 86_400)?;
        Ok(pki)
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.ca_params, &self.ca_key)
    }

    fn serving_cert(&self, not_before: i64, not_after: i64) -> Result<PemPair, TlsError> {
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        params
            .subject_alt_names
            .push(SanType::DnsName("kubernetes.default.svc".try_into()?));
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(&mut params, not_before, not_after);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer())?;
        Ok(pair(cert, &key))
    }

    /// A client certificate for `user` valid until `days` from now (negative: already expired).
    pub fn client_cert(&self, user: &str, days: i64) -> Result<PemPair, TlsError> {
        let now = now_unix();
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "system:masters");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let not_after = now + days * 86_400;
        set_validity(&mut params, not_after.min(now) - 30 * 86_400, not_after);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer())?;
        Ok(pair(cert, &key))
    }
}

/// A self-signed certificate for a TLS secret, valid from `not_before` to `not_after` (Unix).
pub fn tls_secret_cert(
    common_name: &str,
    dns_names: &[String],
    not_before: i64,
    not_after: i64,
) -> Result<PemPair, TlsError> {
    let mut params = CertificateParams::new(dns_names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    set_validity(&mut params, not_before, not_after);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(pair(cert, &key))
}

/// A self-signed CA certificate (a webhook's or APIService's `caBundle`), valid from
/// `not_before` to `not_after` (Unix).
pub fn ca_cert(common_name: &str, not_before: i64, not_after: i64) -> Result<PemPair, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, not_before, not_after);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(pair(cert, &key))
}

/// Picks the valid or the expired serving certificate at each handshake, so the
/// `expired-cert` fault can be switched on and off at run time.
#[derive(Debug)]
pub struct ServingCertResolver {
    valid: Arc<CertifiedKey>,
    expired: Arc<CertifiedKey>,
    faults: FaultHandle,
}

impl ServingCertResolver {
    pub fn new(pki: &ClusterPki, faults: FaultHandle) -> Result<Self, TlsError> {
        let provider = rustls::crypto::ring::default_provider();
        let ck = |p: &PemPair| -> Result<Arc<CertifiedKey>, TlsError> {
            let chain = vec![p.cert_der.clone(), pki.ca.cert_der.clone()];
            Ok(Arc::new(CertifiedKey::from_der(
                chain,
                p.private_key_der(),
                &provider,
            )?))
        };
        Ok(ServingCertResolver {
            valid: ck(&pki.serving)?,
            expired: ck(&pki.serving_expired)?,
            faults,
        })
    }
}

impl ResolvesServerCert for ServingCertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(if self.faults.expired_cert() {
            self.expired.clone()
        } else {
            self.valid.clone()
        })
    }
}

/// The rustls server configuration (HTTP/1.1 and HTTP/2 via ALPN).
pub fn server_config(
    pki: &ClusterPki,
    faults: FaultHandle,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ServingCertResolver::new(pki, faults)?));
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_valid_and_expired_serving_certs() -> Result<(), TlsError> {
        let pki = ClusterPki::generate()?;
        assert!(pki.serving.cert_pem.contains("BEGIN CERTIFICATE"));
        assert_ne!(pki.serving.cert_pem, pki.serving_expired.cert_pem);
        let (_, expired) = x509_parser::parse_x509_certificate(&pki.serving_expired.cert_der)
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        assert!(expired.validity().not_after.timestamp() < now_unix());
        let (_, valid) = x509_parser::parse_x509_certificate(&pki.serving.cert_der)
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        assert!(valid.validity().is_valid());
        Ok(())
    }

    #[test]
    fn client_cert_expiry_is_chosen() -> Result<(), TlsError> {
        let pki = ClusterPki::generate()?;
        let c = pki.client_cert("alice", 3)?;
        let (_, cert) = x509_parser::parse_x509_certificate(&c.cert_der)
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        let left = cert.validity().not_after.timestamp() - now_unix();
        assert!((2 * 86_400..=3 * 86_400 + 60).contains(&left), "{left}");
        Ok(())
    }
}

/// Standard base64 (with padding), for Secret data and kubeconfig fields.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod base64_tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
