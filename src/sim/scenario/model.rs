//! The scenario file format (YAML): what a simulated cluster contains. Times are relative to
//! the moment the scenario is loaded (`-14m` is fourteen minutes ago, `3d` is in three days) so
//! a demo always looks current. See `assets/scenarios/README.md`.

use crate::sim::auth::Permissions;
use crate::sim::volumes::VolumeContents;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A time relative to load time, in seconds (negative: in the past).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct RelTime(pub i64);

impl RelTime {
    pub fn parse(s: &str) -> Result<RelTime, String> {
        let s = s.trim();
        if s == "now" || s == "0" {
            return Ok(RelTime(0));
        }
        let (sign, rest) = match s.strip_prefix('-') {
            Some(r) => (-1, r),
            None => (1, s.strip_prefix('+').unwrap_or(s)),
        };
        let rest = rest.trim().strip_suffix(" ago").map_or(rest, |r| r);
        let sign = if s.ends_with(" ago") { -1 } else { sign };
        let d = humantime::parse_duration(rest.trim())
            .map_err(|e| format!("invalid relative time {s:?}: {e} (use e.g. -14m, 3d, now)"))?;
        // A century either way is plenty for a scenario, and keeps `now + t` in range.
        match i64::try_from(d.as_secs()) {
            Ok(secs) if secs <= 100 * 366 * 86_400 => Ok(RelTime(sign * secs)),
            _ => Err(format!(
                "relative time {s:?} is out of range (at most 100 years)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for RelTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RelTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A storage size (`10Gi`), checked at load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size(pub String);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::sim::faults::parse_bytes(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid size {s:?} (use e.g. 10Gi, 500Mi)"))
        })?;
        Ok(Size(s))
    }
}

impl Default for Size {
    fn default() -> Self {
        Size("1Gi".into())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Labels per namespace, e.g. `{secure: {pod-security.kubernetes.io/enforce: restricted}}`
    /// (Pod Security admission enforces that label's level on pod creation).
    #[serde(default)]
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// ResourceQuotas: `{namespace, name, hard: {persistentvolumeclaims: "0"}}`; claim
    /// creation over the limit is refused with the quota plugin's 403.
    #[serde(default)]
    pub resource_quotas: Vec<QuotaSpec>,
    #[serde(default)]
    pub storage_classes: Vec<StorageClassSpec>,
    /// Static PVs (Available, or Released with a claim that is gone).
    #[serde(default)]
    pub volumes: Vec<PvSpec>,
    #[serde(default)]
    pub pvcs: Vec<PvcSpec>,
    #[serde(default)]
    pub pods: Vec<PodSpec>,
    #[serde(default)]
    pub secrets: Vec<SecretSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// `networking.k8s.io/v1` Ingresses (their `tls[].secretName` name TLS Secrets).
    #[serde(default)]
    pub ingresses: Vec<IngressSpec>,
    /// cert-manager `Certificate`s; with any, the cert-manager CRD is installed (served),
    /// without, the cluster answers 404 for them as one without cert-manager does.
    #[serde(default)]
    pub certificates: Vec<CertificateSpec>,
    /// Validating / mutating admission webhook configurations with a `caBundle`.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfigSpec>,
    /// Aggregated APIServices with a `caBundle`.
    #[serde(default)]
    pub api_services: Vec<ApiServiceSpec>,
    #[serde(default)]
    pub generate: Option<GenerateSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressTlsSpec {
    pub secret_name: String,
    #[serde(default)]
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub class: Option<String>,
    /// `spec.tls`; every host also gets a rule to a backend Service named after the Ingress.
    #[serde(default)]
    pub tls: Vec<IngressTlsSpec>,
    #[serde(default)]
    pub created: Option<RelTime>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertificateSpec {
    pub namespace: String,
    pub name: String,
    pub secret_name: String,
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// `issuerRef.name` (a ClusterIssuer), default `letsencrypt-prod`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `status.notAfter`; absent: the certificate was never issued.
    #[serde(default)]
    pub not_after: Option<RelTime>,
    /// `status.renewalTime` (default: two thirds into a 90-day life).
    #[serde(default)]
    pub renewal_time: Option<RelTime>,
    /// The Ready condition (default true).
    #[serde(default = "yes")]
    pub ready: bool,
    /// The Ready condition's reason and message (defaults as cert-manager words them).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// The Ready condition's lastTransitionTime (default -1d).
    #[serde(default)]
    pub since: Option<RelTime>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum WebhookKind {
    #[default]
    Validating,
    Mutating,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookSpec {
    pub name: String,
    /// When the CA in `caBundle` expires, e.g. `2d` or `-1d`.
    pub ca_expires: RelTime,
    /// `namespace/name` of the Service the API server calls.
    #[serde(default)]
    pub service: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookConfigSpec {
    pub name: String,
    #[serde(default)]
    pub kind: WebhookKind,
    pub webhooks: Vec<WebhookSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServiceSpec {
    /// `VERSION.GROUP`, e.g. `v1beta1.metrics.k8s.io`.
    pub name: String,
    pub ca_expires: RelTime,
    /// `namespace/name` of the Service behind it.
    pub service: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {
    pub name: String,
    #[serde(default = "yes")]
    pub ready: bool,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub cpu: Option<String>,
    #[serde(default)]
    pub memory: Option<String>,
    #[serde(default)]
    pub created: Option<RelTime>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageClassSpec {
    pub name: String,
    #[serde(default)]
    pub provisioner: Option<String>,
    /// `Delete` (default) or `Retain`.
    #[serde(default)]
    pub reclaim_policy: Option<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub allow_expansion: bool,
    #[serde(default)]
    pub binding_mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PvSpec {
    pub name: String,
    #[serde(default)]
    pub size: Size,
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Default `Retain` for static volumes.
    #[serde(default)]
    pub reclaim_policy: Option<String>,
    #[serde(default)]
    pub access_modes: Vec<String>,
    /// `Available` (default), `Released` (needs `claim`) or `Failed`.
    #[serde(default)]
    pub phase: Option<String>,
    /// `namespace/name` of the claim it was (Released) or is reserved for (Available).
    #[serde(default)]
    pub claim: Option<String>,
    #[serde(default)]
    pub contents: Option<VolumeContents>,
    #[serde(default)]
    pub created: Option<RelTime>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PvcSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub size: Size,
    #[serde(default)]
    pub storage_class: Option<String>,
    #[serde(default)]
    pub access_modes: Vec<String>,
    /// Overrides the StorageClass's policy for the PV made for this claim.
    #[serde(default)]
    pub reclaim_policy: Option<String>,
    /// `Bound` (default: a PV `pvc-<uid>` is made for it), `Pending` or `Lost`.
    #[serde(default)]
    pub phase: Option<String>,
    /// Name of the PV to make (default `pvc-<uid>`).
    #[serde(default)]
    pub volume: Option<String>,
    /// Deleted at this time, kept Terminating by pvc-protection while a pod uses it.
    #[serde(default)]
    pub terminating: Option<RelTime>,
    #[serde(default)]
    pub contents: Option<VolumeContents>,
    #[serde(default)]
    pub created: Option<RelTime>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum PodState {
    #[default]
    Running,
    /// Running and restarted after an out-of-memory kill (last state OOMKilled, exit 137).
    OOMKilled,
    CrashLoopBackOff,
    ImagePullBackOff,
    ErrImagePull,
    /// Unschedulable, with a FailedScheduling event.
    Pending,
    ContainerCreating,
    /// Running but not Ready, with Unhealthy probe events.
    NotReady,
    /// Deletion requested and stuck (a finalizer keeps it).
    Terminating,
    Evicted,
    CreateContainerConfigError,
    Completed,
    Error,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OwnerSpec {
    /// Deployment, StatefulSet, DaemonSet, Job, ReplicaSet.
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSpec {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub memory_limit: Option<Size>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MountSpec {
    pub claim: String,
    pub mount_path: String,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub state: PodState,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub owner: Option<OwnerSpec>,
    /// Default: one container named after the owner (or the pod).
    #[serde(default)]
    pub containers: Vec<ContainerSpec>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the pod was created (default -1d).
    #[serde(default)]
    pub created: Option<RelTime>,
    /// When the current container started (default: `created`).
    #[serde(default)]
    pub started: Option<RelTime>,
    #[serde(default)]
    pub restarts: u32,
    /// When the last restart happened (default -2m for crashing pods).
    #[serde(default)]
    pub last_restart: Option<RelTime>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Overrides the generated reason/message (e.g. the scheduler's message for Pending).
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub volumes: Vec<MountSpec>,
    #[serde(default)]
    pub logs: Vec<String>,
    #[serde(default)]
    pub previous_logs: Vec<String>,
    /// Read-only files visible to exec (e.g. `/proc/net/tcp`).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Extra finalizers (a Terminating pod gets `example.com/stuck` by default).
    #[serde(default)]
    pub finalizers: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaSpec {
    pub namespace: String,
    pub name: String,
    /// Quota resource -> limit (`persistentvolumeclaims: "1"`, `requests.storage: 10Gi`).
    pub hard: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretSpec {
    pub namespace: String,
    pub name: String,
    /// `kubernetes.io/tls` (default) or `Opaque`.
    #[serde(default, rename = "type")]
    pub secret_type: Option<String>,
    /// Certificate expiry (TLS secrets), e.g. `-2d` (expired), `3d`, `20d`, `365d`.
    #[serde(default)]
    pub expires: Option<RelTime>,
    /// Certificate start (default: 90 days before expiry, or -1d if that is in the future).
    #[serde(default)]
    pub issued: Option<RelTime>,
    #[serde(default)]
    pub dns_names: Vec<String>,
    #[serde(default)]
    pub common_name: Option<String>,
    /// Plain data for Opaque secrets.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    #[serde(default)]
    pub created: Option<RelTime>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventSpec {
    pub namespace: String,
    /// `Kind/name` of the involved object, e.g. `Pod/grafana-0`.
    pub object: String,
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
    pub reason: String,
    pub message: String,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub first: Option<RelTime>,
    #[serde(default)]
    pub last: Option<RelTime>,
    #[serde(default)]
    pub component: Option<String>,
}

/// Bulk objects for benchmarks, generated deterministically from `seed`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenerateSpec {
    #[serde(default, deserialize_with = "at_most::<10_000, _>")]
    pub namespaces: u32,
    #[serde(default, deserialize_with = "at_most::<10_000, _>")]
    pub nodes: u32,
    #[serde(default, deserialize_with = "at_most::<200_000, _>")]
    pub pods: u32,
    #[serde(default, deserialize_with = "at_most::<100_000, _>")]
    pub pvcs: u32,
    #[serde(default, deserialize_with = "at_most::<100_000, _>")]
    pub secrets: u32,
    /// Ingresses serving the first this-many generated TLS secrets (one host each).
    #[serde(default, deserialize_with = "at_most::<100_000, _>")]
    pub ingresses: u32,
    /// Storage class of generated PVCs (must exist in the scenario).
    #[serde(default)]
    pub storage_class: Option<String>,
    #[serde(default)]
    pub seed: u64,
}

/// A count range-checked where it enters (the error carries the file position): a scenario
/// asking for four billion pods is a typo, not a reason to fill the memory.
fn at_most<'de, const MAX: u32, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(v) if v <= MAX => Ok(v),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is out of range (at most {MAX})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_counts_are_range_checked_with_the_position() {
        let yaml = "generate:\n  pods: 100\n  namespaces: 4\n";
        let sc = crate::sim::scenario::parse(yaml, "gen.yaml").expect("in range");
        assert_eq!(sc.generate.map(|g| g.pods), Some(100));
        let yaml = "generate:\n  namespaces: 4\n  pods: 4000000000\n";
        let err = crate::sim::scenario::parse(yaml, "gen.yaml")
            .expect_err("four billion pods")
            .to_string();
        assert!(
            err.starts_with("gen.yaml:3:")
                && err.contains("4000000000 is out of range (at most 200000)"),
            "{err}"
        );
        let yaml = "generate:\n  pods: -1\n";
        let err = crate::sim::scenario::parse(yaml, "gen.yaml")
            .expect_err("negative")
            .to_string();
        assert!(err.starts_with("gen.yaml:2:"), "{err}");
    }

    #[test]
    fn relative_times_out_of_range_are_errors_not_overflows() {
        // Found by fuzzing: 2^63 seconds wrapped to i64::MIN and overflowed the sign.
        assert!(RelTime::parse("-9223372036854775808s").is_err());
        assert!(RelTime::parse("1000000y").is_err());
        assert_eq!(RelTime::parse("-100y").map(|t| t.0 < 0), Ok(true));
        assert_eq!(RelTime::parse("3d"), Ok(RelTime(3 * 86_400)));
    }

    #[test]
    fn relative_times() {
        assert_eq!(RelTime::parse("-14m"), Ok(RelTime(-14 * 60)));
        assert_eq!(RelTime::parse("3d"), Ok(RelTime(3 * 86_400)));
        assert_eq!(RelTime::parse("+1h"), Ok(RelTime(3600)));
        assert_eq!(RelTime::parse("2h ago"), Ok(RelTime(-7200)));
        assert_eq!(RelTime::parse("now"), Ok(RelTime(0)));
        assert!(RelTime::parse("yesterday").is_err());
    }
}
