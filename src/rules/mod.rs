//! Danger evaluation. Two pure steps:
//! 1. per source, `evaluate(&snapshot, &rules) -> Vec<Condition>`: which thresholds are breached
//!    right now (no notion of time);
//! 2. [`AlertBook::observe`] turns conditions into alerts over time: a breached rule with a `for`
//!    duration is PENDING (with progress, "pending 3m/15m") until it has held that long, then
//!    FIRING; when it stops holding, the alert is CLEARED. Time is passed in, so tests use a fake
//!    clock. One-shot `check` skips step 2 ([`one_shot`]): `for` is not evaluated there.

pub mod hook;
pub mod pods;
pub mod pvcs;
pub mod sockets;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{Comparison, ThresholdRule};
use crate::domain::Level;
use crate::domain::SourceId;

/// Identifies one alert: a rule at one level, about one subject ("host", "pid 42 (java)").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub source: SourceId,
    pub rule: String,
    pub subject: String,
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
}

impl Condition {
    /// Checks `value` against `rule`. `message` describes the value in plain words.
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
        }
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

/// Something that happened to an alert; what the history shows and the alert hook receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub kind: TransitionKind,
    pub alert: Alert,
    pub at_wall: jiff::Timestamp,
}

/// Active alerts and a bounded history of transitions.
#[derive(Debug, Clone)]
pub struct AlertBook {
    active: BTreeMap<AlertKey, Alert>,
    history: VecDeque<Transition>,
    history_cap: usize,
}

impl AlertBook {
    pub fn new(history_cap: usize) -> Self {
        AlertBook {
            active: BTreeMap::new(),
            history: VecDeque::with_capacity(history_cap.min(1024)),
            history_cap: history_cap.max(1),
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
        let mut out = Vec::new();
        let mut still: std::collections::BTreeSet<&AlertKey> = Default::default();
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
        for t in &out {
            self.record(t.clone());
        }
        out
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
        Some(t)
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
        v.sort_by(|a, b| {
            b.is_firing()
                .cmp(&a.is_firing())
                .then(b.key.level.cmp(&a.key.level))
                .then(a.since_wall.cmp(&b.since_wall))
                .then(a.key.cmp(&b.key))
        });
        v
    }

    pub fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.active.get(key)
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
