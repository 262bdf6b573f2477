//! The guarded delete against the simulated cluster: the happy path and the mistake battery.
//! Every test asserts from the sim's request log and state that nothing was lost.

mod pvc_support;

use ondeck::actions::ActionError;
use ondeck::actions::backup::{ARCHIVE_FILE, FAILED_FILE, MANIFEST_FILE};
use ondeck::actions::delete::DeleteOutcome;
use ondeck::actions::flow::{FlowEvent, FlowInput};
use ondeck::sim::Fault;
use pvc_support::*;
use std::time::Duration;

const UNUSED: &str = "monitoring/grafana-data-old";
const IN_USE: &str = "monitoring/grafana-data";

fn confirm_with(name: &'static str) -> impl FnMut(&FlowEvent) -> Option<FlowInput> {
    move |ev| match ev {
        FlowEvent::AwaitingName { .. } => Some(FlowInput::ConfirmName(name.into())),
        _ => None,
    }
}

/// The backup directories made under the fixture, with their files.
fn backup_dirs(f: &Fixture, pvc: &str) -> Vec<std::path::PathBuf> {
    let root = f.backup_options().dir.join(pvc);
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_unused_pvc_leaves_a_verified_backup_a_retained_pv_and_an_audit_line()
-> TestResult {
    let f = fixture("incident", false).await?;
    let pv = f.pv_of("monitoring", "grafana-data-old").ok_or("no pv")?;
    let before = digest_tree(&f.sim.volume_path(&pv).ok_or("no volume dir")?)?;
    assert!(!before.is_empty());

    let (res, events) = f.run_flow(&f.request(UNUSED)?, confirm_with(UNUSED)).await;
    let outcome = res.outcome?;
    assert_eq!(outcome, DeleteOutcome::Deleted);
    assert!(!f.pvc_exists("monitoring", "grafana-data-old"));

    // Verified archive whose files match the volume byte for byte.
    let backup = res.backup.ok_or("no backup")?;
    assert_eq!(manifest_tree(&backup.manifest.summary), before);
    assert!(backup.dir.join(MANIFEST_FILE).exists() && backup.dir.join("pvc.yaml").exists());
    assert!(backup.dir.join("pv.yaml").exists() && backup.dir.join("storageclass.yaml").exists());
    let reread = ondeck::actions::verify::verify_file(
        &backup.archive,
        Some(&backup.manifest.summary.archive_sha256),
    )?;
    assert_eq!(reread.files, before.len() as u64);
    let pvc_yaml = std::fs::read_to_string(backup.dir.join("pvc.yaml"))?;
    assert!(!pvc_yaml.contains("managedFields"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&backup.dir)?.permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(&backup.archive)?.permissions().mode() & 0o777,
        0o600
    );

    // PV retained, data still there.
    let pv_obj = f.pv(&pv).ok_or("PV gone")?;
    assert_eq!(
        pv_obj
            .pointer("/spec/persistentVolumeReclaimPolicy")
            .and_then(|v| v.as_str()),
        Some("Retain")
    );
    assert!(f.sim.volume_path(&pv).is_some());

    // Server dry-run first, then the real delete, each once.
    assert_eq!(f.pvc_deletes(), vec![(true, 200), (false, 200)]);
    assert!(
        f.live_helpers().is_empty(),
        "helper left behind: {:?}",
        f.live_helpers()
    );
    let delete_query = f
        .sim
        .request_log()
        .into_iter()
        .find(|r| r.verb == "delete" && r.resource == "persistentvolumeclaims" && !r.dry_run);
    assert!(delete_query.is_some());

    // Audit record.
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit.len(), 1);
    let a = &audit[0];
    assert_eq!(a["object"], UNUSED);
    assert_eq!(a["outcome"], "deleted");
    assert_eq!(a["policy_before"], "Delete");
    assert_eq!(a["policy_after"], "Retain");
    assert_eq!(a["sha256"], backup.manifest.summary.archive_sha256.as_str());
    assert_eq!(a["context"], ondeck::sim::CONTEXT);
    assert!(a["kube_user"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, FlowEvent::RetainSet { .. }))
    );
    assert!(matches!(events.last(), Some(FlowEvent::Done { .. })));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_name_typed_deletes_nothing() -> TestResult {
    let f = fixture("incident", false).await?;
    // The incident: the neighbour's name.
    let (res, _) = f.run_flow(&f.request(UNUSED)?, confirm_with(IN_USE)).await;
    assert!(
        matches!(res.outcome, Err(ActionError::Refused(_))),
        "{:?}",
        res.outcome
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(
        f.pvc_exists("monitoring", "grafana-data-old")
            && f.pvc_exists("monitoring", "grafana-data")
    );
    assert!(
        res.backup
            .is_some_and(|b| b.dir.join(ARCHIVE_FILE).exists()),
        "backup kept"
    );
    let audit = audit_lines(&f.audit_path());
    assert!(
        audit[0]["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("aborted"))
    );
    // Near misses too.
    for typo in [
        "monitoring/grafana-data-old ",
        "Monitoring/grafana-data-old",
        "grafana-data-old",
    ] {
        let (res, _) = f
            .run_flow(&f.request(UNUSED)?, move |ev| match ev {
                FlowEvent::AwaitingName { .. } => Some(FlowInput::ConfirmName(typo.into())),
                _ => None,
            })
            .await;
        assert!(res.outcome.is_err(), "{typo:?}");
    }
    assert!(f.pvc_deletes().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_name_pasted_deletes_nothing() -> TestResult {
    let f = fixture("incident", false).await?;
    let (res, _) = f
        .run_flow(&f.request(UNUSED)?, |ev| match ev {
            FlowEvent::AwaitingName { .. } => Some(FlowInput::Pasted),
            _ => None,
        })
        .await;
    assert!(
        matches!(&res.outcome, Err(ActionError::Refused(m)) if m.contains("pasted")),
        "{:?}",
        res.outcome
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pvc_in_use_is_refused_before_anything_is_done() -> TestResult {
    let f = fixture("incident", false).await?;
    let (res, events) = f.run_flow(&f.request(IN_USE)?, confirm_with(IN_USE)).await;
    assert!(
        matches!(&res.outcome, Err(ActionError::Refused(m)) if m.contains("grafana-5d8f7c9b6d-x2k4q") && m.contains("--allow-in-use")),
        "{:?}",
        res.outcome
    );
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    assert!(matches!(&events[0], FlowEvent::Preflight { refusals, .. } if !refusals.is_empty()));
    assert!(f.pvc_exists("monitoring", "grafana-data"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pvc_modified_after_the_preflight_is_not_deleted() -> TestResult {
    let f = fixture("incident", false).await?;
    let state = f.sim.state();
    let (res, _) = f
        .run_flow(&f.request(UNUSED)?, |ev| match ev {
            FlowEvent::AwaitingName { .. } => {
                state.modify(
                    ondeck::sim::Kind::PersistentVolumeClaim,
                    "monitoring",
                    "grafana-data-old",
                    |v| {
                        v["metadata"]["labels"]["touched"] = serde_json::json!("yes");
                    },
                );
                Some(FlowInput::ConfirmName(UNUSED.into()))
            }
            _ => None,
        })
        .await;
    assert!(
        matches!(&res.outcome, Err(ActionError::Changed { .. })),
        "{:?}",
        res.outcome
    );
    assert!(
        res.outcome
            .as_ref()
            .err()
            .is_some_and(|e| e.to_string().contains("changed since the preflight"))
    );
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(
        f.pvc_deletes().iter().all(|(_, status)| *status == 409),
        "{:?}",
        f.pvc_deletes()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_switched_during_the_flow_aborts_it() -> TestResult {
    let f = fixture("incident", false).await?;
    // A second context in the same kubeconfig, pointing elsewhere.
    let original = std::fs::read_to_string(&f.kubeconfig)?;
    let mut kc: serde_json::Value = serde_saphyr::from_str(&original)?;
    let mut cluster = kc["clusters"][0].clone();
    cluster["name"] = "prod".into();
    cluster["cluster"]["server"] = "https://prod.example:6443".into();
    kc["clusters"]
        .as_array_mut()
        .ok_or("clusters")?
        .push(cluster);
    let mut ctx = kc["contexts"][0].clone();
    ctx["name"] = "prod".into();
    ctx["context"]["cluster"] = "prod".into();
    kc["contexts"].as_array_mut().ok_or("contexts")?.push(ctx);
    std::fs::write(&f.kubeconfig, serde_saphyr::to_string(&kc)?)?;
    let path = f.kubeconfig.clone();
    let switched = kc.clone();
    let (res, _) = f
        .run_flow(&f.request(UNUSED)?, move |ev| match ev {
            FlowEvent::AwaitingName { .. } => {
                let mut k = switched.clone();
                k["current-context"] = "prod".into();
                let _ = std::fs::write(&path, serde_saphyr::to_string(&k).unwrap_or_default());
                Some(FlowInput::ConfirmName(UNUSED.into()))
            }
            _ => None,
        })
        .await;
    assert!(
        matches!(&res.outcome, Err(ActionError::ContextChanged { .. })),
        "{:?}",
        res.outcome
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_backup_stream_stops_the_flow_and_leaves_no_archive() -> TestResult {
    let f = fixture("incident", false).await?;
    f.sim.faults().add("exec-break=64KiB".parse::<Fault>()?);
    let (res, events) = f.run_flow(&f.request(UNUSED)?, confirm_with(UNUSED)).await;
    assert!(
        matches!(
            &res.outcome,
            Err(ActionError::Backup(_) | ActionError::Verify(_))
        ),
        "{:?}",
        res.outcome
    );
    assert!(res.backup.is_none());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, FlowEvent::AwaitingName { .. }))
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    let pv = f.pv_of("monitoring", "grafana-data-old").ok_or("pv")?;
    assert_eq!(
        f.pv(&pv)
            .and_then(|p| p.pointer("/spec/persistentVolumeReclaimPolicy").cloned()),
        Some("Delete".into()),
        "no patch after a failed backup"
    );
    let dirs = backup_dirs(&f, UNUSED);
    assert_eq!(dirs.len(), 1);
    assert!(dirs[0].join(FAILED_FILE).exists());
    assert!(!dirs[0].join(ARCHIVE_FILE).exists() && !dirs[0].join(MANIFEST_FILE).exists());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        f.live_helpers().is_empty(),
        "helper left: {:?}",
        f.live_helpers()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_pod_that_never_starts_times_out_and_is_cleaned_up() -> TestResult {
    let f = fixture("incident", false).await?;
    f.sim.faults().add(Fault::NoKubelet);
    let mut req = f.request(UNUSED)?;
    req.backup.helper_start_timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let (res, _) = f.run_flow(&req, confirm_with(UNUSED)).await;
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        matches!(&res.outcome, Err(ActionError::Backup(m)) if m.contains("did not start")),
        "{:?}",
        res.outcome
    );
    let log = f.sim.request_log();
    assert!(
        log.iter()
            .any(|r| r.verb == "create" && r.resource == "pods" && r.status == 201)
    );
    assert!(
        log.iter()
            .any(|r| r.verb == "delete" && r.resource == "pods"),
        "helper delete sent"
    );
    assert!(
        f.live_helpers().is_empty(),
        "helper left: {:?}",
        f.live_helpers()
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_the_backup_stops_cleans_up_and_deletes_nothing() -> TestResult {
    let f = fixture("incident", false).await?;
    let (res, _) = f
        .run_flow(&f.request(UNUSED)?, |ev| match ev {
            FlowEvent::Progress(p)
                if p.stage == ondeck::actions::backup::BackupStage::StartingHelper =>
            {
                Some(FlowInput::Cancel)
            }
            FlowEvent::AwaitingName { .. } => Some(FlowInput::ConfirmName(UNUSED.into())),
            _ => None,
        })
        .await;
    assert!(
        matches!(&res.outcome, Err(ActionError::Cancelled(_))),
        "{:?}",
        res.outcome
    );
    assert!(f.pvc_deletes().is_empty());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(
        f.live_helpers().is_empty(),
        "helper left: {:?}",
        f.live_helpers()
    );
    let dirs = backup_dirs(&f, UNUSED);
    assert!(
        dirs.iter()
            .all(|d| d.join(FAILED_FILE).exists() && !d.join(ARCHIVE_FILE).exists())
    );
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit[0]["outcome"], "cancelled");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_delete_says_so_and_keeps_the_backup() -> TestResult {
    let f = fixture("incident", false).await?;
    let faults = f.sim.faults();
    let (res, _) = f
        .run_flow(&f.request(UNUSED)?, |ev| match ev {
            FlowEvent::AwaitingName { .. } => {
                // RBAC changed after the preflight.
                faults.add(Fault::Forbid {
                    verb: "delete".into(),
                    resource: "persistentvolumeclaims".into(),
                    namespace: None,
                });
                Some(FlowInput::ConfirmName(UNUSED.into()))
            }
            _ => None,
        })
        .await;
    let err = res.outcome.as_ref().err().ok_or("should fail")?;
    assert!(matches!(err, ActionError::Forbidden { .. }), "{err:?}");
    assert!(
        err.to_string().contains("forbidden") && err.to_string().contains("backup kept"),
        "{err}"
    );
    assert!(res.backup.as_ref().is_some_and(|b| b.archive.exists()));
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_refuses_at_the_preflight() -> TestResult {
    let f = fixture("incident", false).await?;
    f.sim
        .faults()
        .add("forbid=delete:persistentvolumeclaims".parse::<Fault>()?);
    let (res, _) = f.run_flow(&f.request(UNUSED)?, confirm_with(UNUSED)).await;
    assert!(
        matches!(&res.outcome, Err(ActionError::Refused(m)) if m.contains("permission missing: delete persistentvolumeclaims")),
        "{:?}",
        res.outcome
    );
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_mutating_request_at_all() -> TestResult {
    let f = fixture("incident", true).await?;
    let (res, events) = f.run_flow(&f.request(UNUSED)?, confirm_with(UNUSED)).await;
    assert!(
        matches!(&res.outcome, Err(ActionError::ReadOnly(_))),
        "{:?}",
        res.outcome
    );
    assert!(
        matches!(&events[0], FlowEvent::Preflight { .. }),
        "the plan is still shown"
    );
    // Whatever asks, the executor refuses.
    let e = &f.exec;
    let pv = f.pv_of("monitoring", "grafana-data-old").ok_or("pv")?;
    assert!(matches!(
        e.delete_pvc_guarded("monitoring", "grafana-data-old", "u", "1", true)
            .await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(matches!(
        e.delete_pvc_guarded("monitoring", "grafana-data-old", "u", "1", false)
            .await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(matches!(
        e.patch_pv_reclaim_policy(&pv, "Retain", None).await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(matches!(
        e.patch_pv_clear_claim_ref(&pv, None).await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(matches!(
        e.delete_pod_now("monitoring", "grafana-5d8f7c9b6d-x2k4q")
            .await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(
        e.exec(
            "monitoring",
            "grafana-5d8f7c9b6d-x2k4q",
            None,
            vec!["ls".into()],
            false
        )
        .await
        .is_err()
    );
    let pod = ondeck::actions::helper_pod::helper_pod_spec(
        "monitoring",
        "grafana-data-old",
        "busybox",
        true,
        "backup",
    );
    assert!(matches!(
        e.create_pod(&pod).await,
        Err(ActionError::ReadOnly(_))
    ));
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    assert!(
        f.sim.request_log().iter().any(|r| r.verb == "get"),
        "reads still happen"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_flow_drives_the_dialog_model_to_done() -> TestResult {
    use ondeck::actions::flow::{DeleteDialog, FlowStage, spawn_delete_flow};
    let f = fixture("incident", false).await?;
    let mut h = spawn_delete_flow(f.exec.clone(), f.source.clone(), f.request(UNUSED)?);
    let mut dialog = DeleteDialog::default();
    let mut stages = vec![dialog.stage()];
    while let Some(ev) = h.events.recv().await {
        dialog.apply(&ev);
        if stages.last() != Some(&dialog.stage()) {
            stages.push(dialog.stage());
        }
        if matches!(ev, FlowEvent::AwaitingName { .. }) {
            h.inputs.send(FlowInput::ConfirmName(UNUSED.into())).await?;
        }
    }
    let res = h.task.await?;
    assert!(res.outcome.is_ok(), "{:?}", res.outcome);
    assert_eq!(
        stages,
        vec![
            FlowStage::Preflight,
            FlowStage::BackingUp,
            FlowStage::AwaitingName,
            FlowStage::Deleting,
            FlowStage::Done
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialog_closed_at_the_name_prompt_cancels() -> TestResult {
    use ondeck::actions::flow::spawn_delete_flow;
    let f = fixture("incident", false).await?;
    let mut h = spawn_delete_flow(f.exec.clone(), f.source.clone(), f.request(UNUSED)?);
    while let Some(ev) = h.events.recv().await {
        if matches!(ev, FlowEvent::AwaitingName { .. }) {
            break;
        }
    }
    drop(h.inputs);
    drop(h.events);
    let res = h.task.await?;
    assert!(
        matches!(res.outcome, Err(ActionError::Cancelled(_))),
        "{:?}",
        res.outcome
    );
    assert!(f.pvc_deletes().is_empty());
    Ok(())
}
