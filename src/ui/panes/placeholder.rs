//! The drawing of a placeholder pane (`app::panes::placeholder`): it says when its source
//! arrives, instead of showing an empty table that looks healthy.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{PaneKind, PaneView};
use crate::app::model::Model;
use crate::app::panes::placeholder::{PlaceholderPane, arrives_with};
use crate::ui::widgets::{ViewCtx, pane_block};

impl PaneView for PlaceholderPane {
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
