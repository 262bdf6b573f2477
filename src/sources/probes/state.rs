//! One probe's running state between attempts: its compiled client, bounded history, last
//! attempts, consecutive failures and SLO clock, and the row it shows ([`ProbeState::row`]).
//! Also the retry schedule ([`next_delay`]): the interval after a success, exponential backoff
//! with jitter after failures, so probes never fire in lock-step.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::client::Prepared;
use super::config::{ProbeConfig, ProbeSettings};
use crate::config::ProbeRules;
use crate::domain::probes::{Attempt, History, Phase, ProbeRow, Timings, Verdict};
use crate::domain::text::Clean;
use crate::rules::probes::{SloClock, over_slo, verdict};

/// Attempts kept whole per probe for the detail view.
pub const RECENT: usize = 8;
/// Totals kept for the sparkline.
pub const SPARK: usize = 40;

#[derive(Debug)]
pub struct ProbeState {
    pub cfg: ProbeConfig,
    pub prepared: Result<Prepared, String>,
    history: History,
    recent: VecDeque<Attempt>,
    pub consecutive_failures: u32,
    slo_clock: SloClock,
    slo_over_for: Option<Duration>,
    since: Option<jiff::Timestamp>,
    last_ok: Option<bool>,
    now: Option<Instant>,
}

impl ProbeState {
    pub fn new(cfg: &ProbeConfig, settings: &ProbeSettings) -> ProbeState {
        ProbeState {
            cfg: cfg.clone(),
            prepared: Prepared::new(cfg),
            history: History::new(settings.history, settings.window.0),
            recent: VecDeque::with_capacity(RECENT),
            consecutive_failures: 0,
            slo_clock: SloClock::default(),
            slo_over_for: None,
            since: None,
            last_ok: None,
            now: None,
        }
    }

    /// The attempt a probe that cannot be built makes: failed at once, saying why.
    pub fn setup_failure(&self) -> Option<Attempt> {
        let why = self.prepared.as_ref().err()?;
        Some(Attempt {
            at: jiff::Timestamp::now(),
            ok: false,
            status_code: None,
            failed: Some(if self.cfg.url.starts_with("https") {
                Phase::Tls
            } else {
                Phase::Connect
            }),
            error: Some(Clean::from_string(format!(
                "cannot set up the probe: {why}"
            ))),
            timings: Timings::default(),
            peer: None,
            tls: None,
            header_bytes: None,
            body_bytes: 0,
            reused: false,
        })
    }

    /// Records one attempt that started at `started` (monotonic; tests pass a fake clock).
    pub fn record(&mut self, a: Attempt, started: Instant) {
        self.history.push(started, a.timings.total, a.ok);
        self.consecutive_failures = if a.ok {
            0
        } else {
            self.consecutive_failures.saturating_add(1)
        };
        if self.last_ok != Some(a.ok) {
            self.since = Some(a.at);
            self.last_ok = Some(a.ok);
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(a);
        let stats = self.history.stats(started);
        self.slo_over_for = self
            .slo_clock
            .observe(over_slo(&stats, self.cfg.slo_p99.map(|d| d.0)), started);
        self.now = Some(started);
    }

    /// The row as shown, with the verdict of the rules (`failures_needed` consecutive failures
    /// are critical).
    pub fn row(&self, rules: &ProbeRules, failures_needed: u32) -> ProbeRow {
        let stats = self
            .now
            .map(|now| self.history.stats(now))
            .unwrap_or_default();
        let last_error = self.recent.back().and_then(|a| a.error.as_deref());
        let v: Verdict = verdict(
            self.consecutive_failures,
            last_error,
            &stats,
            self.cfg.slo_p99.map(|d| d.0),
            self.cfg.slo_for.0,
            self.slo_over_for,
            rules,
            failures_needed,
        );
        ProbeRow {
            name: Clean::identifier(&self.cfg.name),
            url: Clean::new(&self.cfg.url),
            slo_p99: self.cfg.slo_p99.map(|d| d.0),
            slo_for: self.cfg.slo_for.0,
            stats,
            consecutive_failures: self.consecutive_failures,
            verdict: v,
            recent: self.recent.iter().cloned().collect(),
            spark: self.history.recent(SPARK),
            since: self.since,
        }
    }
}

/// The wait before the next attempt: the interval (jittered by ±5%) after a success; after
/// `failures` consecutive failures, 1s doubling per failure up to the interval, with half of
/// it random ("equal jitter"), so probes that failed together do not retry together.
/// `r` is a random number in [0, 1).
pub fn next_delay(interval: Duration, failures: u32, r: f64) -> Duration {
    let r = r.clamp(0.0, 1.0);
    if failures == 0 {
        return interval.mul_f64(0.95 + 0.1 * r);
    }
    let exp = failures.saturating_sub(1).min(20);
    let base = Duration::from_secs(1)
        .saturating_mul(1u32 << exp)
        .min(interval);
    base.mul_f64(0.5 + 0.5 * r)
}

/// The first attempt's offset: anywhere in the first interval, so 500 probes of one interval
/// spread over it instead of firing at once.
pub fn initial_offset(interval: Duration, r: f64) -> Duration {
    interval.mul_f64(r.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_failures_up_to_the_interval_and_is_jittered() {
        let i = Duration::from_secs(10);
        assert!(next_delay(i, 0, 0.0) >= Duration::from_millis(9500));
        assert!(next_delay(i, 0, 1.0) <= Duration::from_millis(10500));
        assert_eq!(next_delay(i, 1, 1.0), Duration::from_secs(1));
        assert_eq!(next_delay(i, 1, 0.0), Duration::from_millis(500));
        assert_eq!(next_delay(i, 3, 1.0), Duration::from_secs(4));
        assert_eq!(next_delay(i, 9, 1.0), i);
        assert_eq!(next_delay(i, 1000, 1.0), i);
        // Two probes with different random draws do not retry together.
        assert_ne!(next_delay(i, 2, 0.1), next_delay(i, 2, 0.7));
        assert!(initial_offset(i, 0.5) == Duration::from_secs(5));
    }
}
