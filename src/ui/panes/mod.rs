//! The pane registry: which panes exist, their names and `:` commands, the source behind each,
//! and which actions each allows (one place, like kdash's `actions_for`). Adding a pane is one
//! `PaneKind` variant + one `spec` arm + its file here.

pub mod alerts;
pub mod placeholder;
pub mod pods;
pub mod sockets;

pub use alerts::AlertsPane;
pub use sockets::{SocketsPane, SocketsView};

use crate::sources::SourceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneKind {
    Sockets,
    Alerts,
    Pods,
    Pvcs,
    Certs,
    Probes,
}

/// Something a user can do to the selected row of a pane (F9 / its own key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Acknowledge an alert with a note (local to this ondeck; not a cluster mutation).
    Acknowledge,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Acknowledge => "Ack",
        }
    }
    /// Mutating actions change something outside ondeck; read-only mode removes them.
    pub fn is_mutating(self) -> bool {
        match self {
            Action::Acknowledge => false,
        }
    }
}

pub struct PaneSpec {
    pub kind: PaneKind,
    /// `:name` and the tab label.
    pub name: &'static str,
    pub title: &'static str,
    /// Other `:` spellings.
    pub aliases: &'static [&'static str],
    pub source: Option<SourceId>,
    /// `false` until the pane's source exists: the pane says when it arrives instead of nothing.
    pub available: bool,
    pub actions: &'static [Action],
}

impl PaneKind {
    pub const ALL: [PaneKind; 6] = [
        PaneKind::Sockets,
        PaneKind::Alerts,
        PaneKind::Pods,
        PaneKind::Pvcs,
        PaneKind::Certs,
        PaneKind::Probes,
    ];

    pub fn spec(self) -> PaneSpec {
        let s = |kind, name, title, aliases, source, available, actions| PaneSpec {
            kind,
            name,
            title,
            aliases,
            source,
            available,
            actions,
        };
        match self {
            PaneKind::Sockets => s(
                self,
                "sockets",
                "Sockets",
                &["sock", "tcp"],
                Some(SourceId::Sockets),
                true,
                &[],
            ),
            PaneKind::Alerts => s(
                self,
                "alerts",
                "Alerts",
                &["alert"],
                None,
                true,
                &[Action::Acknowledge],
            ),
            PaneKind::Pods => s(
                self,
                "pods",
                "Pods",
                &["pod", "po"],
                Some(SourceId::Pods),
                true,
                &[],
            ),
            PaneKind::Pvcs => s(
                self,
                "pvc",
                "PVCs",
                &["pvcs"],
                Some(SourceId::Pvcs),
                false,
                &[],
            ),
            PaneKind::Certs => s(
                self,
                "certs",
                "Certificates",
                &["cert", "certificates"],
                Some(SourceId::Certs),
                false,
                &[],
            ),
            PaneKind::Probes => s(
                self,
                "probes",
                "Probes",
                &["probe"],
                Some(SourceId::Probes),
                false,
                &[],
            ),
        }
    }

    pub fn by_name(name: &str) -> Option<PaneKind> {
        let name = name.to_ascii_lowercase();
        PaneKind::ALL.into_iter().find(|k| {
            let s = k.spec();
            s.name == name || s.aliases.contains(&name.as_str())
        })
    }

    /// Actions allowed on this pane, with mutating ones removed in read-only mode.
    pub fn actions_for(self, read_only: bool) -> Vec<Action> {
        self.spec()
            .actions
            .iter()
            .copied()
            .filter(|a| !(read_only && a.is_mutating()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_actions_are_where_they_belong() {
        assert_eq!(PaneKind::by_name("pvc"), Some(PaneKind::Pvcs));
        assert_eq!(PaneKind::by_name("PODS"), None.or(Some(PaneKind::Pods)));
        assert_eq!(PaneKind::by_name("tcp"), Some(PaneKind::Sockets));
        assert_eq!(PaneKind::by_name("nope"), None);
        assert_eq!(
            PaneKind::Alerts.actions_for(true),
            vec![Action::Acknowledge]
        );
        assert!(PaneKind::Sockets.actions_for(false).is_empty());
        for k in PaneKind::ALL {
            assert!(k.actions_for(true).iter().all(|a| !a.is_mutating()));
        }
    }
}
