//! The kubeconfig's certificates: every user's client certificate (inline data or file) and
//! every cluster's CA, for every context; exec, token and auth-provider users are listed as
//! "no certificate". Private keys are never read here.

use jiff::Timestamp;
use kube::config::{AuthInfo, Cluster, Kubeconfig};

use super::{CertBatch, CertRow, CertSource, base64_decode, pem_rows};
use crate::domain::text::Clean;

/// The PEM of a user's client certificate, or why it cannot be had; `Ok(None)`: the user has
/// none.
pub fn client_cert_pem(auth: &AuthInfo) -> Result<Option<Vec<u8>>, String> {
    match (&auth.client_certificate_data, &auth.client_certificate) {
        (Some(d), _) => base64_decode(d)
            .map(Some)
            .ok_or_else(|| "client-certificate-data is not base64".into()),
        (None, Some(p)) => std::fs::read(p)
            .map(Some)
            .map_err(|e| format!("client-certificate {p}: {e}")),
        (None, None) => Ok(None),
    }
}

/// The PEM of a cluster's CA; `Ok(None)`: none configured (system roots).
pub fn ca_pem(cluster: &Cluster) -> Result<Option<Vec<u8>>, String> {
    match (
        &cluster.certificate_authority_data,
        &cluster.certificate_authority,
    ) {
        (Some(d), _) => base64_decode(d)
            .map(Some)
            .ok_or_else(|| "certificate-authority-data is not base64".into()),
        (None, Some(p)) => std::fs::read(p)
            .map(Some)
            .map_err(|e| format!("certificate-authority {p}: {e}")),
        (None, None) => Ok(None),
    }
}

/// Says when CA data is not PEM (DER or garbage), which kubectl reports only as "certificate
/// signed by unknown authority".
pub fn not_pem_words(what: &str, data: &[u8]) -> Option<String> {
    match crate::tls::facts::pem_ders(data) {
        Ok(_) => None,
        Err(crate::tls::FactsError::NoPem) => {
            let der = data.first() == Some(&0x30);
            Some(format!(
                "{what} is not PEM{}: it must be base64 of the PEM text (-----BEGIN CERTIFICATE-----); \
                 kubectl reports this only as \"certificate signed by unknown authority\"",
                if der { " (it looks like DER)" } else { "" }
            ))
        }
        Err(e) => Some(format!("{what}: {e}")),
    }
}

fn how_user_authenticates(auth: &AuthInfo) -> &'static str {
    if auth.exec.is_some() {
        "no certificate (exec credential plugin)"
    } else if auth.auth_provider.is_some() {
        "no certificate (auth provider)"
    } else if auth.token.is_some() || auth.token_file.is_some() {
        "no certificate (bearer token)"
    } else if auth.username.is_some() {
        "no certificate (basic auth)"
    } else {
        "no certificate"
    }
}

/// Every user's and every cluster's certificates, each once, with the contexts using them.
pub fn rows(k: &Kubeconfig) -> Vec<CertRow> {
    let mut out = Vec::new();
    let contexts_of = |pick: &dyn Fn(&kube::config::Context) -> Option<String>, name: &str| {
        let v: Vec<&str> = k
            .contexts
            .iter()
            .filter(|c| c.context.as_ref().and_then(pick).as_deref() == Some(name))
            .map(|c| c.name.as_str())
            .collect();
        v.join(", ")
    };
    for u in &k.auth_infos {
        let ctxs = contexts_of(&|c| c.user.clone(), &u.name);
        let loc = if ctxs.is_empty() {
            format!("user {}", u.name)
        } else {
            format!("{ctxs}/{}", u.name)
        };
        let Some(auth) = &u.auth_info else {
            out.push(CertRow::no_certificate(
                CertSource::Kubeconfig,
                Clean::new(&loc),
                "no certificate",
            ));
            continue;
        };
        match client_cert_pem(auth) {
            Ok(Some(pem)) => {
                let mut rows = pem_rows(CertSource::Kubeconfig, &loc, &pem);
                for r in &mut rows {
                    r.note = Some(Clean::from_string(format!(
                        "client certificate of user {}",
                        u.name
                    )));
                }
                out.extend(rows.into_iter().take(1));
            }
            Ok(None) => out.push(CertRow::no_certificate(
                CertSource::Kubeconfig,
                Clean::new(&loc),
                how_user_authenticates(auth),
            )),
            Err(why) => out.push(CertRow::unknown(
                CertSource::Kubeconfig,
                Clean::new(&loc),
                why,
            )),
        }
    }
    for c in &k.clusters {
        let loc = format!("cluster {} CA", c.name);
        let Some(cluster) = &c.cluster else { continue };
        match ca_pem(cluster) {
            Ok(Some(pem)) => {
                if let Some(words) = not_pem_words(&format!("the CA of cluster {}", c.name), &pem) {
                    out.push(CertRow::unknown(
                        CertSource::Kubeconfig,
                        Clean::new(&loc),
                        words,
                    ));
                } else {
                    let mut rows = pem_rows(CertSource::Kubeconfig, &loc, &pem);
                    let ctxs = contexts_of(&|x| Some(x.cluster.clone()), &c.name);
                    for r in &mut rows {
                        if !ctxs.is_empty() {
                            r.dependents.push(Clean::from_string(format!(
                                "contexts {ctxs}: every API call"
                            )));
                        }
                    }
                    out.extend(rows);
                }
            }
            Ok(None) if cluster.insecure_skip_tls_verify == Some(true) => {
                out.push(CertRow::no_certificate(
                    CertSource::Kubeconfig,
                    Clean::new(&loc),
                    "no CA: insecure-skip-tls-verify is set (the server is not verified)",
                ))
            }
            Ok(None) => {}
            Err(why) => out.push(CertRow::unknown(
                CertSource::Kubeconfig,
                Clean::new(&loc),
                why,
            )),
        }
    }
    out
}

/// One read as a batch.
pub fn batch(k: Option<&Kubeconfig>, error: Option<String>) -> CertBatch {
    CertBatch {
        origin: CertSource::Kubeconfig,
        rows: k.map(rows).unwrap_or_default(),
        error: error.map(|e| Clean::new(&e)),
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    }
}
