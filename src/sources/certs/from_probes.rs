//! The HTTPS probes' certificates in the certificates pane (SOURCE `probe`, WHERE the probe's
//! name and URL): in the console, the chain each probe's last handshake presented (recorded by
//! the same verifier, `src/tls`), sent by the probes collector whenever one changes; in `check`,
//! one TLS handshake per probed address. Probes of the same address and name share one row;
//! an address that `[certs] endpoints` (or the demo) already checks is left to its endpoint row.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{CertBatch, CertRow, CertSource, CertsConfig, EndpointTable, endpoints};
use crate::domain::text::Clean;
use crate::sources::probes::config::ProbeConfig;
use crate::tls::Recorded;

/// What one HTTPS probe saw: its chain, or why it saw none (`connect refused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub probe: String,
    pub url: String,
    pub seen: Result<Arc<Recorded>, String>,
}

/// `host:port` and the SNI of an HTTPS probe (`None` for `http://` or an unparsable URL).
pub fn address_of(p: &ProbeConfig) -> Option<(String, String)> {
    let url = reqwest::Url::parse(&p.url).ok()?;
    if url.scheme() != "https" {
        return None;
    }
    let host = url.host_str()?.to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let address = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Some((address, p.server_name.clone().unwrap_or(bare)))
}

/// The endpoint row's WHERE for this address and name (as `endpoints::target` writes it).
fn endpoint_location(address: &str, sni: &str) -> String {
    if crate::tls::handshake::host_of(address) == sni {
        address.to_string()
    } else {
        format!("{address} (sni {sni})")
    }
}

/// Whether `[certs] endpoints` (or the demo's) already checks this address with this name.
fn checked_elsewhere(cfg: &CertsConfig, address: &str, sni: &str) -> bool {
    let here = endpoint_location(address, sni);
    endpoints::targets(cfg).iter().any(|t| t.location == here)
}

/// The probes' rows: one per address and name (WHERE `probe NAME URL`, or `probes A, B
/// (ADDRESS)`), leaving out what an endpoint row already shows.
pub fn rows(cfg: &CertsConfig, probes: &[ProbeConfig], seen: &[Presented]) -> Vec<CertRow> {
    let mut groups: Vec<(String, String, Vec<&Presented>)> = Vec::new();
    for s in seen {
        let Some(p) = probes.iter().find(|p| p.name == s.probe) else {
            continue;
        };
        let Some((address, sni)) = address_of(p) else {
            continue;
        };
        if checked_elsewhere(cfg, &address, &sni) {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(a, n, _)| *a == address && *n == sni)
        {
            Some((_, _, list)) => list.push(s),
            None => groups.push((address, sni, vec![s])),
        }
    }
    groups
        .into_iter()
        .map(|(address, sni, list)| {
            let location = match list.as_slice() {
                [one] => format!("probe {} {}", one.probe, one.url),
                many => format!(
                    "probes {} ({})",
                    many.iter()
                        .map(|s| s.probe.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    endpoint_location(&address, &sni)
                ),
            };
            // The first probe that saw a chain speaks for the address.
            let seen = list
                .iter()
                .find_map(|s| s.seen.as_ref().ok())
                .ok_or_else(|| {
                    list.iter()
                        .find_map(|s| s.seen.as_ref().err())
                        .cloned()
                        .unwrap_or_default()
                });
            row(Clean::from_string(location), seen)
        })
        .collect()
}

fn row(location: Clean, seen: Result<&Arc<Recorded>, String>) -> CertRow {
    match seen {
        Ok(rec) => {
            let chain = rec.facts();
            match chain.first() {
                Some(leaf) => {
                    let mut row = CertRow::known(CertSource::Probe, location, leaf.clone());
                    row.chain = chain.into_iter().map(Arc::new).collect();
                    row.verify = Some(rec.outcome.clone());
                    row.server_name = Some(Clean::new(&rec.server_name));
                    row.name_matches = rec.name_matches;
                    row
                }
                None => CertRow::unknown(
                    CertSource::Probe,
                    location,
                    "the server's certificate could not be parsed",
                ),
            }
        }
        Err(why) => CertRow::unknown(
            CertSource::Probe,
            location,
            format!("no certificate seen: {why}"),
        ),
    }
}

/// The probes' rows as the certificates aggregator takes them.
pub fn batch(rows: Vec<CertRow>) -> CertBatch {
    CertBatch {
        origin: CertSource::Probe,
        rows,
        error: None,
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    }
}

/// Where the console's probes collector sends its certificate rows.
pub struct Feed {
    pub cfg: CertsConfig,
    /// `None`: the console's certificates aggregator, looked up when sending (the
    /// certificates source starts after the probes).
    pub to: Option<mpsc::Sender<CertBatch>>,
}

impl Feed {
    /// Sends the rows of what the probes saw; `false` when nobody takes them now (try again).
    pub fn send(&self, probes: &[ProbeConfig], seen: &[Presented]) -> bool {
        let to = match &self.to {
            Some(t) => Some(t.clone()),
            None => super::source::aggregator(),
        };
        let Some(to) = to else { return false };
        to.try_send(batch(rows(&self.cfg, probes, seen))).is_ok()
    }
}

/// `check`: one TLS handshake per HTTPS probe's address (with the probe's SNI, CA file and
/// client certificate), under the `[certs]` deadlines; `None` without HTTPS probes.
pub async fn batch_once(cfg: &crate::config::Config) -> Option<CertBatch> {
    let probes = crate::sources::probes::source::configured(cfg);
    // One handshake per address and name; the row names every probe of it.
    let mut unique: Vec<(endpoints::Target, Vec<&ProbeConfig>)> = Vec::new();
    for p in &probes {
        let Some((address, sni)) = address_of(p) else {
            continue;
        };
        if checked_elsewhere(&cfg.certs, &address, &sni) {
            continue;
        }
        if let Some((_, list)) = unique.iter_mut().find(|(t, _)| {
            t.request.address == address && t.request.server_name.as_deref() == Some(&sni)
        }) {
            list.push(p);
            continue;
        }
        let table = EndpointTable {
            address,
            server_name: Some(sni),
            ca_file: p.ca_file.clone(),
            client_cert: p.client_cert.clone(),
            client_key: p.client_key.clone(),
        };
        let mut t = endpoints::target(&table, cfg.certs.deadlines());
        t.source = CertSource::Probe;
        unique.push((t, vec![p]));
    }
    if unique.is_empty() {
        return None;
    }
    let targets: Vec<endpoints::Target> = unique
        .into_iter()
        .map(|(mut t, list)| {
            t.location = match list.as_slice() {
                [one] => format!("probe {} {}", one.name, one.url),
                many => format!(
                    "probes {} ({})",
                    many.iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    endpoint_location(
                        &t.request.address,
                        t.request.server_name.as_deref().unwrap_or_default()
                    )
                ),
            };
            t
        })
        .collect();
    Some(batch(endpoints::probe_all(&targets).await))
}
