//! Panes whose sources arrive in later versions (certificates, probes): they say so, instead of
//! showing an empty table that looks healthy. Their specs live here until their sources are
//! registered (`crate::sources::registry`). The drawing is `ui::panes::placeholder`.

use super::{Pane, PaneKind, PaneSpec};
use crate::domain::SourceId;

pub fn arrives_with(kind: PaneKind) -> &'static str {
    kind.arrives_with()
}

/// The spec of a pane whose source is not registered: reachable by its `:` names, not shown
/// in the grid (`available: false`).
pub fn spec(kind: PaneKind) -> PaneSpec {
    let (name, title, aliases, source): (_, _, &'static [&'static str], _) = match kind {
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
        kind,
        name,
        title,
        aliases,
        source,
        available: false,
        actions: &[],
        help: &[],
    }
}

/// Stands in for a pane whose source is not built yet.
#[derive(Debug, Clone, Copy)]
pub struct PlaceholderPane(pub PaneKind);

impl Pane for PlaceholderPane {
    fn kind(&self) -> PaneKind {
        self.0
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
