//! The API server's serving certificate, from ondeck's own handshake with the server of the
//! current context (every context's with `all_contexts`), verified against the kubeconfig's
//! CA for that cluster; and the diagnoses kubectl leaves cryptic: an expired serving
//! certificate (with the date), a 401 while the client certificate is expired or not yet
//! valid, a kubeconfig CA that does not sign the server's chain.

use jiff::Timestamp;
use kube::config::Kubeconfig;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::kubeconfig::{ca_pem, client_cert_pem, not_pem_words};
use super::{CertBatch, CertRow, CertSource, base64_decode};
use crate::domain::text::Clean;
use crate::tls::{self, CertFacts, ClientIdentity, Deadlines, Outcome, Request, Trust};

/// One API server to probe.
#[derive(Clone, Debug)]
pub struct ApiTarget {
    pub context: String,
    pub cluster: String,
    pub user: Option<String>,
    pub location: String,
    pub request: Option<Request>,
    /// Why it cannot be probed (no server, bad CA data).
    pub broken: Option<String>,
    /// The CA from the kubeconfig, when there is one (for "does not sign").
    pub ca: Option<CertFacts>,
    /// The user's client certificate, when it has one.
    pub client_cert: Option<CertFacts>,
}

/// `https://host:port/path` -> (`host:port`, host).
pub fn address_of(server: &str) -> Option<(String, String)> {
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))?;
    let hostport = rest.split('/').next()?;
    if hostport.is_empty() {
        return None;
    }
    let host = tls::handshake::host_of(hostport).to_string();
    let addr = if hostport.starts_with('[') {
        if hostport.contains("]:") {
            hostport.to_string()
        } else {
            format!("{hostport}:443")
        }
    } else if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:443")
    };
    Some((addr, host))
}

/// The API servers to probe: the current context's, or every context's.
pub fn targets(k: &Kubeconfig, current: &str, all: bool, deadlines: Deadlines) -> Vec<ApiTarget> {
    let mut out = Vec::new();
    for nc in &k.contexts {
        if !all && nc.name != current {
            continue;
        }
        let Some(ctx) = &nc.context else { continue };
        let cluster = k
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .and_then(|c| c.cluster.as_ref());
        let auth = ctx.user.as_ref().and_then(|u| {
            k.auth_infos
                .iter()
                .find(|a| &a.name == u)
                .and_then(|a| a.auth_info.as_ref())
        });
        let mut t = ApiTarget {
            context: nc.name.clone(),
            cluster: ctx.cluster.clone(),
            user: ctx.user.clone(),
            location: nc.name.clone(),
            request: None,
            broken: None,
            ca: None,
            client_cert: None,
        };
        let Some(cluster) = cluster else {
            t.broken = Some(format!("cluster {} is not in the kubeconfig", ctx.cluster));
            out.push(t);
            continue;
        };
        let Some((addr, _host)) = cluster.server.as_deref().and_then(address_of) else {
            t.broken = Some("the cluster has no https server URL".into());
            out.push(t);
            continue;
        };
        t.location = format!("{} ({addr})", nc.name);
        let mut req = Request::new(addr);
        req.deadlines = deadlines;
        req.server_name = cluster.tls_server_name.clone();
        req.trust = match ca_pem(cluster) {
            Ok(Some(pem)) => {
                if let Some(words) =
                    not_pem_words(&format!("the CA of cluster {}", ctx.cluster), &pem)
                {
                    t.broken = Some(words);
                }
                t.ca = crate::tls::facts::parse_pem(&pem)
                    .ok()
                    .and_then(|v| v.into_iter().find_map(Result::ok));
                Trust::Pem(pem)
            }
            Ok(None) => Trust::System,
            Err(e) => {
                t.broken = Some(e);
                Trust::System
            }
        };
        if let Some(auth) = auth
            && let Ok(Some(cert)) = client_cert_pem(auth)
        {
            t.client_cert = crate::tls::facts::parse_pem(&cert)
                .ok()
                .and_then(|v| v.into_iter().next())
                .and_then(Result::ok);
            let key = match (&auth.client_key_data, &auth.client_key) {
                // kube keeps the key data in a secrecy string; its serializer exposes it.
                (Some(_), _) => serde_json::to_value(auth)
                    .ok()
                    .and_then(|v| v.get("client-key-data")?.as_str().map(str::to_string))
                    .and_then(|d| base64_decode(&d)),
                (None, Some(p)) => std::fs::read(p).ok(),
                _ => None,
            };
            if let Some(key) = key
                && let Ok(id) = ClientIdentity::from_pem(&cert, &key)
            {
                req.client = Some(id);
            }
        }
        t.request = Some(req);
        out.push(t);
    }
    out
}

fn date(t: Option<Timestamp>) -> String {
    t.map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "an unknown date".into())
}

/// The client certificates of the targets ondeck has connected to, by (server URL, user):
/// what a 401 from that server is explained with ([`remember_client_cert`] at connect).
static CLIENT_CERTS: std::sync::Mutex<std::collections::BTreeMap<(String, String), CertFacts>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn server_key(server: &str) -> String {
    server.trim_end_matches('/').to_string()
}

/// Remembers `user`'s client certificate (PEM) for `server`, for explaining a 401 later.
/// A PEM that cannot be parsed is not remembered (the kubeconfig rows say why).
pub fn remember_client_cert(server: &str, user: &str, pem: &[u8]) {
    let Ok(certs) = crate::tls::facts::parse_pem(pem) else {
        return;
    };
    let Some(Ok(first)) = certs.into_iter().next() else {
        return;
    };
    if let Ok(mut m) = CLIENT_CERTS.lock() {
        m.insert((server_key(server), user.to_string()), first);
    }
}

/// The client certificate remembered for `user` at `server`.
pub fn client_cert_for(server: &str, user: &str) -> Option<CertFacts> {
    CLIENT_CERTS
        .lock()
        .ok()?
        .get(&(server_key(server), user.to_string()))
        .cloned()
}

/// Remembers the client certificate of a resolved target's user (no-op without one).
pub fn remember_target_client_cert(k: &kube::config::Kubeconfig, user: Option<&str>, server: &str) {
    let Some(user) = user else { return };
    let Some(auth) = k
        .auth_infos
        .iter()
        .find(|a| a.name == user)
        .and_then(|a| a.auth_info.as_ref())
    else {
        return;
    };
    if let Ok(Some(pem)) = super::kubeconfig::client_cert_pem(auth) {
        remember_client_cert(server, user, &pem);
    }
}

/// The sentence for a 401 from the API server.
pub fn unauthorized_words(
    user: Option<&str>,
    client: Option<&CertFacts>,
    now: Timestamp,
) -> String {
    let user = user.unwrap_or("(none)");
    match client {
        Some(c) if c.expired_at(now) => format!(
            "your client certificate for user {user} expired on {} (kubectl says only 'You must be logged in to the server')",
            date(c.not_after)
        ),
        Some(c) if c.not_yet_valid_at(now) => format!(
            "your client certificate for user {user} is not valid until {} (kubectl says only 'You must be logged in to the server'); check this machine's clock",
            date(c.not_before)
        ),
        _ => format!(
            "the API server answered 401 Unauthorized: the credentials of user {user} were not accepted"
        ),
    }
}

/// The HTTP status of `GET /api` over the handshaken stream (no credentials besides the TLS
/// client certificate), under `deadline`.
async fn api_status(
    stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    host: &str,
    deadline: std::time::Duration,
) -> Option<u16> {
    let work = async {
        let req = format!(
            "GET /api HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ondeck/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream.write_all(req.as_bytes()).await.ok()?;
        let mut buf = vec![0u8; 1024];
        let mut n = 0;
        while n < buf.len() {
            let r = stream.read(&mut buf[n..]).await.ok()?;
            if r == 0 {
                break;
            }
            n += r;
            if buf[..n].windows(2).any(|w| w == b"\r\n") {
                break;
            }
        }
        let line = std::str::from_utf8(&buf[..n])
            .ok()?
            .lines()
            .next()?
            .to_string();
        line.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(deadline, work).await.ok().flatten()
}

/// Probes one API server: its row and the diagnoses.
pub async fn probe(t: &ApiTarget, now: Timestamp) -> (Vec<CertRow>, Vec<String>) {
    let loc = Clean::new(&t.location);
    let mut diagnoses = Vec::new();
    if let Some(why) = &t.broken {
        diagnoses.push(format!("context {}: {why}", t.context));
        return (
            vec![CertRow::unknown(CertSource::Apiserver, loc, why)],
            diagnoses,
        );
    }
    let Some(req) = &t.request else {
        return (
            vec![CertRow::unknown(CertSource::Apiserver, loc, "no server")],
            diagnoses,
        );
    };
    let (recorded, error, mut stream) = match tls::handshake(req).await {
        Ok(hs) => (Some(hs.recorded), None, Some(hs.stream)),
        Err(e) => (e.recorded().cloned(), Some(e), None),
    };
    let Some(rec) = recorded else {
        let why = error
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no certificate".into());
        return (
            vec![CertRow::unknown(CertSource::Apiserver, loc, why)],
            diagnoses,
        );
    };
    let chain: Vec<std::sync::Arc<CertFacts>> =
        rec.facts().into_iter().map(std::sync::Arc::new).collect();
    let Some(mut row) = CertRow::with_chain(CertSource::Apiserver, loc.clone(), chain) else {
        return (
            vec![CertRow::unknown(
                CertSource::Apiserver,
                loc,
                "the server's certificate could not be parsed",
            )],
            diagnoses,
        );
    };
    let Some(leaf) = row.facts.clone() else {
        return (vec![row], diagnoses);
    };
    row.verify = Some(rec.outcome.clone());
    row.server_name = Some(Clean::new(&rec.server_name));
    row.name_matches = rec.name_matches;
    row.dependents.push(Clean::from_string(format!(
        "context {}: kubectl, CI/CD and every controller using this server",
        t.context
    )));
    match &rec.outcome {
        Outcome::Expired => diagnoses.push(format!(
            "the API server certificate of context {} expired on {} (kubectl fails with 'x509: certificate has expired or is not yet valid')",
            t.context,
            date(leaf.not_after)
        )),
        Outcome::NotYetValid => diagnoses.push(format!(
            "the API server certificate of context {} is not valid until {} (check this machine's clock)",
            t.context,
            date(leaf.not_before)
        )),
        Outcome::UnknownIssuer | Outcome::IncompleteChain | Outcome::BadSignature => {
            if let Some(ca) = &t.ca {
                diagnoses.push(format!(
                    "the kubeconfig CA \"{}\" of cluster {} does not sign the API server's chain (its certificate is issued by \"{}\"); kubectl says 'x509: certificate signed by unknown authority'",
                    ca.subject, t.cluster, leaf.issuer
                ));
            }
        }
        _ => {}
    }
    if rec.outcome.is_ok()
        && let Some(s) = stream.as_mut()
        && api_status(s, &rec.server_name, req.deadlines.handshake).await == Some(401)
    {
        diagnoses.push(unauthorized_words(
            t.user.as_deref(),
            t.client_cert.as_ref(),
            now,
        ));
    }
    (vec![row], diagnoses)
}

/// Every target probed concurrently, as a batch plus diagnoses.
pub async fn batch(targets: &[ApiTarget]) -> (CertBatch, Vec<String>) {
    let now = Timestamp::now();
    let results = futures::future::join_all(targets.iter().map(|t| probe(t, now))).await;
    let mut rows = Vec::new();
    let mut diagnoses = Vec::new();
    for (r, d) in results {
        rows.extend(r);
        diagnoses.extend(d);
    }
    let words: Vec<Clean> = diagnoses.iter().map(|d| Clean::new(d)).collect();
    (
        CertBatch {
            origin: CertSource::Apiserver,
            rows,
            error: None,
            at: now,
            diagnoses: words,
        },
        diagnoses,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_addresses() {
        assert_eq!(
            address_of("https://10.0.0.5:6443").unwrap().0,
            "10.0.0.5:6443"
        );
        assert_eq!(
            address_of("https://api.example/").unwrap(),
            ("api.example:443".into(), "api.example".into())
        );
        assert_eq!(address_of("https://[::1]:6443").unwrap().0, "[::1]:6443");
        assert!(address_of("nope").is_none());
    }
}
