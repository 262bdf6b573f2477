//! The pane framework and registry. A pane owns its feed (the data of its source), its table
//! states and its drawing, behind the [`Pane`] trait; the model holds a list of them and routes
//! source updates, keys and rendering through the trait. The registry says which panes exist,
//! their `:` names, their source and the actions each allows (kdash's `actions_for`).
//!
//! Adding a pane (pods, PVCs, ...): its file here implementing [`Pane`], a `spec` arm with
//! `available: true`, and its line in [`registry`].

pub mod alerts;
pub mod placeholder;
pub mod pods;
pub mod pvcs;
pub mod sockets;

pub use alerts::AlertsPane;
pub use sockets::{SocketsPane, SocketsView};

use std::any::Any;
use std::time::Instant;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::feed::Freshness;
use crate::app::model::{Model, Settings};
use crate::app::table::{TableData, TableState};
use crate::rules::{AlertBook, AlertKey, Condition};
use crate::sources::{SourceId, SourceUpdate};
use crate::ui::widgets::ViewCtx;

/// The panes, in tab order: one line per pane.
pub fn registry(settings: &Settings, started: Instant) -> Vec<Box<dyn Pane>> {
    vec![
        Box::new(SocketsPane::new(settings, started)),
        Box::new(AlertsPane::new()),
        Box::new(pods::PodsPane::new(settings, started)),
        Box::new(pvcs::PvcsPane::new(settings, started)),
        Box::new(placeholder::PlaceholderPane(PaneKind::Certs)),
        Box::new(placeholder::PlaceholderPane(PaneKind::Probes)),
    ]
}

/// What panes may read from the rest of the model while they change.
pub struct Shared<'a> {
    pub alerts: &'a AlertBook,
    pub settings: &'a Settings,
    pub now: Instant,
}

/// A table op run on the focused table with its data (move, sort, filter...).
pub type TableOp<'o> = &'o mut dyn FnMut(&mut TableState, &dyn TableData);

/// One pane. Only `kind`, `render`, `as_any` are required; a pane without a source or a table
/// keeps the defaults.
pub trait Pane: std::fmt::Debug + Send {
    fn kind(&self) -> PaneKind;

    /// A source update for this pane's source: store it and return the rule conditions for the
    /// alert book, or `None` when nothing new was accepted (an error, a reordered update).
    fn apply(&mut self, _update: SourceUpdate, _shared: &Shared<'_>) -> Option<Vec<Condition>> {
        None
    }

    /// Age/STALE of the pane's data; `None` for panes without a source.
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

    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool);

    /// A header meter line (like htop's), e.g. the TCP state bar.
    fn header_meter(
        &self,
        _model: &Model,
        _ctx: ViewCtx<'_>,
        _width: u16,
    ) -> Option<Line<'static>> {
        None
    }

    /// The detail view (Enter) of the selected row.
    fn detail_lines(&self, _model: &Model, _ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        Vec::new()
    }

    fn as_any(&self) -> &dyn Any;
}

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
                true,
                &[Action::DeletePvc, Action::RescuePvc],
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
