//! The probes pane (incidents 1, 3): every configured HTTP(S) probe with its danger (PENDING
//! `1/3` while failures add up), the last status or the phase that failed, the last total,
//! p50/p99 against its SLO, a bar of the last attempt's phases (dns|connect|tls|headers|
//! transfer as proportional segments), OK% over the window and since when. On a tall pane the
//! selected probe's detail below: its last attempts with every phase, peer, TLS version and
//! certificate, the response's status and header size, and the latency sparkline. Below that,
//! the Kubernetes probe audit when it runs.
//!
//! This is the pane's drawing; its state is `app::panes::probes`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::PaneView;
use crate::app::model::{Danger, Model};
use crate::app::panes::Pane;
use crate::app::panes::probes::{
    Item, ProbeColumn, ProbesPane, audit_kind, audit_measured, audit_name, audit_short, item,
    level_rank,
};
use crate::domain::Level;
use crate::domain::probes::{Attempt, AuditRow, AuditSnapshot, ProbeRow, short_latency};
use crate::sources::SourceError;
use crate::ui::table::{self, Column, ColumnSpec, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, pane_block};

mod detail;

pub use detail::{audit_detail, detail, sparkline};

impl Column for ProbeColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            // "◷ PENDING 1/3" is 13 cells.
            ProbeColumn::Danger => ColumnSpec::new("DANGER", 13),
            ProbeColumn::Name => ColumnSpec::new("NAME", 14).grow_to(40).priority(1),
            // A code (`503`) or the failing phase (`headers`, `connect`).
            ProbeColumn::Status => ColumnSpec::new("STATUS", 7).priority(2),
            ProbeColumn::Last => ColumnSpec::new("LAST", 6).right().priority(3),
            ProbeColumn::P99 => ColumnSpec::new("P99", 6).right().priority(4),
            ProbeColumn::Slo => ColumnSpec::new("SLO", 6).right().priority(5),
            ProbeColumn::Phases => ColumnSpec::new("PHASES", 12).grow_to(30).priority(6),
            ProbeColumn::OkPct => ColumnSpec::new("OK%", 5).right().priority(7),
            ProbeColumn::P50 => ColumnSpec::new("P50", 6).right().priority(8),
            ProbeColumn::Since => ColumnSpec::new("SINCE", 5).right().priority(9),
        }
    }
}

impl PaneView for ProbesPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        match self.selected() {
            Some(Item::Probe(r)) => detail(r, ctx, model.wall),
            Some(Item::Audit(a)) => audit_detail(a, ctx),
            None => Vec::new(),
        }
    }
}

/// DANGER of an audit row: its level once measured, `? UNKNOWN` otherwise.
fn audit_danger(a: &AuditRow, ctx: ViewCtx<'_>) -> Span<'static> {
    if audit_measured(a) {
        danger_span(
            ctx,
            Some(Danger {
                level: a.level,
                pending: false,
            }),
        )
    } else {
        Span::styled("? UNKNOWN".to_string(), ctx.theme.muted)
    }
}

/// DANGER: `✖ CRITICAL`, `▲ WARNING`, `◷ PENDING 1/3`, `✓ OK`.
pub fn danger_cell(r: &ProbeRow, ctx: ViewCtx<'_>) -> Span<'static> {
    match (r.verdict.level, r.verdict.pending) {
        (Level::Ok | Level::Info, Some((n, of))) => {
            let mut s = danger_span(
                ctx,
                Some(Danger {
                    level: Level::Warning,
                    pending: true,
                }),
            );
            if of > 0 {
                s.content = format!("{} {n}/{of}", s.content).into();
            }
            s
        }
        (level, _) => danger_span(
            ctx,
            Some(Danger {
                level,
                pending: false,
            }),
        ),
    }
}

/// The style of a failed attempt's STATUS (loud once the row is), else plain.
fn status_style(r: &ProbeRow, a: &Attempt, ctx: ViewCtx<'_>) -> Style {
    if a.ok {
        ctx.theme.base
    } else if r.verdict.level >= Level::Warning {
        ctx.theme.level(r.verdict.level)
    } else {
        ctx.theme.pending
    }
}

/// The last attempt's phases as proportional segments in `width` cells: one glyph per phase
/// (`d c t h x` under `--ascii`), each at least one cell when it took any time; a failing
/// attempt ends in `✖` in the critical style.
pub fn phase_bar(a: &Attempt, width: u16, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    let glyphs: [&str; 5] = if ctx.sym.ascii {
        ["d", "c", "t", "h", "x"]
    } else {
        ["░", "▒", "▓", "█", "▄"]
    };
    let styles = [t.muted, t.info, t.accent, t.base, t.ok];
    let segs = a.timings.segments();
    let total: f64 = segs.iter().map(|d| d.as_secs_f64()).sum();
    let fail_mark = u16::from(!a.ok);
    let cells = width.saturating_sub(fail_mark) as f64;
    let mut spans = Vec::new();
    if total > 0.0 {
        let mut used = 0u16;
        for (k, d) in segs.iter().enumerate() {
            if d.is_zero() {
                continue;
            }
            let share = (d.as_secs_f64() / total * cells).round().max(1.0) as u16;
            let share = share.min((cells as u16).saturating_sub(used));
            if share == 0 {
                continue;
            }
            used += share;
            spans.push(Span::styled(glyphs[k].repeat(share as usize), styles[k]));
        }
    }
    if fail_mark == 1 {
        let x = if ctx.sym.ascii { "X" } else { "✖" };
        spans.push(Span::styled(x, t.critical));
    }
    Line::from(spans)
}

fn cell(
    r: &ProbeRow,
    col: ProbeColumn,
    width: u16,
    ctx: ViewCtx<'_>,
    now: jiff::Timestamp,
) -> Line<'static> {
    let t = ctx.theme;
    let last = r.last();
    let dash = || Line::styled(ctx.sym.dash.to_string(), t.muted);
    match col {
        ProbeColumn::Danger => danger_cell(r, ctx).into(),
        ProbeColumn::Name => Line::raw(r.name.to_string()),
        ProbeColumn::Status => match last {
            Some(a) => Line::styled(a.status_text(), status_style(r, a, ctx)),
            None => Line::styled("waiting", t.muted),
        },
        ProbeColumn::Last => match last {
            Some(a) => Line::raw(short_latency(a.timings.total)),
            None => dash(),
        },
        ProbeColumn::P50 => r
            .stats
            .p50
            .map(|d| Line::raw(short_latency(d)))
            .unwrap_or_else(dash),
        ProbeColumn::P99 => match r.stats.p99 {
            Some(p) => {
                let over = r.slo_p99.is_some_and(|s| p > s);
                let style = if over && r.verdict.level >= Level::Warning {
                    t.level(r.verdict.level.max(Level::Warning))
                } else if over {
                    t.pending
                } else {
                    t.base
                };
                Line::styled(short_latency(p), style)
            }
            None => dash(),
        },
        ProbeColumn::Slo => r
            .slo_p99
            .map(|d| Line::styled(short_latency(d), t.muted))
            .unwrap_or_else(dash),
        ProbeColumn::Phases => match last {
            Some(a) => phase_bar(a, width, ctx),
            None => dash(),
        },
        ProbeColumn::OkPct => match r.stats.ok_pct() {
            Some(p) => Line::styled(
                format!("{p:.0}%"),
                if p < 100.0 { t.warning } else { t.base },
            ),
            None => dash(),
        },
        ProbeColumn::Since => match r.since {
            Some(s) => Line::styled(
                crate::domain::pods::human_duration(now.duration_since(s)),
                t.muted,
            ),
            None => dash(),
        },
    }
}

/// A cell of an audit row: DANGER, NAME `ns/pod`, STATUS the probe's kind, P50/P99 through
/// the pod proxy, SLO the probe's `timeoutSeconds`, PHASES the finding in few cells.
fn audit_cell(a: &AuditRow, col: ProbeColumn, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    let dash = || Line::styled(ctx.sym.dash.to_string(), t.muted);
    let loud = if a.finding.is_some() {
        t.level(a.level.max(Level::Warning))
    } else {
        t.base
    };
    match col {
        ProbeColumn::Danger => audit_danger(a, ctx).into(),
        ProbeColumn::Name => Line::raw(audit_name(a)),
        ProbeColumn::Status => Line::styled(audit_kind(a), t.muted),
        ProbeColumn::Last | ProbeColumn::Since => dash(),
        ProbeColumn::P50 => a
            .stats
            .p50
            .map(|d| Line::raw(short_latency(d)))
            .unwrap_or_else(dash),
        ProbeColumn::P99 => a
            .stats
            .p99
            .map(|d| Line::styled(short_latency(d), loud))
            .unwrap_or_else(dash),
        ProbeColumn::Slo => Line::styled(format!("{}s", a.timeout.as_secs()), t.muted),
        ProbeColumn::Phases => {
            let style = if a.finding.is_some() {
                loud
            } else if audit_measured(a) {
                t.base
            } else {
                t.muted
            };
            Line::styled(audit_short(a), style)
        }
        ProbeColumn::OkPct => match a.stats.ok_pct() {
            Some(p) => Line::styled(
                format!("{p:.0}%"),
                if p < 100.0 { t.warning } else { t.base },
            ),
            None => dash(),
        },
    }
}

/// The audit's summary: `k8s probe audit (context kind, namespace shop): 12 HTTP probes, 1
/// timeout below p99`, or that it runs, or why it could not (unknown, never "none").
fn audit_summary(a: &AuditSnapshot) -> String {
    let scope = a
        .scope
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    if let Some(e) = &a.error {
        return format!("k8s probe audit{scope}: unknown ({e})");
    }
    if a.at.is_none() {
        return format!("k8s probe audit{scope}: measuring the pods' HTTP probes");
    }
    let findings = a.rows.iter().filter(|r| r.finding.is_some()).count();
    let unmeasured = a.rows.iter().filter(|r| !audit_measured(r)).count();
    let mut s = format!(
        "k8s probe audit{scope}: {} HTTP probe{}, {findings} timeout{} below p99",
        a.rows.len(),
        if a.rows.len() == 1 { "" } else { "s" },
        if findings == 1 { "" } else { "s" },
    );
    if unmeasured > 0 {
        s.push_str(&format!(", {unmeasured} not measured"));
    }
    s
}

/// How many rows `text` takes when word-wrapped to `width` cells (greedy, as the paragraph
/// wraps it).
fn wrapped_height(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let mut rows = 1u16;
    let mut used = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = Span::raw(word).width();
        let need = if used == 0 { w } else { used + 1 + w };
        if need <= width {
            used = need;
        } else if used == 0 {
            // A word longer than the line is broken across rows.
            rows = rows.saturating_add(u16::try_from((w - 1) / width).unwrap_or(u16::MAX));
            used = (w - 1) % width + 1;
        } else {
            rows = rows.saturating_add(1);
            used = w.min(width);
        }
    }
    rows
}

/// Below the table: the audit's summary and its findings in full sentences (as many as fit in
/// `max_rows` rows of `width` cells), with the rows they take.
fn audit_lines(
    a: &AuditSnapshot,
    ctx: ViewCtx<'_>,
    width: u16,
    max_rows: u16,
) -> (Vec<Line<'static>>, u16) {
    let t = ctx.theme;
    let summary_style = if a.error.is_some() {
        t.warning
    } else {
        t.muted
    };
    let summary = audit_summary(a);
    let mut rows = wrapped_height(&summary, width);
    if rows > max_rows {
        return (Vec::new(), 0);
    }
    let mut lines = vec![Line::styled(summary, summary_style)];
    for r in a.rows.iter().filter(|r| r.finding.is_some()) {
        let glyph = ctx.sym.level_glyph(r.level.max(Level::Warning)).to_string();
        let name = audit_name(r);
        let finding = r.finding.as_deref().unwrap_or_default().to_string();
        let h = wrapped_height(&format!("{glyph} {name}: {finding}"), width);
        if rows.saturating_add(h) > max_rows {
            break;
        }
        rows += h;
        let style = t.level(r.level.max(Level::Warning));
        lines.push(Line::from(vec![
            Span::styled(glyph, style),
            Span::raw(" "),
            Span::styled(name, t.accent),
            Span::raw(": "),
            Span::styled(finding, style),
        ]));
    }
    (lines, rows)
}

fn render(
    pane: &ProbesPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let freshness = pane.freshness(model.now);
    let snap = pane.feed.data();
    let extra = snap.map(|s| {
        let (mut crit, mut warn, mut pend) = (0, 0, 0);
        for r in &s.rows {
            match level_rank(r) {
                4 => crit += 1,
                3 => warn += 1,
                2 => pend += 1,
                _ => {}
            }
        }
        let audit = s
            .audit
            .as_ref()
            .map(|a| {
                let n = a.rows.iter().filter(|r| r.finding.is_some()).count();
                format!(", k8s audit: {n} finding{}", if n == 1 { "" } else { "s" })
            })
            .unwrap_or_default();
        format!(
            "{} probes: {crit} critical, {warn} warning, {pend} pending{audit}",
            s.rows.len()
        )
    });
    let block = pane_block(
        ctx,
        "Probes",
        extra,
        freshness.as_ref(),
        pane.feed.error(),
        focused,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(snap) = snap else {
        let msg = match pane.feed.error() {
            Some(SourceError::NotConfigured(why)) => format!(
                "HTTP probes not configured: {why}. Add [[probes]] tables (name, url) to the config file."
            ),
            Some(e) => format!("no probe data: {e}"),
            None => "waiting for the first probe results".to_string(),
        };
        f.render_widget(
            Paragraph::new(crate::ui::sanitize(&msg).into_owned())
                .style(ctx.theme.muted)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let detail_h = if inner.height >= 20 {
        (inner.height / 3).min(14)
    } else {
        0
    };
    // The audit's summary and findings, when the audit runs and the pane has room.
    let (audit_strip, audit_h) = match &snap.audit {
        Some(a) if inner.height >= 10 => {
            audit_lines(a, ctx, inner.width, (inner.height / 3).min(8))
        }
        _ => (Vec::new(), 0),
    };
    let [filter, table_area, audit_area, detail_area] = Layout::vertical([
        Constraint::Length(u16::from(!pane.table.filter.is_empty())),
        Constraint::Min(1),
        Constraint::Length(audit_h),
        Constraint::Length(detail_h),
    ])
    .areas(inner);
    if !audit_strip.is_empty() {
        f.render_widget(
            Paragraph::new(audit_strip).wrap(Wrap { trim: true }),
            audit_area,
        );
    }
    if !pane.table.filter.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(" filter: {}", crate::ui::sanitize(&pane.table.filter)),
                ctx.theme.accent,
            )),
            filter,
        );
    }
    let now = snap.at.unwrap_or(model.wall).max(model.wall);
    table::render(
        f,
        table_area,
        ctx,
        TableView::new(&pane.table)
            .focused(focused)
            .empty("no probes", "no probes match the filter"),
        |i, col: ProbeColumn, width| match item(snap, i)? {
            Item::Probe(r) => Some(cell(r, col, width, ctx, now)),
            Item::Audit(a) => Some(audit_cell(a, col, ctx)),
        },
    );
    if detail_h > 0
        && let Some(sel) = pane.selected()
    {
        let lines = match sel {
            Item::Probe(r) => detail(r, ctx, now),
            Item::Audit(a) => audit_detail(a, ctx),
        };
        f.render_widget(
            Paragraph::new(lines)
                .block(
                    ratatui::widgets::Block::default()
                        .borders(ratatui::widgets::Borders::TOP)
                        .border_set(ctx.sym.border)
                        .border_style(ctx.theme.border),
                )
                .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
}
