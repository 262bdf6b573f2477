//! The pods pane's drawing (incident 7; its state is `app::panes::pods`): every pod ranked by danger with kubectl's READY / STATUS /
//! RESTARTS / AGE, the node, and plain reasons ("CrashLoopBackOff for 14m"); on a tall pane, the
//! selected pod's reasons and recent events (probe failures, BackOff, FailedScheduling) below.
//! Every string from the cluster goes through `sanitize` here.

use std::borrow::Cow;

use compact_str::ToCompactString;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::PaneView;
use crate::app::model::{Danger, Model};
use crate::app::panes::pods::{PodColumn, PodsPane};
use crate::domain::Level;
use crate::domain::pods::{PodRow, PodsSnapshot};
use crate::ui::sanitize;
use crate::ui::table::{self, CellText, Column, ColumnSpec, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, danger_text, pane_block};

impl Column for PodColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            // "✖ CRITICAL" is 10 cells.
            PodColumn::Danger => ColumnSpec::new("DANGER", 10),
            // CrashLoopBackOff and ImagePullBackOff are 16; longer ones are shortened to fit
            // (`short_status`) and grow whole first when there is room.
            PodColumn::Status => ColumnSpec::new("STATUS", 16).grow_to(32).priority(1),
            PodColumn::Name => ColumnSpec::new("NAME", 16).grow_to(63).priority(2),
            PodColumn::Ready => ColumnSpec::new("READY", 5).right().priority(3),
            // `5 (3m ago)` when there is room, `5` when not.
            PodColumn::Restarts => ColumnSpec::new("RESTARTS", 8)
                .grow_to(16)
                .right()
                .priority(4),
            PodColumn::Age => ColumnSpec::new("AGE", 4).right().priority(5),
            PodColumn::Reasons => ColumnSpec::new("REASONS", 12).rest().cut_end().priority(6),
            PodColumn::Namespace => ColumnSpec::new("NAMESPACE", 10).grow_to(24).priority(7),
            PodColumn::Node => ColumnSpec::new("NODE", 10).grow_to(32).priority(8),
        }
    }
}

impl PaneView for PodsPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, width: u16) -> Option<Line<'static>> {
        header_meters(self, model, ctx, width).map(Line::from)
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        detail_lines(self, model, ctx)
    }
}

fn danger(level: Level) -> Option<Danger> {
    Some(Danger {
        level,
        pending: false,
    })
}

/// One cell of a pod's row, formatted for a column `width` cells wide.
/// One cell of `r`. A row's text is [`Clean`](crate::text::Clean) (sanitized where it entered),
/// so cells borrow it as it is: no copy per cell per frame.
fn cell<'r>(
    r: &'r PodRow,
    col: PodColumn,
    width: u16,
    ctx: ViewCtx<'_>,
    now: jiff::Timestamp,
) -> CellText<'r> {
    let t = ctx.theme;
    match col {
        PodColumn::Danger => danger_text(ctx, danger(r.level)),
        PodColumn::Namespace => CellText::raw(r.namespace.as_str()),
        PodColumn::Name => CellText::raw(r.name.as_str()),
        PodColumn::Ready => CellText::raw(r.ready.as_str()),
        PodColumn::Status => {
            let style = if r.level >= Level::Warning {
                t.level(r.level)
            } else {
                t.base
            };
            CellText::styled(short_status(&r.status, width), style)
        }
        PodColumn::Restarts => {
            let full = r.restarts_text(now);
            if full.chars().count() <= width as usize {
                CellText::raw(full)
            } else {
                CellText::raw(r.restarts.to_compact_string())
            }
        }
        PodColumn::Age => CellText::raw(r.age_text(now)),
        PodColumn::Node => CellText::styled(r.node.as_deref().unwrap_or("<none>"), t.muted),
        PodColumn::Reasons => CellText::raw(r.reasons_text()),
    }
}

/// kubectl's STATUS in at most `width` cells: whole when it fits, else its known short form
/// (`Init:CrashLoopBackOff` -> `Init:CrashLoop`, `CreateContainerConfigError` ->
/// `CreateConfigErr`), so a status is never cut to a few letters; the detail view has it whole.
/// Anything else still too wide is cut in the middle by the table.
pub fn short_status(status: &str, width: u16) -> Cow<'_, str> {
    const SHORT: &[(&str, &str)] = &[
        ("CrashLoopBackOff", "CrashLoop"),
        ("ImagePullBackOff", "ImagePull"),
        ("CreateContainerConfigError", "CreateConfigErr"),
        ("CreateContainerError", "CreateCtrError"),
        ("ContainerStatusUnknown", "StatusUnknown"),
        ("ContainerCreating", "Creating"),
        ("ErrImageNeverPull", "ErrNeverPull"),
        ("RunContainerError", "RunCtrError"),
        ("PreCreateHookError", "PreCreateHookErr"),
        ("PostStartHookError", "PostStartHookErr"),
        ("PodInitializing", "Initializing"),
    ];
    let width = width as usize;
    if status.chars().count() <= width {
        return Cow::Borrowed(status);
    }
    let (prefix, word) = match status.strip_prefix("Init:") {
        Some(rest) => ("Init:", rest),
        None => ("", status),
    };
    match SHORT.iter().find(|(long, _)| *long == word) {
        Some((_, short)) => Cow::Owned(format!("{prefix}{short}")),
        None => Cow::Borrowed(status),
    }
}

fn render(
    pane: &PodsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    // Before the source's first report there is nothing to call stale (see Model::freshness).
    let freshness = pane.fresh(model.now);
    let snap = pane.feed.data();
    let extra = snap.map(|s| {
        let c = pane.counts;
        let lat = s
            .api
            .last_latency
            .map(|l| format!(", API {} ms", l.as_millis()))
            .unwrap_or_default();
        format!(
            "[{} / {}] {} critical, {} warning, {} ok{lat}",
            sanitize(&s.context),
            sanitize(&s.scope.to_string()),
            c.critical,
            c.warning,
            c.ok
        )
    });
    let block = pane_block(
        ctx,
        "Pods",
        extra,
        freshness.as_ref(),
        pane.feed.error(),
        focused,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(snap) = snap else {
        let msg = match pane.feed.error() {
            Some(crate::sources::SourceError::NotConfigured(why)) => {
                format!("Kubernetes not configured: {}", sanitize(why))
            }
            Some(e) => format!("no pod data: {}", sanitize(&e.to_string())),
            None => "waiting for the first list of pods".to_string(),
        };
        f.render_widget(
            Paragraph::new(msg)
                .style(ctx.theme.muted)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let detail_h = if inner.height >= 24 {
        (inner.height / 3).min(12)
    } else {
        0
    };
    let [filter, table, detail] = Layout::vertical([
        Constraint::Length(u16::from(!pane.table.filter.is_empty())),
        Constraint::Min(1),
        Constraint::Length(detail_h),
    ])
    .areas(inner);
    if !pane.table.filter.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(" filter: {}", sanitize(&pane.table.filter)),
                ctx.theme.accent,
            )),
            filter,
        );
    }
    render_table(pane, model, snap, ctx, f, table, focused);
    if detail_h > 0 {
        render_detail(pane, model, snap, ctx, f, detail);
    }
}

fn render_table(
    pane: &PodsPane,
    model: &Model,
    s: &PodsSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let now = s.at.max(model.wall);
    table::render(
        f,
        area,
        ctx,
        TableView::new(&pane.table)
            .focused(focused)
            .empty("no pods", "no pods match the filter"),
        |i, col: PodColumn, width| s.rows.get(i).map(|r| cell(r, col, width, ctx, now)),
    );
}

/// The selected pod's reasons and recent events.
fn render_detail(
    pane: &PodsPane,
    model: &Model,
    s: &PodsSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
) {
    let t = ctx.theme;
    let Some(r) = pane.table.selected_index().and_then(|i| s.rows.get(i)) else {
        return;
    };
    let now = s.at.max(model.wall);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{}/{}", sanitize(&r.namespace), sanitize(&r.name)),
            t.accent,
        ),
        Span::styled(
            r.owner
                .as_ref()
                .map(|o| format!("  {} {}", sanitize(&o.kind), sanitize(&o.name)))
                .unwrap_or_default(),
            t.muted,
        ),
    ])];
    for reason in &r.reasons {
        lines.push(Line::from(vec![
            danger_span(ctx, danger(reason.level)),
            Span::raw(format!(" {}", sanitize(&reason.text))),
        ]));
    }
    if let Some(line) = events_unknown_line(s, ctx) {
        lines.push(line);
    }
    let events = s.events.get(&r.key());
    match events {
        Some(evs) if !evs.is_empty() => {
            for e in evs.iter() {
                let ago = e
                    .last_seen
                    .map(|t| crate::domain::pods::human_duration(now.duration_since(t)))
                    .unwrap_or_else(|| "?".into());
                let style = if e.type_ == "Warning" {
                    t.warning
                } else {
                    t.muted
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{ago:>6} "), t.muted),
                    Span::styled(format!("{} ", sanitize(&e.reason)), style),
                    Span::raw(if e.count > 1 {
                        format!("(x{}) ", e.count)
                    } else {
                        String::new()
                    }),
                    Span::raw(sanitize(&e.message).into_owned()),
                ]));
            }
        }
        _ if s.events_unknown.is_some() => {}
        _ => lines.push(Line::from(Span::styled("no recent events", t.muted))),
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(
                ratatui::widgets::Block::default()
                    .borders(ratatui::widgets::Borders::TOP)
                    .border_set(ctx.sym.border)
                    .border_style(t.border),
            )
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// The header's cluster and pods meters once the pods source has reported: context, API
/// health (reachable, latency of the last request), kubeconfig client certificate days left,
/// the pods bar (critical / warning / ok) and the pods data age. `None` before the first
/// report, so the header keeps saying "not configured". In a compact header (narrow screen) the
/// context is cut in the middle and the data age left to the header's heartbeat (which names
/// stale sources); the cluster and pods parts may go on different lines.
fn header_meters(
    pane: &PodsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    width: u16,
) -> Option<Vec<Span<'static>>> {
    let t = ctx.theme;
    let compact = width < crate::ui::header::COMPACT_BELOW;
    let fresh = pane.fresh(model.now)?;
    let mut spans = vec![Span::styled("Cluster ", t.accent)];
    let snap = pane.feed.data();
    match (snap, pane.feed.error()) {
        (_, Some(crate::sources::SourceError::NotConfigured(_))) => {
            spans.push(Span::styled("not configured  ", t.muted));
            return Some(spans);
        }
        (Some(s), err) => {
            let context = Line::raw(format!("{} ", sanitize(&s.context)));
            let context = if compact {
                table::cut_line(context, 24, table::Cut::Middle, ctx.sym.ellipsis)
            } else {
                context
            };
            spans.extend(context.spans);
            // The scope it covers: `all namespaces` / `ns payments`.
            spans.push(Span::raw(format!(
                "{} ",
                crate::ui::header::scope_words(&s.scope, compact, ctx.sym.ellipsis)
            )));
            match (err, s.api.last_latency) {
                (Some(_), _) => spans.push(Span::styled("API DOWN ", t.critical)),
                (None, Some(l)) => {
                    spans.push(Span::styled(format!("API {} ms ", l.as_millis()), t.ok))
                }
                (None, None) => spans.push(Span::styled("API ok ", t.ok)),
            }
            if let Some(na) = s.client_cert_not_after {
                let days = na.duration_since(model.wall).as_hours() / 24;
                let style = if days < 7 {
                    t.critical
                } else if days < 30 {
                    t.warning
                } else {
                    t.muted
                };
                spans.push(Span::styled(format!("client cert {days}d "), style));
            }
            let c = pane.counts;
            spans.push(crate::ui::header::segment_break());
            spans.push(Span::styled(" Pods ", t.accent));
            spans.push(Span::styled(
                format!("{} {} ", ctx.sym.level_glyph(Level::Critical), c.critical),
                if c.critical > 0 { t.critical } else { t.muted },
            ));
            spans.push(Span::styled(
                format!("{} {} ", ctx.sym.level_glyph(Level::Warning), c.warning),
                if c.warning > 0 { t.warning } else { t.muted },
            ));
            spans.push(Span::styled(
                format!("{} {} ", ctx.sym.level_glyph(Level::Ok), c.ok),
                t.ok,
            ));
        }
        (None, Some(e)) => {
            spans.push(Span::styled(
                format!("{} ", sanitize(&e.to_string())),
                t.critical,
            ));
        }
        (None, None) => spans.push(Span::styled("connecting ", t.muted)),
    }
    if !compact {
        spans.extend(crate::ui::widgets::freshness_line(ctx, &fresh).spans);
    }
    Some(spans)
}

/// The detail view (Enter) of the selected pod: status, reasons, containers with state and last
/// state (reason, exit code, finished at), probes and limits, claims, recent events.
fn detail_lines(pane: &PodsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no pod data yet")];
    };
    let Some(r) = pane.table.selected_index().and_then(|i| s.rows.get(i)) else {
        return vec![Line::from("no pod selected")];
    };
    let now = s.at.max(model.wall);
    let ago = |ts: jiff::Timestamp| crate::domain::pods::human_duration(now.duration_since(ts));
    let label = |k: &str| Span::styled(format!("{k:<10}"), t.muted);
    let mut lines = vec![
        Line::from(vec![
            danger_span(ctx, danger(r.level)),
            Span::styled(
                format!(" {}/{}", sanitize(&r.namespace), sanitize(&r.name)),
                t.accent,
            ),
        ]),
        Line::from(vec![
            label("status"),
            Span::raw(format!(
                "{}  ready {}  restarts {}  age {}",
                sanitize(&r.status),
                r.ready,
                r.restarts_text(now),
                r.age_text(now)
            )),
        ]),
        Line::from(vec![
            label("node"),
            Span::raw(sanitize(r.node.as_deref().unwrap_or("<none>")).into_owned()),
            Span::styled("  owner ", t.muted),
            Span::raw(
                r.owner
                    .as_ref()
                    .map(|o| format!("{} {}", sanitize(&o.kind), sanitize(&o.name)))
                    .unwrap_or_else(|| "<none>".into()),
            ),
        ]),
    ];
    if !r.claims.is_empty() {
        let claims: Vec<String> = r.claims.iter().map(|c| sanitize(c).into_owned()).collect();
        lines.push(Line::from(vec![
            label("claims"),
            Span::raw(claims.join(", ")),
        ]));
    }
    for reason in &r.reasons {
        lines.push(Line::from(vec![
            danger_span(ctx, danger(reason.level)),
            Span::raw(clip(&format!(" {}", sanitize(&reason.text)), 62)),
        ]));
    }
    for c in &r.containers() {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", sanitize(&c.name)), t.accent),
            Span::styled(
                format!(
                    "({}{}) {}",
                    c.role,
                    if c.ready { ", ready" } else { "" },
                    sanitize(&c.image)
                ),
                t.muted,
            ),
        ]));
        lines.push(Line::from(vec![
            label("  state"),
            Span::raw(clip(&sanitize(&c.state), 62)),
        ]));
        if let Some(l) = &c.last_state {
            let mut text = format!(
                "{} exit {}",
                sanitize(l.reason.as_deref().unwrap_or("terminated")),
                l.exit_code
            );
            if let Some(sig) = l.signal.filter(|s| *s != 0) {
                text.push_str(&format!(" signal {sig}"));
            }
            if let Some(f) = l.finished_at {
                text.push_str(&format!(", finished {} ago", ago(f)));
            }
            lines.push(Line::from(vec![
                label("  last"),
                Span::styled(text, if l.exit_code != 0 { t.warning } else { t.base }),
            ]));
        }
        for p in &c.probes {
            lines.push(Line::from(vec![
                label("  probe"),
                Span::raw(sanitize(p).into_owned()),
            ]));
        }
        if let Some(l) = &c.limits {
            lines.push(Line::from(vec![
                label("  limits"),
                Span::raw(sanitize(l).into_owned()),
            ]));
        }
    }
    if let Some(line) = events_unknown_line(s, ctx) {
        lines.push(line);
    }
    match s.events.get(&r.key()) {
        Some(evs) if !evs.is_empty() => {
            lines.push(Line::from(Span::styled("events", t.muted)));
            for e in evs.iter() {
                let when = e.last_seen.map(ago).unwrap_or_else(|| "?".into());
                let style = if e.type_ == "Warning" {
                    t.warning
                } else {
                    t.muted
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {when:>5} "), t.muted),
                    Span::styled(format!("{} ", sanitize(&e.reason)), style),
                    Span::raw(clip(
                        &format!(
                            "{}{}",
                            if e.count > 1 {
                                format!("(x{}) ", e.count)
                            } else {
                                String::new()
                            },
                            sanitize(&e.message)
                        ),
                        52,
                    )),
                ]));
            }
        }
        _ if s.events_unknown.is_some() => {}
        _ => lines.push(Line::from(Span::styled("no recent events", t.muted))),
    }
    lines
}

/// `events: unknown (forbidden: list events)` when the events cannot be read: an empty list
/// is then never shown as "no recent events". Events already known are listed after it.
fn events_unknown_line(s: &PodsSnapshot, ctx: ViewCtx<'_>) -> Option<Line<'static>> {
    let why = s.events_unknown.as_deref()?;
    Some(Line::from(Span::styled(
        format!("events: unknown ({})", sanitize(why)),
        ctx.theme.warning,
    )))
}

/// At most `max` characters, with an ellipsis when cut (the detail dialog does not grow for
/// wrapped lines).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The log overlay's state lives with the model (the executor fills it); its drawing is here.
pub use crate::app::logs::PodLogsView;

pub fn render_logs(view: &PodLogsView, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let t = ctx.theme;
    let rect = crate::ui::widgets::centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let title = format!(
        " logs {}/{} [{}{}]{} (Esc closes, k/j scroll) ",
        sanitize(&view.pod.namespace),
        sanitize(&view.pod.name),
        sanitize(&view.container),
        if view.previous {
            ", previous instance"
        } else {
            ""
        },
        if view.truncated { " truncated" } else { "" }
    );
    let block = ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(t.border_focused)
        .title(Span::styled(title, t.accent));
    let inner_h = rect.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = match &view.result {
        None => vec![Line::from(Span::styled(
            format!("fetching{}", ctx.sym.ellipsis),
            t.muted,
        ))],
        Some(Err(e)) => vec![Line::from(Span::styled(
            sanitize(e).into_owned(),
            t.warning,
        ))],
        Some(Ok(text)) if text.is_empty() => {
            vec![Line::from(Span::styled("(no log lines)", t.muted))]
        }
        Some(Ok(text)) => {
            let all: Vec<&str> = text.lines().collect();
            let end = all.len().saturating_sub(view.back.min(all.len()));
            let start = end.saturating_sub(inner_h);
            all[start..end]
                .iter()
                .map(|l| Line::from(sanitize(l).into_owned()))
                .collect()
        }
    };
    f.render_widget(ratatui::widgets::Clear, rect);
    f.render_widget(Paragraph::new(lines).style(t.base).block(block), rect);
}
