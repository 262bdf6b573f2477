//! Per-source feed state (`Loading | Ready | Failed`), never one global loading flag. A feed
//! knows its age and whether it is STALE: data older than three refresh intervals (the age is
//! measured from when the server last answered: the sources send that as `at`), or no data at
//! all three intervals (or the request deadline, whichever is longer) after the feed started
//! waiting, however many errors came in meanwhile: "never answered" and "stopped answering"
//! read the same.

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

/// What [`Feed::apply_kube`] did with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeApplied {
    /// New data: the pane evaluates its rules on it.
    Data,
    /// An error (the last good data stays, marked as failing).
    Error,
    /// The target switched: the feed is loading again.
    Reset,
    /// Reordered, not this feed's payload, or a heartbeat ([`Payload::Unchanged`]: the data
    /// shown is still current, only its age moved).
    ///
    /// [`Payload::Unchanged`]: crate::sources::Payload::Unchanged
    Ignored,
}

#[derive(Debug, Clone)]
pub struct Feed<T> {
    pub state: FeedState<T>,
    pub generation: u64,
    pub refresh: Duration,
    /// The source's request deadline: a source that never answered is STALE only once it has
    /// had the chance to time out (see [`Feed::never_loaded_limit`]).
    pub deadline: Duration,
    /// Since when the feed has waited for its first data (start, or the last retarget). Errors
    /// do not move it, so a source failing every 500 ms still goes STALE.
    pub waiting_since: Instant,
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
            deadline: Duration::ZERO,
            waiting_since: started,
        }
    }

    /// The source's request deadline (Kubernetes sources), for [`Feed::never_loaded_limit`].
    pub fn with_deadline(mut self, deadline: Duration) -> Feed<T> {
        self.deadline = deadline;
        self
    }

    /// How long a feed may wait for its first data before it is STALE: three refresh intervals
    /// or the request deadline, whichever is longer.
    pub fn never_loaded_limit(&self) -> Duration {
        self.stale_limit().max(self.deadline)
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

    /// One update of a Kubernetes source (pods, PVCs): `take` picks this feed's payload.
    /// Handles what every Kubernetes pane does the same way: reordered updates are ignored,
    /// the `KubeRetargeted` marker resets the feed to loading (everything before it in the
    /// channel is about the old target), errors keep the last good data.
    pub fn apply_kube(
        &mut self,
        u: crate::sources::SourceUpdate,
        take: impl FnOnce(crate::sources::Payload) -> Option<T>,
    ) -> KubeApplied {
        use crate::sources::Payload;
        if u.generation < self.generation {
            return KubeApplied::Ignored; // reordered: never replace newer data
        }
        match u.result {
            Ok(Payload::Unchanged) => {
                self.touch(u.generation, u.at, u.wall);
                KubeApplied::Ignored
            }
            Ok(Payload::KubeRetargeted) => {
                *self = Feed::new(self.refresh, u.at).with_deadline(self.deadline);
                self.generation = u.generation;
                KubeApplied::Reset
            }
            Ok(payload) => match take(payload) {
                Some(data) => {
                    self.apply(u.generation, u.at, u.wall, Ok(data));
                    KubeApplied::Data
                }
                None => KubeApplied::Ignored,
            },
            Err(e) => {
                self.apply(u.generation, u.at, u.wall, Err(e));
                KubeApplied::Error
            }
        }
    }

    /// A heartbeat: the data shown is still what the source has (only when it is shown as
    /// ready; a failing or loading feed waits for real data).
    pub fn touch(&mut self, generation: u64, at: Instant, wall: jiff::Timestamp) {
        if generation < self.generation {
            return;
        }
        if let FeedState::Ready {
            at: data_at,
            wall: data_wall,
            ..
        } = &mut self.state
        {
            self.generation = generation;
            *data_at = at;
            *data_wall = wall;
        }
    }

    /// `:ctx` / `:ns`: loading again; updates still in flight from the old target
    /// (generations at or below the floor) are ignored, the new target's first one accepted.
    pub fn retarget(&mut self, now: Instant) {
        *self = Feed::new(self.refresh, now).with_deadline(self.deadline);
        self.generation = crate::sources::generation_floor() + 1;
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
            (_, None) => {
                // From when the feed started waiting, not from the last error: a source that
                // fails every few hundred milliseconds must not look like it just started.
                let waited = now.saturating_duration_since(self.waiting_since);
                if waited > self.never_loaded_limit() {
                    Freshness::NeverLoaded { waited }
                } else {
                    Freshness::Loading
                }
            }
        }
    }
}

/// What a drained batch of source updates keeps, in arrival order, so that the UI applies at
/// most one snapshot per source per turn however many queued up: per source the last data, an
/// error that came after it, a heartbeat after both; and a retarget marker with what followed
/// it (everything before a marker is about the old target and is dropped).
pub fn latest_per_source(
    batch: Vec<crate::sources::SourceUpdate>,
) -> Vec<crate::sources::SourceUpdate> {
    use crate::sources::Payload;
    #[derive(Default, Clone, Copy)]
    struct Seen {
        data: bool,
        error: bool,
        heartbeat: bool,
        marker: bool,
    }
    let mut seen: std::collections::HashMap<crate::sources::SourceId, Seen> =
        std::collections::HashMap::new();
    let mut kept: Vec<crate::sources::SourceUpdate> = Vec::with_capacity(batch.len().min(8));
    for u in batch.into_iter().rev() {
        let s = seen.entry(u.source).or_default();
        if s.marker {
            continue;
        }
        let keep = match &u.result {
            Ok(Payload::KubeRetargeted) => {
                s.marker = true;
                true
            }
            Ok(Payload::Unchanged) => {
                let k = !(s.data || s.error || s.heartbeat);
                s.heartbeat = true;
                k
            }
            Ok(_) => {
                let k = !s.data;
                s.data = true;
                k
            }
            Err(_) => {
                let k = !(s.data || s.error);
                s.error = true;
                k
            }
        };
        if keep {
            kept.push(u);
        }
    }
    kept.reverse();
    kept
}

/// "3s", "4m", "2h", "3d": short ages for titles and the header.
pub fn short_age(d: Duration) -> compact_str::CompactString {
    let s = d.as_secs();
    match s {
        0..60 => compact_str::format_compact!("{s}s"),
        60..3600 => compact_str::format_compact!("{}m", s / 60),
        3600..86400 => compact_str::format_compact!("{}h", s / 3600),
        _ => compact_str::format_compact!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_updates_reset_on_retarget_and_never_go_back_in_time() {
        use crate::domain::sockets::SocketSnapshot;
        use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};
        let t0 = Instant::now();
        let up = |generation, result| SourceUpdate {
            source: SourceId::Pvcs,
            generation,
            at: t0,
            wall: jiff::Timestamp::UNIX_EPOCH,
            result,
        };
        let take = |p: Payload| p.downcast::<SocketSnapshot>().map(|_| 1u8);
        let data = || Ok(Payload::new(SocketSnapshot::default()));
        let mut f: Feed<u8> = Feed::new(Duration::from_secs(1), t0);
        assert_eq!(f.apply_kube(up(5, data()), take), KubeApplied::Data);
        assert_eq!(f.data(), Some(&1));
        // Older than what is shown: ignored, data kept.
        assert_eq!(f.apply_kube(up(4, data()), take), KubeApplied::Ignored);
        // Not this feed's payload: ignored.
        assert_eq!(f.apply_kube(up(6, data()), |_| None), KubeApplied::Ignored);
        assert_eq!(f.data(), Some(&1));
        // The switch marker: loading again.
        assert_eq!(
            f.apply_kube(up(6, Ok(Payload::KubeRetargeted)), take),
            KubeApplied::Reset
        );
        assert_eq!(f.data(), None, "the old target's data is gone");
        assert_eq!(f.apply_kube(up(5, data()), take), KubeApplied::Ignored);
        assert_eq!(
            f.apply_kube(up(7, Err(SourceError::Other("x".into()))), take),
            KubeApplied::Error
        );
        assert!(f.error().is_some());
    }

    #[test]
    fn a_batch_keeps_the_latest_snapshot_per_source() {
        use crate::domain::sockets::SocketSnapshot;
        use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};
        let t0 = Instant::now();
        let up = |source, generation, result| SourceUpdate {
            source,
            generation,
            at: t0,
            wall: jiff::Timestamp::UNIX_EPOCH,
            result,
        };
        let data = || Ok(Payload::new(SocketSnapshot::default()));
        let err = || Err(SourceError::Other("down".into()));
        let batch = vec![
            up(SourceId::Sockets, 1, data()),
            up(SourceId::Pods, 1, data()),
            up(SourceId::Sockets, 2, data()),
            up(SourceId::Pods, 2, Ok(Payload::Unchanged)),
            up(SourceId::Pvcs, 1, data()),
            up(SourceId::Pvcs, 2, Ok(Payload::KubeRetargeted)),
            up(SourceId::Sockets, 3, data()),
            up(SourceId::Pvcs, 3, data()),
            up(SourceId::Pvcs, 4, err()),
            up(SourceId::Pods, 3, Ok(Payload::Unchanged)),
        ];
        let got: Vec<(SourceId, u64)> = latest_per_source(batch)
            .iter()
            .map(|u| (u.source, u.generation))
            .collect();
        assert_eq!(
            got,
            vec![
                // Pods: the data, then only the last heartbeat after it.
                (SourceId::Pods, 1),
                // Pvcs: everything before the marker is the old target's.
                (SourceId::Pvcs, 2),
                (SourceId::Sockets, 3),
                (SourceId::Pvcs, 3),
                (SourceId::Pvcs, 4),
                (SourceId::Pods, 3),
            ]
        );
        // A heartbeat before newer data is superseded by it.
        let got = latest_per_source(vec![
            up(SourceId::Pods, 1, Ok(Payload::Unchanged)),
            up(SourceId::Pods, 2, data()),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].generation, 2);
    }

    #[test]
    fn a_heartbeat_moves_the_age_of_ready_data_only() {
        use crate::domain::sockets::SocketSnapshot;
        use crate::sources::{Payload, SourceId, SourceUpdate};
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(10);
        let up = |generation, at, result| SourceUpdate {
            source: SourceId::Pods,
            generation,
            at,
            wall: jiff::Timestamp::UNIX_EPOCH,
            result,
        };
        let take = |p: Payload| p.downcast::<SocketSnapshot>().map(|_| 1u8);
        let mut f: Feed<u8> = Feed::new(Duration::from_secs(1), t0);
        // Loading: a heartbeat is no data.
        f.apply_kube(up(1, t1, Ok(Payload::Unchanged)), take);
        assert_eq!(f.data(), None);
        f.apply_kube(up(2, t0, Ok(Payload::new(SocketSnapshot::default()))), take);
        assert!(f.freshness(t1).is_stale());
        assert_eq!(
            f.apply_kube(up(3, t1, Ok(Payload::Unchanged)), take),
            KubeApplied::Ignored
        );
        assert_eq!(f.data(), Some(&1));
        assert_eq!(
            f.freshness(t1),
            Freshness::Fresh {
                age: Duration::ZERO
            }
        );
        // An older heartbeat never moves it back.
        f.apply_kube(up(2, t0, Ok(Payload::Unchanged)), take);
        assert_eq!(f.data_at().map(|(at, _)| at), Some(t1));
    }

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

    #[test]
    fn a_source_that_never_answered_is_stale_however_often_it_fails() {
        let t0 = Instant::now();
        let w = jiff::Timestamp::UNIX_EPOCH;
        let secs = Duration::from_secs;
        // 1 s refresh, 10 s request deadline: STALE after 10 s (the longer of 3 s and 10 s).
        let mut f: Feed<u32> = Feed::new(secs(1), t0).with_deadline(secs(10));
        assert_eq!(f.never_loaded_limit(), secs(10));
        let mut generation = 0;
        let mut t = t0;
        // An error every 500 ms (a refused connection retried quickly) for 12 s.
        while t < t0 + secs(12) {
            generation += 1;
            assert!(f.apply(
                generation,
                t,
                w,
                Err(SourceError::Unreachable("connection refused".into()))
            ));
            let waited = t.saturating_duration_since(t0);
            let fr = f.freshness(t);
            if waited > secs(10) {
                assert_eq!(fr, Freshness::NeverLoaded { waited }, "at {waited:?}");
            } else {
                assert_eq!(fr, Freshness::Loading, "at {waited:?}");
            }
            t += Duration::from_millis(500);
        }
        // Without a deadline (sockets): three intervals.
        let f: Feed<u32> = Feed::new(secs(1), t0);
        assert_eq!(f.freshness(t0 + secs(3)), Freshness::Loading);
        assert!(
            f.freshness(t0 + secs(3) + Duration::from_millis(1))
                .is_stale()
        );
        // A retarget starts the wait again and keeps the deadline.
        let mut f: Feed<u32> = Feed::new(secs(1), t0).with_deadline(secs(10));
        f.retarget(t0 + secs(20));
        assert_eq!(f.deadline, secs(10));
        assert_eq!(f.freshness(t0 + secs(25)), Freshness::Loading);
        assert!(f.freshness(t0 + secs(31)).is_stale());
        // Data that then stops: STALE three intervals after the server's last answer.
        let mut f: Feed<u32> = Feed::new(secs(1), t0).with_deadline(secs(10));
        f.apply(1, t0 + secs(1), w, Ok(1));
        assert!(!f.freshness(t0 + secs(4)).is_stale());
        assert_eq!(f.freshness(t0 + secs(5)), Freshness::Stale { age: secs(4) });
    }
}
