//! TLS as ondeck sees it from the outside: one handshake with a deadline per phase
//! ([`handshake`]) through a verifier that records the presented chain and the verdict even
//! when verification fails ([`verify::RecordingVerifier`]), and the facts of a certificate
//! ([`facts::CertFacts`]). The certificates pane and the HTTP probes are built on it.
//!
//! ring is the one crypto provider ([`handshake::provider`]).

pub mod facts;
pub mod handshake;
pub mod pki;
pub mod verify;

pub use facts::{CertFacts, ChainPosition, FactsError};
pub use handshake::{
    ClientIdentity, Deadlines, Handshake, HandshakeError, Request, Trust, TrustError, handshake,
};
pub use verify::{Outcome, Recorded, RecordingVerifier};
