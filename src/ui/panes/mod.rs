//! The panes' drawing. A pane's state (its feed, its tables, its keys) is `app::panes`, behind
//! the [`Pane`] trait; its view is here, behind [`PaneView`], implemented for the same type in
//! the pane's file. [`view_of`] finds the view of a `&dyn Pane`; the view only reads the model.
//!
//! Adding a pane: the recipe is in `crate::sources::registry`'s module doc; here, the pane's
//! view file implementing [`PaneView`] for its state type and its arm in [`view_of`] (the state
//! file and its arm in the registry are in `app::panes`).

pub mod alerts;
pub mod certs;
pub mod placeholder;
pub mod pods;
pub mod probes;
pub mod pvcs;
pub mod sockets;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::model::Model;
use crate::app::panes::Pane;
use crate::app::panes::alerts::AlertsPane;
use crate::app::panes::certs::CertsPane;
use crate::app::panes::placeholder::PlaceholderPane;
use crate::app::panes::pods::PodsPane;
use crate::app::panes::probes::ProbesPane;
use crate::app::panes::pvcs::PvcsPane;
use crate::app::panes::sockets::SocketsPane;
use crate::ui::widgets::ViewCtx;

pub use crate::domain::pane::{Action, PaneKind, PaneSpec};

/// One pane's drawing. Only `render` is required.
pub trait PaneView {
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
}

/// The view of `pane`: one arm per pane kind (and the placeholder of any kind). `None` when the
/// pane is not the type its kind says (a bug): the caller draws nothing, or says so.
pub fn view_of(pane: &dyn Pane) -> Option<&dyn PaneView> {
    let any = pane.as_any();
    if let Some(p) = any.downcast_ref::<PlaceholderPane>() {
        return Some(p);
    }
    match pane.kind() {
        PaneKind::Sockets => any
            .downcast_ref::<SocketsPane>()
            .map(|p| p as &dyn PaneView),
        PaneKind::Alerts => any.downcast_ref::<AlertsPane>().map(|p| p as &dyn PaneView),
        PaneKind::Pods => any.downcast_ref::<PodsPane>().map(|p| p as &dyn PaneView),
        PaneKind::Pvcs => any.downcast_ref::<PvcsPane>().map(|p| p as &dyn PaneView),
        PaneKind::Certs => any.downcast_ref::<CertsPane>().map(|p| p as &dyn PaneView),
        PaneKind::Probes => any.downcast_ref::<ProbesPane>().map(|p| p as &dyn PaneView),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::app::model::Settings;

    fn ctx(theme: &crate::ui::Theme) -> ViewCtx<'_> {
        ViewCtx {
            theme,
            sym: &crate::ui::symbols::UNICODE,
        }
    }

    /// Every pane the registry builds, one per [`PaneKind::ALL`], has a view: a missing arm in
    /// [`view_of`] fails here.
    #[test]
    fn every_registered_pane_has_a_view() {
        let panes = crate::app::panes::registry(&Settings::default(), Instant::now());
        for kind in PaneKind::ALL {
            let pane = panes
                .iter()
                .find(|p| p.kind() == kind)
                .unwrap_or_else(|| panic!("{kind:?}: no pane"));
            assert!(view_of(pane.as_ref()).is_some(), "{kind:?}: no view");
        }
    }

    /// A pane whose type is not its kind's gets no view (and no panic).
    #[test]
    fn a_pane_of_the_wrong_type_has_no_view() {
        #[derive(Debug)]
        struct Stray;
        impl Pane for Stray {
            fn kind(&self) -> PaneKind {
                PaneKind::Pods
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
        assert!(view_of(&Stray).is_none());
    }

    /// A placeholder (a pane whose source is not registered yet) says when it arrives, for any
    /// kind: not an all-clear.
    #[test]
    fn a_placeholder_says_when_its_source_arrives() {
        let theme = crate::ui::Theme::builtin_dark(false);
        let model = Model::new(
            Settings::default(),
            Instant::now(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        for kind in PaneKind::ALL {
            let pane = PlaceholderPane(kind);
            let says = view_of(&pane)
                .unwrap_or_else(|| panic!("{kind:?}: no view"))
                .detail_lines(&model, ctx(&theme));
            let text: String = says.iter().map(|l| l.to_string()).collect();
            assert!(text.contains("arrives"), "{kind:?}: {text}");
        }
    }
}
