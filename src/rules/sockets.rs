//! Socket danger rules (incidents 2 and 3): CLOSE_WAIT and TIME_WAIT piles, listen-queue
//! overflows, full accept queues, processes near their fd limit, a filling conntrack table.

use crate::config::SocketRules;
use crate::domain::SourceId;
use crate::domain::sockets::{SocketSnapshot, TcpState};

use super::{Condition, Shown};

/// Host-wide rules always yield a condition per threshold (so `check` lists them as ok);
/// per-subject rules (a listener, a process) only when some threshold is breached.
pub fn evaluate(s: &SocketSnapshot, rules: &SocketRules) -> Vec<Condition> {
    let mut out = Vec::new();
    let src = SourceId::Sockets;

    let cw = s.states.get(TcpState::CloseWait);
    let top = s
        .close_wait_by_process
        .first()
        .filter(|p| p.count > 0)
        .map(|p| match p.pid {
            Some(pid) => format!("; most held by {} (pid {pid}): {}", p.comm, group(p.count)),
            None => format!(
                "; {} held by processes that could not be read",
                group(p.count)
            ),
        })
        .unwrap_or_default();
    for r in &rules.close_wait {
        let msg = format!("{} in CLOSE_WAIT ({}){top}", sockets(cw), when(r));
        out.push(
            Condition::check(src, "close_wait", "host", r, cw as f64, msg).shown(Shown::Count {
                n: cw,
                noun: "sockets",
            }),
        );
    }

    let tw = s.states.get(TcpState::TimeWait);
    for r in &rules.time_wait {
        let msg = format!("{} in TIME_WAIT ({})", sockets(tw), when(r));
        out.push(
            Condition::check(src, "time_wait", "host", r, tw as f64, msg).shown(Shown::Count {
                n: tw,
                noun: "sockets",
            }),
        );
    }

    // A rate needs two polls; on the first (and in one-shot `check`) it is not breached.
    let rate = s.listen.overflows_per_sec;
    for r in &rules.listen_overflows_per_sec {
        let (value, msg) = match rate {
            Some(v) => (
                v,
                format!(
                    "ListenOverflows {v:.1}/s (ListenDrops {:.1}/s): accept queues are overflowing",
                    s.listen.drops_per_sec.unwrap_or(0.0)
                ),
            ),
            None => (
                0.0,
                format!(
                    "rate needs two polls; {} overflows since boot",
                    group(s.listen.overflows)
                ),
            ),
        };
        let mut c = Condition::check(src, "listen_overflows_per_sec", "host", r, value, msg).shown(
            Shown::Rate {
                per_sec: value,
                noun: "overflows",
            },
        );
        c.breached &= rate.is_some();
        out.push(c);
    }

    for l in s.listeners.iter().filter(|l| l.backlog > 0) {
        let pct = l.fill_pct();
        let owner = match (&l.comm, l.pid) {
            (Some(c), Some(p)) => format!(" ({c}, pid {p})"),
            _ => String::new(),
        };
        let subject = format!("listen {}{owner}", l.local);
        for r in rules
            .accept_queue_pct
            .iter()
            .filter(|r| r.op.holds(pct, r.value))
        {
            let msg = format!(
                "accept queue {}/{} ({pct:.0}% of backlog) on {}{owner}",
                l.queued, l.backlog, l.local
            );
            out.push(
                Condition::check(src, "accept_queue_pct", subject.as_str(), r, pct, msg)
                    .shown(Shown::Percent { pct, of: "backlog" }),
            );
        }
    }

    for f in &s.fd_usage {
        let Some(pct) = f.pct() else { continue };
        let subject = format!("pid {} ({})", f.pid, f.comm);
        for r in rules
            .process_fd_pct
            .iter()
            .filter(|r| r.op.holds(pct, r.value))
        {
            let msg = format!(
                "{} (pid {}) has {} of {} fds open ({pct:.0}% of its soft limit)",
                f.comm,
                f.pid,
                group(f.open),
                group(f.soft_limit.unwrap_or(0))
            );
            out.push(
                Condition::check(src, "process_fd_pct", subject.as_str(), r, pct, msg)
                    .shown(Shown::Percent { pct, of: "limit" }),
            );
        }
    }

    if let Some(ct) = s.conntrack {
        let pct = ct.pct();
        for r in &rules.conntrack_pct {
            let msg = format!(
                "conntrack {} of {} entries ({pct:.0}%)",
                group(ct.count),
                group(ct.max)
            );
            out.push(
                Condition::check(src, "conntrack_pct", "host", r, pct, msg).shown(Shown::Percent {
                    pct,
                    of: "conntrack table",
                }),
            );
        }
    }
    out
}

/// What the owner column says for sockets no process could be found for: when some processes'
/// fds could not be read (another user's, without privilege) that is the likely reason, and
/// it is said; otherwise the socket's process was not found (it exited mid-scan). Never blank.
pub fn unknown_owner(unreadable_processes: u64) -> &'static str {
    if unreadable_processes > 0 {
        "unknown (permission denied)"
    } else {
        "unknown (no process found)"
    }
}

/// "1 socket", "1,500 sockets".
fn sockets(n: u64) -> String {
    if n == 1 {
        "1 socket".into()
    } else {
        format!("{} sockets", group(n))
    }
}

/// "critical when > 2,000 for 5m": the rule in words, next to the value.
fn when(r: &crate::config::ThresholdRule) -> String {
    let for_ = if r.for_.0.is_zero() {
        String::new()
    } else {
        format!(" for {}", super::short_duration(r.for_.0))
    };
    format!(
        "{} when {} {}{for_}",
        r.level.label().to_lowercase(),
        r.op.symbol(),
        group(r.value as u64)
    )
}

/// 12345 -> "12,345": counts are read from across the room.
pub fn group(n: u64) -> String {
    super::display::group(n).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;
    use crate::domain::sockets::{Conntrack, FdUsage, Listener, ProcessCount};
    use crate::rules::one_shot;

    fn snapshot(close_wait: u64) -> SocketSnapshot {
        let mut s = SocketSnapshot::default();
        s.states.add(TcpState::CloseWait, close_wait);
        s.close_wait_by_process = vec![ProcessCount {
            pid: Some(4242),
            comm: "java".into(),
            count: close_wait,
        }];
        s
    }

    fn level_of(conds: &[Condition], rule: &str) -> Level {
        one_shot(conds)
            .into_iter()
            .filter(|c| c.name == rule)
            .map(|c| c.level)
            .max()
            .unwrap_or(Level::Ok)
    }

    #[test]
    fn close_wait_thresholds_match_the_spec() {
        let rules = SocketRules::default();
        assert_eq!(
            level_of(&evaluate(&snapshot(1000), &rules), "close_wait"),
            Level::Ok
        );
        assert_eq!(
            level_of(&evaluate(&snapshot(1001), &rules), "close_wait"),
            Level::Warning
        );
        assert_eq!(
            level_of(&evaluate(&snapshot(2001), &rules), "close_wait"),
            Level::Critical
        );
        let c = evaluate(&snapshot(1500), &rules);
        let msg = &c[0].message;
        assert!(
            msg.contains("1,500 sockets in CLOSE_WAIT (warning when > 1,000 for 15m)"),
            "{msg}"
        );
        assert!(msg.contains("java (pid 4242)"), "{msg}");
        let wall = jiff::Timestamp::now();
        assert_eq!(c[0].title, "CLOSE_WAIT sockets");
        assert_eq!(c[0].shown.render(wall), "1,500 sockets");
        assert_eq!(c[0].shown.limit(c[0].op, c[0].threshold), "> 1,000");
    }

    #[test]
    fn listen_overflow_rate_is_not_breached_without_a_rate() {
        let rules = SocketRules::default();
        let mut s = snapshot(0);
        s.listen.overflows = 50;
        assert_eq!(
            level_of(&evaluate(&s, &rules), "listen_overflows_per_sec"),
            Level::Ok
        );
        s.listen.overflows_per_sec = Some(2.0);
        assert_eq!(
            level_of(&evaluate(&s, &rules), "listen_overflows_per_sec"),
            Level::Warning
        );
    }

    #[test]
    fn accept_queue_fd_and_conntrack() {
        let rules = SocketRules::default();
        let mut s = snapshot(0);
        s.listeners = vec![
            Listener {
                local: "0.0.0.0:8080".parse().unwrap(),
                queued: 118,
                backlog: 128,
                pid: Some(7),
                comm: Some("api".into()),
            },
            Listener {
                local: "0.0.0.0:22".parse().unwrap(),
                queued: 0,
                backlog: 128,
                pid: None,
                comm: None,
            },
        ];
        s.fd_usage = vec![
            FdUsage {
                pid: 7,
                comm: "api".into(),
                open: 1000,
                soft_limit: Some(1024),
            },
            FdUsage {
                pid: 8,
                comm: "db".into(),
                open: 850,
                soft_limit: Some(1024),
            },
            FdUsage {
                pid: 9,
                comm: "x".into(),
                open: 10,
                soft_limit: Some(1024),
            },
        ];
        s.conntrack = Some(Conntrack {
            count: 85,
            max: 100,
        });
        let conds = evaluate(&s, &rules);
        let checks = one_shot(&conds);
        let find = |name: &str, subj: &str| {
            checks
                .iter()
                .find(|c| c.name == name && c.subject.contains(subj))
                .map(|c| c.level)
        };
        assert_eq!(find("accept_queue_pct", "8080"), Some(Level::Critical));
        let q = conds
            .iter()
            .find(|c| c.key.rule == "accept_queue_pct")
            .expect("breached");
        assert_eq!(q.title, "Listen queue full");
        assert_eq!(q.shown.render(jiff::Timestamp::now()), "92% of backlog");
        assert_eq!(
            find("accept_queue_pct", ":22"),
            None,
            "quiet listeners are not listed"
        );
        assert_eq!(find("process_fd_pct", "pid 7"), Some(Level::Critical));
        assert_eq!(find("process_fd_pct", "pid 8"), Some(Level::Warning));
        assert_eq!(find("process_fd_pct", "pid 9"), None);
        assert_eq!(find("conntrack_pct", "host"), Some(Level::Warning));
    }

    #[test]
    fn grouping_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
