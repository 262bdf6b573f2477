//! The recording verifier: rustls' webpki verifier underneath, but the presented chain and the
//! verdict are kept even when verification fails, and the handshake goes on, so that ondeck can
//! show the chain of a failing endpoint (and probes its HTTP answer).
//!
//! Safety: a handshake through [`RecordingVerifier`] completes even with an untrusted peer.
//! Whoever uses the stream must look at [`Recorded::outcome`] and never send credentials over
//! a stream whose outcome is not [`Outcome::Ok`]. Handshake signatures are still verified with
//! the provider's algorithms, so the peer did prove it holds the key of the certificate it
//! presented.

use std::fmt;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::facts::{self, CertFacts};

/// The verdict on a presented chain, in ondeck's words.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Expired,
    NotYetValid,
    NameMismatch,
    /// The chain leads to no trusted root.
    UnknownIssuer,
    /// The server did not send the intermediate(s) linking its certificate to a trusted root.
    IncompleteChain,
    BadSignature,
    Revoked,
    Other(String),
}

impl Outcome {
    /// The `verify` value of `check`'s JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Expired => "expired",
            Outcome::NotYetValid => "not_yet_valid",
            Outcome::NameMismatch => "name_mismatch",
            Outcome::UnknownIssuer => "untrusted",
            Outcome::IncompleteChain => "incomplete_chain",
            Outcome::BadSignature => "bad_signature",
            Outcome::Revoked => "revoked",
            Outcome::Other(_) => "other",
        }
    }

    /// The verdict in words.
    pub fn words(&self) -> String {
        match self {
            Outcome::Ok => {
                "verified: the chain leads to a trusted root and matches the name".into()
            }
            Outcome::Expired => "certificate has expired".into(),
            Outcome::NotYetValid => "certificate is not yet valid".into(),
            Outcome::NameMismatch => "certificate is not valid for the name asked for".into(),
            Outcome::UnknownIssuer => {
                "untrusted: the chain does not lead to a trusted root (unknown issuer)".into()
            }
            Outcome::IncompleteChain => "incomplete chain: the server sent only its own \
                 certificate and its issuer is not a trusted root (send the intermediate, or \
                 trust the CA that signed it)"
                .into(),
            Outcome::BadSignature => "a certificate in the chain has a bad signature".into(),
            Outcome::Revoked => "certificate has been revoked".into(),
            Outcome::Other(t) => format!("verification failed: {t}"),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words())
    }
}

/// What the verifier saw on one handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The chain as presented, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub outcome: Outcome,
    /// The name the certificate was checked against.
    pub server_name: String,
    /// Whether the leaf covers that name, checked on its own, so a name mismatch is known
    /// even when an earlier check (expiry, trust) already failed.
    pub name_matches: Option<bool>,
}

impl Recorded {
    /// The presented chain's facts (leaf first).
    pub fn facts(&self) -> Vec<CertFacts> {
        facts::chain_facts(&self.chain).0
    }
}

/// A [`ServerCertVerifier`] that records (see the module doc).
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    now: Option<Timestamp>,
    slot: Arc<Mutex<Option<Recorded>>>,
}

impl RecordingVerifier {
    /// A verifier over `roots` with ring's algorithms. `now` overrides the verification time
    /// (tests; `None` is the clock).
    pub fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        now: Option<Timestamp>,
    ) -> Result<Self, rustls::client::VerifierBuilderError> {
        let inner = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider).build()?;
        Ok(RecordingVerifier {
            inner,
            roots,
            now,
            slot: Arc::new(Mutex::new(None)),
        })
    }

    /// What the last handshake presented (`None` before one reached the certificate).
    pub fn recorded(&self) -> Option<Recorded> {
        self.slot.lock().ok().and_then(|g| g.clone())
    }

    /// A handle on the slot that outlives the verifier being moved into a config.
    pub fn slot(&self) -> Arc<Mutex<Option<Recorded>>> {
        self.slot.clone()
    }

    /// Verifies without recording (for callers that have the chain already).
    pub fn judge(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Outcome {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, &[], now)
        {
            Ok(_) => Outcome::Ok,
            Err(e) => classify(&e, end_entity, intermediates, &self.roots),
        }
    }
}

/// Maps a rustls error to an [`Outcome`], telling an incomplete chain from an untrusted one
/// where the presented chain allows it: a non-self-issued certificate whose issuer is neither
/// presented nor a trusted root means a link is missing; a chain that ends in a self-issued
/// certificate (or whose top's issuer is not trusted while the server sent more than its own
/// certificate) is untrusted.
pub fn classify(
    e: &Error,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &RootCertStore,
) -> Outcome {
    let Error::InvalidCertificate(ce) = e else {
        return Outcome::Other(clean(&e.to_string()));
    };
    match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => Outcome::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            Outcome::NotYetValid
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            Outcome::NameMismatch
        }
        CertificateError::BadSignature => Outcome::BadSignature,
        CertificateError::Revoked => Outcome::Revoked,
        CertificateError::UnknownIssuer => {
            if missing_intermediate(end_entity, intermediates, roots) {
                Outcome::IncompleteChain
            } else {
                Outcome::UnknownIssuer
            }
        }
        other => Outcome::Other(clean(&other_words(other))),
    }
}

/// Words for the verifier's less common refusals; the debug form only for what has none.
fn other_words(e: &CertificateError) -> String {
    let debug = format!("{e:?}");
    let known: &[(&str, &str)] = &[
        (
            "CaUsedAsEndEntity",
            "the server presented a CA certificate as its own (a CA certificate cannot be a server's certificate)",
        ),
        (
            "EndEntityUsedAsCa",
            "a server certificate is used as the issuer of another certificate in the chain",
        ),
        (
            "InvalidPurpose",
            "the certificate is not for TLS servers (its extended key usage lacks serverAuth)",
        ),
        (
            "UnsupportedSignatureAlgorithm",
            "a certificate in the chain is signed with an algorithm that is not supported",
        ),
        (
            "PathLenConstraintViolated",
            "the chain is longer than a CA's path length constraint allows",
        ),
        (
            "NameConstraintViolation",
            "a name in the certificate violates its CA's name constraints",
        ),
        (
            "MaximumPathDepthExceeded",
            "the chain is too long to verify",
        ),
        (
            "UnknownRevocationStatus",
            "the certificate's revocation status is unknown",
        ),
        ("BadEncoding", "a certificate in the chain is not valid DER"),
    ];
    known
        .iter()
        .find(|(k, _)| debug.contains(k))
        .map(|(_, w)| (*w).to_string())
        .unwrap_or(debug)
}

fn clean(s: &str) -> String {
    crate::sanitize::display_line(s).into_owned()
}

/// The leaf was sent alone (or with intermediates that do not chain), is not self-issued,
/// and no trusted root carries its issuer's name: the intermediate is missing.
fn missing_intermediate(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &RootCertStore,
) -> bool {
    use x509_parser::prelude::*;
    let Ok((_, leaf)) = X509Certificate::from_der(end_entity) else {
        return false;
    };
    if leaf.subject().as_raw() == leaf.issuer().as_raw() {
        return false; // self-signed: untrusted, nothing is missing
    }
    let mut parsed = Vec::new();
    for der in intermediates {
        if let Ok((_, c)) = X509Certificate::from_der(der) {
            parsed.push(c);
        }
    }
    // Walk up from the leaf through what was presented.
    let mut issuer = leaf.issuer().as_raw().to_vec();
    let mut linked = 0;
    for _ in 0..parsed.len() {
        match parsed
            .iter()
            .find(|c| c.subject().as_raw() == issuer.as_slice())
        {
            Some(c) if c.subject().as_raw() == c.issuer().as_raw() => return false,
            Some(c) => {
                linked += 1;
                issuer = c.issuer().as_raw().to_vec();
            }
            None => break,
        }
    }
    if linked > 0 {
        // The server sent a linked chain whose top's issuer is not trusted: a private or
        // unknown CA, not a missing link.
        return false;
    }
    let trusted_name = roots
        .roots
        .iter()
        .any(|ta| *ta.subject == *issuer || *ta.subject == *der_content(&issuer));
    // The leaf's issuer was not sent: incomplete, unless a trusted root carries that very
    // name (then the link exists and the chain failed for another reason).
    !trusted_name
}

/// The content of a DER SEQUENCE (trust anchors store a subject without its outer header;
/// x509-parser's raw name includes it).
fn der_content(der: &[u8]) -> &[u8] {
    if der.len() < 2 || der[0] != 0x30 {
        return der;
    }
    let (len, hdr) = match der[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 if der.len() >= 3 => (usize::from(der[2]), 3),
        0x82 if der.len() >= 4 => (usize::from(der[2]) << 8 | usize::from(der[3]), 4),
        _ => return der,
    };
    der.get(hdr..hdr + len).unwrap_or(der)
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let now = match self.now {
            Some(t) => UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                t.as_second().max(0) as u64,
            )),
            None => now,
        };
        let outcome = self.judge(end_entity, intermediates, server_name, now);
        let name = server_name.to_str().into_owned();
        let name_matches = facts::parse_der(end_entity, facts::ChainPosition::Leaf)
            .ok()
            .map(|f| f.matches_name(&name));
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(Recorded {
                chain,
                outcome,
                server_name: clean(&name),
                name_matches,
            });
        }
        // Go on: the caller reads the outcome (module doc).
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
