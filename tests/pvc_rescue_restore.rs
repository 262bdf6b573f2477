//! Rescue and restore against the simulated cluster: the Grafana-like incident (a claim
//! Terminating while its pod runs, PV reclaim Delete) rescued, its pod stopped, and the data
//! brought back by re-binding; and a restore from an archive into a new claim.

mod pvc_support;

use ondeck::actions::ActionError;
use ondeck::actions::PvcRef;
use ondeck::actions::backup;
use ondeck::actions::preflight;
use ondeck::actions::rescue::rescue;
use ondeck::actions::restore::{self, RestoreOptions};
use ondeck::sim::Kind;
use pvc_support::*;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn restore_options() -> RestoreOptions {
    RestoreOptions {
        helper_image: "busybox".into(),
        helper_start_timeout: Duration::from_secs(15),
        no_progress_timeout: Duration::from_secs(5),
        bind_timeout: Duration::from_secs(15),
    }
}

async fn wait_until(mut cond: impl FnMut() -> bool, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_a_terminating_pvc_in_use_then_its_pod_stops_then_rebind_brings_the_same_files()
-> TestResult {
    let f = fixture("incident", false).await?;
    let pvc: PvcRef = "logging/loki-storage".parse()?;
    let pv = f.pv_of("logging", "loki-storage").ok_or("pv")?;
    let before = digest_tree(&f.sim.volume_path(&pv).ok_or("volume")?)?;
    assert_eq!(
        f.pv(&pv)
            .and_then(|p| p.pointer("/spec/persistentVolumeReclaimPolicy").cloned()),
        Some("Delete".into())
    );

    let report = rescue(
        &f.exec,
        &f.source,
        &pvc,
        &f.backup_options(),
        &|_| {},
        &CancellationToken::new(),
        Some(&f.audit_path()),
    )
    .await?;
    assert!(report.retain_error.is_none());
    assert_eq!(report.policy_after.as_deref(), Some("Retain"));
    assert_eq!(
        report.backup.manifest.source.pod, "loki-0",
        "backed up through the pod that mounts it"
    );
    assert!(!report.backup.manifest.source.helper);
    assert_eq!(manifest_tree(&report.backup.manifest.summary), before);
    assert!(report.next_steps.iter().any(|l| l.contains("--from-pv")));
    assert!(
        !f.sim
            .request_log()
            .iter()
            .any(|r| r.verb == "create" && r.resource == "pods"),
        "no helper needed"
    );
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit[0]["action"], "rescue");
    assert_eq!(audit[0]["outcome"], "rescued");

    // The pod stops: the claim goes (pvc-protection released), the PV stays Released.
    f.sim.state().delete(Kind::Pod, "logging", "loki-0");
    assert!(
        wait_until(
            || !f.pvc_exists("logging", "loki-storage"),
            Duration::from_secs(15)
        )
        .await,
        "claim still there"
    );
    assert!(
        wait_until(
            || f.pv(&pv).and_then(|p| p.pointer("/status/phase").cloned())
                == Some("Released".into()),
            Duration::from_secs(10)
        )
        .await
    );
    assert!(f.sim.volume_path(&pv).is_some(), "data kept by Retain");

    // Re-bind a claim of the same name to the retained PV.
    let r = restore::rebind(&f.exec, &pvc, &pv, None, &restore_options()).await?;
    assert_eq!(r.pv.as_deref(), Some(pv.as_str()));
    assert_eq!(
        f.pv_of("logging", "loki-storage").as_deref(),
        Some(pv.as_str())
    );
    assert_eq!(
        digest_tree(&f.sim.volume_path(&pv).ok_or("volume")?)?,
        before
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_from_an_archive_into_a_new_pvc_gives_the_same_files() -> TestResult {
    let f = fixture("incident", false).await?;
    let src: PvcRef = "monitoring/grafana-data-old".parse()?;
    let pf = preflight::preflight(&f.exec, &src).await?;
    let b = backup::backup(
        &f.exec,
        &pf,
        &f.backup_options(),
        &|_| {},
        &CancellationToken::new(),
    )
    .await?;
    assert!(
        b.manifest.source.helper,
        "nobody mounts it: a helper pod read it"
    );

    let loaded = backup::VerifiedBackup::load(&b.dir)?;
    let dest: PvcRef = "monitoring/grafana-data-copy".parse()?;
    let r = restore::from_backup(
        &f.exec,
        &dest,
        &loaded,
        &restore_options(),
        &|_| {},
        &CancellationToken::new(),
    )
    .await?;
    let restored = r.restored.ok_or("no read-back")?;
    assert_eq!(restored.files, b.manifest.summary.files);
    let new_pv = f
        .pv_of("monitoring", "grafana-data-copy")
        .ok_or("new claim not bound")?;
    assert_ne!(Some(new_pv.clone()), pf.volume_name);
    let on_disk = digest_tree(&f.sim.volume_path(&new_pv).ok_or("volume")?)?;
    assert_eq!(on_disk, manifest_tree(&b.manifest.summary));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());

    // Restoring over an existing claim is refused.
    let again = restore::from_backup(
        &f.exec,
        &dest,
        &loaded,
        &restore_options(),
        &|_| {},
        &CancellationToken::new(),
    )
    .await;
    assert!(matches!(again, Err(ActionError::Refused(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_backup_is_refused_before_restoring() -> TestResult {
    let f = fixture("incident", false).await?;
    let src: PvcRef = "monitoring/grafana-data-old".parse()?;
    let pf = preflight::preflight(&f.exec, &src).await?;
    let b = backup::backup(
        &f.exec,
        &pf,
        &f.backup_options(),
        &|_| {},
        &CancellationToken::new(),
    )
    .await?;
    let mut bytes = std::fs::read(&b.archive)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&b.archive, bytes)?;
    assert!(matches!(
        backup::VerifiedBackup::load(&b.dir),
        Err(ActionError::Verify(_))
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_refuses_a_claim_no_pod_mounts_and_rebind_refuses_a_pv_still_bound() -> TestResult {
    let f = fixture("incident", false).await?;
    let pvc: PvcRef = "monitoring/grafana-data-old".parse()?;
    let r = rescue(
        &f.exec,
        &f.source,
        &pvc,
        &f.backup_options(),
        &|_| {},
        &CancellationToken::new(),
        None,
    )
    .await;
    assert!(
        matches!(&r, Err(ActionError::Refused(m)) if m.contains("no running pod")),
        "{:?}",
        r.as_ref().err()
    );
    let pv = f.pv_of("monitoring", "grafana-data").ok_or("pv")?;
    let target: PvcRef = "monitoring/grafana-data-2".parse()?;
    let r = restore::rebind(&f.exec, &target, &pv, None, &restore_options()).await;
    assert!(matches!(r, Err(ActionError::Refused(_))));
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    Ok(())
}
