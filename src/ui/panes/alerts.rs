//! The alerts pane (incident 4, issue 9): one row per rule and level with the count and where
//! (`✖ CRITICAL  Pod OOM-killed  x150 in 12 namespaces  OOMKilled 2m ago  oldest 3h`); Enter
//! expands a group to its members and folds it again; a group of one is the alert itself.
//! Columns: level, title, subject, value (in its unit), since; limit and acknowledgement when
//! there is room. The recent transitions are listed below.
//!
//! The rows are rebuilt only when the alert book changes (its generation moves) or a group is
//! expanded: drawing reads the book's folded groups and renders the visible rows only.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{Pane, PaneKind, Shared, TableOp};
use crate::app::feed::short_age;
use crate::app::model::Model;
use crate::app::table::{RowKey, Sort, TableData, TableState};
use crate::domain::Level;
use crate::rules::{Alert, AlertBook, AlertGroup, AlertKey, AlertPhase, GroupKey, TransitionKind};
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, header_cells, level_span, pane_block};

/// Sort columns (the table's sort cycles through these).
pub const COLUMNS: [&str; 7] = [
    "LEVEL", "TITLE", "SUBJECT", "VALUE", "LIMIT", "SINCE", "ACK",
];

/// One row of the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum PaneRow {
    /// A group of several alerts (index into the book's groups).
    Group { group: usize },
    /// One alert: a group of one (`member: false`) or a member of an expanded group.
    Alert {
        key: AlertKey,
        group: usize,
        member: usize,
        in_group: bool,
    },
}

impl PaneRow {
    fn group(&self) -> usize {
        match self {
            PaneRow::Group { group } | PaneRow::Alert { group, .. } => *group,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AlertsPane {
    pub table: TableState,
    /// Groups the user expanded (Enter).
    pub expanded: BTreeSet<GroupKey>,
    /// Group rows and the members of expanded groups.
    rows: Vec<PaneRow>,
    /// The book generation `rows` were built from.
    built: Option<u64>,
}

impl Pane for AlertsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Alerts
    }

    fn refresh(&mut self, shared: &Shared<'_>) {
        if self.built == Some(shared.alerts.generation()) {
            return;
        }
        self.rebuild(shared.alerts);
    }

    fn with_table(&mut self, shared: &Shared<'_>, op: TableOp<'_>) {
        if self.built != Some(shared.alerts.generation()) {
            self.rebuild(shared.alerts);
        }
        op(
            &mut self.table,
            &AlertRows {
                rows: &self.rows,
                book: shared.alerts,
            },
        );
    }

    fn filter(&self) -> &str {
        &self.table.filter
    }

    fn on_key(&mut self, key: KeyEvent, shared: &Shared<'_>) -> bool {
        if key.code != KeyCode::Enter {
            return false;
        }
        let Some(row) = self.selected_row() else {
            return false;
        };
        let Some(g) = shared.alerts.groups().get(row.group()) else {
            return false;
        };
        if g.len() <= 1 {
            // A single alert: Enter is its detail view.
            return false;
        }
        let gk = g.key.clone();
        if !self.expanded.remove(&gk) {
            self.expanded.insert(gk);
        }
        // Keep the cursor on the group row.
        self.table.selected = Some(RowKey::of(&("group", &g.key)));
        self.rebuild(shared.alerts);
        true
    }

    fn selected_alert(&self, shared: &Shared<'_>) -> Option<AlertKey> {
        match self.selected_row()? {
            PaneRow::Group { group } => shared
                .alerts
                .groups()
                .get(*group)
                .map(|g| AlertKey::for_group(&g.key)),
            PaneRow::Alert { key, .. } => Some(key.clone()),
        }
    }

    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        detail_lines(self, model, ctx)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Default for AlertsPane {
    fn default() -> Self {
        Self::new()
    }
}

impl AlertsPane {
    pub fn new() -> AlertsPane {
        // Column 0 sorts by the book's own ranking (firing first, then level, then age).
        AlertsPane {
            table: TableState::new(
                COLUMNS.len(),
                Sort {
                    column: 0,
                    descending: false,
                },
            ),
            expanded: BTreeSet::new(),
            rows: Vec::new(),
            built: None,
        }
    }

    /// The rows: a row per group (the alert itself for a group of one), followed by its
    /// members when expanded. Expanded groups that are gone are forgotten.
    fn rebuild(&mut self, book: &AlertBook) {
        let groups = book.groups();
        self.expanded
            .retain(|k| groups.iter().any(|g| &g.key == k && g.len() > 1));
        self.rows.clear();
        for (i, g) in groups.iter().enumerate() {
            match g.members.as_slice() {
                [one] => self.rows.push(PaneRow::Alert {
                    key: one.clone(),
                    group: i,
                    member: 0,
                    in_group: false,
                }),
                members => {
                    self.rows.push(PaneRow::Group { group: i });
                    if self.expanded.contains(&g.key) {
                        self.rows
                            .extend(members.iter().enumerate().map(|(n, k)| PaneRow::Alert {
                                key: k.clone(),
                                group: i,
                                member: n,
                                in_group: true,
                            }));
                    }
                }
            }
        }
        self.built = Some(book.generation());
        self.table.rebuild(&AlertRows {
            rows: &self.rows,
            book,
        });
    }

    pub fn rows(&self) -> &[PaneRow] {
        &self.rows
    }

    pub fn selected_row(&self) -> Option<&PaneRow> {
        self.table.selected_index().and_then(|i| self.rows.get(i))
    }
}

/// The pane's rows with the book they point into.
pub struct AlertRows<'a> {
    pub rows: &'a [PaneRow],
    pub book: &'a AlertBook,
}

impl AlertRows<'_> {
    fn group(&self, i: usize) -> Option<&AlertGroup> {
        self.book.groups().get(self.rows[i].group())
    }

    fn alert(&self, i: usize) -> Option<&Alert> {
        match &self.rows[i] {
            PaneRow::Alert { key, .. } => self.book.get(key),
            PaneRow::Group { .. } => self
                .group(i)
                .and_then(|g| g.members.first())
                .and_then(|k| self.book.get(k)),
        }
    }
}

impl TableData for AlertRows<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        match &self.rows[i] {
            PaneRow::Group { .. } => match self.group(i) {
                Some(g) => RowKey::of(&("group", &g.key)),
                None => RowKey(i as u64),
            },
            PaneRow::Alert { key, .. } => RowKey::of(key),
        }
    }

    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        use std::fmt::Write;
        let Some(g) = self.group(i) else {
            return false;
        };
        scratch.clear();
        let _ = write!(
            scratch,
            "{} {} {}",
            g.key.level.label(),
            g.key.rule,
            g.title
        );
        if let Some(a) = self
            .alert(i)
            .filter(|_| !matches!(self.rows[i], PaneRow::Group { .. }))
        {
            let _ = write!(scratch, " {} {}", a.key.subject, a.message);
        }
        if crate::app::table::scratch_contains(scratch, needle) {
            return true;
        }
        // A folded group matches when one of its members does.
        matches!(self.rows[i], PaneRow::Group { .. })
            && g.members.iter().any(|k| {
                scratch.clear();
                scratch.push_str(&k.subject);
                crate::app::table::scratch_contains(scratch, needle)
            })
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        // Members stay under their group: groups compare by the column, then a group row comes
        // before its members, which compare by the column among themselves.
        let (ra, rb) = (&self.rows[a], &self.rows[b]);
        let (ga, gb) = (ra.group(), rb.group());
        if ga != gb {
            let (x, y) = (self.group(a), self.group(b));
            let by = match (x, y, column) {
                (Some(x), Some(y), 1) => x.title.cmp(&y.title),
                (Some(x), Some(y), 2) => x.members.first().cmp(&y.members.first()),
                (Some(x), Some(y), 3) => x.len().cmp(&y.len()),
                (Some(x), Some(y), 5) => x.oldest.cmp(&y.oldest),
                (Some(x), Some(y), 6) => x.acked.cmp(&y.acked),
                _ => Ordering::Equal,
            };
            return by.then(ga.cmp(&gb));
        }
        match (ra, rb) {
            (PaneRow::Group { .. }, PaneRow::Group { .. }) => Ordering::Equal,
            (PaneRow::Group { .. }, _) => Ordering::Less,
            (_, PaneRow::Group { .. }) => Ordering::Greater,
            (PaneRow::Alert { member: ma, .. }, PaneRow::Alert { member: mb, .. }) => {
                let (x, y) = (self.alert(a), self.alert(b));
                let by = match (x, y, column) {
                    (Some(x), Some(y), 2) => x.key.subject.cmp(&y.key.subject),
                    (Some(x), Some(y), 3) => crate::app::table::cmp_f64(x.value, y.value),
                    (Some(x), Some(y), 5) => x.since_wall.cmp(&y.since_wall),
                    (Some(x), Some(y), 6) => x.ack.is_some().cmp(&y.ack.is_some()),
                    _ => Ordering::Equal,
                };
                by.then(ma.cmp(mb))
            }
        }
    }
}

/// The active alerts as shown: a rule's quieter level folded into its louder level when that
/// one is firing for the same subject. Folded by the book once per change; this only reads it.
pub fn shown_alerts(book: &AlertBook) -> Vec<&Alert> {
    book.shown().collect()
}

/// "pending 3m/15m".
pub fn pending_text(a: &Alert, now: Instant) -> Option<String> {
    a.pending_progress(now)
        .map(|(elapsed, needed)| format!("pending {}/{}", short_age(elapsed), short_age(needed)))
}

/// The level cell: the level word always; a pending alert (or a group with nothing firing)
/// has the pending glyph and style, its SINCE says how far along it is.
fn level_cell(ctx: ViewCtx<'_>, level: Level, firing: bool) -> Span<'static> {
    if firing {
        level_span(ctx, level)
    } else {
        Span::styled(
            format!("{} {}", ctx.sym.pending, level.label()),
            ctx.theme.pending,
        )
    }
}

/// `s` cut to `width` characters with the ellipsis in the middle (both ends stay readable).
pub fn cut_middle(s: &str, width: usize, ellipsis: &str) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let room = width.saturating_sub(ellipsis.chars().count());
    let tail = room / 2;
    let head = room - tail;
    let mut out: String = s.chars().take(head).collect();
    out.push_str(ellipsis);
    out.extend(s.chars().skip(n - tail));
    out
}

/// A subject cut to `width`: a trailing owner (`listen 0.0.0.0:8080 (java, pid 4242)`) goes
/// first, marked by the ellipsis; else the middle is cut.
pub fn fit_subject(s: &str, width: usize, ellipsis: &str) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if let Some((head, _)) = s.split_once(" (") {
        let n = head.chars().count() + ellipsis.chars().count();
        if n <= width {
            return format!("{head}{ellipsis}");
        }
    }
    cut_middle(s, width, ellipsis)
}

/// `x150 in 12 namespaces`, or shorter (`x150 in 12 ns`, `x150`) to fit `width`.
fn where_fitting(g: &AlertGroup, width: usize) -> String {
    let full = g.where_text();
    if full.chars().count() <= width {
        return full;
    }
    let n = crate::rules::display::group(g.len() as u64);
    let short = format!("x{n} in {} ns", g.namespaces);
    if g.namespaces > 0 && short.chars().count() <= width {
        short
    } else {
        format!("x{n}")
    }
}

/// The cells of one row, as text: level (with its style), title, subject, value, limit,
/// since, ack.
struct Cells {
    level: Span<'static>,
    title: String,
    subject: String,
    value: String,
    limit: String,
    since: String,
    ack: String,
    muted: bool,
}

/// `3m ago` when firing; `pending 3m/15m` while pending, `3m/15m` when `compact` (the level
/// cell has the pending glyph).
fn since_text(a: &Alert, model: &Model, compact: bool) -> String {
    match a.phase {
        AlertPhase::Pending { .. } if compact => a
            .pending_progress(model.now)
            .map(|(done, needed)| format!("{}/{}", short_age(done), short_age(needed)))
            .unwrap_or_default(),
        AlertPhase::Pending { .. } => pending_text(a, model.now).unwrap_or_default(),
        AlertPhase::Firing { since } => format!(
            "{} ago",
            short_age(model.now.saturating_duration_since(since))
        ),
    }
}

fn cells(
    rows: &AlertRows<'_>,
    i: usize,
    model: &Model,
    ctx: ViewCtx<'_>,
    subject_w: usize,
    compact: bool,
) -> Option<Cells> {
    let g = rows.group(i)?;
    let first = rows.alert(i)?;
    let now = model.wall;
    Some(match &rows.rows[i] {
        PaneRow::Group { .. } => {
            let open = if model_expanded(rows, i, model) {
                "▾ "
            } else {
                "▸ "
            };
            let open = if ctx.sym.ascii {
                if open == "▾ " { "- " } else { "+ " }
            } else {
                open
            };
            Cells {
                level: level_cell(ctx, g.key.level, g.is_firing()),
                title: format!("{open}{}", g.title),
                subject: where_fitting(g, subject_w),
                value: first.value_text(now),
                limit: first.limit_text(),
                since: format!(
                    "oldest {}",
                    short_age(now.duration_since(g.oldest).unsigned_abs())
                ),
                ack: if g.acked == g.len() {
                    ctx.sym.acked.to_string()
                } else if g.acked > 0 {
                    format!("{}/{}", g.acked, g.len())
                } else {
                    String::new()
                },
                muted: g.acked == g.len(),
            }
        }
        PaneRow::Alert { in_group, .. } => Cells {
            level: level_cell(ctx, first.key.level, first.is_firing()),
            title: if *in_group {
                "  ".to_string()
            } else {
                first.title.to_string()
            },
            subject: fit_subject(&sanitize(&first.key.subject), subject_w, ctx.sym.ellipsis),
            value: first.value_text(now),
            limit: first.limit_text(),
            since: since_text(first, model, compact),
            ack: first
                .ack
                .as_ref()
                .map(|k| format!("{} {}", ctx.sym.acked, sanitize(&k.note)))
                .unwrap_or_default(),
            muted: first.ack.is_some(),
        },
    })
}

fn model_expanded(rows: &AlertRows<'_>, i: usize, model: &Model) -> bool {
    // The row after a group row is one of its members exactly when it is expanded.
    let _ = model;
    matches!(rows.rows.get(i + 1), Some(PaneRow::Alert { in_group: true, group, .. }) if *group == rows.rows[i].group())
}

/// Column widths for `width` cells: level, title, value and since whole (at their widest
/// visible value), the subject takes the rest (cut in the middle); limit and ack only when
/// the subject still gets a fair width.
fn layout(width: usize, content: [usize; 7]) -> ([usize; 7], [bool; 7]) {
    const SUBJECT_MIN: usize = 12;
    const SUBJECT_FAIR: usize = 28;
    let mut w = content;
    w[2] = 0;
    let mut show = [true, true, true, true, false, true, false];
    let used = |w: &[usize; 7], show: &[bool; 7]| -> usize {
        let cols = show.iter().filter(|s| **s).count();
        w.iter()
            .zip(show)
            .filter(|(_, s)| **s)
            .map(|(w, _)| *w)
            .sum::<usize>()
            + cols.saturating_sub(1)
    };
    // Extras when the subject keeps a fair width with them.
    for extra in [4usize, 6] {
        if content[extra] == 0 {
            continue;
        }
        let mut with = show;
        with[extra] = true;
        if width.saturating_sub(used(&w, &with)) >= SUBJECT_FAIR.min(content[2]).max(SUBJECT_MIN) {
            show = with;
        }
    }
    // Level, title, value and since stay whole while the subject keeps a readable width;
    // when it would not, the value and then the title give up cells (cut at the end with an
    // ellipsis, never below VALUE_MIN / TITLE_MIN): which pod matters more than the tail of
    // "CrashLoopBackOff for 3h".
    const VALUE_MIN: usize = 16;
    const TITLE_MIN: usize = 20;
    let want = 20.min(content[2]).max(SUBJECT_MIN);
    let short = want.saturating_sub(width.saturating_sub(used(&w, &show)));
    let from_value = short.min(w[3].saturating_sub(VALUE_MIN));
    w[3] -= from_value;
    let from_title = (short - from_value).min(w[1].saturating_sub(TITLE_MIN));
    w[1] -= from_title;
    w[2] = width
        .saturating_sub(used(&w, &show))
        .min(content[2].max(SUBJECT_MIN));
    (w, show)
}

fn render(
    pane: &AlertsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) {
    let book = &model.alerts;
    let rows = AlertRows {
        rows: &pane.rows,
        book,
    };
    let s = book.summary();
    let n = |v: usize| crate::rules::display::group(v as u64);
    let mut extra = format!(
        "{} active, {} {}, {} firing",
        n(s.shown),
        n(s.groups),
        if s.groups == 1 { "group" } else { "groups" },
        n(s.critical + s.warning + s.info)
    );
    if book.hooks_dropped() > 0 {
        extra.push_str(&format!(
            ", {} alert-command runs dropped",
            crate::rules::display::group(book.hooks_dropped())
        ));
    }
    let block = pane_block(ctx, "Alerts", Some(extra), None, None, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let hist_h = if inner.height >= 12 {
        inner.height / 3
    } else {
        0
    };
    let [table_area, hist_area] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(hist_h)]).areas(inner);
    let t = ctx.theme;
    let state = &pane.table;
    let (off, visible) = state.visible(table_area.height.saturating_sub(1) as usize);

    // Widths from the visible rows only (their widest cell), subject measured uncut; when the
    // subject gets too little room, pending progress drops its word (`3m/15m`).
    let measure = |compact: bool| {
        let mut content = [0usize; 7];
        for (n, name) in COLUMNS.iter().enumerate() {
            content[n] = name.chars().count() + 1;
        }
        content[4] = 0;
        content[6] = 0;
        for c in visible
            .iter()
            .filter_map(|&i| cells(&rows, i, model, ctx, usize::MAX, compact))
        {
            let lens = [
                c.level.content.chars().count(),
                c.title.chars().count(),
                c.subject.chars().count(),
                c.value.chars().count(),
                c.limit.chars().count(),
                c.since.chars().count(),
                c.ack.chars().count(),
            ];
            for (m, l) in content.iter_mut().zip(lens) {
                *m = (*m).max(l);
            }
        }
        let (widths, show) = layout(table_area.width as usize, content);
        (widths, show, content[2])
    };
    let (mut widths, mut show, want) = measure(false);
    let mut compact = false;
    if widths[2] < want.min(24) {
        (widths, show, _) = measure(true);
        compact = true;
    }
    let subject_w = widths[2];
    let table_rows = visible.iter().enumerate().filter_map(|(n, &i)| {
        let c = cells(&rows, i, model, ctx, subject_w, compact)?;
        let end_cut = |text: String, w: usize| -> Span<'static> {
            let line = crate::ui::table::render::cut_line(
                Line::raw(text),
                u16::try_from(w).unwrap_or(u16::MAX),
                crate::ui::table::column::Cut::End,
                ctx.sym.ellipsis,
            );
            Span::raw(
                line.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>(),
            )
        };
        let mut out = vec![c.level, end_cut(c.title, widths[1]), Span::raw(c.subject)];
        out.push(end_cut(c.value, widths[3]));
        if show[4] {
            out.push(Span::styled(c.limit, t.muted));
        }
        out.push(Span::raw(c.since));
        if show[6] {
            out.push(Span::styled(c.ack, t.muted));
        }
        let row = Row::new(out);
        let row = if c.muted { row.style(t.muted) } else { row };
        Some(if focused && off + n == state.cursor {
            row.style(t.selection)
        } else {
            row
        })
    });
    let names: Vec<&str> = COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, _)| show[*i])
        .map(|(_, n)| *n)
        .collect();
    let constraints: Vec<Constraint> = widths
        .iter()
        .enumerate()
        .filter(|(i, _)| show[*i])
        .map(|(_, w)| Constraint::Length(*w as u16))
        .collect();
    let c = state.sort.column;
    let arrow_col = (0..c).filter(|i| show[*i]).count();
    let arrow_col = if show.get(c).copied().unwrap_or(false) {
        arrow_col
    } else {
        usize::MAX
    };
    let header = Row::new(header_cells(ctx, &names, arrow_col, state.sort.descending));
    f.render_widget(
        Table::new(table_rows, constraints)
            .header(header)
            .column_spacing(1),
        table_area,
    );
    if pane.rows.is_empty() && table_area.height > 1 {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!("{} no active alerts", ctx.sym.level_glyph(Level::Ok)),
                t.ok,
            )),
            Rect {
                y: table_area.y + 1,
                height: 1,
                ..table_area
            },
        );
    }
    if hist_h > 0 {
        let mut lines = vec![Line::from(Span::styled("Recent transitions", t.accent))];
        for tr in book.history().take(hist_h.saturating_sub(1) as usize) {
            let (word, style) = match tr.kind {
                TransitionKind::Pending => ("PENDING ", t.pending),
                TransitionKind::Firing => ("FIRING  ", t.level(tr.alert.key.level)),
                TransitionKind::Cleared => ("CLEARED ", t.ok),
                TransitionKind::Acknowledged => ("ACKED   ", t.muted),
            };
            let time = tr.at_wall.strftime("%H:%M:%S").to_string();
            lines.push(Line::from(vec![
                Span::styled(format!("{time} "), t.muted),
                Span::styled(word, style),
                level_span(ctx, tr.alert.key.level),
                Span::raw(format!(
                    " {} {}: {}",
                    tr.alert.title,
                    sanitize(&tr.alert.key.subject),
                    tr.alert.value_text(tr.at_wall)
                )),
            ]));
        }
        f.render_widget(Paragraph::new(lines), hist_area);
    }
}

fn detail_lines(pane: &AlertsPane, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
    let book = &model.alerts;
    let t = ctx.theme;
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), t.muted),
            Span::raw(v),
        ])
    };
    let Some(row) = pane.selected_row() else {
        return vec![Line::from("no alert selected")];
    };
    let Some(g) = book.groups().get(row.group()) else {
        return vec![Line::from("no alert selected")];
    };
    if let PaneRow::Group { .. } = row {
        let mut out = vec![
            Line::from(vec![
                Span::styled(format!("{:<12}", "level"), t.muted),
                level_cell(ctx, g.key.level, g.is_firing()),
            ]),
            kv("title", g.title.to_string()),
            kv("rule", sanitize(&g.key.rule).into_owned()),
            kv("source", g.key.source.name().to_string()),
            kv(
                "members",
                format!(
                    "{} ({} firing, {} pending, {} acknowledged)",
                    g.len(),
                    g.firing,
                    g.pending,
                    g.acked
                ),
            ),
            kv(
                "oldest",
                g.oldest.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ),
        ];
        if g.namespaces > 0 {
            out.push(kv("namespaces", g.namespaces.to_string()));
        }
        for k in g.members.iter().take(10) {
            out.push(kv("", sanitize(&k.subject).into_owned()));
        }
        if g.len() > 10 {
            out.push(kv("", format!("and {} more (Enter expands)", g.len() - 10)));
        }
        return out;
    }
    let PaneRow::Alert { key, .. } = row else {
        return Vec::new();
    };
    let Some(a) = book.get(key) else {
        return vec![Line::from("that alert has cleared")];
    };
    let limit = a.limit_text();
    let mut out = vec![
        Line::from(vec![
            Span::styled(format!("{:<12}", "level"), t.muted),
            level_cell(ctx, a.key.level, a.is_firing()),
        ]),
        kv("title", a.title.to_string()),
        kv("rule", sanitize(&a.key.rule).into_owned()),
        kv("subject", sanitize(&a.key.subject).into_owned()),
        kv("source", a.key.source.name().to_string()),
        kv(
            "value",
            if limit.is_empty() {
                a.value_text(model.wall)
            } else {
                format!("{} (limit {limit})", a.value_text(model.wall))
            },
        ),
        kv(
            "since",
            a.since_wall.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        ),
        kv("message", sanitize(&a.message).into_owned()),
    ];
    if let Some(p) = pending_text(a, model.now) {
        out.push(kv("progress", p));
    }
    match &a.ack {
        Some(ack) => out.push(kv(
            "acked",
            format!("{} at {}", sanitize(&ack.note), ack.at.strftime("%H:%M:%S")),
        )),
        None => out.push(kv("acked", "no (press a to acknowledge)".into())),
    }
    let _ = Style::default();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_cut_keeps_both_ends() {
        assert_eq!(
            cut_middle("monitoring/grafana-data-old", 12, "…"),
            "monito…a-old"
        );
        assert_eq!(cut_middle("short", 12, "…"), "short");
        assert_eq!(
            fit_subject("listen 0.0.0.0:8080 (java, pid 4242)", 24, "…"),
            "listen 0.0.0.0:8080…"
        );
    }

    #[test]
    fn at_80_columns_the_subject_stays_readable_and_level_and_since_whole() {
        // 78 inner cells: LEVEL 10, TITLE 17, SUBJECT up to 40, VALUE 23, SINCE 9.
        let (w, show) = layout(78, [10, 17, 40, 23, 9, 9, 0]);
        assert_eq!(w[0], 10, "level whole");
        assert_eq!(w[1], 17, "a title that fits stays whole");
        assert_eq!(w[5], 9, "since whole");
        assert!(
            show[2] && w[2] >= 20,
            "the subject keeps a readable width: {w:?}"
        );
        assert!(
            w[3] >= 16 && w[3] < 23,
            "the value gives up cells first: {w:?}"
        );
        assert!(!show[6]);
        let total: usize = w.iter().zip(show).filter(|(_, s)| *s).map(|(w, _)| w).sum();
        assert!(total + 4 <= 78, "{w:?} {show:?}");
        // Long titles and values (the demo's): the title gives up cells only after the value.
        let (w, _) = layout(78, [10, 24, 40, 24, 9, 10, 0]);
        assert_eq!((w[1], w[3]), (20, 16), "{w:?}");
        assert!(w[2] >= 18, "{w:?}");
        // With room, everything stays whole.
        let (w, _) = layout(140, [10, 24, 40, 24, 9, 10, 0]);
        assert_eq!((w[1], w[2], w[3]), (24, 40, 24), "{w:?}");
    }
}
