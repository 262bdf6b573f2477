//! Pods as ondeck keeps them between updates: a [`CompactPod`] holds only what the pods pane,
//! its detail view, the log planner, the PVC pane's "who mounts it" and the pod rules read, in
//! tight types. Every string is [`Clean`] (sanitized here, where it enters, so rows, reasons
//! and details built from it are clean too) and repeated ones (namespace, node, image, phase,
//! reasons) are shared through an [`Interner`]. About a tenth of a stripped `k8s_openapi` `Pod` (whose every optional field
//! takes room inline), so memory follows the number of pods, not the API's object model.
//!
//! The rules and kubectl's STATUS are written against `k8s_openapi` types; [`CompactPod::to_pod`]
//! gives them a short-lived `Pod` with exactly the fields they read, when a pod is evaluated
//! (when it changed, or when time can change its verdict), never kept.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, PersistentVolumeClaimVolumeSource, Pod, PodCondition,
    PodSpec, PodStatus, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use super::pods::{ContainerDetail, PodKey, containers_of, limits_text, probe_text};
use super::text::{Clean, Interner};

/// The label ondeck's own helper pods carry (`app.kubernetes.io/managed-by=ondeck`).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// kubectl's default container for logs and exec.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

fn clean(s: Option<&String>) -> Option<Clean> {
    s.map(|s| Clean::new(s))
}

fn time(t: Option<&Time>) -> Option<Stamp> {
    t.map(|t| Stamp::new(t.0))
}

/// A Kubernetes timestamp in 8 bytes, and `Option<Stamp>` in 8 too (a `Timestamp` takes 16,
/// its `Option` 24; a pod keeps a dozen): whole seconds, which is all `metav1.Time` carries on
/// the wire (RFC 3339 without a fraction). Stored offset by [`Stamp::OFFSET`] so that it is
/// never zero (the niche) and orders as the time does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(std::num::NonZeroI64);

impl Stamp {
    /// Larger than any second jiff can represent (about 3.8e11 either side of the epoch).
    const OFFSET: i64 = 1 << 40;

    /// `t` to the second (rounded down).
    pub fn new(t: Timestamp) -> Stamp {
        let v = t.as_second() + Stamp::OFFSET;
        Stamp(std::num::NonZeroI64::new(v).unwrap_or(std::num::NonZeroI64::MIN))
    }

    /// `t` to the second, rounded up: a deadline kept as a Stamp is never earlier than `t`.
    pub fn ceil(t: Timestamp) -> Stamp {
        let up = i64::from(t.subsec_nanosecond() > 0);
        let v = t
            .as_second()
            .saturating_add(up)
            .saturating_add(Stamp::OFFSET);
        Stamp(std::num::NonZeroI64::new(v).unwrap_or(std::num::NonZeroI64::MIN))
    }

    pub fn get(self) -> Timestamp {
        Timestamp::from_second(self.0.get() - Stamp::OFFSET).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn time(self) -> Time {
        Time(self.get())
    }
}

impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// A terminated container instance (current or previous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminated {
    pub reason: Option<Clean>,
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub started_at: Option<Stamp>,
    pub finished_at: Option<Stamp>,
    pub message: Option<Clean>,
}

/// A container's state (`None`: the API gave none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    None,
    Empty,
    Running {
        started_at: Option<Stamp>,
    },
    Waiting {
        reason: Option<Clean>,
        message: Option<Clean>,
    },
    Terminated(Box<Terminated>),
}

/// One container status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactStatus {
    pub name: Clean,
    pub ready: bool,
    pub started: Option<bool>,
    pub restart_count: i32,
    pub state: State,
    /// The previous instance, when it terminated.
    pub last_terminated: Option<Box<Terminated>>,
}

/// One container of the spec, with its claim mounts and its probes and limits as the detail
/// view prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactContainer {
    pub name: Clean,
    pub image: Option<Clean>,
    pub restart_policy: Option<Clean>,
    /// Mounts of claim volumes: (volume name, mount path).
    pub mounts: Box<[(Clean, Clean)]>,
    pub probes: Box<[Clean]>,
    pub limits: Option<Clean>,
}

/// A pod condition: 48 bytes (a pod has five or so). Its reason and message sit behind one
/// pointer, as most conditions (the True ones) have neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactCondition {
    pub type_: Clean,
    pub status: Clean,
    pub last_transition: Option<Stamp>,
    /// (reason, message), when either is set.
    pub why: Option<Box<(Option<Clean>, Option<Clean>)>>,
}

impl CompactCondition {
    pub fn reason(&self) -> Option<&Clean> {
        self.why.as_ref().and_then(|w| w.0.as_ref())
    }

    pub fn message(&self) -> Option<&Clean> {
        self.why.as_ref().and_then(|w| w.1.as_ref())
    }
}

/// A volume backed by a claim: (volume name, claim name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimVolume {
    pub volume: Clean,
    pub claim: Clean,
}

/// A pod, compact. Built once per watch event by [`CompactPod::from_pod`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactPod {
    pub namespace: Clean,
    pub name: Clean,
    pub uid: Option<Clean>,
    pub created: Option<Stamp>,
    pub deleted: Option<Stamp>,
    /// The controller owner (else the first owner): kind, name.
    pub owner: Option<(Clean, Clean)>,
    /// One of ondeck's own helper pods: never counted as a user of a claim.
    pub managed_by_ondeck: bool,
    pub node: Option<Clean>,
    pub claims: Box<[ClaimVolume]>,
    pub containers: Box<[CompactContainer]>,
    pub phase: Option<Clean>,
    pub conditions: Box<[CompactCondition]>,
    pub ip: Option<Clean>,
    pub qos: Option<Clean>,
    pub start_time: Option<Stamp>,
    pub statuses: Box<[CompactStatus]>,
    /// What most pods do not have, behind one pointer (`None` when it would be empty).
    pub rare: Option<Box<PodRare>>,
}

/// The parts of a pod most pods lack: a deletion grace period, finalizers, a default-container
/// annotation, a status reason or message, init containers. Kept apart, they cost a pointer
/// per pod instead of over a hundred bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRare {
    pub deletion_grace_seconds: Option<i64>,
    pub finalizers: Box<[Clean]>,
    pub default_container: Option<Clean>,
    pub reason: Option<Clean>,
    pub message: Option<Clean>,
    pub init_containers: Box<[CompactContainer]>,
    pub init_statuses: Box<[CompactStatus]>,
}

fn terminated(t: &ContainerStateTerminated, i: &mut Interner) -> Box<Terminated> {
    Box::new(Terminated {
        reason: i.opt(t.reason.as_ref()),
        exit_code: t.exit_code,
        signal: t.signal,
        started_at: time(t.started_at.as_ref()),
        finished_at: time(t.finished_at.as_ref()),
        message: clean(t.message.as_ref()),
    })
}

fn state(s: Option<&ContainerState>, i: &mut Interner) -> State {
    let Some(s) = s else {
        return State::None;
    };
    if let Some(r) = &s.running {
        State::Running {
            started_at: time(r.started_at.as_ref()),
        }
    } else if let Some(w) = &s.waiting {
        State::Waiting {
            reason: i.opt(w.reason.as_ref()),
            message: clean(w.message.as_ref()),
        }
    } else if let Some(t) = &s.terminated {
        State::Terminated(terminated(t, i))
    } else {
        State::Empty
    }
}

fn status(cs: &ContainerStatus, i: &mut Interner) -> CompactStatus {
    CompactStatus {
        name: i.get(&cs.name),
        ready: cs.ready,
        started: cs.started,
        restart_count: cs.restart_count,
        state: state(cs.state.as_ref(), i),
        last_terminated: cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| terminated(t, i)),
    }
}

fn container(c: &Container, claim_volumes: &[ClaimVolume], i: &mut Interner) -> CompactContainer {
    // Probes, limits and mounts are the same for every replica of a workload: shared.
    let mut probes = Vec::new();
    if let Some(p) = &c.startup_probe {
        probes.push(i.get(&probe_text("startup", p)));
    }
    if let Some(p) = &c.liveness_probe {
        probes.push(i.get(&probe_text("liveness", p)));
    }
    if let Some(p) = &c.readiness_probe {
        probes.push(i.get(&probe_text("readiness", p)));
    }
    CompactContainer {
        name: i.get(&c.name),
        image: i.opt(c.image.as_ref()),
        restart_policy: i.opt(c.restart_policy.as_ref()),
        mounts: c
            .volume_mounts
            .iter()
            .flatten()
            .filter(|m| claim_volumes.iter().any(|v| *v.volume == *m.name))
            .map(|m| (i.get(&m.name), i.get(&m.mount_path)))
            .collect(),
        probes: probes.into(),
        limits: limits_text(c).map(|l| i.get(&l)),
    }
}

fn term_back(t: &Terminated) -> ContainerStateTerminated {
    ContainerStateTerminated {
        reason: t.reason.as_deref().map(String::from),
        exit_code: t.exit_code,
        signal: t.signal,
        started_at: t.started_at.map(Stamp::time),
        finished_at: t.finished_at.map(Stamp::time),
        message: t.message.as_deref().map(String::from),
        ..Default::default()
    }
}

fn state_back(s: &State) -> Option<ContainerState> {
    match s {
        State::None => None,
        State::Empty => Some(ContainerState::default()),
        State::Running { started_at } => Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: started_at.map(Stamp::time),
            }),
            ..Default::default()
        }),
        State::Waiting { reason, message } => Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: reason.as_deref().map(String::from),
                message: message.as_deref().map(String::from),
            }),
            ..Default::default()
        }),
        State::Terminated(t) => Some(ContainerState {
            terminated: Some(term_back(t)),
            ..Default::default()
        }),
    }
}

fn status_back(s: &CompactStatus) -> ContainerStatus {
    ContainerStatus {
        name: s.name.to_string(),
        ready: s.ready,
        started: s.started,
        restart_count: s.restart_count,
        state: state_back(&s.state),
        last_state: s.last_terminated.as_deref().map(|t| ContainerState {
            terminated: Some(term_back(t)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn container_back(c: &CompactContainer) -> Container {
    Container {
        name: c.name.to_string(),
        image: c.image.as_deref().map(String::from),
        restart_policy: c.restart_policy.as_deref().map(String::from),
        volume_mounts: (!c.mounts.is_empty()).then(|| {
            c.mounts
                .iter()
                .map(|(v, p)| VolumeMount {
                    name: v.to_string(),
                    mount_path: p.to_string(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    }
}

impl CompactPod {
    pub fn from_pod(p: &Pod, i: &mut Interner) -> CompactPod {
        let m = &p.metadata;
        let spec = p.spec.as_ref();
        let st = p.status.as_ref();
        let claims: Vec<ClaimVolume> = spec
            .and_then(|s| s.volumes.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let c = v.persistent_volume_claim.as_ref()?;
                Some(ClaimVolume {
                    volume: i.get(&v.name),
                    claim: Clean::new(&c.claim_name),
                })
            })
            .collect();
        let owner = m.owner_references.as_ref().and_then(|refs| {
            refs.iter()
                .find(|r| r.controller == Some(true))
                .or_else(|| refs.first())
        });
        let statuses = |list: Option<&Vec<ContainerStatus>>, i: &mut Interner| {
            list.into_iter()
                .flatten()
                .map(|cs| status(cs, i))
                .collect::<Box<[_]>>()
        };
        let rare = PodRare {
            deletion_grace_seconds: m.deletion_grace_period_seconds,
            finalizers: m.finalizers.iter().flatten().map(|f| i.get(f)).collect(),
            default_container: m
                .annotations
                .as_ref()
                .and_then(|a| a.get(DEFAULT_CONTAINER))
                .map(|s| Clean::new(s)),
            reason: i.opt(st.and_then(|s| s.reason.as_ref())),
            message: clean(st.and_then(|s| s.message.as_ref())),
            init_containers: spec
                .and_then(|s| s.init_containers.as_ref())
                .into_iter()
                .flatten()
                .map(|c| container(c, &claims, i))
                .collect(),
            init_statuses: statuses(st.and_then(|s| s.init_container_statuses.as_ref()), i),
        };
        CompactPod {
            namespace: match m.namespace.as_deref().unwrap_or_default() {
                ns if crate::sanitize::display_line(ns) == ns => i.get(ns),
                ns => Clean::identifier(ns),
            },
            name: Clean::identifier(m.name.as_deref().unwrap_or_default()),
            uid: clean(m.uid.as_ref()),
            created: time(m.creation_timestamp.as_ref()),
            deleted: time(m.deletion_timestamp.as_ref()),
            // A ReplicaSet's or a StatefulSet's name is shared by its pods.
            owner: owner.map(|o| (i.get(&o.kind), i.get(&o.name))),
            managed_by_ondeck: m
                .labels
                .as_ref()
                .and_then(|l| l.get(MANAGED_BY_LABEL))
                .is_some_and(|v| v == "ondeck"),
            node: i.opt(spec.and_then(|s| s.node_name.as_ref())),
            containers: spec
                .map(|s| s.containers.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|c| container(c, &claims, i))
                .collect(),
            claims: claims.into(),
            phase: i.opt(st.and_then(|s| s.phase.as_ref())),
            conditions: st
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .map(|c| CompactCondition {
                    type_: i.get(&c.type_),
                    status: i.get(&c.status),
                    last_transition: time(c.last_transition_time.as_ref()),
                    // "containers with unready status: [app]": repeated, shared.
                    why: match (i.opt(c.reason.as_ref()), i.opt(c.message.as_ref())) {
                        (None, None) => None,
                        why => Some(Box::new(why)),
                    },
                })
                .collect(),
            ip: clean(st.and_then(|s| s.pod_ip.as_ref())),
            qos: i.opt(st.and_then(|s| s.qos_class.as_ref())),
            start_time: time(st.and_then(|s| s.start_time.as_ref())),
            statuses: statuses(st.and_then(|s| s.container_statuses.as_ref()), i),
            rare: Some(Box::new(rare)).filter(|r| **r != PodRare::default()),
        }
    }

    fn rare(&self) -> &PodRare {
        static NONE: std::sync::LazyLock<PodRare> = std::sync::LazyLock::new(PodRare::default);
        self.rare.as_deref().unwrap_or(&NONE)
    }

    pub fn init_containers(&self) -> &[CompactContainer] {
        &self.rare().init_containers
    }

    /// A short-lived `Pod` with every field the rules, kubectl's STATUS and the log planner
    /// read (not probes or limits: [`CompactPod::containers`] has those).
    pub fn to_pod(&self) -> Pod {
        let s = |a: &Option<Clean>| a.as_deref().map(String::from);
        let mut annotations = BTreeMap::new();
        let rare = self.rare();
        if let Some(c) = &rare.default_container {
            annotations.insert(DEFAULT_CONTAINER.to_string(), c.to_string());
        }
        let mut labels = BTreeMap::new();
        if self.managed_by_ondeck {
            labels.insert(MANAGED_BY_LABEL.to_string(), "ondeck".to_string());
        }
        Pod {
            metadata: ObjectMeta {
                name: Some(self.name.to_string()),
                namespace: Some(self.namespace.to_string()),
                uid: self.uid.as_deref().map(String::from),
                creation_timestamp: self.created.map(Stamp::time),
                deletion_timestamp: self.deleted.map(Stamp::time),
                deletion_grace_period_seconds: rare.deletion_grace_seconds,
                finalizers: (!rare.finalizers.is_empty())
                    .then(|| rare.finalizers.iter().map(|f| f.to_string()).collect()),
                annotations: (!annotations.is_empty()).then_some(annotations),
                labels: (!labels.is_empty()).then_some(labels),
                owner_references: self.owner.as_ref().map(|(kind, name)| {
                    vec![OwnerReference {
                        kind: kind.to_string(),
                        name: name.to_string(),
                        controller: Some(true),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: self.containers.iter().map(container_back).collect(),
                init_containers: (!rare.init_containers.is_empty())
                    .then(|| rare.init_containers.iter().map(container_back).collect()),
                node_name: s(&self.node),
                volumes: (!self.claims.is_empty()).then(|| {
                    self.claims
                        .iter()
                        .map(|c| Volume {
                            name: c.volume.to_string(),
                            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                                claim_name: c.claim.to_string(),
                                read_only: None,
                            }),
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: s(&self.phase),
                reason: s(&rare.reason),
                message: rare.message.as_deref().map(String::from),
                conditions: (!self.conditions.is_empty()).then(|| {
                    self.conditions
                        .iter()
                        .map(|c| PodCondition {
                            type_: c.type_.to_string(),
                            status: c.status.to_string(),
                            last_transition_time: c.last_transition.map(Stamp::time),
                            reason: c.reason().map(|r| r.to_string()),
                            message: c.message().map(|m| m.to_string()),
                            ..Default::default()
                        })
                        .collect()
                }),
                pod_ip: self.ip.as_deref().map(String::from),
                qos_class: s(&self.qos),
                start_time: self.start_time.map(Stamp::time),
                init_container_statuses: (!rare.init_statuses.is_empty())
                    .then(|| rare.init_statuses.iter().map(status_back).collect()),
                container_statuses: (!self.statuses.is_empty())
                    .then(|| self.statuses.iter().map(status_back).collect()),
                ..Default::default()
            }),
        }
    }

    pub fn key(&self) -> PodKey {
        PodKey {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The pod's condition `type_` is "True".
    pub fn condition_true(&self, type_: &str) -> bool {
        self.conditions
            .iter()
            .any(|c| &*c.type_ == type_ && &*c.status == "True")
    }

    /// Containers with state, last state, probes and limits (init and sidecars first).
    pub fn containers(&self) -> Vec<ContainerDetail> {
        let mut out = containers_of(&self.to_pod());
        for (d, c) in out
            .iter_mut()
            .zip(self.init_containers().iter().chain(self.containers.iter()))
        {
            d.probes = c.probes.iter().map(|p| p.to_string()).collect();
            d.limits = c.limits.as_deref().map(String::from);
        }
        out
    }

    /// Mount paths of the claim's volume in each container ("container:/path").
    pub fn mounts_of(&self, volume: &str) -> Vec<String> {
        self.containers
            .iter()
            .chain(self.init_containers().iter())
            .flat_map(|c| {
                c.mounts
                    .iter()
                    .filter(move |(v, _)| &**v == volume)
                    .map(move |(_, p)| format!("{}:{p}", c.name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiled_stamp_is_never_before_its_time() {
        let whole = Timestamp::from_second(1_795_000_000).unwrap_or(Timestamp::MIN);
        assert_eq!(Stamp::ceil(whole).get(), whole);
        let half = whole + jiff::SignedDuration::from_millis(500);
        assert_eq!(
            Stamp::ceil(half).get(),
            whole + jiff::SignedDuration::from_secs(1)
        );
        assert_eq!(Stamp::new(half).get(), whole);
        assert!(Stamp::ceil(half).get() >= half);
        assert!(Stamp::ceil(half) > Stamp::new(half));
    }

    #[test]
    fn a_stamp_keeps_the_second_and_the_order_in_eight_bytes() {
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
        let times = [
            Timestamp::MIN,
            Timestamp::from_second(-1).unwrap_or(Timestamp::MIN),
            Timestamp::UNIX_EPOCH,
            Timestamp::from_second(1_795_000_000).unwrap_or(Timestamp::MIN),
            Timestamp::MAX,
        ];
        for t in times {
            assert_eq!(Stamp::new(t).get().as_second(), t.as_second(), "{t}");
        }
        for w in times.windows(2) {
            assert!(Stamp::new(w[0]) < Stamp::new(w[1]), "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn a_condition_takes_48_bytes_and_keeps_its_reason_and_message() {
        assert!(std::mem::size_of::<CompactCondition>() <= 48);
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                 "message": "containers with unready status: [app]",
                 "lastTransitionTime": "2026-12-01T10:00:00Z"},
                {"type": "PodScheduled", "status": "True"}
            ]}
        }))
        .unwrap_or_default();
        let c = CompactPod::from_pod(&pod, &mut Interner::default());
        assert_eq!(c.conditions.len(), 2);
        assert!(c.conditions[1].why.is_none());
        let back = c.to_pod();
        let conds = back.status.and_then(|s| s.conditions).unwrap_or_default();
        assert_eq!(conds[0].reason.as_deref(), Some("ContainersNotReady"));
        assert_eq!(
            conds[0].message.as_deref(),
            Some("containers with unready status: [app]")
        );
        assert_eq!(
            conds[0]
                .last_transition_time
                .as_ref()
                .map(|t| t.0.to_string()),
            Some("2026-12-01T10:00:00Z".to_string())
        );
        assert_eq!(conds[1].reason, None);
    }

    #[test]
    fn what_most_pods_lack_costs_a_pointer_and_comes_back_whole() {
        assert!(std::mem::size_of::<CompactPod>() <= 256);
        let plain: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running"}
        }))
        .unwrap_or_default();
        let mut i = Interner::default();
        assert!(CompactPod::from_pod(&plain, &mut i).rare.is_none());

        let rare: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "finalizers": ["example.com/keep"],
                         "deletionGracePeriodSeconds": 30,
                         "annotations": {"kubectl.kubernetes.io/default-container": "app"}},
            "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Failed", "reason": "Evicted", "message": "low on memory",
                       "initContainerStatuses": [{"name": "init", "ready": false,
                                                  "restartCount": 2, "image": "i",
                                                  "imageID": ""}]}
        }))
        .unwrap_or_default();
        let c = CompactPod::from_pod(&rare, &mut i);
        assert!(c.rare.is_some());
        assert_eq!(c.init_containers().len(), 1);
        let back = c.to_pod();
        assert_eq!(
            back.metadata.finalizers,
            Some(vec!["example.com/keep".to_string()])
        );
        assert_eq!(back.metadata.deletion_grace_period_seconds, Some(30));
        let st = back.status.unwrap_or_default();
        assert_eq!(st.reason.as_deref(), Some("Evicted"));
        assert_eq!(st.message.as_deref(), Some("low on memory"));
        assert_eq!(
            st.init_container_statuses.map(|v| v[0].restart_count),
            Some(2)
        );
        let spec = back.spec.unwrap_or_default();
        assert_eq!(
            spec.init_containers.map(|v| v[0].name.clone()),
            Some("init".to_string())
        );
        assert_eq!(
            back.metadata
                .annotations
                .and_then(|a| a.get("kubectl.kubernetes.io/default-container").cloned()),
            Some("app".to_string())
        );
    }
}
