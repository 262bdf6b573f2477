//! The pods' rows between snapshots: [`RowBook`] evaluates a pod when it changes, and a
//! time-sensitive one again when its verdict or wording can next change ([`recheck_at`]), and
//! shares each row's text with its compact pod. `check` builds its rows once with
//! [`build_rows`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::{RECHECK, RECHECK_CRITICAL, StoreChanges};
use crate::config::PodRules;
use crate::domain::compact::{CompactPod, Stamp};
use crate::domain::pods::{PodKey, PodRow, sort_by_danger};
use crate::domain::text::{Clean, Interner};
use crate::rules::pods::{NextChange, PodHistory, row_with_status};

/// Evaluates one pod at `now` with its history (updated: restarts seen, troubles first seen).
pub fn evaluate_pod(
    pod: &Arc<CompactPod>,
    history: &mut PodHistory,
    rules: &PodRules,
    now: Timestamp,
) -> PodRow {
    evaluate_pod_next(pod, history, rules, now, &mut Interner::default()).0
}

/// [`evaluate_pod`], and when the row can next change with the pod unchanged.
fn evaluate_pod_next(
    pod: &Arc<CompactPod>,
    history: &mut PodHistory,
    rules: &PodRules,
    now: Timestamp,
    text: &mut Interner,
) -> (PodRow, NextChange) {
    let full = pod.to_pod();
    let st = crate::domain::pods::kubectl_status(&full);
    history.observe_restarts(now, st.restarts);
    let (mut r, next) = row_with_status(&full, st, Some(history), rules, now);
    let pending = crate::rules::pods::threshold_trouble_keys(&full);
    history.mark_seen(r.reasons.iter().map(|r| r.rule.name()).chain(pending), now);
    share_text(&mut r, pod, text);
    r.pod = Some(Arc::clone(pod));
    (r, next)
}

/// Points the row's text at the compact pod's own strings (names, node, owner, phase, claims)
/// and at shared copies of its READY and STATUS (a few distinct values over thousands of
/// pods) instead of keeping a copy of each per row.
fn share_text(r: &mut PodRow, pod: &CompactPod, text: &mut Interner) {
    fn same(slot: &mut Clean, shared: &Clean) {
        if *slot == *shared {
            *slot = shared.clone();
        }
    }
    same(&mut r.namespace, &pod.namespace);
    same(&mut r.name, &pod.name);
    if let (Some(n), Some(shared)) = (r.node.as_mut(), pod.node.as_ref()) {
        same(n, shared);
    }
    if let (Some(p), Some(shared)) = (r.phase.as_mut(), pod.phase.as_ref()) {
        same(p, shared);
    }
    if let (Some(o), Some((kind, name))) = (r.owner.as_mut(), pod.owner.as_ref()) {
        same(&mut o.kind, kind);
        same(&mut o.name, name);
    }
    for (c, v) in r.claims.iter_mut().zip(pod.claims.iter()) {
        same(c, &v.claim);
    }
    r.ready = text.get(&r.ready);
    r.status = text.get(&r.status);
}

/// When to evaluate a time-sensitive pod again: when a reason can appear or go (the rules'
/// `flip`), or its wording change (no sooner than [`RECHECK`]), and never later than
/// [`RECHECK_CRITICAL`] (a bound for anything the rules do not foresee).
pub fn recheck_at(next: NextChange, now: Timestamp) -> Timestamp {
    let after = |d: Duration| now + jiff::SignedDuration::try_from(d).unwrap_or_default();
    let wording = next.wording.map(|w| w.max(after(RECHECK)));
    let latest = after(RECHECK_CRITICAL);
    [next.flip, wording]
        .into_iter()
        .flatten()
        .min()
        .map_or(latest, |at| at.min(latest))
        .max(after(Duration::from_secs(1)))
}

/// Builds rows for every pod in `pods`, updating per-pod histories (and forgetting pods that
/// are gone). Pure apart from the histories it is given.
pub fn build_rows(
    pods: &[Arc<CompactPod>],
    histories: &mut HashMap<String, PodHistory>,
    rules: &PodRules,
    now: Timestamp,
) -> Vec<PodRow> {
    let mut rows = Vec::with_capacity(pods.len());
    let mut alive = HashSet::with_capacity(pods.len());
    for p in pods {
        let id = p
            .uid
            .as_deref()
            .map(String::from)
            .unwrap_or_else(|| p.key().to_string());
        let h = histories.entry(id.clone()).or_default();
        rows.push(evaluate_pod(p, h, rules, now));
        alive.insert(id);
    }
    histories.retain(|k, _| alive.contains(k));
    sort_by_danger(&mut rows);
    rows
}

/// Whether time alone can change a pod's verdict: anything but a pod with nothing wrong that
/// is running and ready (or succeeded) and not being deleted. (Restart and OOM windows only
/// ever expire, so a pod with no reason now gets none from time passing.)
fn time_sensitive(pod: &CompactPod, row: &PodRow) -> bool {
    let settled = row.reasons.is_empty()
        && pod.deleted.is_none()
        && match pod.phase.as_deref() {
            Some("Succeeded") => true,
            Some("Running") => pod.condition_true("Ready"),
            _ => false,
        };
    !settled
}

/// Whether two rows of a pod differ in more than their wording (a change here is sent at
/// once): compared in place, without collecting either row's reasons.
fn material_change(a: &PodRow, b: &PodRow) -> bool {
    fn head(r: &PodRow) -> impl PartialEq + '_ {
        (
            r.level,
            &r.status,
            &r.ready,
            r.restarts,
            r.last_restart,
            &r.node,
            &r.phase,
        )
    }
    let reason = |x: &crate::domain::pods::PodReason| (x.rule, x.level, x.since);
    head(a) != head(b)
        || !a
            .reasons
            .iter()
            .map(reason)
            .eq(b.reasons.iter().map(reason))
}

/// A pod's place in the recheck schedule, ordered by time, then by when it was scheduled:
/// thousands of pods fall due in the same second, and ordering ties by the pods' names
/// compared two strings per comparison of the heap.
struct Due {
    at: Stamp,
    seq: u64,
    key: PodKey,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Tracked {
    pod: Arc<CompactPod>,
    /// Shared with the snapshots sent (a snapshot copies pointers, not rows).
    row: Arc<PodRow>,
    history: PodHistory,
    /// When to evaluate again with nothing changed (`None`: only on change), to the second
    /// rounded up (never before the verdict can change; 8 bytes in 20k entries, not 24).
    recheck: Option<Stamp>,
}

/// The rows of every pod, kept between snapshots: a changed pod is evaluated again, a pod whose
/// verdict time can change when it can next change ([`recheck_at`]), a settled one never (until
/// it changes).
#[derive(Default)]
pub struct RowBook {
    tracked: HashMap<PodKey, Tracked>,
    /// Some row's wording changed since the last [`RowBook::rows`].
    text_changed: bool,
    /// Pod evaluations so far (what the work-follows-change tests and benches count).
    evaluations: u64,
    /// Pods by recheck time, soonest first: an idle tick looks at the top, not at every pod.
    /// An entry whose pod has since been evaluated again (or gone) no longer matches its
    /// [`Tracked::recheck`] and is dropped when it comes up.
    schedule: BinaryHeap<Reverse<Due>>,
    /// Pushes so far: the schedule's tie-break.
    pushed: u64,
    /// The rows' READY and STATUS texts, shared (purged with the pods' interner).
    text: Interner,
}

impl RowBook {
    pub fn len(&self) -> usize {
        self.tracked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracked.is_empty()
    }

    /// Pod evaluations so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    fn evaluate(
        &mut self,
        key: PodKey,
        pod: Arc<CompactPod>,
        rules: &PodRules,
        now: Timestamp,
    ) -> bool {
        self.evaluations += 1;
        let due = match self.tracked.get_mut(&key) {
            Some(t) => {
                // Another uid under the same name is another pod: its own history.
                if t.pod.uid != pod.uid {
                    t.history = PodHistory::default();
                }
                t.pod = pod;
                let (row, next) =
                    evaluate_pod_next(&t.pod, &mut t.history, rules, now, &mut self.text);
                t.recheck =
                    time_sensitive(&t.pod, &row).then(|| Stamp::ceil(recheck_at(next, now)));
                let material_change = material_change(&row, &t.row);
                if !material_change && row.reasons != t.row.reasons {
                    self.text_changed = true;
                }
                t.row = Arc::new(row);
                (t.recheck, material_change)
            }
            None => {
                let mut history = PodHistory::default();
                let (row, next) = evaluate_pod_next(&pod, &mut history, rules, now, &mut self.text);
                let recheck =
                    time_sensitive(&pod, &row).then(|| Stamp::ceil(recheck_at(next, now)));
                self.tracked.insert(
                    key.clone(),
                    Tracked {
                        pod,
                        row: Arc::new(row),
                        history,
                        recheck,
                    },
                );
                (recheck, true)
            }
        };
        if let Some(at) = due.0 {
            self.pushed += 1;
            self.schedule.push(Reverse(Due {
                at,
                seq: self.pushed,
                key,
            }));
        }
        due.1
    }

    /// Applies what changed in the store; `true` when a row changed materially.
    pub fn apply(&mut self, changes: StoreChanges, rules: &PodRules, now: Timestamp) -> bool {
        let mut changed = false;
        match changes {
            StoreChanges::All(pods) => {
                let mut alive = HashSet::with_capacity(pods.len());
                for p in pods {
                    let key = p.key();
                    alive.insert(key.clone());
                    if self
                        .tracked
                        .get(&key)
                        .is_some_and(|t| Arc::ptr_eq(&t.pod, &p) || *t.pod == *p)
                    {
                        continue;
                    }
                    changed |= self.evaluate(key, p, rules, now);
                }
                let before = self.tracked.len();
                self.tracked.retain(|k, _| alive.contains(k));
                changed |= self.tracked.len() != before;
                self.text.purge();
            }
            StoreChanges::Some(list) => {
                for (key, pod) in list {
                    match pod {
                        Some(p) => changed |= self.evaluate(key, p, rules, now),
                        None => changed |= self.tracked.remove(&key).is_some(),
                    }
                }
            }
        }
        changed
    }

    /// Evaluates again the pods whose recheck time has come; `true` when a row changed
    /// materially.
    pub fn recheck(&mut self, rules: &PodRules, now: Timestamp) -> bool {
        let mut due: Vec<(PodKey, Arc<CompactPod>)> = Vec::new();
        while self
            .schedule
            .peek()
            .is_some_and(|Reverse(d)| d.at.get() <= now)
        {
            let Some(Reverse(Due { at, key, .. })) = self.schedule.pop() else {
                break;
            };
            if let Some(t) = self.tracked.get_mut(&key)
                && t.recheck == Some(at)
            {
                // Taken: a duplicate entry for the same time no longer matches.
                t.recheck = None;
                let pod = Arc::clone(&t.pod);
                due.push((key, pod));
            }
        }
        let mut changed = false;
        for (k, p) in due {
            changed |= self.evaluate(k, p, rules, now);
        }
        changed
    }

    /// Some row's wording changed since the rows were last taken.
    pub fn text_changed(&self) -> bool {
        self.text_changed
    }

    /// Every row, sorted by danger. The rows are shared with the book (a pointer per row, no
    /// copy of a row): a snapshot of 20k pods costs 160 KB, not a second set of rows.
    pub fn rows(&mut self) -> Vec<Arc<PodRow>> {
        self.text_changed = false;
        let mut order: Vec<Arc<PodRow>> =
            self.tracked.values().map(|t| Arc::clone(&t.row)).collect();
        order.sort_by(|a, b| crate::domain::pods::danger_order(a, b));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;
    use crate::domain::pods::{PodReason, PodRule};

    fn row() -> PodRow {
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running"}
        }))
        .expect("a pod");
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
        crate::rules::pods::row(&pod, None, &PodRules::default(), now)
    }

    fn reason(rule: PodRule, text: &str, since: i64) -> PodReason {
        PodReason {
            rule,
            level: Level::Warning,
            text: text.into(),
            since: Some(Timestamp::from_second(since).expect("in range")),
            value: 1.0,
            threshold: 0.0,
        }
    }

    #[test]
    fn only_more_than_wording_is_a_material_change() {
        let mut a = row();
        a.reasons = vec![reason(PodRule::NotReady, "not Ready for 3m", 1_800_000_000)];
        let mut b = a.clone();
        assert!(!material_change(&a, &b));
        // Wording and measured value only: not material.
        b.reasons[0].text = "not Ready for 4m".into();
        b.reasons[0].value = 240.0;
        assert!(!material_change(&a, &b));
        // A reason's start, its level, a reason more or less, the status: material.
        let mut c = b.clone();
        c.reasons[0].since = Some(Timestamp::from_second(1_800_000_001).expect("in range"));
        assert!(material_change(&a, &c));
        let mut c = b.clone();
        c.reasons[0].level = Level::Critical;
        assert!(material_change(&a, &c));
        let mut c = b.clone();
        c.reasons
            .push(reason(PodRule::Pending, "Pending for 6m", 1_800_000_000));
        assert!(material_change(&a, &c) && material_change(&c, &a));
        let mut c = b.clone();
        c.reasons.clear();
        assert!(material_change(&a, &c));
        let mut c = b.clone();
        c.status = Clean::new("Error");
        assert!(material_change(&a, &c));
        let mut c = b;
        c.restarts += 1;
        assert!(material_change(&a, &c));
    }
}
