//! kube-rs against the simulated cluster over real HTTPS: the list/watch semantics, deletes
//! with preconditions and dry runs, finalizers, PV binding and reclaim, logs, faults and TLS.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event, PersistentVolume, PersistentVolumeClaim, Pod, Secret};
use kube::api::{
    Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, Preconditions,
    WatchEvent, WatchParams,
};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use ondeck::sim::{Fault, Kind, SimCluster, SimOptions, SimTiming};
use serde_json::json;
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn eventually<F: Fn() -> bool>(what: &str, secs: u64, f: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

fn fast() -> SimTiming {
    SimTiming {
        pod_start_delay: Duration::from_millis(300),
        pod_stop_delay: Duration::from_millis(300),
        ..SimTiming::default()
    }
}

async fn sim(name: &str) -> SimCluster {
    SimCluster::start(SimOptions {
        timing: fast(),
        ..SimOptions::named(name)
    })
    .await
    .expect("sim starts")
}

#[tokio::test]
async fn lists_pods_pvcs_and_secrets_with_selectors_and_pages() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pods: Api<Pod> = Api::all(client.clone());
    let all = pods.list(&ListParams::default()).await?;
    assert_eq!(all.items.len(), sim.state().count(Kind::Pod));
    assert!(all.metadata.resource_version.is_some());

    let payments: Api<Pod> = Api::namespaced(client.clone(), "payments");
    let by_label = payments
        .list(&ListParams::default().labels("app.kubernetes.io/name=payments-api"))
        .await?;
    assert_eq!(by_label.items.len(), 2);
    let running = pods
        .list(&ListParams::default().fields("status.phase=Pending"))
        .await?;
    assert!(
        running
            .items
            .iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
    );
    assert!(!running.items.is_empty());

    // limit/continue walk the whole list once.
    let mut seen = Vec::new();
    let mut lp = ListParams::default().limit(4);
    loop {
        let page = pods.list(&lp).await?;
        seen.extend(page.items.iter().filter_map(|p| p.metadata.name.clone()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(seen.len(), all.items.len());

    let secrets: Api<Secret> = Api::all(client.clone());
    let tls = secrets
        .list(&ListParams::default().fields("type=kubernetes.io/tls"))
        .await?;
    assert_eq!(tls.items.len(), 4);
    let events: Api<Event> = Api::namespaced(client, "web");
    let evs = events
        .list(
            &ListParams::default()
                .fields("involvedObject.name=frontend-6c9d8b7f5-4hj2n,involvedObject.kind=Pod"),
        )
        .await?;
    assert!(
        evs.items
            .iter()
            .any(|e| e.message.as_deref().is_some_and(|m| m.contains('\u{1b}'))),
        "the hostile event message is stored verbatim"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn watch_sees_modifications_and_resumes_from_a_resource_version() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pods: Api<Pod> = Api::namespaced(client, "payments");
    let list = pods.list(&ListParams::default()).await?;
    let rv = list.metadata.resource_version.clone().unwrap_or_default();
    // Changes made while nobody watches...
    sim.state()
        .crash_pod("payments", "payments-api-7f9c6b5d4-m5wpl", "Error", 1);
    sim.state().bump_restarts("payments", "postgres-0");
    // ...are delivered to a watch that resumes from the list's version.
    let mut stream = pods
        .watch(&WatchParams::default().timeout(10), &rv)
        .await?
        .boxed();
    let mut names = Vec::new();
    while names.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await?? {
            Some(WatchEvent::Modified(p)) => names.push(p.metadata.name.unwrap_or_default()),
            Some(other) => panic!("unexpected event {other:?}"),
            None => break,
        }
    }
    assert_eq!(names, ["payments-api-7f9c6b5d4-m5wpl", "postgres-0"]);
    // A live change arrives too.
    sim.state()
        .set_pod_phase("payments", "postgres-0", "Failed");
    match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await?? {
        Some(WatchEvent::Modified(p)) => {
            assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Failed"))
        }
        other => panic!("unexpected {other:?}"),
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn watch_from_a_compacted_version_gets_410_and_the_watcher_relists() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pods: Api<Pod> = Api::all(client.clone());
    let rv = pods
        .list(&ListParams::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    sim.state().bump_restarts("payments", "postgres-0");
    sim.state().compact();
    let mut stream = pods
        .watch(&WatchParams::default().timeout(5), &rv)
        .await?
        .boxed();
    match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await?? {
        Some(WatchEvent::Error(e)) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // A continue token from before the compaction is refused with an HTTP 410.
    let page = pods.list(&ListParams::default().limit(2)).await?;
    let token = page.metadata.continue_.unwrap_or_default();
    sim.state().bump_restarts("payments", "postgres-0");
    sim.state().compact();
    let err = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect_err("410");
    assert_eq!(api_code(&err), Some(410));

    // kube-runtime's watcher: dropped watch + compacted history -> 410 -> a fresh list.
    sim.faults().add(Fault::DropWatch(Duration::from_secs(1)));
    let mut w = watcher(pods.clone(), watcher::Config::default()).boxed();
    let mut inits = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while inits < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "watcher did not relist"
        );
        match tokio::time::timeout(Duration::from_secs(10), w.next()).await? {
            Some(Ok(watcher::Event::Init)) => inits += 1,
            Some(Ok(watcher::Event::InitDone)) if inits == 1 => {
                // Move the cluster on and forget history while the watcher's version is old.
                sim.state()
                    .add_event("default", "Namespace", "default", "Normal", "Test", "bump");
                sim.state().compact();
            }
            Some(_) => {}
            None => break,
        }
    }
    let lists = sim
        .request_log()
        .iter()
        .filter(|r| r.verb == "list" && r.resource == "pods")
        .count();
    assert!(
        lists >= 3,
        "expected a relist after 410, request log has {lists} pod lists"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reflector_reaches_ready_and_follows_changes() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::all(client);
    let (reader, writer) = reflector::store();
    let stream = reflector(
        writer,
        watcher(pvcs, watcher::Config::default().any_semantic()).default_backoff(),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        let mut s = std::pin::pin!(stream);
        while s.next().await.is_some() {}
    });
    tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready()).await??;
    assert_eq!(
        reader.state().len(),
        sim.state().count(Kind::PersistentVolumeClaim)
    );
    sim.state()
        .modify(Kind::PersistentVolumeClaim, "batch", "scratch", |v| {
            v["metadata"]["labels"]["touched"] = json!("yes")
        });
    eventually("reflector sees the label", 10, || {
        reader.state().iter().any(|p| {
            p.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key("touched"))
        })
    })
    .await;
    task.abort();
    sim.shutdown().await;
    Ok(())
}

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
async fn logs_current_previous_tail_and_follow() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pods: Api<Pod> = Api::namespaced(client, "payments");
    let prev = pods
        .logs(
            "payments-api-7f9c6b5d4-8qzvt",
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await?;
    assert!(prev.contains("panic: dial tcp"), "{prev}");
    let err = pods
        .logs(
            "postgres-0",
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await
        .expect_err("never restarted");
    assert_eq!(api_code(&err), Some(400));
    assert!(
        err.to_string()
            .contains("previous terminated container \"postgres\" in pod \"postgres-0\" not found"),
        "{err}"
    );
    let tail = pods
        .logs(
            "payments-api-7f9c6b5d4-8qzvt",
            &LogParams {
                previous: true,
                tail_lines: Some(2),
                ..LogParams::default()
            },
        )
        .await?;
    assert_eq!(tail.lines().count(), 2);

    let mut stream = pods
        .log_stream(
            "postgres-0",
            &LogParams {
                follow: true,
                ..LogParams::default()
            },
        )
        .await?;
    sim.state()
        .append_log("payments", "postgres-0", "postgres", "checkpoint complete");
    let mut buf = String::new();
    use futures::AsyncBufReadExt;
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read_line(&mut line)).await??;
        buf.push_str(&line);
        if n == 0 || line.contains("checkpoint complete") {
            break;
        }
    }
    assert!(buf.contains("checkpoint complete"), "{buf}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn forbid_and_error_rate_faults_answer_real_statuses() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "monitoring");
    sim.faults()
        .add("forbid=delete:persistentvolumeclaims".parse()?);
    let err = pvcs
        .delete("grafana-data-old", &DeleteParams::default())
        .await
        .expect_err("forbidden");
    assert_eq!(api_code(&err), Some(403));
    assert!(err.to_string().contains(r#"persistentvolumeclaims "grafana-data-old" is forbidden: User "oncall@example.com" cannot delete resource "persistentvolumeclaims" in API group "" in the namespace "monitoring""#), "{err}");
    // The access review agrees.
    let ssar: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("delete".into()),
                resource: Some("persistentvolumeclaims".into()),
                namespace: Some("monitoring".into()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = ssar.create(&PostParams::default(), &review).await?;
    assert_eq!(answer.status.map(|s| s.allowed), Some(false));
    sim.faults().clear();
    let answer = ssar.create(&PostParams::default(), &review).await?;
    assert_eq!(answer.status.map(|s| s.allowed), Some(true));
    // Scenario permissions deny PVC deletes in kube-system.
    let mut ks = review.clone();
    if let Some(ra) = ks.spec.resource_attributes.as_mut() {
        ra.namespace = Some("kube-system".into());
    }
    assert_eq!(
        ssar.create(&PostParams::default(), &ks)
            .await?
            .status
            .map(|s| s.allowed),
        Some(false)
    );

    sim.faults().add(Fault::ErrorRate(1.0));
    let err = pvcs.get("grafana-data").await.expect_err("500");
    assert_eq!(api_code(&err), Some(500));
    sim.faults().clear();
    assert!(pvcs.get("grafana-data").await.is_ok());
    assert!(
        sim.state()
            .get(
                Kind::PersistentVolumeClaim,
                "monitoring",
                "grafana-data-old"
            )
            .is_some()
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn expired_serving_certificate_is_a_tls_error_about_expiry() -> TestResult {
    let sim = SimCluster::start(SimOptions {
        faults: vec![Fault::ExpiredCert],
        ..SimOptions::named("healthy")
    })
    .await?;
    let client = sim.client().await?;
    let pods: Api<Pod> = Api::all(client);
    let err = pods
        .list(&ListParams::default())
        .await
        .expect_err("TLS must fail");
    let mut chain = format!("{err}");
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&err);
    while let Some(s) = src {
        chain.push_str(&format!(" / {s}"));
        src = s.source();
    }
    assert!(chain.to_lowercase().contains("expired"), "{chain}");
    // Switching the fault off fixes it for new connections.
    sim.faults().clear();
    let pods: Api<Pod> = Api::all(sim.client().await?);
    assert!(pods.list(&ListParams::default()).await.is_ok());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn wrong_token_gets_401_status() -> TestResult {
    let sim = sim("healthy").await;
    let mut kc = sim.kubeconfig();
    for u in &mut kc.auth_infos {
        if let Some(a) = u.auth_info.as_mut() {
            a.token = Some("wrong".to_string().into());
        }
    }
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await?;
    let pods: Api<Pod> = Api::all(kube::Client::try_from(cfg)?);
    let err = pods.list(&ListParams::default()).await.expect_err("401");
    assert_eq!(api_code(&err), Some(401));
    assert!(sim.request_log().iter().any(|r| r.status == 401));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn client_cert_in_kubeconfig_has_the_chosen_expiry() -> TestResult {
    let sim = SimCluster::start(SimOptions {
        client_cert_days: Some(3),
        ..SimOptions::named("healthy")
    })
    .await?;
    let kc = sim.kubeconfig();
    let user = kc.auth_infos[0].auth_info.clone().unwrap_or_default();
    assert!(user.client_certificate_data.is_some());
    // The client still works (token auth) with the certificate configured.
    let pods: Api<Pod> = Api::all(sim.client().await?);
    assert!(pods.list(&ListParams::default()).await.is_ok());
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("kc");
    sim.write_kubeconfig(&path)?;
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path)?.permissions().mode() & 0o777,
        0o600
    );
    sim.shutdown().await;
    Ok(())
}

async fn raw_get(client: &kube::Client, path: &str) -> Result<String, kube::Error> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    client.request_text(req).await
}

#[tokio::test]
async fn exec_into_a_pod_that_is_not_running_answers_the_apiservers_status() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let err = raw_get(
        &client,
        "/api/v1/namespaces/web/pods/search-indexer-0/exec?command=ls&stdout=true",
    )
    .await
    .expect_err("unscheduled");
    assert_eq!(api_code(&err), Some(400));
    assert!(
        err.to_string()
            .contains("pod search-indexer-0 does not have a host assigned"),
        "{err}"
    );
    let err = raw_get(
        &client,
        "/api/v1/namespaces/batch/pods/cleanup-29114460-b8v2m/exec?command=ls&stdout=true",
    )
    .await
    .expect_err("completed");
    assert!(
        err.to_string().contains(
            "cannot exec into a container in a completed pod; current phase is Succeeded"
        ),
        "{err}"
    );
    let err = raw_get(
        &client,
        "/api/v1/namespaces/web/pods/frontend-6c9d8b7f5-4hj2n/exec?command=ls&stdout=true",
    )
    .await
    .expect_err("waiting");
    assert!(err.to_string().contains("container not found"), "{err}");
    let err = raw_get(&client, "/api/v1/namespaces/web/pods/nope/exec?command=ls")
        .await
        .expect_err("missing");
    assert_eq!(api_code(&err), Some(404));
    // Unsupported subresources and verbs are Status errors, not hangs.
    let err = raw_get(
        &client,
        "/api/v1/namespaces/web/pods/frontend-5b8c7d6e4-r7n9p/portforward",
    )
    .await
    .expect_err("501");
    assert_eq!(api_code(&err), Some(501));
    let err = raw_get(&client, "/apis/apps/v1/deployments")
        .await
        .expect_err("404");
    assert_eq!(api_code(&err), Some(404));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn node_stats_summary_reports_volume_usage_from_the_volume_directories() -> TestResult {
    let sim = sim("incident").await;
    let client = sim.client().await?;
    let pod = sim
        .state()
        .get(Kind::Pod, "monitoring", "grafana-5d8f7c9b6d-x2k4q")
        .expect("grafana pod");
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let pv = sim
        .state()
        .get(Kind::PersistentVolumeClaim, "monitoring", "grafana-data")
        .expect("pvc")["spec"]["volumeName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let dir = sim.volume_path(&pv).expect("volume dir");
    std::fs::write(dir.join("extra.bin"), vec![7u8; 12345])?;
    let summary: serde_json::Value = serde_json::from_str(
        &raw_get(
            &client,
            &format!("/api/v1/nodes/{node}/proxy/stats/summary"),
        )
        .await?,
    )?;
    let vols: Vec<&serde_json::Value> = summary["pods"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["volume"].as_array().into_iter().flatten())
        .collect();
    let grafana = vols
        .iter()
        .find(|v| v["pvcRef"]["name"] == "grafana-data")
        .expect("grafana volume in the summary");
    assert!(
        grafana["usedBytes"].as_u64().unwrap_or(0) >= 12345,
        "{grafana}"
    );
    assert_eq!(
        grafana["capacityBytes"].as_u64(),
        Some(10 * 1024 * 1024 * 1024)
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bookmarks_and_timeout_seconds() -> TestResult {
    let timing = SimTiming {
        bookmark_interval: Duration::from_millis(200),
        ..fast()
    };
    let sim = SimCluster::start(SimOptions {
        timing,
        ..SimOptions::named("healthy")
    })
    .await?;
    let pods: Api<Pod> = Api::all(sim.client().await?);
    let rv = pods
        .list(&ListParams::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let started = tokio::time::Instant::now();
    let mut stream = pods
        .watch(&WatchParams::default().timeout(2), &rv)
        .await?
        .boxed();
    let mut bookmarks = 0;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await?? {
        if let WatchEvent::Bookmark(b) = ev {
            assert!(!b.metadata.resource_version.is_empty());
            bookmarks += 1;
        }
    }
    assert!(bookmarks >= 2, "{bookmarks} bookmarks");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(4),
        "timeoutSeconds=2 ended after {took:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_watcher_that_does_not_read_is_dropped_with_a_410() -> TestResult {
    let sim = sim("healthy").await;
    let pods: Api<Pod> = Api::namespaced(sim.client().await?, "web");
    let rv = pods
        .list(&ListParams::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut stream = pods
        .watch(&WatchParams::default().timeout(60), &rv)
        .await?
        .boxed();
    // Far more changes than the watch channel holds, while the client reads nothing.
    for i in 0..12_000 {
        sim.state()
            .modify(Kind::Pod, "web", "frontend-5b8c7d6e4-k2l8m", |v| {
                v["metadata"]["labels"]["n"] = json!(i.to_string())
            });
    }
    let mut seen = 0;
    let mut gone = false;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await?? {
        match ev {
            WatchEvent::Error(e) => {
                assert_eq!(e.code, 410);
                gone = true;
            }
            _ => seen += 1,
        }
    }
    assert!(
        gone,
        "the slow watcher was not told it fell behind ({seen} events)"
    );
    assert!(seen < 12_000, "the slow watcher was buffered without bound");
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
