//! Shared fixture for the guarded PVC flow tests: a simulated cluster, an executor on a
//! kubeconfig written for it, a private backup/audit directory, and assertions on the
//! sim's request log and volume directories.
#![allow(dead_code)]

use ondeck::actions::PvcRef;
use ondeck::actions::backup::BackupOptions;
use ondeck::actions::executor::Executor;
use ondeck::actions::flow::{DeleteRequest, FlowEvent, FlowInput, FlowResult, run_delete_flow};
use ondeck::actions::target::{self, TargetSource};
use ondeck::actions::verify::hex;
use ondeck::sim::SimCluster;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub struct Fixture {
    pub sim: SimCluster,
    pub exec: Executor,
    pub source: TargetSource,
    pub kubeconfig: PathBuf,
    pub dir: tempfile::TempDir,
}

pub async fn fixture(
    scenario: &str,
    read_only: bool,
) -> Result<Fixture, Box<dyn std::error::Error>> {
    let sim = SimCluster::scenario(scenario).await?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig)?;
    let (client, target, source) =
        target::connect(Some(kubeconfig.clone()), None, Duration::from_secs(5)).await?;
    let exec = Executor::new(client, target, read_only, Duration::from_secs(10));
    Ok(Fixture {
        sim,
        exec,
        source,
        kubeconfig,
        dir,
    })
}

impl Fixture {
    pub fn backup_options(&self) -> BackupOptions {
        BackupOptions {
            dir: self.dir.path().join("backups"),
            helper_image: "busybox".into(),
            helper_start_timeout: Duration::from_secs(15),
            no_progress_timeout: Duration::from_secs(5),
        }
    }

    pub fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    pub fn request(&self, pvc: &str) -> Result<DeleteRequest, Box<dyn std::error::Error>> {
        Ok(DeleteRequest {
            pvc: pvc.parse::<PvcRef>()?,
            allow_in_use: false,
            retain: true,
            backup: self.backup_options(),
            follow_timeout: Duration::from_secs(5),
            audit_path: Some(self.audit_path()),
        })
    }

    /// Runs the delete flow; `answer` sees every event and may reply.
    pub async fn run_flow(
        &self,
        req: &DeleteRequest,
        mut answer: impl FnMut(&FlowEvent) -> Option<FlowInput>,
    ) -> (FlowResult, Vec<FlowEvent>) {
        let (ev_tx, mut ev_rx) = mpsc::channel(64);
        let (in_tx, in_rx) = mpsc::channel(4);
        let flow = run_delete_flow(&self.exec, &self.source, req, ev_tx, in_rx);
        tokio::pin!(flow);
        let mut events = Vec::new();
        let result = loop {
            tokio::select! {
                r = &mut flow => break r,
                Some(ev) = ev_rx.recv() => {
                    if let Some(input) = answer(&ev) {
                        let _ = in_tx.send(input).await;
                    }
                    events.push(ev);
                }
            }
        };
        while let Ok(ev) = ev_rx.try_recv() {
            events.push(ev);
        }
        (result, events)
    }

    /// Requests that changed (or could change) the cluster: everything but reads and the
    /// authorizer questions.
    pub fn mutating_requests(&self) -> Vec<String> {
        self.sim
            .request_log()
            .into_iter()
            .filter(|r| {
                !matches!(
                    r.verb.as_str(),
                    "get" | "list" | "watch" | "discovery" | "nonresource"
                )
            })
            .filter(|r| {
                !matches!(
                    r.resource.as_str(),
                    "selfsubjectaccessreviews" | "selfsubjectreviews"
                )
            })
            .map(|r| {
                format!(
                    "{} {} {:?} {:?} dry_run={} -> {}",
                    r.verb, r.resource, r.namespace, r.name, r.dry_run, r.status
                )
            })
            .collect()
    }

    /// Delete requests on PVCs (dry-run or not).
    pub fn pvc_deletes(&self) -> Vec<(bool, u16)> {
        self.sim
            .request_log()
            .into_iter()
            .filter(|r| r.verb == "delete" && r.resource == "persistentvolumeclaims")
            .map(|r| (r.dry_run, r.status))
            .collect()
    }

    pub fn pvc_exists(&self, ns: &str, name: &str) -> bool {
        self.sim
            .state()
            .get(
                ondeck::sim::resources::Kind::PersistentVolumeClaim,
                ns,
                name,
            )
            .is_some()
    }

    pub fn pv(&self, name: &str) -> Option<serde_json::Value> {
        self.sim
            .state()
            .get(ondeck::sim::resources::Kind::PersistentVolume, "", name)
    }

    pub fn pv_of(&self, ns: &str, name: &str) -> Option<String> {
        self.sim
            .state()
            .get(
                ondeck::sim::resources::Kind::PersistentVolumeClaim,
                ns,
                name,
            )?
            .pointer("/spec/volumeName")?
            .as_str()
            .map(str::to_string)
    }

    /// Pods ondeck created (helpers) that still exist and are not being deleted.
    pub fn live_helpers(&self) -> Vec<String> {
        self.sim
            .state()
            .list(ondeck::sim::resources::Kind::Pod, None)
            .into_iter()
            .filter(|p| {
                p.pointer("/metadata/labels/app.kubernetes.io~1managed-by")
                    .and_then(|v| v.as_str())
                    == Some("ondeck")
            })
            .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
            .filter_map(|p| {
                p.pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect()
    }
}

/// sha256 of every regular file under `root`, keyed by relative path.
pub fn digest_tree(root: &Path) -> std::io::Result<BTreeMap<String, (u64, String)>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                let bytes = std::fs::read(entry.path())?;
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().to_string())
                    .unwrap_or_default();
                out.insert(rel, (bytes.len() as u64, hex(&Sha256::digest(&bytes))));
            }
        }
    }
    Ok(out)
}

/// The manifest's files in the same shape as [`digest_tree`].
pub fn manifest_tree(
    m: &ondeck::actions::verify::ArchiveSummary,
) -> BTreeMap<String, (u64, String)> {
    m.entries
        .iter()
        .map(|e| (e.path.clone(), (e.size, e.sha256.clone())))
        .collect()
}

pub fn audit_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
