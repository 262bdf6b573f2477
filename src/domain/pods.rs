//! Pods as the pods pane, `check` and the PVC pane see them: one owned [`PodRow`] per pod with
//! the STATUS column computed exactly the way `kubectl get pods` computes it, the detail view's
//! [`PodDetail`], the pod's recent events, and the [`PodsSnapshot`] the pods source sends.
//!
//! Everything here is plain data plus pure functions of a `k8s_openapi` `Pod` and an injected
//! `now`; every field of an API object is optional and treated so.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use compact_str::{CompactString, ToCompactString, format_compact};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Pod, Probe};
use serde::Serialize;

use crate::domain::Level;
use crate::domain::compact::CompactPod;
use crate::domain::text::Clean;

/// `namespace/name`, the identity the UI and `check` use for a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PodKey {
    pub namespace: Clean,
    pub name: Clean,
}

impl PodKey {
    pub fn new(namespace: impl Into<Clean>, name: impl Into<Clean>) -> Self {
        PodKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a pod from the API (its names cleaned as [`Clean::identifier`] does).
    pub fn of(pod: &Pod) -> Self {
        PodKey {
            namespace: Clean::identifier(pod.metadata.namespace.as_deref().unwrap_or_default()),
            name: Clean::identifier(pod.metadata.name.as_deref().unwrap_or_default()),
        }
    }
}

impl std::fmt::Display for PodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The controller that owns a pod (ReplicaSet, StatefulSet, DaemonSet, Job, Node, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub kind: Clean,
    pub name: Clean,
}

/// Which pod rule produced a reason; also the rule name in `check`'s `checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PodRule {
    /// A container waiting reason from `critical_reasons` / `warning_reasons`.
    WaitingReason,
    OomKilled,
    RestartsIncreased,
    NotReady,
    Pending,
    Terminating,
    Failed,
}

impl PodRule {
    pub fn name(self) -> &'static str {
        match self {
            PodRule::WaitingReason => "pod_waiting_reason",
            PodRule::OomKilled => "pod_oom_killed",
            PodRule::RestartsIncreased => "pod_restarts_increased",
            PodRule::NotReady => "pod_not_ready",
            PodRule::Pending => "pod_pending",
            PodRule::Terminating => "pod_terminating",
            PodRule::Failed => "pod_failed",
        }
    }
}

/// One reason a pod is not OK, in plain words with how long it has been true.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodReason {
    pub rule: PodRule,
    pub level: Level,
    /// "CrashLoopBackOff for 14m (container api, last exit 137 OOMKilled)".
    pub text: String,
    /// Since when it has been true (from the pod's timestamps, else first seen by ondeck).
    pub since: Option<Timestamp>,
    /// The measured value (seconds in the state, restarts in the window, ...).
    pub value: f64,
    /// The threshold it was compared with (0 for "seen at all" rules).
    pub threshold: f64,
}

/// One row of the pods table. Time-dependent columns (age, "3m ago") are rendered against a
/// `now` with [`PodRow::age_text`] and [`PodRow::restarts_text`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodRow {
    pub namespace: Clean,
    pub name: Clean,
    /// "x/y" as kubectl prints READY.
    pub ready: Clean,
    /// kubectl's STATUS column.
    pub status: Clean,
    pub restarts: u32,
    pub last_restart: Option<Timestamp>,
    pub created: Option<Timestamp>,
    pub node: Option<Clean>,
    pub owner: Option<Owner>,
    pub phase: Option<Clean>,
    /// PVC claim names this pod mounts (for the PVC pane's "who mounts it").
    pub claims: Vec<Clean>,
    /// The compact pod itself, shared with the store at no copy, so the detail view can show
    /// containers, probes and last states on demand (not in `check`).
    #[serde(skip_serializing)]
    pub pod: Option<Arc<CompactPod>>,
    pub level: Level,
    pub reasons: Vec<PodReason>,
}

impl PodRow {
    pub fn key(&self) -> PodKey {
        PodKey::new(self.namespace.clone(), self.name.clone())
    }

    /// kubectl's AGE column.
    pub fn age_text(&self, now: Timestamp) -> CompactString {
        match self.created {
            Some(c) => human_duration(now.duration_since(c)),
            None => "<unknown>".into(),
        }
    }

    /// kubectl's RESTARTS column: "7 (3m ago)" or "0".
    pub fn restarts_text(&self, now: Timestamp) -> CompactString {
        match self.last_restart {
            Some(t) if self.restarts != 0 => {
                format_compact!(
                    "{} ({} ago)",
                    self.restarts,
                    human_duration(now.duration_since(t))
                )
            }
            _ => self.restarts.to_compact_string(),
        }
    }

    /// When the most recent trouble started (for "danger, then most recent trouble" sorting).
    pub fn trouble_since(&self) -> Option<Timestamp> {
        self.reasons.iter().filter_map(|r| r.since).max()
    }

    /// Containers with state, last state, probes and limits, computed on demand.
    pub fn containers(&self) -> Vec<ContainerDetail> {
        self.pod
            .as_deref()
            .map(CompactPod::containers)
            .unwrap_or_default()
    }

    /// The reasons joined for a narrow column.
    pub fn reasons_text(&self) -> Cow<'_, str> {
        join_reasons(self.reasons.iter().map(|r| r.text.as_str()))
    }
}

/// Reasons joined with "; ", borrowed when there is at most one (most rows).
pub fn join_reasons<'a>(mut texts: impl Iterator<Item = &'a str>) -> Cow<'a, str> {
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    let Some(second) = texts.next() else {
        return Cow::Borrowed(first);
    };
    let mut out = String::with_capacity(first.len() + 2 + second.len());
    out.push_str(first);
    for t in std::iter::once(second).chain(texts) {
        out.push_str("; ");
        out.push_str(t);
    }
    Cow::Owned(out)
}

/// Default order: loudest first, then the most recent trouble first, then namespace/name.
/// Rows or shared rows (`Arc<PodRow>`, as snapshots hold them).
pub fn sort_by_danger<R: std::borrow::Borrow<PodRow>>(rows: &mut [R]) {
    rows.sort_by(|a, b| danger_order(a.borrow(), b.borrow()));
}

/// The order of [`sort_by_danger`]: louder first, then the most recent trouble, then by name.
pub fn danger_order(a: &PodRow, b: &PodRow) -> std::cmp::Ordering {
    b.level
        .cmp(&a.level)
        .then_with(|| b.trouble_since().cmp(&a.trouble_since()))
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}

/// READY / STATUS / RESTARTS exactly as kubectl's `printPod` computes them (kubernetes
/// `pkg/printers/internalversion/printers.go`, including sidecar init containers and the
/// "Completed but still running" correction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubectlStatus {
    pub ready: u32,
    pub total: u32,
    pub status: String,
    pub restarts: u32,
    pub last_restart: Option<Timestamp>,
}

fn is_restartable(c: Option<&&Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn last_terminated_at(cs: &ContainerStatus) -> Option<Timestamp> {
    cs.last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0)
}

fn condition_true(pod: &Pod, type_: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

fn nonempty(s: Option<&String>) -> Option<&str> {
    s.map(String::as_str).filter(|s| !s.is_empty())
}

/// kubectl's `printPod`, column by column.
pub fn kubectl_status(pod: &Pod) -> KubectlStatus {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let empty_cs: Vec<ContainerStatus> = Vec::new();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_ref())
        .unwrap_or(&empty_cs);
    let statuses = status
        .and_then(|s| s.container_statuses.as_ref())
        .unwrap_or(&empty_cs);
    let init_specs: Vec<&Container> = spec
        .and_then(|s| s.init_containers.as_ref())
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let init_by_name: BTreeMap<&str, &Container> =
        init_specs.iter().map(|c| (c.name.as_str(), *c)).collect();

    let mut total = spec.map(|s| s.containers.len()).unwrap_or(0) as u32;
    let mut ready = 0u32;
    let mut restarts = 0u32;
    let mut restartable_restarts = 0u32;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_restart: Option<Timestamp> = None;

    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let mut reason = nonempty(status.and_then(|s| s.reason.as_ref()))
        .map(str::to_string)
        .unwrap_or_else(|| phase.clone());

    if let Some(conds) = status.and_then(|s| s.conditions.as_ref()) {
        for c in conds {
            if c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated") {
                reason = "SchedulingGated".into();
            }
        }
    }

    for c in &init_specs {
        if is_restartable(Some(c)) {
            total += 1;
        }
    }

    let mut initializing = false;
    for (i, cs) in init_statuses.iter().enumerate() {
        let n = cs.restart_count.max(0) as u32;
        restarts += n;
        if let Some(t) = last_terminated_at(cs) {
            last_restart = last_restart.max(Some(t));
        }
        let spec_c = init_by_name.get(cs.name.as_str());
        if is_restartable(spec_c) {
            restartable_restarts += n;
            if let Some(t) = last_terminated_at(cs) {
                last_restartable_restart = last_restartable_restart.max(Some(t));
            }
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if is_restartable(spec_c) && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match nonempty(t.reason.as_ref()) {
                Some(r) => format!("Init:{r}"),
                None if t.signal.unwrap_or(0) != 0 => {
                    format!("Init:Signal:{}", t.signal.unwrap_or(0))
                }
                None => format!("Init:ExitCode:{}", t.exit_code),
            };
        } else if let Some(r) = waiting
            .and_then(|w| nonempty(w.reason.as_ref()))
            .filter(|r| *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        let mut error_reason: Option<String> = None;
        for cs in statuses.iter().rev() {
            restarts += cs.restart_count.max(0) as u32;
            if let Some(t) = last_terminated_at(cs) {
                last_restart = last_restart.max(Some(t));
            }
            let state = cs.state.as_ref();
            let waiting = state.and_then(|s| s.waiting.as_ref());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting.and_then(|w| nonempty(w.reason.as_ref())) {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match nonempty(t.reason.as_ref()) {
                    Some(r) => r.to_string(),
                    None if t.signal.unwrap_or(0) != 0 => {
                        format!("Signal:{}", t.signal.unwrap_or(0))
                    }
                    None => format!("ExitCode:{}", t.exit_code),
                };
                if t.exit_code != 0 {
                    error_reason = Some(reason.clone());
                }
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" {
            if has_running && condition_true(pod, "Ready") {
                reason = "Running".into();
            } else if let Some(e) = error_reason {
                reason = e;
            } else if has_running {
                reason = "NotReady".into();
            }
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    let terminal = phase == "Failed" || phase == "Succeeded";
    if deleting && status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
        reason = "Unknown".into();
    } else if deleting && !terminal {
        reason = "Terminating".into();
    }

    KubectlStatus {
        ready,
        total,
        status: reason,
        restarts,
        last_restart: if restarts != 0 { last_restart } else { None },
    }
}

/// kubectl's `duration.HumanDuration` (apimachinery `util/duration`): "45s", "3m10s",
/// "3h5m", "5d", "2y30d". Used for AGE and "N (3m ago)".
pub fn human_duration(d: SignedDuration) -> CompactString {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    } else if secs < 0 {
        return "0s".into();
    } else if secs < 120 {
        return format_compact!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format_compact!("{minutes}m")
        } else {
            format_compact!("{minutes}m{s}s")
        };
    } else if minutes < 180 {
        return format_compact!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format_compact!("{hours}h")
        } else {
            format_compact!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format_compact!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            format_compact!("{}d", hours / 24)
        } else {
            format_compact!("{}d{}h", hours / 24, h)
        }
    } else if hours < 24 * 365 * 2 {
        format_compact!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            format_compact!("{}y", hours / 24 / 365)
        } else {
            format_compact!("{}y{}d", hours / 24 / 365, dy)
        }
    } else {
        format_compact!("{}y", hours / 24 / 365)
    }
}

/// The controller owner of a pod, else its first owner.
pub fn owner_of(pod: &Pod) -> Option<Owner> {
    let refs = pod.metadata.owner_references.as_ref()?;
    let r = refs
        .iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())?;
    Some(Owner {
        kind: Clean::new(&r.kind),
        name: Clean::new(&r.name),
    })
}

/// PVC claim names mounted by the pod (from `spec.volumes[].persistentVolumeClaim`).
pub fn claims_of(pod: &Pod) -> Vec<Clean> {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.persistent_volume_claim.as_ref())
                .map(|p| Clean::new(&p.claim_name))
                .collect()
        })
        .unwrap_or_default()
}

/// A Kubernetes event about a pod, as the detail view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodEvent {
    /// "Normal" or "Warning".
    pub type_: Clean,
    pub reason: Clean,
    pub message: Clean,
    pub count: u32,
    /// Most recent occurrence.
    pub last_seen: Option<Timestamp>,
    /// Which component reported it ("kubelet", "default-scheduler").
    pub source: Clean,
}

/// One container in the detail view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerDetail {
    pub name: String,
    pub image: String,
    /// "init", "sidecar" or "app".
    pub role: &'static str,
    pub ready: bool,
    pub restarts: u32,
    /// "Running since ...", "Waiting: CrashLoopBackOff (back-off 5m0s ...)", "Terminated: ...".
    pub state: String,
    /// The previous instance's end: reason, exit code, finished at.
    pub last_state: Option<TerminationInfo>,
    pub probes: Vec<String>,
    /// "cpu 500m, memory 256Mi" from limits.
    pub limits: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TerminationInfo {
    pub reason: Option<String>,
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub finished_at: Option<Timestamp>,
    pub message: Option<String>,
}

/// A pod condition line ("Ready False since ...: containers with unready status: [api]").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionLine {
    pub type_: String,
    pub status: String,
    pub since: Option<Timestamp>,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// The detail view of one pod. Raw strings: the UI sanitizes them before display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodDetail {
    pub row: PodRow,
    pub ip: Option<String>,
    pub qos: Option<String>,
    pub containers: Vec<ContainerDetail>,
    pub conditions: Vec<ConditionLine>,
    pub events: Vec<PodEvent>,
}

/// How the Kubernetes API looked the last time the source talked to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiHealth {
    pub reachable: bool,
    /// Latency of the last completed request (list or watch start).
    pub last_latency: Option<Duration>,
    /// The last error, in plain words, if the last attempt failed.
    pub last_error: Option<super::SourceError>,
    /// Last time the watch delivered anything (event or bookmark) or a list completed.
    pub last_contact: Option<Timestamp>,
    /// Reconnects since start.
    pub reconnects: u64,
}

/// Which namespaces the source looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamespaceScope {
    All,
    One(String),
}

impl std::fmt::Display for NamespaceScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamespaceScope::All => f.write_str("all namespaces"),
            NamespaceScope::One(n) => f.write_str(n),
        }
    }
}

/// Counts per level, for the header's pods meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PodCounts {
    pub ok: usize,
    pub warning: usize,
    pub critical: usize,
}

/// What the pods source sends: every row (sorted by danger), the API's health and the pods'
/// recent events. `synced` is false until the first full list arrived.
#[derive(Debug, Clone)]
pub struct PodsSnapshot {
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// notAfter of the kubeconfig's client certificate, if the context uses one.
    pub client_cert_not_after: Option<Timestamp>,
    pub scope: NamespaceScope,
    /// Shared with the source's row book: a snapshot is a list of pointers, not a copy.
    pub rows: Vec<Arc<PodRow>>,
    pub api: ApiHealth,
    pub synced: bool,
    /// Recent events per pod, newest first, bounded per pod. Shared: it changes rarely.
    pub events: Arc<BTreeMap<PodKey, Arc<[PodEvent]>>>,
    /// Why the events cannot be known (forbidden, failing, not listed yet), if so: the detail
    /// then says `events: unknown (why)`, never "no recent events".
    pub events_unknown: Option<String>,
    /// When the rows were computed (wall clock; ages are relative to it).
    pub at: Timestamp,
}

impl PodsSnapshot {
    pub fn counts(&self) -> PodCounts {
        let mut c = PodCounts::default();
        for r in &self.rows {
            match r.level {
                Level::Critical => c.critical += 1,
                Level::Warning => c.warning += 1,
                Level::Ok | Level::Info => c.ok += 1,
            }
        }
        c
    }
}

/// Short form of a container's role for the detail view.
pub fn container_role(spec: Option<&Container>, init: bool) -> &'static str {
    match (init, spec.and_then(|c| c.restart_policy.as_deref())) {
        (true, Some("Always")) => "sidecar",
        (true, _) => "init",
        (false, _) => "app",
    }
}

pub(crate) fn probe_text(kind: &str, p: &Probe) -> String {
    let how = if let Some(h) = &p.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("http-get :{port}{}", h.path.as_deref().unwrap_or("/"))
    } else if let Some(t) = &p.tcp_socket {
        let port = match &t.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("tcp-socket :{port}")
    } else if p.exec.is_some() {
        "exec".to_string()
    } else if p.grpc.is_some() {
        "grpc".to_string()
    } else {
        "?".to_string()
    };
    format!(
        "{kind}: {how} delay={}s timeout={}s period={}s #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

fn state_text(s: Option<&ContainerState>) -> String {
    let Some(s) = s else {
        return "unknown".into();
    };
    if let Some(r) = &s.running {
        match r.started_at.as_ref() {
            Some(t) => format!("Running since {}", t.0.strftime("%Y-%m-%d %H:%M:%S UTC")),
            None => "Running".into(),
        }
    } else if let Some(w) = &s.waiting {
        let reason = w.reason.as_deref().unwrap_or("Waiting");
        match w.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("Waiting: {reason}: {m}"),
            None => format!("Waiting: {reason}"),
        }
    } else if let Some(t) = &s.terminated {
        format!(
            "Terminated: {} (exit {})",
            t.reason.as_deref().unwrap_or("-"),
            t.exit_code
        )
    } else {
        "unknown".into()
    }
}

fn termination(s: Option<&ContainerState>) -> Option<TerminationInfo> {
    let t = s?.terminated.as_ref()?;
    Some(TerminationInfo {
        reason: t.reason.clone(),
        exit_code: t.exit_code,
        signal: t.signal,
        finished_at: t.finished_at.as_ref().map(|f| f.0),
        message: t.message.clone().filter(|m| !m.is_empty()),
    })
}

/// "cpu 500m, memory 256Mi" from a container's limits.
pub(crate) fn limits_text(c: &Container) -> Option<String> {
    c.resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k} {}", v.0))
                .collect::<Vec<_>>()
                .join(", ")
        })
}

fn container_detail(c: &Container, st: Option<&ContainerStatus>, init: bool) -> ContainerDetail {
    let mut probes = Vec::new();
    if let Some(p) = &c.startup_probe {
        probes.push(probe_text("startup", p));
    }
    if let Some(p) = &c.liveness_probe {
        probes.push(probe_text("liveness", p));
    }
    if let Some(p) = &c.readiness_probe {
        probes.push(probe_text("readiness", p));
    }
    let limits = limits_text(c);
    ContainerDetail {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        role: container_role(Some(c), init),
        ready: st.is_some_and(|s| s.ready),
        restarts: st.map(|s| s.restart_count.max(0) as u32).unwrap_or(0),
        state: state_text(st.and_then(|s| s.state.as_ref())),
        last_state: termination(st.and_then(|s| s.last_state.as_ref())),
        probes,
        limits,
    }
}

/// Every container of a pod (init and sidecars first, as the pod runs them) with its state,
/// last state, probes and limits.
pub fn containers_of(pod: &Pod) -> Vec<ContainerDetail> {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    fn find<'a>(list: Option<&'a Vec<ContainerStatus>>, name: &str) -> Option<&'a ContainerStatus> {
        list.and_then(|v| v.iter().find(|s| s.name == name))
    }
    let mut out = Vec::new();
    for c in spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
    {
        let st = find(
            status.and_then(|s| s.init_container_statuses.as_ref()),
            &c.name,
        );
        out.push(container_detail(c, st, true));
    }
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or(&[]) {
        let st = find(status.and_then(|s| s.container_statuses.as_ref()), &c.name);
        out.push(container_detail(c, st, false));
    }
    out
}
