//! Reconnect delays for watches: exponential from `initial` to `max`, with "equal jitter"
//! (half fixed, half random) so that many ondeck instances do not retry in lock-step.
//!
//! The delay holds: it starts again from `initial` only after a watch has been delivering
//! (listed, then events or a live connection) for [`HEALTHY_FOR`] — never because a relist
//! started (kube-runtime's `Init`), which is what made a user without `list pods` cost the API
//! server 2.7 LIST requests a second. A 403 goes to the maximum at once ([`Backoff::forbidden`]):
//! permissions do not come back in a second.

use std::time::{Duration, Instant};

use ::kube::runtime::watcher;

use crate::sources::SourceError;

/// How long a watch must have delivered before its backoff starts again from `initial`.
pub const HEALTHY_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
    /// Since when the current watch has been delivering (`None`: not delivering).
    healthy_since: Option<Instant>,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(10));
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
            healthy_since: None,
        }
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The watch delivered (a completed list, an event, a bookmark): starts the healthy
    /// period if it is not running. Cheap; call it on every delivery.
    pub fn delivered(&mut self) {
        self.delivered_at(Instant::now());
    }

    pub fn delivered_at(&mut self, now: Instant) {
        if self.healthy_since.is_none() {
            self.healthy_since = Some(now);
        }
    }

    /// The watch failed: the delay before the next attempt. It starts again from `initial`
    /// only if the watch had been delivering for [`HEALTHY_FOR`].
    pub fn failed(&mut self) -> Duration {
        self.failed_at(Instant::now())
    }

    pub fn failed_at(&mut self, now: Instant) -> Duration {
        if self
            .healthy_since
            .take()
            .is_some_and(|t| now.saturating_duration_since(t) >= HEALTHY_FOR)
        {
            self.attempt = 0;
        }
        self.next_delay()
    }

    /// A 403: straight to the maximum (no jitter below it: the message says "retrying in
    /// 30s"), and later failures stay there until the watch has been healthy for a while.
    pub fn forbidden(&mut self) -> Duration {
        self.healthy_since = None;
        self.attempt = 32;
        self.max
    }

    /// The ceiling for the current attempt, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u64 << self.attempt.min(20);
        self.initial
            .checked_mul(u32::try_from(factor).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The next delay: between half and all of the ceiling; the ceiling doubles each time.
    pub fn next_delay(&mut self) -> Duration {
        let ceil = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceil / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }

    /// Starts again from `initial` at once (tests; a new target).
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.healthy_since = None;
    }
}

/// The HTTP status of a failed watch or list, if the server sent one.
pub fn status_code(e: &watcher::Error) -> Option<u16> {
    match e {
        watcher::Error::InitialListFailed(::kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(::kube::Error::Api(s))
        | watcher::Error::WatchFailed(::kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}

/// Whether the server answered the failed request (an HTTP status: it is alive).
pub fn server_answered(e: &watcher::Error) -> bool {
    status_code(e).is_some()
}

/// After a failed watch or list: how long to wait, and the error to show, which says when the
/// next attempt comes ("forbidden: list pods ...; retrying in 30s"). A 403 waits the maximum.
pub fn after_failure(
    backoff: &mut Backoff,
    e: &watcher::Error,
    err: SourceError,
) -> (Duration, SourceError) {
    let delay = if status_code(e) == Some(403) {
        backoff.forbidden()
    } else {
        backoff.failed()
    };
    (delay, with_retry(err, delay))
}

/// `err` with "; retrying in 30s" appended.
pub fn with_retry(err: SourceError, delay: Duration) -> SourceError {
    let when = if delay < Duration::from_secs(10) && delay.subsec_millis() != 0 {
        format!("; retrying in {:.1}s", delay.as_secs_f64())
    } else {
        format!("; retrying in {}", crate::rules::short_duration(delay))
    };
    match err {
        SourceError::NotConfigured(s) => SourceError::NotConfigured(s),
        SourceError::Forbidden(s) => SourceError::Forbidden(s + &when),
        SourceError::Unreachable(s) => SourceError::Unreachable(s + &when),
        SourceError::Tls(s) => SourceError::Tls(s + &when),
        SourceError::Timeout(s) => SourceError::Timeout(s + &when),
        SourceError::Other(s) => SourceError::Other(s + &when),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_jitter_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let c = b.ceiling();
            let d = b.next_delay();
            assert!(
                d >= c / 2 && d <= c,
                "{d:?} not within [{:?}, {c:?}]",
                c / 2
            );
            ceilings.push(c.as_millis());
        }
        assert_eq!(&ceilings[..5], &[500, 1000, 2000, 4000, 8000]);
        assert_eq!(ceilings[9], 30_000);
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(500));
        // Jitter: not every delay at the cap is the same.
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
        let ds: std::collections::BTreeSet<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(ds.len() > 1);
    }

    #[test]
    fn holds_unless_the_watch_delivered_for_a_while() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        // A relist that fails again and again (Init, then a 500): the ceiling keeps growing.
        for _ in 0..4 {
            b.failed_at(t0);
        }
        assert_eq!(b.ceiling(), Duration::from_secs(8));
        // Delivered for 10 s, then failed: no reset.
        b.delivered_at(t0);
        b.failed_at(t0 + Duration::from_secs(10));
        assert_eq!(b.ceiling(), Duration::from_secs(16));
        // Delivered for 30 s: starts again from the initial delay.
        b.delivered_at(t0);
        b.delivered_at(t0 + Duration::from_secs(20));
        let d = b.failed_at(t0 + HEALTHY_FOR);
        assert!(d <= Duration::from_millis(500), "{d:?}");
        assert_eq!(b.ceiling(), Duration::from_secs(1));
    }

    #[test]
    fn forbidden_goes_to_the_maximum_and_stays() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(b.forbidden(), Duration::from_secs(30));
        let d = b.failed();
        assert!(d >= Duration::from_secs(15), "{d:?}");
        assert_eq!(b.ceiling(), Duration::from_secs(30));
    }
}
