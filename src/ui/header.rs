//! htop-like header meters: the DEMO / READ-ONLY banner, the TCP state bar, the alerts
//! summary with the data-age heartbeat, and the cluster/pods/PVCs/certs meters (filled by later
//! sources; "not configured" until then). Below 120 columns the meters are shortened and
//! packed side by side into at most 4 lines (80x24), danger first; every count keeps its glyph
//! and the alerts their words, so the header reads without colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::feed::{Freshness, short_age};
use crate::app::model::Model;
use crate::domain::Level;
use crate::ui::panes;
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, freshness_line};

/// Below this width the header is compact: meters shortened and packed side by side into at
/// most [`COMPACT_LINES`] lines (80x24 keeps 4 of its 24 lines for the header).
pub const COMPACT_BELOW: u16 = 120;

/// The most lines a compact header takes.
pub const COMPACT_LINES: usize = 4;

/// Where a pane's meter may be split when the header packs meters side by side: an empty,
/// hidden span (invisible when the line is drawn whole). E.g. the pods meter's "Cluster ..."
/// and "Pods ...".
pub fn segment_break() -> Span<'static> {
    Span::styled("", Style::new().add_modifier(Modifier::HIDDEN))
}

fn is_segment_break(s: &Span<'_>) -> bool {
    s.content.is_empty() && s.style.add_modifier.contains(Modifier::HIDDEN)
}

/// The header's lines: banner (if any), one meter per pane that has one (TCP, pods, PVCs,
/// ...), the alerts summary with the heartbeat, and the not-yet-configured sources. Below
/// [`COMPACT_BELOW`] columns the same, shortened and packed into at most [`COMPACT_LINES`].
pub fn lines(model: &Model, ctx: ViewCtx<'_>, width: u16) -> Vec<Line<'static>> {
    if width < COMPACT_BELOW {
        return compact_lines(model, ctx, width);
    }
    let mut lines = Vec::new();
    if let Some(b) = banner(model, ctx, width as usize) {
        lines.push(b);
    }
    lines.extend(
        model
            .panes
            .iter()
            .filter_map(|p| panes::view_of(p.as_ref())?.header_meter(model, ctx, width)),
    );
    let mut alerts = alerts_summary(model, ctx);
    alerts.push(Span::raw(" "));
    alerts.extend(data_ages(model, ctx));
    lines.push(Line::from(alerts));
    if let Some(l) = not_configured(model, ctx, false) {
        lines.push(l);
    }
    lines
}

/// The compact header: the danger first (banner, alerts, stale data), then the meters, each
/// segment whole, packed left to right; what would not fit in [`COMPACT_LINES`] is cut with a
/// visible ellipsis at the end of the last line.
fn compact_lines(model: &Model, ctx: ViewCtx<'_>, width: u16) -> Vec<Line<'static>> {
    let mut segments: Vec<Vec<Span<'static>>> = Vec::new();
    if let Some(b) = compact_banner(model, ctx) {
        segments.push(vec![b]);
    }
    segments.push(alerts_summary(model, ctx));
    segments.push(compact_data(model, ctx));
    for meter in model
        .panes
        .iter()
        .filter_map(|p| panes::view_of(p.as_ref())?.header_meter(model, ctx, width))
    {
        let mut cur = Vec::new();
        for sp in meter.spans {
            if is_segment_break(&sp) {
                if !cur.is_empty() {
                    segments.push(std::mem::take(&mut cur));
                }
            } else {
                cur.push(sp);
            }
        }
        if !cur.is_empty() {
            segments.push(cur);
        }
    }
    if let Some(l) = not_configured(model, ctx, true) {
        segments.push(l.spans);
    }
    pack(segments, width as usize, COMPACT_LINES, ctx.sym.ellipsis)
}

/// Segments joined by two spaces into lines of `width`, at most `max` lines. A segment is
/// never split (one wider than a line is cut). In reading order when that fits in `max` lines;
/// else each segment goes to the first line with room (keeping the order within a line); what
/// still does not fit is put on the last line, cut with a visible ellipsis. Trailing spaces of
/// plain spans are trimmed (a banner's padding, drawn on its background, is kept).
pub fn pack(
    segments: Vec<Vec<Span<'static>>>,
    width: usize,
    max: usize,
    ellipsis: &str,
) -> Vec<Line<'static>> {
    const GAP: usize = 2;
    let segments: Vec<(Vec<Span<'static>>, usize)> = segments
        .into_iter()
        .map(|mut seg| {
            if let Some(last) = seg.last_mut()
                && last.style.bg.is_none()
                && !last.style.add_modifier.contains(Modifier::REVERSED)
            {
                let trimmed = last.content.trim_end().to_string();
                last.content = trimmed.into();
            }
            let w = seg.iter().map(|s| s.width()).sum();
            (seg, w)
        })
        .filter(|(_, w)| *w > 0)
        .collect();
    // Each line: (indices of its segments, width used).
    let mut lines: Vec<(Vec<usize>, usize)> = Vec::new();
    for (i, (_, w)) in segments.iter().enumerate() {
        match lines.last_mut() {
            Some((l, used)) if *used + GAP + w <= width => {
                l.push(i);
                *used += GAP + w;
            }
            _ => lines.push((vec![i], *w)),
        }
    }
    if lines.len() > max {
        lines.clear();
        for (i, (_, w)) in segments.iter().enumerate() {
            match lines.iter_mut().find(|(_, used)| *used + GAP + w <= width) {
                Some((l, used)) => {
                    l.push(i);
                    *used += GAP + w;
                }
                None => lines.push((vec![i], *w)),
            }
        }
    }
    if max > 0 && lines.len() > max {
        let rest: Vec<usize> = lines
            .split_off(max - 1)
            .into_iter()
            .flat_map(|(l, _)| l)
            .collect();
        lines.push((rest, 0));
    }
    let mut segments: Vec<Option<Vec<Span<'static>>>> =
        segments.into_iter().map(|(s, _)| Some(s)).collect();
    lines
        .into_iter()
        .map(|(idx, _)| {
            let mut spans = Vec::new();
            for (n, i) in idx.into_iter().enumerate() {
                if n > 0 {
                    spans.push(Span::raw("  "));
                }
                spans.extend(
                    segments
                        .get_mut(i)
                        .and_then(Option::take)
                        .unwrap_or_default(),
                );
            }
            crate::ui::table::cut_line(
                Line::from(spans),
                u16::try_from(width).unwrap_or(u16::MAX),
                crate::ui::table::Cut::End,
                ellipsis,
            )
        })
        .collect()
}

pub fn render(lines: Vec<Line<'static>>, f: &mut Frame, area: Rect) {
    f.render_widget(Paragraph::new(lines), area);
}

/// A full-width line nobody can miss: DEMO (simulated cluster) and/or READ-ONLY.
fn banner(model: &Model, ctx: ViewCtx<'_>, width: usize) -> Option<Line<'static>> {
    let text = banner_text(model, ctx, false)?;
    let pad = width.saturating_sub(text.chars().count());
    let left = pad / 2;
    let line = format!("{}{}{}", " ".repeat(left), text, " ".repeat(pad - left));
    Some(Line::from(Span::styled(line, ctx.theme.banner)))
}

/// The banner as the first segment of a compact header, in the banner's style.
fn compact_banner(model: &Model, ctx: ViewCtx<'_>) -> Option<Span<'static>> {
    banner_text(model, ctx, true).map(|t| Span::styled(t, ctx.theme.banner))
}

fn banner_text(model: &Model, ctx: ViewCtx<'_>, short: bool) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = &model.demo {
        parts.push(if short {
            format!("DEMO ({})", sanitize(s))
        } else {
            format!(
                "DEMO {} simulated cluster (scenario {})",
                ctx.sym.dash,
                sanitize(s)
            )
        });
    }
    if model.settings.read_only {
        parts.push("READ-ONLY".to_string());
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!(" {} ", parts.join(" | ")))
}

/// `all namespaces` / `ns payments` (`short`: `all ns`, the namespace cut to 16 characters):
/// the Kubernetes scope as the header's cluster meter names it.
pub fn scope_words(
    scope: &crate::domain::pods::NamespaceScope,
    short: bool,
    ellipsis: &str,
) -> String {
    match scope {
        crate::domain::pods::NamespaceScope::All if short => "all ns".into(),
        crate::domain::pods::NamespaceScope::All => "all namespaces".into(),
        crate::domain::pods::NamespaceScope::One(ns) if short && ns.chars().count() > 16 => {
            let cut: String = ns.chars().take(15).collect();
            format!("ns {}{ellipsis}", sanitize(&cut))
        }
        crate::domain::pods::NamespaceScope::One(ns) => format!("ns {}", sanitize(ns)),
    }
}

/// What the sources cannot vouch for, so the header never says "none firing" in green over
/// data it does not have: `blind` are sources that are STALE, never answered or failing;
/// `waiting` are sources still inside their first-answer grace period.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Blind {
    pub blind: Vec<String>,
    pub waiting: Vec<String>,
}

/// Every configured source's state, in pane order ("pods STALE", "pvc no data", "sockets
/// failing"); sources that are not configured are not counted.
pub fn blind_sources(model: &Model) -> Blind {
    let mut out = Blind::default();
    for pane in &model.panes {
        let Some(fr) = pane.freshness(model.now) else {
            continue;
        };
        let name = pane.kind().spec().name;
        let failing = pane
            .last_error()
            .is_some_and(crate::sources::SourceError::is_failure);
        match fr {
            Freshness::NotConfigured(_) => {}
            Freshness::Stale { .. } => out.blind.push(format!("{name} STALE")),
            Freshness::NeverLoaded { .. } => out.blind.push(format!("{name} no data")),
            Freshness::Loading | Freshness::Fresh { .. } if failing => {
                out.blind.push(format!("{name} failing"))
            }
            Freshness::Loading => out.waiting.push(name.to_string()),
            Freshness::Fresh { .. } => {}
        }
    }
    out
}

/// `Alerts ✖ 2 CRITICAL ▲ 1 WARNING ◷ 1 PENDING (1 acked)`: glyph, count and word. Green
/// `✓ OK none firing` only when every configured source is fresh and answering; else
/// `? UNKNOWN: pods STALE, pvc no data` (or `waiting for pods` while they first load).
fn alerts_summary(model: &Model, ctx: ViewCtx<'_>) -> Vec<Span<'static>> {
    let t = ctx.theme;
    // Folded by the alert book once per change, never per frame.
    let s = model.alerts.summary();
    let (crit, warn, pending, acked) = (s.critical, s.warning, s.pending, s.acked);
    let blind = blind_sources(model);
    let mut spans = vec![Span::styled("Alerts ", t.accent)];
    if crit + warn + pending == 0 {
        if !blind.blind.is_empty() {
            spans.push(Span::styled(
                format!("? UNKNOWN: {}", blind.blind.join(", ")),
                t.warning,
            ));
        } else if !blind.waiting.is_empty() {
            spans.push(Span::styled(
                format!(
                    "{} waiting for {}",
                    ctx.sym.ellipsis,
                    blind.waiting.join(", ")
                ),
                t.muted,
            ));
        } else {
            spans.push(Span::styled(
                format!("{} OK none firing", ctx.sym.level_glyph(Level::Ok)),
                t.ok,
            ));
        }
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
            spans.push(Span::raw(" "));
        }
        // What fires is not all there is: a failing source is named here (STALE and no data
        // are already in the Data segment).
        let failing: Vec<&str> = blind
            .blind
            .iter()
            .map(String::as_str)
            .filter(|b| b.ends_with(" failing"))
            .collect();
        if !failing.is_empty() {
            spans.push(Span::styled(
                format!("+ ? {}", failing.join(", ")),
                t.warning,
            ));
        }
    }
    spans
}

/// The heartbeat (alternates each second while data is fresh, so a frozen screen is visible)
/// and every source's data age or STALE.
fn data_ages(model: &Model, ctx: ViewCtx<'_>) -> Vec<Span<'static>> {
    let t = ctx.theme;
    let mut spans = Vec::new();
    spans.push(Span::styled(" Data ", t.accent));
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
    spans
}

/// The compact heartbeat: `Data ♥ 2s` (the oldest fresh data), then only the sources whose
/// data is stale or missing, with STALE.
fn compact_data(model: &Model, ctx: ViewCtx<'_>) -> Vec<Span<'static>> {
    let t = ctx.theme;
    let beat = ctx.sym.heartbeat
        [(model.now.saturating_duration_since(model.started).as_secs() % 2) as usize];
    let mut oldest_fresh = None;
    let mut trouble = Vec::new();
    for pane in &model.panes {
        match pane.freshness(model.now) {
            Some(Freshness::Fresh { age }) => {
                oldest_fresh = oldest_fresh.max(Some(age));
            }
            Some(other @ (Freshness::Stale { .. } | Freshness::NeverLoaded { .. })) => {
                trouble.push(Span::raw(format!(" {}", pane.kind().spec().name)));
                trouble.extend(freshness_line(ctx, &other).spans);
            }
            _ => {}
        }
    }
    let mut spans = vec![Span::styled("Data ", t.accent)];
    match oldest_fresh {
        Some(age) => spans.push(Span::styled(format!("{beat} {}", short_age(age)), t.ok)),
        None if trouble.is_empty() => spans.push(Span::styled(ctx.sym.dash.to_string(), t.muted)),
        None => {}
    }
    spans.extend(trouble);
    spans
}

/// Sources this version does not have yet, so their absence is never read as "all clear".
/// (The cluster itself has its own meter, from the pods pane.)
fn not_configured(model: &Model, ctx: ViewCtx<'_>, short: bool) -> Option<Line<'static>> {
    let t = ctx.theme;
    let missing: Vec<&str> = model
        .panes
        .iter()
        .map(|p| p.kind().spec())
        .filter(|s| !s.available)
        .map(|s| if short { s.name } else { s.title })
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
        if short {
            "(not monitored)"
        } else {
            "(not in this version: not monitored)"
        },
        t.muted,
    ));
    Some(Line::from(spans))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> Vec<Span<'static>> {
        vec![Span::raw(s.to_string())]
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn packs_in_reading_order_when_that_fits() {
        let lines = pack(vec![seg("aaaa"), seg("bbbb "), seg("cccccccc")], 10, 4, "…");
        assert_eq!(text(&lines), ["aaaa  bbbb", "cccccccc"]);
    }

    #[test]
    fn fills_earlier_lines_before_giving_up_and_cuts_the_rest_visibly() {
        // In reading order this takes 3 lines; first fit takes 2.
        let segs = vec![seg("aaaaaa"), seg("bbbbbbb"), seg("cc")];
        let lines = pack(segs, 10, 2, "…");
        assert_eq!(text(&lines), ["aaaaaa  cc", "bbbbbbb"]);
        // Still too many: the overflow joins the last line, cut with an ellipsis.
        let segs = vec![seg("aaaaaa"), seg("bbbbbbb"), seg("cc"), seg("dddddd")];
        let lines = pack(segs, 10, 2, "…");
        assert_eq!(text(&lines), ["aaaaaa  cc", "bbbbbbb  …"]);
        assert!(lines.iter().all(|l| l.width() <= 10));
    }

    #[test]
    fn a_banner_keeps_its_padding() {
        let banner = Span::styled(" DEMO ", Style::new().add_modifier(Modifier::REVERSED));
        let lines = pack(vec![vec![banner], seg("x")], 20, 4, "…");
        assert_eq!(text(&lines), [" DEMO   x"]);
    }
}
