//! Drawing the pane: cells, the two tables, the strip under them and the header meter.

use std::borrow::Cow;

use super::*;

pub(super) fn danger(level: Level) -> Option<Danger> {
    Some(Danger {
        level,
        pending: false,
    })
}

/// The style a marker word is drawn in: AT RISK as a warning, UNUSED as information, IN USE
/// plain ok. The word is always there; the colour only helps.
pub fn marker_style(ctx: ViewCtx<'_>, m: Marker) -> Style {
    match m {
        Marker::AtRisk => ctx.theme.warning,
        Marker::Unused => ctx.theme.info,
        Marker::InUse => ctx.theme.ok,
    }
}

pub(super) fn markers_line(ctx: ViewCtx<'_>, r: &PvcRow) -> Line<'static> {
    let mut spans = Vec::with_capacity(r.markers.len() * 2);
    for (i, m) in r.markers.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(m.label(), marker_style(ctx, *m)));
    }
    Line::from(spans)
}

pub(super) fn used_text(u: &UsedSpace) -> CompactString {
    // Unknown is "?", never 0: a claim whose usage could not be read is not empty.
    match u.used_bytes() {
        Some(b) => human_bytes(b),
        None => "?".into(),
    }
}

pub(super) fn opt(s: Option<&str>) -> Cow<'_, str> {
    sanitize(s.unwrap_or("-"))
}

/// `s` sanitized: borrowed when it is already clean (no copy per frame).
fn clean_cow(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => sanitize(b),
        Cow::Owned(o) => match sanitize(&o) {
            Cow::Borrowed(_) => Cow::Owned(o),
            Cow::Owned(c) => Cow::Owned(c),
        },
    }
}

/// One cell of claim `r`, borrowing its text when it is already clean (no copy per frame).
pub(super) fn claim_cell<'r>(
    r: &'r PvcRow,
    ctx: ViewCtx<'_>,
    now: jiff::Timestamp,
    col: ClaimColumn,
) -> CellText<'r> {
    let t = ctx.theme;
    match col {
        ClaimColumn::Danger => danger_text(ctx, danger(r.level)),
        ClaimColumn::Namespace => CellText::raw(sanitize(&r.namespace)),
        ClaimColumn::Name => CellText::raw(sanitize(&r.name)),
        ClaimColumn::Status => {
            let style = if r.level >= Level::Warning {
                t.level(r.level)
            } else {
                t.base
            };
            CellText::styled(sanitize(&r.status), style)
        }
        ClaimColumn::Capacity => CellText::raw(opt(r.capacity.as_deref())),
        ClaimColumn::Used => {
            let style = if r.used.used_bytes().is_some() {
                t.base
            } else {
                t.muted
            };
            CellText::styled(used_text(&r.used), style)
        }
        ClaimColumn::StorageClass => CellText::styled(opt(r.storage_class.as_deref()), t.muted),
        ClaimColumn::Volume => CellText::styled(opt(r.volume.as_deref()), t.muted),
        ClaimColumn::Reclaim => {
            let style = if r.reclaim_policy.as_deref() == Some("Delete") {
                t.warning
            } else {
                t.base
            };
            CellText::styled(opt(r.reclaim_policy.as_deref()), style)
        }
        ClaimColumn::Access => match sanitize(&r.access_modes_text()) {
            Cow::Borrowed(b) => CellText::raw(CompactString::from(b)),
            Cow::Owned(o) => CellText::raw(o),
        },
        ClaimColumn::UsedBy => CellText::raw(clean_cow(r.used_by_text())),
        ClaimColumn::Age => CellText::raw(r.age_text(now)),
        ClaimColumn::Markers => markers_line(ctx, r).into(),
        ClaimColumn::Reasons => CellText::raw(clean_cow(r.reasons_text())),
    }
}

pub(super) fn volume_cell<'p>(
    p: &'p PvRow,
    ctx: ViewCtx<'_>,
    now: jiff::Timestamp,
    col: VolumeColumn,
) -> CellText<'p> {
    let t = ctx.theme;
    match col {
        VolumeColumn::Name => CellText::raw(sanitize(&p.name)),
        VolumeColumn::Phase => {
            let style = if p.orphaned { t.warning } else { t.base };
            CellText::styled(sanitize(&p.phase), style)
        }
        VolumeColumn::Reclaim => CellText::raw(opt(p.reclaim_policy.as_deref())),
        VolumeColumn::Claim => CellText::raw(opt(p.claim.as_deref())),
        VolumeColumn::StorageClass => CellText::styled(opt(p.storage_class.as_deref()), t.muted),
        VolumeColumn::Capacity => CellText::raw(opt(p.capacity.as_deref())),
        VolumeColumn::Age => CellText::raw(p.age_text(now)),
        VolumeColumn::Danger => danger_text(ctx, danger(p.level)),
        VolumeColumn::Flag if p.orphaned => CellText::styled("ORPHANED", t.warning),
        VolumeColumn::Flag => CellText::empty(),
        VolumeColumn::Reasons => CellText::raw(clean_cow(p.reasons_text())),
    }
}

pub(super) fn render(
    pane: &PvcsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let freshness = pane.fresh(model.now);
    let snap = pane.feed.data();
    let extra = snap.map(|s| {
        let c = pane.counts();
        format!(
            "[{} / {}] {} critical, {} warning, {} ok",
            sanitize(&s.context),
            sanitize(&s.scope.to_string()),
            c.critical,
            c.warning,
            c.ok
        )
    });
    let block = pane_block(
        ctx,
        "PVCs",
        extra,
        freshness.as_ref(),
        pane.feed.error(),
        focused,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(snap) = snap else {
        let msg = match pane.feed.error() {
            Some(SourceError::NotConfigured(why)) => {
                format!("Kubernetes not configured: {}", sanitize(why))
            }
            Some(e) => format!("no PVC data: {}", sanitize(&e.to_string())),
            None => "waiting for the first list of PVCs".to_string(),
        };
        f.render_widget(
            Paragraph::new(msg)
                .style(ctx.theme.muted)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    // The selected row's reasons below the table: a few lines on a small pane so the
    // critical explanation is readable at 80x24, more on a tall one.
    let detail_h = if inner.height >= 24 {
        (inner.height / 3).min(12)
    } else if inner.height >= 12 {
        4
    } else {
        0
    };
    let [tabs, table, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(detail_h),
    ])
    .areas(inner);
    render_view_tabs(pane, snap, ctx, f, tabs);
    match pane.view {
        PvcsView::Claims => render_claims(pane, model, snap, ctx, f, table, focused),
        PvcsView::Volumes => render_volumes(pane, model, snap, ctx, f, table, focused),
    }
    if detail_h > 0 {
        let lines = match pane.view {
            PvcsView::Claims => pane
                .selected_claim()
                .map(|r| claim_strip(r, ctx, detail_h > 4))
                .unwrap_or_default(),
            PvcsView::Volumes => pane
                .selected_volume()
                .map(|p| volume_strip(p, ctx))
                .unwrap_or_default(),
        };
        f.render_widget(
            Paragraph::new(lines)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .border_set(ctx.sym.border)
                        .border_style(ctx.theme.border),
                )
                .wrap(Wrap { trim: true }),
            detail,
        );
    }
}

/// ` 1 PVCs  2 PVs   filter: x   used space: unknown (why)`.
pub(super) fn render_view_tabs(
    pane: &PvcsPane,
    s: &PvcsSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
) {
    let t = ctx.theme;
    let mut spans = Vec::new();
    for (i, v) in PvcsView::ALL.iter().enumerate() {
        let style = if *v == pane.view {
            t.selection
        } else {
            t.muted
        };
        spans.push(Span::styled(format!(" {} {} ", i + 1, v.label()), style));
        spans.push(Span::raw(" "));
    }
    // A sort column dropped for width still says what the order is.
    let sort = pane.table().sort;
    if !shows(pane.view, sort.column, area.width)
        && let Some(name) = column_name(pane.view, sort.column)
    {
        let arrow = if sort.descending {
            ctx.sym.sort_desc
        } else {
            ctx.sym.sort_asc
        };
        spans.push(Span::styled(format!(" sort: {name}{arrow} "), t.accent));
    }
    let filter = &pane.table().filter;
    if !filter.is_empty() {
        spans.push(Span::styled(
            format!(" filter: {} ", sanitize(filter)),
            t.accent,
        ));
    }
    match (&s.usage, pane.view) {
        (UsageStatus::Unavailable { why }, PvcsView::Claims) => spans.push(Span::styled(
            format!(" used space unknown: {}", sanitize(why)),
            t.warning,
        )),
        (_, PvcsView::Volumes) if s.pv_error.is_none() => {
            let orphaned = s.pvs.iter().filter(|p| p.orphaned).count();
            spans.push(Span::styled(
                format!(" {} PVs, {orphaned} orphaned", s.pvs.len()),
                t.muted,
            ));
        }
        _ => {}
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub(super) fn render_claims(
    pane: &PvcsPane,
    model: &Model,
    s: &PvcsSnapshot,
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
        TableView::new(&pane.tables[PvcsView::Claims.index()])
            .focused(focused)
            .empty("no PVCs", "no PVCs match the filter"),
        |i, c: ClaimColumn, _width| s.rows.get(i).map(|r| claim_cell(r, ctx, now, c)),
    );
}

pub(super) fn render_volumes(
    pane: &PvcsPane,
    model: &Model,
    s: &PvcsSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    if let Some(e) = &s.pv_error {
        f.render_widget(
            Paragraph::new(vec![
                Line::styled(
                    format!("PersistentVolumes not shown: {}", sanitize(&e.to_string())),
                    ctx.theme.warning,
                ),
                Line::styled(
                    "PVs are cluster-scoped: listing them needs `list persistentvolumes` \
                     at cluster scope. Claims are still shown in view 1.",
                    ctx.theme.muted,
                ),
            ])
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let now = s.at.max(model.wall);
    table::render(
        f,
        area,
        ctx,
        TableView::new(&pane.tables[PvcsView::Volumes.index()])
            .focused(focused)
            .empty("no PersistentVolumes", "no PVs match the filter"),
        |i, c: VolumeColumn, _width| s.pvs.get(i).map(|p| volume_cell(p, ctx, now, c)),
    );
}

/// "AT RISK: deleting this claim deletes PV X and its data (reclaim policy Delete); ..." for
/// each marker of the claim.
pub fn marker_explanations(r: &PvcRow) -> Vec<(Marker, String)> {
    r.markers
        .iter()
        .map(|m| {
            let text = match m {
                Marker::AtRisk => format!(
                    "AT RISK: deleting this claim deletes PV {} and its data (reclaim policy {}); \
                     ondeck's guarded delete switches the PV to Retain first",
                    sanitize(r.volume.as_deref().unwrap_or("?")),
                    sanitize(r.reclaim_policy.as_deref().unwrap_or("Delete"))
                ),
                Marker::Unused => {
                    "UNUSED: no running pod mounts it (a cleanup candidate)".to_string()
                }
                Marker::InUse if r.terminating() => {
                    "IN USE while Terminating: press R to rescue it now (PV to Retain, backup \
                     through the pod that still mounts it)"
                        .to_string()
                }
                Marker::InUse => {
                    "IN USE: a pod mounts it; the delete preflight will refuse it".to_string()
                }
            };
            (*m, text)
        })
        .collect()
}

/// The lines under the table for the selected claim: its reasons (the critical one first, as
/// the source ranks them) and what its markers mean.
pub(super) fn claim_strip(r: &PvcRow, ctx: ViewCtx<'_>, with_title: bool) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut lines = Vec::new();
    if with_title {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}/{}", sanitize(&r.namespace), sanitize(&r.name)),
                t.accent,
            ),
            Span::styled(
                format!(
                    "  {}  PV {} (reclaim {})  used by {}",
                    sanitize(&r.status),
                    opt(r.volume.as_deref()),
                    opt(r.reclaim_policy.as_deref()),
                    sanitize(&r.used_by_text())
                ),
                t.muted,
            ),
        ]));
    }
    let mut reasons: Vec<_> = r
        .reasons
        .iter()
        .filter(|x| !(x.rule == PvcRule::ReclaimDelete && r.has_marker(Marker::AtRisk)))
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    for reason in reasons {
        lines.push(Line::from(vec![
            danger_span(ctx, danger(reason.level)),
            Span::raw(format!(" {}", sanitize(&reason.text))),
        ]));
    }
    for (m, text) in marker_explanations(r) {
        lines.push(Line::styled(text, marker_style(ctx, m)));
    }
    if lines.is_empty() {
        lines.push(Line::styled("nothing to report", t.muted));
    }
    lines
}

pub(super) fn volume_strip(p: &PvRow, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut lines = vec![Line::from(vec![
        Span::styled(sanitize(&p.name).into_owned(), t.accent),
        Span::styled(
            format!(
                "  {}  claim {}  reclaim {}",
                sanitize(&p.phase),
                opt(p.claim.as_deref()),
                opt(p.reclaim_policy.as_deref())
            ),
            t.muted,
        ),
    ])];
    for reason in &p.reasons {
        lines.push(Line::from(vec![
            danger_span(ctx, danger(reason.level)),
            Span::raw(format!(" {}", sanitize(&reason.text))),
        ]));
    }
    if p.orphaned {
        lines.push(Line::styled(orphaned_text(p), t.warning));
    }
    lines
}

pub(super) fn orphaned_text(p: &PvRow) -> String {
    format!(
        "ORPHANED: {} and bound to no claim; its storage is still there (reclaim policy {}). \
         Delete it by hand only once nothing needs its data.",
        sanitize(&p.phase),
        opt(p.reclaim_policy.as_deref())
    )
}

/// The header's PVCs meter once the PVC source has reported: critical / warning / ok with
/// words, then unused, at risk and orphaned PVs. `None` before the first report and when
/// Kubernetes is not configured (the cluster meter already says so).
pub(super) fn header_meter(
    pane: &PvcsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    width: u16,
) -> Option<Line<'static>> {
    let t = ctx.theme;
    let compact = width < crate::ui::header::COMPACT_BELOW;
    let fresh = pane.fresh(model.now)?;
    let mut spans = vec![Span::styled("PVCs ", t.accent)];
    // STALE comes first so it shows even when the line is cut at 80 columns.
    let age = freshness_line(ctx, &fresh);
    if fresh.is_stale() {
        spans.extend(age.spans.iter().cloned());
        spans.push(Span::raw(" "));
    }
    match (pane.feed.data(), pane.feed.error()) {
        (_, Some(SourceError::NotConfigured(_))) => return None,
        (Some(s), err) => {
            if err.is_some() {
                // The counts are the last good data; the error itself is in the pane.
                spans.push(Span::styled("source error, last good: ", t.warning));
            }
            let c = pane.counts();
            if compact {
                // Glyph and count per level; only the non-zero risks after them.
                for (lvl, n) in [
                    (Level::Critical, c.critical),
                    (Level::Warning, c.warning),
                    (Level::Ok, c.ok),
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
                if s.pv_error.is_some() {
                    spans.push(Span::styled("at risk unknown ", t.warning));
                } else if c.at_risk > 0 {
                    spans.push(Span::styled(format!("{} at risk ", c.at_risk), t.warning));
                }
                if s.pv_error.is_none() && c.orphaned_pvs > 0 {
                    spans.push(Span::styled(
                        format!("{} orphaned PVs ", c.orphaned_pvs),
                        t.warning,
                    ));
                }
                // UNUSED is a cleanup hint, not danger: the pane and the wide header say it.
                return Some(Line::from(spans));
            }
            let count = |lvl: Level, n: usize| {
                Span::styled(
                    format!("{} {n} {} ", ctx.sym.level_glyph(lvl), lvl.label()),
                    if n > 0 || lvl == Level::Ok {
                        t.level(lvl)
                    } else {
                        t.muted
                    },
                )
            };
            spans.push(count(Level::Critical, c.critical));
            spans.push(count(Level::Warning, c.warning));
            spans.push(count(Level::Ok, c.ok));
            // A count that cannot be known says so; never a reassuring 0.
            if let Some(why) = pane.users_unknown() {
                spans.push(Span::styled(
                    format!(" unused unknown ({})", sanitize(why)),
                    t.warning,
                ));
            } else {
                spans.push(Span::styled(
                    format!(" {} unused", c.unused),
                    if c.unused > 0 { t.info } else { t.muted },
                ));
            }
            spans.push(Span::raw(", "));
            if s.pv_error.is_some() {
                spans.push(Span::styled(
                    "at risk unknown (PVs not readable)",
                    t.warning,
                ));
            } else {
                spans.push(Span::styled(
                    format!("{} at risk", c.at_risk),
                    if c.at_risk > 0 { t.warning } else { t.muted },
                ));
            }
            spans.push(Span::raw(", "));
            if s.pv_error.is_some() {
                spans.push(Span::styled("orphaned PVs unknown", t.muted));
            } else {
                spans.push(Span::styled(
                    format!("{} orphaned PVs", c.orphaned_pvs),
                    if c.orphaned_pvs > 0 {
                        t.warning
                    } else {
                        t.muted
                    },
                ));
            }
            spans.push(Span::raw(" "));
        }
        (None, Some(e)) => spans.push(Span::styled(
            format!("{} ", sanitize(&e.to_string())),
            t.critical,
        )),
        (None, None) => spans.push(Span::styled("connecting ", t.muted)),
    }
    // The age of fresh data only when it fits.
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if !fresh.is_stale() && used + age.width() <= width as usize {
        spans.extend(age.spans);
    }
    Some(Line::from(spans))
}

/// Splits `text` into lines of at most `width` characters at spaces (a long word is cut).
pub(super) fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let (cw, ww) = (cur.chars().count(), word.chars().count());
        if cw > 0 && cw + 1 + ww > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while cur.chars().count() > width {
            let head: String = cur.chars().take(width).collect();
            let tail: String = cur.chars().skip(width).collect();
            out.push(head);
            cur = tail;
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}
