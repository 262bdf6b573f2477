//! Which source a piece of data came from, and why a source has no fresh data. Plain types:
//! `sources` re-exports them (`crate::sources::{SourceId, SourceError}` keeps working), and
//! `domain` needs nothing from `sources`.

/// Which source an update came from: the names `check --only`, the JSON and the alerts use.
/// Certificates and probes are named here before their sources exist, so the panes that wait
/// for them can say so.
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

/// An error and its causes as one line, `a: b: c`, each cause once: a message that already
/// quotes its source (`cannot read config X: Is a directory (os error 21)` with the io error
/// as its `source`) does not get it appended again, as anyhow's `{:#}` would.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(cause) = cur {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = cause.source();
    }
    out
}
