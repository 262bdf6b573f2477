//! The shared pod store: ONE kube-runtime watcher + reflector on pods for the scope (the PVC
//! pane reuses it to know who mounts what; never two pod watches), pods stripped to what ondeck
//! needs (memory at 10^4 pods), reconnecting with exponential backoff and jitter (410 Gone makes
//! the watcher relist). A builder task turns the store into owned [`PodsSnapshot`]s, debounced
//! on changes and on every refresh tick, and sends them as [`SourceUpdate`]s; an API probe
//! measures latency and notices a dead server before the watch does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::kube::Api;
use ::kube::runtime::reflector::{self, Store};
use ::kube::runtime::{WatchStreamExt, watcher};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Pod, PodSpec, PodStatus, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, PodRules};
use crate::domain::pods::{
    ApiHealth, NamespaceScope, PodEvent, PodKey, PodRow, PodsSnapshot, sort_by_danger,
};
use crate::rules::pods::{PodHistory, row};
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

use super::backoff::Backoff;
use super::client::{KubeTarget, WATCH_TIMEOUT_SECS};
use super::errors::{self, Op};
use super::events::{self, EventsMap};

/// Annotations worth keeping (kubectl's default container for logs/exec).
const KEPT_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/default-container"];
/// At most one snapshot per this long while the store is changing.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

fn strip_container(c: &Container, claim_volumes: &[String]) -> Container {
    Container {
        name: c.name.clone(),
        image: c.image.clone(),
        resources: c
            .resources
            .as_ref()
            .map(|r| k8s_openapi::api::core::v1::ResourceRequirements {
                limits: r.limits.clone(),
                requests: r.requests.clone(),
                ..Default::default()
            }),
        restart_policy: c.restart_policy.clone(),
        liveness_probe: c.liveness_probe.clone(),
        readiness_probe: c.readiness_probe.clone(),
        startup_probe: c.startup_probe.clone(),
        volume_mounts: c.volume_mounts.as_ref().map(|ms| {
            ms.iter()
                .filter(|m| claim_volumes.contains(&m.name))
                .map(|m| VolumeMount {
                    name: m.name.clone(),
                    mount_path: m.mount_path.clone(),
                    read_only: m.read_only,
                    sub_path: m.sub_path.clone(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    }
}

fn strip_status(c: &ContainerStatus) -> ContainerStatus {
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        ready: c.ready,
        restart_count: c.restart_count,
        started: c.started,
        state: c.state.clone(),
        last_state: c.last_state.clone(),
        ..Default::default()
    }
}

/// Keeps only what the pods and PVC panes use: status, containers (name, image, limits,
/// probes, PVC mounts), PVC volumes, owner, a few annotations, the managed-by label. Drops
/// managedFields, other labels,
/// env, commands, affinity and the rest (about 1 KiB per pod less than keeping labels).
pub fn strip_pod(p: &mut Pod) {
    let m = &p.metadata;
    let annotations = m.annotations.as_ref().map(|a| {
        a.iter()
            .filter(|(k, _)| KEPT_ANNOTATIONS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    });
    let metadata = ObjectMeta {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        uid: m.uid.clone(),
        resource_version: m.resource_version.clone(),
        creation_timestamp: m.creation_timestamp.clone(),
        deletion_timestamp: m.deletion_timestamp.clone(),
        deletion_grace_period_seconds: m.deletion_grace_period_seconds,
        finalizers: m.finalizers.clone(),
        annotations: annotations.filter(|a| !a.is_empty()),
        // The one label kept: ondeck's helper pods are not users of a claim (claim_users).
        labels: m
            .labels
            .as_ref()
            .and_then(|l| l.get(crate::actions::helper_pod::MANAGED_BY_LABEL))
            .map(|v| {
                BTreeMap::from([(
                    crate::actions::helper_pod::MANAGED_BY_LABEL.to_string(),
                    v.clone(),
                )])
            }),
        owner_references: m.owner_references.as_ref().map(|os| {
            os.iter()
                .map(|o| OwnerReference {
                    api_version: o.api_version.clone(),
                    kind: o.kind.clone(),
                    name: o.name.clone(),
                    uid: o.uid.clone(),
                    controller: o.controller,
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    };
    let spec = p.spec.as_ref().map(|s| {
        let volumes: Option<Vec<Volume>> = s.volumes.as_ref().map(|vs| {
            vs.iter()
                .filter(|v| v.persistent_volume_claim.is_some())
                .map(|v| Volume {
                    name: v.name.clone(),
                    persistent_volume_claim: v.persistent_volume_claim.clone(),
                    ..Default::default()
                })
                .collect()
        });
        let claim_volumes: Vec<String> = volumes.iter().flatten().map(|v| v.name.clone()).collect();
        PodSpec {
            containers: s
                .containers
                .iter()
                .map(|c| strip_container(c, &claim_volumes))
                .collect(),
            init_containers: s.init_containers.as_ref().map(|cs| {
                cs.iter()
                    .map(|c| strip_container(c, &claim_volumes))
                    .collect()
            }),
            node_name: s.node_name.clone(),
            volumes,
            readiness_gates: s.readiness_gates.clone(),
            restart_policy: s.restart_policy.clone(),
            ..Default::default()
        }
    });
    let status = p.status.as_ref().map(|s| PodStatus {
        phase: s.phase.clone(),
        reason: s.reason.clone(),
        message: s.message.clone(),
        conditions: s.conditions.clone(),
        pod_ip: s.pod_ip.clone(),
        qos_class: s.qos_class.clone(),
        start_time: s.start_time.clone(),
        container_statuses: s
            .container_statuses
            .as_ref()
            .map(|v| v.iter().map(strip_status).collect()),
        init_container_statuses: s
            .init_container_statuses
            .as_ref()
            .map(|v| v.iter().map(strip_status).collect()),
        ..Default::default()
    });
    p.metadata = metadata;
    p.spec = spec;
    p.status = status;
}

// The generation counter is the sources' (`crate::sources::next_generation`), shared by every
// Kubernetes source; re-exported for the old paths.
pub use crate::sources::{generation_floor, next_generation};

/// A pod that mounts a PVC, for the PVC pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimUser {
    pub pod: String,
    pub phase: Option<String>,
    pub node: Option<String>,
    /// Mount paths of the claim's volume in each container ("container:/path").
    pub mounts: Vec<String>,
    pub terminating: bool,
}

/// Read access to the shared pod store. Cloning is cheap; reads take the reflector's lock
/// briefly, so call them from a source or executor task, not while drawing.
#[derive(Clone)]
pub struct PodStore {
    reader: Store<Pod>,
    changed: watch::Receiver<u64>,
}

impl PodStore {
    /// True once the first full list has been received.
    pub fn is_synced(&self) -> bool {
        *self.changed.borrow() > 0
    }

    /// Waits until the first full list is in.
    pub async fn wait_synced(&self) {
        let mut rx = self.changed.clone();
        let _ = rx.wait_for(|n| *n > 0).await;
    }

    /// Increments on every store change: `changed().changed().await` to follow it.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.clone()
    }

    pub fn get(&self, key: &PodKey) -> Option<Arc<Pod>> {
        self.reader.state().into_iter().find(|p| {
            p.metadata.name.as_deref() == Some(key.name.as_str())
                && p.metadata.namespace.as_deref() == Some(key.namespace.as_str())
        })
    }

    pub fn pods(&self) -> Vec<Arc<Pod>> {
        self.reader.state()
    }

    pub fn len(&self) -> usize {
        self.reader.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reader.is_empty()
    }

    /// Who mounts which claim: `(namespace, claim) -> pods`.
    pub fn claim_users(&self) -> BTreeMap<(String, String), Vec<ClaimUser>> {
        claim_users(&self.reader.state())
    }
}

/// Who mounts which claim, from a set of pods. ondeck's own helper pods (labelled
/// `app.kubernetes.io/managed-by=ondeck`, mounting a claim to back it up or restore it) never
/// count as users of the claim.
pub fn claim_users(pods: &[Arc<Pod>]) -> BTreeMap<(String, String), Vec<ClaimUser>> {
    let mut out: BTreeMap<(String, String), Vec<ClaimUser>> = BTreeMap::new();
    for p in pods {
        if crate::actions::helper_pod::is_helper(p) {
            continue;
        }
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let Some(spec) = p.spec.as_ref() else {
            continue;
        };
        for v in spec.volumes.iter().flatten() {
            let Some(claim) = v.persistent_volume_claim.as_ref() else {
                continue;
            };
            let mounts = spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .flat_map(|c| {
                    c.volume_mounts
                        .iter()
                        .flatten()
                        .filter(|m| m.name == v.name)
                        .map(|m| format!("{}:{}", c.name, m.mount_path))
                })
                .collect();
            out.entry((ns.clone(), claim.claim_name.clone()))
                .or_default()
                .push(ClaimUser {
                    pod: p.metadata.name.clone().unwrap_or_default(),
                    phase: p.status.as_ref().and_then(|s| s.phase.clone()),
                    node: spec.node_name.clone(),
                    mounts,
                    terminating: p.metadata.deletion_timestamp.is_some(),
                });
        }
    }
    out
}

/// What the watch task knows about its connection.
#[derive(Debug, Clone, Default)]
struct WatchState {
    synced: bool,
    error: Option<SourceError>,
    last_contact: Option<Timestamp>,
    reconnects: u64,
}

/// What the API probe measured last.
#[derive(Debug, Clone, Default)]
struct ProbeState {
    latency: Option<Duration>,
    error: Option<SourceError>,
    consecutive_failures: u32,
}

/// The running pods source. Dropping it stops every task it started.
pub struct PodsSource {
    pub store: PodStore,
    pub target: KubeTarget,
    events: watch::Receiver<Arc<EventsMap>>,
    tasks: Vec<JoinHandle<()>>,
}

impl PodsSource {
    /// Recent events of one pod, newest first.
    pub fn events_of(&self, key: &PodKey) -> Vec<PodEvent> {
        self.events.borrow().get(key).cloned().unwrap_or_default()
    }

    /// A receiver of the per-pod events map (shared, replaced on change).
    pub fn events(&self) -> watch::Receiver<Arc<EventsMap>> {
        self.events.clone()
    }
}

impl Drop for PodsSource {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn pods_api(target: &KubeTarget, client: ::kube::Client) -> Api<Pod> {
    match &target.scope {
        NamespaceScope::All => Api::all(client),
        NamespaceScope::One(ns) => Api::namespaced(client, ns),
    }
}

/// Starts the pod watch, the events watch, the API probe and the snapshot builder for
/// `target`. Snapshots go to `tx` as `SourceId::Pods` updates.
pub fn spawn(target: KubeTarget, cfg: &Config, tx: mpsc::Sender<SourceUpdate>) -> PodsSource {
    let (reader, writer) = reflector::store::<Pod>();
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let (state_tx, state_rx) = watch::channel(WatchState::default());
    let (probe_tx, probe_rx) = watch::channel(ProbeState::default());
    let (events_tx, events_rx) = watch::channel(Arc::new(EventsMap::new()));
    let k = &cfg.kubernetes;
    let backoff = Backoff::new(k.backoff_initial.0, k.backoff_max.0);

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(watch_pods(
        target.clone(),
        writer,
        changed_tx,
        state_tx,
        backoff.clone(),
    )));
    tasks.push(tokio::spawn(events::watch_events(
        target.clone(),
        events_tx,
        backoff,
    )));
    let probe_every = cfg.refresh.0.max(Duration::from_secs(2));
    tasks.push(tokio::spawn(probe_api(
        target.clone(),
        probe_tx,
        probe_every,
    )));
    let store = PodStore {
        reader,
        changed: changed_rx,
    };
    tasks.push(tokio::spawn(build_snapshots(
        target.clone(),
        store.clone(),
        state_rx,
        probe_rx,
        events_rx.clone(),
        cfg.rules.pods.clone(),
        cfg.refresh.0.max(Duration::from_millis(250)),
        tx,
    )));
    PodsSource {
        store,
        target,
        events: events_rx,
        tasks,
    }
}

async fn watch_pods(
    target: KubeTarget,
    mut writer: reflector::store::Writer<Pod>,
    changed: watch::Sender<u64>,
    state: watch::Sender<WatchState>,
    mut backoff: Backoff,
) {
    let op = Op {
        verb: "list",
        resource: "pods",
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    // Each pass lists then watches; after an error the stream is rebuilt so that recovery is
    // proven by a completed relist (InitDone), as client-go's reflector does, rather than
    // assumed from a silent re-watch.
    loop {
        let api = pods_api(&target, target.watch_client.clone());
        let wc = watcher::Config::default()
            .timeout(WATCH_TIMEOUT_SECS)
            .page_size(500);
        let mut stream = std::pin::pin!(watcher(api, wc).modify(strip_pod));
        let mut retry_in = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(ev) => {
                    writer.apply_watcher_event(&ev);
                    backoff.reset();
                    let now = Timestamp::now();
                    // Init/InitApply are a relist in progress: the store swaps at InitDone,
                    // so the data is only caught up (and the error cleared) from then on.
                    let caught_up =
                        !matches!(ev, watcher::Event::Init | watcher::Event::InitApply(_));
                    state.send_if_modified(|s| {
                        s.last_contact = Some(now);
                        let mut significant = false;
                        if caught_up && s.error.is_some() {
                            s.error = None;
                            significant = true;
                        }
                        if matches!(ev, watcher::Event::InitDone) && !s.synced {
                            s.synced = true;
                            significant = true;
                        }
                        significant
                    });
                    if caught_up && state.borrow().synced {
                        changed.send_modify(|n| *n += 1);
                    }
                }
                Err(watcher::Error::WatchError(status)) if status.code == 410 => {
                    // Our resourceVersion is too old: relist at once, not an outage.
                    tracing::debug!("pod watch expired (410 Gone), relisting");
                    retry_in = Some(Duration::ZERO);
                    break;
                }
                Err(e) => {
                    let err = errors::classify_watcher(&e, &op);
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %err, retry_in = ?delay, "pod watch failed");
                    state.send_modify(|s| {
                        s.error = Some(err);
                        s.reconnects += 1;
                    });
                    retry_in = Some(delay);
                    break;
                }
            }
        }
        // A stream that ended by itself is retried with backoff too (never a hot loop).
        let delay = retry_in.unwrap_or_else(|| backoff.next_delay());
        tokio::time::sleep(delay).await;
    }
}

async fn probe_api(target: KubeTarget, state: watch::Sender<ProbeState>, every: Duration) {
    let op = Op {
        verb: "get",
        resource: "version",
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let start = Instant::now();
        let res =
            tokio::time::timeout(target.request_timeout, target.client.apiserver_version()).await;
        let elapsed = start.elapsed();
        state.send_modify(|s| match res {
            Ok(Ok(_)) => {
                s.latency = Some(elapsed);
                s.error = None;
                s.consecutive_failures = 0;
            }
            Ok(Err(e)) => {
                s.error = Some(errors::classify(&e, &op));
                s.consecutive_failures += 1;
            }
            Err(_) => {
                s.error = Some(errors::deadline(&op, target.request_timeout));
                s.consecutive_failures += 1;
            }
        });
    }
}

/// Builds rows for every pod in `pods`, updating per-pod histories (and forgetting pods that
/// are gone). Pure apart from the histories it is given.
pub fn build_rows(
    pods: &[Arc<Pod>],
    histories: &mut HashMap<String, PodHistory>,
    rules: &PodRules,
    now: Timestamp,
) -> Vec<PodRow> {
    let mut rows = Vec::with_capacity(pods.len());
    let mut alive = std::collections::HashSet::with_capacity(pods.len());
    for p in pods {
        let id = p
            .metadata
            .uid
            .clone()
            .unwrap_or_else(|| PodKey::of(p).to_string());
        let h = histories.entry(id.clone()).or_default();
        let st = crate::domain::pods::kubectl_status(p);
        h.observe_restarts(now, st.restarts);
        let mut r = row(p, Some(h), rules, now);
        h.mark_seen(r.reasons.iter().map(|r| r.rule.name()), now);
        r.pod = Some(Arc::clone(p));
        alive.insert(id);
        rows.push(r);
    }
    histories.retain(|k, _| alive.contains(k));
    sort_by_danger(&mut rows);
    rows
}

#[allow(clippy::too_many_arguments)]
async fn build_snapshots(
    target: KubeTarget,
    store: PodStore,
    mut watch_state: watch::Receiver<WatchState>,
    probe: watch::Receiver<ProbeState>,
    events: watch::Receiver<Arc<EventsMap>>,
    rules: PodRules,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
) {
    let mut changed = store.changes();
    let mut histories: HashMap<String, PodHistory> = HashMap::new();
    let mut tick = tokio::time::interval(refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sent = Instant::now() - DEBOUNCE;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = changed.changed() => {
                if r.is_err() { return; }
                // Debounce: at most one snapshot per DEBOUNCE while the store churns.
                let since = last_sent.elapsed();
                if since < DEBOUNCE {
                    tokio::time::sleep(DEBOUNCE - since).await;
                }
            }
            r = watch_state.changed() => {
                if r.is_err() { return; }
            }
        }
        changed.mark_unchanged();
        let ws = watch_state.borrow_and_update().clone();
        let ps = probe.borrow().clone();
        let now = Timestamp::now();
        let at = Instant::now();
        let generation = next_generation();
        let probe_down = ps.consecutive_failures >= 2;
        let result = if let Some(e) = ws.error.clone() {
            Err(e)
        } else if probe_down && let Some(e) = ps.error.clone() {
            Err(e)
        } else if !ws.synced {
            continue;
        } else {
            let rows = build_rows(&store.pods(), &mut histories, &rules, now);
            Ok(Payload::new(PodsSnapshot {
                context: target.context.clone(),
                server: target.cluster_url.clone(),
                client_cert_not_after: target.client_cert_not_after,
                scope: target.scope.clone(),
                rows,
                api: ApiHealth {
                    reachable: ps.error.is_none(),
                    last_latency: ps.latency,
                    last_error: ps.error.clone(),
                    last_contact: ws.last_contact,
                    reconnects: ws.reconnects,
                },
                synced: true,
                events: events.borrow().clone(),
                at: now,
            }))
        };
        last_sent = at;
        let update = SourceUpdate {
            source: SourceId::Pods,
            generation,
            at,
            wall: now,
            result,
        };
        if tx.send(update).await.is_err() {
            return;
        }
    }
}
