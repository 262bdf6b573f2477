//! The shared pod store: ONE kube-runtime watcher on pods for the scope (the PVC pane reuses it
//! to know who mounts what; never two pod watches), reconnecting with exponential backoff and
//! jitter (410 Gone makes the watcher relist). The list is paged and each pod becomes a
//! [`CompactPod`] as it arrives: no API object is kept (memory at 10^4 pods).
//!
//! A builder task keeps the rows between snapshots ([`RowBook`]): only pods that changed, or
//! whose verdict time can change, are evaluated again; a full [`PodsSnapshot`] goes out when a
//! row changed (debounced), and a [`Payload::Unchanged`] heartbeat on the other refresh ticks.
//! An API probe measures latency and notices a dead server before the watch does.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ::kube::Api;
use ::kube::runtime::watcher;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, PodRules};
use crate::domain::compact::CompactPod;
use crate::domain::pods::{ApiHealth, NamespaceScope, PodEvent, PodKey, PodsSnapshot};
use crate::domain::text::{Clean, Interner};
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

use super::backoff::Backoff;
use super::client::{KubeTarget, WATCH_TIMEOUT_SECS};
use super::errors::{self, Op};
use super::events::{self, EventsMap};

/// At most one snapshot per this long while the store is changing.
pub const DEBOUNCE: Duration = Duration::from_millis(250);
/// A pod whose verdict time alone can change (pending, not ready, in trouble) is evaluated
/// again when the rules say it can next change ([`crate::rules::pods::NextChange`]): at once
/// when a threshold is reached or a window expires, and for its wording ("for 14m" becoming
/// "for 15m") no sooner than this after its last evaluation. Settled pods (running and ready,
/// or succeeded, with nothing wrong) are evaluated only when they change.
pub const RECHECK: Duration = Duration::from_secs(10);
/// The longest a time-sensitive pod (critical or not) goes without being evaluated again with
/// nothing changed, whatever the rules foresee: time cannot make a critical pod louder, only
/// change its wording or let a window (restarts, OOM) expire, and the wording goes out at most
/// every [`REFRESH_TEXT`] anyway.
pub const RECHECK_CRITICAL: Duration = REFRESH_TEXT;
/// The API probe (the watches' liveness check) runs every refresh interval, but no more often
/// than this.
pub const MIN_PROBE_EVERY: Duration = Duration::from_millis(250);
/// The API's latency alone refreshes the header this often (a full snapshot).
pub const REFRESH_HEALTH: Duration = Duration::from_secs(60);
/// With rows changed only in their wording ("for 14m" becoming "for 15m") or new pod events
/// only, a full snapshot goes out at most this often; heartbeats otherwise. The wording counts
/// minutes and more, so a minute's delay is at most one unit; a full snapshot of 20k rows is
/// the costliest thing an idle console does, so it is not sent for wording more often.
pub const REFRESH_TEXT: Duration = Duration::from_secs(60);
/// Freed memory is given back to the system after a full snapshot at most this often (a
/// `malloc_trim` walks the heap: a few milliseconds at 20k pods).
pub const TRIM_EVERY: Duration = Duration::from_secs(30);

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

/// The pods of the scope, compact, keyed by namespace/name, with what changed since the
/// snapshot builder last looked.
#[derive(Debug, Default)]
struct PodMap {
    pods: HashMap<PodKey, Arc<CompactPod>>,
    /// Keys applied or deleted since [`PodStore::take_changes`].
    changed: HashSet<PodKey>,
    /// A relist replaced everything.
    relisted: bool,
}

/// What changed in the store since the builder last asked.
#[derive(Debug)]
pub enum StoreChanges {
    /// A relist: every pod, as listed.
    All(Vec<Arc<CompactPod>>),
    /// These keys: the pod now, or `None` when it is gone.
    Some(Vec<(PodKey, Option<Arc<CompactPod>>)>),
}

/// Read access to the shared pod store of compact pods. Cloning is cheap; reads take a lock
/// briefly (never across an await), so call them from a source or executor task, not while
/// drawing.
#[derive(Clone)]
pub struct PodStore {
    map: Arc<RwLock<PodMap>>,
    changed: watch::Receiver<u64>,
    /// A filled store ([`PodStore::from_pods`]) keeps its own sender, so that followers of
    /// [`PodStore::changes`] wait instead of seeing a closed channel.
    _sender: Option<Arc<watch::Sender<u64>>>,
    /// The pod watch's connection state (its current error), when a watch feeds the store.
    state: Option<watch::Receiver<WatchState>>,
}

impl std::fmt::Debug for PodStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodStore")
            .field("pods", &self.len())
            .finish()
    }
}

impl PodStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, PodMap> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, PodMap> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// True once the first full list has been received.
    pub fn is_synced(&self) -> bool {
        *self.changed.borrow() > 0
    }

    /// The pod watch's current error (forbidden, unreachable...), if any.
    pub fn error(&self) -> Option<SourceError> {
        self.state.as_ref().and_then(|s| s.borrow().error.clone())
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

    pub fn get(&self, key: &PodKey) -> Option<Arc<CompactPod>> {
        self.read().pods.get(key).cloned()
    }

    pub fn pods(&self) -> Vec<Arc<CompactPod>> {
        self.read().pods.values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().pods.is_empty()
    }

    /// Who mounts which claim: `(namespace, claim) -> pods`.
    pub fn claim_users(&self) -> BTreeMap<(String, String), Vec<ClaimUser>> {
        claim_users(self.read().pods.values().map(|p| &**p))
    }

    /// The nodes running a pod (that still holds its volume) which mounts a claim, sorted:
    /// [`crate::sources::kube::pvcs::usage_nodes`] of [`PodStore::claim_users`] without
    /// building the users (the used-space poller's question, every poll).
    pub fn claim_nodes(&self) -> Vec<String> {
        claim_nodes(self.read().pods.values().map(|p| &**p))
    }

    /// What changed since the last call (the snapshot builder's; one consumer).
    pub fn take_changes(&self) -> StoreChanges {
        let mut m = self.write();
        if std::mem::take(&mut m.relisted) {
            m.changed.clear();
            return StoreChanges::All(m.pods.values().cloned().collect());
        }
        let keys = std::mem::take(&mut m.changed);
        StoreChanges::Some(
            keys.into_iter()
                .map(|k| {
                    let p = m.pods.get(&k).cloned();
                    (k, p)
                })
                .collect(),
        )
    }

    /// Replaces everything (the end of a relist).
    fn replace_all(&self, pods: HashMap<PodKey, Arc<CompactPod>>) {
        let mut m = self.write();
        m.pods = pods;
        m.changed.clear();
        m.relisted = true;
    }

    fn apply(&self, pod: CompactPod) {
        let key = pod.key();
        let mut m = self.write();
        m.changed.insert(key.clone());
        m.pods.insert(key, Arc::new(pod));
    }

    fn delete(&self, key: PodKey, uid: Option<&str>) {
        let mut m = self.write();
        // A pod recreated under the same name (a StatefulSet's) is another uid: keep it.
        if let Some(p) = m.pods.get(&key)
            && uid.is_some()
            && p.uid.as_deref() != uid
        {
            return;
        }
        m.pods.remove(&key);
        m.changed.insert(key);
    }

    /// A store filled from `pods`, already synced (tests, benches).
    pub fn from_pods(pods: impl IntoIterator<Item = CompactPod>) -> PodStore {
        let map: HashMap<PodKey, Arc<CompactPod>> =
            pods.into_iter().map(|p| (p.key(), Arc::new(p))).collect();
        let (tx, rx) = watch::channel(1u64);
        PodStore {
            map: Arc::new(RwLock::new(PodMap {
                pods: map,
                changed: HashSet::new(),
                relisted: true,
            })),
            changed: rx,
            _sender: Some(Arc::new(tx)),
            state: None,
        }
    }
}

/// Who mounts which claim, from a set of pods. ondeck's own helper pods (labelled
/// `app.kubernetes.io/managed-by=ondeck`) are never users of a claim.
pub fn claim_users<P: Borrow<CompactPod>>(
    pods: impl IntoIterator<Item = P>,
) -> BTreeMap<(String, String), Vec<ClaimUser>> {
    let mut out: BTreeMap<(String, String), Vec<ClaimUser>> = BTreeMap::new();
    for p in pods {
        let p: &CompactPod = p.borrow();
        if p.managed_by_ondeck {
            continue;
        }
        for v in p.claims.iter() {
            out.entry((p.namespace.to_string(), v.claim.to_string()))
                .or_default()
                .push(ClaimUser {
                    pod: p.name.to_string(),
                    phase: p.phase.as_deref().map(String::from),
                    node: p.node.as_deref().map(String::from),
                    mounts: p.mounts_of(&v.volume),
                    terminating: p.deleted.is_some(),
                });
        }
    }
    out
}

/// The nodes running a pod (that still holds its volume) which mounts a claim, from a set of
/// pods, sorted and once each: the nodes of [`claim_users`]'s users not Succeeded or Failed.
pub fn claim_nodes<P: Borrow<CompactPod>>(pods: impl IntoIterator<Item = P>) -> Vec<String> {
    // Nodes are few and interned: a short list, looked up by pointer first.
    let mut nodes: Vec<Clean> = Vec::new();
    for p in pods {
        let p: &CompactPod = p.borrow();
        if p.managed_by_ondeck
            || p.claims.is_empty()
            || matches!(p.phase.as_deref(), Some("Succeeded") | Some("Failed"))
        {
            continue;
        }
        let Some(node) = p.node.as_ref().filter(|n| !n.is_empty()) else {
            continue;
        };
        if !nodes
            .iter()
            .any(|n| Clean::ptr_eq(n, node) || n.as_str() == node.as_str())
        {
            nodes.push(node.clone());
        }
    }
    let mut out: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    out.sort_unstable();
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
        self.events
            .borrow()
            .get(key)
            .map(|v| v.to_vec())
            .unwrap_or_default()
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
    // A panic in any of these tasks becomes this source's error in its pane (supervise).
    let sup_tx = tx.clone();
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let (state_tx, state_rx) = watch::channel(WatchState::default());
    let store = PodStore {
        map: Arc::new(RwLock::new(PodMap::default())),
        changed: changed_rx,
        _sender: None,
        state: Some(state_rx.clone()),
    };
    let (probe_tx, probe_rx) = watch::channel(ProbeState::default());
    let (events_tx, events_rx) = watch::channel(Arc::new(EventsMap::new()));
    let (events_unknown_tx, events_unknown_rx) =
        watch::channel(Some(crate::rules::pods::events_unknown_why(None)));
    let k = &cfg.kubernetes;
    let backoff = Backoff::new(k.backoff_initial.0, k.backoff_max.0);

    let mut tasks = Vec::new();
    tasks.push(crate::sources::supervise::spawn(
        SourceId::Pods,
        sup_tx.clone(),
        watch_pods(
            target.clone(),
            store.clone(),
            changed_tx,
            state_tx,
            backoff.clone(),
        ),
    ));
    tasks.push(crate::sources::supervise::spawn(
        SourceId::Pods,
        sup_tx.clone(),
        events::watch_events(target.clone(), events_tx, events_unknown_tx, backoff),
    ));
    // The liveness check: a cheap request every refresh interval, so that a silent server
    // (stopped, or a connection that answers nothing) is noticed within three intervals even
    // when no pod changes.
    let probe_every = cfg.refresh.0.max(MIN_PROBE_EVERY);
    tasks.push(crate::sources::supervise::spawn(
        SourceId::Pods,
        sup_tx.clone(),
        probe_api(target.clone(), probe_tx, probe_every),
    ));
    tasks.push(crate::sources::supervise::spawn(
        SourceId::Pods,
        sup_tx.clone(),
        build_snapshots(
            target.clone(),
            store.clone(),
            state_rx,
            probe_rx,
            events_rx.clone(),
            events_unknown_rx,
            cfg.rules.pods.clone(),
            cfg.refresh.0.max(Duration::from_millis(250)),
            tx,
        ),
    ));
    PodsSource {
        store,
        target,
        events: events_rx,
        tasks,
    }
}

async fn watch_pods(
    target: KubeTarget,
    store: PodStore,
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
    let mut interner = Interner::default();
    // Each pass lists then watches; after an error the stream is rebuilt so that recovery is
    // proven by a completed relist (InitDone), as client-go's reflector does, rather than
    // assumed from a silent re-watch.
    loop {
        let api = pods_api(&target, target.watch_client.clone());
        // The list is paged (`limit`, `continue`) from the API server's current state: each
        // page is decoded, turned into compact pods and dropped before the next one.
        let wc = watcher::Config::default()
            .timeout(WATCH_TIMEOUT_SECS)
            .page_size(500)
            .list_semantic(watcher::ListSemantic::MostRecent);
        let mut stream = std::pin::pin!(watcher(api, wc));
        let mut relist: Option<HashMap<PodKey, Arc<CompactPod>>> = None;
        let mut retry_in = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(ev) => {
                    // Init/InitApply are a relist in progress: the store swaps at InitDone,
                    // so the data is only caught up (and the error cleared) from then on.
                    let caught_up =
                        !matches!(ev, watcher::Event::Init | watcher::Event::InitApply(_));
                    let init_done = matches!(ev, watcher::Event::InitDone);
                    // `Init` is emitted before the list is asked for: it proves nothing about
                    // the server, and never resets the backoff.
                    if !matches!(ev, watcher::Event::Init) {
                        target.contact.answered();
                    }
                    if caught_up {
                        backoff.delivered();
                    }
                    let now = Timestamp::now();
                    match ev {
                        watcher::Event::Init => relist = Some(HashMap::new()),
                        watcher::Event::InitApply(p) => {
                            let c = CompactPod::from_pod(&p, &mut interner);
                            relist
                                .get_or_insert_with(HashMap::new)
                                .insert(c.key(), Arc::new(c));
                        }
                        watcher::Event::InitDone => {
                            store.replace_all(relist.take().unwrap_or_default());
                            interner.purge();
                            crate::memory::release_freed_memory();
                        }
                        watcher::Event::Apply(p) => {
                            store.apply(CompactPod::from_pod(&p, &mut interner));
                        }
                        watcher::Event::Delete(p) => {
                            store.delete(PodKey::of(&p), p.metadata.uid.as_deref());
                        }
                    }
                    state.send_if_modified(|s| {
                        s.last_contact = Some(now);
                        let mut significant = false;
                        if caught_up && s.error.is_some() {
                            s.error = None;
                            significant = true;
                        }
                        if init_done && !s.synced {
                            s.synced = true;
                            significant = true;
                        }
                        significant
                    });
                    if caught_up && state.borrow().synced {
                        changed.send_modify(|n| *n += 1);
                    }
                }
                Err(e) if super::backoff::status_code(&e) == Some(410) => {
                    // Our resourceVersion is too old: relist at once, not an outage.
                    target.contact.answered();
                    tracing::debug!("pod watch expired (410 Gone), relisting");
                    retry_in = Some(Duration::ZERO);
                    break;
                }
                Err(e) => {
                    if super::backoff::server_answered(&e) {
                        target.contact.answered();
                    }
                    let err = errors::classify_watcher(&e, &op);
                    let (delay, err) = super::backoff::after_failure(&mut backoff, &e, err);
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
        let delay = retry_in.unwrap_or_else(|| backoff.failed());
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
    let mut own_answer: Option<Instant> = None;
    loop {
        tick.tick().await;
        // A server that answered within the last interval (a watch event, a page, another
        // source's request) is alive: no probe needed. A silent one is probed every interval,
        // so silence is still noticed within SILENT_AFTER_INTERVALS intervals.
        // (Only an answer to something else counts: after our own answer the next probe runs,
        // so that a healthy but idle server is never silent for more than one interval.)
        if let Some((at, _)) = target.contact.last()
            && at.elapsed() < every
            && own_answer.is_none_or(|own| at > own)
        {
            continue;
        }
        let start = Instant::now();
        let res =
            tokio::time::timeout(target.request_timeout, target.client.apiserver_version()).await;
        let elapsed = start.elapsed();
        if matches!(res, Ok(Ok(_))) {
            let now = Instant::now();
            target.contact.answered_at(now, Timestamp::now());
            own_answer = Some(now);
        }
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

mod book;

pub use book::*;

/// What in the API's health is worth a new snapshot at once (latency alone is not):
/// reachable, last error, reconnects.
type HealthKey = (bool, Option<SourceError>, u64);

fn health_key(h: &ApiHealth) -> HealthKey {
    (h.reachable, h.last_error.clone(), h.reconnects)
}

#[allow(clippy::too_many_arguments)]
async fn build_snapshots(
    target: KubeTarget,
    store: PodStore,
    mut watch_state: watch::Receiver<WatchState>,
    probe: watch::Receiver<ProbeState>,
    mut events: watch::Receiver<Arc<EventsMap>>,
    mut events_unknown: watch::Receiver<Option<String>>,
    rules: PodRules,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
) {
    let mut changed = store.changes();
    let mut book = RowBook::default();
    let mut tick = tokio::time::interval(refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sent = Instant::now() - DEBOUNCE;
    // When the last full snapshot went out, and the health it said; `None` after an error
    // (the next good data goes out whole).
    let mut last_full: Option<(Instant, HealthKey)> = None;
    let mut trim_after_send = false;
    // After a later full snapshot, the garbage of the one it replaced (here and in the pane,
    // which drops the old one when it applies the new one) is given back on the next tick:
    // when, and when that was last done (at most every TRIM_EVERY).
    let mut trim_due: Option<Instant> = None;
    let mut last_trim = Instant::now();
    // A server that never answered: its silence (and the feed's wait) counts from here.
    let (started, started_wall) = (Instant::now(), Timestamp::now());
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
        // Freshness is when the server last answered, not when this snapshot was built.
        let contact = target.contact.last();
        let silence = target.contact.silence(started, at);
        let limit =
            super::liveness::silence_limit(refresh, target.request_timeout, contact.is_some());
        let probe_down = ps.consecutive_failures >= 2;
        let result = if let Some(e) = ws.error.clone() {
            last_full = None;
            Err(e)
        } else if silence > limit {
            last_full = None;
            Err(super::liveness::silence_error(
                &target.cluster_url,
                silence,
                contact.is_some(),
            ))
        } else if probe_down && let Some(e) = ps.error.clone() {
            last_full = None;
            Err(e)
        } else if !ws.synced {
            // Not listed yet: a failing probe is the news (a server that accepts and then
            // says nothing); otherwise wait for the list.
            match ps.error.clone() {
                Some(e) => Err(e),
                None => continue,
            }
        } else {
            let mut material = book.apply(store.take_changes(), &rules, now);
            material |= book.recheck(&rules, now);
            let events_changed = events.has_changed().unwrap_or(false);
            // Events turning unknown (or known again) is news at once, not at the next refresh.
            let events_known_changed = events_unknown.has_changed().unwrap_or(false);
            let api = ApiHealth {
                reachable: ps.error.is_none(),
                last_latency: ps.latency,
                last_error: ps.error.clone(),
                last_contact: contact.map(|(_, wall)| wall).or(ws.last_contact),
                reconnects: ws.reconnects,
            };
            let health = health_key(&api);
            let full = match &last_full {
                None => true,
                Some((sent, said)) => {
                    material
                        || events_known_changed
                        || *said != health
                        || (sent.elapsed() >= REFRESH_TEXT
                            && (book.text_changed() || events_changed))
                        || sent.elapsed() >= REFRESH_HEALTH
                }
            };
            if full {
                if last_full.is_none() {
                    trim_after_send = true;
                } else if trim_due.is_none() {
                    trim_due = Some(at + refresh);
                }
                last_full = Some((at, health));
                Ok(Payload::new(PodsSnapshot {
                    context: target.context.clone(),
                    server: target.cluster_url.clone(),
                    client_cert_not_after: target.client_cert_not_after,
                    scope: target.scope.clone(),
                    rows: book.rows(),
                    api,
                    synced: true,
                    events: events.borrow_and_update().clone(),
                    events_unknown: events_unknown.borrow_and_update().clone(),
                    at: now,
                }))
            } else {
                Ok(Payload::Unchanged)
            }
        };
        last_sent = at;
        let (data_at, data_wall) = contact.unwrap_or((started, started_wall));
        let update = SourceUpdate {
            source: SourceId::Pods,
            generation,
            at: data_at,
            wall: data_wall,
            result,
        };
        if tx.send(update).await.is_err() {
            return;
        }
        if std::mem::take(&mut trim_after_send) {
            // The first evaluation of every pod (or of a relist) is done: its garbage goes.
            crate::memory::release_freed_memory();
            last_trim = Instant::now();
        } else if trim_due.is_some_and(|due| at >= due) && last_trim.elapsed() >= TRIM_EVERY {
            // Without this an idle console's resident memory creeps up by the size of one
            // full snapshot's garbage every REFRESH_TEXT (glibc keeps freed chunks).
            trim_due = None;
            crate::memory::release_freed_memory();
            last_trim = Instant::now();
        }
    }
}
