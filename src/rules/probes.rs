//! The probes' rules (SPEC: failure -> critical after 3 consecutive failures; p99 over its SLO
//! -> warning), pure: the row's verdict from its counts and clocks ([`verdict`], with the SLO's
//! `for` measured by an [`SloClock`] that takes the time as an argument), and the conditions for
//! the alert book and `check` ([`evaluate`]). The Kubernetes audit's finding is a condition too.

use std::time::{Duration, Instant};

use crate::config::{Comparison, ProbeRules};
use crate::domain::probes::{ProbeRow, ProbesSnapshot, Stats, Verdict, short_latency};
use crate::domain::text::Clean;
use crate::domain::{Level, SourceId};
use crate::rules::{Condition, Shown};

pub const FAILING: &str = "probe_failing";
pub const SLO: &str = "probe_slo";
pub const AUDIT: &str = "probe_timeout_below_p99";

/// How long p99 has been over the SLO: starts when it first is, resets when it is not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SloClock {
    since: Option<Instant>,
}

impl SloClock {
    /// Records whether p99 is over the SLO at `now`; returns for how long it has been.
    pub fn observe(&mut self, over: bool, now: Instant) -> Option<Duration> {
        if !over {
            self.since = None;
            return None;
        }
        let since = *self.since.get_or_insert(now);
        Some(now.saturating_duration_since(since))
    }
}

/// Whether p99 is over the SLO.
pub fn over_slo(stats: &Stats, slo: Option<Duration>) -> bool {
    matches!((stats.p99, slo), (Some(p99), Some(slo)) if p99 > slo)
}

/// A probe's verdict: critical from `failures_needed` consecutive failures, PENDING `n/N`
/// below that; warning (the configured level) once p99 has been over the SLO for `slo_for`
/// (PENDING before that, unless failures already say more).
#[allow(clippy::too_many_arguments)]
pub fn verdict(
    consecutive_failures: u32,
    last_error: Option<&str>,
    stats: &Stats,
    slo: Option<Duration>,
    slo_for: Duration,
    slo_over_for: Option<Duration>,
    rules: &ProbeRules,
    failures_needed: u32,
) -> Verdict {
    let needed = failures_needed.max(1);
    let mut v = Verdict::default();
    if consecutive_failures >= needed {
        v.level = Level::Critical;
        v.reasons.push(Clean::from_string(format!(
            "{consecutive_failures} consecutive failures: {}",
            last_error.unwrap_or("failed")
        )));
    } else if consecutive_failures > 0 {
        v.pending = Some((consecutive_failures, needed));
        v.reasons.push(Clean::from_string(format!(
            "failing {consecutive_failures}/{needed}: {}",
            last_error.unwrap_or("failed")
        )));
    }
    if let (Some(over), Some(slo), Some(p99)) = (slo_over_for, slo, stats.p99) {
        v.slo_breached_for = Some(over);
        if over >= slo_for {
            v.level = v.level.max(rules.slo_breach);
            v.reasons.push(Clean::from_string(format!(
                "p99 {} over its SLO {} for {}",
                short_latency(p99),
                short_latency(slo),
                crate::rules::short_duration(over)
            )));
        } else {
            if v.level == Level::Ok && v.pending.is_none() {
                v.pending = Some((0, 0));
            }
            v.reasons.push(Clean::from_string(format!(
                "p99 {} over its SLO {} (pending {}/{})",
                short_latency(p99),
                short_latency(slo),
                crate::rules::short_duration(over),
                crate::rules::short_duration(slo_for)
            )));
        }
    }
    v
}

/// Conditions for the alert book and `check`: per probe, its failures against the count
/// (critical) and its p99 against its SLO (with the SLO's `for`); per audited Kubernetes probe,
/// its timeout against the endpoint's p99. `failures_needed` is the rules' count in the console;
/// `check` passes `min(count, attempts)` (one shot cannot see three attempts in a row).
pub fn evaluate(snap: &ProbesSnapshot, rules: &ProbeRules, failures_needed: u32) -> Vec<Condition> {
    let needed = failures_needed.max(1);
    let mut out = Vec::new();
    for row in &snap.rows {
        out.push(failing(row, needed));
        if let Some(c) = slo(row, rules) {
            out.push(c);
        }
    }
    if let Some(audit) = &snap.audit {
        for a in &audit.rows {
            let Some(p99) = a.stats.p99 else { continue };
            let rule = crate::config::ThresholdRule {
                level: Level::Warning,
                op: Comparison::Above,
                value: ms(a.timeout),
                for_: Default::default(),
            };
            out.push(
                Condition::check(
                    SourceId::Probes,
                    AUDIT,
                    format!("{}/{} {} {}", a.namespace, a.pod, a.container, a.kind),
                    &rule,
                    ms(p99),
                    a.finding.as_deref().map(str::to_string).unwrap_or_else(|| {
                        format!(
                            "{} timeout {}s, endpoint p99 {}",
                            a.kind,
                            a.timeout.as_secs(),
                            short_latency(p99)
                        )
                    }),
                )
                .shown(Shown::Text(format!("p99 {}", short_latency(p99)))),
            );
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn failing(row: &ProbeRow, needed: u32) -> Condition {
    let rule = crate::config::ThresholdRule {
        level: Level::Critical,
        op: Comparison::AtLeast,
        value: f64::from(needed),
        for_: Default::default(),
    };
    let last = row.last();
    let message = match last.and_then(|a| a.error.as_deref()) {
        Some(e) => format!(
            "{}: {} consecutive failures, last: {e}",
            row.name, row.consecutive_failures
        ),
        None => format!("{}: answering", row.name),
    };
    Condition::check(
        SourceId::Probes,
        FAILING,
        row.name.to_string(),
        &rule,
        f64::from(row.consecutive_failures),
        message,
    )
    .shown(Shown::Count {
        n: u64::from(row.consecutive_failures),
        noun: "failures",
    })
}

fn slo(row: &ProbeRow, rules: &ProbeRules) -> Option<Condition> {
    let slo = row.slo_p99?;
    let rule = crate::config::ThresholdRule {
        level: rules.slo_breach,
        op: Comparison::Above,
        value: ms(slo),
        for_: crate::config::HumanDuration(row.slo_for),
    };
    let p99 = row.stats.p99?;
    Some(
        Condition::check(
            SourceId::Probes,
            SLO,
            row.name.to_string(),
            &rule,
            ms(p99),
            format!(
                "{}: p99 {} against its SLO {}",
                row.name,
                short_latency(p99),
                short_latency(slo)
            ),
        )
        .shown(Shown::Text(format!(
            "p99 {} > {}",
            short_latency(p99),
            short_latency(slo)
        ))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(p99_ms: u64) -> Stats {
        Stats {
            p50: Some(Duration::from_millis(p99_ms / 2)),
            p99: Some(Duration::from_millis(p99_ms)),
            attempts: 10,
            ok: 10,
        }
    }

    /// 1 and 2 failures are PENDING 1/3 and 2/3; the third is critical; a success clears.
    #[test]
    fn three_consecutive_failures_make_it_critical() {
        let r = ProbeRules::default();
        let s = stats(10);
        for (n, level, pending) in [
            (0, Level::Ok, None),
            (1, Level::Ok, Some((1, 3))),
            (2, Level::Ok, Some((2, 3))),
            (3, Level::Critical, None),
            (7, Level::Critical, None),
        ] {
            let v = verdict(
                n,
                Some("connect refused"),
                &s,
                None,
                Duration::ZERO,
                None,
                &r,
                r.failures_before_critical,
            );
            assert_eq!(v.level, level, "{n} failures");
            assert_eq!(v.pending, pending, "{n} failures");
            if n > 0 {
                assert!(v.reasons[0].contains("connect refused"), "{:?}", v.reasons);
            }
        }
    }

    /// The SLO warning waits for its `for` on a fake clock, and a good p99 resets the clock.
    #[test]
    fn slo_breach_needs_its_for_duration() {
        let r = ProbeRules::default();
        let slo = Some(Duration::from_millis(300));
        let slo_for = Duration::from_secs(300);
        let t0 = Instant::now();
        let mut clock = SloClock::default();
        let judge = |clock: &mut SloClock, p99: u64, at: Duration| {
            let s = stats(p99);
            let over = clock.observe(over_slo(&s, slo), t0 + at);
            verdict(0, None, &s, slo, slo_for, over, &r, 3)
        };
        let v = judge(&mut clock, 2100, Duration::ZERO);
        assert_eq!(v.level, Level::Ok);
        assert_eq!(v.pending, Some((0, 0)));
        let v = judge(&mut clock, 2100, Duration::from_secs(299));
        assert_eq!(v.level, Level::Ok, "{:?}", v.reasons);
        let v = judge(&mut clock, 2100, Duration::from_secs(300));
        assert_eq!(v.level, Level::Warning, "{:?}", v.reasons);
        assert!(
            v.reasons[0].contains("p99 2.1s over its SLO 300ms"),
            "{:?}",
            v.reasons
        );
        // Back under: the clock restarts.
        let v = judge(&mut clock, 100, Duration::from_secs(301));
        assert_eq!(v.level, Level::Ok);
        assert_eq!(v.pending, None);
        let v = judge(&mut clock, 2100, Duration::from_secs(400));
        assert_eq!(v.level, Level::Ok);
        let v = judge(&mut clock, 2100, Duration::from_secs(700));
        assert_eq!(v.level, Level::Warning);
    }

    #[test]
    fn conditions_carry_counts_and_the_slo() {
        let row = ProbeRow {
            name: Clean::new("api"),
            url: Clean::new("http://x/"),
            slo_p99: Some(Duration::from_millis(300)),
            slo_for: Duration::from_secs(60),
            stats: stats(2100),
            consecutive_failures: 3,
            verdict: Verdict::default(),
            recent: Vec::new(),
            spark: Vec::new(),
            since: None,
        };
        let snap = ProbesSnapshot {
            rows: vec![row],
            ..Default::default()
        };
        let c = evaluate(&snap, &ProbeRules::default(), 3);
        let fail = c.iter().find(|c| c.key.rule == FAILING).expect("failing");
        assert!(fail.breached);
        assert_eq!(fail.key.level, Level::Critical);
        let slo = c.iter().find(|c| c.key.rule == SLO).expect("slo");
        assert!(slo.breached);
        assert_eq!(slo.for_, Duration::from_secs(60));
        assert_eq!(slo.key.level, Level::Warning);
        // check with one attempt: one failure is enough.
        let mut snap1 = snap.clone();
        snap1.rows[0].consecutive_failures = 1;
        assert!(
            evaluate(&snap1, &ProbeRules::default(), 1)
                .iter()
                .any(|c| c.key.rule == FAILING && c.breached)
        );
        assert!(
            !evaluate(&snap1, &ProbeRules::default(), 3)
                .iter()
                .any(|c| c.key.rule == FAILING && c.breached)
        );
    }
}
