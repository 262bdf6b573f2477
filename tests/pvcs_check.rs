//! `ondeck check`'s pvcs/pvs sections: the real binary against the demo cluster (loki-storage
//! critical with its explanation, exit 2), the JSON shape, text and Prometheus output, "no
//! kubeconfig" as not configured, and hostile strings from the cluster stripped everywhere.

use std::process::Command;
use std::time::Duration;

use ondeck::check::{
    Collected, SourceStatus, build_report, collect, render_prometheus, render_text,
};
use ondeck::config::Config;
use ondeck::demo::Demo;
use ondeck::domain::pods::{ApiHealth, NamespaceScope};
use ondeck::domain::pvcs::{
    Marker, PvRow, PvcReason, PvcRow, PvcRule, PvcsSnapshot, StorageClassInfo, UsageStatus,
    UsedSpace,
};
use ondeck::domain::{CheckStatus, Level};
use ondeck::sources::kube::TargetArgs;
use ondeck::sources::{SourceError, SourceId};

const LOKI: &str = "logging/loki-storage: deleted while pod loki-0 uses it; when loki-0 stops, \
                    the PV and its data are deleted (reclaim policy Delete)";

fn run(args: &[&str]) -> (i32, String) {
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(args)
        .env("XDG_STATE_HOME", state.path())
        .env("XDG_CONFIG_HOME", state.path())
        .env_remove("KUBECONFIG")
        .output()
        .expect("run ondeck");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_demo_only_pvcs_json_is_critical_for_loki() {
    let (code, stdout) = run(&["check", "--demo", "--only", "pvcs", "--json"]);
    assert_eq!(code, 2, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(v["status"], "critical");
    assert_eq!(v["demo"], true);
    assert_eq!(v["sources"]["pvcs"]["status"], "ok");
    assert!(
        v.get("pods").is_none() && v.get("sockets").is_none(),
        "--only pvcs"
    );

    let checks = v["checks"].as_array().expect("checks");
    let loki = checks
        .iter()
        .find(|c| c["subject"] == "logging/loki-storage")
        .expect("loki check");
    assert_eq!(loki["source"], "pvcs");
    assert_eq!(loki["name"], "pvc_terminating_in_use");
    assert_eq!(loki["level"], "critical");
    assert_eq!(loki["message"], LOKI);
    assert!(
        checks.iter().all(|c| c["name"] != "pvc_reclaim_delete"),
        "AT RISK is info, not a check"
    );

    let rows = v["pvcs"].as_array().expect("pvcs rows");
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["namespace"], "logging");
    assert_eq!(rows[0]["name"], "loki-storage");
    assert_eq!(rows[0]["status"], "Terminating");
    assert_eq!(rows[0]["level"], "critical");
    assert_eq!(rows[0]["age"], "90d");
    assert_eq!(rows[0]["markers"], serde_json::json!(["at_risk", "in_use"]));
    assert_eq!(rows[0]["used_by"], "loki-0 (Running)");
    let old = rows
        .iter()
        .find(|r| r["name"] == "grafana-data-old")
        .expect("grafana-data-old");
    assert_eq!(old["markers_text"], "AT RISK UNUSED");
    assert_eq!(old["used"]["state"], "unknown");

    let pvs = v["pvs"].as_array().expect("pvs rows");
    let released = pvs
        .iter()
        .find(|p| p["name"] == "pv-old-reports")
        .expect("pv-old-reports");
    assert_eq!(released["orphaned"], true);
    assert_eq!(released["level"], "warning");
    assert_eq!(v["pvc_summary"]["counts"]["critical"], 1);
    assert_eq!(v["pvc_summary"]["counts"]["unused"], 3);
    assert_eq!(v["pvc_summary"]["counts"]["orphaned_pvs"], 1);
}

#[test]
fn check_demo_only_pvcs_text_and_prometheus() {
    let (code, text) = run(&["check", "--demo", "--only", "pvcs"]);
    assert_eq!(code, 2, "{text}");
    let first = text.lines().next().expect("a line");
    assert!(
        first.starts_with("ONDECK CRITICAL (DEMO: simulated cluster) - pvc_terminating_in_use"),
        "{first}"
    );
    assert!(text.contains(LOKI), "{text}");
    assert!(
        text.contains(
            "pvcs: 7 claims in all namespaces (context ondeck-sim): 1 critical, 1 warning, 3 unused, 4 at risk"
        ),
        "{text}"
    );

    let (code, prom) = run(&[
        "check",
        "--demo",
        "--only",
        "pvcs",
        "--format",
        "prometheus",
    ]);
    assert_eq!(code, 2, "{prom}");
    for line in [
        "ondeck_status 2",
        "ondeck_source_up{source=\"pvcs\"} 1",
        "ondeck_pvcs{level=\"critical\"} 1",
        "ondeck_pvcs{level=\"warning\"} 1",
        "ondeck_pvcs{level=\"ok\"} 5",
        "ondeck_pvcs_unused 3",
        "ondeck_pvcs_at_risk 4",
        "ondeck_pvs_orphaned 1",
        "ondeck_check_level{source=\"pvcs\",name=\"pvc_terminating_in_use\",subject=\"logging/loki-storage\"} 2",
    ] {
        assert!(
            prom.lines().any(|l| l == line),
            "missing {line:?} in\n{prom}"
        );
    }
}

#[tokio::test]
async fn collect_against_the_demo_cluster() {
    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let cfg = Config::default();
    let collected = collect(
        &cfg,
        &[SourceId::Pvcs],
        &TargetArgs::for_kubeconfig(demo.kubeconfig()),
    )
    .await;
    let ran: Vec<SourceId> = collected.results.iter().map(|c| c.source).collect();
    assert_eq!(ran, vec![SourceId::Pvcs], "only the selected source runs");
    let report = build_report(&cfg, &collected, true, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Critical);
    assert_eq!(report.sources["pvcs"].status, SourceStatus::Ok);
    let crit: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.level == Level::Critical)
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(crit, vec!["logging/loki-storage"]);
    assert!(report.checks.iter().all(|c| !c.for_evaluated));
    demo.stop().await;
}

#[test]
fn no_kubeconfig_is_not_configured_and_failures_are_unknown() {
    let nc = Collected::default().with(
        SourceId::Pvcs,
        Err::<PvcsSnapshot, _>(SourceError::NotConfigured("no kubeconfig found".into())),
        Duration::from_millis(1),
    );
    let report = build_report(&Config::default(), &nc, false, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Ok);
    assert_eq!(report.sources["pvcs"].status, SourceStatus::NotConfigured);
    assert!(!report.sections.contains_key("pvcs"));
    let failed = Collected::default().with(
        SourceId::Pvcs,
        Err::<PvcsSnapshot, _>(SourceError::Forbidden(
            "cannot list persistentvolumeclaims".into(),
        )),
        Duration::from_millis(1),
    );
    let report = build_report(&Config::default(), &failed, false, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Unknown);
    assert_eq!(report.sources["pvcs"].status, SourceStatus::Failed);
}

#[test]
fn no_kubeconfig_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--json", "--only", "pvcs"])
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["sources"]["pvcs"]["status"], "not_configured");
}

const EVIL: &str = "\u{1b}[31mpwned\u{1b}[0m\u{7}";

fn hostile_snapshot() -> PvcsSnapshot {
    let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid");
    let reason = |rule, level, text: String| PvcReason {
        rule,
        level,
        text,
        since: Some(now),
        value: 1.0,
        threshold: 0.0,
    };
    PvcsSnapshot {
        context: "ctx".into(),
        server: "https://k".into(),
        scope: NamespaceScope::All,
        rows: vec![PvcRow {
            namespace: format!("ns{EVIL}"),
            name: format!("claim{EVIL}"),
            uid: None,
            status: "Terminating".into(),
            phase: Some("Bound".into()),
            deletion_timestamp: Some(now),
            finalizers: vec![],
            capacity: Some("1Gi".into()),
            capacity_bytes: Some(1 << 30),
            storage_class: Some(format!("sc{EVIL}").into()),
            volume: Some("pv-1".into()),
            reclaim_policy: Some("Delete".into()),
            access_modes: vec!["RWO".into()],
            users_unknown: None,
            users: vec![],
            used: UsedSpace::unknown(format!("node {EVIL} unreachable")),
            created: Some(now),
            markers: vec![Marker::AtRisk, Marker::Unused],
            level: Level::Critical,
            reasons: vec![reason(
                PvcRule::TerminatingInUse,
                Level::Critical,
                format!("deleted while pod x{EVIL} uses it"),
            )],
        }],
        pvs: vec![PvRow {
            name: format!("pv{EVIL}"),
            phase: "Failed".into(),
            reclaim_policy: Some("Retain".into()),
            claim: None,
            storage_class: None,
            capacity: None,
            capacity_bytes: None,
            access_modes: vec![],
            created: None,
            orphaned: true,
            level: Level::Warning,
            reasons: vec![reason(
                PvcRule::PvReleased,
                Level::Warning,
                format!("Failed: reclaiming failed ({EVIL})"),
            )],
        }],
        pv_error: Some(SourceError::Forbidden(format!("list pvs {EVIL}"))),
        storage_classes: vec![StorageClassInfo {
            name: "sc".into(),
            provisioner: format!("prov{EVIL}"),
            reclaim_policy: "Delete".into(),
            volume_binding_mode: None,
            allow_volume_expansion: false,
            is_default: true,
        }],
        usage: UsageStatus::Unavailable {
            why: format!("forbidden {EVIL}"),
        },
        api: ApiHealth::default(),
        synced: true,
        at: now,
    }
}

#[test]
fn hostile_strings_are_stripped_from_every_output() {
    let collected = Collected::default().with(
        SourceId::Pvcs,
        Ok(hostile_snapshot()),
        Duration::from_millis(1),
    );
    let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid");
    let report = build_report(&Config::default(), &collected, false, now);
    assert_eq!(report.status, CheckStatus::Critical);
    let json = serde_json::to_string(&report).expect("json");
    let text = render_text(&report);
    let prom = render_prometheus(&report);
    for (what, out) in [("json", &json), ("text", &text), ("prometheus", &prom)] {
        assert!(!out.contains('\u{1b}'), "{what} has ESC: {out}");
        assert!(!out.contains('\u{7}'), "{what} has BEL: {out}");
        assert!(!out.contains("\\u001b"), "{what} has an escaped ESC: {out}");
    }
    assert!(text.contains("pwned"), "the text itself is kept: {text}");
    assert!(text.contains("PVs not readable"), "{text}");
    assert!(text.contains("used space unknown"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["pvcs"][0]["markers_text"], "AT RISK UNUSED");
    assert_eq!(v["pvs"][0]["orphaned"], true);
}
