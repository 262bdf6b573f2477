//! The alert book: active alerts, a bounded history of transitions, and the groups (one per
//! rule and level) folded from them once per change, never per frame.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use super::*;

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
    /// Boxed: a B-tree node holds eleven entries in place, and an alert is a few hundred bytes;
    /// with a thousand alerts the half-empty nodes cost more than the alerts themselves.
    active: BTreeMap<AlertKey, Box<Alert>>,
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
                                alert: Alert::clone(alert),
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
                    self.active.insert(c.key.clone(), Box::new(alert));
                }
            }
        }
        // Keys order by source first: only this source's alerts are visited (a sockets update
        // every second does not walk thousands of pod and certificate alerts).
        let gone: Vec<AlertKey> = self
            .active_of(source)
            .map(|a| &a.key)
            .filter(|k| !still.contains(k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(alert) = self.active.remove(&key) {
                // A pending alert that stops holding never fired: nothing to clear.
                if alert.is_firing() {
                    out.push(Transition {
                        kind: TransitionKind::Cleared,
                        alert: *alert,
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
            .and_then(|k| self.active.get(k).map(|a| &**a))
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
            .map(|a| &**a)
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
            alert: Alert::clone(alert),
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
        let first = Alert::clone(members.first().and_then(|k| self.active.get(k))?);
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
        let mut v: Vec<&Alert> = self.active.values().map(|a| &**a).collect();
        v.sort_by(|a, b| rank(a, b));
        v
    }

    /// The active alerts of one source, in key order: keys order by source first, so only
    /// that source's alerts are visited (not thousands of pod and certificate alerts).
    pub fn active_of(&self, source: SourceId) -> impl Iterator<Item = &Alert> {
        let first = AlertKey {
            source,
            rule: KeyText::empty(),
            subject: KeyText::empty(),
            level: Level::Ok,
        };
        self.active
            .range(first..)
            .map(|(_, a)| &**a)
            .take_while(move |a| a.key.source == source)
    }

    /// Every active alert, unordered (Alertmanager's full state).
    pub fn all(&self) -> impl Iterator<Item = &Alert> {
        self.active.values().map(|a| &**a)
    }

    /// The shown alerts (a firing louder level folds the quieter one), ranked. Folded once per
    /// change of the book.
    pub fn shown(&self) -> impl Iterator<Item = &Alert> + '_ {
        self.shown
            .iter()
            .filter_map(|k| self.active.get(k).map(|a| &**a))
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
        self.active.get(key).map(|a| &**a)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Comparison, ThresholdRule};

    const NOW: ThresholdRule = ThresholdRule::new(Level::Critical, Comparison::Above, 0.0, 0);

    fn pod(subject: &str) -> Condition {
        Condition::check(
            SourceId::Pods,
            "pod_oom_killed",
            format!("shop/{subject}"),
            &NOW,
            1.0,
            "m".into(),
        )
    }

    /// `a` and `b` are the same strings in the same allocations.
    fn same(a: &AlertKey, b: &AlertKey) -> bool {
        a == b && KeyText::ptr_eq(&a.rule, &b.rule) && KeyText::ptr_eq(&a.subject, &b.subject)
    }

    /// Every copy of `key` the book keeps shares `key`'s strings.
    fn assert_shared(book: &AlertBook, key: &AlertKey) {
        let (k, a) = book.active.get_key_value(key).expect("active");
        assert!(same(k, key), "active map key {k:?}");
        assert!(same(&a.key, key), "Alert.key {:?}", a.key);
        let s = book.shown.iter().find(|k| *k == key).expect("shown");
        assert!(same(s, key), "shown {s:?}");
        let g = book.group(&key.group_key()).expect("group");
        assert!(KeyText::ptr_eq(&g.key.rule, &key.rule), "group key");
        let m = g.members.iter().find(|k| *k == key).expect("member");
        assert!(same(m, key), "group member {m:?}");
    }

    #[test]
    fn the_book_shares_the_strings_of_the_keys_that_entered_it() {
        let t0 = Instant::now();
        let wall = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        let mut book = AlertBook::new(100);
        let first = [pod("api-1"), pod("api-2")];
        // One rule id allocation for every condition of the rule.
        assert!(KeyText::ptr_eq(&first[0].key.rule, &first[1].key.rule));
        let changes = book.observe_changes(SourceId::Pods, &first, t0, wall);
        for c in &first {
            assert_shared(&book, &c.key);
            let t = changes.alerts.iter().find(|t| t.alert.key == c.key);
            assert!(same(&t.expect("transition").alert.key, &c.key));
        }
        let g = &changes.groups[0];
        assert!(KeyText::ptr_eq(&g.key.rule, &first[0].key.rule));
        assert!(
            g.subjects
                .iter()
                .any(|s| KeyText::ptr_eq(s, &first[0].key.subject))
        );

        // The next evaluation builds equal keys anew; the book keeps the ones it holds, and
        // refolding (a third pod) shares them again.
        let next = [pod("api-1"), pod("api-2"), pod("api-3")];
        assert!(!KeyText::ptr_eq(
            &next[0].key.subject,
            &first[0].key.subject
        ));
        book.observe(SourceId::Pods, &next, t0, wall);
        assert_shared(&book, &first[0].key);
        assert_shared(&book, &first[1].key);
        assert_shared(&book, &next[2].key);
        assert_eq!(book.groups()[0].len(), 3);
    }
}
