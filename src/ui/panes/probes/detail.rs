//! The probes pane's detail views: the selected probe's last attempts with every phase, peer,
//! TLS and certificate facts and its latency sparkline; a Kubernetes probe-audit row's detail.

use std::time::Duration;

use ratatui::text::{Line, Span};

use super::{audit_danger, danger_cell};
use crate::app::panes::probes::audit_name;
use crate::domain::Level;
use crate::domain::probes::{AuditRow, ProbeRow, short_latency};
use crate::ui::widgets::ViewCtx;

/// The detail of an audited Kubernetes probe: the finding, its configuration, what the pod
/// proxy measured (or why it could not), and the pod's probe-failure events.
pub fn audit_detail(a: &AuditRow, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut lines = vec![Line::from(vec![
        audit_danger(a, ctx),
        Span::raw(" "),
        Span::styled(audit_name(a), t.accent),
        Span::styled(
            format!(
                "  container {}  {} probe  GET :{}{}",
                a.container, a.kind, a.port, a.path
            ),
            t.muted,
        ),
    ])];
    if let Some(f) = &a.finding {
        lines.push(Line::styled(
            format!("  {f}"),
            t.level(a.level.max(Level::Warning)),
        ));
    }
    if let Some(u) = &a.unmeasured {
        lines.push(Line::styled(format!("  {u}"), t.muted));
    }
    lines.push(Line::raw(format!(
        "  timeoutSeconds {}  periodSeconds {}  failureThreshold {}",
        a.timeout.as_secs(),
        a.period.as_secs(),
        a.failure_threshold
    )));
    if a.stats.attempts > 0 {
        lines.push(Line::styled(
            format!(
                "  through the pod proxy: p50 {}  p99 {}  {} of {} answered",
                opt_ms(a.stats.p50),
                opt_ms(a.stats.p99),
                a.stats.ok,
                a.stats.attempts
            ),
            t.muted,
        ));
    }
    if a.events.is_empty() {
        lines.push(Line::styled("  no probe-failure events", t.muted));
    }
    for e in &a.events {
        lines.push(Line::styled(format!("  event: {e}"), t.warning));
    }
    lines
}

/// A sparkline of totals (`✖`/`X` for failures), scaled to the largest.
pub fn sparkline(values: &[Option<Duration>], ctx: ViewCtx<'_>) -> Span<'static> {
    let bars = ctx.sym.sparkline;
    let max = values
        .iter()
        .flatten()
        .map(|d| d.as_secs_f64())
        .fold(0.0_f64, f64::max);
    let s: String = values
        .iter()
        .map(|v| match v {
            None => {
                if ctx.sym.ascii {
                    'X'
                } else {
                    '✖'
                }
            }
            Some(d) if max > 0.0 && !bars.is_empty() => {
                let k = ((d.as_secs_f64() / max) * (bars.len() - 1) as f64).round() as usize;
                bars[k.min(bars.len() - 1)]
            }
            Some(_) => bars.first().copied().unwrap_or('.'),
        })
        .collect();
    Span::styled(s, ctx.theme.accent)
}

fn opt_ms(d: Option<Duration>) -> String {
    d.map(short_latency).unwrap_or_else(|| "-".into())
}

/// The detail of one probe: its verdict's reasons, URL, the sparkline, and its last attempts
/// (newest first) with every phase, peer, TLS and response facts.
pub fn detail(r: &ProbeRow, ctx: ViewCtx<'_>, now: jiff::Timestamp) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut lines = vec![Line::from(vec![
        danger_cell(r, ctx),
        Span::raw(" "),
        Span::styled(r.name.to_string(), t.accent),
        Span::styled(format!("  {}", r.url), t.muted),
    ])];
    for reason in &r.verdict.reasons {
        lines.push(Line::raw(format!("  {reason}")));
    }
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "  p50 {}  p99 {}  SLO {}  OK {}  ",
                opt_ms(r.stats.p50),
                opt_ms(r.stats.p99),
                opt_ms(r.slo_p99),
                r.stats
                    .ok_pct()
                    .map(|p| format!("{p:.1}% of {}", r.stats.attempts))
                    .unwrap_or_else(|| "-".into())
            ),
            t.muted,
        ),
        sparkline(&r.spark, ctx),
    ]));
    for a in r.recent.iter().rev() {
        let ago = crate::domain::pods::human_duration(now.duration_since(a.at));
        let tm = &a.timings;
        let outcome = match (&a.error, a.status_code) {
            (Some(e), _) => Span::styled(e.to_string(), t.critical),
            (None, Some(c)) => Span::styled(format!("{c}"), t.ok),
            (None, None) => Span::raw("ok"),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {ago:>5} ago "), t.muted),
            outcome,
            Span::styled(
                format!(
                    "  dns {} connect {} tls {} headers {} transfer {} total {}{}",
                    opt_ms(tm.dns),
                    opt_ms(tm.connect),
                    opt_ms(tm.tls),
                    opt_ms(tm.headers),
                    opt_ms(tm.transfer),
                    short_latency(tm.total),
                    if a.reused { " (kept connection)" } else { "" }
                ),
                t.base,
            ),
        ]));
    }
    if let Some(a) = r.last() {
        let mut facts = Vec::new();
        if let Some(p) = a.peer {
            facts.push(format!("peer {p}"));
        }
        if let Some(tls) = &a.tls {
            if let Some(v) = tls.version {
                facts.push(v.to_string());
            }
            if let Some(s) = &tls.subject {
                let until = tls
                    .not_after
                    .map(|n| format!(" until {}", n.strftime("%Y-%m-%d")))
                    .unwrap_or_default();
                facts.push(format!("cert {s}{until}"));
            }
        }
        if let Some(h) = a.header_bytes {
            facts.push(format!("headers {h} B"));
        }
        if a.status_code.is_some() {
            facts.push(format!("body {} B", a.body_bytes));
        }
        if !facts.is_empty() {
            lines.push(Line::styled(format!("  {}", facts.join("  ")), t.muted));
        }
    }
    lines
}
