//! The pane framework, state side. A pane owns its feed (the data of its source) and its table
//! states behind the [`Pane`] trait; the model holds a list of them and routes source updates
//! and keys through the trait. The model holds state, not widgets: each pane's drawing is its
//! view in `ui::panes` (`PaneView`), found through `ui::panes::view_of`. Which panes exist,
//! their `:` names, their source, help keys and the actions each allows (kdash's
//! `actions_for`) come from the source registry (`crate::sources::registry`): each source
//! declares its pane's [`PaneSpec`].
//!
//! Adding a pane: the recipe is in `crate::sources::registry`'s module doc. Here, the pane's
//! state file (`certs.rs`) implementing [`Pane`], with `pub type State` naming its type and
//! `State::new(settings, started)`; [`registry`] builds it from the source list, nothing to
//! add here but the file's `pub mod`.

pub mod alerts;
pub mod certs;
pub mod placeholder;
pub mod pods;
pub mod probes;
pub mod pvcs;
pub mod sockets;

pub use alerts::AlertsPane;
pub use sockets::{SocketsPane, SocketsView};

use std::any::Any;
use std::time::Instant;

use crossterm::event::KeyEvent;

use crate::app::feed::Freshness;
use crate::app::model::Settings;
use crate::app::table::{TableData, TableState};
use crate::rules::{AlertBook, AlertKey, Condition};
use crate::sources::SourceUpdate;

pub use crate::domain::pane::{Action, PaneKind, PaneSpec};

/// The panes, in tab order ([`PaneKind::ALL`]): the alerts pane, each registered source's
/// pane (`<module>::State`, from the source list), and a placeholder for a kind whose source
/// is not registered yet.
pub fn registry(settings: &Settings, started: Instant) -> Vec<Box<dyn Pane>> {
    PaneKind::ALL
        .into_iter()
        .map(|kind| pane(kind, settings, started))
        .collect()
}

fn pane(kind: PaneKind, settings: &Settings, started: Instant) -> Box<dyn Pane> {
    macro_rules! panes {
        ($($variant:ident => $module:ident,)*) => {
            match kind {
                PaneKind::Alerts => Box::new(AlertsPane::new()),
                $(PaneKind::$variant => Box::new($module::State::new(settings, started)),)*
                // Unreachable while every kind has a registered source; a kind declared
                // before its source gets here.
                #[allow(unreachable_patterns)]
                waiting => Box::new(placeholder::PlaceholderPane(waiting)),
            }
        };
    }
    crate::sources::registry::with_sources!(panes)
}

/// What panes may read from the rest of the model while they change.
pub struct Shared<'a> {
    pub alerts: &'a AlertBook,
    pub settings: &'a Settings,
    pub now: Instant,
}

/// A table op run on the focused table with its data (move, sort, filter...).
pub type TableOp<'o> = &'o mut dyn FnMut(&mut TableState, &dyn TableData);

/// One pane's state. Only `kind` and `as_any` are required; a pane without a source or a table
/// keeps the defaults. Its drawing is `ui::panes::PaneView`, implemented for the same type.
pub trait Pane: std::fmt::Debug + Send {
    fn kind(&self) -> PaneKind;

    /// A source update for this pane's source: store it and return the rule conditions for the
    /// alert book, or `None` when nothing new was accepted (an error, a reordered update).
    fn apply(&mut self, _update: SourceUpdate, _shared: &Shared<'_>) -> Option<Vec<Condition>> {
        None
    }

    /// Age/STALE of the pane's data; `None` for panes without a source.
    /// Time passed (a tick, about once a second): a pane whose verdicts change with time
    /// alone and whose source does not re-send for it re-judges here, at most as often as it
    /// needs to, and returns its source's complete conditions when it did (like [`Pane::apply`]).
    fn tick(
        &mut self,
        _now: Instant,
        _wall: jiff::Timestamp,
        _shared: &Shared<'_>,
    ) -> Option<Vec<Condition>> {
        None
    }

    fn freshness(&self, _now: Instant) -> Option<Freshness> {
        None
    }

    /// The source's last error, shown in the pane and the header.
    fn last_error(&self) -> Option<&crate::sources::SourceError> {
        None
    }

    /// Recompute table orders after new data or alert changes.
    fn refresh(&mut self, _shared: &Shared<'_>) {}

    /// Runs `op` on the pane's focused table, if it has one.
    fn with_table(&mut self, _shared: &Shared<'_>, _op: TableOp<'_>) {}

    /// The focused table's filter text.
    fn filter(&self) -> &str {
        ""
    }

    /// The Kubernetes target changed (`:ctx` / `:ns`): forget data from the old one.
    fn retargeted(&mut self, _now: Instant) {}

    /// A key that needs work outside the model (e.g. fetching logs): the overlay to show while
    /// it runs and the command for the executor. `None` if the pane does not take the key.
    fn key_request(
        &mut self,
        _key: KeyEvent,
        _shared: &Shared<'_>,
    ) -> Option<(crate::app::model::Overlay, crate::app::msg::Command)> {
        None
    }

    /// One of this pane's mutating [`Action`]s (F9: the PVC delete; `R`: the rescue) on the
    /// selected row: the dialog to open and the command that starts the flow, if it starts at
    /// once (the rescue asks first). `None`: no row it applies to is selected. Read-only mode
    /// never gets here (`actions_for` removes mutating actions).
    fn action_request(
        &mut self,
        _action: Action,
        _shared: &Shared<'_>,
    ) -> Option<(crate::app::model::Overlay, Option<crate::app::msg::Command>)> {
        None
    }

    /// Pane-specific keys (e.g. the sockets pane's 1-5 views). `true` if handled.
    fn on_key(&mut self, _key: KeyEvent, _shared: &Shared<'_>) -> bool {
        false
    }

    /// The alert behind the selected row, for `a` / F9 Acknowledge.
    fn selected_alert(&self, _shared: &Shared<'_>) -> Option<AlertKey> {
        None
    }

    /// The concrete pane, for its view (`ui::panes::view_of`) and for tests.
    fn as_any(&self) -> &dyn Any;
}

/// The alerts pane has no source of its own: it reads the alert book.
const ALERTS: PaneSpec = PaneSpec {
    kind: PaneKind::Alerts,
    name: "alerts",
    title: "Alerts",
    aliases: &["alert"],
    source: None,
    available: true,
    actions: &[Action::Acknowledge],
    help: &[
        ("a F9", "alerts: acknowledge (a group: all of it)"),
        ("Enter", "alerts: expand or fold a group"),
    ],
};

impl PaneKind {
    /// The pane's spec: from its source's registry entry; the alerts pane's own; a
    /// placeholder's for sources not registered yet.
    pub fn spec(self) -> PaneSpec {
        if self == PaneKind::Alerts {
            return ALERTS;
        }
        crate::sources::registry::SOURCES
            .iter()
            .map(|s| s.pane())
            .find(|p| p.kind == self)
            .unwrap_or_else(|| self.placeholder_spec())
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

    /// Every registered source has a real pane in the tab order (not a placeholder) whose spec
    /// names it, and every spec resolves by its `:` name.
    #[test]
    fn every_registered_source_has_its_pane() {
        let panes = registry(&Settings::default(), Instant::now());
        for source in crate::sources::registry::SOURCES {
            let spec = source.pane();
            let pane = panes
                .iter()
                .find(|p| p.kind() == spec.kind)
                .unwrap_or_else(|| panic!("{}: no pane", spec.name));
            assert!(
                pane.as_any()
                    .downcast_ref::<placeholder::PlaceholderPane>()
                    .is_none(),
                "{}: still a placeholder",
                spec.name
            );
            assert_eq!(spec.kind.spec(), spec);
            assert_eq!(PaneKind::by_name(spec.name), Some(spec.kind));
        }
        // Every pane kind is in the tab order; those still waiting for their sources (certs,
        // probes until they are registered) are placeholders that say so, not an all-clear.
        for kind in PaneKind::ALL {
            let pane = panes
                .iter()
                .find(|p| p.kind() == kind)
                .unwrap_or_else(|| panic!("{kind:?}: no pane"));
            let registered = crate::sources::registry::SOURCES
                .iter()
                .any(|s| s.pane().kind == kind);
            if registered || kind == PaneKind::Alerts {
                continue;
            }
            assert!(!kind.spec().available, "{kind:?}");
            assert!(
                pane.as_any()
                    .downcast_ref::<placeholder::PlaceholderPane>()
                    .is_some(),
                "{kind:?}: a pane without a registered source is a placeholder"
            );
        }
    }

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
        assert_eq!(
            PaneKind::Pvcs.actions_for(false),
            vec![Action::DeletePvc, Action::RescuePvc]
        );
        assert!(PaneKind::Pvcs.actions_for(true).is_empty());
        for k in PaneKind::ALL {
            assert!(k.actions_for(true).iter().all(|a| !a.is_mutating()));
        }
    }
}
