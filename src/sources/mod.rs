//! Data sources. Each runs as its own task on its own interval and sends owned snapshots,
//! tagged with the source and a generation, into one bounded channel that the UI task drains.
//! A source never shares state with the UI: it only sends [`SourceUpdate`]s.

pub mod kube;
pub mod sockets;

use std::time::Instant;

use crate::domain::sockets::SocketSnapshot;

/// Which source an update came from. One line here per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    Sockets,
    Pods,
    Pvcs,
    Certs,
    Probes,
}

impl SourceId {
    pub fn name(self) -> &'static str {
        match self {
            SourceId::Sockets => "sockets",
            SourceId::Pods => "pods",
            SourceId::Pvcs => "pvcs",
            SourceId::Certs => "certs",
            SourceId::Probes => "probes",
        }
    }
}

/// The data a source delivers. Boxed so the channel's messages stay small.
#[derive(Debug, Clone)]
pub enum Payload {
    Sockets(Box<SocketSnapshot>),
    Pods(Box<crate::domain::pods::PodsSnapshot>),
    Pvcs(Box<crate::domain::pvcs::PvcsSnapshot>),
    /// The Kubernetes target was switched and the old target's watchers have stopped: every
    /// pods (or PVCs) update before this one in the channel is about the old target. Sent once
    /// per Kubernetes source (`SourceId::Pods`, `SourceId::Pvcs`).
    KubeRetargeted,
    /// Nothing changed since this source's last data: only its freshness moves. Lets a source
    /// that follows changes (a watch) prove it is alive without resending every row.
    Unchanged,
}

/// Why a source has no fresh data. `NotConfigured` is not a failure (e.g. no kubeconfig).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("not configured: {0}")]
    NotConfigured(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    /// A failure counts against `check`'s status (UNKNOWN); "not configured" does not.
    pub fn is_failure(&self) -> bool {
        !matches!(self, SourceError::NotConfigured(_))
    }
}

/// One message from a source to the UI task.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub source: SourceId,
    /// Increases by one per poll of this source; lets the model ignore reordered updates.
    pub generation: u64,
    /// When the data was collected (monotonic).
    pub at: Instant,
    /// When the data was collected (wall clock), for display.
    pub wall: jiff::Timestamp,
    pub result: Result<Payload, SourceError>,
}

/// The sockets collector's options from the config file.
pub fn socket_options(cfg: &crate::config::SocketsConfig) -> sockets::SocketOptions {
    use crate::config::SocketBackendChoice;
    sockets::SocketOptions {
        backend: match cfg.backend {
            SocketBackendChoice::Auto => sockets::BackendChoice::Auto,
            SocketBackendChoice::Netlink => sockets::BackendChoice::Netlink,
            SocketBackendChoice::Proc => sockets::BackendChoice::ProcNet,
        },
        top_n: cfg.top_n,
        attribution_interval: cfg.attribution_interval.0,
        fd_scan_interval: Some(cfg.attribution_interval.0),
        ..Default::default()
    }
}
