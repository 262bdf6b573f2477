//! The Kubernetes probe audit against the simulated cluster's pod proxy: the `incident`
//! scenario's pods carry HTTP readiness probes with `timeoutSeconds: 1`; the NotReady ones
//! answer through the proxy in about 2 s, so the audit finds their timeout below the measured
//! p99 and says what follows; a forbidden proxy leaves the configuration only, saying why.

mod sim_support;

use std::time::Duration;

use ondeck::domain::Level;
use ondeck::sources::probes::audit::audit;
use ondeck::sources::probes::config::ProbeSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_endpoints_behind_a_one_second_readiness_probe_are_found() {
    let sim = sim_support::sim("incident").await;
    let client = sim.client().await.expect("client");
    let settings = ProbeSettings {
        kubernetes: true,
        kubernetes_concurrency: 8,
        ..ProbeSettings::default()
    };
    let snap = audit(client, None, &settings, true, Duration::from_secs(15)).await;
    assert!(snap.error.is_none(), "{:?}", snap.error);
    assert!(!snap.rows.is_empty(), "the incident pods have HTTP probes");
    let flagged: Vec<_> = snap.rows.iter().filter(|r| r.finding.is_some()).collect();
    assert!(!flagged.is_empty(), "no finding in {:#?}", snap.rows);
    for r in &flagged {
        let f = r.finding.as_deref().unwrap_or("");
        assert!(
            f.starts_with("readiness timeout 1s is below this endpoint's p99 ")
                && f.ends_with(": pods will flap under load"),
            "{f}"
        );
        assert_eq!(r.level, Level::Warning);
        assert_eq!(r.timeout, Duration::from_secs(1));
        assert!(
            r.stats.p99.is_some_and(|p| p > Duration::from_secs(1)),
            "{r:?}"
        );
        assert_eq!(r.port, 8080);
        assert_eq!(&*r.path, "/healthz");
    }
    // The pods whose readiness probes fail in the scenario carry their events.
    assert!(
        flagged.iter().any(|r| r
            .events
            .iter()
            .any(|e| e.starts_with("Readiness probe failed"))),
        "{flagged:#?}"
    );
    // A Ready pod's endpoint is fast: measured, no finding.
    assert!(
        snap.rows
            .iter()
            .any(|r| r.finding.is_none()
                && r.stats.p99.is_some_and(|p| p < Duration::from_millis(500))),
        "{:#?}",
        snap.rows
    );
    // Pods that are not running are listed with their configuration, not measured.
    assert!(snap.rows.iter().any(|r| {
        r.unmeasured
            .as_deref()
            .is_some_and(|u| u.contains("not running"))
    }));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_pod_proxy_leaves_the_configuration_and_says_why() {
    let sim = sim_support::sim("incident").await;
    sim.faults()
        .add("forbid=get:pods/proxy".parse().expect("fault"));
    let client = sim.client().await.expect("client");
    let snap = audit(
        client,
        None,
        &ProbeSettings::default(),
        true,
        Duration::from_secs(15),
    )
    .await;
    assert!(snap.error.is_none(), "{:?}", snap.error);
    let running: Vec<_> = snap
        .rows
        .iter()
        .filter(|r| {
            !r.unmeasured
                .as_deref()
                .is_some_and(|u| u.contains("not running"))
        })
        .collect();
    assert!(!running.is_empty());
    for r in running {
        let why = r.unmeasured.as_deref().unwrap_or("");
        assert!(
            why.starts_with("not measured: the pod proxy is forbidden")
                && why.ends_with("configuration only"),
            "{r:?}"
        );
        assert!(r.finding.is_none() && r.stats.p99.is_none());
        assert_eq!(
            r.timeout,
            Duration::from_secs(1),
            "the configuration is kept"
        );
        assert_eq!(r.failure_threshold, 3);
    }
    sim.shutdown().await;
}
