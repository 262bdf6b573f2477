//! Detail view of the selected row (Enter), by pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::model::Model;
use crate::ui::panes::{self, PaneKind};
use crate::ui::widgets::{ViewCtx, centered};

pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = match model.focused {
        PaneKind::Sockets => panes::sockets::detail_lines(model, ctx),
        PaneKind::Alerts => panes::alerts::detail_lines(model, ctx),
        PaneKind::Pods => panes::pods::detail_lines(model, ctx),
        k => vec![Line::from(format!(
            "{} {}",
            k.spec().title,
            panes::placeholder::arrives_with(k)
        ))],
    };
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
