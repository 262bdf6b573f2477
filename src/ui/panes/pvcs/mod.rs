//! The PVCs pane (incident 5): every claim ranked by danger with what deleting it would mean
//! (AT RISK: its PV and data go with it; UNUSED: a cleanup candidate; IN USE), its used space and
//! the pods that mount it; a second view (`v`, `1`/`2`) of every PersistentVolume with the
//! orphaned ones (Released/Failed) flagged. F9 opens the guarded delete for the selected claim.
//! Narrow panes drop low-priority columns; the selected claim's reasons stay visible below the
//! table. Every string from the cluster goes through `sanitize` here.

mod columns;
mod detail;
mod rows;
mod view;

use std::any::Any;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::feed::{Feed, FeedState, Freshness, KubeApplied};
use crate::app::model::{Danger, Model, Overlay, Settings};
use crate::app::msg::Command;
use crate::app::table::{RowKey, Sort, SortKey, TableData, TableState};
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
use crate::ui::table::{self, Column, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, freshness_line, pane_block};

pub use columns::*;
use detail::*;
pub use rows::*;
use view::*;

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

    /// How many columns the view's table has.
    pub fn column_count(self) -> usize {
        match self {
            PvcsView::Claims => ClaimColumn::ALL.len(),
            PvcsView::Volumes => VolumeColumn::ALL.len(),
        }
    }

    /// The name of the view's column `index`.
    pub fn column_name(self, index: usize) -> Option<&'static str> {
        match self {
            PvcsView::Claims => ClaimColumn::at(index).map(|c| c.spec().header),
            PvcsView::Volumes => VolumeColumn::at(index).map(|c| c.spec().header),
        }
    }

    /// Whether column `index` shows in `width` cells.
    pub fn shows(self, index: usize, width: u16) -> bool {
        let specs = match self {
            PvcsView::Claims => ClaimColumn::specs(),
            PvcsView::Volumes => VolumeColumn::specs(),
        };
        table::shown_columns(&specs, width).contains(&index)
    }

    fn default_sort(self) -> Sort {
        match self {
            // DANGER: the source's own order (loudest first, then the most recent trouble).
            PvcsView::Claims => Sort {
                column: ClaimColumn::Danger.index(),
                descending: false,
            },
            // DANGER: loudest first, then by name.
            PvcsView::Volumes => Sort {
                column: VolumeColumn::Danger.index(),
                descending: false,
            },
        }
    }
}

/// The PVCs pane: its feed (the PVC source's snapshots), the current view and one table per
/// view.
#[derive(Debug)]
pub struct PvcsPane {
    pub feed: Feed<Box<PvcsSnapshot>>,
    pub view: PvcsView,
    pub tables: [TableState; 2],
    /// Bumped with every snapshot (and reset): the tables' cached filter and sort keys are
    /// valid while it stays the same.
    version: u64,
}

impl PvcsPane {
    pub fn new(settings: &Settings, started: Instant) -> PvcsPane {
        let t = |v: PvcsView| TableState::new(v.column_count(), v.default_sort());
        PvcsPane {
            feed: Feed::new(settings.refresh, started).with_deadline(settings.request_timeout),
            view: PvcsView::Claims,
            tables: PvcsView::ALL.map(t),
            version: 0,
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
                let version = Some(self.version);
                claims.rebuild(&ClaimRows { snap: s, version });
                volumes.rebuild(&VolumeRows { snap: s, version });
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
        let applied = self.feed.apply_kube(u, Payload::downcast);
        if matches!(applied, KubeApplied::Data | KubeApplied::Reset) {
            self.version += 1;
        }
        match applied {
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
        self.version += 1;
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
        let version = Some(self.version);
        match (self.feed.data(), self.view) {
            (Some(s), PvcsView::Claims) => op(table, &ClaimRows { snap: s, version }),
            (Some(s), PvcsView::Volumes) => op(table, &VolumeRows { snap: s, version }),
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
                let (overlay, cmd) = crate::app::delete::open(row);
                Some((overlay, Some(cmd)))
            }
            Action::RescuePvc if row.terminating() && row.in_use() => {
                Some((crate::app::rescue::open(row), None))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_panes_keep_the_columns_that_matter() {
        let names = |w| -> Vec<&str> {
            table::shown::<ClaimColumn>(w)
                .into_iter()
                .map(|c| c.spec().header)
                .collect()
        };
        let at80 = names(78);
        for must in ["DANGER", "NAMESPACE", "NAME", "STATUS", "MARKERS"] {
            assert!(at80.contains(&must), "{must} missing at 80: {at80:?}");
        }
        assert!(!at80.contains(&"VOLUME") && !at80.contains(&"ACCESS"));
        assert_eq!(names(198).len(), ClaimColumn::ALL.len());
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
