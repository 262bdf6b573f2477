//! The pods pane (incident 7): every pod ranked by danger with kubectl's READY / STATUS /
//! RESTARTS / AGE, the node, and plain reasons ("CrashLoopBackOff for 14m"); on a tall pane, the
//! selected pod's reasons and recent events (probe failures, BackOff, FailedScheduling) below.
//! Every string from the cluster goes through `sanitize` here.

use std::any::Any;
use std::cmp::Ordering;
use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use crate::app::feed::{Feed, Freshness, KubeApplied};
use crate::app::model::{Danger, Model, Settings};
use crate::app::table::{RowKey, Sort, TableData, TableState};
use crate::domain::Level;
use crate::domain::pods::{PodRow, PodsSnapshot};
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};
use crate::ui::panes::sockets::NoRows;
use crate::ui::panes::{Pane, PaneKind, Shared, TableOp};
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, danger_span, header_cells, pane_block};

pub const COLUMNS: &[&str] = &[
    "DANGER",
    "NAMESPACE",
    "NAME",
    "READY",
    "STATUS",
    "RESTARTS",
    "AGE",
    "NODE",
    "REASONS",
];

fn widths() -> Vec<Constraint> {
    use Constraint::{Length, Min};
    vec![
        Length(11),
        Length(14),
        Min(20),
        Length(5),
        Length(18),
        Length(12),
        Length(6),
        Length(10),
        Min(20),
    ]
}

/// The pods pane: its feed (the pods source's snapshots) and its table. The default sort
/// (column 0, DANGER) is the source's own order: loudest first, then the most recent trouble.
#[derive(Debug)]
pub struct PodsPane {
    pub feed: Feed<Box<PodsSnapshot>>,
    pub table: TableState,
}

impl PodsPane {
    pub fn new(settings: &Settings, started: Instant) -> PodsPane {
        PodsPane {
            feed: Feed::new(settings.refresh, started),
            table: TableState::new(
                COLUMNS.len(),
                Sort {
                    column: 0,
                    descending: false,
                },
            ),
        }
    }

    /// Before the source's first report there is nothing to call stale: the pods source always
    /// reports once (data, an error or "not configured").
    pub fn fresh(&self, now: Instant) -> Option<Freshness> {
        match self.feed.state {
            crate::app::feed::FeedState::Loading { .. } => None,
            _ => Some(self.feed.freshness(now)),
        }
    }

    fn rebuild(&mut self) {
        match self.feed.data() {
            Some(s) => self.table.rebuild(&PodRows { snap: s }),
            None => self.table.rebuild(&NoRows),
        }
    }
}

impl Pane for PodsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Pods
    }

    fn apply(&mut self, u: SourceUpdate, _shared: &Shared<'_>) -> Option<Vec<Condition>> {
        if u.source != SourceId::Pods {
            return None;
        }
        match self.feed.apply_kube(u, Payload::downcast) {
            KubeApplied::Data => self
                .feed
                .data()
                .map(|s| crate::rules::pods::evaluate(&s.rows)),
            KubeApplied::Reset => {
                self.rebuild();
                None
            }
            KubeApplied::Error | KubeApplied::Ignored => None,
        }
    }

    fn freshness(&self, now: Instant) -> Option<Freshness> {
        self.fresh(now)
    }

    /// Loading again; updates still in flight from the old target (generations at or below
    /// the floor) are ignored, the new target's first snapshot is accepted.
    fn retargeted(&mut self, now: Instant) {
        self.feed.retarget(now);
        self.rebuild();
    }

    fn last_error(&self) -> Option<&SourceError> {
        self.feed.error()
    }

    fn refresh(&mut self, _shared: &Shared<'_>) {
        self.rebuild();
    }

    fn with_table(&mut self, _shared: &Shared<'_>, op: TableOp<'_>) {
        match self.feed.data() {
            Some(s) => op(&mut self.table, &PodRows { snap: s }),
            None => op(&mut self.table, &NoRows),
        }
    }

    fn filter(&self) -> &str {
        &self.table.filter
    }

    /// `l`: the log tail of the previous instance when the container restarted (a crash loop),
    /// else of the current one; `L`: always the current one.
    fn key_request(
        &mut self,
        key: crossterm::event::KeyEvent,
        _shared: &Shared<'_>,
    ) -> Option<(crate::app::model::Overlay, crate::app::msg::Command)> {
        use crossterm::event::{KeyCode, KeyModifiers};
        let want_previous = match key.code {
            KeyCode::Char('l') if !key.modifiers.contains(KeyModifiers::CONTROL) => true,
            KeyCode::Char('L') => false,
            _ => return None,
        };
        let s = self.feed.data()?;
        let row = self.table.selected_index().and_then(|i| s.rows.get(i))?;
        let pod = row.pod.as_deref()?;
        let (container, previous) = crate::sources::kube::logs::plan(pod, want_previous)?;
        let key = row.key();
        Some((
            crate::app::model::Overlay::PodLogs(Box::new(PodLogsView::loading(
                key.clone(),
                container.clone(),
                previous,
            ))),
            crate::app::msg::Command::FetchPodLogs {
                pod: key,
                container,
                previous,
            },
        ))
    }

    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, _width: u16) -> Option<Line<'static>> {
        header_meters(self, model, ctx).map(Line::from)
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        detail_lines(self, model, ctx)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A snapshot's rows seen as a table.
pub struct PodRows<'a> {
    pub snap: &'a PodsSnapshot,
}

impl TableData for PodRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        let r = &self.snap.rows[i];
        RowKey::of(&(&r.namespace, &r.name))
    }

    fn matches(&self, i: usize, needle: &str, _scratch: &mut String) -> bool {
        let r = &self.snap.rows[i];
        [
            r.namespace.as_str(),
            r.name.as_str(),
            r.status.as_str(),
            r.node.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|s| s.to_lowercase().contains(needle))
            || r.reasons
                .iter()
                .any(|x| x.text.to_lowercase().contains(needle))
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (&self.snap.rows[a], &self.snap.rows[b]);
        match column {
            1 => x.namespace.cmp(&y.namespace).then(x.name.cmp(&y.name)),
            2 => x.name.cmp(&y.name),
            3 => x.ready.cmp(&y.ready),
            4 => x.status.cmp(&y.status),
            5 => x.restarts.cmp(&y.restarts),
            // Oldest first when ascending, like kubectl --sort-by=.metadata.creationTimestamp.
            6 => x.created.cmp(&y.created),
            7 => x.node.cmp(&y.node),
            8 => x.reasons_text().cmp(&y.reasons_text()),
            // DANGER: the source already sorted by level then most recent trouble.
            _ => a.cmp(&b),
        }
    }
}

fn danger(level: Level) -> Option<Danger> {
    Some(Danger {
        level,
        pending: false,
    })
}

fn cells(r: &PodRow, ctx: ViewCtx<'_>, now: jiff::Timestamp) -> Vec<Span<'static>> {
    let t = ctx.theme;
    let status_style = if r.level >= Level::Warning {
        t.level(r.level)
    } else {
        t.base
    };
    vec![
        danger_span(ctx, danger(r.level)),
        Span::raw(sanitize(&r.namespace).into_owned()),
        Span::raw(sanitize(&r.name).into_owned()),
        Span::raw(r.ready.clone()),
        Span::styled(sanitize(&r.status).into_owned(), status_style),
        Span::raw(r.restarts_text(now)),
        Span::raw(r.age_text(now)),
        Span::styled(
            sanitize(r.node.as_deref().unwrap_or("<none>")).into_owned(),
            t.muted,
        ),
        Span::raw(sanitize(&r.reasons_text()).into_owned()),
    ]
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
        let c = s.counts();
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
    let state = &pane.table;
    let body_h = area.height.saturating_sub(1) as usize;
    let (off, visible) = state.visible(body_h);
    let now = s.at.max(model.wall);
    let rows = visible.iter().enumerate().filter_map(|(n, &i)| {
        let r = s.rows.get(i)?;
        let row = Row::new(cells(r, ctx, now));
        Some(if focused && off + n == state.cursor {
            row.style(ctx.theme.selection)
        } else {
            row
        })
    });
    let header = Row::new(header_cells(
        ctx,
        COLUMNS,
        state.sort.column,
        state.sort.descending,
    ));
    f.render_widget(
        Table::new(rows, widths()).header(header).column_spacing(1),
        area,
    );
    if state.order.is_empty() && area.height > 1 {
        let msg = if state.filter.is_empty() {
            "no pods"
        } else {
            "no pods match the filter"
        };
        f.render_widget(
            Paragraph::new(msg).style(ctx.theme.muted),
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
    }
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
    let events = s.events.get(&r.key());
    match events {
        Some(evs) if !evs.is_empty() => {
            for e in evs {
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
/// report, so the header keeps saying "not configured".
fn header_meters(pane: &PodsPane, model: &Model, ctx: ViewCtx<'_>) -> Option<Vec<Span<'static>>> {
    let t = ctx.theme;
    let fresh = pane.fresh(model.now)?;
    let mut spans = vec![Span::styled("Cluster ", t.accent)];
    let snap = pane.feed.data();
    match (snap, pane.feed.error()) {
        (_, Some(crate::sources::SourceError::NotConfigured(_))) => {
            spans.push(Span::styled("not configured  ", t.muted));
            return Some(spans);
        }
        (Some(s), err) => {
            spans.push(Span::raw(format!("{} ", sanitize(&s.context))));
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
            let c = s.counts();
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
    spans.extend(crate::ui::widgets::freshness_line(ctx, &fresh).spans);
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
    match s.events.get(&r.key()) {
        Some(evs) if !evs.is_empty() => {
            lines.push(Line::from(Span::styled("events", t.muted)));
            for e in evs {
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
        _ => lines.push(Line::from(Span::styled("no recent events", t.muted))),
    }
    lines
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

/// The log overlay of one pod container: loading, then the raw text (sanitized when drawn) or
/// the error. Shows the tail that fits; `k`/`j` scroll back and forth. Opened by `l`/`L` on the
/// pods pane ([`PodsPane::key_request`]); the executor fills it through a `LogFetcher`.
#[derive(Debug, Clone)]
pub struct PodLogsView {
    pub pod: crate::domain::pods::PodKey,
    pub container: String,
    pub previous: bool,
    /// `None` while loading.
    pub result: Option<Result<String, String>>,
    pub truncated: bool,
    /// Lines scrolled back from the end.
    pub back: usize,
}

impl PodLogsView {
    pub fn loading(pod: crate::domain::pods::PodKey, container: String, previous: bool) -> Self {
        PodLogsView {
            pod,
            container,
            previous,
            result: None,
            truncated: false,
            back: 0,
        }
    }

    pub fn done(
        pod: crate::domain::pods::PodKey,
        container: String,
        previous: bool,
        result: Result<crate::sources::kube::logs::LogTail, crate::sources::SourceError>,
    ) -> Self {
        let truncated = result.as_ref().is_ok_and(|t| t.truncated);
        PodLogsView {
            result: Some(result.map(|t| t.text).map_err(|e| e.to_string())),
            truncated,
            ..PodLogsView::loading(pod, container, previous)
        }
    }

    pub fn same_request(&self, other: &PodLogsView) -> bool {
        self.pod == other.pod
            && self.container == other.container
            && self.previous == other.previous
    }

    /// Handles a key; `false` closes the overlay.
    pub fn on_key(&mut self, code: crossterm::event::KeyCode) -> bool {
        use crossterm::event::KeyCode;
        match code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => false,
            KeyCode::Char('k') | KeyCode::Up => {
                self.back = self.back.saturating_add(1);
                true
            }
            KeyCode::Char('j') | KeyCode::Down => {
                self.back = self.back.saturating_sub(1);
                true
            }
            KeyCode::PageUp => {
                self.back = self.back.saturating_add(10);
                true
            }
            KeyCode::PageDown => {
                self.back = self.back.saturating_sub(10);
                true
            }
            _ => true,
        }
    }
}

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
        None => vec![Line::from(Span::styled("fetching…", t.muted))],
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
