//! What identifies a pane and what it offers, as plain data: the pane kinds, their actions and
//! the [`PaneSpec`] each source declares in its registry entry (`sources::registry`). The UI
//! (`ui::panes`) looks specs up and draws; sources declare them without depending on the UI.

use super::source::SourceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneKind {
    Sockets,
    Alerts,
    Pods,
    Pvcs,
    Certs,
    Probes,
}

impl PaneKind {
    /// What a pane whose source is not registered yet says it waits for.
    pub fn arrives_with(self) -> &'static str {
        match self {
            PaneKind::Certs => "arrives with the certificate sources",
            PaneKind::Probes => "arrives with the HTTP/TLS probes",
            _ => "arrives in a later version",
        }
    }

    /// The spec of the pane while its source is not registered: reachable by its `:` names,
    /// not shown in the grid (`available: false`). Kept with the kinds, not in `app`, so a new
    /// kind is one variant in the domain, not also an arm in the app's placeholder.
    pub fn placeholder_spec(self) -> PaneSpec {
        let (name, title, aliases, source): (_, _, &'static [&'static str], _) = match self {
            PaneKind::Certs => (
                "certs",
                "Certificates",
                &["cert", "certificates"],
                Some(SourceId::Certs),
            ),
            PaneKind::Probes => ("probes", "Probes", &["probe"], Some(SourceId::Probes)),
            PaneKind::Sockets => ("sockets", "Sockets", &[], Some(SourceId::Sockets)),
            PaneKind::Pods => ("pods", "Pods", &[], Some(SourceId::Pods)),
            PaneKind::Pvcs => ("pvc", "PVCs", &[], Some(SourceId::Pvcs)),
            PaneKind::Alerts => ("alerts", "Alerts", &[], None),
        };
        PaneSpec {
            kind: self,
            name,
            title,
            aliases,
            source,
            available: false,
            actions: &[],
            help: &[],
        }
    }

    pub const ALL: [PaneKind; 6] = [
        PaneKind::Sockets,
        PaneKind::Alerts,
        PaneKind::Pods,
        PaneKind::Pvcs,
        PaneKind::Certs,
        PaneKind::Probes,
    ];
}

/// Something a user can do to the selected row of a pane (F9 / its own key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Acknowledge an alert with a note (local to this ondeck; not a cluster mutation).
    Acknowledge,
    /// The guarded PVC delete (F9 / Ctrl-d on the PVC pane): preflight, verified backup, PV to
    /// Retain, typed name, guarded delete, audit.
    DeletePvc,
    /// `R` on a claim Terminating while a pod uses it: PV to Retain, backup through that pod.
    RescuePvc,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Acknowledge => "Ack",
            Action::DeletePvc => "Delete",
            Action::RescuePvc => "Rescue",
        }
    }
    /// Mutating actions change something outside ondeck; read-only mode removes them.
    pub fn is_mutating(self) -> bool {
        match self {
            Action::Acknowledge => false,
            Action::DeletePvc | Action::RescuePvc => true,
        }
    }
}

/// A pane's identity and offer: tab label and `:` names, title, source, help keys, actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The pane's own keys for the help overlay: (keys, what they do).
    pub help: &'static [(&'static str, &'static str)],
}
