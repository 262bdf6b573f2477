//! The help overlay (F1 / `?`): every key, grouped, and the `:` commands. What it lists (each
//! pane's own keys come from its spec) and how far it scrolls are `app::help`; the drawing is
//! here.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::help::lines;
use crate::app::model::Model;
use crate::ui::widgets::{ViewCtx, centered};

/// Drawn over the whole screen (header and footer included) so it fits at 80x24; the mode
/// line sits in the bottom border. When the keys still do not fit, `j`/`k` scroll them and the
/// title says how many lines are above and below.
pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let t = ctx.theme;
    let keys = lines();
    let h = (keys.len() as u16 + 2).min(area.height);
    let rect = centered(area, 72, h);
    let room = rect.height.saturating_sub(2) as usize;
    let max_scroll = keys.len().saturating_sub(room);
    let scroll = usize::from(model.help_scroll).min(max_scroll);
    let lines: Vec<Line> = keys
        .into_iter()
        .skip(scroll)
        .take(room)
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!(" {k:<18} "), t.accent),
                Span::raw(v),
            ])
        })
        .collect();
    let mode = if model.settings.read_only {
        "read-only: no changes are made"
    } else {
        "read-write"
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(t.border_focused)
        .title(Span::styled(" Help - ondeck keys ", t.accent))
        .title_bottom(Span::styled(
            format!(" Danger: word + glyph + colour. Mode: {mode}. "),
            t.muted,
        ));
    if max_scroll > 0 {
        let below = max_scroll - scroll;
        block = block.title(
            Line::from(Span::styled(
                format!(" {scroll} above, {below} below (j/k) "),
                t.accent,
            ))
            .right_aligned(),
        );
    }
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).style(t.base).block(block), rect);
}
