//! Panes whose sources arrive in later versions (certificates, probes): they say so, instead of
//! showing an empty table that looks healthy. Their specs live here until their sources are
//! registered (`crate::sources::registry`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{Pane, PaneKind, PaneSpec};
use crate::app::model::Model;
use crate::domain::SourceId;
use crate::ui::widgets::{ViewCtx, pane_block};

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
    fn render(&self, _model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self.0, ctx, f, area, focused);
    }
    fn detail_lines(&self, _model: &Model, _ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        vec![Line::from(format!(
            "{} {}",
            self.0.spec().title,
            arrives_with(self.0)
        ))]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn render(kind: PaneKind, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
    let spec = kind.spec();
    let block = pane_block(
        ctx,
        spec.title,
        Some("not configured".into()),
        None,
        None,
        focused,
    );
    let text = vec![
        Line::from(format!("{}: this pane {}.", spec.title, arrives_with(kind))),
        Line::from("Nothing is being watched here yet; this is not an all-clear."),
    ];
    f.render_widget(
        Paragraph::new(text)
            .style(ctx.theme.muted)
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}
