//! The temporary helper pod that mounts a claim when no running pod does: image from the
//! config, `sleep` as its command, labelled `app.kubernetes.io/managed-by=ondeck`, an
//! `activeDeadlineSeconds` so the cluster ends it even if ondeck dies, and deletion on
//! success, failure and cancel ([`HelperPodGuard`]).
//!
//! It runs as the user of the pods that mount the claim when they say (non-root, every
//! capability dropped, seccomp RuntimeDefault, no privilege escalation: it passes Pod Security
//! `restricted`), else as root with the few capabilities that read every file (`baseline`).
//! Its start is watched (no polling): it fails as soon as the pod shows a reason it will not
//! start (Unschedulable, ErrImagePull/ImagePullBackOff, CreateContainerConfigError, ...),
//! naming it; the start timeout only ends a silent wait.

use super::backup::{BackupProgress, BackupStage};
use super::executor::Executor;
use super::{ActionError, Result};
use super::{Change, sanitize};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, PersistentVolumeClaimVolumeSource, Pod, PodSecurityContext, PodSpec,
    SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "ondeck";
/// Where the helper mounts the claim.
pub const HELPER_MOUNT: &str = "/ondeck-volume";
/// The cluster kills the helper after this long whatever happens to ondeck.
const ACTIVE_DEADLINE_SECS: i64 = 6 * 3600;

/// Who the helper runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperIdentity {
    /// Root with CHOWN, DAC_OVERRIDE, FOWNER, FSETID (reads every file; Pod Security baseline).
    Root,
    /// A non-root user (Pod Security restricted); `from` says where the IDs came from.
    User {
        uid: i64,
        gid: Option<i64>,
        fs_group: Option<i64>,
        from: String,
    },
}

impl HelperIdentity {
    pub fn describe(&self) -> String {
        match self {
            HelperIdentity::Root => {
                "as root with read-all capabilities (Pod Security baseline)".into()
            }
            HelperIdentity::User {
                uid,
                gid,
                fs_group,
                from,
            } => format!(
                "as non-root uid {uid}{}{} from {from} (passes Pod Security restricted)",
                gid.map(|g| format!(" gid {g}")).unwrap_or_default(),
                fs_group
                    .map(|g| format!(" fsGroup {g}"))
                    .unwrap_or_default(),
            ),
        }
    }
}

/// The IDs a pod (or its first container that sets them) runs as: `(uid, gid, fsGroup)`.
pub fn pod_ids(pod: &Pod) -> Option<(i64, Option<i64>, Option<i64>)> {
    let spec = pod.spec.as_ref()?;
    let psc = spec.security_context.as_ref();
    let container_sc = spec
        .containers
        .iter()
        .filter_map(|c| c.security_context.as_ref())
        .find(|sc| sc.run_as_user.is_some());
    let uid = container_sc
        .and_then(|sc| sc.run_as_user)
        .or_else(|| psc.and_then(|p| p.run_as_user))?;
    let gid = container_sc
        .and_then(|sc| sc.run_as_group)
        .or_else(|| psc.and_then(|p| p.run_as_group));
    let fs_group = psc.and_then(|p| p.fs_group);
    (uid > 0).then_some((uid, gid, fs_group))
}

/// The user an unknown-owner helper runs as where `restricted` is enforced.
pub const FALLBACK_UID: i64 = 65532;

/// Chooses who the helper runs as: the IDs of a pod that mounts `claim` (any phase) when one
/// says; else non-root where the namespace enforces `restricted`; else root.
pub fn choose_identity(pods: &[Pod], claim: &str, enforce: Option<&str>) -> HelperIdentity {
    for p in pods {
        if super::preflight::pod_mount_of(p, claim).is_none() {
            continue;
        }
        if is_helper(p) {
            continue;
        }
        if let Some((uid, gid, fs_group)) = pod_ids(p) {
            return HelperIdentity::User {
                uid,
                gid,
                fs_group,
                from: format!("pod {}", p.metadata.name.clone().unwrap_or_default()),
            };
        }
    }
    if enforce == Some("restricted") {
        return HelperIdentity::User {
            uid: FALLBACK_UID,
            gid: Some(FALLBACK_UID),
            fs_group: Some(FALLBACK_UID),
            from:
                "no pod that mounts the claim says its user (files it cannot read fail the backup)"
                    .into(),
        };
    }
    HelperIdentity::Root
}

/// A pod ondeck made (it never counts as a user of the claim).
pub fn is_helper(p: &Pod) -> bool {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(MANAGED_BY)
}

/// The helper pod's manifest, as root (see [`helper_pod_spec_as`]).
pub fn helper_pod_spec(ns: &str, claim: &str, image: &str, read_only: bool, purpose: &str) -> Pod {
    helper_pod_spec_as(ns, claim, image, read_only, purpose, &HelperIdentity::Root)
}

/// The helper pod's manifest. `read_only` for backups; read-write for restores.
pub fn helper_pod_spec_as(
    ns: &str,
    claim: &str,
    image: &str,
    read_only: bool,
    purpose: &str,
    identity: &HelperIdentity,
) -> Pod {
    let suffix = format!("{:08x}", fastrand::u32(..));
    // A claim name is a DNS subdomain; cut to 40 characters it may end in '.' or '-', which
    // would make "base-suffix" an invalid pod name on a real API server.
    let base: String = claim.chars().take(40).collect();
    let base = base.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    let name = format!("ondeck-{purpose}-{base}-{suffix}");
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        ("ondeck.io/purpose".to_string(), purpose.to_string()),
    ]);
    let (pod_sc, add_caps, run_as_non_root) = match identity {
        HelperIdentity::Root => (
            None,
            Some(
                ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"]
                    .map(String::from)
                    .to_vec(),
            ),
            None,
        ),
        HelperIdentity::User {
            uid, gid, fs_group, ..
        } => (
            Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(*uid),
                run_as_group: *gid,
                fs_group: *fs_group,
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            None,
            Some(true),
        ),
    };
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(ns.to_string()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            active_deadline_seconds: Some(ACTIVE_DEADLINE_SECS),
            termination_grace_period_seconds: Some(1),
            automount_service_account_token: Some(false),
            security_context: pod_sc,
            containers: vec![Container {
                name: "helper".into(),
                image: Some(image.to_string()),
                command: Some(vec!["sleep".into(), ACTIVE_DEADLINE_SECS.to_string()]),
                // As root: only capabilities baseline allows, to read every file whatever
                // its owner. As a user: nothing added, which `restricted` requires.
                security_context: Some(SecurityContext {
                    allow_privilege_escalation: Some(false),
                    run_as_non_root: run_as_non_root,
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        add: add_caps,
                    }),
                    seccomp_profile: Some(SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                volume_mounts: Some(vec![VolumeMount {
                    name: "data".into(),
                    mount_path: HELPER_MOUNT.into(),
                    read_only: Some(read_only),
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            volumes: Some(vec![Volume {
                name: "data".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.to_string(),
                    read_only: Some(read_only),
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Deletes the helper pod when dropped, unless [`HelperPodGuard::cleanup`] already did.
/// The drop path spawns the delete on the runtime (cancel, panic unwinding); the normal
/// paths await [`HelperPodGuard::cleanup`] so the result is known.
pub struct HelperPodGuard {
    exec: Executor,
    pub namespace: String,
    pub name: String,
    armed: bool,
}

impl HelperPodGuard {
    /// Creates the helper and arms the guard; the creation is said. A refusal by Pod
    /// Security admission names the rules it broke.
    pub async fn create(exec: &Executor, pod: &Pod) -> Result<Self> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let created = exec.create_pod(pod).await.map_err(|e| match e {
            ActionError::Forbidden { message, .. } if message.contains("violates PodSecurity") => {
                ActionError::Refused(format!(
                    "the helper pod was refused by Pod Security admission in namespace {ns}: {}",
                    pod_security_rules(&message)
                ))
            }
            other => other,
        })?;
        let guard = HelperPodGuard {
            exec: exec.clone(),
            namespace: created.metadata.namespace.unwrap_or_default(),
            name: created.metadata.name.unwrap_or_default(),
            armed: true,
        };
        exec.said(Change {
            subject: format!("pod {}/{}", guard.namespace, guard.name),
            text: format!("created helper pod {}/{}", guard.namespace, guard.name),
            undo: Some(format!(
                "kubectl delete pod -n {} {}",
                guard.namespace, guard.name
            )),
        });
        Ok(guard)
    }

    /// Waits, watching the pod, until it is Running. Fails as soon as it shows a reason it
    /// will not start (naming it), when it ends or disappears, or at `limit` if nothing
    /// happens. While waiting, `progress` gets what it waits for and the time left, each
    /// second.
    pub async fn wait_running(
        &self,
        limit: Duration,
        progress: &(dyn Fn(BackupProgress) + Send + Sync),
    ) -> Result<()> {
        let id = format!("{}/{}", self.namespace, self.name);
        let seen: Arc<Mutex<String>> = Arc::new(Mutex::new("to be scheduled".into()));
        let seen_w = seen.clone();
        let cond = move |p: Option<&Pod>| {
            let st = helper_state(p);
            if let HelperState::Waiting(w) = &st {
                *seen_w.lock().unwrap_or_else(|e| e.into_inner()) = w.clone();
            }
            !matches!(st, HelperState::Waiting(_))
        };
        let started = tokio::time::Instant::now();
        let watch = self
            .exec
            .watch_pod_until(&self.namespace, &self.name, limit, cond);
        tokio::pin!(watch);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let result = loop {
            tokio::select! {
                r = &mut watch => break r,
                _ = tick.tick() => {
                    let what = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    progress(BackupProgress::waiting(
                        BackupStage::StartingHelper,
                        format!("the helper pod {what} ({id})"),
                        limit.saturating_sub(started.elapsed()),
                    ));
                }
            }
        };
        match result {
            Ok(p) => match helper_state(p.as_ref()) {
                HelperState::Running => Ok(()),
                HelperState::Failed(why) => Err(ActionError::Backup(format!(
                    "helper pod {id} will not start: {why}"
                ))),
                HelperState::Waiting(w) => Err(ActionError::Backup(format!(
                    "helper pod {id} did not start ({w})"
                ))),
            },
            Err(ActionError::Timeout { .. }) => {
                let what = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Err(ActionError::Backup(format!(
                    "helper pod {id} did not start within {}s (still Pending, waiting {what}) and showed no reason; is the image in [backup] helper_image pullable and the volume attachable?",
                    limit.as_secs()
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes the helper now and disarms the guard; the removal is said.
    pub async fn cleanup(mut self) -> Result<()> {
        self.armed = false;
        let r = self
            .exec
            .delete_pod_now(&self.namespace, &self.name)
            .await
            .inspect_err(
                |e| tracing::warn!(error = %e, pod = %self.name, "helper pod cleanup failed"),
            );
        if r.is_ok() {
            self.exec.said(Change {
                subject: format!("pod {}/{}", self.namespace, self.name),
                text: format!("removed helper pod {}/{}", self.namespace, self.name),
                undo: None,
            });
        }
        r
    }
}

/// What a helper pod shows, for the wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperState {
    Running,
    /// Still coming up; what it waits for.
    Waiting(String),
    /// It will not start, or it ended: why, naming the reason.
    Failed(String),
}

/// Container waiting reasons that do not go away by waiting.
const TERMINAL_WAITING: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "CrashLoopBackOff",
];

/// Classifies a helper pod as the watch sees it.
pub fn helper_state(p: Option<&Pod>) -> HelperState {
    let Some(p) = p else {
        return HelperState::Failed("the pod disappeared (deleted by someone else?)".into());
    };
    let Some(status) = p.status.as_ref() else {
        return HelperState::Waiting("to be scheduled".into());
    };
    let phase = status.phase.as_deref().unwrap_or("Pending");
    match phase {
        "Running" => return HelperState::Running,
        "Failed" | "Succeeded" => {
            let why = [status.reason.as_deref(), status.message.as_deref()]
                .into_iter()
                .flatten()
                .map(sanitize)
                .collect::<Vec<_>>()
                .join(": ");
            return HelperState::Failed(format!(
                "it ended ({phase}{})",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(", {why}")
                }
            ));
        }
        _ => {}
    }
    for c in status.container_statuses.iter().flatten() {
        if let Some(w) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or("");
            if TERMINAL_WAITING.contains(&reason) {
                return HelperState::Failed(format!(
                    "{reason}: {}",
                    sanitize(w.message.as_deref().unwrap_or("no message"))
                ));
            }
        }
    }
    let scheduled = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled");
    if let Some(c) = scheduled
        && c.status == "False"
    {
        let msg = c.message.as_deref().unwrap_or("");
        // Waiting for the claim to bind resolves itself; any other reason does not.
        if c.reason.as_deref() == Some("Unschedulable")
            && !msg.contains("unbound immediate PersistentVolumeClaims")
        {
            return HelperState::Failed(format!(
                "Unschedulable: {}",
                sanitize(if msg.is_empty() { "no node fits" } else { msg })
            ));
        }
        return HelperState::Waiting(format!("to be scheduled ({})", sanitize(msg)));
    }
    if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() {
        return HelperState::Waiting("to be scheduled".into());
    }
    let image = p
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    HelperState::Waiting(format!("to pull image {} and start", sanitize(&image)))
}

/// The rules a Pod Security refusal names: the text after `violates PodSecurity "...": `.
pub fn pod_security_rules(message: &str) -> String {
    match message.split_once("violates PodSecurity") {
        Some((_, rest)) => format!("violates PodSecurity{rest}"),
        None => message.to_string(),
    }
}

impl Drop for HelperPodGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let exec = self.exec.clone();
        let (ns, name) = (self.namespace.clone(), self.name.clone());
        tracing::info!(pod = %name, "helper pod dropped without cleanup: deleting it");
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = exec.delete_pod_now(&ns, &name).await {
                    tracing::warn!(error = %e, pod = %name, "helper pod cleanup failed");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_is_labelled_read_only_and_bounded() {
        let p = helper_pod_spec("ns", "data-a", "busybox", true, "backup");
        let labels = p.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(MANAGED_BY_LABEL).map(String::as_str),
            Some("ondeck")
        );
        let spec = p.spec.clone().unwrap_or_default();
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert!(spec.active_deadline_seconds.is_some());
        let vol = &spec.volumes.unwrap_or_default()[0];
        let src = vol.persistent_volume_claim.clone().unwrap_or_default();
        assert_eq!(
            (src.claim_name.as_str(), src.read_only),
            ("data-a", Some(true))
        );
        let c = &spec.containers[0];
        assert_eq!(c.image.as_deref(), Some("busybox"));
        assert_eq!(c.command.as_ref().map(|c| c[0].as_str()), Some("sleep"));
        let name = p.metadata.name.unwrap_or_default();
        assert!(name.starts_with("ondeck-backup-data-a-") && name.len() <= 63);
    }

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn the_watch_names_the_reason_a_helper_will_not_start() {
        let unsched = pod(
            serde_json::json!({"status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: 1 node(s) had untolerated taint {x: }."}]}}),
        );
        assert!(
            matches!(helper_state(Some(&unsched)), HelperState::Failed(m) if m.starts_with("Unschedulable: 0/1 nodes"))
        );
        // Waiting for its claim to bind is not a reason to give up.
        let binding = pod(
            serde_json::json!({"status": {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."}]}}),
        );
        assert!(matches!(
            helper_state(Some(&binding)),
            HelperState::Waiting(_)
        ));
        for reason in [
            "ErrImagePull",
            "ImagePullBackOff",
            "CreateContainerConfigError",
        ] {
            let p = pod(
                serde_json::json!({"spec": {"nodeName": "n", "containers": [{"name": "helper"}]},
                "status": {"phase": "Pending", "containerStatuses": [{"name": "helper", "image": "x",
                "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": "why"}}}]}}),
            );
            assert_eq!(
                helper_state(Some(&p)),
                HelperState::Failed(format!("{reason}: why"))
            );
        }
        let creating = pod(
            serde_json::json!({"spec": {"nodeName": "n", "containers": [{"name": "helper", "image": "busybox"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "helper", "image": "busybox",
            "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]}}),
        );
        assert!(
            matches!(helper_state(Some(&creating)), HelperState::Waiting(w) if w.contains("busybox"))
        );
        let running = pod(serde_json::json!({"status": {"phase": "Running"}}));
        assert_eq!(helper_state(Some(&running)), HelperState::Running);
        assert!(matches!(helper_state(None), HelperState::Failed(_)));
    }

    #[test]
    fn the_helper_runs_as_the_claims_users_and_then_passes_restricted() {
        let user = pod(serde_json::json!({"metadata": {"name": "app-0"}, "spec": {
            "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000},
            "containers": [{"name": "app", "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}));
        let id = choose_identity(std::slice::from_ref(&user), "data", None);
        assert_eq!(
            id,
            HelperIdentity::User {
                uid: 1000,
                gid: Some(3000),
                fs_group: Some(2000),
                from: "pod app-0".into()
            }
        );
        let spec = helper_pod_spec_as("ns", "data", "busybox", true, "backup", &id);
        let v = serde_json::to_value(&spec).unwrap_or_default();
        assert!(
            crate::sim::admission::pod_security_violations(&v, "restricted").is_empty(),
            "{v}"
        );
        assert_eq!(v["spec"]["securityContext"]["fsGroup"], 2000);
        assert_eq!(
            v["spec"]["containers"][0]["volumeMounts"][0]["readOnly"],
            true
        );
        // Nobody says: root where allowed (reads every file), non-root where restricted.
        assert_eq!(choose_identity(&[], "data", None), HelperIdentity::Root);
        assert!(matches!(
            choose_identity(&[], "data", Some("restricted")),
            HelperIdentity::User {
                uid: FALLBACK_UID,
                ..
            }
        ));
        let root = serde_json::to_value(helper_pod_spec("ns", "data", "busybox", true, "backup"))
            .unwrap_or_default();
        assert!(!crate::sim::admission::pod_security_violations(&root, "restricted").is_empty());
        assert!(crate::sim::admission::pod_security_violations(&root, "baseline").is_empty());
    }

    #[test]
    fn a_long_claim_name_cut_at_a_dot_still_makes_a_valid_pod_name() {
        let claim = format!("{}.{}", "a".repeat(39), "b".repeat(20));
        let p = helper_pod_spec("ns", &claim, "busybox", true, "backup");
        let name = p.metadata.name.unwrap_or_default();
        assert!(name.len() <= 63, "{name}");
        assert!(!name.contains(".-") && !name.contains("--"), "{name}");
        assert!(
            name.split('.')
                .all(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && l.ends_with(|c: char| c.is_ascii_alphanumeric())),
            "{name}"
        );
    }
}
