//! Detail view of the selected row (Enter), by pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::model::Model;
use crate::ui::widgets::{ViewCtx, centered};

pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = model
        .focused_pane()
        .and_then(crate::ui::panes::view_of)
        .map(|v| v.detail_lines(model, ctx))
        .unwrap_or_default();
    let rect = centered(area, 76, lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(ctx.theme.border_focused)
        .title(Span::styled(
            format!(" {} details (Esc closes) ", model.focused.spec().title),
            ctx.theme.accent,
        ));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .style(ctx.theme.base)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
