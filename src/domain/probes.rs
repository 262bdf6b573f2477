//! HTTP probes as plain data: one attempt with its per-phase timings and the phase that failed
//! ([`Attempt`]), a probe's bounded history with p50/p99 over a window ([`History`]), and the
//! rows the pane and `check` show ([`ProbeRow`], [`ProbesSnapshot`]). No I/O here.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::domain::Level;
use crate::domain::text::Clean;

/// The phases of one attempt, in order. `Body` and `Status` are where a response that arrived
/// can still fail (a stalled or non-matching body, an unexpected status code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Dns,
    Connect,
    Tls,
    Headers,
    Body,
    Status,
}

impl Phase {
    /// `check`'s `failed_phase` and the pane's STATUS word.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Headers => "headers",
            Phase::Body => "body",
            Phase::Status => "status",
        }
    }
}

/// How long each phase took (`None`: not reached, or skipped on a reused connection). A phase
/// that failed has the time until it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timings {
    pub dns: Option<Duration>,
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// From the request written to the response headers (time to first byte).
    pub headers: Option<Duration>,
    pub transfer: Option<Duration>,
    pub total: Duration,
}

impl Timings {
    /// The bar's segments, in order: dns, connect, tls, headers, transfer.
    pub fn segments(&self) -> [Duration; 5] {
        [
            self.dns.unwrap_or_default(),
            self.connect.unwrap_or_default(),
            self.tls.unwrap_or_default(),
            self.headers.unwrap_or_default(),
            self.transfer.unwrap_or_default(),
        ]
    }
}

/// What the TLS handshake showed: version and the leaf certificate's facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFacts {
    /// `TLSv1.3`.
    pub version: Option<&'static str>,
    pub cipher: Option<Clean>,
    /// The leaf's subject (CN or the whole DN).
    pub subject: Option<Clean>,
    pub issuer: Option<Clean>,
    pub not_after: Option<jiff::Timestamp>,
    /// The chain as presented and its verdict (for the certificates pane).
    pub presented: Option<std::sync::Arc<crate::tls::Recorded>>,
}

/// One attempt of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it started (wall clock).
    pub at: jiff::Timestamp,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub failed: Option<Phase>,
    /// The failure in words: `connect refused`, `headers: no response within 3s`.
    pub error: Option<Clean>,
    pub timings: Timings,
    pub peer: Option<SocketAddr>,
    pub tls: Option<TlsFacts>,
    /// Bytes of the status line and headers as received.
    pub header_bytes: Option<usize>,
    pub body_bytes: usize,
    /// The connection was kept from the previous attempt (`reuse = true`).
    pub reused: bool,
}

impl Attempt {
    /// STATUS: the code when it succeeded or failed on status, else the failing phase.
    pub fn status_text(&self) -> String {
        match (self.failed, self.status_code) {
            (None, Some(c)) | (Some(Phase::Status), Some(c)) => c.to_string(),
            (Some(p), _) => p.name().to_string(),
            (None, None) => "-".into(),
        }
    }
}

/// A probe's bounded history: the last `cap` attempts' totals and outcomes, and the
/// statistics over a window. Time comes in as an argument (tests use a fake clock).
#[derive(Debug, Clone)]
pub struct History {
    cap: usize,
    window: Duration,
    /// (started, total, ok).
    ring: VecDeque<(Instant, Duration, bool)>,
}

/// What [`History::stats`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Of the successful attempts in the window.
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub attempts: usize,
    pub ok: usize,
}

impl Stats {
    /// OK% in the window (`None` before any attempt).
    pub fn ok_pct(&self) -> Option<f64> {
        (self.attempts > 0).then(|| self.ok as f64 * 100.0 / self.attempts as f64)
    }
}

impl History {
    pub fn new(cap: usize, window: Duration) -> History {
        let cap = cap.max(1);
        History {
            cap,
            window,
            ring: VecDeque::with_capacity(cap.min(1024)),
        }
    }

    pub fn push(&mut self, at: Instant, total: Duration, ok: bool) {
        if self.ring.len() == self.cap {
            self.ring.pop_front();
        }
        self.ring.push_back((at, total, ok));
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// p50/p99 (nearest rank) of the successful attempts and the success count, over the
    /// attempts that started within the window before `now`.
    pub fn stats(&self, now: Instant) -> Stats {
        let since = now.checked_sub(self.window);
        let mut ok_totals = Vec::with_capacity(self.ring.len());
        let mut attempts = 0;
        for &(at, total, ok) in self.ring.iter().rev() {
            if since.is_some_and(|s| at < s) {
                break;
            }
            attempts += 1;
            if ok {
                ok_totals.push(total);
            }
        }
        ok_totals.sort_unstable();
        let rank = |q: f64| -> Option<Duration> {
            if ok_totals.is_empty() {
                return None;
            }
            let n = ok_totals.len();
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            Some(ok_totals[i])
        };
        Stats {
            p50: rank(0.50),
            p99: rank(0.99),
            attempts,
            ok: ok_totals.len(),
        }
    }

    /// The last `n` totals, oldest first (failures as `None`), for the sparkline.
    pub fn recent(&self, n: usize) -> Vec<Option<Duration>> {
        let skip = self.ring.len().saturating_sub(n);
        self.ring
            .iter()
            .skip(skip)
            .map(|&(_, total, ok)| ok.then_some(total))
            .collect()
    }
}

/// A probe's verdict from its rules: the level, and for failures below the critical count the
/// PENDING progress (`1/3`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub level: Level,
    /// `(consecutive failures, failures before critical)` while below it.
    pub pending: Option<(u32, u32)>,
    /// p99 over the SLO since (monotonic), for `for`.
    pub slo_breached_for: Option<Duration>,
    pub reasons: Vec<Clean>,
}

/// One probe as the pane and `check` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRow {
    pub name: Clean,
    pub url: Clean,
    pub slo_p99: Option<Duration>,
    pub slo_for: Duration,
    pub stats: Stats,
    pub consecutive_failures: u32,
    pub verdict: Verdict,
    /// The last attempts, newest last (a few, for the detail).
    pub recent: Vec<Attempt>,
    /// Totals of the last attempts for the sparkline, oldest first (`None`: failed).
    pub spark: Vec<Option<Duration>>,
    /// When its state (ok / failing) last changed.
    pub since: Option<jiff::Timestamp>,
}

impl ProbeRow {
    pub fn last(&self) -> Option<&Attempt> {
        self.recent.last()
    }
}

/// What the probes source sends: every probe's row, in config order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbesSnapshot {
    pub rows: Vec<ProbeRow>,
    pub at: Option<jiff::Timestamp>,
    /// The Kubernetes probe audit, when enabled.
    pub audit: Option<AuditSnapshot>,
}

/// One HTTP readiness/liveness probe of a pod, and what measuring its endpoint showed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub namespace: Clean,
    pub pod: Clean,
    pub container: Clean,
    /// `readiness` / `liveness` / `startup`.
    pub kind: &'static str,
    pub port: u16,
    pub path: Clean,
    pub timeout: Duration,
    pub period: Duration,
    pub failure_threshold: u32,
    pub stats: Stats,
    /// Why it was not measured (proxy forbidden, disabled).
    pub unmeasured: Option<Clean>,
    pub level: Level,
    /// `readiness timeout 1s is below this endpoint's p99 2.1s: pods will flap under load`.
    pub finding: Option<Clean>,
    /// Probe-failure events of the pod (`Readiness probe failed: ...`).
    pub events: Vec<Clean>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSnapshot {
    pub rows: Vec<AuditRow>,
    pub error: Option<Clean>,
    /// What was audited: `context kind-demo, namespace payments` (the console's target).
    pub scope: Option<Clean>,
    /// When this audit finished; `None` while the first audit of a target runs.
    pub at: Option<jiff::Timestamp>,
}

/// `1.2s`, `340ms`, `0.8ms`: a latency in few cells.
pub fn short_latency(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.0}s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{ms:.1}ms")
    }
}

/// A deadline as written in words: `3s`, `250ms`.
pub fn deadline_words(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_over_the_window_only() {
        let t0 = Instant::now();
        let mut h = History::new(1000, Duration::from_secs(60));
        // An old slow attempt, outside the window at the end.
        h.push(t0, Duration::from_secs(9), true);
        for i in 0..100u64 {
            h.push(
                t0 + Duration::from_secs(61) + Duration::from_millis(i),
                Duration::from_millis(i + 1),
                true,
            );
        }
        h.push(t0 + Duration::from_secs(62), Duration::from_secs(3), false);
        let s = h.stats(t0 + Duration::from_secs(62));
        assert_eq!(s.attempts, 101);
        assert_eq!(s.ok, 100);
        assert_eq!(s.p50, Some(Duration::from_millis(50)));
        assert_eq!(s.p99, Some(Duration::from_millis(99)));
        assert!((s.ok_pct().unwrap_or(0.0) - 99.0099).abs() < 0.01);
    }

    #[test]
    fn the_ring_is_bounded() {
        let t0 = Instant::now();
        let mut h = History::new(5, Duration::from_secs(3600));
        for i in 0..50 {
            h.push(t0, Duration::from_millis(i), i % 2 == 0);
        }
        assert_eq!(h.len(), 5);
        assert_eq!(h.recent(3).len(), 3);
        // 47 and 49 failed (None), 48 succeeded.
        assert_eq!(
            h.recent(3),
            vec![None, Some(Duration::from_millis(48)), None]
        );
    }

    #[test]
    fn latencies_read_short() {
        assert_eq!(short_latency(Duration::from_millis(2100)), "2.1s");
        assert_eq!(short_latency(Duration::from_millis(340)), "340ms");
        assert_eq!(short_latency(Duration::from_micros(800)), "0.8ms");
    }
}
