//! Live TLS endpoints: a real TCP connect + TLS handshake per endpoint through the recording
//! verifier, at most [`CONCURRENCY`] at once, each under its own deadlines (the connect
//! deadline for the connect; the handshake deadline for the whole attempt, connect included),
//! so a black-holed or full-backlog endpoint costs at most the handshake deadline and never
//! delays the others.

use futures::StreamExt as _;
use jiff::Timestamp;

use super::{CertRow, CertSource, CertsConfig, EndpointTable};
use crate::domain::text::Clean;
use crate::tls::{self, ClientIdentity, Deadlines, Request, Trust};

/// Handshakes in flight at once. A sweep of N endpoints of which B hang takes about one
/// handshake deadline as long as B stays below this.
pub const CONCURRENCY: usize = 512;

/// One endpoint to probe, ready.
#[derive(Clone, Debug)]
pub struct Target {
    pub source: CertSource,
    /// What the WHERE column shows (`host:port`, `host:port (sni NAME)`).
    pub location: String,
    /// Why it cannot be probed at all (a bad CA file): shown as unknown.
    pub broken: Option<String>,
    pub request: Request,
}

/// The endpoints of the config as targets (plus the demo's, when it runs).
pub fn targets(cfg: &CertsConfig) -> Vec<Target> {
    let mut out: Vec<Target> = cfg
        .endpoints
        .iter()
        .map(|e| target(&e.table(), cfg.deadlines()))
        .collect();
    out.extend(super::demo::targets(cfg.deadlines()));
    out
}

/// A config table as a target.
pub fn target(t: &EndpointTable, deadlines: Deadlines) -> Target {
    let mut request = Request::new(t.address.clone());
    request.server_name = t.server_name.clone();
    request.deadlines = deadlines;
    // One endpoint never costs more than the handshake deadline, connect included: a
    // full-backlog listener (the connect hangs) costs no more than a black hole (the
    // handshake hangs), and a sweep stays within that deadline.
    request.within = Some(deadlines.handshake);
    request.trust = match &t.ca_file {
        Some(p) => Trust::File(p.clone()),
        None => Trust::System,
    };
    let mut broken = None;
    if let (Some(c), Some(k)) = (&t.client_cert, &t.client_key) {
        match (std::fs::read(c), std::fs::read(k)) {
            (Ok(c), Ok(k)) => match ClientIdentity::from_pem(&c, &k) {
                Ok(id) => request.client = Some(id),
                Err(e) => broken = Some(e.to_string()),
            },
            (Err(e), _) => broken = Some(format!("client_cert {}: {e}", c.display())),
            (_, Err(e)) => broken = Some(format!("client_key {}: {e}", k.display())),
        }
    } else if t.client_cert.is_some() != t.client_key.is_some() {
        broken = Some("client_cert and client_key go together".into());
    }
    let location = match &t.server_name {
        Some(n) if n != tls::handshake::host_of(&t.address) => {
            format!("{} (sni {n})", t.address)
        }
        _ => t.address.clone(),
    };
    Target {
        source: CertSource::Endpoint,
        location,
        broken,
        request,
    }
}

/// Probes one target: its leaf row (with the chain and the verdict), plus its client
/// certificate's row when it uses one.
pub async fn probe(t: &Target) -> Vec<CertRow> {
    let loc = Clean::new(&t.location);
    if let Some(why) = &t.broken {
        return vec![CertRow::unknown(t.source, loc, why)];
    }
    let mut rows = Vec::with_capacity(2);
    let (recorded, error) = match tls::handshake(&t.request).await {
        Ok(hs) => (Some(hs.recorded), None),
        Err(e) => (e.recorded().cloned(), Some(e)),
    };
    match recorded {
        Some(rec) => {
            let chain = rec.facts().into_iter().map(std::sync::Arc::new).collect();
            match CertRow::with_chain(t.source, loc.clone(), chain) {
                Some(mut row) => {
                    row.verify = Some(rec.outcome.clone());
                    row.server_name = Some(Clean::new(&rec.server_name));
                    row.name_matches = rec.name_matches;
                    if let Some(e) = &error {
                        row.note = Some(Clean::new(&format!(
                            "handshake failed after the certificate: {e}"
                        )));
                    }
                    rows.push(row);
                }
                None => rows.push(CertRow::unknown(
                    t.source,
                    loc.clone(),
                    "the server's certificate could not be parsed",
                )),
            }
        }
        None => {
            let why = error
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no certificate presented".into());
            rows.push(CertRow::unknown(t.source, loc.clone(), why));
        }
    }
    if let Some(id) = &t.request.client
        && let Some(der) = id.chain.first()
        && let Ok(f) = tls::facts::parse_der(der, tls::ChainPosition::Leaf)
    {
        let mut row = CertRow::known(
            t.source,
            Clean::from_string(format!("{} client cert", t.location)),
            f,
        );
        row.note = Some(Clean::new(
            "the client certificate this endpoint is probed with (mTLS)",
        ));
        rows.push(row);
    }
    rows
}

/// Probes every target, [`CONCURRENCY`] at a time; rows in the targets' order.
pub async fn probe_all(targets: &[Target]) -> Vec<CertRow> {
    let owned: Vec<Target> = targets.to_vec();
    let mut done: Vec<(usize, Vec<CertRow>)> = futures::stream::iter(owned.into_iter().enumerate())
        .map(|(i, t)| async move { (i, probe(&t).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, r)| r).collect()
}

/// One sweep as a batch.
pub async fn batch(targets: &[Target]) -> super::CertBatch {
    super::CertBatch {
        origin: CertSource::Endpoint,
        rows: probe_all(targets).await,
        error: None,
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    }
}
