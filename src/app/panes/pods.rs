//! The pods pane (incident 7): every pod ranked by danger with kubectl's READY / STATUS /
//! RESTARTS / AGE, the node, and plain reasons ("CrashLoopBackOff for 14m"); on a tall pane, the
//! selected pod's reasons and recent events (probe failures, BackOff, FailedScheduling) below.
//! The drawing (every string from the cluster goes through `sanitize` there) is
//! `ui::panes::pods`.

use std::any::Any;
use std::time::Instant;

use crate::app::feed::{Feed, Freshness, KubeApplied};
use crate::app::logs::PodLogsView;
use crate::app::model::Settings;
use crate::app::panes::sockets::NoRows;
use crate::app::panes::{Pane, PaneKind, Shared, TableOp};
use crate::app::table::{ColumnId, RowKey, Sort, SortKey, TableData, TableState};
use crate::domain::pods::PodsSnapshot;
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// The pods table's columns. In an 80-column terminal DANGER, NAME, READY, STATUS, RESTARTS,
/// AGE and REASONS show whole (a crash-looping pod's `CrashLoopBackOff` too); NAMESPACE from 88
/// cells inside the pane, NODE from 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodColumn {
    Danger,
    Namespace,
    Name,
    Ready,
    Status,
    Restarts,
    Age,
    Node,
    Reasons,
}

impl ColumnId for PodColumn {
    const ALL: &'static [PodColumn] = &[
        PodColumn::Danger,
        PodColumn::Namespace,
        PodColumn::Name,
        PodColumn::Ready,
        PodColumn::Status,
        PodColumn::Restarts,
        PodColumn::Age,
        PodColumn::Node,
        PodColumn::Reasons,
    ];
}

/// The pods pane: its feed (the pods source's snapshots) and its table. The default sort
/// (column 0, DANGER) is the source's own order: loudest first, then the most recent trouble.
#[derive(Debug)]
pub struct PodsPane {
    pub feed: Feed<Box<PodsSnapshot>>,
    pub table: TableState,
    /// Bumped with every snapshot (and reset): the table's cached filter and sort keys are
    /// valid while it stays the same.
    version: u64,
    /// The snapshot's counts per level, counted once per snapshot (the title and the header
    /// meter draw them every frame).
    pub(crate) counts: crate::domain::pods::PodCounts,
}

/// The pane, by the name the source list (`sources::registry::with_sources!`) builds it by.
pub type State = PodsPane;

impl PodsPane {
    pub fn new(settings: &Settings, started: Instant) -> PodsPane {
        PodsPane {
            feed: Feed::new(settings.refresh, started).with_deadline(settings.request_timeout),
            table: TableState::new(
                PodColumn::ALL.len(),
                Sort {
                    column: PodColumn::Danger.index(),
                    descending: false,
                },
            ),
            version: 0,
            counts: Default::default(),
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
            Some(s) => self.table.rebuild(&PodRows::new(s, self.version)),
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
        let applied = self.feed.apply_kube(u, Payload::downcast);
        if matches!(applied, KubeApplied::Data | KubeApplied::Reset) {
            self.version += 1;
            self.counts = self.feed.data().map(|s| s.counts()).unwrap_or_default();
        }
        match applied {
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
        self.version += 1;
        self.counts = Default::default();
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
            Some(s) => op(&mut self.table, &PodRows::new(s, self.version)),
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

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A snapshot's rows seen as a table.
pub struct PodRows<'a> {
    pub snap: &'a PodsSnapshot,
    /// The pane's data version (see [`TableData::version`]).
    pub version: Option<u64>,
}

impl<'a> PodRows<'a> {
    pub fn new(snap: &'a PodsSnapshot, version: u64) -> PodRows<'a> {
        PodRows {
            snap,
            version: Some(version),
        }
    }
}

impl TableData for PodRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        let r = &self.snap.rows[i];
        RowKey::of(&(&r.namespace, &r.name))
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn haystack(&self, i: usize, out: &mut String) -> bool {
        let r = &self.snap.rows[i];
        for field in [
            &*r.namespace,
            &*r.name,
            &*r.status,
            r.node.as_deref().unwrap_or(""),
        ] {
            out.push_str(field);
            out.push('\n');
        }
        for x in &r.reasons {
            out.push_str(&x.text);
            out.push('\n');
        }
        true
    }

    fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
        let r = self.snap.rows.get(i)?;
        let text = |s: &str| SortKey::text(s);
        Some(match PodColumn::at(column)? {
            PodColumn::Namespace => SortKey::tuple([text(&r.namespace), text(&r.name)]),
            PodColumn::Name => text(&r.name),
            PodColumn::Ready => text(&r.ready),
            PodColumn::Status => text(&r.status),
            PodColumn::Restarts => SortKey::num(f64::from(r.restarts)),
            // Oldest first when ascending, like kubectl --sort-by=.metadata.creationTimestamp.
            PodColumn::Age => SortKey::time(r.created),
            PodColumn::Node => SortKey::opt_text(r.node.as_deref()),
            PodColumn::Reasons => text(&r.reasons_text()),
            // DANGER: the source already sorted by level then most recent trouble.
            PodColumn::Danger => SortKey::num(i as f64),
        })
    }
}
