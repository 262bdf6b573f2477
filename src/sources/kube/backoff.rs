//! Reconnect delays for watches: exponential from `initial` to `max`, with "equal jitter"
//! (half fixed, half random) so that many ondeck instances do not retry in lock-step.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(10));
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
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

    /// After a success: start again from `initial`.
    pub fn reset(&mut self) {
        self.attempt = 0;
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
}
