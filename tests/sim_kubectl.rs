//! kubectl (the real client, v1.32 here) against the simulated cluster: get, watch, delete,
//! patch. Skipped with a note when kubectl is missing, unless `CI` is set.

use ondeck::sim::{Kind, SimCluster};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn kubectl() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("kubectl is required in CI (install it, e.g. apt-get install kubectl)");
        }
        eprintln!("NOTE: kubectl not found in PATH; skipping kubectl tests");
    }
    found
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(sim: &SimCluster) -> Option<Kubectl> {
        let bin = kubectl()?;
        let dir = tempfile::tempdir().ok()?;
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).ok()?;
        Some(Kubectl {
            bin,
            kubeconfig,
            _dir: dir,
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        c.env(
            "HOME",
            self.kubeconfig.parent().unwrap_or(Path::new("/tmp")),
        );
        c.env_remove("KUBECONFIG");
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--request-timeout=20s"];
        all.extend_from_slice(args);
        let mut c = self.command(&all);
        let out = tokio::task::spawn_blocking(move || c.output()).await;
        match out {
            Ok(Ok(o)) => o,
            other => panic!("kubectl did not run: {other:?}"),
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_pods_and_pvcs_all_namespaces() {
    let sim = SimCluster::scenario("incident").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };
    let out = k.run(&["get", "pods", "-A"]).await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("NAMESPACE"), "{t}");
    assert!(t.contains("grafana-5d8f7c9b6d-x2k4q"), "{t}");
    assert!(t.contains("CrashLoopBackOff"), "{t}");
    assert!(t.contains("ImagePullBackOff"), "{t}");
    assert!(t.contains("Terminating"), "{t}");

    let out = k.run(&["get", "pvc", "-A"]).await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("grafana-data-old"), "{t}");
    assert!(t.contains("Bound"), "{t}");
    assert!(t.contains("Terminating"), "{t}");
    assert!(t.contains("10Gi"), "{t}");

    let out = k
        .run(&[
            "get",
            "pods,pvc,pv,sc,nodes,ns,secrets,events",
            "-A",
            "-o",
            "json",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("kubectl -o json output is JSON");
    assert!(v["items"].as_array().is_some_and(|a| a.len() > 30));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_sees_a_change() {
    let sim = SimCluster::scenario("incident").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };
    let mut cmd = k.command(&["get", "pods", "-n", "payments", "-w"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl spawns");
    // Let the initial list arrive before changing anything.
    tokio::time::sleep(Duration::from_secs(2)).await;
    sim.state()
        .crash_pod("payments", "payments-api-7f9c6b5d4-m5wpl", "Error", 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = child.start_kill();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("kubectl exits")
        .expect("output");
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.contains("payments-api-7f9c6b5d4-m5wpl"))
        .collect();
    assert!(
        lines.len() >= 2,
        "watch did not print the change:\n{t}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines.last().is_some_and(|l| l.contains("CrashLoopBackOff")),
        "{t}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_in_use_pvc_leaves_it_terminating() {
    let sim = SimCluster::scenario("incident").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };
    let out = k
        .run(&[
            "delete",
            "pvc",
            "-n",
            "monitoring",
            "grafana-data",
            "--wait=false",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("deleted"), "{}", text(&out));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pvc = sim
        .state()
        .get(Kind::PersistentVolumeClaim, "monitoring", "grafana-data")
        .expect("still there: pvc-protection");
    assert!(pvc["metadata"]["deletionTimestamp"].is_string());
    let out = k
        .run(&["get", "pvc", "-n", "monitoring", "grafana-data"])
        .await;
    assert!(text(&out).contains("Terminating"), "{}", text(&out));
    // The unused look-alike goes at once.
    let out = k
        .run(&["delete", "pvc", "-n", "monitoring", "grafana-data-old"])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        sim.state()
            .get(
                Kind::PersistentVolumeClaim,
                "monitoring",
                "grafana-data-old"
            )
            .is_none()
    );
    assert!(
        sim.request_log()
            .iter()
            .any(|r| r.verb == "delete" && r.name.as_deref() == Some("grafana-data"))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_pv_reclaim_policy() {
    let sim = SimCluster::scenario("incident").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };
    let pv = sim
        .state()
        .get(Kind::PersistentVolumeClaim, "monitoring", "grafana-data")
        .expect("pvc")["spec"]["volumeName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        sim.state()
            .get(Kind::PersistentVolume, "", &pv)
            .expect("pv")["spec"]["persistentVolumeReclaimPolicy"],
        "Delete"
    );
    let out = k
        .run(&[
            "patch",
            "pv",
            &pv,
            "-p",
            r#"{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}"#,
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("patched"), "{}", text(&out));
    assert_eq!(
        sim.state()
            .get(Kind::PersistentVolume, "", &pv)
            .expect("pv")["spec"]["persistentVolumeReclaimPolicy"],
        "Retain"
    );
    let out = k.run(&["get", "pv", &pv]).await;
    assert!(text(&out).contains("Retain"), "{}", text(&out));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_and_whoami_follow_the_scenario_permissions() {
    let sim = SimCluster::scenario("incident").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };
    let out = k
        .run(&[
            "auth",
            "can-i",
            "delete",
            "persistentvolumeclaims",
            "-n",
            "kube-system",
        ])
        .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no",
        "{}",
        text(&out)
    );
    let out = k
        .run(&[
            "auth",
            "can-i",
            "delete",
            "persistentvolumeclaims",
            "-n",
            "monitoring",
        ])
        .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "yes",
        "{}",
        text(&out)
    );
    let out = k.run(&["auth", "whoami"]).await;
    assert!(text(&out).contains("oncall@example.com"), "{}", text(&out));
    let out = k
        .run(&[
            "logs",
            "-n",
            "payments",
            "payments-api-7f9c6b5d4-8qzvt",
            "--previous",
        ])
        .await;
    assert!(text(&out).contains("panic: dial tcp"), "{}", text(&out));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_quota_pod_security_claim_ref_patches_and_a_failed_exec() {
    let sim = SimCluster::scenario("safety").await.expect("sim starts");
    let Some(k) = Kubectl::new(&sim) else { return };

    let out = k.run(&["get", "resourcequota", "-n", "shop"]).await;
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("no-more-claims") && t.contains("persistentvolumeclaims: 0/0"),
        "{t}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("pvc.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: orders, namespace: shop}\n\
         spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 1Gi}}}\n",
    )
    .expect("write manifest");
    let out = k
        .run(&[
            "create",
            "--validate=false",
            "-f",
            manifest.to_str().unwrap_or_default(),
        ])
        .await;
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("persistentvolumeclaims \"orders\" is forbidden: exceeded quota: no-more-claims, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=0, limited: persistentvolumeclaims=0"),
        "{t}"
    );

    let out = k
        .run(&["run", "psa-check", "--image=busybox", "-n", "secure"])
        .await;
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("pods \"psa-check\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"psa-check\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities"),
        "{t}"
    );

    // A pre-bind as ondeck sends it: claimRef replaced, uid gone, the PV Available for that
    // claim only.
    let out = k
        .run(&[
            "patch",
            "pv",
            "pv-orders",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"claimRef":{"namespace":"other","name":"x","uid":null,"resourceVersion":null}}}"#,
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let out = k
        .run(&[
            "get",
            "pv",
            "pv-orders",
            "-o",
            "jsonpath={.spec.claimRef.namespace}/{.spec.claimRef.name}:{.spec.claimRef.uid}",
        ])
        .await;
    assert_eq!(text(&out), "other/x:");

    // exec when the kubelet does not answer: upgraded, then an error with no exit code.
    let out = k
        .run(&[
            "run",
            "ex",
            "--image=busybox",
            "-n",
            "other",
            "--",
            "sleep",
            "600",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out));
    let start = std::time::Instant::now();
    loop {
        let out = k
            .run(&[
                "get",
                "pod",
                "ex",
                "-n",
                "other",
                "-o",
                "jsonpath={.status.phase}",
            ])
            .await;
        if text(&out) == "Running" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{}", text(&out));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sim.faults().add(ondeck::sim::Fault::ExecFail);
    let out = k.run(&["exec", "-n", "other", "ex", "--", "ls", "/"]).await;
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("connection refused"), "{t}");
    assert!(!t.contains("non-zero exit code"), "{t}");
    assert!(
        sim.state().get(Kind::Pod, "other", "ex").is_some(),
        "the pod is untouched"
    );
}
