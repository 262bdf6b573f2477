//! The one place requests of the guarded flows leave from. Reads carry the request deadline;
//! every request that changes the cluster (create, patch, delete, exec) goes through
//! [`Executor::mutate`], which refuses it in read-only mode whatever asked for it.
//!
//! Read-only decision: `exec` is refused too. It runs a process inside a workload's container
//! (RBAC counts it as `create pods/exec`), so a read-only console does not do it even for a
//! `tar` that only reads. SelfSubjectAccessReview and SelfSubjectReview are allowed: they are
//! questions to the authorizer and persist nothing. In read-only mode the flows still run the
//! preflight and show the plan, then stop before the first mutating step.

use super::target::KubeTarget;
use super::{ActionError, Change, ChangeLog, Result, deadline};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{
    Api, AttachParams, AttachedProcess, DeleteParams, ListParams, Patch, PatchParams, PostParams,
    Preconditions,
};
use std::time::Duration;

/// What a mutating request is, for the read-only refusal and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    CreatePod {
        namespace: String,
        name: String,
    },
    DeletePod {
        namespace: String,
        name: String,
    },
    Exec {
        namespace: String,
        pod: String,
    },
    PatchPv {
        name: String,
        what: &'static str,
    },
    CreatePvc {
        namespace: String,
        name: String,
    },
    DeletePvc {
        namespace: String,
        name: String,
        dry_run: bool,
    },
}

impl std::fmt::Display for Mutation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mutation::CreatePod { namespace, name } => write!(f, "create pod {namespace}/{name}"),
            Mutation::DeletePod { namespace, name } => write!(f, "delete pod {namespace}/{name}"),
            Mutation::Exec { namespace, pod } => write!(f, "exec in pod {namespace}/{pod}"),
            Mutation::PatchPv { name, what } => write!(f, "patch PV {name} ({what})"),
            Mutation::CreatePvc { namespace, name } => write!(f, "create PVC {namespace}/{name}"),
            Mutation::DeletePvc {
                namespace,
                name,
                dry_run,
            } => write!(
                f,
                "delete PVC {namespace}/{name}{}",
                if *dry_run { " (server dry-run)" } else { "" }
            ),
        }
    }
}

/// Where a flow's changes are said as they happen.
pub type ChangeSink = std::sync::Arc<dyn Fn(&Change) + Send + Sync>;

/// Sends the guarded flows' requests. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    client: kube::Client,
    target: KubeTarget,
    read_only: bool,
    request_timeout: Duration,
    changes: ChangeLog,
    sink: Option<ChangeSink>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("target", &self.target)
            .field("read_only", &self.read_only)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// `target` is the context and server `client` was built for: the flows record it in
    /// the preflight and compare it with the current one before changing anything.
    pub fn new(
        client: kube::Client,
        target: KubeTarget,
        read_only: bool,
        request_timeout: Duration,
    ) -> Self {
        Executor {
            client,
            target,
            read_only,
            request_timeout,
            changes: ChangeLog::default(),
            sink: None,
        }
    }

    /// The same executor for one flow: a fresh change log, and `sink` told of each change
    /// when it happens (the CLI prints it, the dialog shows it).
    pub fn for_flow(&self, sink: Option<ChangeSink>) -> Executor {
        Executor {
            changes: ChangeLog::default(),
            sink,
            ..self.clone()
        }
    }

    /// Records a change made (or undone) and says it.
    pub fn said(&self, change: Change) {
        tracing::info!(subject = %change.subject, change = %change.text, "cluster changed");
        if let Some(sink) = &self.sink {
            sink(&change);
        }
        self.changes.push(change);
    }

    /// This flow's changes so far.
    pub fn changes(&self) -> &ChangeLog {
        &self.changes
    }

    pub fn target(&self) -> &KubeTarget {
        &self.target
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The gate every mutating request passes.
    fn mutate(&self, m: &Mutation) -> Result<()> {
        if self.read_only {
            tracing::info!(request = %m, "read-only: mutating request refused");
            return Err(ActionError::ReadOnly(m.to_string()));
        }
        tracing::info!(request = %m, "sending mutating request");
        Ok(())
    }

    async fn call<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = kube::Result<T>>,
    ) -> Result<T> {
        deadline(what, self.request_timeout, async {
            fut.await.map_err(|e| ActionError::kube(what, e))
        })
        .await
    }

    // ---- reads -------------------------------------------------------------------------

    pub async fn get_pvc(&self, ns: &str, name: &str) -> Result<PersistentVolumeClaim> {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
        self.call(&format!("get PVC {ns}/{name}"), api.get(name))
            .await
    }

    pub async fn get_pvc_opt(&self, ns: &str, name: &str) -> Result<Option<PersistentVolumeClaim>> {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
        self.call(&format!("get PVC {ns}/{name}"), api.get_opt(name))
            .await
    }

    pub async fn get_pv(&self, name: &str) -> Result<PersistentVolume> {
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        self.call(&format!("get PV {name}"), api.get(name)).await
    }

    pub async fn list_pvs(&self) -> Result<Vec<PersistentVolume>> {
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let list = self
            .call("list PVs", api.list(&ListParams::default()))
            .await?;
        Ok(list.items)
    }

    pub async fn get_storage_class(&self, name: &str) -> Result<Option<StorageClass>> {
        let api: Api<StorageClass> = Api::all(self.client.clone());
        self.call(&format!("get StorageClass {name}"), api.get_opt(name))
            .await
    }

    pub async fn list_pods(&self, ns: &str) -> Result<Vec<Pod>> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let list = self
            .call(
                &format!("list pods in {ns}"),
                api.list(&ListParams::default()),
            )
            .await?;
        Ok(list.items)
    }

    pub async fn get_pod_opt(&self, ns: &str, name: &str) -> Result<Option<Pod>> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        self.call(&format!("get pod {ns}/{name}"), api.get_opt(name))
            .await
    }

    /// The namespace's enforced Pod Security level (`pod-security.kubernetes.io/enforce`);
    /// `None` when unset or unreadable (a user may not get namespaces).
    pub async fn pod_security_enforce(&self, ns: &str) -> Option<String> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let n = self
            .call(&format!("get namespace {ns}"), api.get_opt(ns))
            .await
            .ok()??;
        n.metadata
            .labels?
            .get("pod-security.kubernetes.io/enforce")
            .map(|l| super::sanitize(l))
    }

    /// Asks the authorizer whether the current user may do `verb` on `resource`.
    /// Returns `(allowed, reason)`.
    pub async fn can_i(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<(bool, String)> {
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    subresource: subresource.map(str::to_string),
                    namespace: namespace.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let what = format!("access review {verb} {resource}");
        let out = self
            .call(&what, api.create(&PostParams::default(), &review))
            .await?;
        let status = out.status.unwrap_or_default();
        let reason = status
            .reason
            .or(status.evaluation_error)
            .unwrap_or_default();
        Ok((status.allowed && !status.denied.unwrap_or(false), reason))
    }

    /// The user name the API server sees (SelfSubjectReview); `None` where the server does
    /// not offer it.
    pub async fn whoami(&self) -> Option<String> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let review = SelfSubjectReview::default();
        let out = self
            .call(
                "self subject review",
                api.create(&PostParams::default(), &review),
            )
            .await
            .ok()?;
        out.status?.user_info?.username
    }

    // ---- mutations ---------------------------------------------------------------------

    /// Sets a PV's reclaim policy; `resource_version` makes it fail with 409 if the PV
    /// changed since it was read.
    pub async fn patch_pv_reclaim_policy(
        &self,
        pv: &str,
        policy: &str,
        resource_version: Option<&str>,
    ) -> Result<PersistentVolume> {
        self.mutate(&Mutation::PatchPv {
            name: pv.into(),
            what: "reclaimPolicy",
        })?;
        let mut patch = serde_json::json!({"spec": {"persistentVolumeReclaimPolicy": policy}});
        if let Some(rv) = resource_version {
            patch["metadata"] = serde_json::json!({ "resourceVersion": rv });
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        self.call(
            &format!("patch PV {pv} reclaimPolicy={policy}"),
            api.patch(pv, &PatchParams::default(), &Patch::Merge(&patch)),
        )
        .await
    }

    /// Clears a Released PV's claimRef so a new claim can bind to it.
    pub async fn patch_pv_clear_claim_ref(
        &self,
        pv: &str,
        resource_version: Option<&str>,
    ) -> Result<PersistentVolume> {
        self.mutate(&Mutation::PatchPv {
            name: pv.into(),
            what: "clear claimRef",
        })?;
        let mut patch = serde_json::json!({"spec": {"claimRef": null}});
        if let Some(rv) = resource_version {
            patch["metadata"] = serde_json::json!({ "resourceVersion": rv });
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        self.call(
            &format!("patch PV {pv} claimRef=null"),
            api.patch(pv, &PatchParams::default(), &Patch::Merge(&patch)),
        )
        .await
    }

    /// Sets a PV's claimRef to `claim_ref` exactly (fields it lacks are removed; `None`
    /// clears it) and keeps reclaimPolicy Retain, in one merge patch guarded by
    /// `resource_version` (409 if the PV changed since it was read).
    pub async fn patch_pv_claim_ref(
        &self,
        pv: &str,
        claim_ref: Option<&serde_json::Value>,
        resource_version: &str,
        what: &'static str,
    ) -> Result<PersistentVolume> {
        self.mutate(&Mutation::PatchPv {
            name: pv.into(),
            what,
        })?;
        let claim_ref = match claim_ref {
            // A merge patch merges objects: every field the new claimRef lacks is nulled so
            // that no uid or resourceVersion of an earlier claim survives.
            Some(serde_json::Value::Object(m)) => {
                let mut out = m.clone();
                for f in [
                    "apiVersion",
                    "kind",
                    "namespace",
                    "name",
                    "uid",
                    "resourceVersion",
                    "fieldPath",
                ] {
                    out.entry(f.to_string()).or_insert(serde_json::Value::Null);
                }
                serde_json::Value::Object(out)
            }
            _ => serde_json::Value::Null,
        };
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": resource_version},
            "spec": {"claimRef": claim_ref, "persistentVolumeReclaimPolicy": "Retain"},
        });
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        self.call(
            &format!("patch PV {pv} claimRef"),
            api.patch(pv, &PatchParams::default(), &Patch::Merge(&patch)),
        )
        .await
    }

    /// Waits, by watching the pod (no polling), until `done` says so of it (`None`: gone).
    /// Returns what the watch last saw; `limit` bounds the whole wait.
    pub async fn watch_pod_until(
        &self,
        ns: &str,
        name: &str,
        limit: Duration,
        done: impl Fn(Option<&Pod>) -> bool + Send + Sync + Clone + 'static,
    ) -> Result<Option<Pod>> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let what = format!("watch pod {ns}/{name}");
        let run = async {
            let mut failures = 0u32;
            loop {
                match kube::runtime::wait::await_condition(api.clone(), name, done.clone()).await {
                    Ok(p) => return Ok(p),
                    Err(e) => {
                        // The watch broke (network, 5xx): start it again with a short backoff;
                        // the overall deadline still ends the wait.
                        failures += 1;
                        tracing::warn!(error = %e, pod = %name, "watch of the helper pod failed");
                        let pause = Duration::from_millis(200 * u64::from(failures.min(10)))
                            + Duration::from_millis(fastrand::u64(0..200));
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        };
        deadline(&what, limit, run).await
    }

    pub async fn create_pvc(&self, pvc: &PersistentVolumeClaim) -> Result<PersistentVolumeClaim> {
        let ns = pvc.metadata.namespace.clone().unwrap_or_default();
        let name = pvc.metadata.name.clone().unwrap_or_default();
        self.mutate(&Mutation::CreatePvc {
            namespace: ns.clone(),
            name: name.clone(),
        })?;
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        self.call(
            &format!("create PVC {ns}/{name}"),
            api.create(&PostParams::default(), pvc),
        )
        .await
    }

    pub async fn create_pod(&self, pod: &Pod) -> Result<Pod> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.mutate(&Mutation::CreatePod {
            namespace: ns.clone(),
            name: name.clone(),
        })?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        self.call(
            &format!("create pod {ns}/{name}"),
            api.create(&PostParams::default(), pod),
        )
        .await
    }

    /// Deletes a pod immediately (grace period 0); a pod already gone is success.
    pub async fn delete_pod_now(&self, ns: &str, name: &str) -> Result<()> {
        self.mutate(&Mutation::DeletePod {
            namespace: ns.into(),
            name: name.into(),
        })?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        };
        match self
            .call(&format!("delete pod {ns}/{name}"), api.delete(name, &dp))
            .await
        {
            Ok(_) | Err(ActionError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes a PVC guarded by uid and resourceVersion preconditions; `dry_run` asks the
    /// server to validate without persisting (`dryRun=All`).
    pub async fn delete_pvc_guarded(
        &self,
        ns: &str,
        name: &str,
        uid: &str,
        resource_version: &str,
        dry_run: bool,
    ) -> Result<()> {
        self.mutate(&Mutation::DeletePvc {
            namespace: ns.into(),
            name: name.into(),
            dry_run,
        })?;
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
        let dp = DeleteParams {
            dry_run,
            preconditions: Some(Preconditions {
                uid: Some(uid.into()),
                resource_version: Some(resource_version.into()),
            }),
            ..DeleteParams::default()
        };
        let what = format!(
            "delete PVC {ns}/{name}{}",
            if dry_run { " (dry-run)" } else { "" }
        );
        self.call(&what, api.delete(name, &dp)).await.map(|_| ())
    }

    /// Starts a command in a pod's container. The returned process has no deadline of its
    /// own: the caller bounds it (no-progress timeout, status deadline).
    pub async fn exec(
        &self,
        ns: &str,
        pod: &str,
        container: Option<&str>,
        command: Vec<String>,
        stdin: bool,
    ) -> Result<AttachedProcess> {
        self.mutate(&Mutation::Exec {
            namespace: ns.into(),
            pod: pod.into(),
        })?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let mut ap = AttachParams::default()
            .stdin(stdin)
            .stdout(true)
            .stderr(true);
        if let Some(c) = container {
            ap = ap.container(c);
        }
        ap.max_stdout_buf_size = Some(256 * 1024);
        ap.max_stdin_buf_size = Some(256 * 1024);
        let what = format!("exec in pod {ns}/{pod}");
        match deadline(&what, self.request_timeout, async {
            api.exec(pod, command, &ap)
                .await
                .map_err(|e| exec_start_error(pod, e))
        })
        .await
        {
            Err(ActionError::Timeout { secs, .. }) => Err(ActionError::ExecStart {
                pod: pod.to_string(),
                why: format!("no answer within {secs}s"),
            }),
            other => other,
        }
    }
}

/// Why an exec could not start, before any command ran: the upgrade was refused (403 on
/// pods/exec, 400 for a pod without a running container, 404) or the connection failed.
fn exec_start_error(pod: &str, e: kube::Error) -> ActionError {
    use kube::client::UpgradeConnectionError as U;
    let why = match &e {
        kube::Error::Api(status) => {
            format!("{} ({})", super::sanitize(&status.message), status.code)
        }
        kube::Error::UpgradeConnection(U::ProtocolSwitch(code)) => match code.as_u16() {
            403 => "403 Forbidden on pods/exec: the user may not exec into this pod".to_string(),
            401 => "401 Unauthorized: the credentials were refused".to_string(),
            404 => "404: the pod is gone".to_string(),
            400 => "400 Bad Request: the container is not running (or not in this pod)".to_string(),
            c => format!("the API server refused the upgrade with HTTP {c}"),
        },
        other => super::sanitize(&other.to_string()),
    };
    ActionError::ExecStart {
        pod: pod.to_string(),
        why,
    }
}
