//! Restore, two ways. Re-bind: a Released PV with reclaimPolicy Retain is pre-bound to the new
//! claim (its claimRef set to the claim's namespace and name, Retain kept, in one patch guarded
//! by its resourceVersion), then the claim is created with `volumeName`: at no moment is the
//! volume free for another claim to take. If the create fails, the claimRef is put back as it
//! was (and that is said). A PV whose claimRef names a live claim is refused. From an archive: a
//! new claim (from the saved manifest, new name allowed), a read-write helper pod, the archive
//! streamed from the file into `tar xzf -` over exec stdin, then the restored volume read
//! back over exec and compared file by file (paths, sizes, sha256) with the backup's manifest.

use super::backup::{BackupProgress, BackupStage, VerifiedBackup, exit_status};
use super::executor::Executor;
use super::helper_pod::{self, HELPER_MOUNT, HelperPodGuard};
use super::verify::{self, ArchiveSummary};
use super::{ActionError, Change, PvcRef, Result};
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Settings of a restore.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub helper_image: String,
    pub helper_start_timeout: Duration,
    pub no_progress_timeout: Duration,
    /// How long the new claim may take to bind.
    pub bind_timeout: Duration,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub pvc: PvcRef,
    pub pv: Option<String>,
    /// The restored files as read back (archive restores only).
    pub restored: Option<ArchiveSummary>,
}

const BIND_ANNOTATION_PREFIXES: [&str; 3] = [
    "pv.kubernetes.io/",
    "volume.beta.kubernetes.io/",
    "volume.kubernetes.io/",
];

fn fresh_meta(pvc: &PvcRef, from: Option<&ObjectMeta>) -> ObjectMeta {
    let annotations = from.and_then(|m| m.annotations.clone()).map(|a| {
        a.into_iter()
            .filter(|(k, _)| !BIND_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p)))
            .filter(|(k, _)| k != "kubectl.kubernetes.io/last-applied-configuration")
            .collect()
    });
    ObjectMeta {
        name: Some(pvc.name.clone()),
        namespace: Some(pvc.namespace.clone()),
        labels: from.and_then(|m| m.labels.clone()),
        annotations,
        ..Default::default()
    }
}

/// The claim that re-binds to `pv`: its spec from `template` (the backed-up claim) when
/// given, else from the PV.
pub fn rebind_claim(
    pvc: &PvcRef,
    pv: &PersistentVolume,
    template: Option<&PersistentVolumeClaim>,
) -> PersistentVolumeClaim {
    let pv_spec = pv.spec.clone().unwrap_or_default();
    let mut spec =
        template
            .and_then(|t| t.spec.clone())
            .unwrap_or_else(|| PersistentVolumeClaimSpec {
                access_modes: pv_spec.access_modes.clone(),
                resources: Some(VolumeResourceRequirements {
                    requests: pv_spec.capacity.clone(),
                    ..Default::default()
                }),
                volume_mode: pv_spec.volume_mode.clone(),
                ..Default::default()
            });
    spec.volume_name = pv.metadata.name.clone();
    spec.storage_class_name = Some(pv_spec.storage_class_name.clone().unwrap_or_default());
    spec.data_source = None;
    spec.data_source_ref = None;
    PersistentVolumeClaim {
        metadata: fresh_meta(pvc, template.map(|t| &t.metadata)),
        spec: Some(spec),
        status: None,
    }
}

/// The audit record of a restore (successful or not).
pub async fn audit_record(
    exec: &Executor,
    pvc: &PvcRef,
    pv: Option<&str>,
    backup_dir: Option<&Path>,
    result: &Result<RestoreReport>,
) -> super::audit::AuditRecord {
    let t = exec.target();
    let kube_user = match exec.whoami().await {
        Some(u) => Some(u),
        None => t.kubeconfig_user.clone(),
    };
    let (pv, bytes, outcome) = match result {
        Ok(r) => (
            r.pv.clone().or(pv.map(str::to_string)),
            r.restored.as_ref().map(|s| s.file_bytes),
            "restored".to_string(),
        ),
        Err(e) => (pv.map(str::to_string), None, format!("failed: {e}")),
    };
    super::audit::AuditRecord {
        time: jiff::Timestamp::now().to_string(),
        action: "restore".into(),
        os_user: super::audit::os_user(),
        kube_user,
        context: t.context.clone(),
        server: t.server.clone(),
        object: pvc.to_string(),
        uid: None,
        pv,
        policy_before: None,
        policy_after: None,
        backup_path: backup_dir.map(|d| d.display().to_string()),
        sha256: None,
        bytes,
        outcome,
    }
}

/// Reads a backed-up `pvc.yaml`.
pub fn load_claim_manifest(dir: &Path) -> Result<PersistentVolumeClaim> {
    let path = dir.join("pvc.yaml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ActionError::io(format!("read {}", path.display()), e))?;
    serde_saphyr::from_str(&text)
        .map_err(|e| ActionError::Verify(format!("{}: {e}", path.display())))
}

/// Waits, watching the claim, until it is Bound (or `limit` passes).
async fn wait_bound(
    exec: &Executor,
    pvc: &PvcRef,
    limit: Duration,
) -> Result<PersistentVolumeClaim> {
    let started = tokio::time::Instant::now();
    loop {
        let claim = exec.get_pvc(&pvc.namespace, &pvc.name).await?;
        let phase = claim
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase == "Bound" {
            return Ok(claim);
        }
        if started.elapsed() >= limit {
            return Err(ActionError::Refused(format!(
                "{pvc} did not bind within {}s (phase {phase})",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `ns/name (uid ...)` of a claimRef, or `none`.
fn claim_ref_text(r: Option<&serde_json::Value>) -> String {
    let Some(r) = r.filter(|r| r.is_object()) else {
        return "none".into();
    };
    let s = |k: &str| super::sanitize(r.get(k).and_then(|v| v.as_str()).unwrap_or(""));
    let uid = s("uid");
    format!(
        "{}/{}{}",
        s("namespace"),
        s("name"),
        if uid.is_empty() {
            " (reserved, no uid)".to_string()
        } else {
            format!(" (uid {uid})")
        }
    )
}

/// The kubectl command that sets a PV's claimRef back to `r`.
fn claim_ref_undo(pv: &str, r: Option<&serde_json::Value>) -> String {
    let body =
        serde_json::json!({"spec": {"claimRef": r.cloned().unwrap_or(serde_json::Value::Null)}});
    format!("kubectl patch pv {pv} --type merge -p '{body}'")
}

/// Re-binds a new claim `pvc` to the retained PV `pv_name` by pre-binding (see the module).
pub async fn rebind(
    exec: &Executor,
    pvc: &PvcRef,
    pv_name: &str,
    template: Option<&PersistentVolumeClaim>,
    opts: &RestoreOptions,
) -> Result<RestoreReport> {
    let pv = exec.get_pv(pv_name).await?;
    let spec = pv.spec.clone().unwrap_or_default();
    let policy = spec
        .persistent_volume_reclaim_policy
        .clone()
        .unwrap_or_default();
    let phase = pv
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    if policy != "Retain" {
        return Err(ActionError::Refused(format!(
            "PV {pv_name} has reclaimPolicy {policy}, not Retain: refusing to re-bind it; nothing was changed"
        )));
    }
    if !matches!(phase.as_str(), "Released" | "Available") {
        return Err(ActionError::Refused(format!(
            "PV {pv_name} is {phase}, not Released: its claim may still exist; nothing was changed"
        )));
    }
    let old_ref = serde_json::to_value(&spec.claim_ref)
        .ok()
        .filter(|v| v.is_object());
    // A claimRef that names a claim which exists (with that uid, or any claim of that name
    // when the ref has no uid) belongs to that claim.
    if let Some(r) = &spec.claim_ref {
        let (ns, name) = (
            r.namespace.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
        );
        if !name.is_empty()
            && let Some(live) = exec.get_pvc_opt(&ns, &name).await?
        {
            let same = r.uid.as_deref().is_none_or(|u| u.is_empty())
                || live.metadata.uid.as_deref() == r.uid.as_deref();
            if same {
                return Err(ActionError::Refused(format!(
                    "PV {pv_name} belongs to the live claim {ns}/{name} (its claimRef points there): refusing to give it to {pvc}; nothing was changed"
                )));
            }
        }
    }
    if exec.get_pvc_opt(&pvc.namespace, &pvc.name).await?.is_some() {
        return Err(ActionError::Refused(format!(
            "{pvc} already exists (still Terminating?): wait until it is gone, or restore under another name; nothing was changed"
        )));
    }
    let rv = pv.metadata.resource_version.clone().unwrap_or_default();
    let reservation = serde_json::json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": pvc.namespace,
        "name": pvc.name,
    });
    // 1. Pre-bind: from here on only `pvc` can bind to the volume.
    exec.patch_pv_claim_ref(pv_name, Some(&reservation), &rv, "pre-bind claimRef")
        .await
        .map_err(|e| e.with_note("nothing was changed"))?;
    exec.said(Change {
        subject: format!("PV {pv_name} claimRef"),
        text: format!(
            "PV {pv_name}: claimRef {} -> {pvc} (reserved for the new claim; reclaimPolicy stays Retain)",
            claim_ref_text(old_ref.as_ref())
        ),
        undo: Some(claim_ref_undo(pv_name, old_ref.as_ref())),
    });
    // 2. The claim, naming the volume.
    let claim = rebind_claim(pvc, &pv, template);
    if let Err(e) = exec.create_pvc(&claim).await {
        return Err(undo_prebind(exec, pvc, pv_name, old_ref.as_ref(), e).await);
    }
    exec.said(Change {
        subject: format!("PVC {pvc}"),
        text: format!("created claim {pvc} with volumeName {pv_name}"),
        undo: Some(format!(
            "kubectl delete pvc -n {} {}",
            pvc.namespace, pvc.name
        )),
    });
    let bound = wait_bound(exec, pvc, opts.bind_timeout).await.map_err(|e| {
        e.with_note(&format!(
            "the claim {pvc} exists and PV {pv_name} is reserved for it; it binds when the PV controller runs"
        ))
    })?;
    let got = bound.spec.and_then(|s| s.volume_name).unwrap_or_default();
    if got != pv_name {
        return Err(ActionError::Refused(format!(
            "{pvc} bound to {got}, not {pv_name}"
        )));
    }
    Ok(RestoreReport {
        pvc: pvc.clone(),
        pv: Some(got),
        restored: None,
    })
}

/// The claim could not be created: put the PV's claimRef back as it was (re-reading it for a
/// fresh resourceVersion: the PV controller updates its phase meanwhile), and say so. The
/// returned error is the one outcome: the create's failure and the state of the PV.
async fn undo_prebind(
    exec: &Executor,
    pvc: &PvcRef,
    pv_name: &str,
    old_ref: Option<&serde_json::Value>,
    create_err: ActionError,
) -> ActionError {
    let mut last = String::new();
    for _ in 0..3 {
        let current = match exec.get_pv(pv_name).await {
            Ok(p) => p,
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        let cur_ref = current.spec.as_ref().and_then(|s| s.claim_ref.clone());
        let still_ours = cur_ref.as_ref().is_some_and(|r| {
            r.namespace.as_deref() == Some(pvc.namespace.as_str())
                && r.name.as_deref() == Some(pvc.name.as_str())
                && r.uid.as_deref().is_none_or(|u| u.is_empty())
        });
        if !still_ours {
            last = format!(
                "its claimRef changed meanwhile to {}",
                claim_ref_text(serde_json::to_value(&cur_ref).ok().as_ref())
            );
            break;
        }
        let rv = current.metadata.resource_version.unwrap_or_default();
        match exec
            .patch_pv_claim_ref(pv_name, old_ref, &rv, "restore claimRef")
            .await
        {
            Ok(_) => {
                exec.said(Change {
                    subject: format!("PV {pv_name} claimRef"),
                    text: format!(
                        "PV {pv_name}: claimRef put back to {} (as it was)",
                        claim_ref_text(old_ref)
                    ),
                    undo: None,
                });
                return create_err.with_note(&format!(
                    "PV {pv_name}'s claimRef was put back as it was; the data stays on it, unbound"
                ));
            }
            Err(ActionError::Changed { message, .. }) => last = message,
            Err(e) => {
                last = e.to_string();
                break;
            }
        }
    }
    create_err.with_note(&format!(
        "PV {pv_name} could NOT be put back ({last}): it stays reserved for {pvc}, which no other claim can take; to undo: {}",
        claim_ref_undo(pv_name, old_ref)
    ))
}

/// The claim to create for an archive restore: the backed-up spec without its volume.
pub fn claim_from_backup(pvc: &PvcRef, saved: &PersistentVolumeClaim) -> PersistentVolumeClaim {
    let mut spec = saved.spec.clone().unwrap_or_default();
    spec.volume_name = None;
    spec.data_source = None;
    spec.data_source_ref = None;
    PersistentVolumeClaim {
        metadata: fresh_meta(pvc, Some(&saved.metadata)),
        spec: Some(spec),
        status: None,
    }
}

/// Restores `backup` into a new claim `pvc` and verifies the result against the manifest.
pub async fn from_backup(
    exec: &Executor,
    pvc: &PvcRef,
    backup: &VerifiedBackup,
    opts: &RestoreOptions,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    if exec.get_pvc_opt(&pvc.namespace, &pvc.name).await?.is_some() {
        return Err(ActionError::Refused(format!(
            "{pvc} already exists: restore into a new name (--as NAME)"
        )));
    }
    let saved = load_claim_manifest(&backup.dir)?;
    exec.create_pvc(&claim_from_backup(pvc, &saved)).await?;
    exec.said(Change {
        subject: format!("PVC {pvc}"),
        text: format!("created claim {pvc} for the restore"),
        undo: Some(format!(
            "kubectl delete pvc -n {} {}",
            pvc.namespace, pvc.name
        )),
    });
    let pods = exec.list_pods(&pvc.namespace).await.unwrap_or_default();
    let enforce = exec.pod_security_enforce(&pvc.namespace).await;
    let identity = helper_pod::choose_identity(&pods, &pvc.name, enforce.as_deref());
    let spec = helper_pod::helper_pod_spec_as(
        &pvc.namespace,
        &pvc.name,
        &opts.helper_image,
        false,
        "restore",
        &identity,
    );
    let helper = HelperPodGuard::create(exec, &spec).await.map_err(|e| {
        e.with_note(&format!(
            "the claim {pvc} was created empty: delete it (kubectl delete pvc -n {} {}) before trying again",
            pvc.namespace, pvc.name
        ))
    })?;
    let result = async {
        tokio::select! {
            r = helper.wait_running(opts.helper_start_timeout, progress) => r?,
            _ = cancel.cancelled() => return Err(ActionError::Cancelled("while the helper pod started".into())),
        }
        extract(exec, &helper, &backup.archive, opts, progress, cancel).await?;
        let restored = read_back(exec, &helper, opts, cancel).await?;
        verify::compare_files(&backup.manifest.summary, &restored)
            .map_err(|e| ActionError::Verify(format!("restored volume does not match the backup: {e}")))?;
        Ok(restored)
    }
    .await;
    let _ = helper.cleanup().await;
    let restored = result.map_err(|e| {
        e.with_note(&format!(
            "the claim {pvc} was created and may hold a partial restore: check or delete it before trying again"
        ))
    })?;
    let bound = exec.get_pvc(&pvc.namespace, &pvc.name).await?;
    Ok(RestoreReport {
        pvc: pvc.clone(),
        pv: bound.spec.and_then(|s| s.volume_name),
        restored: Some(restored),
    })
}

async fn extract(
    exec: &Executor,
    helper: &HelperPodGuard,
    archive: &Path,
    opts: &RestoreOptions,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<()> {
    let cmd = vec![
        "tar".into(),
        "xzf".into(),
        "-".into(),
        "-C".into(),
        HELPER_MOUNT.into(),
    ];
    let mut proc = exec
        .exec(&helper.namespace, &helper.name, Some("helper"), cmd, true)
        .await?;
    let status = proc.take_status();
    let stderr = drain_output(&mut proc);
    let mut stdin = proc
        .stdin()
        .ok_or_else(|| ActionError::Backup("exec gave no stdin".into()))?;
    let mut file = tokio::fs::File::open(archive)
        .await
        .map_err(|e| ActionError::io(format!("open {}", archive.display()), e))?;
    let total = file.metadata().await.map(|m| m.len()).ok();
    let mut buf = vec![0u8; 256 * 1024];
    let mut sent = 0u64;
    let started = tokio::time::Instant::now();
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| ActionError::io(format!("read {}", archive.display()), e))?;
        if n == 0 {
            break;
        }
        tokio::select! {
            r = tokio::time::timeout(opts.no_progress_timeout, stdin.write_all(&buf[..n])) => match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(ActionError::Backup(format!("sending the archive: {e}"))),
                Err(_) => return Err(ActionError::Backup(format!(
                    "the pod took no data for {}s (no-progress timeout)", opts.no_progress_timeout.as_secs()
                ))),
            },
            _ = cancel.cancelled() => {
                proc.abort();
                return Err(ActionError::Cancelled(format!("during the restore after {sent} bytes")));
            }
        }
        sent += n as u64;
        let rate = sent as f64 / started.elapsed().as_secs_f64().max(1e-3);
        progress(BackupProgress {
            bytes: sent,
            bytes_per_sec: rate,
            expected_bytes: total,
            eta: total
                .map(|t| Duration::from_secs_f64(t.saturating_sub(sent) as f64 / rate.max(1.0))),
            ..BackupProgress::stage(BackupStage::Streaming)
        });
    }
    stdin
        .shutdown()
        .await
        .map_err(|e| ActionError::Backup(format!("closing stdin: {e}")))?;
    drop(stdin);
    exit_status(status, stderr, "tar xzf", &helper.name).await
}

/// Stdout and stderr of a command whose output we do not need, drained so it cannot block.
fn drain_output(proc: &mut kube::api::AttachedProcess) -> tokio::task::JoinHandle<String> {
    let stdout = proc.stdout();
    let stderr = proc.stderr();
    tokio::spawn(async move {
        if let Some(mut out) = stdout {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut out, &mut tokio::io::sink()).await;
            });
        }
        let mut kept = Vec::new();
        if let Some(err) = stderr {
            let _ = err.take(4096).read_to_end(&mut kept).await;
        }
        super::sanitize(String::from_utf8_lossy(&kept).trim())
    })
}

/// A blocking `Read` over chunks sent from async code through a bounded channel.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads the restored volume back (`tar czf -` over exec) and summarises it without
/// touching the disk; memory stays at a few chunks.
async fn read_back(
    exec: &Executor,
    helper: &HelperPodGuard,
    opts: &RestoreOptions,
    cancel: &CancellationToken,
) -> Result<ArchiveSummary> {
    let cmd = vec![
        "tar".into(),
        "czf".into(),
        "-".into(),
        "-C".into(),
        HELPER_MOUNT.into(),
        ".".into(),
    ];
    let mut proc = exec
        .exec(&helper.namespace, &helper.name, Some("helper"), cmd, false)
        .await?;
    let status = proc.take_status();
    let stderr = {
        let err = proc.stderr();
        tokio::spawn(async move {
            let mut kept = Vec::new();
            if let Some(err) = err {
                let _ = err.take(4096).read_to_end(&mut kept).await;
            }
            super::sanitize(String::from_utf8_lossy(&kept).trim())
        })
    };
    let mut stdout = proc
        .stdout()
        .ok_or_else(|| ActionError::Backup("exec gave no stdout".into()))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let summarizer = tokio::task::spawn_blocking(move || {
        verify::summarize(ChunkReader {
            rx,
            current: Vec::new(),
            pos: 0,
        })
    });
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = tokio::select! {
            r = tokio::time::timeout(opts.no_progress_timeout, stdout.read(&mut chunk)) => match r {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(ActionError::Verify(format!("reading the restored volume: {e}"))),
                Err(_) => return Err(ActionError::Verify("no data while reading the restored volume back".into())),
            },
            _ = cancel.cancelled() => return Err(ActionError::Cancelled("while verifying the restore".into())),
        };
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        if tx.send(chunk).await.is_err() {
            break; // the summarizer stopped on an error; it is reported below
        }
    }
    drop(tx);
    drop(stdout);
    exit_status(status, stderr, "tar czf (read back)", &helper.name).await?;
    summarizer
        .await
        .map_err(|e| ActionError::Verify(e.to_string()))?
        .map_err(|e| ActionError::Verify(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PersistentVolumeSpec;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::collections::BTreeMap;

    #[test]
    fn rebind_claim_points_at_the_pv_without_bind_annotations() {
        let pv = PersistentVolume {
            metadata: ObjectMeta {
                name: Some("pv-1".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeSpec {
                capacity: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity("1Gi".into()),
                )])),
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: Some("standard".into()),
                ..Default::default()
            }),
            status: None,
        };
        let template = PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("old".into()),
                uid: Some("u".into()),
                resource_version: Some("9".into()),
                annotations: Some(BTreeMap::from([
                    (
                        "pv.kubernetes.io/bind-completed".to_string(),
                        "yes".to_string(),
                    ),
                    ("team".to_string(), "obs".to_string()),
                ])),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                volume_name: Some("other".into()),
                ..Default::default()
            }),
            status: None,
        };
        let c = rebind_claim(&PvcRef::new("mon", "grafana"), &pv, Some(&template));
        assert_eq!(c.metadata.name.as_deref(), Some("grafana"));
        assert!(c.metadata.uid.is_none() && c.metadata.resource_version.is_none());
        let ann = c.metadata.annotations.unwrap_or_default();
        assert!(ann.contains_key("team") && !ann.contains_key("pv.kubernetes.io/bind-completed"));
        let spec = c.spec.unwrap_or_default();
        assert_eq!(spec.volume_name.as_deref(), Some("pv-1"));
        assert_eq!(spec.storage_class_name.as_deref(), Some("standard"));
        let from_pv = rebind_claim(&PvcRef::new("mon", "g"), &pv, None)
            .spec
            .unwrap_or_default();
        assert_eq!(
            from_pv.access_modes,
            Some(vec!["ReadWriteOnce".to_string()])
        );
    }

    #[test]
    fn chunk_reader_reads_across_chunks() {
        use std::io::Read;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let _ = tx.try_send(b"ab".to_vec());
        let _ = tx.try_send(Vec::new());
        let _ = tx.try_send(b"cde".to_vec());
        drop(tx);
        let mut r = ChunkReader {
            rx,
            current: Vec::new(),
            pos: 0,
        };
        let mut s = String::new();
        assert!(r.read_to_string(&mut s).is_ok());
        assert_eq!(s, "abcde");
    }
}
