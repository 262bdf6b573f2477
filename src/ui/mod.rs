//! The view: `view(&Model, &Theme, &mut Frame)` draws header meters, the panes (a grid on a
//! large terminal, one pane with tabs on a small one), the footer and overlays. No side
//! effects; everything shown comes from the model.

pub mod dialogs;
#[doc(hidden)]
pub mod fixtures;
pub mod footer;
pub mod header;
pub mod help;
pub mod panes;
pub mod sanitize;
pub mod symbols;
pub mod table;
pub mod theme;
pub mod widgets;

pub use sanitize::sanitize;
pub use theme::Theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::model::{Model, Overlay};
use panes::PaneKind;
use symbols::Symbols;
use widgets::ViewCtx;

/// Whether the panes are laid out as a grid at this size.
pub fn uses_grid(model: &Model, area: Rect) -> bool {
    area.width >= model.settings.min_grid_cols
        && area.height >= model.settings.min_grid_rows
        && model
            .settings
            .visible_grid()
            .iter()
            .map(|r| r.len())
            .sum::<usize>()
            > 1
        && model
            .settings
            .visible_grid()
            .iter()
            .flatten()
            .any(|k| *k == model.focused)
}

pub fn view(model: &Model, theme: &Theme, f: &mut Frame) {
    let ctx = ViewCtx {
        theme,
        sym: Symbols::for_mode(model.settings.ascii),
    };
    let area = f.area();
    f.render_widget(Block::default().style(theme.base), area);
    let header_lines = header::lines(model, ctx, area.width);
    let header_h = header_lines.len() as u16;
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(header_lines, f, head);
    model.click_targets.borrow_mut().clear();
    if uses_grid(model, area) {
        render_grid(model, ctx, f, body);
    } else {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(body);
        render_tabs(model, ctx, f, tabs);
        render_pane(model, model.focused, ctx, f, pane, true);
    }
    footer::render(model, ctx, f, foot);
    match &model.overlay {
        Some(Overlay::Help) => help::render(model, ctx, f, area),
        Some(Overlay::Detail) => dialogs::detail::render(model, ctx, f, body),
        Some(Overlay::AckNote { key, input }) => dialogs::ack::render(key, input, ctx, f, body),
        Some(Overlay::PodLogs(view)) => panes::pods::render_logs(view, ctx, f, body),
        Some(Overlay::PvcDelete(d)) => dialogs::pvc_delete::render(d, ctx, f, body),
        Some(Overlay::PvcRescue(d)) => dialogs::pvc_rescue::render(d, ctx, f, body),
        None => {}
    }
    if model.settings.ascii {
        // Text from the rules and from outside can carry glyphs no view chose: `--ascii`
        // holds for every cell.
        symbols::asciify(f.buffer_mut());
    }
}

fn render_grid(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let grid = &model.settings.visible_grid();
    let rows = Layout::vertical(grid.iter().map(|_| Constraint::Fill(1))).split(area);
    for (r, row) in grid.iter().enumerate() {
        let cols = Layout::horizontal(row.iter().map(|_| Constraint::Fill(1))).split(rows[r]);
        for (c, kind) in row.iter().enumerate() {
            render_pane(model, *kind, ctx, f, cols[c], *kind == model.focused);
        }
    }
}

fn render_tabs(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for k in &model.tabs {
        let spec = k.spec();
        let style = if *k == model.focused {
            ctx.theme.selection
        } else if spec.available {
            ctx.theme.base
        } else {
            ctx.theme.muted
        };
        let stale = spec
            .source
            .and_then(|s| model.freshness(s))
            .is_some_and(|f| f.is_stale());
        let label = format!(" {} ", spec.title);
        let width = label.chars().count() as u16 + if stale { 5 } else { 0 };
        let x = area.x + spans.iter().map(|s: &Span| s.width() as u16).sum::<u16>();
        let target = Rect {
            x,
            y: area.y,
            width,
            height: 1,
        }
        .intersection(area);
        model.click_targets.borrow_mut().push((target, *k));
        spans.push(Span::styled(label, style));
        if stale {
            spans.push(Span::styled("STALE", ctx.theme.stale));
        }
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn render_pane(
    model: &Model,
    kind: PaneKind,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    if let Some(p) = model.pane(kind) {
        model.click_targets.borrow_mut().push((area, kind));
        match panes::view_of(p) {
            Some(v) => v.render(model, ctx, f, area, focused),
            // A pane whose type is not its kind's (a bug): say so instead of drawing nothing.
            None => f.render_widget(
                Paragraph::new(format!("{}: this pane has no view", kind.spec().title))
                    .style(ctx.theme.warning),
                area,
            ),
        }
        if let Some(e) = p.last_error() {
            render_error_strip(e, ctx, f, area, focused);
        }
    }
}

/// The source's error when it is longer than the pane's bottom border can show (a TLS error
/// ends with the date the certificate expired on): wrapped over the pane's last lines, whole,
/// at most a third of the pane; the border keeps a short label.
fn render_error_strip(
    e: &crate::sources::SourceError,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    use crate::sources::SourceError;
    let t = ctx.theme;
    let not_configured = matches!(e, SourceError::NotConfigured(_));
    let label = if not_configured { "" } else { "error: " };
    let text = format!("{label}{}", sanitize(&e.to_string()));
    // What fits in the border: corners and a space each side.
    if text.chars().count() + 4 <= area.width as usize || area.height < 5 {
        return;
    }
    let inner_w = area.width.saturating_sub(2);
    let max_lines = usize::from((area.height.saturating_sub(2) / 3).max(1));
    let mut lines = wrap_words(&text, usize::from(inner_w));
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let keep = usize::from(inner_w).saturating_sub(ctx.sym.ellipsis.chars().count());
            *last = last.chars().take(keep).collect::<String>() + ctx.sym.ellipsis;
        }
    }
    let n = lines.len() as u16;
    let strip = Rect {
        x: area.x + 1,
        y: area.bottom().saturating_sub(1 + n),
        width: inner_w,
        height: n,
    };
    let style = if not_configured { t.muted } else { t.warning };
    f.render_widget(Clear, strip);
    f.render_widget(
        Paragraph::new(lines.into_iter().map(Line::from).collect::<Vec<_>>()).style(style),
        strip,
    );
    let border = if focused { t.border_focused } else { t.border };
    f.render_widget(
        Block::default()
            .borders(Borders::LEFT | Borders::RIGHT | Borders::BOTTOM)
            .border_set(ctx.sym.border)
            .border_style(border)
            .title_bottom(Span::styled(
                if not_configured {
                    " not configured (above) "
                } else {
                    " error (above) "
                },
                style,
            )),
        Rect {
            y: area.bottom().saturating_sub(1),
            height: 1,
            ..area
        },
    );
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word is split).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let cur_len = cur.chars().count();
            let sep = usize::from(cur_len > 0);
            if cur_len + sep + word.len() <= width {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.extend(word.iter());
                break;
            }
            if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            // A word longer than the line.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
