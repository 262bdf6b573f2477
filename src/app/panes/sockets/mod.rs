//! The sockets pane (incidents 2 and 3): counts per TCP state with history sparklines,
//! ListenOverflows/Drops rates, conntrack, the backend in use; and one table at a time of
//! CLOSE_WAIT by process / by peer / by local port, listen queues, and fd usage vs limit.
//! This module owns the pane's state and feed; `rows` the tables. The drawing is
//! `ui::panes::sockets`.

mod columns;
mod rows;

pub use columns::{FdColumn, ListenColumn, PeerColumn, PortColumn, ProcessColumn};
pub use rows::{SocketRows, fd_danger_key, listener_danger_key};

use std::any::Any;
use std::collections::VecDeque;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Pane, PaneKind, Shared, TableOp};
use crate::app::feed::{Feed, Freshness};
use crate::app::model::Settings;
use crate::app::table::{ColumnId, RowKey, Sort, TableData, TableState};
use crate::domain::sockets::{SocketSnapshot, TcpState};
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketsView {
    CloseWaitByProcess,
    CloseWaitByPeer,
    CloseWaitByPort,
    ListenQueues,
    FdUsage,
}

impl SocketsView {
    pub const ALL: [SocketsView; 5] = [
        SocketsView::CloseWaitByProcess,
        SocketsView::CloseWaitByPeer,
        SocketsView::CloseWaitByPort,
        SocketsView::ListenQueues,
        SocketsView::FdUsage,
    ];
    pub fn label(self) -> &'static str {
        match self {
            SocketsView::CloseWaitByProcess => "CLOSE_WAIT by process",
            SocketsView::CloseWaitByPeer => "by peer",
            SocketsView::CloseWaitByPort => "by port",
            SocketsView::ListenQueues => "listen queues",
            SocketsView::FdUsage => "fds",
        }
    }
    /// How many columns the view's table has.
    pub fn column_count(self) -> usize {
        match self {
            SocketsView::CloseWaitByProcess => ProcessColumn::ALL.len(),
            SocketsView::CloseWaitByPeer => PeerColumn::ALL.len(),
            SocketsView::CloseWaitByPort => PortColumn::ALL.len(),
            SocketsView::ListenQueues => ListenColumn::ALL.len(),
            SocketsView::FdUsage => FdColumn::ALL.len(),
        }
    }
    fn default_sort(self) -> Sort {
        match self {
            SocketsView::CloseWaitByProcess => Sort {
                column: ProcessColumn::CloseWait.index(),
                descending: true,
            },
            SocketsView::CloseWaitByPeer => Sort {
                column: PeerColumn::CloseWait.index(),
                descending: true,
            },
            SocketsView::CloseWaitByPort => Sort {
                column: PortColumn::CloseWait.index(),
                descending: true,
            },
            SocketsView::ListenQueues => Sort {
                column: ListenColumn::Fill.index(),
                descending: true,
            },
            SocketsView::FdUsage => Sort {
                column: FdColumn::Used.index(),
                descending: true,
            },
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// One sample of the socket state counts, for the sparklines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateSample {
    pub established: u64,
    pub close_wait: u64,
    pub time_wait: u64,
}

/// Bounded ring buffer of state samples.
#[derive(Debug, Clone)]
pub struct SocketHistory {
    pub samples: VecDeque<StateSample>,
    pub cap: usize,
}

impl SocketHistory {
    pub fn new(cap: usize) -> Self {
        SocketHistory {
            samples: VecDeque::with_capacity(cap.min(4096)),
            cap: cap.max(1),
        }
    }
    pub fn push(&mut self, s: &SocketSnapshot) {
        if self.samples.len() >= self.cap {
            self.samples.pop_front();
        }
        self.samples.push_back(StateSample {
            established: s.states.get(TcpState::Established),
            close_wait: s.states.get(TcpState::CloseWait),
            time_wait: s.states.get(TcpState::TimeWait),
        });
    }
}

#[derive(Debug, Clone)]
pub struct SocketsPane {
    pub feed: Feed<Box<SocketSnapshot>>,
    pub history: SocketHistory,
    pub view: SocketsView,
    pub tables: [TableState; 5],
    /// Bumped with every snapshot: the tables' cached filter keys are valid while it stays
    /// the same.
    version: u64,
}

/// The pane, by the name the source list (`sources::registry::with_sources!`) builds it by.
pub type State = SocketsPane;

impl SocketsPane {
    pub fn new(settings: &Settings, started: Instant) -> SocketsPane {
        let t = |v: SocketsView| TableState::new(v.column_count(), v.default_sort());
        let mut feed = Feed::new(settings.refresh, started);
        if !settings.sockets_enabled {
            let why = SourceError::NotConfigured(
                "disabled in the config (sockets.enabled = false)".into(),
            );
            feed.apply(0, started, jiff::Timestamp::UNIX_EPOCH, Err(why));
        }
        SocketsPane {
            feed,
            history: SocketHistory::new(settings.history_samples),
            view: SocketsView::CloseWaitByProcess,
            tables: SocketsView::ALL.map(t),
            version: 0,
        }
    }
    pub fn table(&self) -> &TableState {
        &self.tables[self.view.index()]
    }
    pub fn table_mut(&mut self) -> &mut TableState {
        &mut self.tables[self.view.index()]
    }
    /// Rows of the current view, if data has arrived.
    pub fn rows(&self) -> Option<SocketRows<'_>> {
        self.feed.data().map(|s| SocketRows {
            view: self.view,
            snap: s,
            version: Some(self.version),
        })
    }

    fn switch_view(&mut self, view: SocketsView) {
        self.view = view;
        self.rebuild();
    }

    /// Rebuilds the visible table only; other views rebuild when switched to.
    fn rebuild(&mut self) {
        let view = self.view;
        let table = &mut self.tables[view.index()];
        let version = Some(self.version);
        match self.feed.data() {
            Some(s) => table.rebuild(&SocketRows {
                view,
                snap: s,
                version,
            }),
            None => table.rebuild(&NoRows),
        }
    }
}

/// The empty table (no data yet).
pub struct NoRows;

impl TableData for NoRows {
    fn len(&self) -> usize {
        0
    }
    fn key(&self, _: usize) -> RowKey {
        RowKey(0)
    }
    fn matches(&self, _: usize, _: &str, _: &mut String) -> bool {
        false
    }
    fn compare(&self, _: usize, _: usize, _: usize) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Pane for SocketsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Sockets
    }

    fn apply(&mut self, u: SourceUpdate, shared: &Shared<'_>) -> Option<Vec<Condition>> {
        if u.source != SourceId::Sockets || u.generation < self.feed.generation {
            return None; // reordered: never replace newer data
        }
        match u.result.map(Payload::downcast::<SocketSnapshot>) {
            Ok(Some(snap)) => {
                let conditions =
                    crate::rules::sockets::evaluate(&snap, &shared.settings.rules.sockets);
                self.history.push(&snap);
                self.feed.apply(u.generation, u.at, u.wall, Ok(snap));
                self.version += 1;
                Some(conditions)
            }
            Err(e) => {
                self.feed.apply(u.generation, u.at, u.wall, Err(e));
                None
            }
            // Another source's payload tagged as sockets: a bug upstream, ignored here.
            Ok(None) => None,
        }
    }

    fn freshness(&self, now: Instant) -> Option<Freshness> {
        Some(self.feed.freshness(now))
    }

    fn last_error(&self) -> Option<&SourceError> {
        self.feed.error()
    }

    fn refresh(&mut self, _shared: &Shared<'_>) {
        self.rebuild();
    }

    fn with_table(&mut self, _shared: &Shared<'_>, op: TableOp<'_>) {
        let view = self.view;
        let table = &mut self.tables[view.index()];
        let version = Some(self.version);
        match self.feed.data() {
            Some(s) => op(
                table,
                &SocketRows {
                    view,
                    snap: s,
                    version,
                },
            ),
            None => op(table, &NoRows),
        }
    }

    fn filter(&self) -> &str {
        &self.table().filter
    }

    fn on_key(&mut self, key: KeyEvent, _shared: &Shared<'_>) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        let n = SocketsView::ALL.len();
        let i = self.view.index();
        let next = match key.code {
            KeyCode::Char(c @ '1'..='5') => (c as usize) - ('1' as usize),
            KeyCode::Char('l') | KeyCode::Right => (i + 1) % n,
            KeyCode::Char('h') | KeyCode::Left => (i + n - 1) % n,
            _ => return false,
        };
        self.switch_view(SocketsView::ALL[next]);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
