//! The probes pane (incidents 1, 3): every configured HTTP(S) probe with its danger (PENDING
//! `1/3` while failures add up), the last status or the phase that failed, the last total,
//! p50/p99 against its SLO, a bar of the last attempt's phases (dns|connect|tls|headers|
//! transfer as proportional segments), OK% over the window and since when. On a tall pane the
//! selected probe's detail below: its last attempts with every phase, peer, TLS version and
//! certificate, the response's status and header size, and the latency sparkline. Below that,
//! the Kubernetes probe audit when it runs.
//!
//! This is the pane's state; the drawing is `ui::panes::probes`.

use std::any::Any;
use std::time::{Duration, Instant};

use crate::app::feed::{Feed, FeedState, Freshness, KubeApplied};
use crate::app::model::Settings;
use crate::app::panes::sockets::NoRows;
use crate::app::panes::{Pane, PaneKind, Shared, TableOp};
use crate::app::table::{ColumnId, RowKey, Sort, SortKey, TableData, TableState};
use crate::domain::Level;
use crate::domain::probes::{AuditRow, ProbeRow, ProbesSnapshot};
use crate::rules::Condition;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// The probes table's columns. At 80 columns DANGER, NAME, STATUS, LAST, P99, SLO, PHASES and
/// OK% show whole; P50 and SINCE from about 92 cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeColumn {
    Danger,
    Name,
    Status,
    Last,
    P50,
    P99,
    Slo,
    Phases,
    OkPct,
    Since,
}

impl ColumnId for ProbeColumn {
    const ALL: &'static [ProbeColumn] = &[
        ProbeColumn::Danger,
        ProbeColumn::Name,
        ProbeColumn::Status,
        ProbeColumn::Last,
        ProbeColumn::P50,
        ProbeColumn::P99,
        ProbeColumn::Slo,
        ProbeColumn::Phases,
        ProbeColumn::OkPct,
        ProbeColumn::Since,
    ];
}

/// The probes pane: its feed (the probes source's snapshots) and its table.
#[derive(Debug)]
pub struct ProbesPane {
    pub feed: Feed<Box<ProbesSnapshot>>,
    pub table: TableState,
    version: u64,
}

/// The pane, by the name the source list (`sources::registry::with_sources!`) builds it by.
pub type State = ProbesPane;

impl ProbesPane {
    pub fn new(settings: &Settings, started: Instant) -> ProbesPane {
        ProbesPane {
            feed: Feed::new(settings.refresh, started),
            table: TableState::new(
                ProbeColumn::ALL.len(),
                Sort {
                    column: ProbeColumn::Danger.index(),
                    descending: true,
                },
            ),
            version: 0,
        }
    }

    fn rebuild(&mut self) {
        match self.feed.data() {
            Some(s) => self.table.rebuild(&ProbeRows::new(s, self.version)),
            None => self.table.rebuild(&NoRows),
        }
    }

    pub(crate) fn selected(&self) -> Option<Item<'_>> {
        let s = self.feed.data()?;
        self.table.selected_index().and_then(|i| item(s, i))
    }
}

impl Pane for ProbesPane {
    fn kind(&self) -> PaneKind {
        PaneKind::Probes
    }

    fn apply(&mut self, u: SourceUpdate, shared: &Shared<'_>) -> Option<Vec<Condition>> {
        if u.source != SourceId::Probes {
            return None;
        }
        let applied = self.feed.apply_kube(u, Payload::downcast);
        if matches!(applied, KubeApplied::Data | KubeApplied::Reset) {
            self.version += 1;
        }
        match applied {
            KubeApplied::Data => {
                let rules = &shared.settings.rules.probes;
                self.feed.data().map(|s| {
                    crate::rules::probes::evaluate(s, rules, rules.failures_before_critical)
                })
            }
            KubeApplied::Reset => {
                self.rebuild();
                None
            }
            KubeApplied::Error | KubeApplied::Ignored => None,
        }
    }

    fn freshness(&self, now: Instant) -> Option<Freshness> {
        match self.feed.state {
            FeedState::Loading { .. } => None,
            _ => Some(self.feed.freshness(now)),
        }
    }

    fn last_error(&self) -> Option<&SourceError> {
        self.feed.error()
    }

    fn refresh(&mut self, _shared: &Shared<'_>) {
        self.rebuild();
    }

    fn with_table(&mut self, _shared: &Shared<'_>, op: TableOp<'_>) {
        match self.feed.data() {
            Some(s) => op(&mut self.table, &ProbeRows::new(s, self.version)),
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

/// One row of the table: a configured probe, or an audited Kubernetes probe (after them).
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Probe(&'a ProbeRow),
    Audit(&'a AuditRow),
}

/// The `i`th row of the table: the probes, then the audit's rows.
pub fn item(snap: &ProbesSnapshot, i: usize) -> Option<Item<'_>> {
    match snap.rows.get(i) {
        Some(r) => Some(Item::Probe(r)),
        None => snap
            .audit
            .as_ref()
            .and_then(|a| a.rows.get(i - snap.rows.len()))
            .map(Item::Audit),
    }
}

/// `payments/payments-api-7f9c6b5d4-m5wpl`: an audit row's name (the container too when the
/// pod has several probes of that kind is left to the detail).
pub(crate) fn audit_name(a: &AuditRow) -> String {
    format!("{}/{}", a.namespace, a.pod)
}

/// Whether an audit row was measured at all (else its danger is unknown, never OK).
pub(crate) fn audit_measured(a: &AuditRow) -> bool {
    a.unmeasured.is_none() && a.stats.p99.is_some()
}

/// What an audit row says in at most 12 cells (the numbers are in P99 and SLO; the sentence
/// in the strip and the detail): `p99>timeout`, `p99<timeout`, `forbidden`, `not running`.
pub(crate) fn audit_short(a: &AuditRow) -> &'static str {
    match (&a.unmeasured, a.stats.p99) {
        (Some(u), _) if u.contains("forbidden") => "forbidden",
        (Some(u), _) if u.contains("not running") => "not running",
        (Some(u), _) if u.contains("kubernetes = false") => "not measured",
        (Some(_), _) => "proxy failed",
        (None, Some(_)) if a.finding.is_some() => "p99>timeout",
        (None, Some(_)) => "p99<timeout",
        (None, None) => "not measured",
    }
}

/// STATUS of an audit row: the probe's kind in 7 cells.
pub(crate) fn audit_kind(a: &AuditRow) -> &'static str {
    match a.kind {
        "readiness" => "ready",
        "liveness" => "live",
        "startup" => "startup",
        _ => "probe",
    }
}

/// Critical 4, warning 3, info 1, ok 0; an unmeasured audit row ranks with info.
fn audit_rank(a: &AuditRow) -> u8 {
    match a.level {
        Level::Critical => 4,
        Level::Warning => 3,
        _ if !audit_measured(a) => 1,
        Level::Info => 1,
        Level::Ok => 0,
    }
}

/// A snapshot's rows seen as a table.
pub struct ProbeRows<'a> {
    pub snap: &'a ProbesSnapshot,
    pub version: Option<u64>,
}

impl<'a> ProbeRows<'a> {
    pub fn new(snap: &'a ProbesSnapshot, version: u64) -> ProbeRows<'a> {
        ProbeRows {
            snap,
            version: Some(version),
        }
    }
}

fn dur_key(d: Option<Duration>) -> SortKey {
    SortKey::opt_num(d.map(|d| d.as_secs_f64()))
}

impl TableData for ProbeRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len() + self.snap.audit.as_ref().map_or(0, |a| a.rows.len())
    }

    fn key(&self, i: usize) -> RowKey {
        match item(self.snap, i) {
            Some(Item::Probe(r)) => RowKey::of(&*r.name),
            Some(Item::Audit(a)) => RowKey::of(&format!(
                "\u{0}k8s\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                a.namespace, a.pod, a.container, a.kind
            )),
            None => RowKey::of(""),
        }
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn haystack(&self, i: usize, out: &mut String) -> bool {
        let r = match item(self.snap, i) {
            Some(Item::Probe(r)) => r,
            Some(Item::Audit(a)) => {
                out.push_str(&audit_name(a));
                out.push('\n');
                out.push_str(&a.container);
                out.push('\n');
                out.push_str(a.kind);
                out.push('\n');
                out.push_str(&a.path);
                out.push('\n');
                if let Some(f) = a.finding.as_deref().or(a.unmeasured.as_deref()) {
                    out.push_str(f);
                }
                return true;
            }
            None => return false,
        };
        out.push_str(&r.name);
        out.push('\n');
        out.push_str(&r.url);
        out.push('\n');
        if let Some(e) = r.last().and_then(|a| a.error.as_deref()) {
            out.push_str(e);
        }
        true
    }

    fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
        let r = match item(self.snap, i)? {
            Item::Probe(r) => r,
            Item::Audit(a) => return audit_sort_key(a, i, column),
        };
        let last = r.last();
        Some(match ProbeColumn::at(column)? {
            // Loudest first (descending), then by consecutive failures, then config order.
            ProbeColumn::Danger => SortKey::tuple([
                SortKey::num(level_rank(r) as f64),
                SortKey::num(f64::from(r.consecutive_failures)),
                SortKey::num(-(i as f64)),
            ]),
            ProbeColumn::Name => SortKey::text(&r.name),
            ProbeColumn::Status => {
                SortKey::text(&last.map(|a| a.status_text()).unwrap_or_default())
            }
            ProbeColumn::Last => dur_key(last.map(|a| a.timings.total)),
            ProbeColumn::P50 => dur_key(r.stats.p50),
            ProbeColumn::P99 => dur_key(r.stats.p99),
            ProbeColumn::Slo => dur_key(r.slo_p99),
            ProbeColumn::Phases => dur_key(last.map(|a| a.timings.total)),
            ProbeColumn::OkPct => SortKey::opt_num(r.stats.ok_pct()),
            ProbeColumn::Since => SortKey::time(r.since),
        })
    }
}

/// An audit row's sort keys, comparable with the probes' (the same kinds per column).
fn audit_sort_key(a: &AuditRow, i: usize, column: usize) -> Option<SortKey> {
    Some(match ProbeColumn::at(column)? {
        ProbeColumn::Danger => SortKey::tuple([
            SortKey::num(f64::from(audit_rank(a))),
            SortKey::num(0.0),
            SortKey::num(-(i as f64)),
        ]),
        ProbeColumn::Name => SortKey::text(&audit_name(a)),
        ProbeColumn::Status => SortKey::text(audit_kind(a)),
        ProbeColumn::Last => dur_key(None),
        ProbeColumn::P50 => dur_key(a.stats.p50),
        ProbeColumn::P99 => dur_key(a.stats.p99),
        ProbeColumn::Slo => dur_key(Some(a.timeout)),
        ProbeColumn::Phases => SortKey::text(audit_short(a)),
        ProbeColumn::OkPct => SortKey::opt_num(a.stats.ok_pct()),
        ProbeColumn::Since => SortKey::time(None),
    })
}

/// Critical 4, warning 3, pending 2, info 1, ok 0.
pub(crate) fn level_rank(r: &ProbeRow) -> u8 {
    match (r.verdict.level, r.verdict.pending) {
        (Level::Critical, _) => 4,
        (Level::Warning, _) => 3,
        (_, Some(_)) => 2,
        (Level::Info, _) => 1,
        (Level::Ok, None) => 0,
    }
}
