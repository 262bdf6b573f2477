//! How an alert reads to a person: a human title per rule (the rule id stays in the detail) and
//! the value and limit in their units (`OOMKilled 12m ago`, `for 3h`, `10,087 sockets`,
//! `92% of backlog`), never raw seconds. The rule builds a [`Shown`] with its condition; the TUI,
//! `check`, the alert hook and Alertmanager all render that one value, so they use the same words.

use std::borrow::Cow;

use compact_str::{CompactString, format_compact};

use crate::config::Comparison;

use super::short_duration;

/// The human title of a rule id; `None` for a rule this table does not know (the id is shown).
pub fn rule_title(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "close_wait" => "CLOSE_WAIT sockets",
        "time_wait" => "TIME_WAIT sockets",
        "listen_overflows_per_sec" => "Listen overflows",
        "accept_queue_pct" => "Listen queue full",
        "process_fd_pct" => "Process fds high",
        "conntrack_pct" => "Conntrack filling",
        "pod_waiting_reason" => "Pod not starting",
        "pod_oom_killed" => "Pod OOM-killed",
        "pod_restarts_increased" => "Pod restarting",
        "pod_not_ready" => "Pod not Ready",
        "pod_pending" => "Pod stuck Pending",
        "pod_terminating" => "Pod stuck Terminating",
        "pod_failed" => "Pod failed",
        "pvc_terminating_in_use" => "PVC deleted while in use",
        "pvc_lost" => "PVC lost",
        "pvc_pending" => "PVC stuck Pending",
        "pvc_reclaim_delete" => "PVC reclaim Delete",
        "pv_released" => "PV orphaned",
        "probe_failing" => "Probe failing",
        "probe_slo" => "Probe over its SLO",
        "probe_timeout_below_p99" => "Probe timeout below p99",
        _ => return None,
    })
}

/// The title of `rule`, or the rule id itself when it has none.
pub fn title_or_id(rule: &str) -> Cow<'static, str> {
    match rule_title(rule) {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(rule.to_string()),
    }
}

/// A measured value in its unit. Time-based values keep their timestamp and are rendered
/// against the clock when shown, so `12m ago` keeps counting between updates.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// A number without a unit (a rule that gives nothing better).
    Number(f64),
    /// `10,087 sockets`.
    Count { n: u64, noun: &'static str },
    /// `92% of backlog`.
    Percent { pct: f64, of: &'static str },
    /// `2.5/s` (the title says of what; `noun` is for the limit's words).
    Rate { per_sec: f64, noun: &'static str },
    /// `CrashLoopBackOff for 3h` (`for 3h` when `what` is empty): a state since `since`.
    For {
        what: String,
        since: jiff::Timestamp,
    },
    /// `OOMKilled 12m ago`: an event at `at`.
    Ago { what: String, at: jiff::Timestamp },
    /// Fixed words (`Lost`, `reclaim Delete`).
    Text(String),
}

impl Shown {
    /// The value in words at wall-clock time `now`.
    pub fn render(&self, now: jiff::Timestamp) -> CompactString {
        match self {
            Shown::Number(v) => number(*v).into(),
            Shown::Count { n, noun } => format_compact!("{} {noun}", group(*n)),
            Shown::Percent { pct, of } => format_compact!("{pct:.0}% of {of}"),
            Shown::Rate { per_sec, .. } => format_compact!("{per_sec:.1}/s"),
            Shown::For { what, since } => {
                let d = age(now, *since);
                if what.is_empty() {
                    format_compact!("for {d}")
                } else {
                    format_compact!("{what} for {d}")
                }
            }
            Shown::Ago { what, at } => {
                let d = age(now, *at);
                if what.is_empty() {
                    format_compact!("{d} ago")
                } else {
                    format_compact!("{what} {d} ago")
                }
            }
            Shown::Text(t) => t.into(),
        }
    }

    /// The limit in the same unit (`> 2,000`, `>= 90%`, `> 2m`, `within 1h`); empty for rules
    /// that fire on the state itself (threshold 0 on a time or text value).
    pub fn limit(&self, op: Comparison, threshold: f64) -> CompactString {
        let sym = op.symbol();
        match self {
            Shown::Number(_) => format_compact!("{sym} {}", number(threshold)),
            Shown::Count { .. } => format_compact!("{sym} {}", group(threshold.max(0.0) as u64)),
            Shown::Percent { .. } => format_compact!("{sym} {threshold:.0}%"),
            Shown::Rate { .. } => format_compact!("{sym} {threshold:.1}/s"),
            Shown::For { .. } if threshold > 0.0 => format_compact!("{sym} {}", secs(threshold)),
            Shown::Ago { .. } if threshold > 0.0 => format_compact!("within {}", secs(threshold)),
            Shown::For { .. } | Shown::Ago { .. } | Shown::Text(_) => CompactString::default(),
        }
    }
}

fn age(now: jiff::Timestamp, since: jiff::Timestamp) -> CompactString {
    short_duration(now.duration_since(since).unsigned_abs())
}

fn secs(v: f64) -> CompactString {
    short_duration(std::time::Duration::from_secs_f64(v.clamp(0.0, 1e12)))
}

/// Integers without a fraction, others with one decimal.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        if v >= 0.0 {
            group(v as u64).into()
        } else {
            format!("-{}", group((-v) as u64))
        }
    } else {
        format!("{v:.1}")
    }
}

/// 12345 -> "12,345": counts are read from across the room.
pub fn group(n: u64) -> compact_str::CompactString {
    // At most 26 characters (20 digits, 6 commas): inline or one allocation, never two.
    let digits = compact_str::ToCompactString::to_compact_string(&n);
    let mut out = compact_str::CompactString::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + s).expect("valid")
    }

    #[test]
    fn values_read_in_their_units() {
        let now = t(10_800);
        let oom = Shown::Ago {
            what: "OOMKilled".into(),
            at: t(10_800 - 720),
        };
        assert_eq!(oom.render(now), "OOMKilled 12m ago");
        assert_eq!(oom.limit(Comparison::AtMost, 3600.0), "within 1h");
        let crash = Shown::For {
            what: String::new(),
            since: t(0),
        };
        assert_eq!(crash.render(now), "for 3h");
        assert_eq!(crash.limit(Comparison::Above, 0.0), "");
        let cw = Shown::Count {
            n: 10_087,
            noun: "sockets",
        };
        assert_eq!(cw.render(now), "10,087 sockets");
        assert_eq!(cw.limit(Comparison::Above, 2000.0), "> 2,000");
        let q = Shown::Percent {
            pct: 92.2,
            of: "backlog",
        };
        assert_eq!(q.render(now), "92% of backlog");
        assert_eq!(q.limit(Comparison::AtLeast, 90.0), ">= 90%");
        let nr = Shown::For {
            what: "not Ready".into(),
            since: t(10_800 - 300),
        };
        assert_eq!(nr.render(now), "not Ready for 5m");
        assert_eq!(nr.limit(Comparison::Above, 120.0), "> 2m");
    }

    #[test]
    fn every_built_in_rule_has_a_title() {
        for id in [
            "close_wait",
            "accept_queue_pct",
            "pod_oom_killed",
            "pvc_terminating_in_use",
        ] {
            assert!(rule_title(id).is_some(), "{id}");
        }
        assert_eq!(rule_title("pod_oom_killed"), Some("Pod OOM-killed"));
        assert_eq!(title_or_id("some_new_rule"), "some_new_rule");
        assert_eq!(number(1234.0), "1,234");
        assert_eq!(number(2.26), "2.3");
    }
}
