//! The help overlay (F1 / `?`): every key, grouped, and the `:` commands.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::model::Model;
use crate::ui::widgets::{ViewCtx, centered};

pub const KEYS: &[(&str, &str)] = &[
    ("F1 ?", "this help (Esc/q/? closes)"),
    ("Tab S-Tab", "next / previous pane"),
    ("j k / arrows", "move selection"),
    ("g G Home End", "first / last row"),
    ("C-d C-u PgDn PgUp", "half page down / up"),
    ("Enter", "details of the selected row"),
    ("/ F3", "filter as you type (Esc clears)"),
    (
        "s F2 F6 < > r",
        "next / previous sort column; r reverses it",
    ),
    ("1-5 h l", "sockets: by process, peer, port; listen; fds"),
    ("1 2 v", "PVCs: claims / PersistentVolumes (v toggles)"),
    (
        "a F9 R",
        "alerts: ack; PVCs: F9/C-d guarded delete, R rescue",
    ),
    ("l L", "pods: log of the previous / current instance"),
    ("F5", "refresh the sources now"),
    (":", "command: sockets alerts pods pvc certs probes"),
    ("", "  ctx NAME, ns NAME, theme NAME, ack, q"),
    ("mouse", "click focuses a tab/pane, wheel scrolls"),
    ("q F10 C-c", "quit"),
];

pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let t = ctx.theme;
    let h = (KEYS.len() as u16 + 4).min(area.height);
    let rect = centered(area, 72, h);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!(" {k:<18} "), t.accent),
                Span::raw(*v),
            ])
        })
        .collect();
    let mode = if model.settings.read_only {
        "read-only: no changes are made"
    } else {
        "read-write"
    };
    lines.push(Line::from(Span::styled(
        format!(" Danger: word + glyph + colour. Mode: {mode}."),
        t.muted,
    )));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(t.border_focused)
        .title(Span::styled(" Help - ondeck keys ", t.accent));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).style(t.base).block(block), rect);
}
