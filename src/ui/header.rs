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
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, freshness_line};

/// The header's lines: banner (if any), one meter per pane that has one (TCP, later pods,
/// PVCs, certs), the alerts summary with the heartbeat, and the not-yet-configured sources.
pub fn lines(model: &Model, ctx: ViewCtx<'_>, width: u16) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(b) = banner(model, ctx, width as usize) {
        lines.push(b);
    }
    lines.extend(
        model
            .panes
            .iter()
            .filter_map(|p| p.header_meter(model, ctx, width)),
    );
    lines.push(alerts_meter(model, ctx));
    if let Some(l) = not_configured(model, ctx) {
        lines.push(l);
    }
    lines
}

pub fn render(lines: Vec<Line<'static>>, f: &mut Frame, area: Rect) {
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

fn alerts_meter(model: &Model, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    // Folded by the alert book once per change, never per frame.
    let s = model.alerts.summary();
    let (crit, warn, pending, acked) = (s.critical, s.warning, s.pending, s.acked);
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
    let beat = ctx.sym.heartbeat
        [(model.now.saturating_duration_since(model.started).as_secs() % 2) as usize];
    for pane in &model.panes {
        let Some(fr) = pane.freshness(model.now) else {
            continue;
        };
        let name = pane.kind().spec().name;
        match &fr {
            Freshness::Fresh { age } => {
                spans.push(Span::styled(
                    format!("{beat} {name} {}", short_age(*age)),
                    t.ok,
                ));
            }
            other => {
                spans.push(Span::raw(name));
                spans.extend(freshness_line(ctx, other).spans);
            }
        }
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// Sources this version does not have yet, so their absence is never read as "all clear".
/// (The cluster itself has its own meter, from the pods pane.)
fn not_configured(model: &Model, ctx: ViewCtx<'_>) -> Option<Line<'static>> {
    let t = ctx.theme;
    let missing: Vec<&str> = model
        .panes
        .iter()
        .map(|p| p.kind().spec())
        .filter(|s| !s.available)
        .map(|s| s.title)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut spans = Vec::new();
    for name in missing {
        spans.push(Span::styled(format!("{name} "), t.accent));
        spans.push(Span::styled(format!("{}  ", ctx.sym.dash), t.muted));
    }
    spans.push(Span::styled(
        "(not in this version: not monitored)",
        t.muted,
    ));
    Some(Line::from(spans))
}
