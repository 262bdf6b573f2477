//! The temporary helper pod that mounts a claim when no running pod does: image from the
//! config, `sleep` as its command, labelled `app.kubernetes.io/managed-by=ondeck`, an
//! `activeDeadlineSeconds` so the cluster ends it even if ondeck dies, a deadline for it to
//! become Running, and deletion on success, failure and cancel ([`HelperPodGuard`]).

use super::executor::Executor;
use super::{ActionError, Result};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, PersistentVolumeClaimVolumeSource, Pod, PodSpec, SeccompProfile,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;
use std::time::Duration;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "ondeck";
/// Where the helper mounts the claim.
pub const HELPER_MOUNT: &str = "/ondeck-volume";
/// The cluster kills the helper after this long whatever happens to ondeck.
const ACTIVE_DEADLINE_SECS: i64 = 6 * 3600;

/// The helper pod's manifest. `read_only` for backups; read-write for restores.
pub fn helper_pod_spec(ns: &str, claim: &str, image: &str, read_only: bool, purpose: &str) -> Pod {
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
            containers: vec![Container {
                name: "helper".into(),
                image: Some(image.to_string()),
                command: Some(vec!["sleep".into(), ACTIVE_DEADLINE_SECS.to_string()]),
                // Baseline-compatible (only capabilities baseline allows) and as little as possible; root is kept because a backup
                // must read every file whatever its owner. A namespace enforcing `restricted`
                // refuses the pod with a message that names the policy.
                security_context: Some(SecurityContext {
                    allow_privilege_escalation: Some(false),
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        add: Some(
                            ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"]
                                .map(String::from)
                                .to_vec(),
                        ),
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
    /// Creates the helper and arms the guard.
    pub async fn create(exec: &Executor, pod: &Pod) -> Result<Self> {
        let created = exec.create_pod(pod).await?;
        Ok(HelperPodGuard {
            exec: exec.clone(),
            namespace: created.metadata.namespace.unwrap_or_default(),
            name: created.metadata.name.unwrap_or_default(),
            armed: true,
        })
    }

    /// Waits until the pod is Running, or fails at `limit` (the pod is then deleted by the
    /// caller's cleanup). A pod that ends (Failed/Succeeded) fails at once.
    pub async fn wait_running(&self, limit: Duration) -> Result<()> {
        let started = tokio::time::Instant::now();
        let mut last_phase = String::from("Pending");
        loop {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(ActionError::Backup(format!(
                    "helper pod {}/{} did not start within {}s (still {last_phase}); is the image {} pullable and the volume attachable?",
                    self.namespace,
                    self.name,
                    limit.as_secs(),
                    "configured in [backup] helper_image"
                )));
            }
            let poll = super::deadline(
                "get helper pod",
                left,
                self.exec.get_pod_opt(&self.namespace, &self.name),
            )
            .await;
            match poll {
                Ok(Some(p)) => {
                    let phase = p
                        .status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_else(|| "Pending".into());
                    match phase.as_str() {
                        "Running" => return Ok(()),
                        "Failed" | "Succeeded" => {
                            return Err(ActionError::Backup(format!(
                                "helper pod {}/{} ended ({phase}) before the backup",
                                self.namespace, self.name
                            )));
                        }
                        _ => last_phase = phase,
                    }
                }
                Ok(None) => {
                    return Err(ActionError::Backup(format!(
                        "helper pod {}/{} disappeared",
                        self.namespace, self.name
                    )));
                }
                Err(ActionError::Timeout { .. }) => continue,
                Err(e) => return Err(e),
            }
            let pause = Duration::from_millis(250).min(limit.saturating_sub(started.elapsed()));
            tokio::time::sleep(pause).await;
        }
    }

    /// Deletes the helper now and disarms the guard.
    pub async fn cleanup(mut self) -> Result<()> {
        self.armed = false;
        self.exec
            .delete_pod_now(&self.namespace, &self.name)
            .await
            .inspect_err(
                |e| tracing::warn!(error = %e, pod = %self.name, "helper pod cleanup failed"),
            )
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
