//! When the API server last answered, shared by every source of one target: a page of a
//! list, a watch event, a probe's answer. Data age and STALE come from this time, not from when
//! ondeck built a snapshot (a frozen server must never look fresh), and a silence longer than
//! [`SILENT_AFTER_INTERVALS`] refresh intervals becomes the sources' error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::sources::SourceError;

/// A silence of this many refresh intervals is an error ("has not answered for 35s"): the
/// same count that makes a pane's data STALE.
pub const SILENT_AFTER_INTERVALS: u32 = 3;

/// When the server last answered (monotonic and wall clock), shared by clones.
#[derive(Debug, Clone, Default)]
pub struct Contact(Arc<Mutex<Option<(Instant, Timestamp)>>>);

impl Contact {
    /// The server answered just now.
    pub fn answered(&self) {
        self.answered_at(Instant::now(), Timestamp::now());
    }

    pub fn answered_at(&self, at: Instant, wall: Timestamp) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none_or(|(prev, _)| prev <= at) {
            *g = Some((at, wall));
        }
    }

    /// When the server last answered (`None`: never).
    pub fn last(&self) -> Option<(Instant, Timestamp)> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long the server has been silent at `now`, counted from its last answer or, if it
    /// never answered, from `started`.
    pub fn silence(&self, started: Instant, now: Instant) -> Duration {
        let since = self.last().map_or(started, |(at, _)| at.max(started));
        now.saturating_duration_since(since)
    }
}

/// How long a silence may last before it is an error: [`SILENT_AFTER_INTERVALS`] refresh
/// intervals once the server has answered; for a server that never answered, that or the
/// request deadline, whichever is longer (a first list may take a whole deadline).
pub fn silence_limit(refresh: Duration, request_timeout: Duration, answered: bool) -> Duration {
    let intervals = refresh.saturating_mul(SILENT_AFTER_INTERVALS);
    if answered {
        intervals
    } else {
        intervals.max(request_timeout)
    }
}

/// The error of a silent server.
pub fn silence_error(server: &str, silence: Duration, answered: bool) -> SourceError {
    let secs = silence.as_secs().max(1);
    SourceError::Timeout(if answered {
        format!("API server has not answered for {secs}s ({server})")
    } else {
        format!("API server has not answered in {secs}s since start ({server})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_counts_from_the_last_answer_or_the_start() {
        let t0 = Instant::now();
        let c = Contact::default();
        assert_eq!(
            c.silence(t0, t0 + Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        c.answered_at(t0 + Duration::from_secs(4), Timestamp::UNIX_EPOCH);
        assert_eq!(
            c.silence(t0, t0 + Duration::from_secs(5)),
            Duration::from_secs(1)
        );
        // An older answer never moves the time back.
        c.answered_at(t0 + Duration::from_secs(2), Timestamp::UNIX_EPOCH);
        assert_eq!(
            c.silence(t0, t0 + Duration::from_secs(5)),
            Duration::from_secs(1)
        );
        let s = Duration::from_secs(1);
        assert_eq!(
            silence_limit(s, Duration::from_secs(15), true),
            Duration::from_secs(3)
        );
        assert_eq!(
            silence_limit(s, Duration::from_secs(15), false),
            Duration::from_secs(15)
        );
        assert_eq!(
            silence_error("https://k", Duration::from_secs(35), true).to_string(),
            "timed out: API server has not answered for 35s (https://k)"
        );
    }
}
