//! kube-rs against the simulated cluster over real HTTPS: list/watch semantics, logs, faults,
//! TLS and auth, exec and proxy routing. Storage flows are in `sim_storage.rs`.

mod sim_support;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use ondeck::sim::{Fault, Kind, SimCluster, SimOptions, SimTiming};
use serde_json::json;
use std::time::Duration;

use sim_support::*;

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
async fn crash_looping_pods_keep_restarting() -> TestResult {
    let timing = SimTiming {
        crashloop_interval: Some(Duration::from_millis(200)),
        ..fast()
    };
    let sim = SimCluster::start(SimOptions {
        timing,
        ..SimOptions::named("incident")
    })
    .await?;
    let restarts = || {
        sim.state()
            .get(Kind::Pod, "payments", "payments-api-7f9c6b5d4-8qzvt")
            .and_then(|p| p["status"]["containerStatuses"][0]["restartCount"].as_i64())
            .unwrap_or(0)
    };
    let before = restarts();
    assert_eq!(before, 17);
    eventually("restart count climbs", 15, || restarts() > before).await;
    let pods: Api<Pod> = Api::namespaced(sim.client().await?, "payments");
    let prev = pods
        .logs(
            "payments-api-7f9c6b5d4-8qzvt",
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await?;
    assert!(prev.contains("panic"), "{prev}");
    sim.shutdown().await;
    Ok(())
}
