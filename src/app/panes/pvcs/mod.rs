//! The PVCs pane (incident 5): every claim ranked by danger with what deleting it would mean
//! (AT RISK: its PV and data go with it; UNUSED: a cleanup candidate; IN USE), its used space and
//! the pods that mount it; a second view (`v`, `1`/`2`) of every PersistentVolume with the
//! orphaned ones (Released/Failed) flagged. F9 opens the guarded delete for the selected claim.
//! Narrow panes drop low-priority columns; the selected claim's reasons stay visible below the
//! table. This is the pane's state; the drawing (every string from the cluster goes through
//! `sanitize` there) is `ui::panes::pvcs`.

mod columns;
mod rows;

use std::any::Any;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::feed::{Feed, FeedState, Freshness, KubeApplied};
use crate::app::model::{Overlay, Settings};
use crate::app::msg::Command;
use crate::app::panes::sockets::NoRows;
use crate::app::panes::{Action, Pane, PaneKind, Shared, TableOp};
use crate::app::table::{ColumnId, RowKey, Sort, SortKey, TableData, TableState};
use crate::domain::pvcs::{PvRow, PvcCounts, PvcRow, PvcsSnapshot};
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

pub use columns::*;
pub use rows::*;

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

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// How many columns the view's table has.
    pub fn column_count(self) -> usize {
        match self {
            PvcsView::Claims => ClaimColumn::ALL.len(),
            PvcsView::Volumes => VolumeColumn::ALL.len(),
        }
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
    /// The snapshot's counts (meter and block title), counted once per snapshot, not per frame.
    counts: PvcCounts,
    /// The first claim row whose users are unknown (its reason is the meter's), found once
    /// per snapshot.
    users_unknown_row: Option<usize>,
}

/// The pane, by the name the source list (`sources::registry::with_sources!`) builds it by.
pub type State = PvcsPane;

impl PvcsPane {
    pub fn new(settings: &Settings, started: Instant) -> PvcsPane {
        let t = |v: PvcsView| TableState::new(v.column_count(), v.default_sort());
        PvcsPane {
            feed: Feed::new(settings.refresh, started).with_deadline(settings.request_timeout),
            view: PvcsView::Claims,
            tables: PvcsView::ALL.map(t),
            version: 0,
            counts: PvcCounts::default(),
            users_unknown_row: None,
        }
    }

    /// Counts what the meter and the block title show, once per snapshot.
    fn recount(&mut self) {
        let data = self.feed.data();
        self.counts = data.map(|s| s.counts()).unwrap_or_default();
        self.users_unknown_row =
            data.and_then(|s| s.rows.iter().position(|r| r.users_unknown.is_some()));
    }

    /// Why who mounts the claims is unknown, if it is (the snapshot's
    /// [`users_unknown`](crate::domain::pvcs::PvcsSnapshot::users_unknown), found once per
    /// snapshot).
    pub fn users_unknown(&self) -> Option<&str> {
        let row = self.feed.data()?.rows.get(self.users_unknown_row?)?;
        row.users_unknown.as_deref()
    }

    /// The current snapshot's counts (zero before the first).
    pub fn counts(&self) -> PvcCounts {
        self.counts
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
            self.recount();
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
        self.recount();
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

    fn as_any(&self) -> &dyn Any {
        self
    }
}
