//! The pods source end to end against the simulated cluster (`ondeck::sim`, real HTTPS, real
//! Kubernetes JSON and watch semantics): every incident pod classified, a pod changing
//! mid-watch moves, dropped watches and 410 Gone are survived, 500s and latency make the source
//! report errors (stale) and recover, 403 and an expired serving certificate give their plain
//! messages, STATUS equals kubectl's, previous logs of a crash loop show the scenario's lines.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::domain::Level;
use ondeck::domain::pods::{PodKey, PodRow, PodsSnapshot};
use ondeck::sim::{Fault, SimCluster, SimOptions, SimTiming};
use ondeck::sources::kube::logs::{LogLimits, fetch_logs};
use ondeck::sources::kube::pods::{PodsSource, spawn};
use ondeck::sources::kube::{KubeEnv, TargetArgs, collect_pods_once, connect};
use ondeck::sources::{Payload, SourceError, SourceUpdate};
use tokio::sync::mpsc;

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

async fn sim(opts: SimOptions) -> Env {
    let sim = SimCluster::start(SimOptions {
        timing: SimTiming {
            pod_start_delay: Duration::from_millis(300),
            pod_stop_delay: Duration::from_millis(300),
            bookmark_interval: Duration::from_secs(1),
            ..SimTiming::default()
        },
        ..opts
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

fn args(env: &Env) -> TargetArgs {
    TargetArgs {
        kubeconfig: Some(env.kubeconfig.clone()),
        all_namespaces: true,
        ..Default::default()
    }
}

async fn start(env: &Env) -> (PodsSource, mpsc::Receiver<SourceUpdate>) {
    let target = connect(&args(env), &KubeEnv::default(), &cfg().kubernetes)
        .await
        .expect("connects");
    let (tx, rx) = mpsc::channel(64);
    (spawn(target, &cfg(), tx), rx)
}

/// Waits for an update matching `f`, failing after `secs`.
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
                if let Some(t) = f(&u.result) {
                    return t;
                }
                last = Some(u.result.map(|p| match p.downcast_ref::<PodsSnapshot>() {
                    Some(s) => format!("{} rows", s.rows.len()),
                    None => "other".to_string(),
                }));
            }
            Ok(None) => panic!("source stopped while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; last update: {last:?}"),
        }
    }
}

fn snapshot(r: &Result<Payload, SourceError>) -> Option<&PodsSnapshot> {
    r.as_ref().ok().and_then(|p| p.downcast_ref())
}

fn find<'a>(s: &'a PodsSnapshot, ns: &str, name: &str) -> Option<&'a PodRow> {
    s.rows
        .iter()
        .find(|r| r.namespace == ns && r.name == name)
        .map(|r| &**r)
}

/// (namespace, name, level, first reason prefix) for the incident scenario.
const INCIDENT: &[(&str, &str, Level, &str)] = &[
    (
        "payments",
        "payments-api-7f9c6b5d4-8qzvt",
        Level::Critical,
        "CrashLoopBackOff for 3h",
    ),
    (
        "payments",
        "ledger-worker-6b7d9f8c5-tq2lx",
        Level::Critical,
        "OOMKilled 12m ago",
    ),
    (
        "web",
        "checkout-78d5f9c6b-kk8sd",
        Level::Critical,
        "CreateContainerConfigError for 18m",
    ),
    (
        "payments",
        "payments-api-7f9c6b5d4-m5wpl",
        Level::Warning,
        "Running but not Ready for 3h",
    ),
    (
        "web",
        "frontend-6c9d8b7f5-4hj2n",
        Level::Warning,
        "ImagePullBackOff for 25m",
    ),
    (
        "web",
        "search-indexer-0",
        Level::Warning,
        "Pending for 47m: Unschedulable: 0/3 nodes are available",
    ),
    (
        "batch",
        "nightly-report-29114400-7xk2p",
        Level::Warning,
        "Terminating for 38m (finalizers: example.com/stuck)",
    ),
    (
        "batch",
        "etl-5f6d7c8b9-zz9xq",
        Level::Warning,
        "Evicted for 5h: The node was low on resource: memory.",
    ),
    ("batch", "cleanup-29114460-b8v2m", Level::Ok, ""),
    ("web", "frontend-5b8c7d6e4-r7n9p", Level::Ok, ""),
    ("monitoring", "grafana-5d8f7c9b6d-x2k4q", Level::Ok, ""),
    ("kube-system", "coredns-6f6b679f8f-9x7mz", Level::Ok, ""),
];

fn check_incident(rows: &[std::sync::Arc<PodRow>]) {
    let mut failures = Vec::new();
    for (ns, name, level, reason) in INCIDENT {
        match rows.iter().find(|r| r.namespace == *ns && r.name == *name) {
            None => failures.push(format!("{ns}/{name}: missing")),
            Some(r) => {
                let first = r.reasons.first().map(|r| r.text.as_str()).unwrap_or("");
                if r.level != *level || !first.starts_with(reason) {
                    failures.push(format!(
                        "{ns}/{name}: got {:?} {:?}, want {level:?} {reason:?}",
                        r.level, r.reasons
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Ranked by danger: every critical before every warning before every ok.
    let levels: Vec<Level> = rows.iter().map(|r| r.level).collect();
    let mut sorted = levels.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(levels, sorted);
}

#[tokio::test]
async fn every_incident_pod_is_classified_and_ranked() {
    let env = sim(SimOptions::named("incident")).await;
    let (src, mut rx) = start(&env).await;
    let snap = until(&mut rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;
    assert!(snap.synced);
    assert!(snap.api.reachable, "{:?}", snap.api);
    check_incident(&snap.rows);
    let c = snap.counts();
    assert_eq!(c.critical, 3, "{c:?}");
    assert!(src.store.is_synced());
    // The PVC pane's view of the same store: grafana mounts grafana-data, nobody the old one.
    let users = src.store.claim_users();
    let g = &users[&("monitoring".to_string(), "grafana-data".to_string())];
    assert_eq!(g[0].pod, "grafana-5d8f7c9b6d-x2k4q");
    assert_eq!(g[0].mounts, ["grafana:/var/lib/grafana"]);
    assert!(!users.contains_key(&("monitoring".to_string(), "grafana-data-old".to_string())));
    // Exactly one pod watch and one event watch were opened.
    // Events reach the detail view, sanitized where they entered (clean text).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let evs = src.events_of(&PodKey::new("web", "frontend-6c9d8b7f5-4hj2n"));
        if let Some(e) = evs.iter().find(|e| e.message.contains("says pwned")) {
            assert!(
                !e.message.chars().any(|c| c.is_control()),
                "{:?}",
                e.message
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "events never arrived: {evs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Exactly one pod list and one pod watch: the store is shared, never a second watch.
    let log = env.sim.request_log();
    let count = |verb: &str| {
        log.iter()
            .filter(|r| r.verb == verb && r.resource == "pods")
            .count()
    };
    // (The sim logs a watch when its stream ends, so a live watch may not be listed yet.)
    assert_eq!(count("list"), 1, "{log:?}");
    assert!(count("watch") <= 1, "{log:?}");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_pod_changing_mid_watch_moves_in_the_table() {
    let env = sim(SimOptions::named("incident")).await;
    let (_src, mut rx) = start(&env).await;
    let snap = until(&mut rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;
    let row = find(&snap, "web", "frontend-5b8c7d6e4-r7n9p").expect("row");
    assert_eq!(row.level, Level::Ok);
    env.sim
        .state()
        .crash_pod("web", "frontend-5b8c7d6e4-r7n9p", "Error", 1);
    let row = until(&mut rx, 10, "frontend to crash", |r| {
        snapshot(r)
            .and_then(|s| find(s, "web", "frontend-5b8c7d6e4-r7n9p"))
            .filter(|r| r.status == "CrashLoopBackOff")
            .cloned()
    })
    .await;
    assert_eq!(row.level, Level::Critical);
    assert_eq!(row.restarts, 1);
    // Seen healthy a moment ago: the crash loop is seconds old, whatever the (stale)
    // condition timestamps say.
    assert!(
        row.reasons[0].text.starts_with("CrashLoopBackOff for 0s")
            || row.reasons[0].text.starts_with("CrashLoopBackOff for 1s"),
        "{:?}",
        row.reasons
    );
    assert!(
        row.reasons
            .iter()
            .any(|r| r.text.starts_with("restarts +1 in the last 10m")),
        "{:?}",
        row.reasons
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn dropped_watches_and_410_are_survived_and_caught_up() {
    let env = sim(SimOptions::named("healthy")).await;
    let (_src, mut rx) = start(&env).await;
    let snap = until(&mut rx, 20, "first snapshot", |r| snapshot(r).cloned()).await;
    let victim = snap.rows.first().expect("a pod").clone();
    // Watches get cut every second; a change made after a few cuts still arrives.
    env.sim
        .faults()
        .add(Fault::DropWatch(Duration::from_secs(1)));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    env.sim
        .state()
        .bump_restarts(&victim.namespace, &victim.name);
    until(&mut rx, 15, "restart after dropped watches", |r| {
        snapshot(r)
            .and_then(|s| find(s, &victim.namespace, &victim.name))
            .filter(|r| r.restarts == victim.restarts + 1)
            .map(|_| ())
    })
    .await;
    // Compacting the history makes the next re-watch 410 Gone: the watcher relists.
    env.sim.state().compact();
    env.sim
        .state()
        .bump_restarts(&victim.namespace, &victim.name);
    until(&mut rx, 15, "restart after 410", |r| {
        snapshot(r)
            .and_then(|s| find(s, &victim.namespace, &victim.name))
            .filter(|r| r.restarts == victim.restarts + 2)
            .map(|_| ())
    })
    .await;
    env.sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_and_latency_make_it_stale_then_it_recovers() {
    let env = sim(SimOptions::named("healthy")).await;
    let (_src, mut rx) = start(&env).await;
    until(&mut rx, 20, "first snapshot", |r| snapshot(r).map(|_| ())).await;
    env.sim.faults().add(Fault::ErrorRate(1.0));
    let err = until(&mut rx, 20, "an error", |r| r.as_ref().err().cloned()).await;
    assert!(
        matches!(err, SourceError::Other(ref m) if m.contains("500")),
        "{err:?}"
    );
    env.sim.faults().clear();
    until(&mut rx, 20, "recovery", |r| snapshot(r).map(|_| ())).await;
    // Latency beyond the request deadline: a timeout, then recovery.
    env.sim.faults().add(Fault::Latency(Duration::from_secs(4)));
    let err = until(&mut rx, 30, "a timeout", |r| r.as_ref().err().cloned()).await;
    assert!(matches!(err, SourceError::Timeout(_)), "{err:?}");
    env.sim.faults().clear();
    let s = until(&mut rx, 30, "recovery", |r| snapshot(r).cloned()).await;
    assert!(
        s.api
            .last_latency
            .is_some_and(|l| l < Duration::from_secs(2))
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_list_names_verb_resource_and_scope() {
    let env = sim(SimOptions {
        faults: vec!["forbid=list:pods".parse().expect("fault")],
        ..SimOptions::named("healthy")
    })
    .await;
    let (_src, mut rx) = start(&env).await;
    let err = until(&mut rx, 20, "forbidden", |r| r.as_ref().err().cloned()).await;
    match err {
        SourceError::Forbidden(m) => {
            assert!(m.starts_with("cannot list pods in all namespaces"), "{m}")
        }
        other => panic!("want Forbidden, got {other:?}"),
    }
    env.sim.shutdown().await;
}

#[tokio::test]
async fn expired_serving_certificate_gives_the_expiry_date() {
    let env = sim(SimOptions {
        faults: vec![Fault::ExpiredCert],
        ..SimOptions::named("healthy")
    })
    .await;
    let err = collect_pods_once(&cfg(), &args(&env), &KubeEnv::default())
        .await
        .expect_err("expired cert");
    match err {
        SourceError::Tls(m) => assert!(m.contains("expired on 20"), "{m}"),
        other => panic!("want Tls, got {other:?}"),
    }
    env.sim.shutdown().await;
}

#[tokio::test]
async fn previous_logs_of_the_crash_looping_pod_show_the_scenario_lines() {
    let env = sim(SimOptions::named("incident")).await;
    let target = connect(&args(&env), &KubeEnv::default(), &cfg().kubernetes)
        .await
        .expect("connects");
    let key = PodKey::new("payments", "ledger-worker-6b7d9f8c5-tq2lx");
    let pods = ondeck::sources::kube::list_pods(&target)
        .await
        .expect("list");
    let pod = pods.iter().find(|p| *p.name == *key.name).expect("pod");
    let (container, previous) = ondeck::sources::kube::logs::plan(pod, true).expect("container");
    assert!(previous);
    let tail = fetch_logs(&target, &key, &container, true, LogLimits::default())
        .await
        .expect("previous logs");
    assert!(tail.text.contains("heap in use: 498Mi"), "{}", tail.text);
    assert!(tail.previous);
    // Bounded: tailLines is honoured.
    let tail = fetch_logs(
        &target,
        &key,
        &container,
        true,
        LogLimits {
            tail_lines: 1,
            limit_bytes: 1024,
        },
    )
    .await
    .expect("previous logs");
    assert_eq!(tail.text.lines().count(), 1, "{}", tail.text);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn status_column_equals_kubectl() {
    let kubectl = PathBuf::from("/usr/bin/kubectl");
    if !kubectl.exists() {
        eprintln!("NOTE: /usr/bin/kubectl missing; skipping");
        return;
    }
    let env = sim(SimOptions::named("incident")).await;
    let rows = collect_pods_once(&cfg(), &args(&env), &KubeEnv::default())
        .await
        .expect("rows");
    let out = tokio::process::Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .args(["get", "pods", "-A", "--no-headers"])
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let now = Timestamp::now();
    let mut compared = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (ns, name, ready, status, restarts) = (f[0], f[1], f[2], f[3], f[4]);
        let row = rows
            .iter()
            .find(|r| r.namespace == ns && r.name == name)
            .unwrap_or_else(|| panic!("kubectl shows {ns}/{name}, ondeck does not"));
        assert_eq!(
            (row.ready.as_str(), row.status.as_str()),
            (ready, status),
            "{ns}/{name}"
        );
        assert_eq!(row.restarts.to_string(), restarts, "{ns}/{name}");
        let _ = row.age_text(now);
        compared += 1;
    }
    assert_eq!(compared, rows.len());
    env.sim.shutdown().await;
}
