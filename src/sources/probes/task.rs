//! The console's probes task: one small task per probe (its own schedule: a random first
//! offset, the interval, backoff with jitter after failures) sending attempts to one collector,
//! which keeps every probe's state and sends a snapshot to the UI once per refresh when
//! something changed (a heartbeat otherwise). A dead endpoint only delays its own task: every
//! attempt is bounded by the probe's `total`.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::client::{self, Prepared};
use super::config::{ProbeConfig, ProbeSettings};
use super::state::{ProbeState, initial_offset, next_delay};
use crate::config::ProbeRules;
use crate::domain::probes::{Attempt, AuditSnapshot, ProbesSnapshot};
use crate::sources::certs::from_probes::Presented;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// What the collector needs.
pub struct TaskOptions {
    pub probes: Vec<ProbeConfig>,
    pub settings: ProbeSettings,
    pub rules: ProbeRules,
    /// How often the collector sends (the console's refresh).
    pub refresh: Duration,
    /// Probes that arrive later (the demo's endpoints, once the demo has started them).
    pub more: Option<tokio::sync::watch::Receiver<Vec<ProbeConfig>>>,
    /// The Kubernetes probe audit's results ([`super::audit::run_loop`], one per target).
    pub audits: Option<mpsc::Receiver<AuditSnapshot>>,
    /// Where the HTTPS probes' certificates go (the certificates pane), when they change.
    pub certs: Option<crate::sources::certs::from_probes::Feed>,
}

/// Starts the collector and the probes' tasks; everything stops on `cancel` or when `tx`
/// closes.
pub fn spawn(
    opts: TaskOptions,
    tx: mpsc::Sender<SourceUpdate>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(collector(opts, tx, cancel))
}

async fn collector(
    mut opts: TaskOptions,
    tx: mpsc::Sender<SourceUpdate>,
    cancel: CancellationToken,
) {
    let cancel = cancel.child_token();
    let _stop_probes = cancel.clone().drop_guard();
    // Bounded: a probe waits for the collector rather than growing memory.
    let (atx, mut arx) = mpsc::channel::<(usize, Instant, Attempt)>(1024);
    let mut states: Vec<ProbeState> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let add = |list: &[ProbeConfig],
               states: &mut Vec<ProbeState>,
               names: &mut std::collections::HashSet<String>| {
        for cfg in list {
            if !names.insert(cfg.name.clone()) {
                continue;
            }
            let idx = states.len();
            let st = ProbeState::new(cfg, &opts.settings);
            if let Ok(p) = &st.prepared {
                tokio::spawn(probe_loop(idx, p.clone(), atx.clone(), cancel.clone()));
            }
            states.push(st);
        }
    };
    add(&opts.probes, &mut states, &mut names);
    if let Some(more) = &mut opts.more {
        let list = more.borrow_and_update().clone();
        add(&list, &mut states, &mut names);
    }
    for st in &mut states {
        if let Some(a) = st.setup_failure() {
            st.record(a, Instant::now());
        }
    }
    let mut ticker = tokio::time::interval(opts.refresh);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    let mut audit: Option<AuditSnapshot> = None;
    // The chain each HTTPS probe last saw (or why it saw none), by probe index.
    let mut seen: Vec<Option<Presented>> = Vec::new();
    let mut certs_dirty = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            got = arx.recv() => {
                if let Some((idx, started, a)) = got
                    && let Some(st) = states.get_mut(idx)
                {
                    if opts.certs.is_some() && st.cfg.url.starts_with("https") {
                        if seen.len() <= idx {
                            seen.resize(idx + 1, None);
                        }
                        certs_dirty |= note_presented(&mut seen[idx], &st.cfg, &a);
                    }
                    st.record(a, started);
                    dirty = true;
                }
            }
            changed = recv_more(&mut opts.more) => {
                if let Some(list) = changed {
                    let before = states.len();
                    add(&list, &mut states, &mut names);
                    for st in &mut states[before..] {
                        if let Some(a) = st.setup_failure() {
                            st.record(a, Instant::now());
                        }
                    }
                    dirty = true;
                }
            }
            got = recv_audit(&mut opts.audits) => {
                audit = Some(got);
                dirty = true;
            }
            _ = ticker.tick() => {
                if certs_dirty && let Some(feed) = &opts.certs {
                    let cfgs: Vec<ProbeConfig> = states.iter().map(|s| s.cfg.clone()).collect();
                    let list: Vec<Presented> = seen.iter().flatten().cloned().collect();
                    certs_dirty = !feed.send(&cfgs, &list);
                }
                let result = if states.is_empty() && audit.is_none() {
                    Err(SourceError::NotConfigured(
                        "no [[probes]] in the config file".into(),
                    ))
                } else if dirty {
                    let mut snap = snapshot(&states, &opts.rules);
                    snap.audit = audit.clone();
                    Ok(Payload::new(snap))
                } else {
                    Ok(Payload::Unchanged)
                };
                dirty = false;
                let update = SourceUpdate {
                    source: SourceId::Probes,
                    generation: crate::sources::next_generation(),
                    at: Instant::now(),
                    wall: jiff::Timestamp::now(),
                    result,
                };
                if tx.send(update).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// The rows of every probe, in config order.
pub fn snapshot(states: &[ProbeState], rules: &ProbeRules) -> ProbesSnapshot {
    ProbesSnapshot {
        rows: states
            .iter()
            .map(|s| s.row(rules, rules.failures_before_critical))
            .collect(),
        at: Some(jiff::Timestamp::now()),
        audit: None,
    }
}

/// The next list of late probes; never resolves without a receiver (or once it is closed).
async fn recv_more(
    rx: &mut Option<tokio::sync::watch::Receiver<Vec<ProbeConfig>>>,
) -> Option<Vec<ProbeConfig>> {
    match rx {
        Some(r) => match r.changed().await {
            Ok(()) => Some(r.borrow_and_update().clone()),
            Err(_) => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// Keeps what an HTTPS probe's attempt presented: a chain replaces what was kept; a failure
/// before any chain (`connect refused`) is kept only until a chain is seen. Whether it changed.
fn note_presented(slot: &mut Option<Presented>, cfg: &ProbeConfig, a: &Attempt) -> bool {
    let now = match a.tls.as_ref().and_then(|t| t.presented.clone()) {
        Some(rec) => Ok(rec),
        None if a.reused => return false,
        None => {
            if slot.as_ref().is_some_and(|s| s.seen.is_ok()) {
                return false;
            }
            Err(a.error.as_deref().unwrap_or("no TLS handshake").to_string())
        }
    };
    if slot.as_ref().is_some_and(|s| s.seen == now) {
        return false;
    }
    *slot = Some(Presented {
        probe: cfg.name.clone(),
        url: cfg.url.clone(),
        seen: now,
    });
    true
}

/// The next audit result; never resolves without a receiver (or once it is closed).
async fn recv_audit(rx: &mut Option<mpsc::Receiver<AuditSnapshot>>) -> AuditSnapshot {
    match rx {
        Some(r) => match r.recv().await {
            Some(a) => a,
            None => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// One probe's schedule: a random offset, then attempt, report, wait (interval, or backoff
/// with jitter after failures).
async fn probe_loop(
    idx: usize,
    p: Prepared,
    tx: mpsc::Sender<(usize, Instant, Attempt)>,
    cancel: CancellationToken,
) {
    let interval = p.cfg.interval.0;
    // Each attempt is bounded by its total; this is a backstop for the whole future.
    let backstop = p.cfg.timeouts.total.0 + Duration::from_secs(1);
    let mut wait = initial_offset(interval, fastrand::f64());
    let mut warm = None;
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let started = Instant::now();
        let a = tokio::select! {
            _ = cancel.cancelled() => return,
            a = tokio::time::timeout(backstop, client::attempt(&p, &mut warm)) => match a {
                Ok(a) => a,
                Err(_) => {
                    warm = None;
                    timed_out(&p, started)
                }
            },
        };
        failures = if a.ok { 0 } else { failures.saturating_add(1) };
        if tx.send((idx, started, a)).await.is_err() {
            return;
        }
        wait = next_delay(interval, failures, fastrand::f64());
    }
}

fn timed_out(p: &Prepared, started: Instant) -> Attempt {
    Attempt {
        at: jiff::Timestamp::now(),
        ok: false,
        status_code: None,
        failed: Some(crate::domain::probes::Phase::Body),
        error: Some(crate::domain::text::Clean::from_string(format!(
            "total deadline {} exceeded",
            crate::domain::probes::deadline_words(p.cfg.timeouts.total.0)
        ))),
        timings: crate::domain::probes::Timings {
            total: started.elapsed(),
            ..Default::default()
        },
        peer: None,
        tls: None,
        header_bytes: None,
        body_bytes: 0,
        reused: false,
    }
}
