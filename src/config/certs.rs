//! `[certs]`: what the certificates source watches (see `sources::certs`). Lives with the
//! config so that the config does not depend on the sources.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::HumanDuration;
use crate::tls::Deadlines;

/// `[certs]` in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CertsConfig {
    /// Live TLS endpoints: `"host:port"` (SNI = host) or a table with `address`,
    /// `server_name`, `ca_file`, `client_cert` + `client_key` (mTLS).
    pub endpoints: Vec<EndpointConfig>,
    /// PEM files, directories or globs (`*`, `?` in the last path component).
    pub files: Vec<String>,
    /// Client certificates and CAs of every context of the kubeconfig.
    pub kubeconfig: bool,
    /// `kubernetes.io/tls` Secrets in scope.
    pub secrets: bool,
    /// Also probe every context's API server, not only the current one's.
    pub all_contexts: bool,
    /// TCP connect (name resolution included).
    pub connect_timeout: HumanDuration,
    /// The TLS handshake; for a configured endpoint, the whole probe (connect included), so
    /// one sweep takes at most this long whatever hangs.
    pub handshake_timeout: HumanDuration,
    /// Endpoints and API servers are re-probed on this interval; files are re-checked every
    /// refresh (re-read only when they change); Secrets follow a watch.
    pub interval: HumanDuration,
}

impl Default for CertsConfig {
    fn default() -> Self {
        CertsConfig {
            endpoints: Vec::new(),
            files: Vec::new(),
            kubeconfig: true,
            secrets: true,
            all_contexts: false,
            connect_timeout: HumanDuration(Duration::from_secs(3)),
            handshake_timeout: HumanDuration(Duration::from_secs(5)),
            interval: HumanDuration(Duration::from_secs(3600)),
        }
    }
}

impl CertsConfig {
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            connect: self.connect_timeout.0,
            handshake: self.handshake_timeout.0,
        }
    }
}

/// One endpoint of `[certs] endpoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EndpointConfig {
    /// `host:port`, SNI = host.
    Address(String),
    Full(EndpointTable),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointTable {
    pub address: String,
    pub server_name: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl EndpointConfig {
    pub fn table(&self) -> EndpointTable {
        match self {
            EndpointConfig::Address(a) => EndpointTable {
                address: a.clone(),
                server_name: None,
                ca_file: None,
                client_cert: None,
                client_key: None,
            },
            EndpointConfig::Full(t) => t.clone(),
        }
    }
}
