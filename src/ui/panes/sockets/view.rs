//! Drawing the sockets pane: the summary (state counts, sparklines, rates, conntrack), the view
//! tabs, the focused table (only visible rows), the secondary lists on tall panes, the TCP
//! header meter and the detail view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::model::{Danger, Model};
use crate::app::panes::sockets::{
    FdColumn, ListenColumn, PeerColumn, PortColumn, ProcessColumn, SocketRows, SocketsPane,
    SocketsView, StateSample, fd_danger_key, listener_danger_key,
};
use crate::app::table::TableData;
use crate::domain::Level;
use crate::domain::sockets::{SocketSnapshot, TcpState};
use crate::sources::SourceId;
use crate::ui::sanitize;
use crate::ui::table::{self, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, fill_bar, pane_block};

/// Danger of the whole host's CLOSE_WAIT (the two CLOSE_WAIT rules).
fn host_danger(model: &Model, rule_subject: &str) -> Option<Danger> {
    model.danger_of(SourceId::Sockets, rule_subject)
}

pub(super) fn render(
    pane: &SocketsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let freshness = pane.feed.freshness(model.now);
    let snap = pane.feed.data();
    let extra = snap
        .and_then(|s| s.backend)
        .map(|b| format!("[{}]", b.label()));
    let block = pane_block(
        ctx,
        "Sockets",
        extra,
        Some(&freshness),
        pane.feed.error(),
        focused,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(snap) = snap else {
        let msg = match pane.feed.error() {
            Some(e) => format!("no socket data: {}", sanitize(&e.to_string())),
            None => "waiting for the first poll of the sockets source".to_string(),
        };
        f.render_widget(Paragraph::new(msg).style(ctx.theme.muted), inner);
        return;
    };
    let summary_h = 4;
    let secondary_h = if inner.height >= 30 {
        (inner.height / 3).min(12)
    } else {
        0
    };
    let [summary, tabs, table, secondary] = Layout::vertical([
        Constraint::Length(summary_h),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(secondary_h),
    ])
    .areas(inner);
    render_summary(pane, model, snap, ctx, f, summary);
    render_view_tabs(pane, ctx, f, tabs);
    render_table(pane, model, snap, ctx, f, table, focused);
    if secondary_h > 0 {
        render_secondary(pane, model, snap, ctx, f, secondary);
    }
}

fn render_summary(
    pane: &SocketsPane,
    model: &Model,
    s: &SocketSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
) {
    let t = ctx.theme;
    let st = &s.states;
    let other = st.total()
        - st.get(TcpState::Established)
        - st.get(TcpState::CloseWait)
        - st.get(TcpState::TimeWait)
        - st.get(TcpState::Listen);
    let cw_danger = host_danger(model, "close_wait@host");
    let tw_danger = host_danger(model, "time_wait@host");
    let count = |label: &str, n: u64, d: Option<Danger>| -> Vec<Span<'static>> {
        let style = match d {
            Some(Danger { pending: true, .. }) => t.pending,
            Some(Danger { level, .. }) => t.level(level),
            None => t.base,
        };
        let mut v = vec![
            Span::styled(format!("{label} "), t.muted),
            Span::styled(n.to_string(), style),
        ];
        if d.is_some() {
            v.push(Span::raw(" "));
            v.push(danger_span(ctx, d));
        }
        v.push(Span::raw("  "));
        v
    };
    let mut l1 = Vec::new();
    l1.extend(count("ESTAB", st.get(TcpState::Established), None));
    l1.extend(count("CLOSE_WAIT", st.get(TcpState::CloseWait), cw_danger));
    l1.extend(count("TIME_WAIT", st.get(TcpState::TimeWait), tw_danger));
    l1.extend(count("LISTEN", st.get(TcpState::Listen), None));
    l1.extend(count("other", other, None));
    let spark_w = ((area.width as usize).saturating_sub(36) / 3).clamp(4, 60);
    let h = &pane.history.samples;
    let spark = |label: &str, sel: fn(&StateSample) -> u64| -> Vec<Span<'static>> {
        vec![
            Span::styled(format!("{label} "), t.muted),
            Span::styled(ctx.sym.sparkline(h.iter().map(sel), spark_w), t.accent),
            Span::raw(" "),
        ]
    };
    let mut l2 = spark("CW", |x| x.close_wait);
    l2.extend(spark("EST", |x| x.established));
    l2.extend(spark("TW", |x| x.time_wait));
    let rate = |r: Option<f64>| {
        r.map(|r| format!("{r:.1}/s"))
            .unwrap_or_else(|| ctx.sym.dash.to_string())
    };
    let ovf = host_danger(model, "listen_overflows_per_sec@host");
    let mut l3 = vec![
        Span::styled("ListenOverflows ", t.muted),
        Span::styled(
            rate(s.listen.overflows_per_sec),
            ovf.map(|d| t.level(d.level)).unwrap_or(t.base),
        ),
    ];
    if ovf.is_some() {
        l3.push(Span::raw(" "));
        l3.push(danger_span(ctx, ovf));
    }
    l3.extend([
        Span::styled("  ListenDrops ", t.muted),
        Span::raw(rate(s.listen.drops_per_sec)),
    ]);
    let mut l4 = vec![Span::styled("conntrack ", t.muted)];
    match s.conntrack {
        Some(ct) => {
            let d = host_danger(model, "conntrack_pct@host");
            l4.push(Span::styled(
                format!("{:.0}% ({}/{})", ct.pct(), ct.count, ct.max),
                d.map(|d| t.level(d.level)).unwrap_or(t.base),
            ));
            if d.is_some() {
                l4.push(Span::raw(" "));
                l4.push(danger_span(ctx, d));
            }
        }
        None => l4.push(Span::styled(
            match s.conntrack_unknown.as_deref() {
                Some(why) => format!("unknown ({})", sanitize(why)),
                None => "unknown".to_string(),
            },
            // No module, no table to fill: said, quietly. Anything else is worth a look.
            if s.conntrack_unknown.as_deref() == Some("nf_conntrack not loaded") {
                t.muted
            } else {
                t.warning
            },
        )),
    }
    l4.extend([
        Span::styled("  IPv6 ", t.muted),
        Span::raw(if s.ipv6_included { "yes" } else { "no" }),
        Span::styled("  unreadable procs ", t.muted),
        Span::raw(s.unreadable_processes.to_string()),
        Span::styled("  poll ", t.muted),
        Span::raw(format!("{:.1} ms", s.poll_duration.as_secs_f64() * 1000.0)),
    ]);
    let lines = vec![
        Line::from(l1),
        Line::from(l2),
        Line::from(l3),
        Line::from(l4),
    ];
    f.render_widget(Paragraph::new(lines), area);
}

/// `1 CLOSE_WAIT by process  2 by peer ...  filter: x`. When that does not fit (80 columns
/// with a filter), the views not shown collapse to their numbers so the filter stays visible.
fn render_view_tabs(pane: &SocketsPane, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let filter = &pane.table().filter;
    let filter_text = (!filter.is_empty()).then(|| format!("  filter: {}", sanitize(filter)));
    let full: usize = SocketsView::ALL
        .iter()
        .map(|v| v.label().len() + 4)
        .sum::<usize>()
        + filter_text.as_ref().map_or(0, |t| t.chars().count());
    let compact = full > area.width as usize;
    let mut spans = Vec::new();
    for (i, v) in SocketsView::ALL.iter().enumerate() {
        let (text, style) = if *v == pane.view {
            (format!(" {} {} ", i + 1, v.label()), ctx.theme.selection)
        } else if compact {
            (format!(" {} ", i + 1), ctx.theme.muted)
        } else {
            (format!(" {} {} ", i + 1, v.label()), ctx.theme.muted)
        };
        spans.push(Span::styled(text, style));
    }
    if let Some(t) = filter_text {
        spans.push(Span::styled(t, ctx.theme.accent));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn pid_text(p: Option<u32>) -> String {
    p.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
}

fn process_cell(
    p: &crate::domain::sockets::ProcessCount,
    col: ProcessColumn,
    unreadable: u64,
) -> Line<'static> {
    match col {
        ProcessColumn::Pid => Line::raw(pid_text(p.pid)),
        ProcessColumn::Command if p.pid.is_none() => {
            Line::raw(crate::rules::sockets::unknown_owner(unreadable))
        }
        ProcessColumn::Command => Line::raw(sanitize(&p.comm).into_owned()),
        ProcessColumn::CloseWait => Line::raw(p.count.to_string()),
    }
}

fn listen_cell(
    model: &Model,
    ctx: ViewCtx<'_>,
    l: &crate::domain::sockets::Listener,
    col: ListenColumn,
) -> Line<'static> {
    match col {
        ListenColumn::Danger => {
            let d = model.danger_of(SourceId::Sockets, &listener_danger_key(l));
            danger_span(
                ctx,
                d.or(Some(Danger {
                    level: Level::Ok,
                    pending: false,
                })),
            )
            .into()
        }
        ListenColumn::Local => Line::raw(l.local.to_string()),
        ListenColumn::Queued => Line::raw(l.queued.to_string()),
        ListenColumn::Backlog => Line::raw(backlog_text(l)),
        ListenColumn::Fill => Line::raw(fill_text(l)),
        ListenColumn::Pid => Line::raw(pid_text(l.pid)),
        ListenColumn::Command => Line::raw(
            l.comm
                .as_deref()
                .map(|c| sanitize(c).into_owned())
                .unwrap_or_default(),
        ),
    }
}

fn fd_cell(
    model: &Model,
    ctx: ViewCtx<'_>,
    u: &crate::domain::sockets::FdUsage,
    col: FdColumn,
) -> Line<'static> {
    match col {
        FdColumn::Danger => {
            danger_span(ctx, model.danger_of(SourceId::Sockets, &fd_danger_key(u))).into()
        }
        FdColumn::Pid => Line::raw(u.pid.to_string()),
        FdColumn::Command => Line::raw(sanitize(&u.comm).into_owned()),
        FdColumn::OpenFds => Line::raw(u.open.to_string()),
        FdColumn::SoftLimit => Line::raw(
            u.soft_limit
                .map(|l| l.to_string())
                .unwrap_or_else(|| "unlimited".into()),
        ),
        FdColumn::Used => Line::raw(
            u.pct()
                .map(|p| format!("{p:.0}%"))
                .unwrap_or_else(|| ctx.sym.dash.into()),
        ),
    }
}

/// Draws one view's rows (`tv`) with the columns that fit.
fn draw_view(
    model: &Model,
    s: &SocketSnapshot,
    ctx: ViewCtx<'_>,
    view: SocketsView,
    tv: TableView<'_>,
    f: &mut Frame,
    area: Rect,
) {
    match view {
        SocketsView::CloseWaitByProcess => {
            table::render(f, area, ctx, tv, |i, c: ProcessColumn, _| {
                s.close_wait_by_process
                    .get(i)
                    .map(|p| process_cell(p, c, s.unreadable_processes))
            });
        }
        SocketsView::CloseWaitByPeer => {
            table::render(f, area, ctx, tv, |i, c: PeerColumn, _| {
                let p = s.close_wait_by_peer.get(i)?;
                Some(Line::raw(match c {
                    PeerColumn::Peer => p.peer.to_string(),
                    PeerColumn::CloseWait => p.count.to_string(),
                }))
            });
        }
        SocketsView::CloseWaitByPort => {
            table::render(f, area, ctx, tv, |i, c: PortColumn, _| {
                let p = s.close_wait_by_local_port.get(i)?;
                Some(Line::raw(match c {
                    PortColumn::LocalPort => p.port.to_string(),
                    PortColumn::CloseWait => p.count.to_string(),
                }))
            });
        }
        SocketsView::ListenQueues => {
            table::render(f, area, ctx, tv, |i, c: ListenColumn, _| {
                s.listeners.get(i).map(|l| listen_cell(model, ctx, l, c))
            });
        }
        SocketsView::FdUsage => {
            table::render(f, area, ctx, tv, |i, c: FdColumn, _| {
                s.fd_usage.get(i).map(|u| fd_cell(model, ctx, u, c))
            });
        }
    }
}

fn render_table(
    pane: &SocketsPane,
    model: &Model,
    s: &SocketSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let tv = TableView::new(pane.table())
        .focused(focused)
        .empty("none", "no rows match the filter");
    draw_view(model, s, ctx, pane.view, tv, f, area);
}

/// On a tall pane: two more lists under the main table, in the source's own (danger) order,
/// so a wall screen shows listen queues and fd usage without switching views. Half the width:
/// the table component drops what does not fit.
fn render_secondary(
    pane: &SocketsPane,
    model: &Model,
    s: &SocketSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
) {
    let views: Vec<SocketsView> = [
        SocketsView::ListenQueues,
        SocketsView::FdUsage,
        SocketsView::CloseWaitByPeer,
    ]
    .into_iter()
    .filter(|v| *v != pane.view)
    .take(2)
    .collect();
    let cols = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .split(area);
    for (v, col) in views.into_iter().zip(cols.iter()) {
        let [title, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(*col);
        f.render_widget(
            Paragraph::new(Span::styled(v.label(), ctx.theme.accent)),
            title,
        );
        let n = SocketRows {
            view: v,
            snap: s,
            version: None,
        }
        .len()
        .min(body.height.saturating_sub(1) as usize);
        let rows: Vec<usize> = (0..n).collect();
        draw_view(model, s, ctx, v, TableView::plain(&rows), f, body);
    }
}

/// Lines for the detail overlay of the selected row, plus the kernel settings.
pub(super) fn detail_lines(
    pane: &SocketsPane,
    _model: &Model,
    ctx: ViewCtx<'_>,
) -> Vec<Line<'static>> {
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no socket data yet")];
    };
    let t = ctx.theme;
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<22}"), t.muted),
            Span::raw(v),
        ])
    };
    let mut out = Vec::new();
    let state = pane.table();
    let len = SocketRows {
        view: pane.view,
        snap: s,
        version: None,
    }
    .len();
    if let Some(i) = state.selected_index().filter(|i| *i < len) {
        match pane.view {
            SocketsView::CloseWaitByProcess => {
                let p = &s.close_wait_by_process[i];
                out.push(kv(
                    "process",
                    format!(
                        "{} (pid {})",
                        sanitize(&p.comm),
                        p.pid.map(|p| p.to_string()).unwrap_or("?".into())
                    ),
                ));
                out.push(kv("CLOSE_WAIT sockets", p.count.to_string()));
                out.push(Line::from(Span::styled(
                    "  the peer closed; this process never closed its side (check connection pools)",
                    t.muted,
                )));
            }
            SocketsView::CloseWaitByPeer => {
                let p = &s.close_wait_by_peer[i];
                out.push(kv("peer", p.peer.to_string()));
                out.push(kv("CLOSE_WAIT sockets", p.count.to_string()));
            }
            SocketsView::CloseWaitByPort => {
                let p = &s.close_wait_by_local_port[i];
                out.push(kv("local port", p.port.to_string()));
                out.push(kv("CLOSE_WAIT sockets", p.count.to_string()));
            }
            SocketsView::ListenQueues => {
                let l = &s.listeners[i];
                out.push(kv("listener", l.local.to_string()));
                out.push(kv(
                    "accept queue",
                    if l.backlog == 0 {
                        format!(
                            "{}/? (backlog unknown: /proc/net/tcp does not report it)",
                            l.queued
                        )
                    } else {
                        format!(
                            "{}/{} {}",
                            l.queued,
                            l.backlog,
                            fill_bar(ctx.sym, l.fill_pct(), 20)
                        )
                    },
                ));
                out.push(kv(
                    "process",
                    format!(
                        "{} (pid {})",
                        l.comm.as_deref().map(sanitize).unwrap_or_default(),
                        l.pid.map(|p| p.to_string()).unwrap_or("?".into())
                    ),
                ));
            }
            SocketsView::FdUsage => {
                let u = &s.fd_usage[i];
                out.push(kv(
                    "process",
                    format!("{} (pid {})", sanitize(&u.comm), u.pid),
                ));
                out.push(kv(
                    "open fds",
                    format!(
                        "{} of {}",
                        u.open,
                        u.soft_limit
                            .map(|l| l.to_string())
                            .unwrap_or("unlimited".into())
                    ),
                ));
            }
        }
        out.push(Line::from(""));
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
    out.push(kv(
        "net.core.somaxconn",
        opt(s.sysctls.somaxconn.map(|v| v.to_string())),
    ));
    out.push(kv(
        "ip_local_port_range",
        opt(s.sysctls.local_port_range.map(|(a, b)| format!("{a}-{b}"))),
    ));
    out.push(kv(
        "tcp_fin_timeout",
        opt(s.sysctls.tcp_fin_timeout.map(|v| format!("{v}s"))),
    ));
    out.push(kv("backend", opt(s.backend.map(|b| b.label().to_string()))));
    out.push(kv("ListenOverflows total", s.listen.overflows.to_string()));
    out.push(kv("ListenDrops total", s.listen.drops.to_string()));
    out.push(kv(
        "poll took",
        format!("{:.1} ms", s.poll_duration.as_secs_f64() * 1000.0),
    ));
    out
}

/// The header's TCP state bar: ESTAB / CLOSE_WAIT / TIME_WAIT / other, each with its own
/// character so it reads without colour, and the counts.
pub(super) fn tcp_meter(
    pane: &SocketsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    width: usize,
) -> Line<'static> {
    let t = ctx.theme;
    let mut spans = vec![Span::styled("TCP ", t.accent)];
    let Some(s) = pane.feed.data() else {
        spans.push(Span::styled(
            match pane.feed.error() {
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
    // A compact header packs the meter next to others: a short bar.
    let bar_w = if width < usize::from(crate::ui::header::COMPACT_BELOW) {
        10
    } else {
        width.saturating_sub(4 + 2 + labels.len()).clamp(10, 60)
    };
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

/// The backlog column: "?" when unknown (the /proc/net/tcp fallback reports none), never a
/// 0 that would read as an empty queue.
fn backlog_text(l: &crate::domain::sockets::Listener) -> String {
    if l.backlog == 0 {
        "?".into()
    } else {
        l.backlog.to_string()
    }
}

fn fill_text(l: &crate::domain::sockets::Listener) -> String {
    if l.backlog == 0 {
        "?".into()
    } else {
        format!("{:.0}%", l.fill_pct())
    }
}

#[cfg(test)]
mod backlog_tests {
    use super::*;

    #[test]
    fn an_unknown_backlog_reads_as_unknown_not_empty() {
        let mut l = crate::domain::sockets::Listener {
            local: "127.0.0.1:80".parse().expect("addr"),
            queued: 3,
            backlog: 0,
            pid: None,
            comm: None,
        };
        assert_eq!((backlog_text(&l), fill_text(&l)), ("?".into(), "?".into()));
        l.backlog = 4;
        assert_eq!(
            (backlog_text(&l), fill_text(&l)),
            ("4".into(), "75%".into())
        );
    }
}
