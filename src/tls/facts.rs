//! Certificate facts parsed with x509-parser: what the certificates pane, `check` and the
//! probes show of one certificate. Every string is cleaned where it enters ([`Clean`]); dates
//! outside what ondeck can represent are `None` ("unknown"), never a panic.

use std::fmt::Write as _;

use jiff::Timestamp;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::text::Clean;

/// Where a certificate sits in the chain it was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainPosition {
    Leaf,
    Intermediate,
    Root,
}

impl ChainPosition {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainPosition::Leaf => "leaf",
            ChainPosition::Intermediate => "intermediate",
            ChainPosition::Root => "root",
        }
    }
}

/// Issuers, key types and signature algorithms repeat across thousands of certificates (every
/// Secret from the same issuer): one shared copy each. Bounded: past [`SHARED_MAX`] strings in
/// use, new ones are simply not shared.
static SHARED: std::sync::Mutex<Option<crate::text::Interner>> = std::sync::Mutex::new(None);
const SHARED_MAX: usize = 4096;

fn shared(s: &str) -> Clean {
    let Ok(mut g) = SHARED.lock() else {
        return Clean::new(s);
    };
    let i = g.get_or_insert_with(Default::default);
    if i.len() >= SHARED_MAX {
        i.purge();
        if i.len() >= SHARED_MAX {
            return Clean::new(s);
        }
    }
    i.get(s)
}

/// One certificate, parsed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertFacts {
    /// The subject's CN, else its first SAN, else the whole subject DN.
    pub subject: Clean,
    /// The whole subject DN (`CN=..., O=...`).
    pub subject_dn: Clean,
    /// The issuer's CN, else the whole issuer DN.
    pub issuer: Clean,
    pub issuer_dn: Clean,
    /// DNS names, IP addresses, e-mails and URIs of the subjectAltName extension.
    pub sans: Vec<Clean>,
    /// Hex, colon-separated (`01:ab:...`).
    pub serial: String,
    /// SHA-256 of the DER, lower-case hex without separators.
    pub sha256: String,
    /// `None` when the date is outside what ondeck can represent.
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    /// `RSA 2048`, `EC P-256`, `Ed25519`, ...
    pub key: Clean,
    /// `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, ... (or the OID).
    pub signature_algorithm: Clean,
    pub is_ca: bool,
    /// Subject DN equals issuer DN (a root or a self-signed leaf).
    pub self_issued: bool,
    pub position: ChainPosition,
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("not a DER X.509 certificate: {0}")]
    Der(String),
    #[error("no PEM certificate found")]
    NoPem,
    #[error("malformed PEM: {0}")]
    Pem(String),
}

impl CertFacts {
    /// Whole days from `now` to `not_after` (negative once expired), rounded towards minus
    /// infinity so a certificate 1 s past its expiry reads -1.
    pub fn days_left(&self, now: Timestamp) -> Option<i64> {
        let secs = self.seconds_left(now)?;
        Some(secs.div_euclid(86_400))
    }

    /// Seconds from `now` to `not_after` (negative once expired).
    pub fn seconds_left(&self, now: Timestamp) -> Option<i64> {
        Some(self.not_after?.as_second() - now.as_second())
    }

    /// Expired at `now` (after notAfter).
    pub fn expired_at(&self, now: Timestamp) -> bool {
        self.not_after.is_some_and(|t| now > t)
    }

    /// Not yet valid at `now` (before notBefore).
    pub fn not_yet_valid_at(&self, now: Timestamp) -> bool {
        self.not_before.is_some_and(|t| now < t)
    }

    /// Whether `name` (a DNS name or an IP address) is covered by the SANs (or, lacking any
    /// DNS SAN, the CN), with RFC 6125 single-label wildcards.
    pub fn matches_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let is_ip = name.parse::<std::net::IpAddr>().is_ok();
        let mut dns_sans = 0;
        for san in &self.sans {
            let san = san.as_str();
            if let Some(ip) = san.strip_prefix("IP:") {
                if is_ip && ip == name {
                    return true;
                }
                continue;
            }
            if san.contains(':') || san.contains('@') {
                continue; // URI / e-mail
            }
            dns_sans += 1;
            if !is_ip && dns_matches(&san.to_ascii_lowercase(), &name) {
                return true;
            }
        }
        dns_sans == 0 && !is_ip && dns_matches(&self.subject.to_ascii_lowercase(), &name)
    }
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if let Some(rest) = pattern.strip_prefix("*.") {
        match name.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest,
            None => false,
        }
    } else {
        pattern == name
    }
}

/// Parses one DER certificate. `position` is where it was found; see [`chain_facts`] for a
/// presented chain.
pub fn parse_der(der: &[u8], position: ChainPosition) -> Result<CertFacts, FactsError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| FactsError::Der(e.to_string()))?;
    let subject_dn = cert.subject().to_string();
    let issuer_dn = cert.issuer().to_string();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(s) => sans.push(Clean::new(s)),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_from_bytes(b) {
                        sans.push(Clean::from_string(format!("IP:{ip}")));
                    }
                }
                GeneralName::RFC822Name(s) => sans.push(Clean::new(s)),
                GeneralName::URI(s) => sans.push(Clean::new(s)),
                _ => {}
            }
        }
    }
    // Kept for as long as the certificate is shown: no spare capacity.
    sans.shrink_to_fit();
    let cn = first_cn(cert.subject());
    let subject = match (&cn, sans.first()) {
        (Some(cn), _) => Clean::new(cn),
        (None, Some(san)) => san.clone(),
        (None, None) => Clean::new(&subject_dn),
    };
    let issuer = match first_cn(cert.issuer()) {
        Some(cn) => shared(&cn),
        None => shared(&issuer_dn),
    };
    let validity = cert.validity();
    let not_before = Timestamp::from_second(validity.not_before.timestamp()).ok();
    let not_after = Timestamp::from_second(validity.not_after.timestamp()).ok();
    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature_algorithm = match oid2sn(sig_oid, oid_registry()) {
        Ok(sn) => shared(sn),
        Err(_) => shared(&sig_oid.to_id_string()),
    };
    let is_ca = cert.is_ca();
    let self_issued = cert.subject().as_raw() == cert.issuer().as_raw();
    Ok(CertFacts {
        subject,
        subject_dn: Clean::from_string(subject_dn),
        issuer,
        issuer_dn: shared(&issuer_dn),
        sans,
        serial: serial_hex(cert.raw_serial()),
        sha256: hex(&Sha256::digest(der)),
        not_before,
        not_after,
        key: shared(&key_description(cert.public_key())),
        signature_algorithm,
        is_ca,
        self_issued,
        position,
    })
}

/// Facts of a chain as presented (leaf first): the first is the leaf, the last is a root when
/// it is a self-issued CA, the rest intermediates. Unreadable certificates are skipped (their
/// error is returned beside).
pub fn chain_facts(ders: &[CertificateDer<'_>]) -> (Vec<CertFacts>, Vec<FactsError>) {
    let mut out = Vec::with_capacity(ders.len());
    let mut errors = Vec::new();
    for (i, der) in ders.iter().enumerate() {
        let pos = if i == 0 {
            ChainPosition::Leaf
        } else {
            ChainPosition::Intermediate
        };
        match parse_der(der, pos) {
            Ok(mut f) => {
                if i > 0 && f.self_issued && f.is_ca {
                    f.position = ChainPosition::Root;
                }
                out.push(f)
            }
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// Every `CERTIFICATE` block of a PEM text (other blocks, private keys included, are skipped
/// without being decoded), parsed; a bundle's certificates are positioned by their own
/// properties: a self-issued CA is a root, another CA an intermediate, anything else a leaf.
pub fn parse_pem(pem: &[u8]) -> Result<Vec<Result<CertFacts, FactsError>>, FactsError> {
    let mut out = Vec::new();
    for der in pem_ders(pem)? {
        out.push(parse_der(&der, ChainPosition::Leaf).map(|mut f| {
            f.position = standalone_position(&f);
            f
        }));
    }
    Ok(out)
}

const BEGIN_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END_CERT: &[u8] = b"-----END CERTIFICATE-----";

/// The DER certificates of a PEM text (for trust stores and [`parse_pem`]). Only
/// `CERTIFICATE` blocks are decoded: a private key in the same text (a `tls.crt` bundled with
/// its key, a garbage `tls.key`) is never looked at, so it can neither fail nor leak here.
pub fn pem_ders(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, FactsError> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = find(rest, BEGIN_CERT) {
        let from = &rest[start..];
        let Some(end) = find(from, END_CERT) else {
            return Err(FactsError::Pem(
                "a CERTIFICATE block has no END line".into(),
            ));
        };
        let block = &from[..end + END_CERT.len()];
        let der = CertificateDer::from_pem_slice(block)
            .map_err(|e| FactsError::Pem(crate::sanitize::display_line(&e.to_string()).into()))?;
        out.push(der);
        rest = &from[end + END_CERT.len()..];
    }
    if out.is_empty() {
        return Err(FactsError::NoPem);
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A certificate found on its own (a file, a Secret's `ca.crt`): root when a self-issued CA,
/// intermediate when another CA, else leaf.
pub fn standalone_position(f: &CertFacts) -> ChainPosition {
    match (f.is_ca, f.self_issued) {
        (true, true) => ChainPosition::Root,
        (true, false) => ChainPosition::Intermediate,
        _ => ChainPosition::Leaf,
    }
}

fn first_cn(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
}

fn ip_from_bytes(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

fn key_description(spki: &SubjectPublicKeyInfo<'_>) -> String {
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.3.101.112" => return "Ed25519".into(),
        "1.3.101.113" => return "Ed448".into(),
        _ => {}
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(ec)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "EC P-256".into(),
                Some("1.3.132.0.34") => "EC P-384".into(),
                Some("1.3.132.0.35") => "EC P-521".into(),
                _ => format!("EC {}", ec.key_size()),
            }
        }
        Ok(PublicKey::DSA(_)) => "DSA".into(),
        Ok(other) if other.key_size() > 0 => format!("{alg} {}", other.key_size()),
        _ => match oid2sn(&spki.algorithm.algorithm, oid_registry()) {
            Ok(sn) => sn.to_string(),
            Err(_) => alg,
        },
    }
}

fn serial_hex(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() * 3);
    for (i, b) in raw.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::pki as testpki;

    #[test]
    fn facts_of_an_rcgen_leaf() {
        let ca = testpki::ca("Facts Root", -10, 3650);
        let leaf = testpki::leaf(
            &ca,
            "api.example.test",
            &["api.example.test", "127.0.0.1"],
            -1,
            30,
        );
        let f = parse_der(&leaf.der, ChainPosition::Leaf).unwrap();
        assert_eq!(f.subject, "api.example.test");
        assert_eq!(f.issuer, "Facts Root");
        assert!(f.sans.iter().any(|s| s == "IP:127.0.0.1"), "{:?}", f.sans);
        assert_eq!(f.key, "EC P-256");
        assert_eq!(f.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!f.is_ca);
        assert_eq!(f.sha256.len(), 64);
        let now = Timestamp::now();
        assert!(
            matches!(f.days_left(now), Some(29 | 30)),
            "{:?}",
            f.days_left(now)
        );
        assert!(f.matches_name("api.example.test"));
        assert!(f.matches_name("127.0.0.1"));
        assert!(!f.matches_name("other.example.test"));
        let c = parse_der(&ca.der, ChainPosition::Root).unwrap();
        assert!(c.is_ca && c.self_issued);
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(dns_matches("*.example.test", "a.example.test"));
        assert!(!dns_matches("*.example.test", "a.b.example.test"));
        assert!(!dns_matches("*.example.test", "example.test"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_der(b"\x30\x03\x02\x01", ChainPosition::Leaf).is_err());
        assert!(matches!(parse_pem(b"hello"), Err(FactsError::NoPem)));
        let bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        // Either the block's base64 or its DER is refused; never a panic.
        if let Ok(v) = parse_pem(bad) {
            assert!(v[0].is_err());
        }
    }

    #[test]
    fn pem_skips_private_keys() {
        let ca = testpki::ca("Bundle Root", -10, 3650);
        let mut pem = ca.cert_pem.clone();
        pem.push_str(
            "-----BEGIN PRIVATE KEY-----\nnot base64 at all !!\n-----END PRIVATE KEY-----\n",
        );
        let v = parse_pem(pem.as_bytes()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].as_ref().unwrap().position, ChainPosition::Root);
    }
}
