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
mod book;
pub mod certs;
pub mod display;
pub mod hook;
mod key;
pub mod pods;
pub mod probes;
pub mod pvcs;
pub mod sockets;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{Comparison, ThresholdRule};
use crate::domain::Level;
use crate::domain::SourceId;

pub use book::AlertBook;
pub use display::{Shown, rule_title, title_or_id};
pub use key::KeyText;

/// Identifies one alert: a rule at one level, about one subject ("host", "pid 42 (java)").
/// A key whose subject is [`AlertKey::GROUP_SUBJECT`] names a whole group (every subject of that
/// rule at that level): what the alerts pane hands to the acknowledgement of a group row.
///
/// Its texts are shared ([`KeyText`]): cloning a key does not allocate, and every copy the
/// book keeps points at the strings of the condition that entered it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub source: SourceId,
    pub rule: KeyText,
    pub subject: KeyText,
    pub level: Level,
}

impl AlertKey {
    /// The subject of a key that names a whole group. No real subject is `*` (subjects are
    /// `host`, `listen ADDR`, `pid N (comm)`, `namespace/name`, `pv/NAME`).
    pub const GROUP_SUBJECT: &'static str = "*";

    /// A key; the rule id is shared with every other key of that rule ([`KeyText::rule`]).
    pub fn new(source: SourceId, rule: &str, subject: impl Into<KeyText>, level: Level) -> Self {
        AlertKey {
            source,
            rule: KeyText::rule(rule),
            subject: subject.into(),
            level,
        }
    }

    pub fn rule(&self) -> &str {
        &self.rule
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

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
            subject: Self::GROUP_SUBJECT.into(),
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
    pub rule: KeyText,
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
        subject: impl Into<KeyText>,
        rule: &ThresholdRule,
        value: f64,
        message: String,
    ) -> Condition {
        Condition {
            key: AlertKey::new(source, rule_name, subject, rule.level),
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
    pub fn value_text(&self, now: jiff::Timestamp) -> compact_str::CompactString {
        self.shown.render(now)
    }

    /// The limit in the value's unit (`> 2,000`, `>= 90%`); empty for state rules.
    pub fn limit_text(&self) -> compact_str::CompactString {
        self.shown.limit(self.op, self.threshold)
    }
}

/// When the wording of a reason true since `since` ("for 14m") next changes after `now`
/// ([`short_duration`]'s units: seconds, minutes, hours past a day). Shared by every rule set
/// whose reason text shows the time in a state, so that their sources schedule by the same units.
pub fn next_wording(since: jiff::Timestamp, now: jiff::Timestamp) -> jiff::Timestamp {
    let d = now.duration_since(since);
    if d.is_negative() {
        // A timestamp ahead of the clock: its wording changes every second.
        return now
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap_or(jiff::Timestamp::MAX);
    }
    let s = d.as_secs();
    let unit = if s < 60 {
        1
    } else if s < 86_400 {
        60
    } else {
        3600
    };
    since
        .checked_add(jiff::SignedDuration::from_secs((s / unit + 1) * unit))
        .unwrap_or(jiff::Timestamp::MAX)
}

/// Compact durations for narrow columns: "45s", "3m", "1h5m", "2d3h".
pub fn short_duration(d: Duration) -> compact_str::CompactString {
    let s = d.as_secs();
    if s < 60 {
        compact_str::format_compact!("{s}s")
    } else if s < 3600 {
        compact_str::format_compact!("{}m", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            compact_str::format_compact!("{}h", s / 3600)
        } else {
            compact_str::format_compact!("{}h{}m", s / 3600, m)
        }
    } else {
        let h = (s % 86_400) / 3600;
        if h == 0 {
            compact_str::format_compact!("{}d", s / 86_400)
        } else {
            compact_str::format_compact!("{}d{}h", s / 86_400, h)
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
    pub fn where_text(&self) -> compact_str::CompactString {
        use compact_str::format_compact;
        if self.members.len() <= 1 {
            return compact_str::CompactString::default();
        }
        let n = display::group(self.members.len() as u64);
        match self.namespaces {
            0 => format_compact!("x{n}"),
            1 => format_compact!("x{n} in 1 namespace"),
            k => format_compact!("x{n} in {} namespaces", display::group(k as u64)),
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
    pub subjects: Vec<KeyText>,
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
                for_: (!for_.is_zero()).then(|| short_duration(for_).into()),
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

    #[test]
    fn an_update_clears_only_its_own_sources_alerts() {
        let t0 = Instant::now();
        let mut book = AlertBook::new(100);
        let now_firing = ThresholdRule::new(Level::Critical, Comparison::Above, 0.0, 0);
        let cond = |source, rule: &str, subject: &str| {
            Condition::check(source, rule, subject, &now_firing, 1.0, "1".into())
        };
        let sources = [
            SourceId::Sockets,
            SourceId::Pods,
            SourceId::Pvcs,
            SourceId::Certs,
        ];
        for (i, s) in sources.into_iter().enumerate() {
            // Rule names that sort before and after other sources' names.
            let conds = [cond(s, "a", "x"), cond(s, "zz", &format!("s{i}"))];
            book.observe(s, &conds, t0, wall(0));
        }
        assert_eq!(book.active().len(), 8);
        // Pods keep one of their two alerts; nothing of any other source goes.
        let tr = book.observe(
            SourceId::Pods,
            &[cond(SourceId::Pods, "a", "x")],
            t0,
            wall(1),
        );
        assert_eq!(tr.len(), 1, "{tr:?}");
        assert_eq!(tr[0].kind, TransitionKind::Cleared);
        assert_eq!(tr[0].alert.key.source, SourceId::Pods);
        assert_eq!(tr[0].alert.key.rule, "zz");
        // PVCs lose both; sockets, pods and certificates keep theirs.
        let tr = book.observe(SourceId::Pvcs, &[], t0, wall(2));
        assert_eq!(tr.len(), 2, "{tr:?}");
        assert!(tr.iter().all(|t| t.alert.key.source == SourceId::Pvcs));
        let left: Vec<SourceId> = book.active().iter().map(|a| a.key.source).collect();
        assert_eq!(left.len(), 5, "{left:?}");
        assert!(!left.contains(&SourceId::Pvcs));
        // The first and the last source in key order clear completely too.
        assert_eq!(book.observe(SourceId::Sockets, &[], t0, wall(3)).len(), 2);
        assert_eq!(book.observe(SourceId::Certs, &[], t0, wall(4)).len(), 2);
        assert_eq!(book.active().len(), 1);
    }
}
