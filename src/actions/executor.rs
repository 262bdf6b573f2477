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
use super::{ActionError, Result, deadline};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
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

/// Sends the guarded flows' requests. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    client: kube::Client,
    target: KubeTarget,
    read_only: bool,
    request_timeout: Duration,
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
        }
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
        self.call(
            &format!("exec in pod {ns}/{pod}"),
            api.exec(pod, command, &ap),
        )
        .await
    }
}
