//! The PVC source: watches PersistentVolumeClaims, PersistentVolumes and StorageClasses, joins
//! them with the shared pod store's `claim_users()` and the kubelet's used-space figures, and
//! sends [`PvcsSnapshot`](crate::domain::pvcs::PvcsSnapshot)s as `SourceId::Pvcs` updates.
//!
//! - Three watches (claims in the target's scope; PVs and StorageClasses, cluster-scoped),
//!   objects decoded lean and kept compact (claims and PVs in the console's own store,
//!   [`CompactStore`]: no typed object retained), each reconnecting with backoff and
//!   jitter, relisting at once on 410 Gone. A failure on the claims makes the update an error; a
//!   failure on PVs (typically 403 for a namespace-scoped user) only sets `pv_error`: the claim
//!   rows still come, with the reclaim policy unknown (no AT RISK marker).
//! - The pods come from the pods source's store (never a second pod watch).
//! - Used space comes from a poller that asks the API server's node proxy for the kubelet's
//!   stats summary of every node running a pod that mounts a claim, every refresh interval
//!   but no more often than [`MIN_USAGE_INTERVAL`], each request under the request deadline.
//!   It publishes a map on a watch channel; the snapshot builder never waits for it.
//! - The builder recomputes the rows when any store or the used space changes (debounced) and,
//!   with nothing changed, only when a verdict or its wording can next change with time alone
//!   (a claim reaching `pending_for` Pending: [`crate::rules::pvcs::next_change`]), or after
//!   [`PVC_HEARTBEAT`]; every other refresh tick sends a [`Payload::Unchanged`] heartbeat (after
//!   the same liveness checks). It sends nothing until claims, pods and PVs have been listed (an
//!   UNUSED marker from an empty pod store would be a lie).
//! - The used-space poller parses a node's stats summary only when its body differs from that
//!   node's previous one (a hash of it per node): an idle cluster's kubelets mostly answer the
//!   same figures until their next measurement.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::kube::runtime::reflector::{self, Store};
use ::kube::runtime::{WatchStreamExt, watcher};
use ::kube::{Api, Resource};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::storage::v1::StorageClass;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::KubeTarget;
use super::backoff::Backoff;
use super::client::WATCH_TIMEOUT_SECS;
use super::errors::{self, Op};
use super::pods::{ClaimUser, DEBOUNCE, PodStore, REFRESH_TEXT, next_generation};
use crate::config::{Config, PvcRules};
use crate::domain::pods::{ApiHealth, NamespaceScope};
use crate::domain::pvcs::{PvRow, PvcRow, PvcUser, PvcsSnapshot, StorageClassInfo, sort_by_danger};
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// Why a claim nobody mounts has no used space.
pub const NOT_MOUNTED: &str = "not mounted (the kubelet reports mounted volumes only)";
/// Why a mounted claim has no used space under RBAC that forbids the node proxy.
pub const FORBIDDEN_PROXY: &str = "forbidden: get nodes/proxy";
/// Used space is polled at most this often. The kubelet measures volumes once a minute (its
/// `volumeStatsAggPeriod`, 1m by default) and serves that cached figure, so polling faster only
/// re-reads it: every 30 s keeps a figure at most ~90 s old at a third of the requests and
/// parsing (every node's stats summary) of a 10 s poll.
pub const MIN_USAGE_INTERVAL: Duration = Duration::from_secs(30);
/// How long the first snapshot waits for the pod store before it goes out without knowing who
/// mounts what (pods forbidden or very slow): no UNUSED/IN USE markers then, rather than lies.
pub const POD_WAIT: Duration = Duration::from_secs(10);
/// With nothing changed, the rows are computed again when the rules say they can next change
/// with time alone ([`crate::rules::pvcs::next_change`]: a claim reaching `pending_for`
/// Pending; a "Pending for 14m" wording, at most every [`REFRESH_TEXT`] as in the pods pane),
/// and at the latest this long after the last computation. The schedule is exact for the rules
/// it knows; this is the net for what it cannot see: a wall clock stepped after a flip was
/// scheduled (the schedule is kept on the monotonic clock), a time-dependent rule added without
/// teaching `next_change` about it, and the reasons' `value`s (seconds in the state, which
/// schedule nothing), refreshed at least this often. Five minutes is the default `pending_for`,
/// so a flip the schedule missed is late by at most the threshold itself, and one computation
/// (every pod's mounts at 20k pods) every five minutes is nothing for an idle console.
pub const PVC_HEARTBEAT: Duration = Duration::from_secs(300);
/// While the pods are unknown (not listed after [`POD_WAIT`], or forbidden) the rows say why
/// from the pod watch's error, which changes without a store change (no notification): they
/// are computed again this often then, as before the schedule existed. It lasts until the pods
/// are listed, which is a store change.
pub const PODS_UNKNOWN_RECHECK: Duration = Duration::from_secs(30);
/// Node stats requests in flight at once.
const USAGE_CONCURRENCY: usize = 8;

mod lean;

pub use lean::*;

mod store;
mod summary;
mod usage;

pub use store::{Compact, CompactStore, CompactWriter};
pub use summary::*;
pub use usage::*;

pub fn user_of(u: &ClaimUser) -> PvcUser {
    PvcUser {
        pod: u.pod.clone(),
        phase: u.phase.clone(),
        node: u.node.clone(),
        mounts: u.mounts.clone(),
        terminating: u.terminating,
    }
}

/// Rows for every claim: joined with its bound PV, its users and its used space; sorted by
/// danger. Pure apart from the inputs.
pub fn build_rows<C: PvcLike, P: PvLike>(
    pvcs: &[Arc<C>],
    pvs: &[Arc<P>],
    users: &BTreeMap<(String, String), Vec<ClaimUser>>,
    usage: &UsageMap,
    rules: &PvcRules,
    now: Timestamp,
) -> Vec<PvcRow> {
    let by_name: HashMap<&str, &P> = pvs
        .iter()
        .filter_map(|p| Some((p.pv_name()?, p.as_ref())))
        .collect();
    let mut rows: Vec<PvcRow> = pvcs
        .iter()
        .map(|c| {
            let key = (
                c.namespace().unwrap_or_default().to_string(),
                c.name().unwrap_or_default().to_string(),
            );
            let us: Vec<PvcUser> = users
                .get(&key)
                .map(|v| v.iter().map(user_of).collect())
                .unwrap_or_default();
            let pv = c
                .volume_name()
                .and_then(|v| by_name.get(v).copied())
                .map(PvLike::typed);
            let used = usage.used_of(&key, &us);
            crate::rules::pvcs::row(&c.typed(), pv.as_deref(), &us, used, rules, now)
        })
        .collect();
    sort_by_danger(&mut rows);
    rows
}

/// Rows for every PV: orphaned (Released/Failed) first, then by name.
pub fn build_pv_rows<P: PvLike>(pvs: &[Arc<P>], rules: &PvcRules, now: Timestamp) -> Vec<PvRow> {
    let mut rows: Vec<PvRow> = pvs
        .iter()
        .map(|p| crate::rules::pvcs::pv_row(&p.typed(), rules, now))
        .collect();
    rows.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.orphaned.cmp(&a.orphaned))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// When the pods are unknown (`why`, from [`crate::rules::pvcs::pods_unknown_why`]): no UNUSED
/// / IN USE markers and no used space, rather than a claim shown UNUSED because nobody could be
/// seen using it; a Terminating claim stays critical. Re-sorted by danger.
pub fn forget_users(rows: &mut [PvcRow], why: &str, rules: &PvcRules, now: Timestamp) {
    for r in rows.iter_mut() {
        crate::rules::pvcs::users_unknown(r, why, rules, now);
    }
    sort_by_danger(rows);
}

pub fn build_storage_classes(scs: &[Arc<StorageClass>]) -> Vec<StorageClassInfo> {
    let mut v: Vec<StorageClassInfo> = scs.iter().map(|c| storage_class_info(c)).collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The error for a failed cluster-scoped list/watch (PVs, StorageClasses): a 403 names the
/// verb and resource plainly ("forbidden: list persistentvolumes (cluster-scoped) as u: ...").
pub fn cluster_error(e: &watcher::Error, resource: &str, target: &KubeTarget) -> SourceError {
    let verb = if matches!(e, watcher::Error::InitialListFailed(_)) {
        "list"
    } else {
        "watch"
    };
    let status = match e {
        watcher::Error::InitialListFailed(::kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(::kube::Error::Api(s))
        | watcher::Error::WatchFailed(::kube::Error::Api(s)) => Some(s),
        watcher::Error::WatchError(s) => Some(s),
        _ => None,
    };
    if let Some(s) = status
        && s.code == 403
    {
        return forbidden_cluster(verb, resource, target, &s.message);
    }
    let op = Op {
        verb: "list",
        resource,
        scope: &NamespaceScope::All,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    errors::classify_watcher(e, &op)
}

fn forbidden_cluster(verb: &str, resource: &str, target: &KubeTarget, msg: &str) -> SourceError {
    let as_user = target
        .user
        .as_deref()
        .map(|u| format!(" as {u}"))
        .unwrap_or_default();
    SourceError::Forbidden(format!(
        "{verb} {resource} (cluster-scoped){as_user}: {}",
        msg.trim()
    ))
}

/// What one watch task knows about its connection; `changes` counts store changes after sync.
#[derive(Debug, Clone, Default)]
struct WatchState {
    synced: bool,
    error: Option<SourceError>,
    last_contact: Option<Timestamp>,
    reconnects: u64,
    changes: u64,
}

/// The running PVC source. Dropping it stops every task it started.
pub struct PvcsSource {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for PvcsSource {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the PVC/PV/StorageClass watches, the used-space poller and the snapshot builder.
pub fn spawn(
    target: KubeTarget,
    pods: PodStore,
    cfg: &Config,
    tx: mpsc::Sender<SourceUpdate>,
) -> PvcsSource {
    // A panic in any of these tasks becomes this source's error in its pane (supervise).
    let sup_tx = tx.clone();
    let k = &cfg.kubernetes;
    let backoff = Backoff::new(k.backoff_initial.0, k.backoff_max.0);
    let (pvc_reader, pvc_writer) = store::store::<CompactPvc>();
    let (pv_reader, pv_writer) = store::store::<CompactPv>();
    let (sc_reader, sc_writer) = reflector::store::<StorageClass>();
    let (pvc_tx, pvc_rx) = watch::channel(WatchState::default());
    let (pv_tx, pv_rx) = watch::channel(WatchState::default());
    let (sc_tx, sc_rx) = watch::channel(WatchState::default());
    let (usage_tx, usage_rx) = watch::channel(Arc::new(UsageMap::default()));

    // Claims and PVs are decoded lean: their typed objects never exist here.
    let pvc_api: Api<LeanPvc> = match &target.scope {
        NamespaceScope::All => Api::all(target.watch_client.clone()),
        NamespaceScope::One(ns) => Api::namespaced(target.watch_client.clone(), ns),
    };
    let tasks = vec![
        crate::sources::supervise::spawn(
            SourceId::Pvcs,
            sup_tx.clone(),
            watch_kind(
                pvc_api,
                "persistentvolumeclaims",
                false,
                target.clone(),
                pvc_writer,
                pvc_tx,
                backoff.clone(),
                strip_lean_pvc,
            ),
        ),
        crate::sources::supervise::spawn(
            SourceId::Pvcs,
            sup_tx.clone(),
            watch_kind(
                Api::<LeanPv>::all(target.watch_client.clone()),
                "persistentvolumes",
                true,
                target.clone(),
                pv_writer,
                pv_tx,
                backoff.clone(),
                strip_lean_pv,
            ),
        ),
        crate::sources::supervise::spawn(
            SourceId::Pvcs,
            sup_tx.clone(),
            watch_kind(
                Api::<StorageClass>::all(target.watch_client.clone()),
                "storageclasses",
                true,
                target.clone(),
                sc_writer,
                sc_tx,
                backoff,
                strip_storage_class,
            ),
        ),
        crate::sources::supervise::spawn(
            SourceId::Pvcs,
            sup_tx.clone(),
            poll_usage_loop(
                target.clone(),
                pods.clone(),
                usage_tx,
                cfg.refresh.0.max(MIN_USAGE_INTERVAL),
            ),
        ),
        crate::sources::supervise::spawn(
            SourceId::Pvcs,
            sup_tx.clone(),
            build_snapshots(
                target,
                Stores {
                    pvcs: pvc_reader,
                    pvs: pv_reader,
                    scs: sc_reader,
                    pods,
                },
                States {
                    pvc: pvc_rx,
                    pv: pv_rx,
                    sc: sc_rx,
                    usage: usage_rx,
                },
                cfg.rules.pvcs.clone(),
                cfg.refresh.0.max(Duration::from_millis(250)),
                tx,
            ),
        ),
    ];
    PvcsSource { tasks }
}

/// Where a watch task puts what its watcher sends: the console's compact store (claims, PVs)
/// or kube-runtime's reflector store (StorageClasses: a handful of objects).
trait Sink<K>: Send {
    fn apply(&mut self, event: watcher::Event<K>);
}

impl<K, C: Compact<K>> Sink<K> for CompactWriter<C> {
    fn apply(&mut self, event: watcher::Event<K>) {
        CompactWriter::apply(self, event);
    }
}

impl<K> Sink<K> for reflector::store::Writer<K>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send,
{
    fn apply(&mut self, event: watcher::Event<K>) {
        self.apply_watcher_event(&event);
    }
}

#[allow(clippy::too_many_arguments)]
async fn watch_kind<K>(
    api: Api<K>,
    resource: &'static str,
    cluster: bool,
    target: KubeTarget,
    mut writer: impl Sink<K>,
    state: watch::Sender<WatchState>,
    mut backoff: Backoff,
    strip: fn(&mut K),
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let op = Op {
        verb: "list",
        resource,
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    // Each pass lists then watches; after an error the stream is rebuilt so that recovery is
    // proven by a completed relist (InitDone), as in the pods source.
    loop {
        let wc = watcher::Config::default()
            .timeout(WATCH_TIMEOUT_SECS)
            .page_size(500);
        let mut stream = std::pin::pin!(watcher(api.clone(), wc).modify(strip));
        let mut retry_in = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(ev) => {
                    let init = matches!(ev, watcher::Event::Init);
                    let init_done = matches!(ev, watcher::Event::InitDone);
                    let caught_up = !init && !matches!(ev, watcher::Event::InitApply(_));
                    writer.apply(ev);
                    if init_done {
                        crate::memory::release_freed_memory();
                    }
                    let now = Timestamp::now();
                    // `Init` comes before the list is asked for: no proof of life, and never
                    // a reason to start the backoff again.
                    if !init {
                        target.contact.answered();
                    }
                    if caught_up {
                        backoff.delivered();
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
                        if caught_up && s.synced {
                            s.changes += 1;
                            significant = true;
                        }
                        significant
                    });
                }
                Err(e) if super::backoff::status_code(&e) == Some(410) => {
                    target.contact.answered();
                    tracing::debug!(resource, "watch expired (410 Gone), relisting");
                    retry_in = Some(Duration::ZERO);
                    break;
                }
                Err(e) => {
                    if super::backoff::server_answered(&e) {
                        target.contact.answered();
                    }
                    let err = if cluster {
                        cluster_error(&e, resource, &target)
                    } else {
                        errors::classify_watcher(&e, &op)
                    };
                    let (delay, err) = super::backoff::after_failure(&mut backoff, &e, err);
                    tracing::warn!(resource, error = %err, retry_in = ?delay, "watch failed");
                    state.send_modify(|s| {
                        s.error = Some(err);
                        s.reconnects += 1;
                    });
                    retry_in = Some(delay);
                    break;
                }
            }
        }
        let delay = retry_in.unwrap_or_else(|| backoff.failed());
        tokio::time::sleep(delay).await;
    }
}

async fn poll_usage_loop(
    target: KubeTarget,
    pods: PodStore,
    out: watch::Sender<Arc<UsageMap>>,
    every: Duration,
) {
    pods.wait_synced().await;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut bodies = SummaryCache::default();
    loop {
        tick.tick().await;
        let nodes = pods.claim_nodes();
        let map = poll_usage_cached(&target, &nodes, target.request_timeout, &mut bodies).await;
        if out.is_closed() {
            return;
        }
        // The same figures again are no change (the builder would rebuild every row for them).
        out.send_if_modified(|m| {
            if **m == map {
                false
            } else {
                *m = Arc::new(map);
                true
            }
        });
    }
}

struct Stores {
    pvcs: CompactStore<CompactPvc>,
    pvs: CompactStore<CompactPv>,
    scs: Store<StorageClass>,
    pods: PodStore,
}

struct States {
    pvc: watch::Receiver<WatchState>,
    pv: watch::Receiver<WatchState>,
    sc: watch::Receiver<WatchState>,
    usage: watch::Receiver<Arc<UsageMap>>,
}

async fn build_snapshots(
    target: KubeTarget,
    stores: Stores,
    mut st: States,
    rules: PvcRules,
    refresh: Duration,
    tx: mpsc::Sender<SourceUpdate>,
) {
    let mut pods_changed = stores.pods.changes();
    let mut tick = tokio::time::interval(refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sent = Instant::now() - DEBOUNCE;
    // A server that never answered: its silence (and the feed's wait) counts from here.
    let (started, started_wall) = (Instant::now(), Timestamp::now());
    // What the last full snapshot said (its content's fingerprint: the pane holds the rows,
    // the builder no second copy of them) and when the rows are due to be computed again with
    // nothing changed; `None` after an error.
    let mut last: Option<(u64, Instant)> = None;
    loop {
        let debounce = tokio::select! {
            _ = tick.tick() => false,
            r = pods_changed.changed() => { if r.is_err() { return; } true }
            r = st.pvc.changed() => { if r.is_err() { return; } true }
            r = st.pv.changed() => { if r.is_err() { return; } true }
            r = st.sc.changed() => { if r.is_err() { return; } true }
            r = st.usage.changed() => { if r.is_err() { return; } true }
        };
        if debounce {
            let since = last_sent.elapsed();
            if since < DEBOUNCE {
                tokio::time::sleep(DEBOUNCE - since).await;
            }
        }
        pods_changed.mark_unchanged();
        st.sc.mark_unchanged();
        st.usage.mark_unchanged();
        let pvc = st.pvc.borrow_and_update().clone();
        let pv = st.pv.borrow_and_update().clone();
        let sc = st.sc.borrow().clone();
        let now = Timestamp::now();
        let at = Instant::now();
        // Freshness is when the server last answered (any source of this target: the pods
        // source's probe is the liveness check), not when these rows were computed.
        let contact = target.contact.last();
        let silence = target.contact.silence(started, at);
        let limit =
            super::liveness::silence_limit(refresh, target.request_timeout, contact.is_some());
        let result = if let Some(e) = pvc.error.clone() {
            last = None;
            Err(e)
        } else if silence > limit {
            last = None;
            Err(super::liveness::silence_error(
                &target.cluster_url,
                silence,
                contact.is_some(),
            ))
        } else if !debounce
            && let Some((_, due)) = &last
            && at < *due
        {
            // Nothing changed, and time alone changes nothing in the rows before `due`.
            Ok(Payload::Unchanged)
        } else if !pvc.synced
            || !(pv.synced || pv.error.is_some())
            || (!stores.pods.is_synced() && started.elapsed() < POD_WAIT)
        {
            // Not everything listed yet: rows now would show claims UNUSED or not AT RISK.
            continue;
        } else {
            let pods_known = stores.pods.is_synced();
            if let Some(e) = &sc.error {
                tracing::debug!(error = %e, "storage classes unavailable");
            }
            let pvs = stores.pvs.state();
            let usage = st.usage.borrow().clone();
            let mut rows = build_rows(
                &stores.pvcs.state(),
                &pvs,
                &stores.pods.claim_users(),
                &usage,
                &rules,
                now,
            );
            if !pods_known {
                let why = crate::rules::pvcs::pods_unknown_why(stores.pods.error().as_ref());
                forget_users(&mut rows, &why, &rules, now);
            }
            let snap = PvcsSnapshot {
                context: target.context.clone(),
                server: target.cluster_url.clone(),
                scope: target.scope.clone(),
                rows,
                pvs: build_pv_rows(&pvs, &rules, now),
                pv_error: pv.error.clone(),
                storage_classes: build_storage_classes(&stores.scs.state()),
                usage: usage.status.clone(),
                api: ApiHealth {
                    reachable: true,
                    last_latency: None,
                    last_error: None,
                    last_contact: contact.map(|(_, wall)| wall).or(pvc.last_contact),
                    reconnects: pvc.reconnects,
                },
                synced: true,
                at: now,
            };
            let fingerprint = content_fingerprint(&snap);
            let next = crate::rules::pvcs::next_change(&snap.rows, &snap.pvs, &rules, now);
            let due = rebuild_due(next, pods_known, now, at);
            match &mut last {
                Some((prev, was_due)) if *prev == fingerprint => {
                    *was_due = due;
                    Ok(Payload::Unchanged)
                }
                _ => {
                    last = Some((fingerprint, due));
                    Ok(Payload::new(snap))
                }
            }
        };
        last_sent = at;
        let (data_at, data_wall) = contact.unwrap_or((started, started_wall));
        let update = SourceUpdate {
            source: SourceId::Pvcs,
            generation: next_generation(),
            at: data_at,
            wall: data_wall,
            result,
        };
        if tx.send(update).await.is_err() {
            return;
        }
    }
}

/// When rows computed at `at` (wall clock `now`) are computed again with nothing changed: at
/// their next verdict change, at their next wording change but no sooner than
/// [`REFRESH_TEXT`] after `at`, within [`PODS_UNKNOWN_RECHECK`] while the pods are unknown, and
/// within [`PVC_HEARTBEAT`] whatever happens. The builder looks on its refresh ticks: the
/// rebuild comes on the first tick at or after this.
pub fn rebuild_due(
    next: crate::rules::pvcs::NextChange,
    pods_known: bool,
    now: Timestamp,
    at: Instant,
) -> Instant {
    // A past instant is now; a far one is the heartbeat (no Instant overflow).
    let from_now = |t: Timestamp| {
        Duration::try_from(now.duration_until(t))
            .unwrap_or(Duration::ZERO)
            .min(PVC_HEARTBEAT)
    };
    let mut wait = PVC_HEARTBEAT;
    if let Some(flip) = next.flip {
        wait = wait.min(from_now(flip));
    }
    if let Some(wording) = next.wording {
        wait = wait.min(from_now(wording).max(REFRESH_TEXT));
    }
    if !pods_known {
        wait = wait.min(PODS_UNKNOWN_RECHECK);
    }
    at + wait
}

/// What a snapshot shows (the time it was computed at and the last contact aside) as a 64-bit
/// fingerprint: two snapshots with the same fingerprint show the same. The rows, PVs, storage
/// classes and used space are hashed as their JSON (every field of them is serialized), the
/// rest by value.
pub fn content_fingerprint(s: &PvcsSnapshot) -> u64 {
    use std::hash::{Hash, Hasher};
    struct HashWriter(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.write(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = HashWriter(std::collections::hash_map::DefaultHasher::new());
    if serde_json::to_writer(&mut h, &(&s.rows, &s.pvs, &s.storage_classes, &s.usage)).is_err() {
        // Never for these types; a fingerprint that matches nothing sends the snapshot.
        return fastrand::u64(..);
    }
    s.api.reconnects.hash(&mut h.0);
    format!("{:?}", s.pv_error).hash(&mut h.0);
    s.scope.to_string().hash(&mut h.0);
    h.0.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn odd_kubelet_figures_are_unknown_and_say_so() {
        let v = serde_json::json!({"pods": [{"volume": [
            {"pvcRef": {"name": "neg", "namespace": "a"}, "usedBytes": -5, "capacityBytes": 10},
            {"pvcRef": {"name": "big", "namespace": "a"}, "usedBytes": 1e300},
            {"pvcRef": {"name": "str", "namespace": "a"}, "usedBytes": "\u{1b}[31m7"},
            {"pvcRef": {"name": "over", "namespace": "a"}, "usedBytes": 20, "capacityBytes": 10},
            {"pvcRef": {"name": "ok", "namespace": "a"}, "usedBytes": 2, "capacityBytes": -1,
             "availableBytes": 99}
        ]}]});
        let got: std::collections::BTreeMap<String, UsedSpace> = parse_summary(&v)
            .expect("a summary")
            .into_iter()
            .map(|((_, n), u)| (n, u))
            .collect();
        for name in ["neg", "big", "str"] {
            match &got[name] {
                UsedSpace::Unknown { why } => {
                    assert!(why.contains("invalid usedBytes"), "{name}: {why}");
                    assert!(!why.contains('\u{1b}'), "{why:?}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        match &got["over"] {
            UsedSpace::Unknown { why } => assert!(why.contains("above capacityBytes 10"), "{why}"),
            other => panic!("over 100% shown as {other:?}"),
        }
        // A negative capacity is no capacity; the used figure stands.
        assert_eq!(
            got["ok"],
            UsedSpace::Known {
                used_bytes: 2,
                capacity_bytes: None,
                available_bytes: Some(99),
            }
        );
    }

    use super::*;
    use crate::domain::pvcs::UsedSpace;
    use serde_json::json;

    #[test]
    fn stats_summary_is_parsed_leniently() {
        let v = json!({"node": {"nodeName": "w1"}, "pods": [
            {"podRef": {"name": "p"}, "volume": [
                {"name": "data", "usedBytes": 2048, "capacityBytes": 10240, "availableBytes": 8192,
                 "pvcRef": {"name": "grafana-data", "namespace": "monitoring"}},
                {"name": "tmp", "usedBytes": 5},
                {"name": "bad", "usedBytes": "lots", "pvcRef": {"name": "x", "namespace": "y"}},
                {"name": "neg", "usedBytes": -1, "pvcRef": {"name": "x", "namespace": "y"}},
                {"name": "half", "pvcRef": {"name": 3}}
            ]},
            {"volume": "not a list"},
            "garbage"
        ]});
        let got = parse_summary(&v).expect("a summary");
        assert_eq!(
            got,
            vec![
                (
                    ("monitoring".into(), "grafana-data".into()),
                    UsedSpace::Known {
                        used_bytes: 2048,
                        capacity_bytes: Some(10240),
                        available_bytes: Some(8192)
                    }
                ),
                // Odd figures for a claim are unknown with the reason, never skipped (which
                // would read "not mounted") nor shown as a value.
                (
                    ("y".into(), "x".into()),
                    UsedSpace::Unknown {
                        why: "the kubelet reported an invalid usedBytes (\"lots\")".into()
                    }
                ),
                (
                    ("y".into(), "x".into()),
                    UsedSpace::Unknown {
                        why: "the kubelet reported an invalid usedBytes (-1)".into()
                    }
                )
            ]
        );
        // The text path (what the console uses) reads the same, without a JSON tree.
        assert_eq!(
            parse_summary_text(&v.to_string()).expect("JSON"),
            Some(got.clone())
        );
        assert_eq!(parse_summary(&json!(null)), None);
        assert_eq!(parse_summary_text("{\"pods\": 7}").expect("JSON"), None);
        assert_eq!(parse_summary_text("[1, 2]").expect("JSON"), None);
        assert!(parse_summary_text("{\"pods\": [").is_err(), "truncated");
        assert_eq!(parse_summary(&json!({"pods": 7})), None);
        assert_eq!(parse_summary(&json!({"pods": []})), Some(vec![]));
    }

    #[test]
    fn a_real_kubelet_summary_is_read_for_its_claims_only() {
        // A kubelet's summary is mostly figures ondeck does not read (node, containers, CPU,
        // memory, network, ephemeral volumes); they are skipped whatever their shape.
        let doc = json!({
            "node": {"nodeName": "w1", "cpu": {"usageNanoCores": 1}, "fs": {"usedBytes": 9},
                     "systemContainers": [{"name": "kubelet", "memory": {"rssBytes": 1}}]},
            "pods": [
                {"podRef": {"name": "a", "namespace": "x", "uid": "1"},
                 "containers": [{"name": "c", "cpu": {"usageNanoCores": 5},
                                 "logs": {"usedBytes": 77}, "rootfs": {"usedBytes": 88}}],
                 "network": {"interfaces": [{"name": "eth0", "rxBytes": 1}]},
                 "volume": [
                    {"name": "kube-api-access", "usedBytes": 12},
                    {"name": "data", "usedBytes": 100, "capacityBytes": 1000,
                     "availableBytes": 900, "pvcRef": {"name": "c1", "namespace": "x"}}
                 ],
                 "ephemeral-storage": {"usedBytes": 3}},
                {"podRef": {"name": "b"}, "volume": null, "containers": "odd"}
            ]
        });
        let got = parse_summary_text(&doc.to_string())
            .expect("JSON")
            .expect("a summary");
        assert_eq!(
            got,
            vec![(
                ("x".into(), "c1".into()),
                UsedSpace::Known {
                    used_bytes: 100,
                    capacity_bytes: Some(1000),
                    available_bytes: Some(900)
                }
            )]
        );
        assert_eq!(parse_summary(&doc), Some(got));
    }

    #[test]
    fn the_rebuild_comes_at_the_next_change_or_the_heartbeat() {
        use crate::rules::pvcs::NextChange;
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().expect("valid");
        let at = Instant::now();
        let secs = |n: i64| now + jiff::SignedDuration::from_secs(n);
        let due = |flip, wording, pods_known| {
            rebuild_due(NextChange { flip, wording }, pods_known, now, at) - at
        };
        let s = Duration::from_secs;
        assert_eq!(due(None, None, true), PVC_HEARTBEAT, "nothing foreseen");
        assert_eq!(due(Some(secs(42)), None, true), s(42));
        assert_eq!(due(Some(secs(-5)), None, true), s(0), "overdue: at once");
        assert_eq!(due(Some(secs(86_400 * 365)), None, true), PVC_HEARTBEAT);
        // Wording waits for REFRESH_TEXT; a sooner flip does not.
        assert_eq!(due(None, Some(secs(1)), true), REFRESH_TEXT);
        assert_eq!(due(None, Some(secs(90)), true), s(90));
        assert_eq!(due(Some(secs(3)), Some(secs(1)), true), s(3));
        assert_eq!(due(None, None, false), PODS_UNKNOWN_RECHECK);
        assert_eq!(due(Some(secs(3)), None, false), s(3));
    }

    #[test]
    fn used_space_says_why_it_is_unknown() {
        let user = |node: Option<&str>, phase: &str| PvcUser {
            pod: "p".into(),
            phase: Some(phase.into()),
            node: node.map(String::from),
            mounts: vec![],
            terminating: false,
        };
        let key = ("ns".to_string(), "c".to_string());
        let mut m = UsageMap::default();
        assert_eq!(m.used_of(&key, &[]), UsedSpace::unknown(NOT_MOUNTED));
        assert_eq!(
            m.used_of(&key, &[user(Some("w1"), "Running")]),
            UsedSpace::unknown("not collected yet")
        );
        m.polled.insert("w1".into());
        m.node_errors.insert("w1".into(), FORBIDDEN_PROXY.into());
        assert_eq!(
            m.used_of(&key, &[user(Some("w1"), "Running")]),
            UsedSpace::unknown(FORBIDDEN_PROXY)
        );
        assert_eq!(
            m.used_of(&key, &[user(Some("w1"), "Succeeded")]),
            UsedSpace::unknown(NOT_MOUNTED)
        );
        m.node_errors.clear();
        assert_eq!(
            m.used_of(&key, &[user(Some("w1"), "Running")]),
            UsedSpace::unknown(NOT_MOUNTED)
        );
        m.by_claim.insert(
            key.clone(),
            UsedSpace::Known {
                used_bytes: 1,
                capacity_bytes: None,
                available_bytes: None,
            },
        );
        assert_eq!(m.used_of(&key, &[]).used_bytes(), Some(1));
        assert!(!path_safe("a/../b") && !path_safe("") && path_safe("worker-1.example"));
    }
}
