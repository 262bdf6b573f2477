//! The acknowledgement dialog: a one-line note typed in a ratatui-textarea box. On a group row
//! it acknowledges every member of the group.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use crate::rules::AlertKey;
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, centered, level_span};

/// A fresh note box.
/// The note's text area (its state lives with the model).
pub fn new_input() -> TextArea<'static> {
    crate::app::model::ack_input()
}

pub fn render(
    key: &AlertKey,
    input: &TextArea<'static>,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
) {
    let rect = centered(area, 70, 6);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(ctx.theme.border_focused)
        .title(Span::styled(
            " Acknowledge alert (Enter ack, Esc cancel) ",
            ctx.theme.accent,
        ));
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block, rect);
    let [what, note] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    let title = crate::rules::title_or_id(&key.rule);
    let text = if key.is_group() {
        format!(" {title}: every alert of the group")
    } else {
        format!(" {title} {}", sanitize(&key.subject))
    };
    let what_line = Line::from(vec![level_span(ctx, key.level), Span::raw(text)]);
    f.render_widget(
        Paragraph::new(vec![
            what_line,
            Line::from(Span::styled("Note:", ctx.theme.muted)),
        ]),
        what,
    );
    f.render_widget(input, note);
}
