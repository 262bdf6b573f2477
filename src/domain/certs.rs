//! Certificates as the pane, `check` and the alerts see them: one [`CertRow`] per certificate
//! an on-call engineer depends on, wherever it was found ([`CertSource`]), with its facts (or
//! why they are unknown), the chain it came in, the verdict of a live handshake and who depends
//! on it. Plain data; the rules are in `rules::certs`, the collectors in `sources::certs`.

use std::sync::Arc;

use jiff::Timestamp;

use crate::domain::text::Clean;
use crate::tls::{CertFacts, ChainPosition, Outcome};

/// Where a certificate was found: the SOURCE column and `check`'s `source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertSource {
    Endpoint,
    Apiserver,
    Kubeconfig,
    Secret,
    File,
    CertManager,
    Webhook,
    /// An HTTPS probe's server (`[[probes]]`).
    Probe,
    Apiservice,
}

impl CertSource {
    pub const ALL: [CertSource; 9] = [
        CertSource::Endpoint,
        CertSource::Apiserver,
        CertSource::Kubeconfig,
        CertSource::Secret,
        CertSource::File,
        CertSource::CertManager,
        CertSource::Webhook,
        CertSource::Probe,
        CertSource::Apiservice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CertSource::Endpoint => "endpoint",
            CertSource::Apiserver => "apiserver",
            CertSource::Kubeconfig => "kubeconfig",
            CertSource::Secret => "secret",
            CertSource::File => "file",
            CertSource::CertManager => "cert-manager",
            CertSource::Webhook => "webhook",
            CertSource::Probe => "probe",
            CertSource::Apiservice => "apiservice",
        }
    }

    /// Collected from the cluster of the current Kubernetes target (dropped on `:ctx`/`:ns`).
    pub fn from_cluster(self) -> bool {
        !matches!(
            self,
            CertSource::Endpoint | CertSource::File | CertSource::Probe
        )
    }
}

/// One certificate (or one place where a certificate should be and could not be read).
///
/// A cheap handle: what the certificate is ([`CertRowData`], read through `Deref`) is shared
/// behind an `Arc` by the collector's store, its batches, the aggregator's snapshot and the
/// pane (10,000 Secrets must stay small); writing to it (`DerefMut`) copies it first if it is
/// shared. Who depends on it is the handle's own: it changes with the Ingresses, per batch.
#[derive(Clone, Debug, PartialEq)]
pub struct CertRow {
    data: Arc<CertRowData>,
    /// Who breaks when it expires (`breaks when it expires: shop.example.com (ingress
    /// web/shop)`), or why that is unknown (`who uses it: unknown (forbidden: ...)`).
    pub dependents: Vec<Clean>,
}

/// What a [`CertRow`] says about its certificate.
#[derive(Clone, Debug, PartialEq)]
pub struct CertRowData {
    pub source: CertSource,
    /// host:port, namespace/name, path, context/user.
    pub location: Clean,
    /// `None` when the certificate could not be read: see `unknown`.
    pub facts: Option<Arc<CertFacts>>,
    /// Why the facts are unknown ("connect refused", "tls.crt is not PEM").
    pub unknown: Option<Clean>,
    /// A live handshake's verdict (endpoints and API servers).
    pub verify: Option<Outcome>,
    /// The name a live handshake checked, and whether the leaf covers it.
    pub server_name: Option<Clean>,
    pub name_matches: Option<bool>,
    /// The whole chain this certificate came in, leaf first (itself included), for the
    /// detail view and the "intermediate expires before the leaf" rule.
    pub chain: Vec<Arc<CertFacts>>,
    /// A note in words (`no certificate (exec credential plugin)`, cert-manager status).
    pub note: Option<Clean>,
    /// cert-manager: the renewal is failing (Ready=False), in words: `renewal failing since
    /// DATE: MESSAGE`.
    pub renewal_failing: Option<Clean>,
}

impl std::ops::Deref for CertRow {
    type Target = CertRowData;
    fn deref(&self) -> &CertRowData {
        &self.data
    }
}

impl std::ops::DerefMut for CertRow {
    fn deref_mut(&mut self) -> &mut CertRowData {
        Arc::make_mut(&mut self.data)
    }
}

impl CertRow {
    /// A row of `data`, nobody depending on it (yet).
    pub fn new(data: CertRowData) -> Self {
        CertRow {
            data: Arc::new(data),
            dependents: Vec::new(),
        }
    }

    /// Both rows share their data (one was cloned from the other, neither written since).
    pub fn shares_data(a: &CertRow, b: &CertRow) -> bool {
        Arc::ptr_eq(&a.data, &b.data)
    }

    /// A row with facts.
    pub fn known(source: CertSource, location: Clean, facts: CertFacts) -> Self {
        let facts = Arc::new(facts);
        CertRow::new(CertRowData {
            source,
            location,
            chain: vec![facts.clone()],
            facts: Some(facts),
            unknown: None,
            verify: None,
            server_name: None,
            name_matches: None,
            note: None,
            renewal_failing: None,
        })
    }

    /// A row for the first certificate of `chain` (leaf first), with the whole chain; `None`
    /// for an empty chain.
    pub fn with_chain(
        source: CertSource,
        location: Clean,
        chain: Vec<Arc<CertFacts>>,
    ) -> Option<Self> {
        let leaf = chain.first()?.clone();
        let mut r = CertRow::unknown(source, location, "");
        r.unknown = None;
        r.facts = Some(leaf);
        r.chain = chain;
        Some(r)
    }

    /// A row whose certificate could not be read, and why.
    pub fn unknown(source: CertSource, location: Clean, why: impl AsRef<str>) -> Self {
        CertRow::new(CertRowData {
            source,
            location,
            facts: None,
            unknown: Some(Clean::new(why.as_ref())),
            verify: None,
            server_name: None,
            name_matches: None,
            chain: Vec::new(),
            note: None,
            renewal_failing: None,
        })
    }

    /// A place with no certificate at all (an exec or token user): shown, never judged.
    pub fn no_certificate(source: CertSource, location: Clean, note: &str) -> Self {
        let mut r = CertRow::unknown(source, location, "");
        r.unknown = None;
        r.note = Some(Clean::new(note));
        r
    }

    pub fn not_after(&self) -> Option<Timestamp> {
        self.facts.as_ref().and_then(|f| f.not_after)
    }

    /// Seconds left at `now` (negative once expired).
    pub fn seconds_left(&self, now: Timestamp) -> Option<i64> {
        self.facts.as_ref().and_then(|f| f.seconds_left(now))
    }

    pub fn position(&self) -> Option<ChainPosition> {
        self.facts.as_ref().map(|f| f.position)
    }

    /// Whether this is a "no certificate" row (listed, never judged).
    pub fn is_placeholder(&self) -> bool {
        self.facts.is_none() && self.unknown.is_none()
    }

    /// A stable key for alerts, series and selection: source + location + serial/fingerprint.
    pub fn key(&self) -> String {
        let fp = self
            .facts
            .as_ref()
            .map(|f| &f.sha256[..f.sha256.len().min(12)])
            .unwrap_or("-");
        format!("{} {} {fp}", self.source.as_str(), self.location)
    }
}

/// What one certificate collector delivered: its rows replace the previous ones of the same
/// `origin` in the pane.
#[derive(Clone, Debug, PartialEq)]
pub struct CertBatch {
    pub origin: CertSource,
    pub rows: Vec<CertRow>,
    /// The collector could not run at all (no cluster, list forbidden): shown as unknown.
    pub error: Option<Clean>,
    pub at: Timestamp,
    /// Diagnoses in one sentence each (see [`CertsSnapshot::diagnoses`]).
    pub diagnoses: Vec<Clean>,
}

impl CertsSnapshot {
    /// Every batch's rows and diagnoses together; a batch that could not run becomes one
    /// unknown row (never silence).
    pub fn from_batches<'a>(batches: impl IntoIterator<Item = &'a CertBatch>) -> Self {
        let mut s = CertsSnapshot::default();
        for b in batches {
            s.rows.extend(b.rows.iter().cloned());
            if let Some(e) = &b.error {
                s.errors.push((b.origin, e.clone()));
                s.rows
                    .push(CertRow::unknown(b.origin, Clean::new("(all)"), e.as_str()));
            }
            s.diagnoses.extend(b.diagnoses.iter().cloned());
            s.at = Some(s.at.map_or(b.at, |a| a.max(b.at)));
        }
        s
    }
}

/// Every certificate `check` collected, from every collector.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CertsSnapshot {
    pub rows: Vec<CertRow>,
    /// Per collector: why it could not run.
    pub errors: Vec<(CertSource, Clean)>,
    /// Diagnoses in one sentence each (expired API server certificate, expired client
    /// certificate behind a 401, a kubeconfig CA that does not sign the server's chain).
    pub diagnoses: Vec<Clean>,
    pub at: Option<Timestamp>,
}

/// `-2d`, `5h`, `29d`, `45m`: time left, short.
pub fn left_text(secs: i64) -> String {
    let neg = secs < 0;
    let a = secs.unsigned_abs();
    let body = if a >= 2 * 86_400 {
        format!("{}d", a / 86_400)
    } else if a >= 3600 {
        format!("{}h", a / 3600)
    } else if a >= 60 {
        format!("{}m", a / 60)
    } else {
        format!("{a}s")
    };
    if neg { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_reads_short() {
        assert_eq!(left_text(-2 * 86_400 - 5), "-2d");
        assert_eq!(left_text(5 * 3600 + 59), "5h");
        assert_eq!(left_text(29 * 86_400 + 100), "29d");
        assert_eq!(left_text(36 * 3600), "36h");
        assert_eq!(left_text(90), "1m");
    }
}
