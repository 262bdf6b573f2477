//! Per-source feed state (`Loading | Ready | Failed`), never one global loading flag. A feed
//! knows its age and whether it is STALE: older than three refresh intervals, or never loaded
//! three intervals after start.

use std::time::{Duration, Instant};

use crate::sources::SourceError;

/// How many refresh intervals without new data make a feed STALE.
pub const STALE_AFTER_INTERVALS: u32 = 3;

#[derive(Debug, Clone)]
pub enum FeedState<T> {
    Loading {
        since: Instant,
    },
    Ready {
        data: T,
        at: Instant,
        wall: jiff::Timestamp,
    },
    Failed {
        err: SourceError,
        at: Instant,
        last_good: Option<(T, Instant, jiff::Timestamp)>,
    },
}

#[derive(Debug, Clone)]
pub struct Feed<T> {
    pub state: FeedState<T>,
    pub generation: u64,
    pub refresh: Duration,
}

/// What a pane title and the header show about a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Loading,
    NotConfigured(String),
    Fresh {
        age: Duration,
    },
    Stale {
        age: Duration,
    },
    /// Loading for longer than the stale limit.
    NeverLoaded {
        waited: Duration,
    },
}

impl Freshness {
    pub fn is_stale(&self) -> bool {
        matches!(
            self,
            Freshness::Stale { .. } | Freshness::NeverLoaded { .. }
        )
    }
}

impl<T> Feed<T> {
    pub fn new(refresh: Duration, started: Instant) -> Feed<T> {
        Feed {
            state: FeedState::Loading { since: started },
            generation: 0,
            refresh,
        }
    }

    /// Applies one update. Updates older than the last accepted generation are ignored
    /// (returns false) so a reordered message never replaces newer data.
    pub fn apply(
        &mut self,
        generation: u64,
        at: Instant,
        wall: jiff::Timestamp,
        result: Result<T, SourceError>,
    ) -> bool {
        if generation < self.generation {
            return false;
        }
        self.generation = generation;
        let prev = std::mem::replace(&mut self.state, FeedState::Loading { since: at });
        self.state = match result {
            Ok(data) => FeedState::Ready { data, at, wall },
            Err(err) => {
                let last_good = match prev {
                    FeedState::Ready { data, at, wall } => Some((data, at, wall)),
                    FeedState::Failed { last_good, .. } => last_good,
                    FeedState::Loading { .. } => None,
                };
                FeedState::Failed { err, at, last_good }
            }
        };
        true
    }

    /// The newest good data, also while the source is failing.
    pub fn data(&self) -> Option<&T> {
        match &self.state {
            FeedState::Ready { data, .. } => Some(data),
            FeedState::Failed {
                last_good: Some((d, _, _)),
                ..
            } => Some(d),
            _ => None,
        }
    }

    /// When the data shown was collected.
    pub fn data_at(&self) -> Option<(Instant, jiff::Timestamp)> {
        match &self.state {
            FeedState::Ready { at, wall, .. } => Some((*at, *wall)),
            FeedState::Failed {
                last_good: Some((_, at, wall)),
                ..
            } => Some((*at, *wall)),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&SourceError> {
        match &self.state {
            FeedState::Failed { err, .. } => Some(err),
            _ => None,
        }
    }

    pub fn stale_limit(&self) -> Duration {
        self.refresh * STALE_AFTER_INTERVALS
    }

    pub fn freshness(&self, now: Instant) -> Freshness {
        if let Some(SourceError::NotConfigured(why)) = self.error() {
            return Freshness::NotConfigured(why.clone());
        }
        match (&self.state, self.data_at()) {
            (_, Some((at, _))) => {
                let age = now.saturating_duration_since(at);
                if age > self.stale_limit() {
                    Freshness::Stale { age }
                } else {
                    Freshness::Fresh { age }
                }
            }
            (FeedState::Loading { since }, None) | (FeedState::Failed { at: since, .. }, None) => {
                let waited = now.saturating_duration_since(*since);
                if waited > self.stale_limit() {
                    Freshness::NeverLoaded { waited }
                } else {
                    Freshness::Loading
                }
            }
            (FeedState::Ready { .. }, None) => Freshness::Loading,
        }
    }
}

/// "3s", "4m", "2h", "3d": short ages for titles and the header.
pub fn short_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_three_intervals_and_failed_keeps_last_good() {
        let t0 = Instant::now();
        let w = jiff::Timestamp::UNIX_EPOCH;
        let mut f: Feed<u32> = Feed::new(Duration::from_secs(1), t0);
        assert_eq!(f.freshness(t0), Freshness::Loading);
        assert!(f.freshness(t0 + Duration::from_secs(4)).is_stale());
        assert!(f.apply(1, t0, w, Ok(7)));
        assert_eq!(
            f.freshness(t0 + Duration::from_secs(3)),
            Freshness::Fresh {
                age: Duration::from_secs(3)
            }
        );
        assert!(f.freshness(t0 + Duration::from_millis(3001)).is_stale());
        assert!(f.apply(
            2,
            t0 + Duration::from_secs(1),
            w,
            Err(SourceError::Other("boom".into()))
        ));
        assert_eq!(f.data(), Some(&7));
        assert_eq!(f.error().map(|e| e.to_string()).as_deref(), Some("boom"));
        assert!(f.freshness(t0 + Duration::from_secs(5)).is_stale());
        // A reordered, older generation is ignored.
        assert!(!f.apply(1, t0, w, Ok(1)));
        assert_eq!(f.data(), Some(&7));
    }
}
