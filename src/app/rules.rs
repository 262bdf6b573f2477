//! TEMPORARY stand-in for the lead's `crate::rules` (AlertBook, Condition, ...), written against
//! the agreed contract so the TUI can be built and tested before `rules/` lands on main. It is
//! replaced by `crate::rules` at merge time; nothing outside `app/` and `ui/` names it directly.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::domain::Level;
use crate::domain::sockets::SocketSnapshot;
use crate::sources::SourceId;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub source: SourceId,
    pub rule: String,
    pub subject: String,
    pub level: Level,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub key: AlertKey,
    pub breached: bool,
    pub value: f64,
    pub threshold: f64,
    pub for_: Duration,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPhase {
    Pending { since: Instant, needed: Duration },
    Firing { since: Instant },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub note: String,
    pub at: jiff::Timestamp,
}

#[derive(Debug, Clone)]
pub struct Alert {
    pub key: AlertKey,
    pub phase: AlertPhase,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
    pub since_wall: jiff::Timestamp,
    pub ack: Option<Ack>,
}

impl Alert {
    pub fn pending_progress(&self, now: Instant) -> Option<(Duration, Duration)> {
        match self.phase {
            AlertPhase::Pending { since, needed } => {
                Some((now.saturating_duration_since(since), needed))
            }
            AlertPhase::Firing { .. } => None,
        }
    }
    pub fn is_firing(&self) -> bool {
        matches!(self.phase, AlertPhase::Firing { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    Pending,
    Firing,
    Cleared,
    Acknowledged,
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub kind: TransitionKind,
    pub alert: Alert,
    pub at_wall: jiff::Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct AlertBook {
    active: BTreeMap<AlertKey, Alert>,
    history: VecDeque<Transition>,
    cap: usize,
}

impl AlertBook {
    pub fn new(history_cap: usize) -> Self {
        AlertBook {
            active: BTreeMap::new(),
            history: VecDeque::new(),
            cap: history_cap.max(1),
        }
    }

    fn record(&mut self, t: Transition) {
        if self.history.len() >= self.cap {
            self.history.pop_back();
        }
        self.history.push_front(t);
    }

    pub fn observe(
        &mut self,
        source: SourceId,
        conditions: &[Condition],
        now: Instant,
        wall: jiff::Timestamp,
    ) -> Vec<Transition> {
        let mut out = Vec::new();
        for c in conditions {
            if !c.breached {
                continue;
            }
            let entry = self.active.get_mut(&c.key);
            match entry {
                Some(a) => {
                    a.value = c.value;
                    a.message = c.message.clone();
                    if let AlertPhase::Pending { since, needed } = a.phase
                        && now.saturating_duration_since(since) >= needed
                    {
                        a.phase = AlertPhase::Firing { since: now };
                        out.push(Transition {
                            kind: TransitionKind::Firing,
                            alert: a.clone(),
                            at_wall: wall,
                        });
                    }
                }
                None => {
                    let firing = c.for_.is_zero();
                    let a = Alert {
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
                        message: c.message.clone(),
                        since_wall: wall,
                        ack: None,
                    };
                    let kind = if firing {
                        TransitionKind::Firing
                    } else {
                        TransitionKind::Pending
                    };
                    out.push(Transition {
                        kind,
                        alert: a.clone(),
                        at_wall: wall,
                    });
                    self.active.insert(c.key.clone(), a);
                }
            }
        }
        let breached: Vec<&AlertKey> = conditions
            .iter()
            .filter(|c| c.breached)
            .map(|c| &c.key)
            .collect();
        let gone: Vec<AlertKey> = self
            .active
            .keys()
            .filter(|k| k.source == source && !breached.contains(k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(a) = self.active.remove(&k) {
                out.push(Transition {
                    kind: TransitionKind::Cleared,
                    alert: a,
                    at_wall: wall,
                });
            }
        }
        for t in &out {
            self.record(t.clone());
        }
        out
    }

    pub fn active(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.active.values().collect();
        v.sort_by(|a, b| {
            b.is_firing()
                .cmp(&a.is_firing())
                .then(b.key.level.cmp(&a.key.level))
                .then(a.since_wall.cmp(&b.since_wall))
        });
        v
    }

    pub fn history(&self) -> impl Iterator<Item = &Transition> {
        self.history.iter()
    }

    pub fn acknowledge(
        &mut self,
        key: &AlertKey,
        note: String,
        wall: jiff::Timestamp,
    ) -> Option<Transition> {
        let a = self.active.get_mut(key)?;
        a.ack = Some(Ack { note, at: wall });
        let t = Transition {
            kind: TransitionKind::Acknowledged,
            alert: a.clone(),
            at_wall: wall,
        };
        self.record(t.clone());
        Some(t)
    }

    pub fn worst_firing(&self) -> Option<Level> {
        self.active
            .values()
            .filter(|a| a.is_firing())
            .map(|a| a.key.level)
            .max()
    }
}

/// Thresholds for the socket rules (SPEC.md defaults).
#[derive(Debug, Clone)]
pub struct SocketRules {
    pub close_wait_warning: u64,
    pub close_wait_warning_for: Duration,
    pub close_wait_critical: u64,
    pub close_wait_critical_for: Duration,
    pub accept_queue_critical_pct: f64,
    pub fd_warning_pct: f64,
    pub fd_critical_pct: f64,
    pub time_wait_warning: u64,
    pub conntrack_warning_pct: f64,
    pub conntrack_critical_pct: f64,
}

impl Default for SocketRules {
    fn default() -> Self {
        SocketRules {
            close_wait_warning: 1000,
            close_wait_warning_for: Duration::from_secs(15 * 60),
            close_wait_critical: 2000,
            close_wait_critical_for: Duration::from_secs(5 * 60),
            accept_queue_critical_pct: 90.0,
            fd_warning_pct: 80.0,
            fd_critical_pct: 95.0,
            time_wait_warning: 20000,
            conntrack_warning_pct: 80.0,
            conntrack_critical_pct: 95.0,
        }
    }
}

pub mod sockets {
    use super::*;
    use crate::domain::sockets::TcpState;

    fn cond(
        rule: &str,
        subject: String,
        level: Level,
        value: f64,
        threshold: f64,
        for_: Duration,
        message: String,
    ) -> Condition {
        Condition {
            key: AlertKey {
                source: SourceId::Sockets,
                rule: rule.into(),
                subject,
                level,
            },
            breached: value > threshold,
            value,
            threshold,
            for_,
            message,
        }
    }

    pub fn evaluate(s: &SocketSnapshot, r: &SocketRules) -> Vec<Condition> {
        let cw = s.states.get(TcpState::CloseWait) as f64;
        let mut out = vec![
            cond(
                "close_wait",
                "host".into(),
                Level::Warning,
                cw,
                r.close_wait_warning as f64,
                r.close_wait_warning_for,
                format!("{cw} sockets in CLOSE_WAIT"),
            ),
            cond(
                "close_wait",
                "host".into(),
                Level::Critical,
                cw,
                r.close_wait_critical as f64,
                r.close_wait_critical_for,
                format!("{cw} sockets in CLOSE_WAIT"),
            ),
        ];
        let tw = s.states.get(TcpState::TimeWait) as f64;
        out.push(cond(
            "time_wait",
            "host".into(),
            Level::Warning,
            tw,
            r.time_wait_warning as f64,
            Duration::ZERO,
            format!("{tw} sockets in TIME_WAIT"),
        ));
        if let Some(rate) = s.listen.overflows_per_sec {
            out.push(cond(
                "listen_overflows",
                "host".into(),
                Level::Warning,
                rate,
                0.0,
                Duration::ZERO,
                format!("ListenOverflows {rate:.1}/s"),
            ));
        }
        for l in &s.listeners {
            let p = l.fill_pct();
            let mut c = cond(
                "accept_queue",
                l.local.to_string(),
                Level::Critical,
                p,
                r.accept_queue_critical_pct,
                Duration::ZERO,
                format!("accept queue {}/{} on {}", l.queued, l.backlog, l.local),
            );
            c.breached = p >= r.accept_queue_critical_pct;
            out.push(c);
        }
        for f in &s.fd_usage {
            if let Some(p) = f.pct() {
                let subj = format!("pid {}", f.pid);
                out.push(cond(
                    "fd_usage",
                    subj.clone(),
                    Level::Warning,
                    p,
                    r.fd_warning_pct,
                    Duration::ZERO,
                    format!("{} fds {:.0}% of limit", f.comm, p),
                ));
                out.push(cond(
                    "fd_usage",
                    subj,
                    Level::Critical,
                    p,
                    r.fd_critical_pct,
                    Duration::ZERO,
                    format!("{} fds {:.0}% of limit", f.comm, p),
                ));
            }
        }
        if let Some(ct) = s.conntrack {
            let p = ct.pct();
            out.push(cond(
                "conntrack",
                "host".into(),
                Level::Warning,
                p,
                r.conntrack_warning_pct,
                Duration::ZERO,
                format!("conntrack {:.0}% full", p),
            ));
            out.push(cond(
                "conntrack",
                "host".into(),
                Level::Critical,
                p,
                r.conntrack_critical_pct,
                Duration::ZERO,
                format!("conntrack {:.0}% full", p),
            ));
        }
        out
    }
}
