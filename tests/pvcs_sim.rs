//! The PVC source end to end against the simulated cluster (real HTTPS, real Kubernetes JSON and
//! watch semantics, the pvc-protection finalizer, reclaim, the kubelet stats summary through the
//! node proxy): the incident's claims get their markers and reasons, a pod deleted mid-watch
//! leaves its claim UNUSED, a Retain claim deleted leaves an orphaned Released PV, used space is
//! the bytes the volume holds, and RBAC gaps (nodes/proxy, persistentvolumes) degrade the pane
//! instead of killing it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::domain::Level;
use ondeck::domain::pvcs::{Marker, PvcRow, PvcRule, PvcsSnapshot, UsageStatus, UsedSpace};
use ondeck::sim::resources::Kind;
use ondeck::sim::{Fault, SimCluster, SimOptions, SimTiming};
use ondeck::sources::kube::pvcs::NOT_MOUNTED;
use ondeck::sources::kube::{KubeEnv, KubeTarget, TargetArgs, collect_pvcs_with, connect};
use ondeck::sources::{Payload, SourceError, SourceId, SourceUpdate};
use serde_json::json;
use tokio::sync::mpsc;

const LOKI_SENTENCE: &str = "deleted while pod loki-0 uses it; when loki-0 stops, the PV and \
                             its data are deleted (reclaim policy Delete)";

fn cfg() -> Config {
    Config {
        refresh: HumanDuration(Duration::from_millis(500)),
        kubernetes: KubernetesConfig {
            connect_timeout: HumanDuration(Duration::from_secs(2)),
            request_timeout: HumanDuration(Duration::from_secs(2)),
            backoff_initial: HumanDuration(Duration::from_millis(100)),
            backoff_max: HumanDuration(Duration::from_secs(1)),
        },
        ..Config::default()
    }
}

struct Env {
    sim: SimCluster,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn sim(faults: Vec<Fault>) -> Env {
    sim_with(faults, Duration::from_secs(1)).await
}

async fn sim_with(faults: Vec<Fault>, bookmark_interval: Duration) -> Env {
    let sim = SimCluster::start(SimOptions {
        faults,
        timing: SimTiming {
            pod_start_delay: Duration::from_millis(300),
            pod_stop_delay: Duration::from_millis(300),
            bookmark_interval,
            ..SimTiming::default()
        },
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    Env {
        sim,
        _dir: dir,
        kubeconfig,
    }
}

async fn target(env: &Env) -> KubeTarget {
    let args = TargetArgs {
        kubeconfig: Some(env.kubeconfig.clone()),
        all_namespaces: true,
        ..Default::default()
    };
    connect(&args, &KubeEnv::default(), &cfg().kubernetes)
        .await
        .expect("connects")
}

/// Both sources as the console runs them: the pods source (whose store the PVC source reads)
/// and the PVC source. The pods updates are drained.
struct Running {
    _pods: ondeck::sources::kube::pods::PodsSource,
    _pvcs: ondeck::sources::kube::pvcs::PvcsSource,
    rx: mpsc::Receiver<SourceUpdate>,
}

async fn start(env: &Env, cfg: &Config) -> Running {
    let t = target(env).await;
    let (ptx, mut prx) = mpsc::channel(64);
    tokio::spawn(async move { while prx.recv().await.is_some() {} });
    let pods = ondeck::sources::kube::pods::spawn(t.clone(), cfg, ptx);
    let (tx, rx) = mpsc::channel(64);
    let pvcs = ondeck::sources::kube::pvcs::spawn(t, pods.store.clone(), cfg, tx);
    Running {
        _pods: pods,
        _pvcs: pvcs,
        rx,
    }
}

/// Waits for a PVC update matching `f`, failing after `secs`.
async fn until<T>(
    rx: &mut mpsc::Receiver<SourceUpdate>,
    secs: u64,
    what: &str,
    mut f: impl FnMut(&Result<Payload, SourceError>) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut last = None;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(u)) => {
                assert_eq!(u.source, SourceId::Pvcs);
                if let Some(t) = f(&u.result) {
                    return t;
                }
                last = Some(u.result.map(|p| match p.downcast_ref::<PvcsSnapshot>() {
                    Some(s) => format!("{} rows: {:?}", s.rows.len(), s.rows),
                    None => "other".to_string(),
                }));
            }
            Ok(None) => panic!("source stopped while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; last update: {last:?}"),
        }
    }
}

fn snapshot(r: &Result<Payload, SourceError>) -> Option<&PvcsSnapshot> {
    r.as_ref().ok().and_then(|p| p.downcast_ref())
}

fn find<'a>(s: &'a PvcsSnapshot, ns: &str, name: &str) -> Option<&'a PvcRow> {
    s.rows.iter().find(|r| r.namespace == ns && r.name == name)
}

fn row<'a>(s: &'a PvcsSnapshot, ns: &str, name: &str) -> &'a PvcRow {
    find(s, ns, name).unwrap_or_else(|| panic!("{ns}/{name} missing: {:?}", s.rows))
}

/// Bytes of the regular files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let t = e.file_type().expect("type");
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                total += e.metadata().expect("meta").len();
            }
        }
    }
    total
}

fn pv_of(env: &Env, ns: &str, name: &str) -> String {
    env.sim
        .state()
        .get(Kind::PersistentVolumeClaim, ns, name)
        .and_then(|c| c["spec"]["volumeName"].as_str().map(String::from))
        .expect("bound claim")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_claims_get_their_markers_reasons_and_used_space() {
    let env = sim(vec![]).await;
    let mut run = start(&env, &cfg()).await;
    // The first snapshot already has everything the markers need (PVs, pods); wait for the
    // used-space pass too.
    let snap = until(&mut run.rx, 20, "snapshot with used space", |r| {
        snapshot(r).filter(|s| s.usage == UsageStatus::Ok).cloned()
    })
    .await;
    assert!(snap.synced);
    assert_eq!(snap.rows.len(), 7, "{:?}", snap.rows);

    let grafana = row(&snap, "monitoring", "grafana-data");
    assert_eq!(grafana.markers, vec![Marker::AtRisk, Marker::InUse]);
    assert_eq!(grafana.status, "Bound");
    assert_eq!(grafana.level, Level::Info);
    assert_eq!(grafana.reclaim_policy.as_deref(), Some("Delete"));
    assert_eq!(grafana.users.len(), 1);
    assert!(grafana.users[0].pod.starts_with("grafana-"));
    assert_eq!(grafana.users[0].mounts, vec!["grafana:/var/lib/grafana"]);
    // Used space: exactly the bytes the volume directory holds.
    let dir = env
        .sim
        .volume_path(&pv_of(&env, "monitoring", "grafana-data"))
        .expect("volume dir");
    let on_disk = bytes_under(&dir);
    assert!(on_disk > 2_000_000, "{on_disk}");
    match &grafana.used {
        UsedSpace::Known {
            used_bytes,
            capacity_bytes,
            ..
        } => {
            assert_eq!(*used_bytes, on_disk);
            assert_eq!(*capacity_bytes, Some(10 << 30));
        }
        other => panic!("grafana-data used space not known: {other:?}"),
    }

    let old = row(&snap, "monitoring", "grafana-data-old");
    assert_eq!(old.markers, vec![Marker::AtRisk, Marker::Unused]);
    assert!(old.users.is_empty());
    assert_eq!(old.used, UsedSpace::unknown(NOT_MOUNTED));

    let loki = row(&snap, "logging", "loki-storage");
    assert_eq!(loki.status, "Terminating");
    assert_eq!(loki.level, Level::Critical);
    assert_eq!(loki.reasons[0].rule, PvcRule::TerminatingInUse);
    assert_eq!(loki.reasons[0].text, LOKI_SENTENCE);
    assert!(
        loki.finalizers
            .contains(&"kubernetes.io/pvc-protection".to_string())
    );
    assert_eq!(loki.markers, vec![Marker::AtRisk, Marker::InUse]);
    assert_eq!(snap.rows[0].name, "loki-storage", "loudest first");

    // Pending 8m: a warning with the default pending_for (5m).
    let uploads = row(&snap, "web", "uploads");
    assert_eq!(uploads.status, "Pending");
    assert_eq!(uploads.level, Level::Warning);
    assert_eq!(uploads.reasons[0].text, "Pending for 8m");

    // Retain claims are not AT RISK.
    for (ns, name) in [
        ("monitoring", "prometheus-data-prometheus-0"),
        ("payments", "postgres-data-postgres-0"),
    ] {
        let r = row(&snap, ns, name);
        assert_eq!(r.reclaim_policy.as_deref(), Some("Retain"), "{ns}/{name}");
        assert_eq!(r.markers, vec![Marker::InUse], "{ns}/{name}");
        assert_eq!(r.level, Level::Ok, "{ns}/{name}");
    }

    // PVs and StorageClasses.
    let old_reports = snap
        .pvs
        .iter()
        .find(|p| p.name == "pv-old-reports")
        .expect("pv-old-reports");
    assert!(old_reports.orphaned);
    assert_eq!(old_reports.level, Level::Warning);
    assert!(snap.pv_error.is_none());
    let standard = snap
        .storage_classes
        .iter()
        .find(|c| c.name == "standard")
        .expect("standard class");
    assert!(standard.is_default && standard.reclaim_policy == "Delete");
    assert!(
        snap.storage_classes
            .iter()
            .any(|c| c.name == "retained" && !c.is_default && c.reclaim_policy == "Retain")
    );

    // Alerts: warning and above only; no AT RISK alerts.
    let conds = ondeck::rules::pvcs::evaluate(&snap);
    let mut keys: Vec<(String, String, Level)> = conds
        .iter()
        .map(|c| {
            (
                c.key.rule.to_string(),
                c.key.subject.to_string(),
                c.key.level,
            )
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            (
                "pv_released".into(),
                "pv/pv-old-reports".into(),
                Level::Warning
            ),
            ("pvc_pending".into(), "web/uploads".into(), Level::Warning),
            (
                "pvc_terminating_in_use".into(),
                "logging/loki-storage".into(),
                Level::Critical
            ),
        ]
    );

    // Used space was asked of the node proxy, and the PVC source never watched pods itself:
    // one pod watch in the whole process (the pods source's).
    let log = env.sim.request_log();
    assert!(
        log.iter()
            .any(|r| r.resource == "nodes/proxy" && r.status == 200),
        "no stats request"
    );
    let pod_lists = log
        .iter()
        .filter(|r| r.resource == "pods" && r.verb == "list")
        .count();
    assert_eq!(pod_lists, 1, "one pod list (the shared store)");

    // A longer pending_for: Pending 8m is no longer a warning (status still says Pending).
    let mut relaxed = cfg();
    relaxed.rules.pvcs.pending_for = HumanDuration(Duration::from_secs(600));
    let t = target(&env).await;
    let once = collect_pvcs_with(&t, &relaxed, jiff::Timestamp::now())
        .await
        .expect("one-shot collect");
    let uploads = row(&once, "web", "uploads");
    assert_eq!(uploads.status, "Pending");
    assert!(uploads.reasons.is_empty(), "{:?}", uploads.reasons);
    assert_eq!(uploads.level, Level::Ok);
    assert_eq!(
        row(&once, "logging", "loki-storage").reasons[0].text,
        LOKI_SENTENCE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_deleted_mid_watch_leaves_its_claim_unused() {
    let env = sim(vec![]).await;
    let mut run = start(&env, &cfg()).await;
    let snap = until(&mut run.rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;
    assert!(row(&snap, "batch", "scratch").has_marker(Marker::Unused));

    // A pod with no controller (a workload's pod would be replaced, keeping the claim in use)
    // starts using batch/scratch...
    env.sim.state().create(
        Kind::Pod,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "batch", "name": "scratch-user"},
            "spec": {"nodeName": "worker-1",
                     "containers": [{"name": "sh", "image": "busybox",
                                     "volumeMounts": [{"name": "data", "mountPath": "/scratch"}]}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "scratch"}}]}
        }),
    );
    let used = until(&mut run.rx, 20, "batch/scratch IN USE", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "scratch"))
            .filter(|r| r.has_marker(Marker::InUse))
            .cloned()
    })
    .await;
    assert_eq!(used.users[0].pod, "scratch-user");
    assert_eq!(used.users[0].mounts, vec!["sh:/scratch"]);

    // ...and is deleted: once it is gone, the claim is UNUSED again.
    env.sim
        .state()
        .delete(Kind::Pod, "batch", "scratch-user")
        .expect("pod exists");
    let after = until(&mut run.rx, 20, "batch/scratch UNUSED", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "scratch"))
            .filter(|r| r.has_marker(Marker::Unused))
            .cloned()
    })
    .await;
    assert!(after.users.is_empty(), "{:?}", after.users);
    assert_eq!(after.markers, vec![Marker::AtRisk, Marker::Unused]);
    assert!(
        env.sim
            .state()
            .get(Kind::Pod, "batch", "scratch-user")
            .is_none(),
        "the pod is really gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_retain_claim_leaves_an_orphaned_released_pv() {
    let env = sim(vec![]).await;
    let mut run = start(&env, &cfg()).await;
    let _ = until(&mut run.rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;

    env.sim.state().create(
        Kind::PersistentVolumeClaim,
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"namespace": "batch", "name": "archive"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "retained",
                     "resources": {"requests": {"storage": "1Gi"}}}
        }),
    );
    let bound = until(&mut run.rx, 20, "batch/archive bound", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "archive"))
            .filter(|r| r.status == "Bound" && r.reclaim_policy.is_some())
            .cloned()
    })
    .await;
    assert_eq!(bound.reclaim_policy.as_deref(), Some("Retain"));
    assert_eq!(bound.markers, vec![Marker::Unused]);
    let pv = bound.volume.clone().expect("bound to a PV");

    env.sim
        .state()
        .delete(Kind::PersistentVolumeClaim, "batch", "archive")
        .expect("claim exists");
    let snap = until(&mut run.rx, 20, "released PV", |r| {
        snapshot(r)
            .filter(|s| {
                find(s, "batch", "archive").is_none()
                    && s.pvs.iter().any(|p| p.name == pv && p.orphaned)
            })
            .cloned()
    })
    .await;
    let row = snap.pvs.iter().find(|p| p.name == pv).expect("pv row");
    assert_eq!(row.phase, "Released");
    assert_eq!(row.level, Level::Warning);
    assert_eq!(row.claim.as_deref(), Some("batch/archive"));
    assert_eq!(
        row.reasons[0].text,
        format!(
            "Released: claim batch/archive is gone; the data is still on PV {pv} (reclaim Retain)"
        )
    );
    // The sim agrees: the PV object is Released and still exists.
    let obj = env
        .sim
        .state()
        .get(Kind::PersistentVolume, "", &pv)
        .expect("PV kept");
    assert_eq!(obj["status"]["phase"], "Released");
    let conds = ondeck::rules::pvcs::evaluate(&snap);
    assert!(
        conds
            .iter()
            .any(|c| c.key.subject == format!("pv/{pv}") && c.key.level == Level::Warning)
    );
    assert_eq!(snap.counts().orphaned_pvs, 2, "pv-old-reports and {pv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_node_proxy_leaves_used_space_unknown_with_the_reason() {
    let env = sim(vec![Fault::Forbid {
        verb: "get".into(),
        resource: "nodes/proxy".into(),
        namespace: None,
    }])
    .await;
    let mut run = start(&env, &cfg()).await;
    let snap = until(&mut run.rx, 20, "usage unavailable", |r| {
        snapshot(r)
            .filter(|s| matches!(s.usage, UsageStatus::Unavailable { .. }))
            .cloned()
    })
    .await;
    let UsageStatus::Unavailable { why } = &snap.usage else {
        unreachable!()
    };
    assert!(why.starts_with("forbidden: get nodes/proxy"), "{why}");
    let g = row(&snap, "monitoring", "grafana-data");
    match &g.used {
        UsedSpace::Unknown { why } => assert!(why.contains("forbidden"), "{why}"),
        other => panic!("known despite 403: {other:?}"),
    }
    // The rest of the pane is intact.
    assert_eq!(g.markers, vec![Marker::AtRisk, Marker::InUse]);
    assert_eq!(
        row(&snap, "monitoring", "grafana-data-old").used,
        UsedSpace::unknown(NOT_MOUNTED)
    );
    let log = env.sim.request_log();
    assert!(
        log.iter()
            .any(|r| r.resource == "nodes/proxy" && r.status == 403),
        "the stats requests were really refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_persistentvolumes_still_yield_claim_rows() {
    let env = sim(vec![Fault::Forbid {
        verb: "*".into(),
        resource: "persistentvolumes".into(),
        namespace: None,
    }])
    .await;
    let mut run = start(&env, &cfg()).await;
    let snap = until(&mut run.rx, 20, "snapshot without PVs", |r| {
        snapshot(r).cloned()
    })
    .await;
    assert_eq!(snap.rows.len(), 7);
    assert!(snap.pvs.is_empty());
    let err = snap.pv_error.as_ref().expect("pv_error set").to_string();
    assert!(
        err.starts_with("forbidden: list persistentvolumes"),
        "{err}"
    );
    // Reclaim policy unknown: no AT RISK marker, and the sentence says so.
    let g = row(&snap, "monitoring", "grafana-data");
    assert_eq!(g.reclaim_policy, None);
    assert_eq!(g.markers, vec![Marker::InUse]);
    let loki = row(&snap, "logging", "loki-storage");
    assert_eq!(loki.level, Level::Critical);
    assert!(
        loki.reasons[0]
            .text
            .starts_with("deleted while pod loki-0 uses it; when loki-0 stops,")
            && loki.reasons[0].text.contains("unknown"),
        "{}",
        loki.reasons[0].text
    );
    assert!(
        env.sim
            .request_log()
            .iter()
            .any(|r| r.resource == "persistentvolumes" && r.status == 403)
    );
}

fn new_claim(env: &Env, name: &str) {
    env.sim.state().create(
        Kind::PersistentVolumeClaim,
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"namespace": "batch", "name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                     "resources": {"requests": {"storage": "1Gi"}}}
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_and_410_are_survived_and_caught_up() {
    // Watches cut every second from the start; rare bookmarks, so that a watcher's
    // resourceVersion can fall behind a compaction.
    let env = sim_with(
        vec![Fault::DropWatch(Duration::from_secs(1))],
        Duration::from_secs(60),
    )
    .await;
    let mut run = start(&env, &cfg()).await;
    let _ = until(&mut run.rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let claim_watches = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.resource == "persistentvolumeclaims" && r.verb == "watch")
        .count();
    assert!(claim_watches >= 2, "the watch was really cut and resumed");
    new_claim(&env, "after-drops");
    let r = until(&mut run.rx, 15, "claim after dropped watches", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "after-drops"))
            .filter(|r| r.status == "Bound" && r.reclaim_policy.is_some())
            .cloned()
    })
    .await;
    // Its PV arrived through the PV watch too: the reclaim policy is the one the sim stored
    // (the binder may pick the static pv-spare-1, Retain, before provisioning).
    let pv = env
        .sim
        .state()
        .get(
            Kind::PersistentVolume,
            "",
            r.volume.as_deref().expect("bound"),
        )
        .expect("pv exists");
    let policy = pv["spec"]["persistentVolumeReclaimPolicy"].as_str();
    assert_eq!(r.reclaim_policy.as_deref(), policy);
    assert_eq!(r.has_marker(Marker::AtRisk), policy == Some("Delete"));
    assert!(r.has_marker(Marker::Unused));
    // A compacted history makes the next re-watch 410 Gone: the watchers relist.
    let lists_before = env
        .sim
        .request_log()
        .iter()
        .filter(|r| r.resource == "persistentvolumeclaims" && r.verb == "list")
        .count();
    // Advance the global resourceVersion with an object the claim watch does not see, then
    // compact: the next re-watch (within a second) asks for a version that is gone.
    env.sim.state().add_event(
        "batch",
        "PersistentVolumeClaim",
        "scratch",
        "Normal",
        "Test",
        "advance the resourceVersion",
    );
    env.sim.state().compact();
    // The 410 arrives as a watch ERROR event; the proof of the relist is a new list request.
    let claim_lists = || {
        env.sim
            .request_log()
            .iter()
            .filter(|r| r.resource == "persistentvolumeclaims" && r.verb == "list")
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while claim_lists() <= lists_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no relist after the history was compacted: {:#?}",
            env.sim
                .request_log()
                .iter()
                .filter(|r| r.resource == "persistentvolumeclaims")
                .map(|r| format!("{} {} {} {}", r.verb, r.status, r.path, r.query))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.sim.faults().clear();
    new_claim(&env, "after-410");
    until(&mut run.rx, 15, "claim after the relist", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "after-410"))
            .map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_claims_are_an_error_then_it_recovers() {
    let fault = Fault::Forbid {
        verb: "list".into(),
        resource: "persistentvolumeclaims".into(),
        namespace: None,
    };
    let env = sim(vec![fault.clone()]).await;
    let mut run = start(&env, &cfg()).await;
    let err = until(&mut run.rx, 20, "an error", |r| r.as_ref().err().cloned()).await;
    match &err {
        SourceError::Forbidden(m) => {
            assert!(m.contains("list persistentvolumeclaims"), "{m}")
        }
        other => panic!("not forbidden: {other:?}"),
    }
    env.sim.faults().remove(&fault);
    let s = until(&mut run.rx, 20, "recovery", |r| snapshot(r).cloned()).await;
    assert_eq!(s.rows.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_pods_give_rows_without_usage_markers_rather_than_false_unused() {
    let env = sim(vec![Fault::Forbid {
        verb: "list".into(),
        resource: "pods".into(),
        namespace: None,
    }])
    .await;
    let mut run = start(&env, &cfg()).await;
    let snap = until(&mut run.rx, 30, "snapshot without pods", |r| {
        snapshot(r).cloned()
    })
    .await;
    assert_eq!(snap.rows.len(), 7);
    for r in &snap.rows {
        assert!(
            !r.has_marker(Marker::Unused) && !r.has_marker(Marker::InUse),
            "{}/{}: {:?}",
            r.namespace,
            r.name,
            r.markers
        );
        assert_eq!(
            r.used,
            UsedSpace::unknown("who mounts it is unknown: pods are forbidden")
        );
        assert_eq!(r.users_unknown.as_deref(), Some("pods are forbidden"));
    }
    // Terminating while its users cannot be listed: critical, never OK.
    let loki = row(&snap, "logging", "loki-storage");
    assert_eq!(loki.level, Level::Critical);
    assert!(
        loki.reasons[0]
            .text
            .starts_with("Terminating; who mounts it is unknown: pods are forbidden"),
        "{}",
        loki.reasons[0].text
    );
    assert_eq!(
        row(&snap, "monitoring", "grafana-data-old").markers,
        vec![Marker::AtRisk]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_kubelet_leaves_used_space_unknown_with_the_node() {
    let env = sim(vec![Fault::NoKubelet]).await;
    let mut run = start(&env, &cfg()).await;
    let snap = until(&mut run.rx, 20, "usage unavailable", |r| {
        snapshot(r)
            .filter(|s| matches!(s.usage, UsageStatus::Unavailable { .. }))
            .cloned()
    })
    .await;
    let g = row(&snap, "monitoring", "grafana-data");
    let node = g.users[0].node.clone().expect("scheduled");
    match &g.used {
        UsedSpace::Unknown { why } => {
            // The client retries 503s, so this is either the 503 or our deadline.
            assert!(why.starts_with(&format!("node {node}: ")), "{why}");
            assert!(
                why.contains("503") || why.contains("no stats answer within 2s"),
                "{why}"
            );
        }
        other => panic!("known without a kubelet: {other:?}"),
    }
    assert!(
        env.sim
            .request_log()
            .iter()
            .any(|r| r.resource == "nodes/proxy" && r.status == 503)
    );
}

/// With nothing changing, the builder computes the rows again only when time can change a
/// verdict (or after a five-minute heartbeat): a claim crossing `pending_for` still gets its
/// warning within a refresh or two of the crossing, and the refresh ticks in between are
/// heartbeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_crossing_pending_for_while_nothing_changes_gets_its_warning_on_time() {
    let env = sim(vec![]).await;
    let mut c = cfg();
    let pending_for = Duration::from_secs(6);
    c.rules.pvcs.pending_for = HumanDuration(pending_for);
    let mut run = start(&env, &c).await;
    // Settled: used space polled (the poller's next pass is 30 s away).
    let _ = until(&mut run.rx, 20, "used space", |r| {
        snapshot(r)
            .filter(|s| {
                row(s, "monitoring", "grafana-data")
                    .used
                    .used_bytes()
                    .is_some()
            })
            .cloned()
    })
    .await;
    // On a class nothing provisions: Pending for good.
    env.sim.state().create(
        Kind::PersistentVolumeClaim,
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"namespace": "batch", "name": "stuck"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "nfs",
                     "resources": {"requests": {"storage": "1Gi"}}}
        }),
    );
    let young = until(&mut run.rx, 15, "the new claim, Pending", |r| {
        snapshot(r)
            .and_then(|s| find(s, "batch", "stuck"))
            .filter(|r| r.status == "Pending")
            .cloned()
    })
    .await;
    assert!(
        young.reasons.iter().all(|r| r.rule != PvcRule::Pending),
        "not over {pending_for:?} yet: {:?}",
        young.reasons
    );
    let created = young.created.expect("creationTimestamp");
    let over = created + jiff::SignedDuration::try_from(pending_for).expect("small");
    let (mut heartbeats, mut snapshots) = (0, Vec::new());
    let warned = until(&mut run.rx, 30, "the Pending warning", |r| {
        match r {
            Ok(Payload::Unchanged) => heartbeats += 1,
            Ok(_) => {}
            Err(e) => panic!("error while waiting: {e}"),
        }
        let s = snapshot(r)?;
        let stuck = row(s, "batch", "stuck");
        if stuck.level == Level::Warning {
            return Some((s.at, stuck.clone()));
        }
        snapshots.push(s.at);
        None
    })
    .await;
    let (at, stuck) = warned;
    assert_eq!(
        stuck.reasons[0].rule,
        PvcRule::Pending,
        "{:?}",
        stuck.reasons
    );
    assert!(at > over, "computed at {at}, over at {over}");
    // A refresh is 500 ms: a tick or two after the crossing, with room for a busy machine
    // (the heartbeat would be five minutes).
    let late = at.duration_since(over);
    assert!(
        late < jiff::SignedDuration::from_secs(3),
        "warning computed {late:?} after the crossing"
    );
    assert!(
        snapshots.is_empty(),
        "nothing changed in between, so only heartbeats: full snapshots at {snapshots:?}"
    );
    assert!(
        heartbeats >= 2,
        "the refresh ticks still heartbeat ({heartbeats})"
    );
}
