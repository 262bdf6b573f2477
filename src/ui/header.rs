//! htop-like header meters: the DEMO / READ-ONLY banner, the TCP state bar, the alerts
//! summary with the data-age heartbeat, and the cluster/pods/PVCs/certs meters (filled by later
//! sources; "not configured" until then).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::feed::{Freshness, short_age};
use crate::app::model::Model;
use crate::domain::Level;
use crate::domain::sockets::TcpState;
use crate::rules::AlertPhase;
use crate::sources::SourceId;
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, freshness_line};

pub fn height(model: &Model) -> u16 {
    3 + u16::from(model.demo.is_some() || model.settings.read_only)
}

pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    if let Some(b) = banner(model, ctx, area.width as usize) {
        lines.push(b);
    }
    lines.push(tcp_meter(model, ctx, area.width as usize));
    lines.push(alerts_meter(model, ctx));
    lines.push(cluster_meters(model, ctx));
    f.render_widget(Paragraph::new(lines), area);
}

/// A full-width line nobody can miss: DEMO (simulated cluster) and/or READ-ONLY.
fn banner(model: &Model, ctx: ViewCtx<'_>, width: usize) -> Option<Line<'static>> {
    let mut parts = Vec::new();
    if let Some(s) = &model.demo {
        parts.push(format!(
            "DEMO {} simulated cluster (scenario {})",
            ctx.sym.dash,
            sanitize(s)
        ));
    }
    if model.settings.read_only {
        parts.push("READ-ONLY".to_string());
    }
    if parts.is_empty() {
        return None;
    }
    let text = format!(" {} ", parts.join(" | "));
    let pad = width.saturating_sub(text.chars().count());
    let left = pad / 2;
    let line = format!("{}{}{}", " ".repeat(left), text, " ".repeat(pad - left));
    Some(Line::from(Span::styled(line, ctx.theme.banner)))
}

fn tcp_meter(model: &Model, ctx: ViewCtx<'_>, width: usize) -> Line<'static> {
    let t = ctx.theme;
    let mut spans = vec![Span::styled("TCP ", t.accent)];
    let Some(s) = model.sockets.data() else {
        spans.push(Span::styled(
            match model.sockets.error() {
                Some(e) => format!("no data: {}", sanitize(&e.to_string())),
                None => "waiting for the first poll".into(),
            },
            t.muted,
        ));
        return Line::from(spans);
    };
    let st = &s.states;
    let est = st.get(TcpState::Established);
    let cw = st.get(TcpState::CloseWait);
    let tw = st.get(TcpState::TimeWait);
    let other = st.total().saturating_sub(est + cw + tw);
    let total = (est + cw + tw + other).max(1);
    let labels = format!(" ESTAB {est} CLOSE_WAIT {cw} TIME_WAIT {tw} other {other}");
    let bar_w = width.saturating_sub(4 + 2 + labels.len()).clamp(10, 60);
    let cw_level = model
        .danger_of(SourceId::Sockets, "close_wait@host")
        .map(|d| {
            if d.pending {
                t.pending
            } else {
                t.level(d.level)
            }
        })
        .unwrap_or(t.warning);
    // Cumulative rounding so the segments always add up to the bar width.
    let upto = |n: u64| ((n as f64 / total as f64) * bar_w as f64).round() as usize;
    let a = upto(est);
    let b = upto(est + cw) - a;
    let c = upto(est + cw + tw) - a - b;
    let d = bar_w.saturating_sub(a + b + c);
    // Different characters per state, so the bar reads without colour too.
    spans.push(Span::raw("["));
    spans.push(Span::styled("|".repeat(a), t.ok));
    spans.push(Span::styled("#".repeat(b), cw_level));
    spans.push(Span::styled(":".repeat(c), t.info));
    spans.push(Span::styled(".".repeat(d), t.muted));
    spans.push(Span::raw("]"));
    spans.push(Span::styled(" ESTAB ", t.muted));
    spans.push(Span::styled(est.to_string(), t.ok));
    spans.push(Span::styled(" CLOSE_WAIT ", t.muted));
    spans.push(Span::styled(cw.to_string(), cw_level));
    spans.push(Span::styled(" TIME_WAIT ", t.muted));
    spans.push(Span::styled(tw.to_string(), t.info));
    spans.push(Span::styled(" other ", t.muted));
    spans.push(Span::raw(other.to_string()));
    Line::from(spans)
}

fn alerts_meter(model: &Model, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    let active = model.alerts.active();
    let count = |lvl: Level| {
        active
            .iter()
            .filter(|a| a.key.level == lvl && matches!(a.phase, AlertPhase::Firing { .. }))
            .count()
    };
    let pending = active
        .iter()
        .filter(|a| matches!(a.phase, AlertPhase::Pending { .. }))
        .count();
    let acked = active.iter().filter(|a| a.ack.is_some()).count();
    let (crit, warn) = (count(Level::Critical), count(Level::Warning));
    let mut spans = vec![Span::styled("Alerts ", t.accent)];
    if crit + warn + pending == 0 {
        spans.push(Span::styled(
            format!("{} OK none firing", ctx.sym.level_glyph(Level::Ok)),
            t.ok,
        ));
    } else {
        if crit > 0 {
            spans.push(Span::styled(
                format!("{} {crit} CRITICAL", ctx.sym.level_glyph(Level::Critical)),
                t.critical,
            ));
            spans.push(Span::raw(" "));
        }
        if warn > 0 {
            spans.push(Span::styled(
                format!("{} {warn} WARNING", ctx.sym.level_glyph(Level::Warning)),
                t.warning,
            ));
            spans.push(Span::raw(" "));
        }
        if pending > 0 {
            spans.push(Span::styled(
                format!("{} {pending} PENDING", ctx.sym.pending),
                t.pending,
            ));
            spans.push(Span::raw(" "));
        }
        if acked > 0 {
            spans.push(Span::styled(format!("({acked} acked)"), t.muted));
        }
    }
    // Heartbeat: alternates each second while data is fresh, so a frozen screen is visible.
    spans.push(Span::styled("  Data ", t.accent));
    let fr = model.sockets.freshness(model.now);
    let beat = ctx.sym.heartbeat
        [(model.now.saturating_duration_since(model.started).as_secs() % 2) as usize];
    match &fr {
        Freshness::Fresh { age } => {
            spans.push(Span::styled(
                format!("{beat} sockets {}", short_age(*age)),
                t.ok,
            ));
        }
        other => {
            spans.push(Span::raw("sockets"));
            spans.extend(freshness_line(ctx, other).spans);
        }
    }
    Line::from(spans)
}

fn cluster_meters(model: &Model, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    if let Some(spans) = crate::ui::panes::pods::header_meters(model, ctx) {
        return Line::from(spans);
    }
    let mut spans = Vec::new();
    for name in ["Cluster", "Pods", "PVCs", "Certs"] {
        spans.push(Span::styled(format!("{name} "), t.accent));
        spans.push(Span::styled(format!("{}  ", ctx.sym.dash), t.muted));
    }
    spans.push(Span::styled("(not configured)", t.muted));
    Line::from(spans)
}
