//! Pod danger rules (incident 7, SPEC defaults in [`PodRules`]): CrashLoopBackOff,
//! CreateContainerConfigError and an OOMKill in the last hour are critical; image pull failures,
//! restarts that increased in the last 10 minutes, Running-but-not-Ready for 2m, Pending for 5m,
//! Terminating for 5m and Evicted/Failed are warnings. Each reason says how long it has been true,
//! from the pod's own timestamps where Kubernetes records them, else from when ondeck first saw
//! it ([`PodHistory`]). Pure functions: `now` is injected.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};

use crate::config::{Comparison, PodRules};
use crate::domain::Level;
use crate::domain::SourceId;
use crate::domain::pods::{
    KubectlStatus, PodReason, PodRow, PodRule, claims_of, kubectl_status, owner_of,
};
use crate::domain::text::Clean;

use std::borrow::Cow;

use super::{AlertKey, Condition, Shown, next_wording, short_duration, title_or_id};

/// Restart samples kept per pod: enough for a 10-minute window of a fast crash loop.
const MAX_SAMPLES: usize = 32;
/// Distinct "first seen" keys kept per pod.
const MAX_SEEN: usize = 16;

/// What ondeck remembers about one pod between updates: restart counts over time (bounded) and
/// when it first saw each trouble the API gives no timestamp for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodHistory {
    /// (when observed, total restarts), recorded when the count changes; oldest first. A
    /// `Vec` sized to what it holds (most pods never restart: one sample, not a deque's four).
    samples: Vec<(Timestamp, u32)>,
    /// Trouble key -> when first seen. A few entries at most: a list, not a B-tree (whose one
    /// leaf is over 400 bytes, for every pod with one trouble).
    first_seen: Vec<(Box<str>, Timestamp)>,
    /// When ondeck first observed the pod at all.
    first_observed: Option<Timestamp>,
}

impl PodHistory {
    /// Records the pod's restart count at `now` (only changes are stored).
    pub fn observe_restarts(&mut self, now: Timestamp, restarts: u32) {
        self.first_observed.get_or_insert(now);
        if self.samples.last().is_some_and(|(_, n)| *n == restarts) {
            return;
        }
        if self.samples.len() == MAX_SAMPLES {
            self.samples.remove(0);
        }
        if self.samples.is_empty() {
            self.samples.reserve_exact(1);
        }
        self.samples.push((now, restarts));
    }

    /// Remembers when each active trouble key was first seen; forgets keys no longer active.
    pub fn mark_seen<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>, now: Timestamp) {
        // At most MAX_SEEN keys: on the stack, not a Vec per evaluation.
        let mut held = [""; MAX_SEEN];
        let mut n = 0;
        for k in keys.into_iter().take(MAX_SEEN) {
            held[n] = k;
            n += 1;
        }
        let keys = &held[..n];
        self.first_seen.retain(|(k, _)| keys.contains(&&**k));
        for &k in keys {
            if self.first_seen(k).is_none() {
                self.first_seen.reserve_exact(1);
                self.first_seen.push((k.into(), now));
            }
        }
    }

    pub fn first_seen(&self, key: &str) -> Option<Timestamp> {
        self.first_seen
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, t)| *t)
    }

    /// A trouble that started after ondeck began observing the pod cannot be older than when
    /// ondeck first saw it (or `now`, if it appears this very evaluation): bounds a Kubernetes
    /// timestamp that predates it (a condition whose lastTransitionTime was not updated).
    pub fn bound_since(&self, key: &str, k8s_since: Timestamp, now: Timestamp) -> Timestamp {
        let seen = self.first_seen(key).unwrap_or(now);
        match self.first_observed {
            Some(first) if first < seen => k8s_since.max(seen),
            _ => k8s_since,
        }
    }

    /// Restarts observed to increase since `from`: (how many, when the latest increase was seen).
    pub fn increase_since(&self, from: Timestamp) -> Option<(u32, Timestamp)> {
        let mut prev: Option<u32> = None;
        let mut total = 0u32;
        let mut latest = None;
        for (t, n) in &self.samples {
            if let Some(p) = prev
                && *t >= from
                && *n > p
            {
                total += n - p;
                latest = Some(*t);
            }
            prev = Some(*n);
        }
        latest.map(|t| (total, t))
    }

    /// The oldest restart sample taken at or after `from` (when the window's count next drops).
    pub fn first_sample_since(&self, from: Timestamp) -> Option<Timestamp> {
        self.samples.iter().map(|(t, _)| *t).find(|t| *t >= from)
    }

    /// Keys a reason's "first seen" is stored under.
    pub fn seen_keys(reasons: &[PodReason]) -> Vec<String> {
        reasons.iter().map(|r| r.rule.name().to_string()).collect()
    }
}

/// The keys of troubles present on `pod` whose reason waits for a threshold (Running but not
/// Ready): marked seen from their first sighting, below the threshold too, so that
/// [`PodHistory::bound_since`] measures a trouble that began while ondeck watched from when it
/// began. Without this, a pod that turned not ready under ondeck's eyes was bounded to `now` at
/// every evaluation and never reached the threshold.
pub fn threshold_trouble_keys(pod: &Pod) -> Option<&'static str> {
    let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    let deleting = pod.metadata.deletion_timestamp.is_some();
    let not_ready = condition(pod, "Ready").is_some_and(|c| c.status != "True");
    (running && !deleting && not_ready).then(|| PodRule::NotReady.name())
}

/// Why a pod's events cannot be known, as the detail shows it after `events: unknown`:
/// `forbidden: list events`, `not listed yet`, or the failure in a few words. The pods source
/// (console) calls this; `check` reads no events, so no pod's level depends on them.
pub fn events_unknown_why(err: Option<&crate::domain::SourceError>) -> String {
    use crate::domain::SourceError;
    let why = match err {
        None => "not listed yet".to_string(),
        // RBAC said no (a 401 is worded otherwise and shown whole).
        Some(SourceError::Forbidden(m)) if m.starts_with("cannot ") => {
            "forbidden: list events".to_string()
        }
        Some(e) => e.to_string(),
    };
    clip(&why, 120)
}

/// How far ahead of ondeck's clock an API timestamp may be before it is called odd (ordinary
/// clock skew between nodes and this machine).
pub const FUTURE_SKEW: SignedDuration = SignedDuration::from_secs(60);

/// "3m" since `since`; a timestamp in the future (beyond [`FUTURE_SKEW`]) is said so, never
/// shown as an ordinary age.
fn since_text(now: Timestamp, since: Timestamp) -> String {
    let d = now.duration_since(since);
    if d < -FUTURE_SKEW {
        return format!(
            "? (timestamp {} in the future: clock skew?)",
            short_duration(d.unsigned_abs())
        );
    }
    // Slightly ahead (ordinary skew): no time has passed yet.
    short_duration(if d.is_negative() {
        std::time::Duration::ZERO
    } else {
        d.unsigned_abs()
    })
    .into()
}

fn secs(d: SignedDuration) -> f64 {
    d.as_secs().max(0) as f64
}

fn condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

fn all_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let st = pod.status.as_ref();
    st.and_then(|s| s.init_container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            st.and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
}

/// "(container api, last exit 137 OOMKilled)" for a waiting container.
fn last_exit(cs: &ContainerStatus) -> String {
    match cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
        Some(t) => match t.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => format!(" (container {}, last exit {} {r})", cs.name, t.exit_code),
            None => format!(" (container {}, last exit {})", cs.name, t.exit_code),
        },
        None => format!(" (container {})", cs.name),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// When the pod stopped being ready, if Kubernetes recorded it.
fn not_ready_since(pod: &Pod) -> Option<Timestamp> {
    ["Ready", "ContainersReady"].iter().find_map(|t| {
        condition(pod, t)
            .filter(|c| c.status != "True")
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
    })
}

/// Every rule against one pod. `st` is the pod's kubectl status (computed once by the caller).
pub fn assess(
    pod: &Pod,
    st: &KubectlStatus,
    history: Option<&PodHistory>,
    rules: &PodRules,
    now: Timestamp,
) -> Vec<PodReason> {
    assess_with_flip(pod, st, history, rules, now, &mut None)
}

/// The earliest of `at` and what `next` holds.
fn sooner(next: &mut Option<Timestamp>, at: Timestamp) {
    *next = Some(next.map_or(at, |n| n.min(at)));
}

/// `at` plus `d` and one nanosecond (the rules compare strictly: "longer than"), saturating.
fn just_after(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.checked_add(d)
        .and_then(|t| t.checked_add(SignedDuration::from_nanos(1)))
        .unwrap_or(Timestamp::MAX)
}

/// [`assess`], also noting in `flip` the earliest time after `now` at which time alone can
/// add or remove a reason (a threshold reached, a window expired) with the pod unchanged.
fn assess_with_flip(
    pod: &Pod,
    st: &KubectlStatus,
    history: Option<&PodHistory>,
    rules: &PodRules,
    now: Timestamp,
    flip: &mut Option<Timestamp>,
) -> Vec<PodReason> {
    let mut out = Vec::new();
    let seen = |rule: PodRule| {
        history
            .and_then(|h| h.first_seen(rule.name()))
            .unwrap_or(now)
    };
    let bound = |rule: PodRule, k8s: Timestamp| match history {
        Some(h) => h.bound_since(rule.name(), k8s, now),
        None => k8s,
    };
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    let deleting = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0);

    // Waiting reasons (CrashLoopBackOff, CreateContainerConfigError, ImagePullBackOff, ...).
    let mut waiting: Option<(Level, &str, &ContainerStatus)> = None;
    for cs in all_statuses(pod) {
        let Some(reason) = cs
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
        else {
            continue;
        };
        let level = if rules.critical_reasons.iter().any(|r| r == reason) {
            Level::Critical
        } else if rules.warning_reasons.iter().any(|r| r == reason) {
            Level::Warning
        } else {
            continue;
        };
        if waiting.is_none_or(|(l, _, _)| level > l) {
            waiting = Some((level, reason, cs));
        }
    }
    let waiting_hit = waiting.is_some();
    if let Some((level, reason, cs)) = waiting {
        let since = match not_ready_since(pod) {
            Some(t) => bound(PodRule::WaitingReason, t),
            None => seen(PodRule::WaitingReason),
        };
        out.push(PodReason {
            rule: PodRule::WaitingReason,
            level,
            text: format!("{reason} for {}{}", since_text(now, since), last_exit(cs)),
            since: Some(since),
            value: secs(now.duration_since(since)),
            threshold: 0.0,
        });
    }

    // An OOMKill in the window, current or previous instance, most recent first.
    let window = SignedDuration::try_from(rules.oom_window.0).unwrap_or(SignedDuration::MAX);
    let ooms = all_statuses(pod)
        .flat_map(|cs| {
            let cur = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
            let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            [cur, last]
                .into_iter()
                .flatten()
                .filter(|t| t.reason.as_deref() == Some("OOMKilled"))
                .filter_map(|t| t.finished_at.as_ref().map(|f| (f.0, cs.name.as_str())))
                .collect::<Vec<_>>()
        })
        .filter(|(at, _)| now.duration_since(*at) <= window)
        .collect::<Vec<_>>();
    // Each OOMKill in the window leaves it later (the reason then names an older one, or goes).
    for (at, _) in &ooms {
        sooner(flip, just_after(*at, window));
    }
    let oom = ooms.into_iter().max_by_key(|(at, _)| *at);
    if let Some((at, container)) = oom {
        out.push(PodReason {
            rule: PodRule::OomKilled,
            level: Level::Critical,
            text: format!(
                "OOMKilled {} ago (container {container})",
                since_text(now, at)
            ),
            since: Some(at),
            value: secs(now.duration_since(at)),
            threshold: rules.oom_window.0.as_secs_f64(),
        });
    }

    // Restarts that increased within the window: the kubelet's own record of the last
    // termination, or ondeck's restart history.
    let rwindow = SignedDuration::try_from(rules.restart_window.0).unwrap_or(SignedDuration::MAX);
    // Checked: the window comes from the config (range-checked there too).
    let from = now.checked_sub(rwindow).unwrap_or(Timestamp::MIN);
    let by_history = history.and_then(|h| h.increase_since(from));
    let by_kubelet = st.last_restart.filter(|t| *t >= from);
    // Restarts seen in the window leave it later (the count drops, or the reason goes).
    if let Some(t) = history.and_then(|h| h.first_sample_since(from)) {
        sooner(flip, just_after(t, rwindow));
    }
    if let Some(t) = by_kubelet {
        sooner(flip, just_after(t, rwindow));
    }
    if by_history.is_some() || by_kubelet.is_some() {
        let latest = [by_history.map(|(_, t)| t), by_kubelet]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(now);
        let text = match by_history {
            Some((n, _)) => format!(
                "restarts +{n} in the last {} (last {} ago, {} total)",
                short_duration(rules.restart_window.0),
                since_text(now, latest),
                st.restarts
            ),
            None => format!(
                "restarted {} ago ({} total)",
                since_text(now, latest),
                st.restarts
            ),
        };
        out.push(PodReason {
            rule: PodRule::RestartsIncreased,
            level: Level::Warning,
            text,
            since: Some(latest),
            value: by_history.map(|(n, _)| n as f64).unwrap_or(1.0),
            threshold: 0.0,
        });
    }

    // Running but not Ready.
    if phase == "Running" && deleting.is_none() && !waiting_hit {
        let ready = condition(pod, "Ready");
        if ready.is_some_and(|c| c.status != "True") {
            let since = match ready.and_then(|c| c.last_transition_time.as_ref()) {
                Some(t) => bound(PodRule::NotReady, t.0),
                None => seen(PodRule::NotReady),
            };
            let d = now.duration_since(since);
            if d.unsigned_abs() <= rules.not_ready_for.0 {
                note_threshold(flip, since, rules.not_ready_for.0, now);
            }
            if d.unsigned_abs() > rules.not_ready_for.0 {
                let why = ready
                    .and_then(|c| c.message.as_deref())
                    .filter(|m| !m.is_empty())
                    .map(|m| format!(": {}", clip(m, 160)))
                    .unwrap_or_default();
                out.push(PodReason {
                    rule: PodRule::NotReady,
                    level: Level::Warning,
                    text: format!("Running but not Ready for {}{why}", since_text(now, since)),
                    since: Some(since),
                    value: secs(d),
                    threshold: rules.not_ready_for.0.as_secs_f64(),
                });
            }
        }
    }

    // Pending too long (an image pull failure already says why).
    if phase == "Pending" && deleting.is_none() && !waiting_hit {
        let since = pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .unwrap_or_else(|| seen(PodRule::Pending));
        let d = now.duration_since(since);
        if d.unsigned_abs() <= rules.pending_for.0 {
            note_threshold(flip, since, rules.pending_for.0, now);
        }
        if d.unsigned_abs() > rules.pending_for.0 {
            let why = condition(pod, "PodScheduled")
                .filter(|c| c.status != "True")
                .map(|c| {
                    let r = c.reason.as_deref().unwrap_or("not scheduled");
                    match c.message.as_deref().filter(|m| !m.is_empty()) {
                        Some(m) => format!(": {r}: {}", clip(m, 160)),
                        None => format!(": {r}"),
                    }
                })
                .unwrap_or_else(|| {
                    if st.status != "Pending" {
                        format!(" ({})", st.status)
                    } else {
                        String::new()
                    }
                });
            out.push(PodReason {
                rule: PodRule::Pending,
                level: Level::Warning,
                text: format!("Pending for {}{why}", since_text(now, since)),
                since: Some(since),
                value: secs(d),
                threshold: rules.pending_for.0.as_secs_f64(),
            });
        }
    }

    // Terminating too long. deletionTimestamp is "deletion requested + grace period".
    if let Some(del) = deleting {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        // The grace period comes from the API: an absurd one must not overflow.
        let since = del
            .checked_sub(SignedDuration::from_secs(
                grace.clamp(0, i64::from(u32::MAX)),
            ))
            .unwrap_or(del);
        let d = now.duration_since(since);
        if !(d.unsigned_abs() > rules.terminating_for.0 && d.is_positive()) {
            note_threshold(flip, since, rules.terminating_for.0, now);
        }
        if d.unsigned_abs() > rules.terminating_for.0 && d.is_positive() {
            let fins = pod
                .metadata
                .finalizers
                .as_ref()
                .filter(|f| !f.is_empty())
                .map(|f| format!(" (finalizers: {})", f.join(", ")))
                .unwrap_or_default();
            out.push(PodReason {
                rule: PodRule::Terminating,
                level: Level::Warning,
                text: format!("Terminating for {}{fins}", since_text(now, since)),
                since: Some(since),
                value: secs(d),
                threshold: rules.terminating_for.0.as_secs_f64(),
            });
        }
    }

    // Failed, including Evicted.
    if phase == "Failed" {
        let status = pod.status.as_ref();
        let since = all_statuses(pod)
            .filter_map(|cs| cs.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
            .map(|t| t.0)
            .chain(
                status
                    .and_then(|s| s.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0)),
            )
            .max()
            .map(|t| bound(PodRule::Failed, t))
            .unwrap_or_else(|| seen(PodRule::Failed));
        let what = status
            .and_then(|s| s.reason.as_deref())
            .filter(|r| !r.is_empty())
            .unwrap_or("Failed");
        let why = status
            .and_then(|s| s.message.as_deref())
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {}", clip(m, 160)))
            .unwrap_or_else(|| {
                if st.status != what {
                    format!(" ({})", st.status)
                } else {
                    String::new()
                }
            });
        out.push(PodReason {
            rule: PodRule::Failed,
            level: Level::Warning,
            text: format!("{what} for {}{why}", since_text(now, since)),
            since: Some(since),
            value: secs(now.duration_since(since)),
            threshold: 0.0,
        });
    }

    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.rule.cmp(&b.rule)));
    out
}

/// A "for longer than `threshold` since `since`" rule not met at `now`: when it will be (only a
/// `since` in the past or up to the threshold ahead gives a time to note; a timestamp further
/// in the future is caught by the regular recheck).
fn note_threshold(
    flip: &mut Option<Timestamp>,
    since: Timestamp,
    threshold: std::time::Duration,
    now: Timestamp,
) {
    let t = SignedDuration::try_from(threshold).unwrap_or(SignedDuration::MAX);
    let at = just_after(since, t);
    if at > now {
        sooner(flip, at);
    }
}

/// When a row's verdict or wording can next change with the pod unchanged: `flip` is the
/// earliest reason added or removed by time alone (a threshold or window), `wording` the
/// earliest change of a reason's "for 14m". `None`: neither can (no reason, no threshold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NextChange {
    pub flip: Option<Timestamp>,
    pub wording: Option<Timestamp>,
}

/// One table row: kubectl's columns plus level and reasons.
pub fn row(pod: &Pod, history: Option<&PodHistory>, rules: &PodRules, now: Timestamp) -> PodRow {
    row_with_next(pod, history, rules, now).0
}

/// [`row`], and when it can next change with the pod unchanged (what the console's row book
/// schedules its next evaluation of the pod by).
pub fn row_with_next(
    pod: &Pod,
    history: Option<&PodHistory>,
    rules: &PodRules,
    now: Timestamp,
) -> (PodRow, NextChange) {
    row_with_status(pod, kubectl_status(pod), history, rules, now)
}

/// [`row_with_next`] for a caller that already has the pod's kubectl status (`st`, which must
/// be `kubectl_status(pod)`): the row book reads the restarts from it first.
pub fn row_with_status(
    pod: &Pod,
    st: KubectlStatus,
    history: Option<&PodHistory>,
    rules: &PodRules,
    now: Timestamp,
) -> (PodRow, NextChange) {
    let mut flip = None;
    let reasons = assess_with_flip(pod, &st, history, rules, now, &mut flip);
    let wording = reasons
        .iter()
        .filter_map(|r| r.since)
        .map(|s| next_wording(s, now))
        .min();
    let level = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);
    let row = PodRow {
        namespace: Clean::identifier(pod.metadata.namespace.as_deref().unwrap_or_default()),
        name: Clean::identifier(pod.metadata.name.as_deref().unwrap_or_default()),
        ready: Clean::from_string(format!("{}/{}", st.ready, st.total)),
        status: Clean::from_string(st.status),
        restarts: st.restarts,
        last_restart: st.last_restart,
        created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty())
            .map(Clean::new),
        owner: owner_of(pod),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .map(Clean::new),
        claims: claims_of(pod),
        pod: None,
        level,
        reasons,
    };
    (row, NextChange { flip, wording })
}

/// The pods' reasons as alert conditions (one per pod and rule), for the alert book and
/// `check`'s `checks`. Pods with nothing wrong yield nothing.
pub fn evaluate<R: std::borrow::Borrow<PodRow>>(rows: &[R]) -> Vec<Condition> {
    rows.iter()
        .map(|row| row.borrow())
        .flat_map(|row| {
            row.reasons.iter().map(move |r| {
                let (title, shown) = display(r);
                Condition {
                    key: AlertKey::new(
                        SourceId::Pods,
                        r.rule.name(),
                        format!("{}/{}", row.namespace, row.name),
                        r.level,
                    ),
                    breached: true,
                    value: r.value,
                    threshold: r.threshold,
                    op: if r.rule == PodRule::OomKilled {
                        Comparison::AtMost
                    } else {
                        Comparison::Above
                    },
                    for_: std::time::Duration::ZERO,
                    // Self-contained: Nagios' summary line and the alert hook show only this.
                    message: format!("{}/{}: {}", row.namespace, row.name, r.text),
                    title,
                    shown,
                }
            })
        })
        .collect()
}

/// A reason's title and its value in words (`OOMKilled 12m ago`, `CrashLoopBackOff for 3h`).
/// The state word is the reason text's head (`Evicted for 3m: ...` -> `Evicted`).
fn display(r: &PodReason) -> (Cow<'static, str>, Shown) {
    let head = r
        .text
        .split(" for ")
        .next()
        .unwrap_or(r.text.as_str())
        .to_string();
    let title: Cow<'static, str> = match r.rule {
        PodRule::WaitingReason => Cow::Borrowed(match head.as_str() {
            "CrashLoopBackOff" => "Pod crash-looping",
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => "Pod image pull fails",
            "CreateContainerConfigError" | "CreateContainerError" => "Pod config error",
            _ => "Pod not starting",
        }),
        PodRule::Failed if head == "Evicted" => Cow::Borrowed("Pod evicted"),
        _ => title_or_id(r.rule.name()),
    };
    let Some(since) = r.since else {
        return (title, Shown::Text(head));
    };
    let shown = match r.rule {
        PodRule::OomKilled => Shown::Ago {
            what: "OOMKilled".into(),
            at: since,
        },
        PodRule::RestartsIncreased => Shown::Ago {
            what: "restarted".into(),
            at: since,
        },
        PodRule::NotReady => Shown::For {
            what: "not Ready".into(),
            since,
        },
        PodRule::WaitingReason | PodRule::Pending | PodRule::Terminating | PodRule::Failed => {
            Shown::For { what: head, since }
        }
    };
    (title, shown)
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_timestamps_in_the_future_are_said_so_and_absurd_ones_never_overflow() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
        assert_eq!(
            super::since_text(now, now - SignedDuration::from_secs(180)),
            "3m"
        );
        // Within ordinary clock skew: shown as an age (0s).
        assert_eq!(
            super::since_text(now, now + SignedDuration::from_secs(30)),
            "0s"
        );
        let t = super::since_text(now, now + SignedDuration::from_secs(3 * 3600));
        assert!(t.contains("in the future") && t.starts_with('?'), "{t}");
        // The extremes of the timestamp range: no panic.
        let _ = super::since_text(Timestamp::MAX, Timestamp::MIN);
        let _ = super::since_text(Timestamp::MIN, Timestamp::MAX);
    }

    use super::*;

    fn reason(rule: PodRule, text: &str, ago: i64, threshold: f64) -> (PodReason, Timestamp) {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
        let since = now - SignedDuration::from_secs(ago);
        (
            PodReason {
                rule,
                level: Level::Critical,
                text: text.into(),
                since: Some(since),
                value: ago as f64,
                threshold,
            },
            now,
        )
    }

    #[test]
    fn reasons_read_in_their_units_with_human_titles() {
        let (r, now) = reason(
            PodRule::OomKilled,
            "OOMKilled 12m ago (container api)",
            720,
            3600.0,
        );
        let (title, shown) = display(&r);
        assert_eq!(title, "Pod OOM-killed");
        assert_eq!(shown.render(now), "OOMKilled 12m ago");
        assert_eq!(shown.limit(Comparison::AtMost, 3600.0), "within 1h");
        let (r, now) = reason(
            PodRule::WaitingReason,
            "CrashLoopBackOff for 3h (container api, last exit 137 OOMKilled)",
            10_800,
            0.0,
        );
        let (title, shown) = display(&r);
        assert_eq!(title, "Pod crash-looping");
        assert_eq!(shown.render(now), "CrashLoopBackOff for 3h");
        assert_eq!(shown.limit(Comparison::Above, 0.0), "", "no raw 10804/0");
        let (r, now) = reason(
            PodRule::Failed,
            "Evicted for 5m: The node was low",
            300,
            0.0,
        );
        let (title, shown) = display(&r);
        assert_eq!(title, "Pod evicted");
        assert_eq!(shown.render(now), "Evicted for 5m");
    }

    #[test]
    fn first_seen_keeps_the_first_keys_and_forgets_the_gone() {
        let t0: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
        let t1 = t0 + SignedDuration::from_secs(60);
        let names: Vec<String> = (0..MAX_SEEN + 4).map(|i| format!("k{i}")).collect();
        let mut h = PodHistory::default();
        h.mark_seen(names.iter().map(String::as_str), t0);
        for (i, k) in names.iter().enumerate() {
            let want = (i < MAX_SEEN).then_some(t0);
            assert_eq!(h.first_seen(k), want, "{k}");
        }
        // Still there: first seen stays; gone: forgotten; new: seen now.
        h.mark_seen(["k3", "k1", "new", "k3"], t1);
        assert_eq!(h.first_seen("k3"), Some(t0));
        assert_eq!(h.first_seen("k1"), Some(t0));
        assert_eq!(h.first_seen("new"), Some(t1));
        assert_eq!(h.first_seen("k0"), None);
        h.mark_seen(std::iter::empty(), t1);
        assert_eq!(h.first_seen("k3"), None);
    }
}
