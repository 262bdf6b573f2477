//! Danger evaluation. Two pure steps:
//! 1. per source, `evaluate(&snapshot, &rules) -> Vec<Condition>`: which thresholds are breached
//!    right now (no notion of time);
//! 2. [`AlertBook::observe`] turns conditions into alerts over time: a breached rule with a `for`
//!    duration is PENDING (with progress, "pending 3m/15m") until it has held that long, then
//!    FIRING; when it stops holding, the alert is CLEARED. Time is passed in, so tests use a fake
//!    clock. One-shot `check` skips step 2 ([`one_shot`]): `for` is not evaluated there.
//!
//! Every alert carries a human title and its value in its unit ([`display`]). When one rule
//! fires for many subjects, the book folds them into one [`AlertGroup`] per (source, rule,
//! level), once per change of the book (never per frame): the pane and the header read the
//! folded groups, and notifications (bell, `alert_command`, Alertmanager) follow
//! [`GroupTransition`]s, so 1,000 OOM-killed pods are one row, one bell and one hook run.

pub mod alertmanager;
pub mod display;
pub mod hook;
pub mod pods;
pub mod pvcs;
pub mod sockets;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{Comparison, ThresholdRule};
use crate::domain::Level;
use crate::domain::SourceId;

pub use display::{Shown, rule_title, title_or_id};

/// Identifies one alert: a rule at one level, about one subject ("host", "pid 42 (java)").
/// A key whose subject is [`AlertKey::GROUP_SUBJECT`] names a whole group (every subject of that
/// rule at that level): what the alerts pane hands to the acknowledgement of a group row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub source: SourceId,
    pub rule: String,
    pub subject: String,
    pub level: Level,
}

impl AlertKey {
    /// The subject of a key that names a whole group. No real subject is `*` (subjects are
    /// `host`, `listen ADDR`, `pid N (comm)`, `namespace/name`, `pv/NAME`).
    pub const GROUP_SUBJECT: &'static str = "*";

    pub fn group_key(&self) -> GroupKey {
        GroupKey {
            source: self.source,
            rule: self.rule.clone(),
            level: self.level,
        }
    }

    /// The key naming every member of `g`.
    pub fn for_group(g: &GroupKey) -> AlertKey {
        AlertKey {
            source: g.source,
            rule: g.rule.clone(),
            subject: Self::GROUP_SUBJECT.to_string(),
            level: g.level,
        }
    }

    pub fn is_group(&self) -> bool {
        self.subject == Self::GROUP_SUBJECT
    }

    /// The namespace of a Kubernetes subject (`namespace/name`), if it is one.
    pub fn namespace(&self) -> Option<&str> {
        if matches!(self.source, SourceId::Sockets) {
            return None;
        }
        match self.subject.split_once('/') {
            Some(("pv", _)) | None => None,
            Some((ns, _)) => Some(ns),
        }
    }
}

/// One group of alerts: a rule at one level, across its subjects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub source: SourceId,
    pub rule: String,
    pub level: Level,
}

/// One threshold checked against one value, right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub key: AlertKey,
    pub breached: bool,
    pub value: f64,
    pub threshold: f64,
    pub op: Comparison,
    /// How long it must hold before firing.
    pub for_: Duration,
    pub message: String,
    /// The human title (`Pod OOM-killed`); the rule id stays in `key.rule`.
    pub title: Cow<'static, str>,
    /// The value in its unit (`OOMKilled 12m ago`, `10,087 sockets`).
    pub shown: Shown,
}

impl Condition {
    /// Checks `value` against `rule`. `message` describes the value in plain words. The title
    /// is the rule's ([`title_or_id`]) and the value a plain number until [`Condition::shown`].
    pub fn check(
        source: SourceId,
        rule_name: &str,
        subject: impl Into<String>,
        rule: &ThresholdRule,
        value: f64,
        message: String,
    ) -> Condition {
        Condition {
            key: AlertKey {
                source,
                rule: rule_name.to_string(),
                subject: subject.into(),
                level: rule.level,
            },
            breached: rule.op.holds(value, rule.value),
            value,
            threshold: rule.value,
            op: rule.op,
            for_: rule.for_.0,
            message,
            title: title_or_id(rule_name),
            shown: Shown::Number(value),
        }
    }

    /// The value in its unit.
    pub fn shown(mut self, shown: Shown) -> Condition {
        self.shown = shown;
        self
    }

    /// A title more precise than the rule's (`Pod crash-looping` for one waiting reason).
    pub fn titled(mut self, title: &'static str) -> Condition {
        self.title = Cow::Borrowed(title);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPhase {
    /// Over the threshold since `since`, firing once it has held for `needed`.
    Pending { since: Instant, needed: Duration },
    /// Firing since `since`.
    Firing { since: Instant },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub note: String,
    pub at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub key: AlertKey,
    pub phase: AlertPhase,
    pub value: f64,
    pub threshold: f64,
    pub op: Comparison,
    pub message: String,
    pub title: Cow<'static, str>,
    pub shown: Shown,
    /// Wall-clock time the condition started to hold.
    pub since_wall: jiff::Timestamp,
    pub ack: Option<Ack>,
}

impl Alert {
    pub fn is_firing(&self) -> bool {
        matches!(self.phase, AlertPhase::Firing { .. })
    }

    /// `(elapsed, needed)` while pending, for "pending 3m/15m".
    pub fn pending_progress(&self, now: Instant) -> Option<(Duration, Duration)> {
        match self.phase {
            AlertPhase::Pending { since, needed } => {
                Some((now.saturating_duration_since(since).min(needed), needed))
            }
            AlertPhase::Firing { .. } => None,
        }
    }

    /// "pending 3m/15m" or "firing"; minutes when the duration is at least a minute.
    pub fn phase_text(&self, now: Instant) -> String {
        match self.pending_progress(now) {
            Some((done, needed)) => {
                format!(
                    "pending {}/{}",
                    short_duration(done),
                    short_duration(needed)
                )
            }
            None => "firing".to_string(),
        }
    }

    /// The value in its unit at wall-clock `now` (`OOMKilled 12m ago`, `10,087 sockets`).
    pub fn value_text(&self, now: jiff::Timestamp) -> String {
        self.shown.render(now)
    }

    /// The limit in the value's unit (`> 2,000`, `>= 90%`); empty for state rules.
    pub fn limit_text(&self) -> String {
        self.shown.limit(self.op, self.threshold)
    }
}

/// Compact durations for narrow columns: "45s", "3m", "1h5m", "2d3h".
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{}h", s / 3600)
        } else {
            format!("{}h{}m", s / 3600, m)
        }
    } else {
        let h = (s % 86_400) / 3600;
        if h == 0 {
            format!("{}d", s / 86_400)
        } else {
            format!("{}d{}h", s / 86_400, h)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransitionKind {
    Pending,
    Firing,
    Cleared,
    Acknowledged,
}

impl TransitionKind {
    pub fn label(self) -> &'static str {
        match self {
            TransitionKind::Pending => "pending",
            TransitionKind::Firing => "firing",
            TransitionKind::Cleared => "cleared",
            TransitionKind::Acknowledged => "acknowledged",
        }
    }
}

/// Something that happened to an alert; what the history shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub kind: TransitionKind,
    pub alert: Alert,
    pub at_wall: jiff::Timestamp,
}

/// The alerts of one rule at one level, as the pane shows them: one row with the count and where
/// (`✖ CRITICAL Pod OOM-killed x150 in 12 namespaces, oldest 3h`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertGroup {
    pub key: GroupKey,
    /// The members' common title, else the rule's.
    pub title: Cow<'static, str>,
    /// Shown members, in the book's ranking (loudest, then oldest, first).
    pub members: Vec<AlertKey>,
    pub firing: usize,
    pub pending: usize,
    pub acked: usize,
    /// Distinct namespaces among Kubernetes subjects (0 for host subjects).
    pub namespaces: usize,
    /// When the oldest member started to hold.
    pub oldest: jiff::Timestamp,
}

impl AlertGroup {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn is_firing(&self) -> bool {
        self.firing > 0
    }

    /// `x150 in 12 namespaces` (`x150` for host subjects, empty for a single alert).
    pub fn where_text(&self) -> String {
        if self.members.len() <= 1 {
            return String::new();
        }
        let n = display::group(self.members.len() as u64);
        match self.namespaces {
            0 => format!("x{n}"),
            1 => format!("x{n} in 1 namespace"),
            k => format!("x{n} in {} namespaces", display::group(k as u64)),
        }
    }
}

/// Something that happened to a group: it started pending or firing, it cleared (nothing in it
/// fires any more), or someone acknowledged it. What the bell, `alert_command` and Alertmanager
/// follow. `alert` is a representative member (the only one, for a single alert), so a hook
/// written for single alerts keeps working.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTransition {
    pub kind: TransitionKind,
    pub key: GroupKey,
    pub title: Cow<'static, str>,
    /// Members at the time (before the change, for a cleared group).
    pub count: usize,
    pub namespaces: usize,
    pub oldest: jiff::Timestamp,
    /// The first few members' subjects.
    pub subjects: Vec<String>,
    pub alert: Alert,
    pub at_wall: jiff::Timestamp,
}

/// Subjects a group transition lists.
pub const GROUP_SUBJECTS_LISTED: usize = 10;

/// Counts for the header, folded with the groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertSummary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub pending: usize,
    pub acked: usize,
    /// Shown alerts (quieter levels of a firing louder one folded).
    pub shown: usize,
    pub groups: usize,
}

/// What one evaluation changed: per-alert transitions (the history) and group transitions (the
/// notifications).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub alerts: Vec<Transition>,
    pub groups: Vec<GroupTransition>,
}

/// A group's firing/pending counts over every active alert (quieter levels included), for
/// transitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct GroupState {
    firing: usize,
    pending: usize,
}

/// Active alerts, a bounded history of transitions, and the groups folded from them.
#[derive(Debug, Clone)]
pub struct AlertBook {
    active: BTreeMap<AlertKey, Alert>,
    history: VecDeque<Transition>,
    history_cap: usize,
    /// Shown alerts, ranked; refolded on every change.
    shown: Vec<AlertKey>,
    groups: Vec<AlertGroup>,
    summary: AlertSummary,
    states: BTreeMap<GroupKey, GroupState>,
    generation: u64,
    /// Alert-command runs dropped because the hook pool was full (shown in the alerts pane).
    hooks_dropped: u64,
}

impl AlertBook {
    pub fn new(history_cap: usize) -> Self {
        AlertBook {
            active: BTreeMap::new(),
            history: VecDeque::with_capacity(history_cap.min(1024)),
            history_cap: history_cap.max(1),
            shown: Vec::new(),
            groups: Vec::new(),
            summary: AlertSummary::default(),
            states: BTreeMap::new(),
            generation: 0,
            hooks_dropped: 0,
        }
    }

    /// Feeds one evaluation of `source`. Every alert of that source whose condition is absent or
    /// no longer breached is cleared, so pass the complete list for the source.
    pub fn observe(
        &mut self,
        source: SourceId,
        conditions: &[Condition],
        now: Instant,
        wall: jiff::Timestamp,
    ) -> Vec<Transition> {
        self.observe_changes(source, conditions, now, wall).alerts
    }

    /// [`AlertBook::observe`] with the group transitions it caused.
    pub fn observe_changes(
        &mut self,
        source: SourceId,
        conditions: &[Condition],
        now: Instant,
        wall: jiff::Timestamp,
    ) -> Changes {
        let mut out = Vec::new();
        let mut still: BTreeSet<&AlertKey> = Default::default();
        for c in conditions
            .iter()
            .filter(|c| c.key.source == source && c.breached)
        {
            still.insert(&c.key);
            match self.active.get_mut(&c.key) {
                Some(alert) => {
                    alert.value = c.value;
                    alert.threshold = c.threshold;
                    alert.message.clone_from(&c.message);
                    if alert.shown != c.shown {
                        alert.shown = c.shown.clone();
                    }
                    if alert.title != c.title {
                        alert.title = c.title.clone();
                    }
                    if let AlertPhase::Pending { since, needed } = alert.phase {
                        // The rule's `for` may have been changed by a config reload.
                        let needed = needed.min(c.for_);
                        if now.saturating_duration_since(since) >= needed {
                            alert.phase = AlertPhase::Firing { since: now };
                            out.push(Transition {
                                kind: TransitionKind::Firing,
                                alert: alert.clone(),
                                at_wall: wall,
                            });
                        }
                    }
                }
                None => {
                    let firing = c.for_.is_zero();
                    let alert = Alert {
                        key: c.key.clone(),
                        phase: if firing {
                            AlertPhase::Firing { since: now }
                        } else {
                            AlertPhase::Pending {
                                since: now,
                                needed: c.for_,
                            }
                        },
                        value: c.value,
                        threshold: c.threshold,
                        op: c.op,
                        message: c.message.clone(),
                        title: c.title.clone(),
                        shown: c.shown.clone(),
                        since_wall: wall,
                        ack: None,
                    };
                    out.push(Transition {
                        kind: if firing {
                            TransitionKind::Firing
                        } else {
                            TransitionKind::Pending
                        },
                        alert: alert.clone(),
                        at_wall: wall,
                    });
                    self.active.insert(c.key.clone(), alert);
                }
            }
        }
        let gone: Vec<AlertKey> = self
            .active
            .keys()
            .filter(|k| k.source == source && !still.contains(k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(alert) = self.active.remove(&key) {
                // A pending alert that stops holding never fired: nothing to clear.
                if alert.is_firing() {
                    out.push(Transition {
                        kind: TransitionKind::Cleared,
                        alert,
                        at_wall: wall,
                    });
                }
            }
        }
        if out.is_empty() {
            return Changes::default();
        }
        for t in &out {
            self.record(t.clone());
        }
        let before = std::mem::take(&mut self.groups);
        self.refold();
        let groups = self.group_transitions(&before, &out, wall);
        Changes {
            alerts: out,
            groups,
        }
    }

    /// Compares group states before and after a change: a group whose firing count left 0
    /// fires, one that dropped to 0 clears, a new group with nothing firing is pending.
    fn group_transitions(
        &mut self,
        before: &[AlertGroup],
        changes: &[Transition],
        wall: jiff::Timestamp,
    ) -> Vec<GroupTransition> {
        let old_states = std::mem::take(&mut self.states);
        let mut new_states: BTreeMap<GroupKey, GroupState> = BTreeMap::new();
        for a in self.active.values() {
            let s = new_states.entry(a.key.group_key()).or_default();
            if a.is_firing() {
                s.firing += 1;
            } else {
                s.pending += 1;
            }
        }
        // The groups this change touched, with a changed alert of each (the representative
        // when the group is gone from the book).
        let mut touched: BTreeMap<GroupKey, &Alert> = BTreeMap::new();
        for t in changes {
            touched.entry(t.alert.key.group_key()).or_insert(&t.alert);
        }
        let mut out = Vec::new();
        for (g, changed) in touched {
            let old = old_states.get(&g).copied().unwrap_or_default();
            let new = new_states.get(&g).copied().unwrap_or_default();
            let kind = if old.firing == 0 && new.firing > 0 {
                TransitionKind::Firing
            } else if old.firing > 0 && new.firing == 0 {
                TransitionKind::Cleared
            } else if old.firing + old.pending == 0 && new.pending > 0 {
                TransitionKind::Pending
            } else {
                continue;
            };
            let shown = if kind == TransitionKind::Cleared {
                before.iter().find(|x| x.key == g)
            } else {
                self.groups.iter().find(|x| x.key == g)
            };
            out.push(self.describe(kind, &g, shown, changed, wall));
        }
        self.states = new_states;
        out
    }

    /// A group transition for `g` (as shown by `group`, if it is shown), with `fallback` as the
    /// representative when no member is active any more.
    fn describe(
        &self,
        kind: TransitionKind,
        g: &GroupKey,
        group: Option<&AlertGroup>,
        fallback: &Alert,
        wall: jiff::Timestamp,
    ) -> GroupTransition {
        let alert = group
            .and_then(|x| x.members.first())
            .and_then(|k| self.active.get(k))
            .filter(|_| kind != TransitionKind::Cleared)
            .unwrap_or(fallback)
            .clone();
        match group {
            Some(x) => GroupTransition {
                kind,
                key: g.clone(),
                title: x.title.clone(),
                count: x.members.len(),
                namespaces: x.namespaces,
                oldest: x.oldest,
                subjects: x
                    .members
                    .iter()
                    .take(GROUP_SUBJECTS_LISTED)
                    .map(|k| k.subject.clone())
                    .collect(),
                alert,
                at_wall: wall,
            },
            None => GroupTransition {
                kind,
                key: g.clone(),
                title: alert.title.clone(),
                count: 1,
                namespaces: usize::from(alert.key.namespace().is_some()),
                oldest: alert.since_wall,
                subjects: vec![alert.key.subject.clone()],
                alert,
                at_wall: wall,
            },
        }
    }

    /// Recomputes the shown alerts, the groups and the summary: once per change of the book.
    fn refold(&mut self) {
        // A rule's quieter level is folded into its louder level when that one is firing for
        // the same subject (fd usage at 96% is one CRITICAL row, not a CRITICAL and a
        // WARNING). A pending louder level does not hide a firing quieter one.
        let mut loudest_firing: HashMap<(SourceId, &str, &str), Level> = HashMap::new();
        for a in self.active.values().filter(|a| a.is_firing()) {
            let e = loudest_firing
                .entry((a.key.source, a.key.rule.as_str(), a.key.subject.as_str()))
                .or_insert(a.key.level);
            *e = (*e).max(a.key.level);
        }
        let mut shown: Vec<&Alert> = self
            .active
            .values()
            .filter(|a| {
                loudest_firing
                    .get(&(a.key.source, a.key.rule.as_str(), a.key.subject.as_str()))
                    .is_none_or(|l| *l <= a.key.level)
            })
            .collect();
        shown.sort_by(|a, b| rank(a, b));

        let mut summary = AlertSummary {
            shown: shown.len(),
            ..AlertSummary::default()
        };
        let mut groups: Vec<AlertGroup> = Vec::new();
        let mut index: HashMap<(SourceId, &str, Level), usize> = HashMap::new();
        let mut namespaces: Vec<BTreeSet<&str>> = Vec::new();
        for a in &shown {
            if a.is_firing() {
                match a.key.level {
                    Level::Critical => summary.critical += 1,
                    Level::Warning => summary.warning += 1,
                    Level::Info => summary.info += 1,
                    Level::Ok => {}
                }
            } else {
                summary.pending += 1;
            }
            if a.ack.is_some() {
                summary.acked += 1;
            }
            let i = *index
                .entry((a.key.source, a.key.rule.as_str(), a.key.level))
                .or_insert_with(|| {
                    groups.push(AlertGroup {
                        key: a.key.group_key(),
                        title: a.title.clone(),
                        members: Vec::new(),
                        firing: 0,
                        pending: 0,
                        acked: 0,
                        namespaces: 0,
                        oldest: a.since_wall,
                    });
                    namespaces.push(BTreeSet::new());
                    groups.len() - 1
                });
            let g = &mut groups[i];
            if g.title != a.title {
                g.title = title_or_id(&a.key.rule);
            }
            g.members.push(a.key.clone());
            if a.is_firing() {
                g.firing += 1;
            } else {
                g.pending += 1;
            }
            if a.ack.is_some() {
                g.acked += 1;
            }
            g.oldest = g.oldest.min(a.since_wall);
            if let Some(ns) = a.key.namespace() {
                namespaces[i].insert(ns);
            }
        }
        for (g, ns) in groups.iter_mut().zip(&namespaces) {
            g.namespaces = ns.len();
        }
        // Groups keep the rank of their loudest member (the first one seen above).
        summary.groups = groups.len();
        self.shown = shown.into_iter().map(|a| a.key.clone()).collect();
        self.groups = groups;
        self.summary = summary;
        self.generation = self.generation.wrapping_add(1);
    }

    /// Acknowledges an active alert with a note. `None` if it is no longer active.
    pub fn acknowledge(
        &mut self,
        key: &AlertKey,
        note: String,
        wall: jiff::Timestamp,
    ) -> Option<Transition> {
        let alert = self.active.get_mut(key)?;
        alert.ack = Some(Ack { note, at: wall });
        let t = Transition {
            kind: TransitionKind::Acknowledged,
            alert: alert.clone(),
            at_wall: wall,
        };
        self.record(t.clone());
        self.refold();
        Some(t)
    }

    /// Acknowledges one alert, or every shown member of a group when `key` names a group
    /// ([`AlertKey::for_group`]): one group transition for the hook. `None` if nothing it
    /// names is active any more.
    pub fn acknowledge_target(
        &mut self,
        key: &AlertKey,
        note: String,
        wall: jiff::Timestamp,
    ) -> Option<GroupTransition> {
        if !key.is_group() {
            let t = self.acknowledge(key, note, wall)?;
            let g = key.group_key();
            return Some(self.describe(TransitionKind::Acknowledged, &g, None, &t.alert, wall));
        }
        let g = key.group_key();
        let members = self.groups.iter().find(|x| x.key == g)?.members.clone();
        let ack = Ack { note, at: wall };
        for k in &members {
            if let Some(a) = self.active.get_mut(k) {
                a.ack = Some(ack.clone());
            }
        }
        let first = members.first().and_then(|k| self.active.get(k))?.clone();
        self.record(Transition {
            kind: TransitionKind::Acknowledged,
            alert: first.clone(),
            at_wall: wall,
        });
        self.refold();
        let group = self.groups.iter().find(|x| x.key == g);
        Some(self.describe(TransitionKind::Acknowledged, &g, group, &first, wall))
    }

    fn record(&mut self, t: Transition) {
        if self.history.len() == self.history_cap {
            self.history.pop_back();
        }
        self.history.push_front(t);
    }

    /// Active alerts, loudest first: firing before pending, then by level, then oldest first.
    pub fn active(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| rank(a, b));
        v
    }

    /// Every active alert, unordered (Alertmanager's full state).
    pub fn all(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// The shown alerts (a firing louder level folds the quieter one), ranked. Folded once per
    /// change of the book.
    pub fn shown(&self) -> impl Iterator<Item = &Alert> + '_ {
        self.shown.iter().filter_map(|k| self.active.get(k))
    }

    pub fn shown_keys(&self) -> &[AlertKey] {
        &self.shown
    }

    /// The groups, loudest first (folded once per change of the book).
    pub fn groups(&self) -> &[AlertGroup] {
        &self.groups
    }

    pub fn group(&self, key: &GroupKey) -> Option<&AlertGroup> {
        self.groups.iter().find(|g| &g.key == key)
    }

    /// Counts for the header (folded once per change of the book).
    pub fn summary(&self) -> AlertSummary {
        self.summary
    }

    /// Bumped on every change of the active alerts, their phases or acknowledgements: a reader
    /// that cached something derived from the book rebuilds it when this moves.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.active.get(key)
    }

    /// Records the hook pool's running total of dropped alert-command runs.
    pub fn note_hooks_dropped(&mut self, total: u64) {
        self.hooks_dropped = self.hooks_dropped.max(total);
    }

    /// Alert-command runs dropped so far (the hook pool was full).
    pub fn hooks_dropped(&self) -> u64 {
        self.hooks_dropped
    }

    /// Transitions, newest first.
    pub fn history(&self) -> impl Iterator<Item = &Transition> {
        self.history.iter()
    }

    /// The loudest level among firing alerts.
    pub fn worst_firing(&self) -> Option<Level> {
        self.active
            .values()
            .filter(|a| a.is_firing())
            .map(|a| a.key.level)
            .max()
    }

    /// Firing alerts that nobody has acknowledged.
    pub fn unacknowledged_firing(&self) -> usize {
        self.active
            .values()
            .filter(|a| a.is_firing() && a.ack.is_none())
            .count()
    }
}

/// The book's ranking: firing before pending, then the louder level, then oldest first.
fn rank(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    b.is_firing()
        .cmp(&a.is_firing())
        .then(b.key.level.cmp(&a.key.level))
        .then(a.since_wall.cmp(&b.since_wall))
        .then(a.key.cmp(&b.key))
}

/// One line of `ondeck check`'s `checks` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub source: &'static str,
    pub name: String,
    pub subject: String,
    pub level: Level,
    pub value: f64,
    pub threshold: Option<f64>,
    pub message: String,
    /// Always false in one-shot mode: `for` durations need history.
    pub for_evaluated: bool,
    /// The `for` duration the TUI would wait before firing, if any ("15m").
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
}

/// One-shot evaluation for `check`: each (rule, subject) takes the loudest breached level,
/// ignoring `for`. Subjects with nothing breached report `ok` against the quietest threshold.
pub fn one_shot(conditions: &[Condition]) -> Vec<CheckResult> {
    let mut groups: BTreeMap<(SourceId, &str, &str), Vec<&Condition>> = BTreeMap::new();
    for c in conditions {
        groups
            .entry((c.key.source, c.key.rule.as_str(), c.key.subject.as_str()))
            .or_default()
            .push(c);
    }
    let mut out: Vec<CheckResult> = groups
        .into_iter()
        .map(|((source, rule, subject), conds)| {
            let chosen = conds
                .iter()
                .filter(|c| c.breached)
                .max_by_key(|c| c.key.level)
                .or_else(|| conds.iter().min_by_key(|c| c.key.level))
                .copied();
            let (level, threshold, message, for_) = match chosen {
                Some(c) if c.breached => {
                    (c.key.level, Some(c.threshold), c.message.clone(), c.for_)
                }
                Some(c) => (Level::Ok, Some(c.threshold), c.message.clone(), c.for_),
                None => (Level::Ok, None, String::new(), Duration::ZERO),
            };
            let value = conds.first().map(|c| c.value).unwrap_or_default();
            CheckResult {
                source: source.name(),
                name: rule.to_string(),
                subject: subject.to_string(),
                level,
                value,
                threshold,
                message,
                for_evaluated: false,
                for_: (!for_.is_zero()).then(|| short_duration(for_)),
            }
        })
        .collect();
    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Comparison, ThresholdRule};

    const WARN_15M: ThresholdRule =
        ThresholdRule::new(Level::Warning, Comparison::Above, 1000.0, 900);
    const CRIT_5M: ThresholdRule =
        ThresholdRule::new(Level::Critical, Comparison::Above, 2000.0, 300);

    fn close_wait(v: f64) -> Vec<Condition> {
        [WARN_15M, CRIT_5M]
            .iter()
            .map(|r| {
                Condition::check(
                    SourceId::Sockets,
                    "close_wait",
                    "host",
                    r,
                    v,
                    format!("{v} in CLOSE_WAIT"),
                )
            })
            .collect()
    }

    fn wall(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + secs).expect("valid timestamp")
    }

    #[test]
    fn pending_then_firing_then_cleared_with_a_fake_clock() {
        let t0 = Instant::now();
        let at = |m: u64| t0 + Duration::from_secs(m * 60);
        let mut book = AlertBook::new(100);

        let tr = book.observe(SourceId::Sockets, &close_wait(1500.0), at(0), wall(0));
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].kind, TransitionKind::Pending);
        assert_eq!(tr[0].alert.key.level, Level::Warning);

        let tr = book.observe(SourceId::Sockets, &close_wait(1500.0), at(3), wall(180));
        assert!(tr.is_empty(), "still pending at 3m: {tr:?}");
        let active = book.active();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].phase_text(at(3)), "pending 3m/15m");
        assert_eq!(book.worst_firing(), None);

        let tr = book.observe(SourceId::Sockets, &close_wait(1500.0), at(15), wall(900));
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].kind, TransitionKind::Firing);
        assert_eq!(book.worst_firing(), Some(Level::Warning));

        let tr = book.observe(SourceId::Sockets, &close_wait(10.0), at(16), wall(960));
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].kind, TransitionKind::Cleared);
        assert!(book.active().is_empty());
        let kinds: Vec<_> = book.history().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TransitionKind::Cleared,
                TransitionKind::Firing,
                TransitionKind::Pending
            ]
        );
    }

    #[test]
    fn critical_fires_on_its_own_clock_while_warning_still_pending() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(100);
        book.observe(SourceId::Sockets, &close_wait(2500.0), t0, wall(0));
        let tr = book.observe(
            SourceId::Sockets,
            &close_wait(2500.0),
            t0 + Duration::from_secs(301),
            wall(301),
        );
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].kind, TransitionKind::Firing);
        assert_eq!(tr[0].alert.key.level, Level::Critical);
        let active = book.active();
        assert_eq!(
            active[0].key.level,
            Level::Critical,
            "firing critical sorts first"
        );
        assert!(!active[1].is_firing());
    }

    #[test]
    fn pending_that_stops_holding_resets_without_a_cleared_transition() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(100);
        book.observe(SourceId::Sockets, &close_wait(1500.0), t0, wall(0));
        let tr = book.observe(
            SourceId::Sockets,
            &close_wait(900.0),
            t0 + Duration::from_secs(60),
            wall(60),
        );
        assert!(tr.is_empty());
        assert!(book.active().is_empty());
        // Holding again restarts the clock.
        book.observe(
            SourceId::Sockets,
            &close_wait(1500.0),
            t0 + Duration::from_secs(120),
            wall(120),
        );
        let a = book.active();
        assert_eq!(
            a[0].pending_progress(t0 + Duration::from_secs(180)),
            Some((Duration::from_secs(60), Duration::from_secs(900)))
        );
    }

    #[test]
    fn zero_for_fires_at_once_and_other_sources_are_untouched() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(100);
        let rule = ThresholdRule::new(Level::Warning, Comparison::Above, 20000.0, 0);
        let c = Condition::check(
            SourceId::Sockets,
            "time_wait",
            "host",
            &rule,
            25000.0,
            "x".into(),
        );
        let tr = book.observe(SourceId::Sockets, &[c], t0, wall(0));
        assert_eq!(tr[0].kind, TransitionKind::Firing);
        // An evaluation of another source does not clear sockets alerts.
        let tr = book.observe(SourceId::Pods, &[], t0, wall(1));
        assert!(tr.is_empty());
        assert_eq!(book.active().len(), 1);
    }

    #[test]
    fn acknowledge_marks_the_alert_and_is_recorded() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(100);
        let rule = ThresholdRule::new(Level::Critical, Comparison::AtLeast, 90.0, 0);
        let c = Condition::check(
            SourceId::Sockets,
            "accept_queue_pct",
            "0.0.0.0:80",
            &rule,
            95.0,
            "q".into(),
        );
        book.observe(SourceId::Sockets, std::slice::from_ref(&c), t0, wall(0));
        let t = book
            .acknowledge(&c.key, "looking, db is slow".into(), wall(5))
            .expect("active");
        assert_eq!(t.kind, TransitionKind::Acknowledged);
        assert_eq!(
            book.get(&c.key)
                .and_then(|a| a.ack.as_ref())
                .map(|a| a.note.as_str()),
            Some("looking, db is slow")
        );
        assert_eq!(book.unacknowledged_firing(), 0);
        assert!(
            book.acknowledge(
                &AlertKey {
                    subject: "other".into(),
                    ..c.key.clone()
                },
                "n".into(),
                wall(6)
            )
            .is_none()
        );
    }

    #[test]
    fn history_is_bounded() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(3);
        for i in 0..10u64 {
            let v = if i % 2 == 0 { 30000.0 } else { 0.0 };
            let rule = ThresholdRule::new(Level::Warning, Comparison::Above, 20000.0, 0);
            let c = Condition::check(
                SourceId::Sockets,
                "time_wait",
                "host",
                &rule,
                v,
                String::new(),
            );
            book.observe(
                SourceId::Sockets,
                &[c],
                t0 + Duration::from_secs(i),
                wall(i as i64),
            );
        }
        assert_eq!(book.history().count(), 3);
    }

    #[test]
    fn one_shot_takes_the_loudest_breach_and_ignores_for() {
        let r = one_shot(&close_wait(2500.0));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].level, Level::Critical);
        assert_eq!(r[0].threshold, Some(2000.0));
        assert!(!r[0].for_evaluated);
        assert_eq!(r[0].for_.as_deref(), Some("5m"));
        let r = one_shot(&close_wait(1500.0));
        assert_eq!(r[0].level, Level::Warning);
        let r = one_shot(&close_wait(5.0));
        assert_eq!(r[0].level, Level::Ok);
        assert_eq!(r[0].threshold, Some(1000.0));
    }

    #[test]
    fn short_durations() {
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_secs(180)), "3m");
        assert_eq!(short_duration(Duration::from_secs(3900)), "1h5m");
        assert_eq!(short_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(short_duration(Duration::from_secs(90_000)), "1d1h");
    }
}
