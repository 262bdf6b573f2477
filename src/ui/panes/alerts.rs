//! The alerts pane (incident 4, issue 9): one row per rule and level with the count and where
//! (`✖ CRITICAL  Pod OOM-killed  x150 in 12 namespaces  OOMKilled 2m ago  oldest 3h`); Enter
//! expands a group to its members and folds it again; a group of one is the alert itself.
//! Columns: level, title, subject, value (in its unit), since; limit and acknowledgement when
//! there is room. The recent transitions are listed below.
//!
//! The rows are rebuilt only when the alert book changes (its generation moves) or a group is
//! expanded: drawing reads the book's folded groups and renders the visible rows only.
//!
//! This is the pane's drawing; its state is `app::panes::alerts`.

use std::time::Instant;

use compact_str::{CompactString, format_compact};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::PaneView;
use crate::app::feed::short_age;
use crate::app::model::Model;
use crate::app::panes::alerts::{AlertColumn, AlertRows, AlertsPane, PaneRow};
use crate::domain::Level;
use crate::rules::{Alert, AlertGroup, AlertPhase, TransitionKind};
use crate::ui::sanitize;
use crate::ui::table::{self, CellStr, CellText, Column, ColumnSpec, TableView};
use crate::ui::widgets::{ViewCtx, level_span, level_text, pane_block};

impl Column for AlertColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            // "✖ CRITICAL" and "◷ CRITICAL" are 10 cells.
            AlertColumn::Level => ColumnSpec::new("LEVEL", 10),
            // Which pod or socket: cut in the middle (an owner in parentheses goes first);
            // 20 cells keep `listen 0.0.0.0:8080…` and `x1,000 in 12 ns`.
            // The table is about it: it grows to its cells before the others grow.
            AlertColumn::Subject => ColumnSpec::new("SUBJECT", 20)
                .grow_to(64)
                .fair(64)
                .priority(1),
            // Prose, cut at the end: 18 cells hold every rule's title but the two longest.
            AlertColumn::Title => ColumnSpec::new("TITLE", 18)
                .grow_to(28)
                .cut_end()
                .priority(2),
            // "3m ago", "pending 3m/15m" (`3m/15m` when narrow), a group's "oldest 12m"
            // (`12m ago` when narrow).
            AlertColumn::Since => ColumnSpec::new("SINCE", 9).grow_to(16).priority(3),
            // 17 cells hold "OOMKilled 30m ago", "10,087 sockets", "92% of backlog".
            AlertColumn::Value => ColumnSpec::new("VALUE", 17)
                .grow_to(40)
                .cut_end()
                .priority(4),
            // Only with room beyond what the others' cells need, and when some row has one.
            AlertColumn::Limit => ColumnSpec::new("LIMIT", 7)
                .grow_to(12)
                .cut_end()
                .optional()
                .priority(5),
            AlertColumn::Ack => ColumnSpec::new("ACK", 5)
                .grow_to(24)
                .cut_end()
                .optional()
                .priority(6),
        }
    }
}

impl PaneView for AlertsPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        detail_lines(self, model, ctx)
    }
}

/// "pending 3m/15m".
pub fn pending_text(a: &Alert, now: Instant) -> Option<String> {
    a.pending_progress(now)
        .map(|(elapsed, needed)| format!("pending {}/{}", short_age(elapsed), short_age(needed)))
}

/// The level cell: the level word always; a pending alert (or a group with nothing firing)
/// has the pending glyph and style, its SINCE says how far along it is.
fn level_cell(ctx: ViewCtx<'_>, level: Level, firing: bool) -> CellText<'static> {
    if firing {
        level_text(ctx, level)
    } else {
        CellText::styled(
            format_compact!("{} {}", ctx.sym.pending, level.label()),
            ctx.theme.pending,
        )
    }
}

/// `s` cut to `width` characters with the ellipsis in the middle (both ends stay readable).
pub fn cut_middle(s: &str, width: usize, ellipsis: &str) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let room = width.saturating_sub(ellipsis.chars().count());
    let tail = room / 2;
    let head = room - tail;
    let mut out: String = s.chars().take(head).collect();
    out.push_str(ellipsis);
    out.extend(s.chars().skip(n - tail));
    out
}

/// A subject cut to `width`: a trailing owner (`listen 0.0.0.0:8080 (java, pid 4242)`) goes
/// first, marked by the ellipsis; else the middle is cut.
pub fn fit_subject(s: &str, width: usize, ellipsis: &str) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if let Some((head, _)) = s.split_once(" (") {
        let n = head.chars().count() + ellipsis.chars().count();
        if n <= width {
            return format!("{head}{ellipsis}");
        }
    }
    cut_middle(s, width, ellipsis)
}

/// `x150 in 12 namespaces`, or shorter (`x150 in 12 ns`, `x150`) to fit `width`.
fn where_fitting(g: &AlertGroup, width: usize) -> CompactString {
    let full = g.where_text();
    if full.chars().count() <= width {
        return full;
    }
    let n = crate::rules::display::group(g.len() as u64);
    let short = format_compact!("x{n} in {} ns", g.namespaces);
    if g.namespaces > 0 && short.chars().count() <= width {
        short
    } else {
        format_compact!("x{n}")
    }
}

/// `3m ago` when firing; `pending 3m/15m` while pending, `3m/15m` when `compact` (the level
/// cell has the pending glyph).
fn since_text(a: &Alert, model: &Model, compact: bool) -> CompactString {
    match a.phase {
        AlertPhase::Pending { .. } if compact => a
            .pending_progress(model.now)
            .map(|(done, needed)| format_compact!("{}/{}", short_age(done), short_age(needed)))
            .unwrap_or_default(),
        AlertPhase::Pending { .. } => pending_text(a, model.now).unwrap_or_default().into(),
        AlertPhase::Firing { since } => format_compact!(
            "{} ago",
            short_age(model.now.saturating_duration_since(since))
        ),
    }
}

/// One cell of row `i` for a column `width` cells wide (`u16::MAX` while the table measures):
/// cells that have a shorter form choose it when narrow (`x150 in 12 ns`, `3m/15m`, a subject
/// without its owner); the table cuts what is still too wide by the column's cut.
fn cell<'a>(
    rows: &'a AlertRows<'a>,
    i: usize,
    col: AlertColumn,
    width: u16,
    model: &Model,
    ctx: ViewCtx<'_>,
) -> Option<CellText<'a>> {
    let g = rows.group(i)?;
    let first = rows.alert(i)?;
    let now = model.wall;
    let t = ctx.theme;
    let w = width as usize;
    let group_row = matches!(rows.rows[i], PaneRow::Group { .. });
    let muted = if group_row {
        g.acked == g.len()
    } else {
        first.ack.is_some()
    };
    let plain = |s: CellStr<'a>| {
        if muted {
            CellText::styled(s, t.muted)
        } else {
            CellText::raw(s)
        }
    };
    let fits = |s: &str| s.chars().count() <= w;
    Some(match (col, &rows.rows[i]) {
        (AlertColumn::Level, PaneRow::Group { .. }) => level_cell(ctx, g.key.level, g.is_firing()),
        (AlertColumn::Level, PaneRow::Alert { .. }) => {
            level_cell(ctx, first.key.level, first.is_firing())
        }
        (AlertColumn::Title, PaneRow::Group { .. }) => {
            let open = is_expanded(rows, i);
            let glyph = match (ctx.sym.ascii, open) {
                (true, true) => "- ",
                (true, false) => "+ ",
                (false, true) => "▾ ",
                (false, false) => "▸ ",
            };
            plain(format_compact!("{glyph}{}", g.title).into())
        }
        (AlertColumn::Title, PaneRow::Alert { in_group, .. }) => plain(if *in_group {
            "  ".into()
        } else {
            first.title.as_ref().into()
        }),
        (AlertColumn::Subject, PaneRow::Group { .. }) => plain(where_fitting(g, w).into()),
        (AlertColumn::Subject, PaneRow::Alert { .. }) => {
            let subject = sanitize(&first.key.subject);
            plain(if fits(&subject) {
                subject.into()
            } else {
                fit_subject(&subject, w, ctx.sym.ellipsis).into()
            })
        }
        (AlertColumn::Value, _) => plain(first.value_text(now).into()),
        (AlertColumn::Limit, _) => CellText::styled(first.limit_text(), t.muted),
        (AlertColumn::Since, PaneRow::Group { .. }) => {
            let age = short_age(now.duration_since(g.oldest).unsigned_abs());
            let full = format_compact!("oldest {age}");
            plain(if fits(&full) {
                full.into()
            } else {
                format_compact!("{age} ago").into()
            })
        }
        (AlertColumn::Since, PaneRow::Alert { .. }) => {
            let full = since_text(first, model, false);
            plain(if fits(&full) {
                full.into()
            } else {
                since_text(first, model, true).into()
            })
        }
        (AlertColumn::Ack, PaneRow::Group { .. }) => CellText::styled(
            if g.acked == g.len() {
                CellStr::from(ctx.sym.acked)
            } else if g.acked > 0 {
                format_compact!("{}/{}", g.acked, g.len()).into()
            } else {
                "".into()
            },
            t.muted,
        ),
        (AlertColumn::Ack, PaneRow::Alert { .. }) => CellText::styled(
            first
                .ack
                .as_ref()
                .map(|k| format_compact!("{} {}", ctx.sym.acked, sanitize(&k.note)))
                .unwrap_or_default(),
            t.muted,
        ),
    })
}

/// The row after a group row is one of its members exactly when the group is expanded.
fn is_expanded(rows: &AlertRows<'_>, i: usize) -> bool {
    matches!(rows.rows.get(i + 1), Some(PaneRow::Alert { in_group: true, group, .. }) if *group == rows.rows[i].group())
}

fn render(
    pane: &AlertsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let book = &model.alerts;
    let rows = AlertRows {
        rows: &pane.rows,
        book,
    };
    let s = book.summary();
    let n = |v: usize| crate::rules::display::group(v as u64);
    let mut extra = format!(
        "{} active, {} {}, {} firing",
        n(s.shown),
        n(s.groups),
        if s.groups == 1 { "group" } else { "groups" },
        n(s.critical + s.warning + s.info)
    );
    if book.hooks_dropped() > 0 {
        extra.push_str(&format!(
            ", {} alert-command runs dropped",
            crate::rules::display::group(book.hooks_dropped())
        ));
    }
    let block = pane_block(ctx, "Alerts", Some(extra), None, None, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let hist_h = if inner.height >= 12 {
        inner.height / 3
    } else {
        0
    };
    let filter_h = u16::from(!pane.table.filter.is_empty());
    let [filter_area, table_area, hist_area] = Layout::vertical([
        Constraint::Length(filter_h),
        Constraint::Min(2),
        Constraint::Length(hist_h),
    ])
    .areas(inner);
    let t = ctx.theme;
    if filter_h > 0 {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(" filter: {}", sanitize(&pane.table.filter)),
                t.accent,
            )),
            filter_area,
        );
    }
    table::render(
        f,
        table_area,
        ctx,
        TableView::new(&pane.table)
            .focused(focused)
            .empty("", "no alerts match the filter"),
        |i, col: AlertColumn, width| cell(&rows, i, col, width, model, ctx),
    );
    if pane.rows.is_empty() && table_area.height > 1 {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!("{} no active alerts", ctx.sym.level_glyph(Level::Ok)),
                t.ok,
            )),
            Rect {
                y: table_area.y + 1,
                height: 1,
                ..table_area
            },
        );
    }
    if hist_h > 0 {
        let mut lines = vec![Line::from(Span::styled("Recent transitions", t.accent))];
        for tr in book.history().take(hist_h.saturating_sub(1) as usize) {
            let (word, style) = match tr.kind {
                TransitionKind::Pending => ("PENDING ", t.pending),
                TransitionKind::Firing => ("FIRING  ", t.level(tr.alert.key.level)),
                TransitionKind::Cleared => ("CLEARED ", t.ok),
                TransitionKind::Acknowledged => ("ACKED   ", t.muted),
            };
            let time = tr.at_wall.strftime("%H:%M:%S").to_string();
            let line = Line::from(vec![
                Span::styled(format!("{time} "), t.muted),
                Span::styled(word, style),
                level_span(ctx, tr.alert.key.level),
                Span::raw(format!(
                    " {} {}: {}",
                    tr.alert.title,
                    sanitize(&tr.alert.key.subject),
                    tr.alert.value_text(tr.at_wall)
                )),
            ]);
            // Cut at the end with an ellipsis, never silently at the border.
            lines.push(crate::ui::table::cut_line(
                line,
                hist_area.width,
                crate::ui::table::Cut::End,
                ctx.sym.ellipsis,
            ));
        }
        f.render_widget(Paragraph::new(lines), hist_area);
    }
}

fn detail_lines(pane: &AlertsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let book = &model.alerts;
    let t = ctx.theme;
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), t.muted),
            Span::raw(v),
        ])
    };
    let Some(row) = pane.selected_row() else {
        return vec![Line::from("no alert selected")];
    };
    let Some(g) = book.groups().get(row.group()) else {
        return vec![Line::from("no alert selected")];
    };
    if let PaneRow::Group { .. } = row {
        let mut out = vec![
            Line::from(vec![
                Span::styled(format!("{:<12}", "level"), t.muted),
                level_cell(ctx, g.key.level, g.is_firing()).into_span(),
            ]),
            kv("title", g.title.to_string()),
            kv("rule", sanitize(&g.key.rule).into_owned()),
            kv("source", g.key.source.name().to_string()),
            kv(
                "members",
                format!(
                    "{} ({} firing, {} pending, {} acknowledged)",
                    g.len(),
                    g.firing,
                    g.pending,
                    g.acked
                ),
            ),
            kv(
                "oldest",
                g.oldest.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ),
        ];
        if g.namespaces > 0 {
            out.push(kv("namespaces", g.namespaces.to_string()));
        }
        for k in g.members.iter().take(10) {
            out.push(kv("", sanitize(&k.subject).into_owned()));
        }
        if g.len() > 10 {
            out.push(kv("", format!("and {} more (Enter expands)", g.len() - 10)));
        }
        return out;
    }
    let PaneRow::Alert { key, .. } = row else {
        return Vec::new();
    };
    let Some(a) = book.get(key) else {
        return vec![Line::from("that alert has cleared")];
    };
    let limit = a.limit_text();
    let mut out = vec![
        Line::from(vec![
            Span::styled(format!("{:<12}", "level"), t.muted),
            level_cell(ctx, a.key.level, a.is_firing()).into_span(),
        ]),
        kv("title", a.title.to_string()),
        kv("rule", sanitize(&a.key.rule).into_owned()),
        kv("subject", sanitize(&a.key.subject).into_owned()),
        kv("source", a.key.source.name().to_string()),
        kv(
            "value",
            if limit.is_empty() {
                a.value_text(model.wall).into()
            } else {
                format!("{} (limit {limit})", a.value_text(model.wall))
            },
        ),
        kv(
            "since",
            a.since_wall.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ),
        kv("message", sanitize(&a.message).into_owned()),
    ];
    if let Some(p) = pending_text(a, model.now) {
        out.push(kv("progress", p));
    }
    match &a.ack {
        Some(ack) => out.push(kv(
            "acked",
            format!("{} at {}", sanitize(&ack.note), ack.at.strftime("%H:%M:%S")),
        )),
        None => out.push(kv("acked", "no (press a to acknowledge)".into())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::table::ColumnId;

    #[test]
    fn middle_cut_keeps_both_ends() {
        assert_eq!(
            cut_middle("monitoring/grafana-data-old", 12, "…"),
            "monito…a-old"
        );
        assert_eq!(cut_middle("short", 12, "…"), "short");
        assert_eq!(
            fit_subject("listen 0.0.0.0:8080 (java, pid 4242)", 24, "…"),
            "listen 0.0.0.0:8080…"
        );
    }

    #[test]
    fn at_80_columns_level_title_subject_value_and_since_show_whole() {
        // 78 cells inside the pane border.
        let specs = AlertColumn::specs();
        let shown = table::shown::<AlertColumn>(78);
        assert_eq!(
            shown,
            [
                AlertColumn::Level,
                AlertColumn::Title,
                AlertColumn::Subject,
                AlertColumn::Value,
                AlertColumn::Since
            ]
        );
        // Long titles and subjects: every shown column keeps at least its minimum, which
        // holds "✖ CRITICAL", "CLOSE_WAIT sockets", "x1,000 in 12 namespaces" in its short
        // form, "OOMKilled 30m ago" and "12m ago".
        let fitted = table::fit(&specs, 78, |_| 60);
        assert!(fitted.total_width() <= 78, "{fitted:?}");
        for (i, w) in &fitted.columns {
            assert!(*w >= specs[*i].min_width(), "{fitted:?}");
        }
        assert!(fitted.width_of(AlertColumn::Level.index()) >= Some(10));
        assert!(fitted.width_of(AlertColumn::Subject.index()) >= Some(20));
        assert!(fitted.width_of(AlertColumn::Value.index()) >= Some(17));
        assert!(fitted.width_of(AlertColumn::Title.index()) >= Some(18));
        // With room, limit and acknowledgement join when some row has one; never at the
        // cost of the others' cells.
        let wide = table::fit(&specs, 198, |_| 12);
        assert!(wide.shows(AlertColumn::Limit.index()) && wide.shows(AlertColumn::Ack.index()));
        let no_acks = table::fit(&specs, 198, |c| {
            if c == AlertColumn::Ack.index() { 0 } else { 12 }
        });
        assert!(!no_acks.shows(AlertColumn::Ack.index()));
        let long = table::fit(&specs, 98, |c| {
            if c == AlertColumn::Subject.index() {
                36
            } else {
                17
            }
        });
        assert!(!long.shows(AlertColumn::Limit.index()), "{long:?}");
        assert_eq!(
            long.width_of(AlertColumn::Subject.index()),
            Some(36),
            "{long:?}"
        );
    }
}
