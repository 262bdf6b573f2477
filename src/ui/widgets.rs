//! Small building blocks shared by the panes: the pane frame (title with data age / STALE and
//! the source's last error), danger cells (colour AND word/glyph), sortable table headers.

use ratatui::layout::Rect;

use crate::ui::table::CellText;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::{Theme, symbols::Symbols};
use crate::app::feed::{Freshness, short_age};
use crate::app::model::Danger;
use crate::domain::Level;
use crate::sources::SourceError;

/// What every view function gets besides the model.
#[derive(Clone, Copy)]
pub struct ViewCtx<'a> {
    pub theme: &'a Theme,
    pub sym: &'static Symbols,
}

/// The frame around a pane. Title left: name (+ extra); right: data age or STALE; bottom: the
/// source's last error, if any.
pub fn pane_block<'a>(
    ctx: ViewCtx<'_>,
    title: &str,
    extra: Option<String>,
    freshness: Option<&Freshness>,
    error: Option<&SourceError>,
    focused: bool,
) -> Block<'a> {
    let t = ctx.theme;
    let border = if focused { t.border_focused } else { t.border };
    let mut left = vec![Span::styled(
        format!(" {title} "),
        if focused { t.accent } else { t.base },
    )];
    if let Some(x) = extra {
        left.push(Span::styled(format!("{x} "), t.muted));
    }
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(border)
        .title_top(Line::from(left));
    if let Some(f) = freshness {
        block = block.title_top(freshness_line(ctx, f).right_aligned());
    }
    if let Some(e) = error {
        let style = if matches!(e, SourceError::NotConfigured(_)) {
            t.muted
        } else {
            t.warning
        };
        let label = if matches!(e, SourceError::NotConfigured(_)) {
            ""
        } else {
            "error: "
        };
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {label}{} ", super::sanitize(&e.to_string())),
            style,
        )));
    }
    block
}

pub fn freshness_line<'a>(ctx: ViewCtx<'_>, f: &Freshness) -> Line<'a> {
    let t = ctx.theme;
    match f {
        Freshness::Loading => Line::from(Span::styled(
            " loading… ".replace('…', ctx.sym.ellipsis),
            t.muted,
        )),
        Freshness::NotConfigured(_) => Line::from(Span::styled(" not configured ", t.muted)),
        Freshness::Fresh { age } => Line::from(Span::styled(
            format!(" data {} ago ", short_age(*age)),
            t.muted,
        )),
        Freshness::Stale { age } => Line::from(vec![
            Span::styled(format!(" {} ", ctx.sym.stale), t.stale),
            Span::styled(format!(" data {} old ", short_age(*age)), t.warning),
        ]),
        Freshness::NeverLoaded { waited } => Line::from(vec![
            Span::styled(format!(" {} ", ctx.sym.stale), t.stale),
            Span::styled(format!(" no data after {} ", short_age(*waited)), t.warning),
        ]),
    }
}

/// "✖ CRITICAL" / "◷ PENDING" / "✓ OK": the word always, the colour from the theme.
pub fn danger_span<'a>(ctx: ViewCtx<'_>, danger: Option<Danger>) -> Span<'a> {
    match danger {
        Some(Danger { pending: true, .. }) => {
            Span::styled(format!("{} PENDING", ctx.sym.pending), ctx.theme.pending)
        }
        Some(Danger { level, .. }) => level_span(ctx, level),
        None => level_span(ctx, Level::Ok),
    }
}

/// [`danger_span`] as a table cell: its text inline, no allocation.
pub fn danger_text<'a>(ctx: ViewCtx<'_>, danger: Option<Danger>) -> CellText<'a> {
    match danger {
        Some(Danger { pending: true, .. }) => CellText::styled(
            compact_str::format_compact!("{} PENDING", ctx.sym.pending),
            ctx.theme.pending,
        ),
        Some(Danger { level, .. }) => level_text(ctx, level),
        None => level_text(ctx, Level::Ok),
    }
}

/// [`level_span`] as a table cell: its text inline, no allocation.
pub fn level_text<'a>(ctx: ViewCtx<'_>, level: Level) -> CellText<'a> {
    CellText::styled(
        compact_str::format_compact!("{} {}", ctx.sym.level_glyph(level), level.label()),
        ctx.theme.level(level),
    )
}

pub fn level_span<'a>(ctx: ViewCtx<'_>, level: Level) -> Span<'a> {
    Span::styled(
        format!("{} {}", ctx.sym.level_glyph(level), level.label()),
        ctx.theme.level(level),
    )
}

/// Column header with the sort arrow on the sorted column.
pub fn header_cells(
    ctx: ViewCtx<'_>,
    names: &[&str],
    sort_col: usize,
    desc: bool,
) -> Vec<Span<'static>> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == sort_col {
                let arrow = if desc {
                    ctx.sym.sort_desc
                } else {
                    ctx.sym.sort_asc
                };
                Span::styled(format!("{n}{arrow}"), ctx.theme.accent)
            } else {
                Span::styled(n.to_string(), ctx.theme.muted)
            }
        })
        .collect()
}

/// A centred rectangle of at most `w` x `h` inside `area` (overlays).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Text bar of `width` cells filled to `pct` (0-100), e.g. `[||||    ]`.
pub fn fill_bar(sym: &Symbols, pct: f64, width: usize) -> String {
    let filled = ((pct.clamp(0.0, 100.0) / 100.0) * width as f64).round() as usize;
    let mut s = String::with_capacity(width + 2);
    s.push('[');
    s.extend(std::iter::repeat_n(sym.bar_full, filled.min(width)));
    s.extend(std::iter::repeat_n(
        sym.bar_empty,
        width - filled.min(width),
    ));
    s.push(']');
    s
}

pub fn style_if(cond: bool, yes: Style, no: Style) -> Style {
    if cond { yes } else { no }
}
