//! Politeness to the API server, counted from the simulated cluster's request log: a user
//! without `list pods` costs a few LIST requests, not a storm (the backoff holds: no reset on a
//! relist, a 403 waits the maximum and says so), and every request carries ondeck's
//! `User-Agent`.

use std::time::{Duration, Instant};

use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::sim::{SimCluster, SimOptions};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};
use ondeck::sources::{SourceId, SourceUpdate};
use tokio::sync::mpsc;

const BACKOFF_MAX: Duration = Duration::from_secs(2);

fn cfg() -> Config {
    Config {
        refresh: HumanDuration(Duration::from_millis(500)),
        kubernetes: KubernetesConfig {
            connect_timeout: HumanDuration(Duration::from_secs(2)),
            request_timeout: HumanDuration(Duration::from_secs(2)),
            backoff_initial: HumanDuration(Duration::from_millis(100)),
            backoff_max: HumanDuration(BACKOFF_MAX),
        },
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_pods_cost_a_few_lists_and_every_request_says_who_it_is() {
    let sim = SimCluster::start(SimOptions {
        faults: vec!["forbid=list:pods".parse().expect("fault")],
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let cfg = cfg();
    let target = connect(
        &TargetArgs::for_kubeconfig(&kubeconfig),
        &KubeEnv::default(),
        &cfg.kubernetes,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = mpsc::channel::<SourceUpdate>(256);
    let source = ondeck::sources::kube::pods::spawn(target, &cfg, tx);

    // Six times the maximum delay (the 60 s at a 10 s maximum, kept short).
    let window = BACKOFF_MAX * 6;
    let t0 = Instant::now();
    let mut last_error = None;
    while t0.elapsed() < window {
        if let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await
            && u.source == SourceId::Pods
            && let Err(e) = u.result
        {
            last_error = Some(e.to_string());
        }
    }
    drop(source);
    let log = sim.request_log();
    let lists = log
        .iter()
        .filter(|r| r.verb == "list" && r.resource == "pods")
        .count();
    // One attempt, then one per maximum delay: 7 at most in the window (a storm was ~100).
    let bound = (window.as_millis() / BACKOFF_MAX.as_millis()) as usize + 1;
    assert!(
        (2..=bound).contains(&lists),
        "{lists} LIST pods requests in {window:?} (bound {bound})"
    );
    let err = last_error.expect("the source reported the 403");
    assert!(err.starts_with("forbidden:"), "{err}");
    assert!(err.contains("list pods"), "{err}");
    assert!(err.ends_with("retrying in 2s"), "{err}");

    // Every request says it is ondeck, which version, and which context.
    assert!(!log.is_empty());
    let want = format!("ondeck/{} (", env!("CARGO_PKG_VERSION"));
    for r in &log {
        let ua = r.user_agent.as_deref().unwrap_or("");
        assert!(
            ua.starts_with(&want) && ua.ends_with("; ondeck-sim)"),
            "{} {}: user agent {ua:?}",
            r.verb,
            r.path
        );
    }
    sim.shutdown().await;
}
