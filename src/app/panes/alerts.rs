//! The alerts pane (incident 4, issue 9): one row per rule and level with the count and where
//! (`✖ CRITICAL  Pod OOM-killed  x150 in 12 namespaces  OOMKilled 2m ago  oldest 3h`); Enter
//! expands a group to its members and folds it again; a group of one is the alert itself.
//! Columns: level, title, subject, value (in its unit), since; limit and acknowledgement when
//! there is room. The recent transitions are listed below.
//!
//! The rows are rebuilt only when the alert book changes (its generation moves) or a group is
//! expanded: drawing reads the book's folded groups and renders the visible rows only.
//!
//! This is the pane's state; the drawing is `ui::panes::alerts`.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};

use super::{Pane, PaneKind, Shared, TableOp};
use crate::app::table::{ColumnId, RowKey, Sort, TableData, TableState};
use crate::rules::{Alert, AlertBook, AlertGroup, AlertKey, GroupKey};

/// The alerts table's columns. Inside an 80-column terminal (78 cells) LEVEL, TITLE, SUBJECT,
/// VALUE and SINCE show at their minimum, which holds `✖ CRITICAL`, `CLOSE_WAIT sockets`, 20
/// cells of subject, `OOMKilled 30m ago` and `12m ago`; LIMIT and ACK join when there is
/// room. The subject grows first, then the title, since and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertColumn {
    Level,
    Title,
    Subject,
    Value,
    Limit,
    Since,
    Ack,
}

impl ColumnId for AlertColumn {
    const ALL: &'static [AlertColumn] = &[
        AlertColumn::Level,
        AlertColumn::Title,
        AlertColumn::Subject,
        AlertColumn::Value,
        AlertColumn::Limit,
        AlertColumn::Since,
        AlertColumn::Ack,
    ];
}

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
    pub(crate) fn group(&self) -> usize {
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
    pub(crate) rows: Vec<PaneRow>,
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
                AlertColumn::ALL.len(),
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
    pub(crate) fn group(&self, i: usize) -> Option<&AlertGroup> {
        self.book.groups().get(self.rows[i].group())
    }

    pub(crate) fn alert(&self, i: usize) -> Option<&Alert> {
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
            let by = match (x, y, AlertColumn::at(column)) {
                (Some(x), Some(y), Some(AlertColumn::Title)) => x.title.cmp(&y.title),
                (Some(x), Some(y), Some(AlertColumn::Subject)) => {
                    x.members.first().cmp(&y.members.first())
                }
                (Some(x), Some(y), Some(AlertColumn::Value)) => x.len().cmp(&y.len()),
                (Some(x), Some(y), Some(AlertColumn::Since)) => x.oldest.cmp(&y.oldest),
                (Some(x), Some(y), Some(AlertColumn::Ack)) => x.acked.cmp(&y.acked),
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
                let by = match (x, y, AlertColumn::at(column)) {
                    (Some(x), Some(y), Some(AlertColumn::Subject)) => {
                        x.key.subject.cmp(&y.key.subject)
                    }
                    (Some(x), Some(y), Some(AlertColumn::Value)) => {
                        crate::app::table::cmp_f64(x.value, y.value)
                    }
                    (Some(x), Some(y), Some(AlertColumn::Since)) => x.since_wall.cmp(&y.since_wall),
                    (Some(x), Some(y), Some(AlertColumn::Ack)) => {
                        x.ack.is_some().cmp(&y.ack.is_some())
                    }
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
