//! The certificate sources (issue 12): live TLS endpoints, the API server's serving
//! certificate, the kubeconfig's client certificates and CAs, `kubernetes.io/tls` Secrets and
//! local PEM files. Each collector delivers a [`CertBatch`] of its own origin; each degrades to
//! rows that say "unknown (why)", never to an all-clear. The registry entry is
//! [`source::Certs`]; the `[certs]` config is [`CertsConfig`].

pub mod apiserver;
pub mod cluster;
pub mod demo;
pub mod endpoints;
pub mod files;
pub mod from_probes;
pub mod kubeconfig;
pub mod secrets;
pub mod source;

pub use crate::domain::certs::{CertBatch, CertRow, CertSource, CertsSnapshot};

pub use crate::config::certs::{CertsConfig, EndpointConfig, EndpointTable};

/// This source, by the name the source list (`registry::with_sources!`) finds it under.
pub const SOURCE: &dyn crate::sources::registry::Source = &source::Certs;

/// Standard base64 (kubeconfig `*-data` fields), whitespace ignored. `None` if malformed.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Rows of a PEM text found at `location`: one per certificate (`location#2` for the second
/// of a bundle), or one unknown row saying why nothing could be read.
pub fn pem_rows(source: CertSource, location: &str, pem: &[u8]) -> Vec<CertRow> {
    use crate::domain::text::Clean;
    match crate::tls::facts::parse_pem(pem) {
        Err(e) => vec![CertRow::unknown(
            source,
            Clean::new(location),
            e.to_string(),
        )],
        Ok(certs) => {
            let many = certs.len() > 1;
            // Each certificate's facts once, shared by its own row and the bundle's chain.
            let certs: Vec<_> = certs
                .into_iter()
                .map(|c| c.map(std::sync::Arc::new))
                .collect();
            let chain: Vec<std::sync::Arc<crate::tls::CertFacts>> = certs
                .iter()
                .filter_map(|c| c.as_ref().ok().cloned())
                .collect();
            // An exact Vec: the rows are kept for as long as the object exists.
            let mut rows = Vec::with_capacity(certs.len());
            for (i, c) in certs.into_iter().enumerate() {
                let loc = if many && i > 0 {
                    Clean::from_string(format!("{location}#{}", i + 1))
                } else {
                    Clean::new(location)
                };
                let row = match c {
                    Ok(_) if i == 0 && many => CertRow::with_chain(source, loc, chain.clone()),
                    Ok(f) => CertRow::with_chain(source, loc, vec![f]),
                    Err(e) => Some(CertRow::unknown(source, loc, e.to_string())),
                };
                rows.extend(row);
            }
            rows
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_strings_or_tables() {
        let cfg: CertsConfig = toml::from_str(
            r#"
            endpoints = ["api.example.internal:443", { address = "10.0.0.5:6443", server_name = "kubernetes", ca_file = "/etc/kubernetes/pki/ca.crt" }]
            files = ["/etc/kubernetes/pki/*.crt"]
            interval = "1h"
            "#,
        )
        .expect("parses");
        assert_eq!(cfg.endpoints.len(), 2);
        assert_eq!(cfg.endpoints[0].table().address, "api.example.internal:443");
        assert_eq!(
            cfg.endpoints[1].table().server_name.as_deref(),
            Some("kubernetes")
        );
        assert!(cfg.kubeconfig && cfg.secrets && !cfg.all_contexts);
        let bad = toml::from_str::<CertsConfig>("endpoints = [{ adress = \"x:1\" }]");
        assert!(bad.is_err());
    }
}
