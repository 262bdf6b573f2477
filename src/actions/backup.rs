//! The verified backup: the claim's, PV's and StorageClass's manifests as YAML, and the data as
//! a tar.gz streamed over exec (from a pod that mounts the claim, or a read-only helper pod)
//! straight into a 0600 file in a 0700 directory, never held in memory. Progress, a
//! no-progress timeout, cancellation, the remote exit status, then a full read of the archive
//! ([`super::verify`]) before the backup counts. A failed backup leaves `failed.json` and no
//! archive.

use super::executor::Executor;
use super::helper_pod::{self, HELPER_MOUNT, HelperPodGuard};
use super::preflight::PvcPreflight;
use super::target::KubeTarget;
use super::verify::{self, ArchiveSummary};
use super::{ActionError, PvcRef, Result, sanitize};
use futures::FutureExt;
use kube::api::AttachedProcess;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub const ARCHIVE_FILE: &str = "data.tar.gz";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const FAILED_FILE: &str = "failed.json";
const PARTIAL_FILE: &str = "data.tar.gz.partial";
const CHUNK: usize = 256 * 1024;
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How long stdout is still read after the exec stream ended without an exit status.
const BROKEN_DRAIN: Duration = Duration::from_millis(500);
/// How long the exit status may take after stdout ended.
const STATUS_DEADLINE: Duration = Duration::from_secs(30);

/// Settings of a backup, from `[backup]` in the config.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Root of all backups (`<dir>/<namespace>/<name>/<timestamp>/`).
    pub dir: PathBuf,
    pub helper_image: String,
    pub helper_start_timeout: Duration,
    pub no_progress_timeout: Duration,
}

impl BackupOptions {
    /// The configured options; the directory defaults to `$XDG_STATE_HOME/ondeck/backups`.
    pub fn from_config(cfg: &crate::config::Config) -> Result<Self> {
        let dir = match &cfg.backup.dir {
            Some(d) => d.clone(),
            None => crate::config::state_dir()
                .ok_or_else(|| ActionError::Backup("no state directory ($HOME unset?)".into()))?
                .join("backups"),
        };
        Ok(BackupOptions {
            dir,
            helper_image: cfg.backup.helper_image.clone(),
            helper_start_timeout: cfg.backup.helper_start_timeout.into(),
            no_progress_timeout: cfg.backup.no_progress_timeout.into(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum BackupStage {
    WritingManifests,
    StartingHelper,
    MeasuringUsage,
    Streaming,
    Verifying,
    /// Not a step: a change to the cluster was just made or undone (`change` says which).
    Changed,
}

/// Progress of a backup, sent often (at most every 200 ms while streaming).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BackupProgress {
    pub stage: BackupStage,
    /// Archive bytes written so far.
    pub bytes: u64,
    pub bytes_per_sec: f64,
    /// Used size of the volume (`du`), when known: the ETA's basis.
    pub expected_bytes: Option<u64>,
    pub eta: Option<Duration>,
    /// What the step waits for (`helper pod NS/NAME to be scheduled`), while it waits.
    pub waiting: Option<String>,
    /// How long it still waits before giving up (the countdown).
    pub time_left: Option<Duration>,
    /// With [`BackupStage::Changed`]: the change.
    pub change: Option<super::Change>,
}

impl BackupProgress {
    pub fn stage(stage: BackupStage) -> Self {
        BackupProgress {
            stage,
            bytes: 0,
            bytes_per_sec: 0.0,
            expected_bytes: None,
            eta: None,
            waiting: None,
            time_left: None,
            change: None,
        }
    }

    /// Waiting for `what`, giving up in `left`.
    pub fn waiting(stage: BackupStage, what: String, left: Duration) -> Self {
        BackupProgress {
            waiting: Some(what),
            time_left: Some(left),
            ..BackupProgress::stage(stage)
        }
    }

    /// A change just made (or undone).
    pub fn changed(change: super::Change) -> Self {
        BackupProgress {
            change: Some(change),
            ..BackupProgress::stage(BackupStage::Changed)
        }
    }
}

/// Changes said by an executor, held until [`ChangeRelay::flush`] hands them to a progress
/// callback that cannot be kept (a borrowed one): flushed on every progress report and after
/// each step, so a change shows within a second.
pub struct ChangeRelay {
    rx: std::sync::Mutex<std::sync::mpsc::Receiver<super::Change>>,
}

impl ChangeRelay {
    pub fn flush(&self, progress: &(dyn Fn(BackupProgress) + Send + Sync)) {
        let rx = self.rx.lock().unwrap_or_else(|e| e.into_inner());
        while let Ok(c) = rx.try_recv() {
            progress(BackupProgress::changed(c));
        }
    }
}

/// A sink for [`super::executor::Executor::for_flow`] and the relay that passes its changes on.
pub fn change_relay() -> (super::executor::ChangeSink, ChangeRelay) {
    let (tx, rx) = std::sync::mpsc::channel::<super::Change>();
    let tx = std::sync::Mutex::new(tx);
    let sink: super::executor::ChangeSink = std::sync::Arc::new(move |c: &super::Change| {
        let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(c.clone());
    });
    (
        sink,
        ChangeRelay {
            rx: std::sync::Mutex::new(rx),
        },
    )
}

/// A change sink that reports changes as progress (how the dialogs and the CLI see them).
pub fn change_sink(
    progress: impl Fn(BackupProgress) + Send + Sync + 'static,
) -> super::executor::ChangeSink {
    std::sync::Arc::new(move |c: &super::Change| progress(BackupProgress::changed(c.clone())))
}

/// Where the data was read from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupSource {
    pub pod: String,
    pub container: Option<String>,
    pub mount_path: String,
    pub helper: bool,
}

/// `manifest.json`: what the backup holds, verified.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupManifest {
    pub format: u32,
    pub created_at: String,
    pub target: KubeTarget,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub pv: Option<String>,
    pub pv_reclaim_policy: Option<String>,
    pub storage_class: Option<String>,
    pub source: BackupSource,
    pub used_bytes_reported: Option<u64>,
    pub manifests: Vec<String>,
    pub archive_file: String,
    #[serde(flatten)]
    pub summary: ArchiveSummary,
}

/// A backup whose archive was read end to end and matches its manifest.
#[derive(Debug, Clone)]
pub struct VerifiedBackup {
    pub dir: PathBuf,
    pub archive: PathBuf,
    pub manifest: BackupManifest,
}

impl VerifiedBackup {
    /// Loads and re-verifies a backup directory (for restore).
    pub fn load(dir: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(dir.join(MANIFEST_FILE)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ActionError::Refused(unusable_backup(dir)));
            }
            Err(e) => {
                return Err(ActionError::io(
                    format!("read {}", dir.join(MANIFEST_FILE).display()),
                    e,
                ));
            }
        };
        let manifest: BackupManifest = serde_json::from_str(&text)
            .map_err(|e| ActionError::Verify(format!("manifest.json: {e}")))?;
        let archive = dir.join(&manifest.archive_file);
        let summary = verify::verify_file(&archive, Some(&manifest.summary.archive_sha256))
            .map_err(|e| ActionError::Verify(e.to_string()))?;
        verify::compare_files(&manifest.summary, &summary)
            .map_err(|e| ActionError::Verify(e.to_string()))?;
        Ok(VerifiedBackup {
            dir: dir.to_path_buf(),
            archive,
            manifest,
        })
    }
}

/// Why a directory without `manifest.json` cannot be restored from, in plain words.
pub fn unusable_backup(dir: &Path) -> String {
    let d = sanitize(&dir.display().to_string());
    if !dir.is_dir() {
        return format!("{d} is not a directory: give the directory of a verified backup");
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(FAILED_FILE)) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let reason = sanitize(v["reason"].as_str().unwrap_or("no reason recorded"));
        let at = sanitize(v["at"].as_str().unwrap_or("?"));
        return format!(
            "the backup in {d} FAILED at {at} and holds no verified data ({reason}); nothing was restored: choose another backup"
        );
    }
    if dir.join(PARTIAL_FILE).exists() || dir.join(ARCHIVE_FILE).exists() {
        return format!(
            "the backup in {d} is PARTIAL: it never finished (no manifest.json, so nothing in it was verified); nothing was restored: choose another backup"
        );
    }
    format!("{d} holds no backup made by ondeck (no manifest.json); nothing was restored")
}

/// Creates `<root>/<ns>/<name>/<timestamp>[-n]/`, every created level 0700.
pub fn create_backup_dir(root: &Path, pvc: &PvcRef) -> Result<PathBuf> {
    let parent = root.join(&pvc.namespace).join(&pvc.name);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&parent)
        .map_err(|e| ActionError::io(format!("create {}", parent.display()), e))?;
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    for n in 0..100 {
        let leaf = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = parent.join(leaf);
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ActionError::io(format!("create {}", dir.display()), e)),
        }
    }
    Err(ActionError::Backup(
        "could not create a fresh backup directory".into(),
    ))
}

/// Writes a new file readable by the owner only, and syncs it.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let what = || format!("write {}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ActionError::io(what(), e))?;
    f.write_all(bytes).map_err(|e| ActionError::io(what(), e))?;
    f.sync_all().map_err(|e| ActionError::io(what(), e))
}

fn fsync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A manifest fit to re-apply: no managedFields, no status-like server bookkeeping.
pub fn strip_for_backup<T: serde::Serialize>(obj: &T) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(obj).map_err(|e| ActionError::Backup(e.to_string()))?;
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    Ok(v)
}

fn write_manifests(dir: &Path, pf: &PvcPreflight) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let mut put = |file: &str, v: serde_json::Value| -> Result<()> {
        let yaml = serde_saphyr::to_string(&v).map_err(|e| ActionError::Backup(e.to_string()))?;
        write_private(&dir.join(file), yaml.as_bytes())?;
        written.push(file.to_string());
        Ok(())
    };
    put("pvc.yaml", strip_for_backup(&pf.pvc)?)?;
    if let Some(pv) = &pf.pv {
        put("pv.yaml", strip_for_backup(pv)?)?;
    }
    if let Some(sc) = &pf.storage_class_object {
        put("storageclass.yaml", strip_for_backup(sc)?)?;
    }
    Ok(written)
}

/// Marks a backup directory failed: the partial archive goes, `failed.json` says why.
fn mark_failed(dir: &Path, reason: &str) {
    for f in [PARTIAL_FILE, ARCHIVE_FILE] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let body = serde_json::json!({
        "status": "failed",
        "reason": reason,
        "at": jiff::Timestamp::now().to_string(),
    });
    if let Err(e) = write_private(&dir.join(FAILED_FILE), body.to_string().as_bytes()) {
        tracing::warn!(error = %e, "could not write failed.json");
    }
    fsync_dir(dir);
}

/// Backs up the claim described by `pf`. Returns only a verified backup; on any failure or
/// cancel the directory is marked failed, the helper pod (if any) is deleted, and the error
/// says why.
pub async fn backup(
    exec: &Executor,
    pf: &PvcPreflight,
    opts: &BackupOptions,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<VerifiedBackup> {
    let dir = create_backup_dir(&opts.dir, &pf.pvc_ref)?;
    // If this future is dropped mid-way (a UI closed), the directory is still marked failed
    // and the helper pod's own guard deletes it.
    let mut unfinished = UnfinishedDir(Some(dir.clone()));
    let mut helper: Option<HelperPodGuard> = None;
    let result = backup_into(exec, pf, opts, &dir, &mut helper, progress, cancel).await;
    if let Some(h) = helper.take() {
        let _ = h.cleanup().await;
    }
    unfinished.0 = None;
    match result {
        Ok(b) => Ok(b),
        Err(e) => {
            mark_failed(&dir, &e.to_string());
            Err(e)
        }
    }
}

/// Marks the backup directory failed when dropped while still armed.
struct UnfinishedDir(Option<PathBuf>);

impl Drop for UnfinishedDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            mark_failed(&dir, "the backup was abandoned before it finished");
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn backup_into(
    exec: &Executor,
    pf: &PvcPreflight,
    opts: &BackupOptions,
    dir: &Path,
    helper: &mut Option<HelperPodGuard>,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<VerifiedBackup> {
    progress(BackupProgress::stage(BackupStage::WritingManifests));
    let manifests = write_manifests(dir, pf)?;
    let ns = &pf.pvc_ref.namespace;
    let (source, used, (archive_sha, archive_bytes)) = match pf.exec_source() {
        Some(m) => {
            let source = BackupSource {
                pod: m.pod.clone(),
                container: m.container.clone(),
                mount_path: m.mount_path.clone().unwrap_or_default(),
                helper: false,
            };
            progress(BackupProgress::stage(BackupStage::MeasuringUsage));
            let used = used_bytes(exec, ns, &source).await;
            match stream_archive(exec, ns, &source, dir, used, opts, progress, cancel).await {
                Ok(r) => (source, used, r),
                // The application's image has no `tar` (distroless): read the volume through
                // a helper pinned to the same node instead (a ReadWriteOnce volume is already
                // attached there).
                Err(e) if command_missing(&e) => {
                    tracing::info!(pod = %m.pod, "no tar in the pod; using a helper pod on its node");
                    let _ = std::fs::remove_file(dir.join(PARTIAL_FILE));
                    let source =
                        start_helper(exec, pf, opts, m.node.as_deref(), helper, progress, cancel)
                            .await?;
                    let r = stream_archive(exec, ns, &source, dir, used, opts, progress, cancel)
                        .await?;
                    (source, used, r)
                }
                Err(e) => return Err(e),
            }
        }
        None => {
            let source = start_helper(exec, pf, opts, None, helper, progress, cancel).await?;
            progress(BackupProgress::stage(BackupStage::MeasuringUsage));
            let used = used_bytes(exec, ns, &source).await;
            let r = stream_archive(exec, ns, &source, dir, used, opts, progress, cancel).await?;
            (source, used, r)
        }
    };
    progress(BackupProgress {
        bytes: archive_bytes,
        expected_bytes: used,
        ..BackupProgress::stage(BackupStage::Verifying)
    });
    let archive = dir.join(ARCHIVE_FILE);
    let path = archive.clone();
    let sha = archive_sha.clone();
    let verifying = tokio::task::spawn_blocking(move || verify::verify_file(&path, Some(&sha)));
    let summary = tokio::select! {
        r = verifying => r
            .map_err(|e| ActionError::Verify(e.to_string()))?
            .map_err(|e| ActionError::Verify(e.to_string()))?,
        _ = cancel.cancelled() => return Err(ActionError::Cancelled("during verification".into())),
    };
    let manifest = BackupManifest {
        format: 1,
        created_at: jiff::Timestamp::now().to_string(),
        target: pf.target.clone(),
        namespace: pf.pvc_ref.namespace.clone(),
        name: pf.pvc_ref.name.clone(),
        uid: pf.uid.clone(),
        resource_version: pf.resource_version.clone(),
        pv: pf.volume_name.clone(),
        pv_reclaim_policy: pf.pv_reclaim_policy.clone(),
        storage_class: pf.storage_class.clone(),
        source,
        used_bytes_reported: used,
        manifests,
        archive_file: ARCHIVE_FILE.into(),
        summary,
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ActionError::Backup(e.to_string()))?;
    write_private(&dir.join(MANIFEST_FILE), &json)?;
    fsync_dir(dir);
    Ok(VerifiedBackup {
        dir: dir.to_path_buf(),
        archive,
        manifest,
    })
}

/// Starts the read-only helper pod (optionally on `node`) and waits until it runs. It runs
/// as the claim's users do when their pods say ([`helper_pod::choose_identity`]); if Pod
/// Security admission still refuses a root helper, it tries once as non-root; if that is
/// refused too, the error names the rules and the alternatives.
async fn start_helper(
    exec: &Executor,
    pf: &PvcPreflight,
    opts: &BackupOptions,
    node: Option<&str>,
    helper: &mut Option<HelperPodGuard>,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<BackupSource> {
    progress(BackupProgress::stage(BackupStage::StartingHelper));
    let ns = &pf.pvc_ref.namespace;
    let pods = exec.list_pods(ns).await.unwrap_or_default();
    let enforce = exec.pod_security_enforce(ns).await;
    let mut identity = helper_pod::choose_identity(&pods, &pf.pvc_ref.name, enforce.as_deref());
    let spec_for = |identity: &helper_pod::HelperIdentity| {
        let mut spec = helper_pod::helper_pod_spec_as(
            ns,
            &pf.pvc_ref.name,
            &opts.helper_image,
            true,
            "backup",
            identity,
        );
        if let (Some(node), Some(s)) = (node, spec.spec.as_mut()) {
            s.node_name = Some(node.to_string());
        }
        spec
    };
    tracing::info!(identity = %identity.describe(), "starting the backup helper");
    let guard = match HelperPodGuard::create(exec, &spec_for(&identity)).await {
        Ok(g) => g,
        Err(ActionError::Refused(m))
            if m.contains("Pod Security") && identity == helper_pod::HelperIdentity::Root =>
        {
            tracing::info!(refusal = %m, "root helper refused; trying as non-root");
            identity = helper_pod::choose_identity(&pods, &pf.pvc_ref.name, Some("restricted"));
            HelperPodGuard::create(exec, &spec_for(&identity))
                .await
                .map_err(|e| pod_security_alternatives(e, pf, &opts.helper_image))?
        }
        Err(e) => return Err(pod_security_alternatives(e, pf, &opts.helper_image)),
    };
    let guard = helper.insert(guard);
    tokio::select! {
        r = guard.wait_running(opts.helper_start_timeout, progress) => r?,
        _ = cancel.cancelled() => return Err(ActionError::Cancelled("while the helper pod started".into())),
    }
    Ok(BackupSource {
        pod: guard.name.clone(),
        container: Some("helper".into()),
        mount_path: HELPER_MOUNT.into(),
        helper: true,
    })
}

/// A Pod Security refusal of the helper, with what works there instead.
fn pod_security_alternatives(e: ActionError, pf: &PvcPreflight, image: &str) -> ActionError {
    let ActionError::Refused(m) = &e else {
        return e;
    };
    if !m.contains("Pod Security") {
        return e;
    }
    let ns = &pf.pvc_ref.namespace;
    let through = match pf.users().next() {
        Some(u) => format!(
            "an ephemeral debug container in pod {} where the cluster allows it (kubectl debug -n {ns} {} --image={image} --target={}), then tar the mount from there",
            u.pod,
            u.pod,
            u.container.as_deref().unwrap_or("CONTAINER")
        ),
        None => "start the workload that mounts the claim and run the backup again: ondeck then streams the data through its pod, no helper needed".to_string(),
    };
    ActionError::Refused(format!(
        "{m}; nothing was backed up. Alternative: {through}"
    ))
}

/// The remote command could not be started because the image lacks it.
pub fn command_missing(e: &ActionError) -> bool {
    let m = match e {
        ActionError::Backup(m) => m,
        ActionError::ExecStart { why, .. } => why,
        _ => return false,
    };
    [
        "exited 126",
        "exited 127",
        "exit code 126",
        "exit code 127",
        "executable file not found",
        "command not found",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// `du -sk` of the mount, for the ETA; `None` when the container cannot say.
async fn used_bytes(exec: &Executor, ns: &str, src: &BackupSource) -> Option<u64> {
    let cmd = vec!["du".into(), "-sk".into(), src.mount_path.clone()];
    let run = async {
        let mut proc = exec
            .exec(ns, &src.pod, src.container.as_deref(), cmd, false)
            .await
            .ok()?;
        let mut out = String::new();
        let mut stdout = proc.stdout()?;
        let stderr = drain_stderr(&mut proc);
        let _ = (&mut stdout).take(4096).read_to_string(&mut out).await;
        drop(stderr);
        let kib: u64 = out.split_whitespace().next()?.parse().ok()?;
        Some(kib * 1024)
    };
    tokio::time::timeout(exec.request_timeout(), run)
        .await
        .ok()
        .flatten()
}

/// Reads a process's stderr in the background, keeping the last 4 KiB for the error message.
fn drain_stderr(proc: &mut AttachedProcess) -> tokio::task::JoinHandle<String> {
    let stderr = proc.stderr();
    tokio::spawn(async move {
        let Some(mut stderr) = stderr else {
            return String::new();
        };
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 4096 {
                let cut = kept.len() - 4096;
                kept.drain(..cut);
            }
        }
        sanitize(String::from_utf8_lossy(&kept).trim())
    })
}

/// Turns a finished exec's status into success or the remote failure.
/// A plain next step when the container simply has no such program (distroless images carry
/// no `tar`): the pod cannot serve the backup; a helper pod can once nothing else mounts it.
fn missing_tool_hint(what: &str, message: &str, stderr: &str) -> String {
    let text = format!("{message} {stderr}");
    if text.contains("executable file not found") || text.contains("not found in $PATH") {
        format!(
            " (the container has no `{what}`, e.g. a distroless image: ondeck cannot stream the \
             data through this pod; once no pod mounts the claim, a backup uses a helper pod \
             with the configured image instead)"
        )
    } else {
        String::new()
    }
}

/// Turns a finished exec's status into success or the remote failure, classified: a
/// status with an exit code is the command's own failure (`tar exited 2: ...`); a failure
/// status without one means the command never ran (the kubelet did not answer, the runtime
/// refused it): [`ActionError::ExecStart`].
pub async fn exit_status(
    status: Option<
        impl std::future::Future<
            Output = Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
        >,
    >,
    stderr: tokio::task::JoinHandle<String>,
    what: &str,
    pod: &str,
) -> Result<()> {
    let status = match status {
        Some(s) => tokio::time::timeout(STATUS_DEADLINE, s)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let stderr = tokio::time::timeout(Duration::from_secs(2), stderr)
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default();
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => Ok(()),
        Some(s) => {
            let code = s
                .details
                .as_ref()
                .and_then(|d| d.causes.as_ref())
                .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
                .and_then(|c| c.message.clone());
            let message = sanitize(s.message.as_deref().unwrap_or(""));
            match code {
                Some(code) => {
                    let said = if stderr.is_empty() { &message } else { &stderr };
                    Err(ActionError::Backup(format!(
                        "{what} exited {code} in pod {pod}: {said}{}",
                        missing_tool_hint(what, &message, &stderr)
                    )))
                }
                None => Err(ActionError::ExecStart {
                    pod: pod.to_string(),
                    why: format!(
                        "{} ({what} never ran){}",
                        if message.is_empty() {
                            "the API server reported a failure with no exit code".to_string()
                        } else {
                            message.clone()
                        },
                        missing_tool_hint(what, &message, &stderr)
                    ),
                }),
            }
        }
        None => Err(ActionError::Backup(format!(
            "{what} in pod {pod}: the exec stream ended without an exit status (connection broken?) {stderr}"
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
async fn stream_archive(
    exec: &Executor,
    ns: &str,
    src: &BackupSource,
    dir: &Path,
    expected: Option<u64>,
    opts: &BackupOptions,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(String, u64)> {
    let cmd = vec![
        "tar".into(),
        "czf".into(),
        "-".into(),
        "-C".into(),
        src.mount_path.clone(),
        ".".into(),
    ];
    let mut proc = exec
        .exec(ns, &src.pod, src.container.as_deref(), cmd, false)
        .await?;
    // The exec's end: `Some(status)` from the server, or `None` when the websocket ended
    // without one. A broken connection (reset, no close frame) leaves stdout open, so the
    // read loop watches this too and notices the break at once, not at the no-progress timeout.
    let mut status = proc.take_status().map(|s| s.boxed());
    let mut ended: Option<Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>> = None;
    let stderr = drain_stderr(&mut proc);
    let mut stdout = proc
        .stdout()
        .ok_or_else(|| ActionError::Backup("exec gave no stdout".into()))?;
    let partial = dir.join(PARTIAL_FILE);
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .await
        .map_err(|e| ActionError::io(format!("create {}", partial.display()), e))?;
    let mut out = tokio::io::BufWriter::with_capacity(CHUNK * 4, file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut bytes = 0u64;
    let started = tokio::time::Instant::now();
    let mut last_report = started;
    let write_err = |e| ActionError::io(format!("write {}", partial.display()), e);
    loop {
        // After the stream ended without a status, only what is already buffered is read.
        let broken = matches!(ended, Some(None));
        let wait = if broken {
            BROKEN_DRAIN
        } else {
            opts.no_progress_timeout
        };
        let n = tokio::select! {
            r = tokio::time::timeout(wait, stdout.read(&mut buf)) => match r {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(ActionError::Backup(format!("reading the exec stream: {e}"))),
                Err(_) if broken => return Err(ActionError::Backup(format!(
                    "the exec stream from pod {} broke after {bytes} bytes (closed without an exit status)",
                    src.pod
                ))),
                Err(_) => return Err(ActionError::Backup(format!(
                    "no data for {}s from pod {} (no-progress timeout)",
                    opts.no_progress_timeout.as_secs(), src.pod
                ))),
            },
            s = async { match status.as_mut() { Some(f) => f.await, None => std::future::pending().await } }, if ended.is_none() && status.is_some() => {
                ended = Some(s);
                continue;
            }
            _ = cancel.cancelled() => {
                proc.abort();
                return Err(ActionError::Cancelled(format!("during the backup after {bytes} bytes")));
            }
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).await.map_err(write_err)?;
        bytes += n as u64;
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = tokio::time::Instant::now();
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let rate = bytes as f64 / secs;
            let eta = expected
                .filter(|_| rate > 0.0)
                .map(|e| Duration::from_secs_f64(e.saturating_sub(bytes) as f64 / rate));
            progress(BackupProgress {
                bytes,
                bytes_per_sec: rate,
                expected_bytes: expected,
                eta,
                ..BackupProgress::stage(BackupStage::Streaming)
            });
        }
    }
    drop(stdout);
    let status = match ended {
        Some(s) => Some(futures::future::ready(s).boxed()),
        None => status,
    };
    exit_status(status, stderr, "tar", &src.pod).await?;
    out.flush().await.map_err(write_err)?;
    let file = out.into_inner();
    file.sync_all().await.map_err(write_err)?;
    drop(file);
    let archive = dir.join(ARCHIVE_FILE);
    tokio::fs::rename(&partial, &archive)
        .await
        .map_err(|e| ActionError::io(format!("rename to {}", archive.display()), e))?;
    Ok((verify::hex(&hasher.finalize()), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_without_tar_gets_a_plain_next_step() {
        let h = missing_tool_hint(
            "tar",
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH",
            "",
        );
        assert!(h.contains("no `tar`") && h.contains("helper pod"), "{h}");
        assert_eq!(
            missing_tool_hint("tar", "exit status 2", "gzip: broken"),
            ""
        );
    }
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn backup_dirs_are_private_and_fresh() -> Result<()> {
        let root = tempfile::tempdir().map_err(|e| ActionError::io("tempdir", e))?;
        let pvc = PvcRef::new("ns", "data");
        let a = create_backup_dir(root.path(), &pvc)?;
        let b = create_backup_dir(root.path(), &pvc)?;
        assert_ne!(a, b);
        for d in [&a, &a.parent().map(Path::to_path_buf).unwrap_or_default()] {
            let mode = std::fs::metadata(d)
                .map_err(|e| ActionError::io("stat", e))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
        write_private(&a.join("x"), b"1")?;
        let mode = std::fs::metadata(a.join("x"))
            .map_err(|e| ActionError::io("stat", e))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            write_private(&a.join("x"), b"2").is_err(),
            "never overwrites"
        );
        mark_failed(&a, "because");
        assert!(a.join(FAILED_FILE).exists());
        Ok(())
    }

    #[test]
    fn a_missing_tar_is_recognised() {
        let missing = ActionError::ExecStart {
            pod: "p".into(),
            why: "OCI runtime exec failed: exec: \"tar\": executable file not found in $PATH"
                .into(),
        };
        assert!(command_missing(&missing));
        assert!(command_missing(&ActionError::Backup(
            "tar exited 127 in pod p: sh: tar: not found".into()
        )));
        assert!(!command_missing(&ActionError::Backup(
            "tar exited 2 in pod p: Cannot open".into()
        )));
        assert!(!command_missing(&ActionError::Cancelled("x".into())));
    }

    #[test]
    fn managed_fields_are_stripped() -> Result<()> {
        let v = serde_json::json!({"metadata": {"name": "a", "managedFields": [{"manager": "x"}]}});
        let s = strip_for_backup(&v)?;
        assert!(s["metadata"].get("managedFields").is_none());
        assert_eq!(s["metadata"]["name"], "a");
        Ok(())
    }
}
