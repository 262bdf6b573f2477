//! kube-rs against the simulated cluster: the PVC/PV flows ondeck's guarded delete and rescue
//! rely on (preconditions, dry runs, pvc-protection, reclaim Delete and Retain, re-binding,
//! dynamic provisioning, pods starting, namespace deletion).

mod sim_support;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use ondeck::sim::{Fault, Kind};
use serde_json::json;
use std::time::Duration;

use sim_support::*;

#[tokio::test]
async fn delete_preconditions_conflict_and_dry_run_changes_nothing() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client, "monitoring");
    let pvc = pvcs.get("grafana-data-old").await?;
    let uid = pvc.metadata.uid.clone();
    let rv = pvc.metadata.resource_version.clone();

    let wrong_uid = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let err = pvcs
        .delete("grafana-data-old", &wrong_uid)
        .await
        .expect_err("uid precondition");
    assert_eq!(api_code(&err), Some(409));
    assert!(
        err.to_string()
            .contains("Precondition failed: UID in precondition"),
        "{err}"
    );

    let stale_rv = DeleteParams {
        preconditions: Some(Preconditions {
            uid: uid.clone(),
            resource_version: Some("1".into()),
        }),
        ..DeleteParams::default()
    };
    let err = pvcs
        .delete("grafana-data-old", &stale_rv)
        .await
        .expect_err("rv precondition");
    assert_eq!(api_code(&err), Some(409));

    let before = sim.state().resource_version();
    let dry = DeleteParams {
        dry_run: true,
        preconditions: Some(Preconditions {
            uid: uid.clone(),
            resource_version: rv.clone(),
        }),
        ..DeleteParams::default()
    };
    pvcs.delete("grafana-data-old", &dry).await?;
    pvcs.patch(
        "grafana-data-old",
        &PatchParams {
            dry_run: true,
            ..PatchParams::default()
        },
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await?;
    assert_eq!(
        sim.state().resource_version(),
        before,
        "dry runs must not write"
    );
    let still = pvcs.get("grafana-data-old").await?;
    assert_eq!(still.metadata.resource_version, rv);
    assert!(still.metadata.deletion_timestamp.is_none());
    assert!(
        sim.request_log()
            .iter()
            .any(|r| r.verb == "delete" && r.dry_run)
    );

    // With matching preconditions the unused PVC goes, and its PV (Delete) and data follow.
    let pv = still.spec.and_then(|s| s.volume_name).unwrap_or_default();
    let dir = sim.volume_path(&pv).expect("volume dir");
    let exact = DeleteParams {
        preconditions: Some(Preconditions {
            uid,
            resource_version: rv,
        }),
        ..DeleteParams::default()
    };
    pvcs.delete("grafana-data-old", &exact).await?;
    eventually("PV with Delete policy removed", 10, || {
        sim.state().get(Kind::PersistentVolume, "", &pv).is_none()
    })
    .await;
    assert!(!dir.exists(), "volume data removed on reclaim Delete");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn in_use_pvc_stays_terminating_until_its_pod_is_gone() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "monitoring");
    let pods: Api<Pod> = Api::namespaced(client, "monitoring");
    pvcs.delete("grafana-data", &DeleteParams::default())
        .await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let pvc = pvcs.get("grafana-data").await?;
    assert!(pvc.metadata.deletion_timestamp.is_some());
    assert!(
        pvc.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"kubernetes.io/pvc-protection".to_string())
    );
    let pv = pvc.spec.and_then(|s| s.volume_name).unwrap_or_default();

    // Graceful: the delete answers the pod, Terminating.
    let answer = pods
        .delete("grafana-5d8f7c9b6d-x2k4q", &DeleteParams::default())
        .await?;
    assert!(
        answer
            .clone()
            .left()
            .is_some_and(|p| p.metadata.deletion_timestamp.is_some()),
        "{answer:?}"
    );
    eventually("pod gone", 10, || {
        sim.state()
            .get(Kind::Pod, "monitoring", "grafana-5d8f7c9b6d-x2k4q")
            .is_none()
    })
    .await;
    eventually("pvc gone", 10, || {
        sim.state()
            .get(Kind::PersistentVolumeClaim, "monitoring", "grafana-data")
            .is_none()
    })
    .await;
    eventually("pv gone (Delete)", 10, || {
        sim.state().get(Kind::PersistentVolume, "", &pv).is_none()
    })
    .await;
    // Incident 5: the Deployment's replacement pod is Pending because its claim is gone...
    let replacement = || {
        sim.state()
            .list(Kind::Pod, Some("monitoring"))
            .into_iter()
            .find(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("grafana-5d8f7c9b6d-"))
            })
    };
    eventually("replacement pod unschedulable", 10, || {
        replacement().is_some_and(|p| {
            p["status"]["phase"] == "Pending"
                && p["status"]["conditions"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("persistentvolumeclaim \"grafana-data\" not found"))
        })
    })
    .await;
    // ...until a claim with the same name exists again.
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "grafana-data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "resources": {"requests": {"storage": "10Gi"}}}
    }))?;
    pvcs.create(&PostParams::default(), &pvc).await?;
    eventually("replacement pod runs", 10, || {
        replacement().is_some_and(|p| p["status"]["phase"] == "Running")
    })
    .await;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn retain_leaves_pv_released_and_clearing_claim_ref_allows_rebinding() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "payments");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "payments");
    let pvs: Api<PersistentVolume> = Api::all(client);
    let pv_name = pvcs
        .get("postgres-data-postgres-0")
        .await?
        .spec
        .and_then(|s| s.volume_name)
        .unwrap_or_default();
    let data_file = |dir: &std::path::Path| std::fs::read(dir.join("base/16384/1259"));
    let before = data_file(&sim.volume_path(&pv_name).expect("volume dir"))?;
    assert_eq!(before.len(), 1_048_576, "the scenario fills the volume");
    pods.delete(
        "postgres-0",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        },
    )
    .await?;
    pvcs.delete("postgres-data-postgres-0", &DeleteParams::default())
        .await?;
    eventually("pvc gone", 10, || {
        sim.state()
            .get(
                Kind::PersistentVolumeClaim,
                "payments",
                "postgres-data-postgres-0",
            )
            .is_none()
    })
    .await;
    eventually("pv released", 10, || {
        sim.state()
            .get(Kind::PersistentVolume, "", &pv_name)
            .is_some_and(|p| p["status"]["phase"] == "Released")
    })
    .await;
    let pv = pvs.get(&pv_name).await?;
    assert_eq!(
        pv.spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .and_then(|c| c.name.as_deref()),
        Some("postgres-data-postgres-0")
    );
    let dir = sim.volume_path(&pv_name).expect("Retain keeps the data");
    assert!(dir.is_dir());
    assert_eq!(
        data_file(&dir)?,
        before,
        "Retain keeps the bytes, not just the directory"
    );
    assert_eq!(std::fs::read_to_string(dir.join("PG_VERSION"))?, "16\n");

    // Clearing the claimRef makes it Available; a new claim naming it binds.
    pvs.patch(
        &pv_name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"claimRef": null}})),
    )
    .await?;
    eventually("pv available", 10, || {
        sim.state()
            .get(Kind::PersistentVolume, "", &pv_name)
            .is_some_and(|p| p["status"]["phase"] == "Available")
    })
    .await;
    let new_pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "postgres-data-restored"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "retained", "volumeName": pv_name, "resources": {"requests": {"storage": "100Gi"}}}
    }))?;
    pvcs.create(&PostParams::default(), &new_pvc).await?;
    eventually("rebound", 10, || {
        sim.state()
            .get(
                Kind::PersistentVolumeClaim,
                "payments",
                "postgres-data-restored",
            )
            .is_some_and(|p| p["status"]["phase"] == "Bound")
            && sim
                .state()
                .get(Kind::PersistentVolume, "", &pv_name)
                .is_some_and(|p| {
                    p["spec"]["claimRef"]["name"] == "postgres-data-restored"
                        && p["status"]["phase"] == "Bound"
                })
    })
    .await;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn dynamic_provisioning_and_pods_start_unless_no_kubelet() -> TestResult {
    let sim = sim("healthy").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "web");
    let pods: Api<Pod> = Api::namespaced(client, "web");
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "fresh"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard"}
    }))?;
    pvcs.create(&PostParams::default(), &pvc).await?;
    eventually("provisioned", 10, || {
        sim.state()
            .get(Kind::PersistentVolumeClaim, "web", "fresh")
            .is_some_and(|p| p["status"]["phase"] == "Bound")
    })
    .await;
    let pv = sim
        .state()
        .get(Kind::PersistentVolumeClaim, "web", "fresh")
        .map(|p| p["spec"]["volumeName"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    assert!(sim.volume_path(&pv).is_some());

    let pod = |name: &str| -> Result<Pod, serde_json::Error> {
        serde_json::from_value(
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox",
            "volumeMounts": [{"name": "d", "mountPath": "/data"}]}], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "fresh"}}]}}),
        )
    };
    pods.create(&PostParams::default(), &pod("helper")?).await?;
    assert_eq!(
        pods.get("helper")
            .await?
            .status
            .and_then(|s| s.phase)
            .as_deref(),
        Some("Pending")
    );
    eventually("running", 10, || {
        sim.state()
            .get(Kind::Pod, "web", "helper")
            .is_some_and(|p| p["status"]["phase"] == "Running")
    })
    .await;

    sim.faults().add(Fault::NoKubelet);
    pods.create(&PostParams::default(), &pod("stuck")?).await?;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        pods.get("stuck")
            .await?
            .status
            .and_then(|s| s.phase)
            .as_deref(),
        Some("Pending")
    );
    sim.faults().clear();
    eventually("runs once the kubelet is back", 10, || {
        sim.state()
            .get(Kind::Pod, "web", "stuck")
            .is_some_and(|p| p["status"]["phase"] == "Running")
    })
    .await;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() -> TestResult {
    let sim = sim("healthy").await;
    let client = sim.client().await?;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    namespaces.delete("web", &DeleteParams::default()).await?;
    assert_eq!(
        namespaces
            .get("web")
            .await
            .ok()
            .and_then(|n| n.status)
            .and_then(|s| s.phase)
            .as_deref()
            .unwrap_or("Terminating"),
        "Terminating"
    );
    eventually("namespace gone", 15, || {
        sim.state().get(Kind::Namespace, "", "web").is_none()
    })
    .await;
    assert!(
        sim.state().list(Kind::Pod, Some("web")).is_empty(),
        "{:#?}",
        sim.state().list(Kind::Pod, Some("web"))
    );
    assert!(
        sim.state()
            .list(Kind::PersistentVolumeClaim, Some("web"))
            .is_empty()
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn patch_types_status_subresource_and_finalizer_removal() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "logging");
    // Strategic merge patch (treated as a merge patch) on labels.
    pvcs.patch(
        "loki-storage",
        &PatchParams::default(),
        &Patch::Strategic(json!({"metadata": {"labels": {"rescue": "in-progress"}}})),
    )
    .await?;
    // Status cannot be changed through the main resource...
    let p = pvcs
        .patch(
            "loki-storage",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Lost"}})),
        )
        .await?;
    assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Bound"));
    // ...but through /status it can.
    let p = pvcs
        .patch_status(
            "loki-storage",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Lost"}})),
        )
        .await?;
    assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Lost"));
    // The spec of a claim is immutable (except the requested size).
    let err = pvcs
        .patch(
            "loki-storage",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"storageClassName": "retained"}})),
        )
        .await
        .expect_err("immutable");
    assert_eq!(api_code(&err), Some(422));
    // A JSON patch test op that fails changes nothing.
    let err = pvcs
        .patch(
            "loki-storage",
            &PatchParams::default(),
            &Patch::Json::<()>(serde_json::from_value(
                json!([{"op": "test", "path": "/metadata/name", "value": "other"}]),
            )?),
        )
        .await
        .expect_err("test op");
    assert_eq!(api_code(&err), Some(422));
    // Force-removing the finalizer of the Terminating claim deletes it at once (what
    // `kubectl patch pvc ... -p '{"metadata":{"finalizers":null}}'` does).
    pvcs.patch(
        "loki-storage",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await?;
    assert!(
        sim.state()
            .get(Kind::PersistentVolumeClaim, "logging", "loki-storage")
            .is_none()
    );
    let log = sim.request_log();
    assert!(
        log.iter()
            .any(|r| r.verb == "patch" && r.resource == "persistentvolumeclaims/status")
    );
    sim.shutdown().await;
    Ok(())
}
