//! `ondeck check`'s pods section: one list against the demo cluster, the same rules as the
//! TUI, Nagios status, and "no kubeconfig" reported as not configured rather than failed.

use std::time::Duration;

use ondeck::check::{Collected, SourceStatus, build_report, collect};
use ondeck::config::Config;
use ondeck::demo::Demo;
use ondeck::domain::CheckStatus;
use ondeck::domain::pods::PodRow;
use ondeck::sources::kube::TargetArgs;
use ondeck::sources::{SourceError, SourceId};

#[tokio::test]
async fn demo_incident_pods_make_check_critical_with_rows_and_checks() {
    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let cfg = Config::default();
    let collected = collect(
        &cfg,
        &[SourceId::Pods],
        &TargetArgs::for_kubeconfig(demo.kubeconfig()),
    )
    .await;
    let report = build_report(&cfg, &collected, true, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Critical);
    assert_eq!(report.sources["pods"].status, SourceStatus::Ok);
    let json = serde_json::to_value(&report).expect("serializes");
    let pods = json["pods"].as_array().expect("pods rows");
    assert!(pods.len() >= 12, "{}", pods.len());
    let first = &pods[0];
    assert_eq!(first["level"], "critical");
    assert!(first["reasons"][0]["text"].is_string());
    assert!(first["status"].is_string() && first["ready"].is_string());
    let crit = report
        .checks
        .iter()
        .filter(|c| c.source == "pods" && c.level == ondeck::domain::Level::Critical)
        .count();
    assert_eq!(crit, 3);
    assert!(report.checks.iter().all(|c| !c.for_evaluated));
    demo.stop().await;
}

#[test]
fn no_kubeconfig_is_not_configured_not_unknown() {
    let collected = Collected::default().with(
        SourceId::Pods,
        Err::<Vec<PodRow>, _>(SourceError::NotConfigured("no kubeconfig found".into())),
        Duration::from_millis(1),
    );
    let report = build_report(
        &Config::default(),
        &collected,
        false,
        jiff::Timestamp::now(),
    );
    assert_eq!(report.status, CheckStatus::Ok);
    assert_eq!(report.sources["pods"].status, SourceStatus::NotConfigured);
    let failed = Collected::default().with(
        SourceId::Pods,
        Err::<Vec<PodRow>, _>(SourceError::Forbidden("cannot list pods".into())),
        Duration::from_millis(1),
    );
    let report = build_report(&Config::default(), &failed, false, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Unknown);
}
