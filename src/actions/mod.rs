//! Guarded operations on PersistentVolumeClaims: the preflight, the verified backup, the switch
//! to Retain, the typed confirmation, the guarded delete, the audit record, and rescue/restore.
//!
//! Every request that changes the cluster leaves through [`executor::Executor`], which refuses
//! them all in read-only mode. The delete flow ([`flow`]) is one state machine shared by the
//! `ondeck pvc` commands ([`cli`]) and the TUI dialog.

pub mod audit;
pub mod backup;
pub mod cli;
pub mod confirm;
pub mod delete;
pub mod executor;
pub mod flow;
pub mod helper_pod;
pub mod preflight;
pub mod rescue;
pub mod restore;
pub mod target;
pub mod verify;

use std::fmt;

/// `namespace/name` of a PVC, as typed and as confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PvcRef {
    pub namespace: String,
    pub name: String,
}

impl PvcRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        PvcRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for PvcRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// `NAMESPACE/NAME` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected NAMESPACE/NAME, got {0:?}")]
pub struct PvcRefError(pub String);

impl std::str::FromStr for PvcRef {
    type Err = PvcRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PvcRefError(s.to_string());
        let (ns, name) = s.split_once('/').ok_or_else(err)?;
        let valid = |p: &str| {
            !p.is_empty()
                && p.len() <= 253
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        };
        if !valid(ns) || !valid(name) {
            return Err(err());
        }
        Ok(PvcRef::new(ns, name))
    }
}

/// A change ondeck made to the cluster (or undid), said when it happens: on the terminal by
/// the CLI, in the dialog by the TUI. `undo` says how to reverse it while it stays; a later
/// change on the same `subject` without `undo` (the helper removed, the claimRef put back)
/// means nothing of it remains.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// What was changed: `pod NS/NAME`, `PV NAME reclaimPolicy`, `PV NAME claimRef`, `PVC NS/NAME`.
    pub subject: String,
    /// What happened, in one line: `created helper pod ...`, `reclaimPolicy Delete -> Retain`.
    pub text: String,
    /// How to undo it while it stays (a kubectl command), if it needs undoing.
    pub undo: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.text)
    }
}

/// The changes of one flow, in order; [`ChangeLog::remaining`] is what still stands.
#[derive(Debug, Clone, Default)]
pub struct ChangeLog {
    changes: std::sync::Arc<std::sync::Mutex<Vec<Change>>>,
}

impl ChangeLog {
    pub fn push(&self, c: Change) {
        self.changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(c);
    }

    pub fn all(&self) -> Vec<Change> {
        self.changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The last change of every subject that still needs undoing, in order.
    pub fn remaining(&self) -> Vec<Change> {
        let all = self.all();
        let mut out: Vec<Change> = Vec::new();
        for c in all {
            out.retain(|o| o.subject != c.subject);
            if c.undo.is_some() {
                out.push(c);
            }
        }
        out
    }

    /// "changes that remain: ...; to undo: ..." or `None` when nothing remains.
    pub fn remaining_note(&self) -> Option<String> {
        let left = self.remaining();
        if left.is_empty() {
            return None;
        }
        let list = left
            .iter()
            .map(|c| match &c.undo {
                Some(u) => format!("{} (undo: {u})", c.text),
                None => c.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        Some(format!("changes that remain: {list}"))
    }
}

/// Why a guarded operation stopped. Every variant says what happened to the data.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("read-only mode: refused to {0}")]
    ReadOnly(String),
    #[error("{what}: the API server did not answer within {secs}s")]
    Timeout { what: String, secs: u64 },
    #[error("{what}: forbidden by the API server: {message}")]
    Forbidden { what: String, message: String },
    #[error("{what}: not found")]
    NotFound { what: String },
    #[error(
        "{what}: the object changed since the preflight (409 Conflict: {message}); nothing was deleted, run the flow again"
    )]
    Changed { what: String, message: String },
    #[error("{what}: {message}")]
    Api { what: String, message: String },
    #[error("refused: {0}")]
    Refused(String),
    #[error("the kube context changed during the flow: preflight was {before}, now {now}; aborted")]
    ContextChanged { before: String, now: String },
    #[error("backup failed: {0}")]
    Backup(String),
    /// A command could not be started in the pod at all (no kubelet answer, 403 on
    /// pods/exec, the runtime refused it): nothing ran there.
    #[error("exec could not start in pod {pod}: {why}")]
    ExecStart { pod: String, why: String },
    #[error("verification failed: {0}")]
    Verify(String),
    #[error("cancelled {0}")]
    Cancelled(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
}

impl ActionError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ActionError::Io {
            what: what.into(),
            source,
        }
    }

    /// The same error with a note on the state things are left in.
    pub fn with_note(self, note: &str) -> Self {
        let add = |m: String| format!("{m} ({note})");
        match self {
            ActionError::Refused(m) => ActionError::Refused(add(m)),
            ActionError::Backup(m) => ActionError::Backup(add(m)),
            ActionError::ExecStart { pod, why } => ActionError::ExecStart { pod, why: add(why) },
            ActionError::NotFound { what } => ActionError::Api {
                what,
                message: add("not found".into()),
            },
            ActionError::Io { what, source } => ActionError::Api {
                what,
                message: add(source.to_string()),
            },
            ActionError::Verify(m) => ActionError::Verify(add(m)),
            ActionError::Cancelled(m) => ActionError::Cancelled(add(m)),
            ActionError::Forbidden { what, message } => ActionError::Forbidden {
                what,
                message: add(message),
            },
            ActionError::Api { what, message } => ActionError::Api {
                what,
                message: add(message),
            },
            ActionError::Changed { what, message } => ActionError::Changed {
                what,
                message: add(message),
            },
            ActionError::Timeout { what, secs } => ActionError::Api {
                what,
                message: add(format!("no answer within {secs}s")),
            },
            other => other,
        }
    }

    /// Maps a kube error, naming the request that failed.
    pub fn kube(what: impl Into<String>, e: kube::Error) -> Self {
        let what = what.into();
        match e {
            kube::Error::Api(status) => {
                let message = sanitize(&status.message);
                match status.code {
                    403 => ActionError::Forbidden { what, message },
                    404 => ActionError::NotFound { what },
                    409 => ActionError::Changed { what, message },
                    _ => ActionError::Api {
                        what,
                        message: format!("{} ({})", message, status.code),
                    },
                }
            }
            other => ActionError::Api {
                what,
                message: sanitize(&other.to_string()),
            },
        }
    }
}

pub type Result<T, E = ActionError> = std::result::Result<T, E>;

/// Removes control and escape sequences from a string that came from outside before it is
/// printed or shown (names, API messages, a remote command's stderr): the shared sanitizer.
pub fn sanitize(s: &str) -> String {
    crate::sanitize::line(s).into_owned()
}

/// Runs a future under a deadline, turning an elapsed deadline into [`ActionError::Timeout`].
pub async fn deadline<T>(
    what: &str,
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(ActionError::Timeout {
            what: what.to_string(),
            secs: limit.as_secs().max(1),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvc_ref_parses_and_refuses() {
        assert_eq!(
            "monitoring/grafana".parse::<PvcRef>(),
            Ok(PvcRef::new("monitoring", "grafana"))
        );
        for bad in [
            "grafana",
            "/x",
            "a/",
            "a/b/c",
            "A/b",
            "a/b\u{1b}[2J",
            " a/b",
        ] {
            assert!(bad.parse::<PvcRef>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_change_log_lists_what_still_stands_with_its_undo() {
        let log = ChangeLog::default();
        let c = |subject: &str, text: &str, undo: Option<&str>| Change {
            subject: subject.into(),
            text: text.into(),
            undo: undo.map(str::to_string),
        };
        log.push(c(
            "pod a/h",
            "created helper pod a/h",
            Some("kubectl delete pod -n a h"),
        ));
        log.push(c(
            "PV p reclaimPolicy",
            "PV p: reclaimPolicy Delete -> Retain",
            Some("kubectl patch pv p ..."),
        ));
        log.push(c("pod a/h", "removed helper pod a/h", None));
        let left = log.remaining();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].subject, "PV p reclaimPolicy");
        let note = log.remaining_note().unwrap_or_default();
        assert!(
            note.contains("reclaimPolicy Delete -> Retain (undo: kubectl patch pv p"),
            "{note}"
        );
        assert!(ChangeLog::default().remaining_note().is_none());
    }

    #[test]
    fn sanitize_strips_escapes() {
        let s = sanitize("a\u{1b}[31mb\n");
        assert!(!s.contains('\u{1b}') && !s.contains('\n'), "{s:?}");
    }
}
