//! Socket danger rules (incidents 2 and 3): CLOSE_WAIT and TIME_WAIT piles, listen-queue
//! overflows, full accept queues, processes near their fd limit, a filling conntrack table.

use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use crate::config::{SocketRules, ThresholdRule};
use crate::domain::SourceId;
use crate::domain::sockets::{FdUsage, Listener, ProcessCount, SocketSnapshot, TcpState};

use super::KeyText;
use super::{Condition, Shown};

/// Host-wide rules always yield a condition per threshold (so `check` lists them as ok);
/// per-subject rules (a listener, a process) only when some threshold is breached.
///
/// Runs on every sockets update (once a second in the console), so it allocates little: each
/// message is written once into its own string (no intermediate pieces), the `host` subject is
/// shared, and a listener's or a process's subject is built only when one of its rules holds.
pub fn evaluate(s: &SocketSnapshot, rules: &SocketRules) -> Vec<Condition> {
    let host_wide = rules.close_wait.len()
        + rules.time_wait.len()
        + rules.listen_overflows_per_sec.len()
        + s.conntrack.map_or(0, |_| rules.conntrack_pct.len());
    let mut out = Vec::with_capacity(host_wide);
    let src = SourceId::Sockets;

    let cw = s.states.get(TcpState::CloseWait);
    let top = s.close_wait_by_process.first().filter(|p| p.count > 0);
    for r in &rules.close_wait {
        let msg = message(format_args!(
            "{} in CLOSE_WAIT ({}){}",
            Sockets(cw),
            When(r),
            TopHolder(top)
        ));
        out.push(
            Condition::check(src, "close_wait", host(), r, cw as f64, msg).shown(Shown::Count {
                n: cw,
                noun: "sockets",
            }),
        );
    }

    let tw = s.states.get(TcpState::TimeWait);
    for r in &rules.time_wait {
        let msg = message(format_args!("{} in TIME_WAIT ({})", Sockets(tw), When(r)));
        out.push(
            Condition::check(src, "time_wait", host(), r, tw as f64, msg).shown(Shown::Count {
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
                message(format_args!(
                    "ListenOverflows {v:.1}/s (ListenDrops {:.1}/s): accept queues are overflowing",
                    s.listen.drops_per_sec.unwrap_or(0.0)
                )),
            ),
            None => (
                0.0,
                message(format_args!(
                    "rate needs two polls; {} overflows since boot",
                    Grouped(s.listen.overflows)
                )),
            ),
        };
        let mut c = Condition::check(src, "listen_overflows_per_sec", host(), r, value, msg).shown(
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
        // Built for the first rule that holds, shared by the others.
        let mut subject: Option<KeyText> = None;
        for r in rules
            .accept_queue_pct
            .iter()
            .filter(|r| r.op.holds(pct, r.value))
        {
            let subject = subject
                .get_or_insert_with(|| {
                    KeyText::from(message(format_args!("listen {}{}", l.local, Owner(l))))
                })
                .clone();
            let msg = message(format_args!(
                "accept queue {}/{} ({pct:.0}% of backlog) on {}{}",
                l.queued,
                l.backlog,
                l.local,
                Owner(l)
            ));
            out.push(
                Condition::check(src, "accept_queue_pct", subject, r, pct, msg)
                    .shown(Shown::Percent { pct, of: "backlog" }),
            );
        }
    }

    for f in &s.fd_usage {
        let Some(pct) = f.pct() else { continue };
        let mut subject: Option<KeyText> = None;
        for r in rules
            .process_fd_pct
            .iter()
            .filter(|r| r.op.holds(pct, r.value))
        {
            let subject = subject.get_or_insert_with(|| fd_subject(f)).clone();
            let msg = message(format_args!(
                "{} (pid {}) has {} of {} fds open ({pct:.0}% of its soft limit)",
                f.comm,
                f.pid,
                Grouped(f.open),
                Grouped(f.soft_limit.unwrap_or(0))
            ));
            out.push(
                Condition::check(src, "process_fd_pct", subject, r, pct, msg)
                    .shown(Shown::Percent { pct, of: "limit" }),
            );
        }
    }

    if let Some(ct) = s.conntrack {
        let pct = ct.pct();
        for r in &rules.conntrack_pct {
            let msg = message(format_args!(
                "conntrack {} of {} entries ({pct:.0}%)",
                Grouped(ct.count),
                Grouped(ct.max)
            ));
            out.push(
                Condition::check(src, "conntrack_pct", host(), r, pct, msg).shown(Shown::Percent {
                    pct,
                    of: "conntrack table",
                }),
            );
        }
    }
    out
}

/// Room for every message above without growing (the longest, a process near its fd limit
/// with a 15-byte comm and 7-digit counts, is about 90 bytes).
const MESSAGE_CAPACITY: usize = 128;

/// `args` written into one string of [`MESSAGE_CAPACITY`] (one allocation).
fn message(args: fmt::Arguments<'_>) -> String {
    let mut s = String::with_capacity(MESSAGE_CAPACITY);
    // Writing into a String cannot fail.
    let _ = s.write_fmt(args);
    s
}

/// The subject of the host-wide rules, shared by every condition that names it.
fn host() -> KeyText {
    static HOST: OnceLock<KeyText> = OnceLock::new();
    HOST.get_or_init(|| KeyText::from("host")).clone()
}

/// `pid 4242 (java)`: the subject of a process's fd-usage conditions.
fn fd_subject(f: &FdUsage) -> KeyText {
    KeyText::from(message(format_args!("pid {} ({})", f.pid, f.comm)))
}

/// 12345 -> `12,345`, written where it goes (the same text as [`group`]).
struct Grouped(u64);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 20];
        let mut n = self.0;
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let digits = &digits[at..];
        for (i, d) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_char(',')?;
            }
            f.write_char(char::from(*d))?;
        }
        Ok(())
    }
}

/// "1 socket", "1,500 sockets".
struct Sockets(u64);

impl fmt::Display for Sockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1 {
            f.write_str("1 socket")
        } else {
            write!(f, "{} sockets", Grouped(self.0))
        }
    }
}

/// "critical when > 2,000 for 5m": the rule in words, next to the value.
struct When<'a>(&'a ThresholdRule);

impl fmt::Display for When<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        for c in r.level.label().chars().flat_map(char::to_lowercase) {
            f.write_char(c)?;
        }
        write!(f, " when {} {}", r.op.symbol(), Grouped(r.value as u64))?;
        if !r.for_.0.is_zero() {
            write!(f, " for {}", ShortDuration(r.for_.0.as_secs()))?;
        }
        Ok(())
    }
}

/// [`super::short_duration`] written in place: `45s`, `15m`, `2h`, `1h30m`, `3d`, `1d2h`.
struct ShortDuration(u64);

impl fmt::Display for ShortDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s < 60 {
            write!(f, "{s}s")
        } else if s < 3600 {
            write!(f, "{}m", s / 60)
        } else if s < 86_400 {
            match (s % 3600) / 60 {
                0 => write!(f, "{}h", s / 3600),
                m => write!(f, "{}h{m}m", s / 3600),
            }
        } else {
            match (s % 86_400) / 3600 {
                0 => write!(f, "{}d", s / 86_400),
                h => write!(f, "{}d{h}h", s / 86_400),
            }
        }
    }
}

/// The CLOSE_WAIT message's tail: who holds the most (nothing when nobody does).
struct TopHolder<'a>(Option<&'a ProcessCount>);

impl fmt::Display for TopHolder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => match p.pid {
                Some(pid) => write!(
                    f,
                    "; most held by {} (pid {pid}): {}",
                    p.comm,
                    Grouped(p.count)
                ),
                None => write!(
                    f,
                    "; {} held by processes that could not be read",
                    Grouped(p.count)
                ),
            },
            None => Ok(()),
        }
    }
}

/// ` (api, pid 7)` after a listener's address, when its owner is known.
struct Owner<'a>(&'a Listener);

impl fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.comm, self.0.pid) {
            (Some(c), Some(p)) => write!(f, " ({c}, pid {p})"),
            _ => Ok(()),
        }
    }
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

    /// `evaluate` as it was before it wrote its messages in place (formatting every piece
    /// into its own string): the new one must give exactly the same conditions.
    fn evaluate_reference(s: &SocketSnapshot, rules: &SocketRules) -> Vec<Condition> {
        fn sockets(n: u64) -> String {
            if n == 1 {
                "1 socket".into()
            } else {
                format!("{} sockets", group(n))
            }
        }
        fn when(r: &ThresholdRule) -> String {
            let for_ = if r.for_.0.is_zero() {
                String::new()
            } else {
                format!(" for {}", crate::rules::short_duration(r.for_.0))
            };
            format!(
                "{} when {} {}{for_}",
                r.level.label().to_lowercase(),
                r.op.symbol(),
                group(r.value as u64)
            )
        }
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
                Condition::check(src, "close_wait", "host", r, cw as f64, msg).shown(
                    Shown::Count {
                        n: cw,
                        noun: "sockets",
                    },
                ),
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
            let mut c = Condition::check(src, "listen_overflows_per_sec", "host", r, value, msg)
                .shown(Shown::Rate {
                    per_sec: value,
                    noun: "overflows",
                });
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
                    Condition::check(src, "conntrack_pct", "host", r, pct, msg).shown(
                        Shown::Percent {
                            pct,
                            of: "conntrack table",
                        },
                    ),
                );
            }
        }
        out
    }

    /// A snapshot with something for every rule, varied by `seed` (counts across digit-group
    /// boundaries, owners known and not, a comm with non-ASCII letters, rates or none).
    fn varied_snapshot(seed: u64) -> SocketSnapshot {
        let n = |k: u64| {
            seed.wrapping_mul(2_654_435_761).rotate_left(k as u32)
                % 10u64.pow((seed % 9) as u32 + 1)
        };
        let mut s = SocketSnapshot::default();
        s.states.add(TcpState::CloseWait, n(1));
        s.states.add(
            TcpState::TimeWait,
            if seed.is_multiple_of(5) { 1 } else { n(2) },
        );
        s.close_wait_by_process = match seed % 4 {
            0 => vec![],
            1 => vec![ProcessCount {
                pid: None,
                comm: "(unknown)".into(),
                count: n(3),
            }],
            2 => vec![ProcessCount {
                pid: Some(seed as u32),
                comm: "jäva-δ".into(),
                count: n(4),
            }],
            _ => vec![ProcessCount {
                pid: Some(1),
                comm: "x".into(),
                count: 0,
            }],
        };
        s.listen.overflows = n(5);
        if !seed.is_multiple_of(3) {
            s.listen.overflows_per_sec = Some((n(6) % 1000) as f64 / 7.0);
            s.listen.drops_per_sec = seed.is_multiple_of(2).then_some(1.25);
        }
        s.listeners = (0..(seed % 4))
            .map(|i| Listener {
                local: if i % 2 == 0 {
                    format!("0.0.0.0:{}", 8000 + i).parse().unwrap()
                } else {
                    format!("[::1]:{}", 9000 + i).parse().unwrap()
                },
                queued: (n(7 + i) % 200) as u32,
                backlog: if i == 3 { 0 } else { 128 },
                pid: (i % 2 == 0).then_some(7 + i as u32),
                comm: (i != 2).then(|| "api".into()),
            })
            .collect();
        s.fd_usage = (0..(seed % 5))
            .map(|i| FdUsage {
                pid: 100 + i as u32,
                comm: if i == 1 {
                    "pg worker".into()
                } else {
                    "db".into()
                },
                open: n(10 + i) % 5000,
                soft_limit: match i {
                    2 => None,
                    3 => Some(0),
                    _ => Some(1024 * (1 + i)),
                },
            })
            .collect();
        s.conntrack = (!seed.is_multiple_of(6)).then(|| Conntrack {
            count: n(20) % 300_000,
            max: if seed.is_multiple_of(7) { 0 } else { 262_144 },
        });
        s
    }

    #[test]
    fn evaluate_gives_what_the_formatting_version_gave() {
        use crate::config::{Comparison, HumanDuration};
        let mut rules = SocketRules::default();
        // Every shape of rule text: each level, each comparison, `for` in s, m, h, h+m, d, d+h.
        let fors = [0, 45, 900, 7200, 5400, 172_800, 90_000];
        for (i, r) in rules
            .accept_queue_pct
            .iter_mut()
            .chain(rules.process_fd_pct.iter_mut())
            .chain(rules.time_wait.iter_mut())
            .enumerate()
        {
            r.for_ = HumanDuration(std::time::Duration::from_secs(fors[i % fors.len()]));
        }
        rules.conntrack_pct.push(ThresholdRule::new(
            Level::Info,
            Comparison::AtLeast,
            1_234_567.0,
            86_400,
        ));
        rules.time_wait.push(ThresholdRule::new(
            Level::Critical,
            Comparison::Below,
            0.0,
            59,
        ));
        rules.close_wait.push(ThresholdRule::new(
            Level::Ok,
            Comparison::AtMost,
            999.0,
            3600,
        ));
        for seed in 0..600 {
            let s = varied_snapshot(seed);
            for r in [&rules, &SocketRules::default()] {
                let got = evaluate(&s, r);
                let want = evaluate_reference(&s, r);
                assert_eq!(got, want, "seed {seed}");
            }
        }
        // The varied snapshots do breach per-subject rules (the comparison covers them).
        let subjects: usize = (0..600)
            .map(|seed| {
                evaluate(&varied_snapshot(seed), &rules)
                    .iter()
                    .filter(|c| c.key.subject != "host")
                    .count()
            })
            .sum();
        assert!(subjects > 100, "{subjects}");
    }

    #[test]
    fn numbers_and_durations_written_in_place_match_their_string_forms() {
        let mut n = 0u64;
        while n < u64::MAX / 7 {
            for k in [n, n + 1, n.saturating_sub(1)] {
                assert_eq!(Grouped(k).to_string(), group(k), "{k}");
            }
            n = n * 7 + 3;
        }
        assert_eq!(Grouped(u64::MAX).to_string(), group(u64::MAX));
        for secs in (0..200_000)
            .step_by(13)
            .chain([59, 60, 3599, 3600, 3660, 86_399, 86_400])
        {
            assert_eq!(
                ShortDuration(secs).to_string(),
                crate::rules::short_duration(std::time::Duration::from_secs(secs)),
                "{secs}"
            );
        }
    }

    #[test]
    fn host_conditions_share_one_subject() {
        let c = evaluate(&snapshot(5000), &SocketRules::default());
        let hosts: Vec<_> = c.iter().filter(|c| c.key.subject == "host").collect();
        assert!(hosts.len() >= 2);
        assert!(
            hosts
                .windows(2)
                .all(|w| KeyText::ptr_eq(&w[0].key.subject, &w[1].key.subject))
        );
    }

    #[test]
    fn grouping_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
