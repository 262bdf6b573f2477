//! Pod rows from real Kubernetes pod JSON (tests/fixtures/pods): kubectl's READY / STATUS /
//! RESTARTS / AGE columns and every danger rule's level, reason text and duration, at a fixed
//! `now`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use ondeck::config::PodRules;
use ondeck::domain::Level;
use ondeck::domain::compact::CompactPod;
use ondeck::domain::pods::{PodRow, PodRule, human_duration, kubectl_status, sort_by_danger};
use ondeck::domain::text::{Clean, Interner};
use ondeck::rules::pods::{PodHistory, evaluate, row};
use ondeck::sources::kube::pods::{build_rows, claim_users};

fn now() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().expect("valid timestamp")
}

fn fixture(name: &str) -> Pod {
    let path = format!(
        "{}/tests/fixtures/pods/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compact(pod: &Pod) -> Arc<CompactPod> {
    Arc::new(CompactPod::from_pod(pod, &mut Interner::default()))
}

fn r(name: &str) -> PodRow {
    row(&fixture(name), None, &PodRules::default(), now())
}

/// (fixture, READY, STATUS, RESTARTS) as `kubectl get pods` prints them at `now`.
const KUBECTL: &[(&str, &str, &str, &str)] = &[
    ("running", "1/1", "Running", "0"),
    ("crashloop_oom", "0/1", "CrashLoopBackOff", "7 (3m ago)"),
    ("crashloop_error", "0/1", "CrashLoopBackOff", "12 (30m ago)"),
    ("image_pull_backoff", "0/1", "ImagePullBackOff", "0"),
    ("err_image_pull", "0/1", "ErrImagePull", "0"),
    (
        "create_container_config_error",
        "0/1",
        "CreateContainerConfigError",
        "0",
    ),
    ("init_running", "0/1", "Init:0/2", "0"),
    ("init_second", "0/1", "Init:1/2", "0"),
    (
        "init_crashloop",
        "0/1",
        "Init:CrashLoopBackOff",
        "4 (2m ago)",
    ),
    ("init_error", "0/1", "Init:Error", "0"),
    ("init_signal", "0/1", "Init:Signal:9", "0"),
    ("init_exitcode", "0/1", "Init:ExitCode:3", "0"),
    ("completed", "0/1", "Completed", "0"),
    ("failed_error", "0/1", "Error", "0"),
    ("failed_signal", "0/1", "Signal:15", "0"),
    ("failed_exitcode", "0/1", "ExitCode:2", "0"),
    ("terminating", "1/1", "Terminating", "0"),
    ("terminating_fresh", "1/1", "Terminating", "0"),
    ("node_lost", "1/1", "Unknown", "0"),
    ("evicted", "0/1", "ContainerStatusUnknown", "0"),
    ("evicted_plain", "0/1", "Evicted", "0"),
    ("scheduling_gated", "0/1", "SchedulingGated", "0"),
    ("unschedulable", "0/1", "Pending", "0"),
    ("not_ready", "0/1", "Running", "0"),
    ("not_ready_fresh", "0/1", "Running", "0"),
    ("completed_but_running_not_ready", "1/2", "NotReady", "0"),
    ("completed_but_running_ready", "1/2", "Running", "0"),
    ("sidecar", "2/2", "Running", "1 (111m ago)"),
    ("oom_recent", "1/1", "Running", "1 (20m ago)"),
    ("oom_old", "1/1", "Running", "1 (120m ago)"),
    ("restarted_recently", "1/1", "Running", "3 (4m ago)"),
];

#[test]
fn kubectl_columns_for_every_status_form() {
    let mut failures = Vec::new();
    for (name, ready, status, restarts) in KUBECTL {
        let row = r(name);
        let got = (
            row.ready.as_str(),
            row.status.as_str(),
            row.restarts_text(now()).to_string(),
        );
        if got != (*ready, *status, restarts.to_string()) {
            failures.push(format!(
                "{name}: got {got:?}, want ({ready:?}, {status:?}, {restarts:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (fixture, level, expected reason texts (prefixes), in order).
const RULES: &[(&str, Level, &[&str])] = &[
    ("running", Level::Ok, &[]),
    (
        "crashloop_oom",
        Level::Critical,
        &[
            "CrashLoopBackOff for 14m (container api, last exit 137 OOMKilled)",
            "OOMKilled 3m ago (container api)",
            "restarted 3m ago (7 total)",
        ],
    ),
    (
        "crashloop_error",
        Level::Critical,
        &["CrashLoopBackOff for 40m (container api, last exit 1 Error)"],
    ),
    (
        "image_pull_backoff",
        Level::Warning,
        &["ImagePullBackOff for 8m (container web)"],
    ),
    (
        "err_image_pull",
        Level::Warning,
        &["ErrImagePull for 2m (container web)"],
    ),
    (
        "create_container_config_error",
        Level::Critical,
        &["CreateContainerConfigError for 6m (container payments)"],
    ),
    ("init_running", Level::Ok, &[]),
    (
        "init_crashloop",
        Level::Critical,
        &[
            "CrashLoopBackOff for 20m (container migrate, last exit 1 Error)",
            "restarted 2m ago (4 total)",
        ],
    ),
    ("completed", Level::Ok, &[]),
    ("failed_error", Level::Warning, &["Failed for 30m (Error)"]),
    (
        "failed_signal",
        Level::Warning,
        &["Failed for 30m (Signal:15)"],
    ),
    (
        "terminating",
        Level::Warning,
        &["Terminating for 12m (finalizers: example.com/drain-connections)"],
    ),
    ("terminating_fresh", Level::Ok, &[]),
    ("node_lost", Level::Warning, &["Terminating for 20m"]),
    (
        "evicted",
        Level::Warning,
        &["Evicted for 2h4m: The node was low on resource: memory."],
    ),
    (
        "evicted_plain",
        Level::Warning,
        &["Evicted for 2h5m: The node was low on resource: memory."],
    ),
    (
        "scheduling_gated",
        Level::Warning,
        &["Pending for 10m: SchedulingGated: Scheduling is blocked"],
    ),
    (
        "unschedulable",
        Level::Warning,
        &["Pending for 9m: Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."],
    ),
    (
        "not_ready",
        Level::Warning,
        &["Running but not Ready for 5m: containers with unready status: [api]"],
    ),
    ("not_ready_fresh", Level::Ok, &[]),
    (
        "completed_but_running_not_ready",
        Level::Warning,
        &["Running but not Ready for 20m"],
    ),
    ("completed_but_running_ready", Level::Ok, &[]),
    ("sidecar", Level::Ok, &[]),
    (
        "oom_recent",
        Level::Critical,
        &["OOMKilled 20m ago (container api)"],
    ),
    ("oom_old", Level::Ok, &[]),
    (
        "restarted_recently",
        Level::Warning,
        &["restarted 4m ago (3 total)"],
    ),
];

#[test]
fn every_rule_gives_its_level_and_reason_with_duration() {
    let mut failures = Vec::new();
    for (name, level, texts) in RULES {
        let row = r(name);
        let got: Vec<&str> = row.reasons.iter().map(|r| r.text.as_str()).collect();
        let ok = row.level == *level
            && got.len() == texts.len()
            && got.iter().zip(texts.iter()).all(|(g, w)| g.starts_with(w));
        if !ok {
            failures.push(format!(
                "{name}: got {:?} {got:?}, want {level:?} {texts:?}",
                row.level
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reasons_carry_since_from_the_pods_own_timestamps() {
    let row = r("crashloop_oom");
    let crash = row
        .reasons
        .iter()
        .find(|r| r.rule == PodRule::WaitingReason)
        .expect("crash loop reason");
    // Ready=False lastTransitionTime in the fixture: 14 minutes before now.
    assert_eq!(
        crash.since,
        Some("2026-11-21T09:46:00Z".parse().expect("ts"))
    );
    assert_eq!(crash.value, 14.0 * 60.0);
    let term = r("terminating");
    // deletionTimestamp (now - 11m30s) minus the 30s grace period.
    assert_eq!(
        term.reasons[0].since,
        Some("2026-11-21T09:48:00Z".parse().expect("ts"))
    );
    assert_eq!(term.trouble_since(), term.reasons[0].since);
}

#[test]
fn rules_follow_the_config() {
    let mut rules = PodRules {
        pending_for: ondeck::config::HumanDuration(std::time::Duration::from_secs(60 * 60)),
        ..PodRules::default()
    };
    let pod = fixture("unschedulable");
    assert_eq!(row(&pod, None, &rules, now()).level, Level::Ok);
    rules.critical_reasons.push("ImagePullBackOff".into());
    let pod = fixture("image_pull_backoff");
    assert_eq!(row(&pod, None, &rules, now()).level, Level::Critical);
    rules.oom_window = ondeck::config::HumanDuration(std::time::Duration::from_secs(10 * 60));
    assert_eq!(
        row(&fixture("oom_recent"), None, &rules, now()).level,
        Level::Ok
    );
}

#[test]
fn restart_history_raises_the_ten_minute_rule_with_an_injected_clock() {
    // A running pod whose kubelet record shows no recent termination: only ondeck's history
    // can tell that the count went up.
    let mut pod = fixture("running");
    let rules = PodRules::default();
    let t0 = now();
    let at = |m: i64| t0 + jiff::SignedDuration::from_mins(m);
    let set = |pod: &mut Pod, n: i32| {
        if let Some(cs) = pod
            .status
            .as_mut()
            .and_then(|s| s.container_statuses.as_mut())
        {
            cs[0].restart_count = n;
        }
    };
    let mut h = PodHistory::default();
    h.observe_restarts(at(0), 0);
    assert_eq!(row(&pod, Some(&h), &rules, at(0)).level, Level::Ok);

    set(&mut pod, 2);
    h.observe_restarts(at(2), 2);
    let r2 = row(&pod, Some(&h), &rules, at(3));
    assert_eq!(r2.level, Level::Warning, "{:?}", r2.reasons);
    assert_eq!(
        r2.reasons[0].text,
        "restarts +2 in the last 10m (last 1m ago, 2 total)"
    );
    assert_eq!(r2.reasons[0].value, 2.0);

    // Eleven minutes after the increase the window has moved past it.
    h.observe_restarts(at(13), 2);
    assert_eq!(row(&pod, Some(&h), &rules, at(13)).level, Level::Ok);

    // The first observation of a pod is never an "increase".
    let mut fresh = PodHistory::default();
    set(&mut pod, 9);
    fresh.observe_restarts(at(20), 9);
    assert_eq!(row(&pod, Some(&fresh), &rules, at(20)).level, Level::Ok);
}

#[test]
fn first_seen_is_used_when_kubernetes_records_no_time() {
    // A Running pod with no Ready condition at all: "not ready" can only be timed from when
    // ondeck first saw it.
    let mut pod = fixture("not_ready");
    if let Some(c) = pod.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        for c in c.iter_mut() {
            c.last_transition_time = None;
        }
    }
    let rules = PodRules::default();
    let t0 = now();
    let mut h = PodHistory::default();
    // First sight: 0s, under the 2m threshold.
    let r0 = row(&pod, Some(&h), &rules, t0);
    assert_eq!(r0.level, Level::Ok);
    h.mark_seen(["pod_not_ready"], t0);
    let r1 = row(
        &pod,
        Some(&h),
        &rules,
        t0 + jiff::SignedDuration::from_mins(3),
    );
    assert_eq!(r1.level, Level::Warning);
    assert!(
        r1.reasons[0]
            .text
            .starts_with("Running but not Ready for 3m")
    );
}

#[test]
fn build_rows_tracks_restarts_per_pod_and_forgets_deleted_pods() {
    let rules = PodRules::default();
    let mut pod = fixture("running");
    let mut hist = HashMap::new();
    let t0 = now();
    let rows = build_rows(&[compact(&pod)], &mut hist, &rules, t0);
    assert_eq!(rows[0].level, Level::Ok);
    if let Some(cs) = pod
        .status
        .as_mut()
        .and_then(|s| s.container_statuses.as_mut())
    {
        cs[0].restart_count = 1;
    }
    let rows = build_rows(
        &[compact(&pod)],
        &mut hist,
        &rules,
        t0 + jiff::SignedDuration::from_secs(30),
    );
    assert_eq!(rows[0].level, Level::Warning);
    assert_eq!(hist.len(), 1);
    build_rows(&[], &mut hist, &rules, t0);
    assert!(hist.is_empty());
}

#[test]
fn default_sort_is_danger_then_most_recent_trouble() {
    let mut rows: Vec<PodRow> = [
        "running",
        "crashloop_error",
        "image_pull_backoff",
        "crashloop_oom",
        "not_ready",
    ]
    .iter()
    .map(|n| r(n))
    .collect();
    sort_by_danger(&mut rows);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            // Both critical; the OOM 3m ago is more recent than a 40m-old crash loop.
            "checkout-6c8d7f9b4-qw7rt",
            "worker-5b7c9d8f6-ab12c",
            // Warnings: not ready since 5m ago is more recent than the 8m image pull.
            "api-7d9f8b6c5d-nr5mn",
            "web-5f6d7c8b9-zz9k1",
            "api-7d9f8b6c5d-x2k9p",
        ]
    );
}

#[test]
fn conditions_for_alerts_and_check() {
    let rows = vec![r("crashloop_oom"), r("running"), r("terminating")];
    let conds = evaluate(&rows);
    assert_eq!(conds.len(), 4, "{conds:?}");
    assert!(conds.iter().all(|c| c.breached));
    let c = &conds[0];
    assert_eq!(c.key.rule, "pod_waiting_reason");
    assert_eq!(c.key.subject, "shop/checkout-6c8d7f9b4-qw7rt");
    assert_eq!(c.key.level, Level::Critical);
    assert!(c.message.contains("CrashLoopBackOff for 14m"));
    let checks = ondeck::rules::one_shot(&conds);
    assert_eq!(checks[0].level, Level::Critical);
    assert!(checks.iter().any(|c| c.name == "pod_terminating"));
    let json = ondeck::sources::kube::check_json(&rows, now());
    assert_eq!(json[0]["level"], "critical");
    assert_eq!(json[0]["restarts_text"], "7 (3m ago)");
    assert_eq!(json[1]["reasons"].as_array().map(Vec::len), Some(0));
}

#[test]
fn kubectl_human_durations() {
    let d = |s: i64| human_duration(jiff::SignedDuration::from_secs(s));
    assert_eq!(d(-5), "<invalid>");
    assert_eq!(d(-1), "0s");
    assert_eq!(d(119), "119s");
    assert_eq!(d(120), "2m");
    assert_eq!(d(190), "3m10s");
    assert_eq!(d(600), "10m");
    assert_eq!(d(179 * 60), "179m");
    assert_eq!(d(3 * 3600 + 5 * 60), "3h5m");
    assert_eq!(d(8 * 3600), "8h");
    assert_eq!(d(47 * 3600), "47h");
    assert_eq!(d(50 * 3600), "2d2h");
    assert_eq!(d(10 * 86_400), "10d");
    assert_eq!(d(800 * 86_400), "2y70d");
    assert_eq!(d(9 * 365 * 86_400), "9y");
    assert_eq!(r("running").age_text(now()), "120m");
}

#[test]
fn compact_pods_give_the_same_rows_details_and_logs_plan_as_the_api_objects() {
    let dir = format!("{}/tests/fixtures/pods", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(String::from)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    let rules = PodRules::default();
    let mut interner = Interner::default();
    for name in &names {
        let pod = fixture(name);
        let c = CompactPod::from_pod(&pod, &mut interner);
        let back = c.to_pod();
        assert_eq!(kubectl_status(&back), kubectl_status(&pod), "{name}");
        let h = PodHistory::default();
        assert_eq!(
            row(&back, Some(&h), &rules, now()),
            row(&pod, Some(&h), &rules, now()),
            "{name}"
        );
        assert_eq!(
            c.containers(),
            ondeck::domain::pods::containers_of(&pod),
            "{name}: containers, probes, limits"
        );
        assert_eq!(
            ondeck::sources::kube::logs::plan(&c, true),
            {
                let container = ondeck::sources::kube::logs::default_container(&pod);
                container.map(|k| {
                    let prev = ondeck::sources::kube::logs::has_previous(&pod, &k);
                    (k, prev)
                })
            },
            "{name}: logs plan"
        );
        let d1 = ondeck::sources::kube::detail::pod_detail(&back, r(name), vec![]);
        let d2 = ondeck::sources::kube::detail::pod_detail(&pod, r(name), vec![]);
        assert_eq!(
            (d1.ip, d1.qos, d1.conditions),
            (d2.ip, d2.qos, d2.conditions),
            "{name}"
        );
    }
    // Namespaces, images and phases are shared, not copied per pod.
    let a = CompactPod::from_pod(&fixture("running"), &mut interner);
    let b = CompactPod::from_pod(&fixture("not_ready"), &mut interner);
    assert!(Clean::ptr_eq(&a.namespace, &b.namespace));
    // The fixed part of a pod (its lists and strings are on the heap, sized to what they hold).
    assert!(std::mem::size_of::<CompactPod>() < 512);
}

#[test]
fn claim_users_come_from_compact_pods_and_skip_ondeck_helpers() {
    let pod = fixture("running");
    let mut with_pvc: serde_json::Value = serde_json::to_value(&pod).expect("pod serializes");
    with_pvc["spec"]["volumes"]
        .as_array_mut()
        .expect("volumes")
        .push(
            serde_json::json!({"name": "data", "persistentVolumeClaim": {"claimName": "api-data"}}),
        );
    with_pvc["spec"]["containers"][0]["volumeMounts"]
        .as_array_mut()
        .expect("mounts")
        .push(serde_json::json!({"name": "data", "mountPath": "/var/lib/api"}));
    let pvc_pod: Pod = serde_json::from_value(with_pvc.clone()).expect("pod");
    with_pvc["metadata"]["name"] = "ondeck-backup-x".into();
    with_pvc["metadata"]["labels"] = serde_json::json!({"app.kubernetes.io/managed-by": "ondeck"});
    let helper: Pod = serde_json::from_value(with_pvc).expect("pod");
    let users = claim_users([compact(&pvc_pod), compact(&helper), compact(&pod)]);
    assert_eq!(users.len(), 1);
    let u = &users[&("shop".to_string(), "api-data".to_string())];
    assert_eq!(u.len(), 1, "ondeck's own helper pod is no user: {u:?}");
    assert_eq!(u[0].pod, "api-7d9f8b6c5d-x2k9p");
    assert_eq!(u[0].mounts, ["api:/var/lib/api"]);
    assert_eq!(u[0].phase.as_deref(), Some("Running"));
    // Only claim mounts are kept.
    let c = compact(&pvc_pod);
    assert_eq!(c.containers[0].mounts.len(), 1);
}

#[test]
fn trouble_seen_to_start_is_not_older_than_the_last_healthy_observation() {
    // Healthy when first observed; then crash-looping with a Ready condition whose
    // lastTransitionTime was never updated (days old): the reason must not claim "for 4d".
    let rules = PodRules::default();
    let healthy = fixture("running");
    let mut crashing = fixture("crashloop_oom");
    crashing.metadata = healthy.metadata.clone();
    if let Some(c) = crashing.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        for c in c.iter_mut() {
            c.last_transition_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-11-17T10:00:00Z".parse().expect("ts"),
            ));
        }
    }
    let mut hist = HashMap::new();
    let t0 = now();
    build_rows(&[compact(&healthy)], &mut hist, &rules, t0);
    let t1 = t0 + jiff::SignedDuration::from_mins(30);
    let rows = build_rows(&[compact(&crashing)], &mut hist, &rules, t1);
    assert!(
        rows[0].reasons[0]
            .text
            .starts_with("CrashLoopBackOff for 0s"),
        "{:?}",
        rows[0].reasons
    );
    let rows = build_rows(
        &[compact(&crashing)],
        &mut hist,
        &rules,
        t1 + jiff::SignedDuration::from_mins(5),
    );
    assert!(
        rows[0].reasons[0]
            .text
            .starts_with("CrashLoopBackOff for 5m"),
        "{:?}",
        rows[0].reasons
    );
}

#[test]
fn detail_has_containers_with_state_last_state_probes_limits_and_conditions() {
    let pod = fixture("crashloop_oom");
    let mut row = r("crashloop_oom");
    assert!(
        row.containers().is_empty(),
        "no pod attached: nothing to show"
    );
    row.pod = Some(compact(&pod));
    let containers = row.containers();
    let c = &containers[0];
    assert_eq!(c.name, "api");
    assert_eq!(c.role, "app");
    assert_eq!(c.restarts, 7);
    assert!(
        c.state
            .starts_with("Waiting: CrashLoopBackOff: back-off 5m0s")
    );
    let last = c.last_state.as_ref().expect("last state");
    assert_eq!(
        (last.reason.as_deref(), last.exit_code),
        (Some("OOMKilled"), 137)
    );
    assert_eq!(
        last.finished_at,
        Some("2026-11-21T09:57:00Z".parse().expect("ts"))
    );
    assert_eq!(
        c.probes,
        ["readiness: http-get :8080/healthz delay=0s timeout=1s period=10s #failure=3"]
    );
    assert_eq!(c.limits.as_deref(), Some("cpu 500m, memory 256Mi"));
    let d = ondeck::sources::kube::detail::pod_detail(&pod, row.clone(), vec![]);
    assert_eq!(d.ip.as_deref(), Some("10.244.1.23"));
    let ready = d
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready condition");
    assert_eq!(ready.status, "False");
    // Sidecars are labelled as such and come first.
    let side = ondeck::domain::pods::containers_of(&fixture("sidecar"));
    assert_eq!(
        side.iter()
            .map(|c| (c.name.as_str(), c.role))
            .collect::<Vec<_>>(),
        [("proxy", "sidecar"), ("api", "app")]
    );
    // `check` JSON does not carry the containers.
    let json = ondeck::sources::kube::check_json(&[row], now());
    assert!(json[0].get("containers").is_none());
}

#[test]
fn the_row_book_evaluates_only_what_changed_or_what_time_can_change() {
    use ondeck::sources::kube::pods::{PodStore, RECHECK, RECHECK_CRITICAL, RowBook};
    let rules = PodRules::default();
    let mut interner = Interner::default();
    let names = ["running", "crashloop_oom", "completed", "not_ready"];
    let store = PodStore::from_pods(
        names
            .iter()
            .map(|n| CompactPod::from_pod(&fixture(n), &mut interner)),
    );
    let mut book = RowBook::default();
    let t0 = now();
    assert!(book.apply(store.take_changes(), &rules, t0), "new rows");
    assert_eq!(book.evaluations(), 4);
    assert_eq!(book.rows().len(), 4);
    // Nothing changed in the store: nothing to do.
    assert!(!book.apply(store.take_changes(), &rules, t0));
    assert_eq!(book.evaluations(), 4);
    // Before the recheck time: nothing evaluated again.
    let soon = t0 + jiff::SignedDuration::from_secs(1);
    assert!(!book.recheck(&rules, soon));
    assert_eq!(book.evaluations(), 4);
    // At RECHECK: nothing yet. The running and the completed pod cannot change with time
    // alone; the not-ready pod (not ready since 09:55, "for 5m") and the crash-looping one
    // (critical already) can only change their wording, next at 10:01:00 (t0 + 60 s), and no
    // threshold or window of theirs is reached before then.
    let soon = t0 + jiff::SignedDuration::try_from(RECHECK).expect("fits");
    assert!(!book.recheck(&rules, soon), "same verdict, only older");
    assert_eq!(book.evaluations(), 4);
    // At RECHECK_CRITICAL (the wording's next change): the crash-looping and the not-ready pod.
    assert!(RECHECK_CRITICAL > RECHECK);
    let later = t0 + jiff::SignedDuration::try_from(RECHECK_CRITICAL).expect("fits");
    let material = book.recheck(&rules, later);
    assert_eq!(book.evaluations(), 6);
    assert!(!material, "same verdicts, only older");
    // A relist with the same pods evaluates nothing; one that lost a pod drops its row.
    let fewer = PodStore::from_pods(
        names[..3]
            .iter()
            .map(|n| CompactPod::from_pod(&fixture(n), &mut interner)),
    );
    assert!(
        book.apply(fewer.take_changes(), &rules, later),
        "a row went"
    );
    assert_eq!(book.evaluations(), 6);
    let rows = book.rows();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].name, "checkout-6c8d7f9b4-qw7rt",
        "still sorted by danger"
    );
    assert!(rows[0].pod.is_some(), "rows carry their compact pod");
}

#[test]
fn the_row_book_evaluates_a_pod_again_by_the_time_its_verdict_flips() {
    use ondeck::sources::kube::pods::{PodStore, RowBook};
    let rules = PodRules::default();
    let mut interner = Interner::default();
    // Deleted at 10:00:29 with a 30 s grace: terminating since 09:59:59, so "Terminating for
    // longer than 5m" becomes true just after 10:04:59.
    let store = PodStore::from_pods([CompactPod::from_pod(
        &fixture("terminating_fresh"),
        &mut interner,
    )]);
    let mut book = RowBook::default();
    let t0 = now();
    assert!(book.apply(store.take_changes(), &rules, t0));
    let terminating = |book: &mut RowBook| {
        book.rows()[0]
            .reasons
            .iter()
            .any(|r| r.rule == PodRule::Terminating)
    };
    assert!(!terminating(&mut book), "not yet at 10:00:00");
    let flip: jiff::Timestamp = "2026-11-21T10:04:59.000000001Z".parse().expect("valid");
    // The clock ticks every second; the pod is nothing but older until the flip.
    let mut at = t0;
    let mut material = false;
    while at < flip {
        at += jiff::SignedDuration::from_secs(1);
        material |= book.recheck(&rules, at);
        if at < flip {
            assert!(!terminating(&mut book), "not before the flip ({at})");
        }
    }
    assert!(material, "the new reason is a material change");
    assert!(
        terminating(&mut book),
        "evaluated again by the first tick after the flip ({at})"
    );
    // Not every second meanwhile: at most once a minute and at the flip (today's 10 s cadence
    // would be 30 evaluations).
    assert!(
        book.evaluations() <= 7,
        "{} evaluations in 5 minutes",
        book.evaluations()
    );
}

#[test]
fn a_pod_that_turns_not_ready_while_watched_is_flagged_once_past_the_threshold() {
    use ondeck::sources::kube::pods::evaluate_pod;
    let rules = PodRules::default(); // not ready for longer than 2m -> warning
    let mut interner = Interner::default();
    let mut history = PodHistory::default();
    // The same pod, first Ready, then not Ready since 09:59:00.
    let not_ready = fixture("not_ready_fresh");
    let mut ready = not_ready.clone();
    for c in ready
        .status
        .as_mut()
        .and_then(|s| s.conditions.as_mut())
        .expect("conditions")
    {
        if c.type_ == "Ready" || c.type_ == "ContainersReady" {
            c.status = "True".into();
            c.reason = None;
            c.message = None;
        }
    }
    let at = |s: &str| -> Timestamp { s.parse().expect("valid") };
    let has_not_ready = |r: &PodRow| r.reasons.iter().any(|x| x.rule == PodRule::NotReady);
    let ready = Arc::new(CompactPod::from_pod(&ready, &mut interner));
    let not_ready = Arc::new(CompactPod::from_pod(&not_ready, &mut interner));
    let r = evaluate_pod(&ready, &mut history, &rules, at("2026-11-21T09:58:00Z"));
    assert!(!has_not_ready(&r), "ready at first");
    let r = evaluate_pod(&not_ready, &mut history, &rules, at("2026-11-21T09:59:00Z"));
    assert!(
        !has_not_ready(&r),
        "just turned not ready: below the threshold"
    );
    let r = evaluate_pod(&not_ready, &mut history, &rules, at("2026-11-21T10:00:30Z"));
    assert!(!has_not_ready(&r), "1m30s: still below the threshold");
    let r = evaluate_pod(&not_ready, &mut history, &rules, at("2026-11-21T10:01:30Z"));
    let reason = r
        .reasons
        .iter()
        .find(|x| x.rule == PodRule::NotReady)
        .unwrap_or_else(|| panic!("not ready for 2m30s is a warning: {:?}", r.reasons));
    assert_eq!(reason.level, Level::Warning);
    assert!(
        reason.text.starts_with("Running but not Ready for 2m"),
        "{}",
        reason.text
    );
}

/// Memory proportional to the pods: a console row points at its compact pod's text (names,
/// node, owner, phase) and two pods' identical READY/STATUS share one string, rather than each
/// row keeping copies.
#[test]
fn the_row_book_shares_text_with_the_compact_pods() {
    use ondeck::sources::kube::pods::{PodStore, RowBook};
    let rules = PodRules::default();
    let mut interner = Interner::default();
    let mut second = fixture("running");
    second.metadata.name = Some("api-2".into());
    let pods = [
        CompactPod::from_pod(&fixture("running"), &mut interner),
        CompactPod::from_pod(&second, &mut interner),
    ];
    let store = PodStore::from_pods(pods);
    let mut book = RowBook::default();
    assert!(book.apply(store.take_changes(), &rules, now()));
    let rows = book.rows();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let pod = r
            .pod
            .as_ref()
            .expect("a console row carries its compact pod");
        assert!(Clean::ptr_eq(&r.name, &pod.name), "name copied");
        assert!(
            Clean::ptr_eq(&r.namespace, &pod.namespace),
            "namespace copied"
        );
        if let (Some(n), Some(p)) = (&r.node, &pod.node) {
            assert!(Clean::ptr_eq(n, p), "node copied");
        }
        if let (Some(o), Some((kind, name))) = (&r.owner, &pod.owner) {
            assert!(Clean::ptr_eq(&o.kind, kind) && Clean::ptr_eq(&o.name, name));
        }
    }
    assert_eq!(rows[0].status, rows[1].status);
    assert!(
        Clean::ptr_eq(&rows[0].status, &rows[1].status),
        "STATUS not shared"
    );
    assert!(
        Clean::ptr_eq(&rows[0].ready, &rows[1].ready),
        "READY not shared"
    );
}
