//! The alerts pane (incident 4): active alerts ranked by danger (level, rule, subject, value,
//! since, `pending 3m/15m` progress, acknowledgement) and the recent transitions below.

use std::cmp::Ordering;
use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{Pane, PaneKind, Shared, TableOp};
use crate::app::feed::short_age;
use crate::app::model::Model;
use crate::app::table::{RowKey, Sort, TableData, TableState, cmp_f64};
use crate::rules::{Alert, AlertBook, AlertKey, AlertPhase, TransitionKind};
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, header_cells, level_span, pane_block};

pub const COLUMNS: [&str; 7] = [
    "LEVEL",
    "RULE",
    "SUBJECT",
    "VALUE",
    "THRESHOLD",
    "SINCE",
    "ACK",
];

#[derive(Debug, Clone)]
pub struct AlertsPane {
    pub table: TableState,
}

impl Pane for AlertsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Alerts
    }

    fn refresh(&mut self, shared: &Shared<'_>) {
        self.table.rebuild(&AlertRows {
            alerts: shown_alerts(shared.alerts),
        });
    }

    fn with_table(&mut self, shared: &Shared<'_>, op: TableOp<'_>) {
        op(
            &mut self.table,
            &AlertRows {
                alerts: shown_alerts(shared.alerts),
            },
        );
    }

    fn filter(&self) -> &str {
        &self.table.filter
    }

    fn selected_alert(&self, shared: &Shared<'_>) -> Option<AlertKey> {
        let active = shown_alerts(shared.alerts);
        self.table
            .selected_index()
            .and_then(|i| active.get(i))
            .map(|a| a.key.clone())
    }

    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        detail_lines(self, model, ctx)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Default for AlertsPane {
    fn default() -> Self {
        Self::new()
    }
}

impl AlertsPane {
    pub fn new() -> AlertsPane {
        // Column 0 sorts by the book's own ranking (firing first, then level, then age).
        AlertsPane {
            table: TableState::new(
                COLUMNS.len(),
                Sort {
                    column: 0,
                    descending: false,
                },
            ),
        }
    }
}

/// The active alerts as a table, in the book's ranking.
pub struct AlertRows<'a> {
    pub alerts: Vec<&'a Alert>,
}

impl<'a> AlertRows<'a> {
    pub fn of(model: &'a Model) -> AlertRows<'a> {
        AlertRows {
            alerts: shown_alerts(&model.alerts),
        }
    }
}

impl TableData for AlertRows<'_> {
    fn len(&self) -> usize {
        self.alerts.len()
    }
    fn key(&self, i: usize) -> RowKey {
        RowKey::of(&self.alerts[i].key)
    }
    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        use std::fmt::Write;
        let a = self.alerts[i];
        scratch.clear();
        let _ = write!(
            scratch,
            "{} {} {} {}",
            a.key.level.label(),
            a.key.rule,
            a.key.subject,
            a.message
        );
        crate::app::table::scratch_contains(scratch, needle)
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (self.alerts[a], self.alerts[b]);
        match column {
            1 => x.key.rule.cmp(&y.key.rule),
            2 => x.key.subject.cmp(&y.key.subject),
            3 => cmp_f64(x.value, y.value),
            4 => cmp_f64(x.threshold, y.threshold),
            5 => x.since_wall.cmp(&y.since_wall),
            6 => x.ack.is_some().cmp(&y.ack.is_some()),
            _ => a.cmp(&b),
        }
    }
}

/// The active alerts as shown: a rule's quieter level is folded into its louder level when
/// that one is firing for the same subject (fd usage at 96% is one CRITICAL row, not a
/// CRITICAL and a WARNING). A pending louder level does not hide a firing quieter one.
pub fn shown_alerts(book: &AlertBook) -> Vec<&Alert> {
    let active = book.active();
    active
        .iter()
        .copied()
        .filter(|a| {
            !active.iter().any(|b| {
                b.is_firing()
                    && b.key.level > a.key.level
                    && b.key.source == a.key.source
                    && b.key.rule == a.key.rule
                    && b.key.subject == a.key.subject
            })
        })
        .collect()
}

/// "pending 3m/15m".
pub fn pending_text(a: &Alert, now: Instant) -> Option<String> {
    a.pending_progress(now)
        .map(|(elapsed, needed)| format!("pending {}/{}", short_age(elapsed), short_age(needed)))
}

fn level_cell(ctx: ViewCtx<'_>, a: &Alert, now: Instant) -> Span<'static> {
    match a.phase {
        AlertPhase::Pending { .. } => Span::styled(
            format!("{} PENDING {}", ctx.sym.pending, a.key.level.label()),
            ctx.theme.pending,
        ),
        AlertPhase::Firing { .. } => {
            let _ = now;
            level_span(ctx, a.key.level)
        }
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn render(
    pane: &AlertsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let rows_data = AlertRows::of(model);
    let firing = rows_data
        .alerts
        .iter()
        .filter(|a| matches!(a.phase, AlertPhase::Firing { .. }))
        .count();
    let extra = Some(format!(
        "{} active, {} firing",
        rows_data.alerts.len(),
        firing
    ));
    let block = pane_block(ctx, "Alerts", extra, None, None, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let hist_h = if inner.height >= 12 {
        inner.height / 3
    } else {
        0
    };
    let [table_area, hist_area] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(hist_h)]).areas(inner);
    let t = ctx.theme;
    let state = &pane.table;
    let (off, visible) = state.visible(table_area.height.saturating_sub(1) as usize);
    // Narrow (80 columns): value and threshold share a column, the note moves to the detail view.
    let narrow = table_area.width < 110;
    let rows = visible.iter().enumerate().filter_map(|(n, &i)| {
        let a = *rows_data.alerts.get(i)?;
        let since = match a.phase {
            AlertPhase::Pending { .. } => pending_text(a, model.now).unwrap_or_default(),
            AlertPhase::Firing { since } => format!(
                "{} ago",
                short_age(model.now.saturating_duration_since(since))
            ),
        };
        let ack = match &a.ack {
            Some(ack) => Span::styled(
                format!("{} {}", ctx.sym.acked, sanitize(&ack.note)),
                t.muted,
            ),
            None => Span::raw(""),
        };
        let row = if narrow {
            let ack = if a.ack.is_some() {
                Span::styled(ctx.sym.acked, t.muted)
            } else {
                Span::raw("")
            };
            Row::new(vec![
                level_cell(ctx, a, model.now),
                Span::raw(sanitize(&a.key.rule).into_owned()),
                Span::raw(sanitize(&a.key.subject).into_owned()),
                Span::raw(format!("{}/{}", num(a.value), num(a.threshold))),
                Span::raw(since),
                ack,
            ])
        } else {
            Row::new(vec![
                level_cell(ctx, a, model.now),
                Span::raw(sanitize(&a.key.rule).into_owned()),
                Span::raw(sanitize(&a.key.subject).into_owned()),
                Span::raw(num(a.value)),
                Span::raw(num(a.threshold)),
                Span::raw(since),
                ack,
            ])
        };
        Some(if focused && off + n == state.cursor {
            row.style(t.selection)
        } else {
            row
        })
    });
    use Constraint::{Length, Min};
    let (names, widths): (Vec<&str>, Vec<Constraint>) = if narrow {
        (
            vec!["LEVEL", "RULE", "SUBJECT", "VALUE/LIMIT", "SINCE", "ACK"],
            vec![
                Length(18),
                Min(10),
                Min(10),
                Length(11),
                Length(14),
                Length(4),
            ],
        )
    } else {
        (
            COLUMNS.to_vec(),
            vec![
                Length(18),
                Length(16),
                Min(12),
                Length(8),
                Length(9),
                Length(16),
                Min(6),
            ],
        )
    };
    let c = state.sort.column;
    let arrow_col = if narrow && c >= 4 { c - 1 } else { c };
    let header = Row::new(header_cells(ctx, &names, arrow_col, state.sort.descending));
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if rows_data.alerts.is_empty() && table_area.height > 1 {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "{} no active alerts",
                    ctx.sym.level_glyph(crate::domain::Level::Ok)
                ),
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
        for tr in model
            .alerts
            .history()
            .take(hist_h.saturating_sub(1) as usize)
        {
            let (word, style) = match tr.kind {
                TransitionKind::Pending => ("PENDING ", t.pending),
                TransitionKind::Firing => ("FIRING  ", t.level(tr.alert.key.level)),
                TransitionKind::Cleared => ("CLEARED ", t.ok),
                TransitionKind::Acknowledged => ("ACKED   ", t.muted),
            };
            let time = tr.at_wall.strftime("%H:%M:%S").to_string();
            lines.push(Line::from(vec![
                Span::styled(format!("{time} "), t.muted),
                Span::styled(word, style),
                level_span(ctx, tr.alert.key.level),
                Span::raw(format!(
                    " {} {} {}",
                    sanitize(&tr.alert.key.rule),
                    sanitize(&tr.alert.key.subject),
                    sanitize(&tr.alert.message)
                )),
            ]));
        }
        f.render_widget(Paragraph::new(lines), hist_area);
    }
}

fn detail_lines(pane: &AlertsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let rows = AlertRows::of(model);
    let Some(a) = pane.table.selected_index().and_then(|i| rows.alerts.get(i)) else {
        return vec![Line::from("no alert selected")];
    };
    let t = ctx.theme;
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), t.muted),
            Span::raw(v),
        ])
    };
    let mut out = vec![
        Line::from(vec![
            Span::styled(format!("{:<12}", "level"), t.muted),
            level_cell(ctx, a, model.now),
        ]),
        kv("rule", sanitize(&a.key.rule).into_owned()),
        kv("subject", sanitize(&a.key.subject).into_owned()),
        kv("source", a.key.source.name().to_string()),
        kv(
            "value",
            format!("{} (threshold {})", num(a.value), num(a.threshold)),
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
