//! The panes' drawing. A pane's state (its feed, its tables, its keys) is `app::panes`, behind
//! the [`Pane`] trait; its view is here, behind [`PaneView`], implemented for the same type in
//! the pane's file. [`view_of`] finds the view of a `&dyn Pane`; the view only reads the model.
//!
//! Adding a pane: the recipe is in `crate::sources::registry`'s module doc. Here, the pane's
//! view file (`certs.rs`) implementing [`PaneView`] for its state type
//! (`app::panes::certs::State`); [`view_of`] finds it from the source list, nothing to add here
//! but the file's `pub mod`.

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
use crate::app::panes::placeholder::PlaceholderPane;
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

/// The view of `pane`: the placeholder of any kind, the alerts pane's, and each registered
/// source's pane's (`app::panes::<module>::State`, from the source list). `None` when the pane
/// is not the type its kind says (a bug): the caller draws nothing, or says so.
///
/// A source in the list whose pane state has no `PaneView` does not compile: the `as &dyn
/// PaneView` below needs one.
pub fn view_of(pane: &dyn Pane) -> Option<&dyn PaneView> {
    let any = pane.as_any();
    if let Some(p) = any.downcast_ref::<PlaceholderPane>() {
        return Some(p);
    }
    macro_rules! views {
        ($($variant:ident => $module:ident,)*) => {
            match pane.kind() {
                PaneKind::Alerts => any.downcast_ref::<AlertsPane>().map(|p| p as &dyn PaneView),
                $(PaneKind::$variant => any
                    .downcast_ref::<crate::app::panes::$module::State>()
                    .map(|p| p as &dyn PaneView),)*
                // Unreachable while every kind has a registered source; a kind declared
                // before its source only ever has a placeholder, handled above.
                #[allow(unreachable_patterns)]
                _ => None,
            }
        };
    }
    crate::sources::registry::with_sources!(views)
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

    /// Every pane the registry builds, one per [`PaneKind::ALL`], has a view: a pane whose type
    /// is not the one [`view_of`] expects for its kind (a line of the source list naming another
    /// source's variant) fails here. A listed source whose pane has no view at all does not
    /// compile, which no test needs to catch.
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
