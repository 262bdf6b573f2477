//! The PVCs pane (incident 5): every claim ranked by danger with what deleting it would mean
//! (AT RISK: its PV and data go with it; UNUSED: a cleanup candidate; IN USE), its used space and
//! the pods that mount it; a second view (`v`, `1`/`2`) of every PersistentVolume with the
//! orphaned ones (Released/Failed) flagged. F9 opens the guarded delete for the selected claim.
//! Narrow panes drop low-priority columns; the selected claim's reasons stay visible below the
//! table. Every string from the cluster goes through `sanitize` here.

use std::any::Any;
use std::cmp::Ordering;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

use crate::app::feed::{Feed, FeedState, Freshness, KubeApplied};
use crate::app::model::{Danger, Model, Overlay, Settings};
use crate::app::msg::Command;
use crate::app::table::{RowKey, Sort, TableData, TableState, scratch_contains};
use crate::domain::Level;
use crate::domain::pvcs::{
    Marker, PvRow, PvcRow, PvcRule, PvcsSnapshot, StorageClassInfo, UsageStatus, UsedSpace,
    human_bytes,
};
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};
use crate::ui::panes::sockets::NoRows;
use crate::ui::panes::{Action, Pane, PaneKind, Shared, TableOp};
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, danger_span, freshness_line, header_cells, pane_block};

/// The two views: claims (the default) and PersistentVolumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvcsView {
    Claims,
    Volumes,
}

impl PvcsView {
    pub const ALL: [PvcsView; 2] = [PvcsView::Claims, PvcsView::Volumes];

    pub fn label(self) -> &'static str {
        match self {
            PvcsView::Claims => "PVCs",
            PvcsView::Volumes => "PVs",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    pub fn columns(self) -> &'static [Col] {
        match self {
            PvcsView::Claims => PVC_COLUMNS,
            PvcsView::Volumes => PV_COLUMNS,
        }
    }

    fn default_sort(self) -> Sort {
        match self {
            // DANGER: the source's own order (loudest first, then the most recent trouble).
            PvcsView::Claims => Sort {
                column: 0,
                descending: false,
            },
            // DANGER: loudest first, then by name.
            PvcsView::Volumes => Sort {
                column: PV_DANGER,
                descending: false,
            },
        }
    }
}

/// How a column takes space beyond its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grow {
    /// Always its minimum.
    No,
    /// Up to the widest visible value, at most this many cells, when there is room.
    Fit(u16),
    /// Whatever is left (the REASONS column).
    Rest,
}

/// One column: its header, its minimum width, how it grows, and how much it matters when the
/// pane is narrow (`keep` 0 is dropped last).
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub min: u16,
    pub grow: Grow,
    pub keep: u8,
}

const fn col(name: &'static str, min: u16, grow: Grow, keep: u8) -> Col {
    Col {
        name,
        min,
        grow,
        keep,
    }
}

/// The PVC view. At 80 columns DANGER, NAMESPACE, NAME, STATUS, MARKERS and USED stay; the
/// selected claim's reasons show below the table.
pub const PVC_COLUMNS: &[Col] = &[
    col("DANGER", 10, Grow::No, 0),
    col("NAMESPACE", 10, Grow::Fit(20), 2),
    col("NAME", 16, Grow::Fit(48), 1),
    col("STATUS", 11, Grow::No, 3),
    col("CAPACITY", 8, Grow::No, 7),
    col("USED", 9, Grow::No, 5),
    col("STORAGECLASS", 12, Grow::No, 11),
    col("VOLUME", 16, Grow::Fit(40), 12),
    col("RECLAIM", 7, Grow::No, 8),
    col("ACCESS", 6, Grow::No, 13),
    col("USED BY", 20, Grow::Fit(48), 10),
    col("AGE", 5, Grow::No, 9),
    col("MARKERS", 14, Grow::No, 4),
    col("REASONS", 20, Grow::Rest, 6),
];

/// The PV view.
pub const PV_COLUMNS: &[Col] = &[
    col("NAME", 16, Grow::Fit(48), 0),
    col("PHASE", 11, Grow::No, 1),
    col("RECLAIM", 7, Grow::No, 4),
    col("CLAIM", 20, Grow::Fit(48), 5),
    col("STORAGECLASS", 12, Grow::No, 9),
    col("CAPACITY", 8, Grow::No, 7),
    col("AGE", 5, Grow::No, 8),
    col("DANGER", 10, Grow::No, 2),
    col("FLAG", 8, Grow::No, 3),
    col("REASONS", 20, Grow::Rest, 6),
];

const PV_DANGER: usize = 7;

/// Which columns fit in `width` cells at their minimum (one space between columns), in their
/// display order.
pub fn fit_columns(cols: &[Col], width: u16) -> Vec<usize> {
    let mut by_keep: Vec<usize> = (0..cols.len()).collect();
    by_keep.sort_by_key(|&i| cols[i].keep);
    let mut used = 0u16;
    let mut shown = Vec::with_capacity(cols.len());
    for i in by_keep {
        let need = cols[i].min + u16::from(!shown.is_empty());
        if used + need <= width {
            used += need;
            shown.push(i);
        }
    }
    shown.sort_unstable();
    shown
}

/// How wide every growing column may get before any grows further (most names fit).
const FAIR_WIDTH: u16 = 32;

/// `line` cut to `width` cells with the ellipsis in the middle, so both ends stay visible:
/// `monitoring/grafana-data-old` and `monitoring/grafana-data` never look alike when cut.
pub fn fit_line<'a>(line: Line<'a>, width: u16, ellipsis: &str) -> Line<'a> {
    let width = width as usize;
    if line.width() <= width || width == 0 {
        return line;
    }
    let chars: Vec<(char, ratatui::style::Style)> = line
        .spans
        .iter()
        .flat_map(|sp| {
            let style = line.style.patch(sp.style);
            sp.content.chars().map(move |c| (c, style))
        })
        .collect();
    let room = width.saturating_sub(ellipsis.chars().count());
    let tail = room / 2;
    let head = room - tail;
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut push = |c: char, st: ratatui::style::Style| match spans.last_mut() {
        Some(last) if last.style == st => last.content.to_mut().push(c),
        _ => spans.push(Span::styled(c.to_string(), st)),
    };
    for &(c, st) in chars.iter().take(head) {
        push(c, st);
    }
    let mid_style = chars.get(head).map(|&(_, st)| st).unwrap_or_default();
    for c in ellipsis.chars() {
        push(c, mid_style);
    }
    for &(c, st) in chars.iter().skip(chars.len().saturating_sub(tail)) {
        push(c, st);
    }
    Line::from(spans)
}

/// The columns shown in `width` cells and their widths: the columns that fit at their
/// minimum, then the room left given to the growing ones (most important first) up to their
/// widest visible value (`content`); the REASONS column takes the rest.
pub fn layout_columns(
    cols: &[Col],
    width: u16,
    content: impl Fn(usize) -> u16,
) -> (Vec<usize>, Vec<Constraint>) {
    let shown = fit_columns(cols, width);
    let used: u16 =
        shown.iter().map(|&c| cols[c].min).sum::<u16>() + (shown.len() as u16).saturating_sub(1);
    let mut left = width.saturating_sub(used);
    let mut widths: Vec<u16> = shown.iter().map(|&c| cols[c].min).collect();
    let mut by_keep: Vec<usize> = (0..shown.len()).collect();
    by_keep.sort_by_key(|&k| cols[shown[k]].keep);
    // Two passes: every growing column first up to FAIR_WIDTH (so a claim's full
    // `namespace/name` fits before a PV's long uid-based name takes the room), then to its max.
    let wants: Vec<u16> = shown.iter().map(|&c| content(c)).collect();
    for cap in [FAIR_WIDTH, u16::MAX] {
        for &k in &by_keep {
            if let Grow::Fit(max) = cols[shown[k]].grow {
                let want = wants[k].clamp(widths[k], max.min(cap).max(widths[k]));
                let extra = (want - widths[k]).min(left);
                widths[k] += extra;
                left -= extra;
            }
        }
    }
    let constraints = shown
        .iter()
        .zip(widths)
        .map(|(&c, w)| match cols[c].grow {
            Grow::Rest => Constraint::Min(w),
            _ => Constraint::Length(w),
        })
        .collect();
    (shown, constraints)
}

/// The PVCs pane: its feed (the PVC source's snapshots), the current view and one table per
/// view.
#[derive(Debug)]
pub struct PvcsPane {
    pub feed: Feed<Box<PvcsSnapshot>>,
    pub view: PvcsView,
    pub tables: [TableState; 2],
}

impl PvcsPane {
    pub fn new(settings: &Settings, started: Instant) -> PvcsPane {
        let t = |v: PvcsView| TableState::new(v.columns().len(), v.default_sort());
        PvcsPane {
            feed: Feed::new(settings.refresh, started),
            view: PvcsView::Claims,
            tables: PvcsView::ALL.map(t),
        }
    }

    pub fn table(&self) -> &TableState {
        &self.tables[self.view.index()]
    }

    /// Before the source's first report there is nothing to call stale: the PVC source always
    /// reports once (data, an error or "not configured").
    pub fn fresh(&self, now: Instant) -> Option<Freshness> {
        match self.feed.state {
            FeedState::Loading { .. } => None,
            _ => Some(self.feed.freshness(now)),
        }
    }

    /// The selected claim (PVC view).
    pub fn selected_claim(&self) -> Option<&PvcRow> {
        let s = self.feed.data()?;
        self.tables[PvcsView::Claims.index()]
            .selected_index()
            .and_then(|i| s.rows.get(i))
    }

    /// The selected PersistentVolume (PV view).
    pub fn selected_volume(&self) -> Option<&PvRow> {
        let s = self.feed.data()?;
        self.tables[PvcsView::Volumes.index()]
            .selected_index()
            .and_then(|i| s.pvs.get(i))
    }

    fn switch_view(&mut self, view: PvcsView) {
        self.view = view;
        self.rebuild();
    }

    /// Rebuilds both tables (they are small; the hidden one stays right for F9 and Enter).
    fn rebuild(&mut self) {
        let [claims, volumes] = &mut self.tables;
        match self.feed.data() {
            Some(s) => {
                claims.rebuild(&ClaimRows { snap: s });
                volumes.rebuild(&VolumeRows { snap: s });
            }
            None => {
                claims.rebuild(&NoRows);
                volumes.rebuild(&NoRows);
            }
        }
    }
}

impl Pane for PvcsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Pvcs
    }

    fn apply(&mut self, u: SourceUpdate, _shared: &Shared<'_>) -> Option<Vec<Condition>> {
        if u.source != SourceId::Pvcs {
            return None;
        }
        match self.feed.apply_kube(u, |p| match p {
            Payload::Pvcs(snap) => Some(snap),
            _ => None,
        }) {
            KubeApplied::Data => self.feed.data().map(|s| crate::rules::pvcs::evaluate(s)),
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
        let table = &mut self.tables[self.view.index()];
        match (self.feed.data(), self.view) {
            (Some(s), PvcsView::Claims) => op(table, &ClaimRows { snap: s }),
            (Some(s), PvcsView::Volumes) => op(table, &VolumeRows { snap: s }),
            (None, _) => op(table, &NoRows),
        }
    }

    fn filter(&self) -> &str {
        &self.table().filter
    }

    /// `v` toggles PVCs / PVs; `1` PVCs, `2` PVs.
    fn on_key(&mut self, key: KeyEvent, _shared: &Shared<'_>) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        let next = match key.code {
            KeyCode::Char('1') => PvcsView::Claims,
            KeyCode::Char('2') => PvcsView::Volumes,
            KeyCode::Char('v') => match self.view {
                PvcsView::Claims => PvcsView::Volumes,
                PvcsView::Volumes => PvcsView::Claims,
            },
            _ => return false,
        };
        self.switch_view(next);
        true
    }

    /// F9 on a claim: the guarded delete dialog and the command that starts the flow. In-use
    /// claims are not refused here: the flow's fresh preflight refuses them and the dialog says
    /// why. `R` on a claim Terminating while a pod uses it: the rescue dialog (it asks before
    /// anything is sent). Nothing on the PV view.
    fn action_request(
        &mut self,
        action: Action,
        shared: &Shared<'_>,
    ) -> Option<(Overlay, Option<Command>)> {
        // `actions_for` already removes these in read-only mode; never open them anyway.
        if self.view != PvcsView::Claims || shared.settings.read_only {
            return None;
        }
        let row = self.selected_claim()?;
        match action {
            Action::DeletePvc => {
                let (overlay, cmd) = crate::ui::dialogs::pvc_delete::open(row);
                Some((overlay, Some(cmd)))
            }
            Action::RescuePvc if row.terminating() && row.in_use() => {
                Some((crate::ui::dialogs::pvc_rescue::open(row), None))
            }
            _ => None,
        }
    }

    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, width: u16) -> Option<Line<'static>> {
        header_meter(self, model, ctx, width)
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        match self.view {
            PvcsView::Claims => claim_detail_lines(self, model, ctx),
            PvcsView::Volumes => volume_detail_lines(self, model, ctx),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A snapshot's claims seen as a table.
pub struct ClaimRows<'a> {
    pub snap: &'a PvcsSnapshot,
}

impl TableData for ClaimRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        let r = &self.snap.rows[i];
        RowKey::of(&(&r.namespace, &r.name))
    }

    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        let r = &self.snap.rows[i];
        let fields = [
            r.namespace.as_str(),
            r.name.as_str(),
            r.status.as_str(),
            r.storage_class.as_deref().unwrap_or(""),
            r.volume.as_deref().unwrap_or(""),
        ];
        fields
            .into_iter()
            .chain(r.markers.iter().map(|m| m.label()))
            .chain(r.users.iter().map(|u| u.pod.as_str()))
            .chain(r.reasons.iter().map(|x| x.text.as_str()))
            .any(|f| contains(scratch, f, needle))
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (&self.snap.rows[a], &self.snap.rows[b]);
        match column {
            1 => x.namespace.cmp(&y.namespace).then(x.name.cmp(&y.name)),
            2 => x.name.cmp(&y.name),
            3 => x.status.cmp(&y.status),
            4 => x.capacity_bytes.cmp(&y.capacity_bytes),
            // Unknown sorts below every known size.
            5 => x.used.used_bytes().cmp(&y.used.used_bytes()),
            6 => x.storage_class.cmp(&y.storage_class),
            7 => x.volume.cmp(&y.volume),
            8 => x.reclaim_policy.cmp(&y.reclaim_policy),
            9 => x.access_modes.cmp(&y.access_modes),
            10 => x.used_by_text().cmp(&y.used_by_text()),
            // Oldest first when ascending, like kubectl --sort-by=.metadata.creationTimestamp.
            11 => x.created.cmp(&y.created),
            12 => x.markers.cmp(&y.markers),
            13 => x.reasons_text().cmp(&y.reasons_text()),
            // DANGER: the source already sorted by level then most recent trouble.
            _ => a.cmp(&b),
        }
    }
}

/// A snapshot's PersistentVolumes seen as a table.
pub struct VolumeRows<'a> {
    pub snap: &'a PvcsSnapshot,
}

impl TableData for VolumeRows<'_> {
    fn len(&self) -> usize {
        self.snap.pvs.len()
    }

    fn key(&self, i: usize) -> RowKey {
        RowKey::of(&self.snap.pvs[i].name)
    }

    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        let p = &self.snap.pvs[i];
        let fields = [
            p.name.as_str(),
            p.phase.as_str(),
            p.claim.as_deref().unwrap_or(""),
            p.storage_class.as_deref().unwrap_or(""),
            p.reclaim_policy.as_deref().unwrap_or(""),
            if p.orphaned { "orphaned" } else { "" },
        ];
        fields
            .into_iter()
            .chain(p.reasons.iter().map(|x| x.text.as_str()))
            .any(|f| contains(scratch, f, needle))
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (&self.snap.pvs[a], &self.snap.pvs[b]);
        match column {
            0 => x.name.cmp(&y.name),
            1 => x.phase.cmp(&y.phase),
            2 => x.reclaim_policy.cmp(&y.reclaim_policy),
            3 => x.claim.cmp(&y.claim),
            4 => x.storage_class.cmp(&y.storage_class),
            5 => x.capacity_bytes.cmp(&y.capacity_bytes),
            6 => x.created.cmp(&y.created),
            8 => y.orphaned.cmp(&x.orphaned).then(x.name.cmp(&y.name)),
            9 => x.reasons_text().cmp(&y.reasons_text()),
            // DANGER: loudest first, then orphaned, then by name.
            _ => y
                .level
                .cmp(&x.level)
                .then(y.orphaned.cmp(&x.orphaned))
                .then(x.name.cmp(&y.name)),
        }
    }
}

/// Case-insensitive `field.contains(needle)` (needle already lower-case) without allocating
/// per field: the table's scratch buffer is reused.
fn contains(scratch: &mut String, field: &str, needle: &str) -> bool {
    scratch.clear();
    scratch.push_str(field);
    scratch_contains(scratch, needle)
}

fn danger(level: Level) -> Option<Danger> {
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

fn markers_line(ctx: ViewCtx<'_>, r: &PvcRow) -> Line<'static> {
    let mut spans = Vec::with_capacity(r.markers.len() * 2);
    for (i, m) in r.markers.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(m.label(), marker_style(ctx, *m)));
    }
    Line::from(spans)
}

fn used_text(u: &UsedSpace) -> String {
    // Unknown is "?", never 0: a claim whose usage could not be read is not empty.
    match u.used_bytes() {
        Some(b) => human_bytes(b),
        None => "?".into(),
    }
}

fn opt(s: Option<&str>) -> String {
    sanitize(s.unwrap_or("-")).into_owned()
}

fn claim_cell(r: &PvcRow, ctx: ViewCtx<'_>, now: jiff::Timestamp, col: usize) -> Line<'static> {
    let t = ctx.theme;
    match col {
        0 => danger_span(ctx, danger(r.level)).into(),
        1 => Line::raw(sanitize(&r.namespace).into_owned()),
        2 => Line::raw(sanitize(&r.name).into_owned()),
        3 => {
            let style = if r.level >= Level::Warning {
                t.level(r.level)
            } else {
                t.base
            };
            Line::styled(sanitize(&r.status).into_owned(), style)
        }
        4 => Line::raw(opt(r.capacity.as_deref())),
        5 => {
            let style = if r.used.used_bytes().is_some() {
                t.base
            } else {
                t.muted
            };
            Line::styled(used_text(&r.used), style)
        }
        6 => Line::styled(opt(r.storage_class.as_deref()), t.muted),
        7 => Line::styled(opt(r.volume.as_deref()), t.muted),
        8 => {
            let style = if r.reclaim_policy.as_deref() == Some("Delete") {
                t.warning
            } else {
                t.base
            };
            Line::styled(opt(r.reclaim_policy.as_deref()), style)
        }
        9 => Line::raw(sanitize(&r.access_modes_text()).into_owned()),
        10 => Line::raw(sanitize(&r.used_by_text()).into_owned()),
        11 => Line::raw(r.age_text(now)),
        12 => markers_line(ctx, r),
        13 => Line::raw(sanitize(&r.reasons_text()).into_owned()),
        _ => Line::default(),
    }
}

fn volume_cell(p: &PvRow, ctx: ViewCtx<'_>, now: jiff::Timestamp, col: usize) -> Line<'static> {
    let t = ctx.theme;
    match col {
        0 => Line::raw(sanitize(&p.name).into_owned()),
        1 => {
            let style = if p.orphaned { t.warning } else { t.base };
            Line::styled(sanitize(&p.phase).into_owned(), style)
        }
        2 => Line::raw(opt(p.reclaim_policy.as_deref())),
        3 => Line::raw(opt(p.claim.as_deref())),
        4 => Line::styled(opt(p.storage_class.as_deref()), t.muted),
        5 => Line::raw(opt(p.capacity.as_deref())),
        6 => Line::raw(p.age_text(now)),
        7 => danger_span(ctx, danger(p.level)).into(),
        8 if p.orphaned => Line::styled("ORPHANED", t.warning),
        8 => Line::default(),
        9 => Line::raw(sanitize(&p.reasons_text()).into_owned()),
        _ => Line::default(),
    }
}

fn render(
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
        let c = s.counts();
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
fn render_view_tabs(
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
    let cols = pane.view.columns();
    if !fit_columns(cols, area.width).contains(&sort.column)
        && let Some(c) = cols.get(sort.column)
    {
        let arrow = if sort.descending {
            ctx.sym.sort_desc
        } else {
            ctx.sym.sort_asc
        };
        spans.push(Span::styled(format!(" sort: {}{arrow} ", c.name), t.accent));
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

/// Draws the visible rows of one view's table with the columns that fit.
#[allow(clippy::too_many_arguments)]
fn render_rows<'a>(
    state: &TableState,
    cols: &[Col],
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
    empty: (&str, &str),
    cell: impl Fn(usize, usize) -> Option<Line<'a>>,
) {
    let body_h = area.height.saturating_sub(1) as usize;
    let (off, visible) = state.visible(body_h);
    let (shown, widths) = layout_columns(cols, area.width, |c| {
        visible
            .iter()
            .filter_map(|&i| cell(i, c))
            .map(|l| l.width() as u16)
            .max()
            .unwrap_or(0)
    });
    // Fixed-width cells are cut with a visible ellipsis, never silently.
    let cut_at: Vec<Option<u16>> = widths
        .iter()
        .map(|w| match w {
            Constraint::Length(w) => Some(*w),
            _ => None,
        })
        .collect();
    let rows = visible.iter().enumerate().filter_map(|(n, &i)| {
        let cells: Option<Vec<Line>> = shown
            .iter()
            .zip(&cut_at)
            .map(|(&c, w)| {
                cell(i, c).map(|l| match w {
                    Some(w) => fit_line(l, *w, ctx.sym.ellipsis),
                    None => l,
                })
            })
            .collect();
        let row = Row::new(cells?);
        Some(if focused && off + n == state.cursor {
            row.style(ctx.theme.selection)
        } else {
            row
        })
    });
    let names: Vec<&str> = shown.iter().map(|&c| cols[c].name).collect();
    let sort_at = shown
        .iter()
        .position(|&c| c == state.sort.column)
        .unwrap_or(usize::MAX);
    let header = Row::new(header_cells(ctx, &names, sort_at, state.sort.descending));
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
    if state.order.is_empty() && area.height > 1 {
        let msg = if state.filter.is_empty() {
            empty.0
        } else {
            empty.1
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

fn render_claims(
    pane: &PvcsPane,
    model: &Model,
    s: &PvcsSnapshot,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let now = s.at.max(model.wall);
    render_rows(
        &pane.tables[PvcsView::Claims.index()],
        PVC_COLUMNS,
        ctx,
        f,
        area,
        focused,
        ("no PVCs", "no PVCs match the filter"),
        |i, c| s.rows.get(i).map(|r| claim_cell(r, ctx, now, c)),
    );
}

fn render_volumes(
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
    render_rows(
        &pane.tables[PvcsView::Volumes.index()],
        PV_COLUMNS,
        ctx,
        f,
        area,
        focused,
        ("no PersistentVolumes", "no PVs match the filter"),
        |i, c| s.pvs.get(i).map(|p| volume_cell(p, ctx, now, c)),
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
fn claim_strip(r: &PvcRow, ctx: ViewCtx<'_>, with_title: bool) -> Vec<Line<'static>> {
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

fn volume_strip(p: &PvRow, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
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

fn orphaned_text(p: &PvRow) -> String {
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
fn header_meter(
    pane: &PvcsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    width: u16,
) -> Option<Line<'static>> {
    let t = ctx.theme;
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
            let c = s.counts();
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
            spans.push(Span::styled(
                format!(" {} unused", c.unused),
                if c.unused > 0 { t.info } else { t.muted },
            ));
            spans.push(Span::raw(", "));
            spans.push(Span::styled(
                format!("{} at risk", c.at_risk),
                if c.at_risk > 0 { t.warning } else { t.muted },
            ));
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
fn wrap_text(text: &str, width: usize) -> Vec<String> {
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

/// Width of the detail dialog's text (76 wide, minus borders).
const DETAIL_W: usize = 74;
const LABEL_W: usize = 11;

/// `label` + `text` wrapped under the label column, in `style`.
fn field(ctx: ViewCtx<'_>, label: &str, text: &str, style: Style) -> Vec<Line<'static>> {
    wrap_text(text, DETAIL_W - LABEL_W)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let l = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{l:<LABEL_W$}"), ctx.theme.muted),
                Span::styled(chunk, style),
            ])
        })
        .collect()
}

fn class_text(sc: Option<&StorageClassInfo>, name: Option<&str>) -> String {
    match (sc, name) {
        (Some(sc), _) => format!(
            "{} ({}, reclaim {}, {})",
            sanitize(&sc.name),
            sanitize(&sc.provisioner),
            sanitize(&sc.reclaim_policy),
            sanitize(sc.volume_binding_mode.as_deref().unwrap_or("Immediate")),
        ),
        (None, Some(n)) => format!("{} (not found)", sanitize(n)),
        (None, None) => "<none>".into(),
    }
}

/// The detail view (Enter) of the selected claim: everything a careful person checks before
/// deleting it.
fn claim_detail_lines(pane: &PvcsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no PVC data yet")];
    };
    let Some(r) = pane.selected_claim() else {
        return vec![Line::from("no PVC selected")];
    };
    let now = s.at.max(model.wall);
    let ago = |ts: jiff::Timestamp| crate::domain::pods::human_duration(now.duration_since(ts));
    let b = t.base;
    let mut lines = vec![Line::from(vec![
        danger_span(ctx, danger(r.level)),
        Span::styled(
            format!(" {}/{}", sanitize(&r.namespace), sanitize(&r.name)),
            t.accent,
        ),
    ])];
    // The AT RISK marker below already says what the reclaim-policy reason says.
    let mut reasons: Vec<_> = r
        .reasons
        .iter()
        .filter(|x| !(x.rule == PvcRule::ReclaimDelete && r.has_marker(Marker::AtRisk)))
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    for reason in reasons {
        let word = format!(
            "{} {}",
            ctx.sym.level_glyph(reason.level),
            reason.level.label()
        );
        let text = format!("{word} {}", sanitize(&reason.text));
        for (i, chunk) in wrap_text(&text, DETAIL_W - 2).into_iter().enumerate() {
            // The first line starts with the level word in its colour; the rest is plain.
            if i == 0 {
                let rest: String = chunk.chars().skip(word.chars().count()).collect();
                lines.push(Line::from(vec![
                    danger_span(ctx, danger(reason.level)),
                    Span::raw(rest),
                ]));
            } else {
                lines.push(Line::raw(format!("  {chunk}")));
            }
        }
    }
    lines.extend(field(ctx, "uid", &opt(r.uid.as_deref()), b));
    let mut status = format!(
        "{} (phase {})",
        sanitize(&r.status),
        opt(r.phase.as_deref())
    );
    if let Some(d) = r.deletion_timestamp {
        status.push_str(&format!(", deleted {} ago", ago(d)));
    }
    status.push_str(&format!(", age {}", r.age_text(now)));
    let status_style = if r.level >= Level::Warning {
        t.level(r.level)
    } else {
        b
    };
    lines.extend(field(ctx, "status", &status, status_style));
    let finalizers = if r.finalizers.is_empty() {
        "<none>".to_string()
    } else {
        r.finalizers
            .iter()
            .map(|f| sanitize(f).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    lines.extend(field(ctx, "finalizers", &finalizers, b));
    let mut capacity = match (r.capacity.as_deref(), r.volume.is_some()) {
        (Some(c), true) => sanitize(c).into_owned(),
        (Some(c), false) => format!("{} requested (not bound yet)", sanitize(c)),
        (None, _) => "<unknown>".into(),
    };
    capacity.push_str(", access ");
    if r.access_modes.is_empty() {
        capacity.push_str("<none>");
    } else {
        capacity.push_str(&sanitize(&r.access_modes_text()));
    }
    lines.extend(field(ctx, "capacity", &capacity, b));
    let (used, used_style) = match &r.used {
        UsedSpace::Known {
            used_bytes,
            capacity_bytes,
            available_bytes,
        } => {
            let mut u = human_bytes(*used_bytes);
            if let Some(c) = capacity_bytes.or(r.capacity_bytes).filter(|c| *c > 0) {
                let pct = *used_bytes as f64 * 100.0 / c as f64;
                u.push_str(&format!(" of {} ({pct:.1}%)", human_bytes(c)));
            }
            if let Some(a) = available_bytes {
                u.push_str(&format!(", {} free", human_bytes(*a)));
            }
            (u, b)
        }
        UsedSpace::Unknown { why } => (format!("unknown: {}", sanitize(why)), t.muted),
    };
    lines.extend(field(ctx, "used", &used, used_style));
    let sc = r
        .storage_class
        .as_deref()
        .and_then(|n| s.storage_classes.iter().find(|c| c.name == n));
    lines.extend(field(
        ctx,
        "class",
        &class_text(sc, r.storage_class.as_deref()),
        b,
    ));
    let volume = match (&r.volume, &r.reclaim_policy) {
        (Some(v), Some(p)) => format!("{}, reclaim {}", sanitize(v), sanitize(p)),
        (Some(v), None) => format!("{}, reclaim unknown", sanitize(v)),
        (None, _) => "<none> (not bound)".into(),
    };
    let volume_style = if r.reclaim_policy.as_deref() == Some("Delete") {
        t.warning
    } else {
        b
    };
    lines.extend(field(ctx, "volume", &volume, volume_style));
    if r.users.is_empty() {
        lines.extend(field(ctx, "mounted by", "no pod", t.muted));
    }
    for (i, u) in r.users.iter().enumerate() {
        let mounts = if u.mounts.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                u.mounts
                    .iter()
                    .map(|m| sanitize(m).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let text = format!(
            "{} on {}{mounts}",
            sanitize(&u.text()),
            opt(u.node.as_deref())
        );
        let label = if i == 0 { "mounted by" } else { "" };
        lines.extend(field(ctx, label, &text, b));
    }
    for (i, (m, text)) in marker_explanations(r).into_iter().enumerate() {
        let label = if i == 0 { "markers" } else { "" };
        lines.extend(field(ctx, label, &text, marker_style(ctx, m)));
    }
    if model.settings.read_only {
        lines.push(Line::styled("F9 and R disabled: read-only mode", t.muted));
    } else if r.terminating() && r.in_use() {
        lines.push(Line::from(vec![
            Span::styled("R", t.key),
            Span::raw(": rescue (PV to Retain, verified backup through the pod)"),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled("F9", t.key),
            Span::raw(": guarded delete (preflight, verified backup, typed name)"),
        ]));
    }
    lines
}

/// The detail view (Enter) of the selected PersistentVolume.
fn volume_detail_lines(pane: &PvcsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no PV data yet")];
    };
    if let Some(e) = &s.pv_error {
        return vec![Line::styled(
            format!("PersistentVolumes not shown: {}", sanitize(&e.to_string())),
            t.warning,
        )];
    }
    let Some(p) = pane.selected_volume() else {
        return vec![Line::from("no PV selected")];
    };
    let now = s.at.max(model.wall);
    let b = t.base;
    let mut lines = vec![Line::from(vec![
        danger_span(ctx, danger(p.level)),
        Span::styled(format!(" {}", sanitize(&p.name)), t.accent),
    ])];
    let phase_style = if p.orphaned { t.warning } else { b };
    lines.extend(field(
        ctx,
        "phase",
        &format!("{}, age {}", sanitize(&p.phase), p.age_text(now)),
        phase_style,
    ));
    lines.extend(field(ctx, "reclaim", &opt(p.reclaim_policy.as_deref()), b));
    lines.extend(field(ctx, "claim", &opt(p.claim.as_deref()), b));
    let sc = p
        .storage_class
        .as_deref()
        .and_then(|n| s.storage_classes.iter().find(|c| c.name == n));
    lines.extend(field(
        ctx,
        "class",
        &class_text(sc, p.storage_class.as_deref()),
        b,
    ));
    lines.extend(field(ctx, "capacity", &opt(p.capacity.as_deref()), b));
    let access = p
        .access_modes
        .iter()
        .map(|m| sanitize(m).into_owned())
        .collect::<Vec<_>>()
        .join(",");
    lines.extend(field(ctx, "access", &access, b));
    if p.orphaned {
        lines.extend(field(ctx, "flag", &orphaned_text(p), t.warning));
    }
    for reason in &p.reasons {
        let text = format!("{} {}", reason.level.label(), sanitize(&reason.text));
        lines.extend(field(ctx, "", &text, t.level(reason.level)));
    }
    lines
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn a_cut_name_keeps_both_ends_and_says_it_was_cut() {
        let cut = |s: &str, w| {
            fit_line(Line::from(s.to_string()), w, "…")
                .spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        let old = cut("monitoring/grafana-data-old", 20);
        let live = cut("monitoring/grafana-data", 20);
        assert_eq!(old, "monitoring…-data-old");
        assert_eq!(live, "monitoring…fana-data");
        assert_eq!((old.chars().count(), live.chars().count()), (20, 20));
        assert_eq!(cut("short", 20), "short");
        assert_eq!(cut("abcdef", 3), "a…f");
    }

    #[test]
    fn growing_columns_share_before_one_takes_everything() {
        let cols = [
            col("NAME", 16, Grow::Fit(48), 0),
            col("CLAIM", 20, Grow::Fit(48), 1),
        ];
        // 40-wide PV names and a 27-wide claim in 70 cells: the claim fits whole.
        let (_, w) = layout_columns(&cols, 70, |c| if c == 0 { 40 } else { 27 });
        assert_eq!(w[1], Constraint::Length(27), "{w:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_panes_keep_the_columns_that_matter() {
        let names = |w| -> Vec<&str> {
            fit_columns(PVC_COLUMNS, w)
                .into_iter()
                .map(|i| PVC_COLUMNS[i].name)
                .collect()
        };
        let at80 = names(78);
        for must in ["DANGER", "NAMESPACE", "NAME", "STATUS", "MARKERS"] {
            assert!(at80.contains(&must), "{must} missing at 80: {at80:?}");
        }
        assert!(!at80.contains(&"VOLUME") && !at80.contains(&"ACCESS"));
        assert_eq!(names(198).len(), PVC_COLUMNS.len());
        // Display order is the column order, not the priority order.
        assert_eq!(at80.first(), Some(&"DANGER"));
    }

    #[test]
    fn wrap_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap_text("a bb ccc", 10), vec!["a bb ccc"]);
        assert_eq!(wrap_text("aaaa bbbb cccc", 10), vec!["aaaa bbbb", "cccc"]);
        assert_eq!(wrap_text(&"x".repeat(25), 10).len(), 3);
        assert_eq!(wrap_text("", 10), vec![""]);
    }
}
