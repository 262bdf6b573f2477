//! The certificates pane (incident 6): one timeline of every certificate, ranked by time left
//! (expired first; an unreadable certificate ranks as a warning): DANGER, LEFT (`-2d`, `5h`, `29d`), NOT
//! AFTER, SOURCE, WHERE, SUBJECT, ISSUER. The selected certificate's reasons show under the
//! table; Enter opens the whole chain with each certificate's validity, SANs, serial, SHA-256,
//! key and signature algorithm, the verification result in words and who depends on it. The
//! header meter reads `Certs ✖ 2 ▲ 3 ✓ 40, next expiry 5h (payments/api-tls)`.
//!
//! This is the pane's drawing; its state is `app::panes::certs`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::PaneView;
use crate::app::model::{Danger, Model};
use crate::app::panes::certs::{CertColumn, CertsPane};
use crate::domain::Level;
use crate::domain::certs::{CertRow, CertsSnapshot, left_text};
use crate::rules::certs::Assessment;
use crate::sources::certs::source::MeterCounts;
use crate::ui::sanitize;
use crate::ui::table::{self, Column, ColumnSpec, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, freshness_line, pane_block};

impl Column for CertColumn {
    fn spec(self) -> ColumnSpec {
        let c = ColumnSpec::new;
        match self {
            CertColumn::Danger => c("DANGER", 10),
            CertColumn::Left => c("LEFT", 5).right(),
            CertColumn::Where => c("WHERE", 18).grow_to(48).priority(1),
            CertColumn::Subject => c("SUBJECT", 14).grow_to(40).priority(2),
            CertColumn::Source => c("SOURCE", 10).grow_to(12).priority(3),
            CertColumn::NotAfter => c("NOT AFTER", 10).priority(4),
            CertColumn::Issuer => c("ISSUER", 14).grow_to(32).priority(5),
        }
    }
}

impl PaneView for CertsPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        let freshness = self.fresh(model.now);
        let snap = self.feed.data();
        let extra = snap.map(|_| {
            let m = self.counts_at(model.wall);
            format!(
                "{} critical, {} warning, {} unknown, {} ok",
                m.critical, m.warning, m.unknown, m.ok
            )
        });
        let block = pane_block(
            ctx,
            "Certificates",
            extra,
            freshness.as_ref(),
            self.feed.error(),
            focused,
        );
        let inner = block.inner(area);
        f.render_widget(block, area);
        let Some(snap) = snap else {
            let msg = match self.feed.error() {
                Some(e) => format!("no certificate data: {}", sanitize(&e.to_string())),
                None => {
                    "waiting for the first certificates (handshakes, files, kubeconfig, Secrets)"
                        .into()
                }
            };
            f.render_widget(
                Paragraph::new(msg)
                    .style(ctx.theme.muted)
                    .wrap(Wrap { trim: true }),
                inner,
            );
            return;
        };
        let diag_h = (snap.diagnoses.len() as u16).min(inner.height / 4);
        let strip_h = if inner.height >= 24 {
            5
        } else if inner.height >= 12 {
            3
        } else {
            0
        };
        let [diag, table_area, strip] = Layout::vertical([
            Constraint::Length(diag_h),
            Constraint::Min(1),
            Constraint::Length(strip_h),
        ])
        .areas(inner);
        if diag_h > 0 {
            let lines: Vec<Line> = snap
                .diagnoses
                .iter()
                .map(|d| {
                    Line::styled(
                        format!("{} {}", ctx.sym.level_glyph(Level::Critical), sanitize(d)),
                        ctx.theme.critical,
                    )
                })
                .collect();
            f.render_widget(Paragraph::new(lines), diag);
        }
        table::render(
            f,
            table_area,
            ctx,
            TableView::new(&self.table).focused(focused).empty(
                "no certificates configured or found",
                "no certificates match the filter",
            ),
            |i, c: CertColumn, _w| {
                let row = snap.rows.get(i)?;
                let v = self.verdicts.get(i)?;
                Some(cell(ctx, row, v, c))
            },
        );
        if strip_h > 0
            && let Some((row, v)) = self.selected()
        {
            let mut lines = vec![Line::raw(sanitize(&v.reasons.join("; ")).into_owned())];
            if !row.dependents.is_empty() {
                let d: Vec<String> = row
                    .dependents
                    .iter()
                    .map(|d| sanitize(d).into_owned())
                    .collect();
                lines.push(Line::styled(d.join("; "), ctx.theme.muted));
            }
            f.render_widget(
                Paragraph::new(lines)
                    .block(
                        Block::default()
                            .borders(Borders::TOP)
                            .border_set(ctx.sym.border)
                            .border_style(ctx.theme.border),
                    )
                    .wrap(Wrap { trim: true }),
                strip,
            );
        }
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, _width: u16) -> Option<Line<'static>> {
        let fresh = self.fresh(model.now)?;
        self.feed.data()?;
        let mut line = meter_of(ctx, &self.counts_at(model.wall));
        if fresh.is_stale() {
            let mut spans = freshness_line(ctx, &fresh).spans;
            spans.push(Span::raw(" "));
            spans.extend(line.spans);
            line = Line::from(spans);
        }
        Some(line)
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        match self.selected() {
            Some((row, v)) => detail(ctx, row, v, model.wall),
            None => Vec::new(),
        }
    }
}

/// The DANGER cell: the level's glyph and word, UNKNOWN for an unreadable certificate, `-`
/// for a place without a certificate.
pub fn danger_cell(ctx: ViewCtx<'_>, row: &CertRow, v: &Assessment) -> Line<'static> {
    if row.is_placeholder() {
        return Line::styled("- none", ctx.theme.muted);
    }
    match v.level {
        None => Line::styled(
            format!("{} UNKNOWN", ctx.sym.level_glyph(Level::Warning)),
            ctx.theme.warning,
        ),
        Some(level) => danger_span(
            ctx,
            Some(Danger {
                level,
                pending: false,
            }),
        )
        .into(),
    }
}

pub fn cell(ctx: ViewCtx<'_>, row: &CertRow, v: &Assessment, col: CertColumn) -> Line<'static> {
    let t = ctx.theme;
    let f = row.facts.as_ref();
    let level_style = match v.level {
        Some(l) if l >= Level::Warning => t.level(l),
        None => t.warning,
        _ => t.base,
    };
    match col {
        CertColumn::Danger => danger_cell(ctx, row, v),
        CertColumn::Left => match v.effective_left {
            Some(l) => Line::styled(left_text(l), level_style),
            None if row.is_placeholder() => Line::styled("-", t.muted),
            None => Line::styled("?", t.warning),
        },
        CertColumn::NotAfter => match row.not_after() {
            Some(na) => Line::raw(na.strftime("%Y-%m-%d").to_string()),
            None => Line::styled("-", t.muted),
        },
        CertColumn::Source => Line::raw(row.source.as_str()),
        CertColumn::Where => Line::raw(sanitize(&row.location).into_owned()),
        CertColumn::Subject => match f {
            Some(f) => Line::raw(sanitize(&f.subject).into_owned()),
            None => Line::styled(
                sanitize(
                    row.unknown
                        .as_deref()
                        .map(|u| format!("unknown ({u})"))
                        .or_else(|| row.note.as_ref().map(|n| n.to_string()))
                        .unwrap_or_default()
                        .as_str(),
                )
                .into_owned(),
                if row.unknown.is_some() {
                    t.warning
                } else {
                    t.muted
                },
            ),
        },
        CertColumn::Issuer => match f {
            Some(f) => Line::styled(sanitize(&f.issuer).into_owned(), t.muted),
            None => Line::styled("-", t.muted),
        },
    }
}

/// `Certs ✖ 2 ▲ 3 ✓ 40, next expiry 5h (payments/api-tls)`.
pub fn meter(
    ctx: ViewCtx<'_>,
    snap: &CertsSnapshot,
    rules: &crate::config::CertRules,
    now: jiff::Timestamp,
) -> Line<'static> {
    meter_of(ctx, &snap.counts(rules, now))
}

/// [`meter`] from counts already made.
pub fn meter_of(ctx: ViewCtx<'_>, m: &MeterCounts) -> Line<'static> {
    let t = ctx.theme;
    let mut spans = vec![Span::styled("Certs ", t.accent)];
    for (lvl, n) in [
        (Level::Critical, m.critical),
        (Level::Warning, m.warning + m.unknown),
        (Level::Ok, m.ok),
    ] {
        spans.push(Span::styled(
            format!("{} {n} ", ctx.sym.level_glyph(lvl)),
            if n > 0 || lvl == Level::Ok {
                t.level(lvl)
            } else {
                t.muted
            },
        ));
    }
    if m.unknown > 0 {
        spans.push(Span::styled(format!("({} unknown) ", m.unknown), t.warning));
    }
    if let Some((l, w)) = &m.next {
        let style = if *l <= 86_400 { t.critical } else { t.base };
        spans.push(Span::styled(
            format!("next expiry {} ({})", left_text(*l), sanitize(w)),
            style,
        ));
    }
    Line::from(spans)
}

/// The detail of one certificate: verdict, reasons, dependents and the whole chain.
pub fn detail(
    ctx: ViewCtx<'_>,
    row: &CertRow,
    v: &Assessment,
    now: jiff::Timestamp,
) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let s = |x: &str| sanitize(x).into_owned();
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} ", v.word()),
            v.level.map(|l| t.level(l)).unwrap_or(t.warning),
        ),
        Span::styled(
            format!("{} {}", row.source.as_str(), s(&row.location)),
            t.accent,
        ),
    ])];
    for r in &v.reasons {
        out.push(Line::raw(format!("  {}", s(r))));
    }
    if let Some(o) = &row.verify {
        let name = row.server_name.as_deref().unwrap_or("");
        out.push(Line::raw(format!(
            "  verification ({}): {}",
            s(name),
            s(&o.words())
        )));
    }
    if let Some(n) = &row.note {
        out.push(Line::styled(format!("  {}", s(n)), t.muted));
    }
    if !row.dependents.is_empty() {
        out.push(Line::styled("Depends on it:", t.accent));
        for d in &row.dependents {
            out.push(Line::raw(format!("  {}", s(d))));
        }
    }
    if !row.chain.is_empty() {
        out.push(Line::styled("Chain:", t.accent));
    }
    for c in &row.chain {
        let left = c
            .seconds_left(now)
            .map(left_text)
            .unwrap_or_else(|| "?".into());
        let fmt = |x: Option<jiff::Timestamp>| {
            x.map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "unknown".into())
        };
        let style = match c.seconds_left(now) {
            Some(l) if l < 0 => t.critical,
            _ => t.base,
        };
        out.push(Line::styled(
            format!(
                "  [{}] {} (issued by {})",
                c.position.as_str(),
                s(&c.subject),
                s(&c.issuer)
            ),
            style,
        ));
        out.push(Line::raw(format!(
            "      valid {} .. {} ({left} left)",
            fmt(c.not_before),
            fmt(c.not_after)
        )));
        if !c.sans.is_empty() {
            let sans: Vec<String> = c.sans.iter().map(|x| s(x)).collect();
            out.push(Line::raw(format!("      SANs {}", sans.join(", "))));
        }
        out.push(Line::styled(
            format!(
                "      {} / {} / serial {}",
                s(&c.key),
                s(&c.signature_algorithm),
                c.serial
            ),
            t.muted,
        ));
        out.push(Line::styled(format!("      sha256 {}", c.sha256), t.muted));
    }
    out
}
