//! The certificates pane (incident 6): one timeline of every certificate, ranked by time left
//! (expired first; an unreadable certificate ranks as a warning): DANGER, LEFT (`-2d`, `5h`, `29d`), NOT
//! AFTER, SOURCE, WHERE, SUBJECT, ISSUER. The selected certificate's reasons show under the
//! table; Enter opens the whole chain with each certificate's validity, SANs, serial, SHA-256,
//! key and signature algorithm, the verification result in words and who depends on it. The
//! header meter reads `Certs ✖ 2 ▲ 3 ✓ 40, next expiry 5h (payments/api-tls)`.
//!
//! This is the pane's state; the drawing is `ui::panes::certs`.

use std::any::Any;
use std::time::Instant;

use crate::app::feed::{Feed, FeedState, Freshness, KubeApplied};
use crate::app::model::Settings;
use crate::app::panes::sockets::NoRows;
use crate::app::panes::{Pane, PaneKind, Shared, TableOp};
use crate::app::table::{ColumnId, RowKey, Sort, SortKey, TableData, TableState};
use crate::domain::certs::{CertRow, CertsSnapshot};
use crate::rules::Condition;
use crate::rules::certs::{Assessment, assess};
use crate::sources::certs::source::MeterCounts;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertColumn {
    Danger,
    Left,
    NotAfter,
    Source,
    Where,
    Subject,
    Issuer,
}

impl ColumnId for CertColumn {
    const ALL: &'static [CertColumn] = &[
        CertColumn::Danger,
        CertColumn::Left,
        CertColumn::NotAfter,
        CertColumn::Source,
        CertColumn::Where,
        CertColumn::Subject,
        CertColumn::Issuer,
    ];
}

/// How often the rows are judged again with nothing new from the source: thresholds are
/// counted in days, so a minute late is on time, and 5,000 certificates judged once a minute
/// cost nothing an idle console would notice (judging them every frame did).
pub const REJUDGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The pane: the certificates source's snapshots, every row's verdict and rank.
#[derive(Debug)]
pub struct CertsPane {
    pub feed: Feed<Box<CertsSnapshot>>,
    pub table: TableState,
    /// Per row (data order): its verdict at the last refresh.
    pub verdicts: Vec<Assessment>,
    /// Per row: its place in the timeline (0 = most urgent).
    pub rank: Vec<usize>,
    /// The meter's counts (header and block title) from the verdicts, and the wall-clock
    /// second they were judged at (the next expiry's countdown is moved on from there).
    counts: (i64, MeterCounts),
    rules: crate::config::CertRules,
    version: u64,
    /// Wall-clock time of the last update (heartbeats included): what rows are judged at.
    wall: jiff::Timestamp,
}

struct Rows<'a> {
    snap: &'a CertsSnapshot,
    verdicts: &'a [Assessment],
    rank: &'a [usize],
    version: u64,
}

impl TableData for Rows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }
    fn key(&self, i: usize) -> RowKey {
        RowKey::of(&self.snap.rows[i].key())
    }
    fn version(&self) -> Option<u64> {
        Some(self.version)
    }
    fn haystack(&self, i: usize, out: &mut String) -> bool {
        let r = &self.snap.rows[i];
        for s in [r.source.as_str(), r.location.as_str()] {
            out.push_str(s);
            out.push('\n');
        }
        if let Some(f) = &r.facts {
            for s in [f.subject.as_str(), f.issuer.as_str()] {
                out.push_str(s);
                out.push('\n');
            }
            for s in &f.sans {
                out.push_str(s);
                out.push('\n');
            }
        }
        if let Some(v) = self.verdicts.get(i) {
            out.push_str(v.word());
            out.push('\n');
        }
        true
    }
    fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
        let r = self.snap.rows.get(i)?;
        let f = r.facts.as_ref();
        let text = SortKey::text;
        Some(match CertColumn::at(column)? {
            CertColumn::Danger => SortKey::num(*self.rank.get(i)? as f64),
            CertColumn::Left => SortKey::opt_num(
                self.verdicts
                    .get(i)
                    .and_then(|v| v.effective_left)
                    .map(|l| l as f64),
            ),
            CertColumn::NotAfter => SortKey::opt_num(r.not_after().map(|t| t.as_second() as f64)),
            CertColumn::Source => text(r.source.as_str()),
            CertColumn::Where => text(&r.location),
            CertColumn::Subject => SortKey::opt_text(f.map(|f| f.subject.as_str())),
            CertColumn::Issuer => SortKey::opt_text(f.map(|f| f.issuer.as_str())),
        })
    }
}

/// The pane, by the name the source list (`sources::registry::with_sources!`) builds it by.
pub type State = CertsPane;

impl CertsPane {
    pub fn new(settings: &Settings, started: Instant) -> CertsPane {
        CertsPane {
            feed: Feed::new(settings.refresh, started),
            table: TableState::new(
                CertColumn::ALL.len(),
                Sort {
                    column: 0,
                    descending: false,
                },
            ),
            verdicts: Vec::new(),
            rank: Vec::new(),
            counts: Default::default(),
            rules: settings.rules.certs.clone(),
            version: 0,
            wall: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    pub(crate) fn fresh(&self, now: Instant) -> Option<Freshness> {
        match self.feed.state {
            FeedState::Loading { .. } => None,
            _ => Some(self.feed.freshness(now)),
        }
    }

    /// Re-judges every row at `now` (time passes: `5h` becomes `4h`) and rebuilds the table.
    pub fn rejudge(&mut self, now: jiff::Timestamp) {
        self.version += 1;
        match self.feed.data() {
            Some(s) => {
                // Each row judged once; the rank, the alerts and the meter reuse the verdicts.
                self.verdicts = s.rows.iter().map(|r| assess(r, &self.rules, now)).collect();
                let judged: Vec<&Assessment> = self.verdicts.iter().collect();
                let order = crate::sources::certs::source::rank_order(&s.rows, &judged);
                self.rank = vec![0; s.rows.len()];
                for (pos, i) in order.into_iter().enumerate() {
                    if let Some(r) = self.rank.get_mut(i) {
                        *r = pos;
                    }
                }
                self.counts = (now.as_second(), MeterCounts::of(&s.rows, &self.verdicts));
            }
            None => {
                self.verdicts.clear();
                self.rank.clear();
                self.counts = (now.as_second(), MeterCounts::default());
            }
        }
        self.rebuild_table();
    }

    /// Rebuilds the table from the verdicts as they are (nothing judged again).
    fn rebuild_table(&mut self) {
        match self.feed.data() {
            Some(s) => self.table.rebuild(&Rows {
                snap: s,
                verdicts: &self.verdicts,
                rank: &self.rank,
                version: self.version,
            }),
            None => self.table.rebuild(&NoRows),
        }
    }

    /// Judges every row at `wall` and returns the certificates' complete conditions (`None`
    /// without data).
    fn judge(&mut self, wall: jiff::Timestamp) -> Option<Vec<Condition>> {
        self.rejudge(wall);
        self.feed
            .data()
            .map(|s| crate::rules::certs::breached(&s.rows, &self.verdicts, &self.rules, wall))
    }

    /// The rows that do not come from the Kubernetes target (endpoints, files), if any.
    fn local_part(&self) -> Option<CertsSnapshot> {
        let s = self.feed.data()?;
        let local = CertsSnapshot {
            rows: s
                .rows
                .iter()
                .filter(|r| !r.source.from_cluster())
                .cloned()
                .collect(),
            errors: s
                .errors
                .iter()
                .filter(|(o, _)| !o.from_cluster())
                .cloned()
                .collect(),
            diagnoses: Vec::new(),
            at: s.at,
        };
        (!local.rows.is_empty()).then_some(local)
    }

    /// `:ctx` / `:ns`: the old target's certificates (API server, kubeconfig, Secrets,
    /// cert-manager, webhooks) go at once; endpoints and files stay.
    fn forget_cluster(&mut self, now: Instant) {
        let local = self.local_part();
        self.feed.retarget(now);
        if let Some(l) = local {
            let g = self.feed.generation;
            self.feed.apply(g, now, self.wall, Ok(Box::new(l)));
        }
        self.rejudge(self.wall);
    }

    /// The meter's counts at `now`: those of the last judgement (at most [`REJUDGE`] old, see
    /// [`Pane::tick`]), with the next expiry counted down to `now`. Nothing is judged per
    /// frame.
    pub(crate) fn counts_at(&self, now: jiff::Timestamp) -> MeterCounts {
        let (at, m) = &self.counts;
        let mut m = m.clone();
        let passed = now.as_second().saturating_sub(*at).max(0);
        if let Some((left, _)) = m.next.as_mut() {
            *left = (*left).saturating_sub(passed).max(0);
        }
        m
    }

    pub fn selected(&self) -> Option<(&CertRow, &Assessment)> {
        let s = self.feed.data()?;
        let i = self.table.selected_index()?;
        Some((s.rows.get(i)?, self.verdicts.get(i)?))
    }
}

impl Pane for CertsPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Certs
    }

    fn apply(&mut self, u: SourceUpdate, _shared: &Shared<'_>) -> Option<Vec<Condition>> {
        if u.source != SourceId::Certs {
            return None;
        }
        let wall = u.wall;
        self.wall = self.wall.max(wall);
        if matches!(u.result, Ok(Payload::KubeRetargeted)) {
            // Everything before the marker is about the old target: keep only the local rows.
            let local = self.local_part();
            let (g, at) = (u.generation, u.at);
            if self.feed.apply_kube(u, Payload::downcast) == KubeApplied::Reset {
                if let Some(l) = local {
                    self.feed.apply(g, at, self.wall, Ok(Box::new(l)));
                }
                self.rejudge(wall);
            }
            return None;
        }
        match self.feed.apply_kube(u, Payload::downcast) {
            KubeApplied::Data => self.judge(wall),
            KubeApplied::Reset => {
                self.rejudge(wall);
                None
            }
            KubeApplied::Error | KubeApplied::Ignored => None,
        }
    }

    /// Verdicts change with time alone (`30d` left becomes `29d`, a certificate crosses the
    /// warning or critical threshold or expires) while the source may send nothing for an
    /// hour (its re-probe interval): every [`REJUDGE`] the rows are judged again and the alerts
    /// follow.
    fn tick(
        &mut self,
        _now: Instant,
        wall: jiff::Timestamp,
        _shared: &Shared<'_>,
    ) -> Option<Vec<Condition>> {
        let due = wall.as_second().saturating_sub(self.counts.0) >= REJUDGE.as_secs() as i64;
        if !due || self.feed.data().is_none() {
            return None;
        }
        self.wall = self.wall.max(wall);
        self.judge(self.wall)
    }

    fn freshness(&self, now: Instant) -> Option<Freshness> {
        self.fresh(now)
    }

    fn retargeted(&mut self, now: Instant) {
        self.forget_cluster(now);
    }

    fn last_error(&self) -> Option<&SourceError> {
        self.feed.error()
    }

    /// After an update (which judged the rows already) or an acknowledgement: the table again
    /// from the verdicts; time passing is judged on the tick.
    fn refresh(&mut self, _shared: &Shared<'_>) {
        self.version += 1;
        self.rebuild_table();
    }

    fn with_table(&mut self, _shared: &Shared<'_>, op: TableOp<'_>) {
        match self.feed.data() {
            Some(s) => op(
                &mut self.table,
                &Rows {
                    snap: s,
                    verdicts: &self.verdicts,
                    rank: &self.rank,
                    version: self.version,
                },
            ),
            None => op(&mut self.table, &NoRows),
        }
    }

    fn filter(&self) -> &str {
        &self.table.filter
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
