//! Panes whose sources arrive in later versions: they say so, instead of showing an empty
//! table that looks healthy. Their names and specs are the pane kind's own
//! (`PaneKind::placeholder_spec`, in the domain) until their sources are registered
//! (`crate::sources::registry`). The drawing is `ui::panes::placeholder`.

use super::{Pane, PaneKind};

pub fn arrives_with(kind: PaneKind) -> &'static str {
    kind.arrives_with()
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
