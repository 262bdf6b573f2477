//! PVC safety against a simulated cluster whose controllers behave like the real ones
//! (issue 11): a restore that cannot hand a retained volume to another claim, helper pods
//! that fail fast and say why, Pod Security `restricted`, changes said, exec failures
//! classified, and a wrong `--confirm` that sends nothing.

mod pvc_support;

use ondeck::actions::ActionError;
use ondeck::actions::PvcRef;
use ondeck::actions::backup::{self, BackupStage, FAILED_FILE, VerifiedBackup};
use ondeck::actions::cli::{PvcCommand, PvcGlobals, main};
use ondeck::actions::flow::{FlowEvent, FlowInput};
use ondeck::actions::preflight;
use ondeck::actions::rescue::rescue;
use ondeck::actions::restore::{self, RestoreOptions};
use ondeck::sim::{Fault, Kind};
use pvc_support::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PV: &str = "pv-orders";
/// Unused claim whose PV has reclaimPolicy Delete (incident scenario): a backup needs a helper.
const UNUSED: &str = "monitoring/grafana-data-old";

fn restore_options() -> RestoreOptions {
    RestoreOptions {
        helper_image: "busybox".into(),
        helper_start_timeout: Duration::from_secs(15),
        no_progress_timeout: Duration::from_secs(5),
        bind_timeout: Duration::from_secs(15),
    }
}

fn has_tty() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

fn globals(f: &Fixture) -> PvcGlobals {
    let mut config = ondeck::config::Config::default();
    config.backup.dir = Some(f.dir.path().join("backups"));
    config.backup.no_progress_timeout =
        ondeck::config::HumanDuration(std::time::Duration::from_secs(5));
    PvcGlobals {
        kubeconfig: Some(f.kubeconfig.clone()),
        context: None,
        read_only: false,
        config,
        audit_log: Some(f.audit_path()),
    }
}

async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Proves the simulated PV controller ran a full pass after this point: a new claim of the
/// `barrier` class binds to `pv-barrier` (nothing else can), in the same pass that would
/// have bound any other Pending claim to an Available volume.
async fn controller_pass(f: &Fixture, n: u32) {
    let name = format!("barrier-{n}");
    f.sim.state().create(
        Kind::PersistentVolumeClaim,
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "other"},
            "spec": {"storageClassName": "barrier", "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}),
    );
    wait_for("the barrier claim to bind", Duration::from_secs(10), || {
        f.sim
            .state()
            .get(Kind::PersistentVolumeClaim, "other", &name)
            .is_some_and(|c| c["status"]["phase"] == "Bound")
    })
    .await;
    // Let the volume go again for the next barrier.
    f.sim
        .state()
        .remove(Kind::PersistentVolumeClaim, "other", &name);
    f.sim
        .state()
        .modify(Kind::PersistentVolume, "", "pv-barrier", |v| {
            v["spec"]["claimRef"] = serde_json::Value::Null;
            v["status"] = json!({"phase": "Available"});
        });
}

fn phase_of(f: &Fixture, ns: &str, name: &str) -> String {
    f.sim
        .state()
        .get(Kind::PersistentVolumeClaim, ns, name)
        .and_then(|c| c["status"]["phase"].as_str().map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_refused_by_quota_leaves_the_volume_to_nobody_with_its_claim_ref_as_before()
-> TestResult {
    let f = fixture("safety", false).await?;
    let before = f.pv(PV).ok_or("pv")?;
    let data = digest_tree(&f.sim.volume_path(PV).ok_or("volume")?)?;
    assert!(!data.is_empty());
    assert_eq!(phase_of(&f, "other", "grabber"), "Pending");

    let code = main(
        globals(&f),
        PvcCommand::Restore {
            target: "shop/orders".parse()?,
            from_pv: Some(PV.into()),
            from_backup: None,
        },
    )
    .await;
    assert_eq!(code, 1, "a quota refusal is a refusal");

    // The create was refused with the quota plugin's words, after the PV was pre-bound and
    // before it was put back.
    let log = f.sim.request_log();
    let refused = log
        .iter()
        .find(|r| r.verb == "create" && r.resource == "persistentvolumeclaims")
        .ok_or("no create")?;
    assert_eq!(refused.status, 403);
    let pv_patches: Vec<u16> = log
        .iter()
        .filter(|r| r.verb == "patch" && r.resource == "persistentvolumes")
        .map(|r| r.status)
        .collect();
    // Pre-bind, then put back (a put-back that races the PV controller's own update gets a
    // 409 and is sent again with the fresh resourceVersion).
    assert!(
        pv_patches.len() >= 2
            && pv_patches.first() == Some(&200)
            && pv_patches.last() == Some(&200)
            && pv_patches[1..pv_patches.len() - 1]
                .iter()
                .all(|c| *c == 409),
        "{pv_patches:?}"
    );

    controller_pass(&f, 1).await;
    let after = f.pv(PV).ok_or("pv")?;
    assert_eq!(
        after["spec"]["claimRef"], before["spec"]["claimRef"],
        "claimRef as before"
    );
    assert_eq!(after["status"]["phase"], "Released");
    assert_eq!(
        phase_of(&f, "other", "grabber"),
        "Pending",
        "nobody took it"
    );
    assert_eq!(
        after["spec"]["persistentVolumeReclaimPolicy"], "Retain",
        "Retain kept"
    );
    assert_eq!(digest_tree(&f.sim.volume_path(PV).ok_or("volume")?)?, data);

    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["pv"], PV, "the PV is audited");
    let outcome = audit[0]["outcome"].as_str().unwrap_or("");
    assert!(
        outcome.contains("exceeded quota: no-more-claims"),
        "{outcome}"
    );
    assert!(outcome.contains("put back as it was"), "{outcome}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_refusal_has_the_real_plugins_body() -> TestResult {
    let f = fixture("safety", false).await?;
    let claim: k8s_openapi::api::core::v1::PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "x", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
            "resources": {"requests": {"storage": "1Gi"}}}}))?;
    let Err(e) = f.exec.create_pvc(&claim).await else {
        return Err("the quota let the claim in".into());
    };
    assert_eq!(
        e.to_string(),
        "create PVC shop/x: forbidden by the API server: persistentvolumeclaims \"x\" is forbidden: exceeded quota: no-more-claims, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=0, limited: persistentvolumeclaims=0"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_pre_binds_so_the_pending_claim_never_gets_the_volume() -> TestResult {
    let f = fixture("safety", false).await?;
    let data = digest_tree(&f.sim.volume_path(PV).ok_or("volume")?)?;
    let target: PvcRef = "other/orders-restored".parse()?;
    let report = restore::rebind(&f.exec, &target, PV, None, &restore_options()).await?;
    assert_eq!(report.pv.as_deref(), Some(PV));
    assert_eq!(f.pv_of("other", "orders-restored").as_deref(), Some(PV));
    controller_pass(&f, 1).await;
    assert_eq!(phase_of(&f, "other", "grabber"), "Pending");
    let pv = f.pv(PV).ok_or("pv")?;
    assert_eq!(pv["spec"]["claimRef"]["name"], "orders-restored");
    assert_eq!(digest_tree(&f.sim.volume_path(PV).ok_or("volume")?)?, data);
    // Said: the pre-bind (with how to undo it) and the new claim.
    let changes = f.exec.changes().all();
    assert!(
        changes[0].text.contains("claimRef shop/orders") && changes[0].undo.is_some(),
        "{changes:?}"
    );
    assert!(
        changes[1]
            .text
            .contains("created claim other/orders-restored"),
        "{changes:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pv_whose_claim_ref_names_a_live_claim_is_refused_and_not_touched() -> TestResult {
    let f = fixture("safety", false).await?;
    let live = f
        .sim
        .state()
        .get(Kind::PersistentVolumeClaim, "secure", "vault-data")
        .ok_or("claim")?;
    let uid = live["metadata"]["uid"].clone();
    f.sim.state().modify(Kind::PersistentVolume, "", PV, |v| {
        v["spec"]["claimRef"] = json!({"kind": "PersistentVolumeClaim", "apiVersion": "v1",
            "namespace": "secure", "name": "vault-data", "uid": uid});
    });
    let e = restore::rebind(
        &f.exec,
        &"other/orders-restored".parse()?,
        PV,
        None,
        &restore_options(),
    )
    .await
    .err()
    .ok_or("a PV of a live claim was re-bound")?;
    assert!(
        matches!(&e, ActionError::Refused(m) if m.contains("live claim secure/vault-data")),
        "{e}"
    );
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    Ok(())
}

/// Runs the delete flow with `fault` and a long start timeout: the flow must fail on the
/// pod's own reason, long before the timeout.
async fn helper_fails_fast(fault: Fault, reasons: &[&str]) -> TestResult {
    let f = fixture("incident", false).await?;
    f.sim.faults().add(fault);
    let mut req = f.request(UNUSED)?;
    req.backup.helper_start_timeout = Duration::from_secs(120);
    let (ns, name) = UNUSED.split_once('/').ok_or("ref")?;
    let pv = f.pv_of(ns, name).ok_or("pv")?;
    let started = Instant::now();
    let (res, events) = f
        .run_flow(&req, |ev| match ev {
            FlowEvent::AwaitingName { .. } => Some(FlowInput::ConfirmName(UNUSED.into())),
            _ => None,
        })
        .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let reason = match &res.outcome {
        Err(ActionError::Backup(m)) => m.clone(),
        other => return Err(format!("{other:?}").into()),
    };
    assert!(
        reasons.iter().any(|r| reason.contains(r)),
        "{reason} names none of {reasons:?}"
    );
    assert!(reason.contains("will not start"), "{reason}");
    // The helper was removed, and that was said; nothing was deleted; the PV is as before.
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());
    let said: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            FlowEvent::Progress(p) => p.change.as_ref().map(|c| c.text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        said.iter().any(|c| c.starts_with("created helper pod")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|c| c.starts_with("removed helper pod")),
        "{said:?}"
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists(ns, name));
    assert_eq!(
        f.pv(&pv)
            .and_then(|p| p.pointer("/spec/persistentVolumeReclaimPolicy").cloned()),
        Some("Delete".into())
    );
    // Watched, not polled: a watch on pods, and (almost) no GETs of the helper.
    let log = f.sim.request_log();
    assert!(
        log.iter()
            .any(|r| r.verb == "watch" && r.resource == "pods"),
        "no watch"
    );
    let gets = log
        .iter()
        .filter(|r| {
            r.verb == "get"
                && r.resource == "pods"
                && r.name.as_deref().is_some_and(|n| n.starts_with("ondeck-"))
        })
        .count();
    assert!(gets <= 2, "{gets} GETs of the helper pod");
    // The waiting was shown with a countdown.
    assert!(
        events.iter().any(
            |e| matches!(e, FlowEvent::Progress(p) if p.waiting.is_some() && p.time_left.is_some())
        ) || took < Duration::from_secs(1),
        "no countdown shown"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unschedulable_helper_fails_within_seconds_naming_the_scheduler() -> TestResult {
    helper_fails_fast(
        Fault::Unschedulable,
        &["Unschedulable", "untolerated taint"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_pull_backoff_helper_fails_within_seconds_naming_it() -> TestResult {
    helper_fails_fast(
        Fault::ImagePullBackOff(Some("busybox".into())),
        &["ErrImagePull", "ImagePullBackOff"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_namespace_admits_the_helper_and_the_backup_verifies() -> TestResult {
    let f = fixture("safety", false).await?;
    // The sim enforces restricted: the old root helper is refused with the plugin's words.
    let root = ondeck::actions::helper_pod::helper_pod_spec(
        "secure",
        "vault-data",
        "busybox",
        true,
        "backup",
    );
    let Err(ActionError::Forbidden { message, .. }) = f.exec.create_pod(&root).await else {
        return Err("a root helper was admitted in a restricted namespace".into());
    };
    assert!(
        message.contains("violates PodSecurity \"restricted:latest\"")
            && message.contains("unrestricted capabilities")
            && message.contains("runAsNonRoot != true"),
        "{message}"
    );
    f.sim.clear_request_log();

    let pvc: PvcRef = "secure/vault-data".parse()?;
    let pf = preflight::preflight(&f.exec, &pvc).await?;
    let b = backup::backup(
        &f.exec,
        &pf,
        &f.backup_options(),
        &|_| {},
        &CancellationToken::new(),
    )
    .await?;
    assert!(b.manifest.source.helper, "through a helper");
    let pv = f.pv_of("secure", "vault-data").ok_or("pv")?;
    let on_disk = digest_tree(&f.sim.volume_path(&pv).ok_or("volume")?)?;
    assert_eq!(manifest_tree(&b.manifest.summary), on_disk);
    VerifiedBackup::load(&b.dir)?;
    let creates: Vec<u16> = f
        .sim
        .request_log()
        .iter()
        .filter(|r| r.verb == "create" && r.resource == "pods")
        .map(|r| r.status)
        .collect();
    assert_eq!(creates, vec![201], "admitted at the first try");
    assert!(f.live_helpers().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_confirm_sends_nothing_at_all() -> TestResult {
    if has_tty() {
        eprintln!("skipped: a terminal is attached (the name would be read from it)");
        return Ok(());
    }
    let f = fixture("incident", false).await?;
    for confirm in [Some("monitoring/grafana-data"), None] {
        let code = main(
            globals(&f),
            PvcCommand::Delete {
                target: UNUSED.parse()?,
                allow_in_use: false,
                confirm: confirm.map(str::to_string),
                keep_reclaim_policy: false,
            },
        )
        .await;
        assert_eq!(code, 1);
    }
    let log = f.sim.request_log();
    assert!(
        !log.iter()
            .any(|r| r.verb == "create" && r.resource == "pods"),
        "a helper was created"
    );
    assert!(!log.iter().any(|r| r.verb == "patch"), "a patch was sent");
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_that_cannot_start_is_not_a_tar_exit_code_and_the_retain_switch_is_said()
-> TestResult {
    let f = fixture("incident", false).await?;
    f.sim.faults().add(Fault::ExecFail);
    let pvc: PvcRef = "logging/loki-storage".parse()?;
    let seen = std::sync::Mutex::new(Vec::new());
    let r = rescue(
        &f.exec,
        &f.source,
        &pvc,
        &f.backup_options(),
        &|p| {
            if p.stage == BackupStage::Changed
                && let Some(c) = p.change
            {
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(c.text);
            }
        },
        &CancellationToken::new(),
        Some(&f.audit_path()),
    )
    .await;
    let e = r.err().ok_or("the rescue succeeded without a kubelet")?;
    let text = e.to_string();
    assert!(matches!(e, ActionError::ExecStart { .. }), "{text}");
    assert!(
        text.starts_with("exec could not start in pod loki-0"),
        "{text}"
    );
    assert!(
        !text.contains("exit code") && !text.contains("exited"),
        "{text}"
    );
    assert!(text.contains("connection refused"), "{text}");
    // The Retain switch happened before the exec and is said, then and in the failure.
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        seen.iter()
            .any(|c| c.contains("reclaimPolicy Delete -> Retain")),
        "{seen:?}"
    );
    assert!(
        text.contains("changes that remain") && text.contains("reclaimPolicy Delete -> Retain"),
        "{text}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_from_a_failed_backup_says_so_plainly() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join(FAILED_FILE),
        r#"{"status":"failed","reason":"no data for 5s from pod x (no-progress timeout)","at":"2026-12-01T10:00:00Z"}"#,
    )?;
    let e = VerifiedBackup::load(dir.path())
        .err()
        .ok_or("a failed backup loaded")?;
    let text = e.to_string();
    assert!(
        text.contains("FAILED") && text.contains("no-progress timeout"),
        "{text}"
    );
    assert!(!text.contains("No such file"), "{text}");
    let partial = tempfile::tempdir()?;
    std::fs::write(partial.path().join("data.tar.gz.partial"), b"\x1f\x8b")?;
    let text = VerifiedBackup::load(partial.path())
        .err()
        .ok_or("a partial backup loaded")?
        .to_string();
    assert!(text.contains("PARTIAL"), "{text}");
    Ok(())
}

#[test]
fn a_helper_pod_is_never_a_user_of_its_claim_in_the_pane() -> TestResult {
    use ondeck::domain::compact::CompactPod;
    use ondeck::domain::text::Interner;
    use ondeck::sources::kube::pods::claim_users;
    let helper = ondeck::actions::helper_pod::helper_pod_spec(
        "monitoring",
        "grafana-data-old",
        "busybox",
        true,
        "backup",
    );
    let app: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "metadata": {"name": "app-0", "namespace": "monitoring", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "app", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "grafana-data-old"}}]}}))?;
    // As the pods store keeps them: compact rows.
    let mut interner = Interner::default();
    let helper = CompactPod::from_pod(&helper, &mut interner);
    let app = CompactPod::from_pod(&app, &mut interner);
    let users = claim_users([&helper]);
    assert!(users.is_empty(), "{users:?}");
    let users = claim_users([&helper, &app]);
    let key = ("monitoring".to_string(), "grafana-data-old".to_string());
    let names: Vec<&str> = users
        .get(&key)
        .map(|u| u.iter().map(|c| c.pod.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["app-0"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_refused_before_the_upgrade_is_classified_as_not_started() -> TestResult {
    let f = fixture("incident", false).await?;
    f.sim.faults().add("forbid=create:pods/exec".parse()?);
    let e = f
        .exec
        .exec("logging", "loki-0", None, vec!["ls".into()], false)
        .await
        .err()
        .ok_or("exec started although forbidden")?;
    let text = e.to_string();
    assert!(matches!(e, ActionError::ExecStart { .. }), "{text}");
    assert!(
        text.starts_with("exec could not start in pod loki-0: pods \"loki-0\" is forbidden: User \"oncall@example.com\" cannot create resource \"pods/exec\""),
        "{text}"
    );
    assert!(text.ends_with("(403)"), "{text}");
    Ok(())
}
