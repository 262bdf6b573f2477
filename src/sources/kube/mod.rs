//! Kubernetes: connection and kubeconfig resolution ([`client`]), error classification
//! ([`errors`]), the shared pod store and snapshot builder ([`pods`]), pod events ([`events`]),
//! on-demand logs ([`logs`]), the detail view's data ([`detail`]), the PVC source ([`pvcs`]) and
//! the one-shot lists that `ondeck check` uses ([`collect_pods_once`], [`collect_pvcs_once`]).

pub mod backoff;
pub mod client;
pub mod detail;
pub mod errors;
pub mod events;
pub mod liveness;
pub mod logs;
pub mod pods;
pub mod pvcs;

use ::kube::Api;
use ::kube::api::ListParams;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::config::Config;
use crate::domain::compact::CompactPod;
use crate::domain::pods::{ApiHealth, NamespaceScope, PodRow, sort_by_danger};
use crate::domain::pvcs::{PvRow, PvcRow, PvcsSnapshot};
use crate::domain::text::Interner;
use crate::sources::SourceError;

pub use client::{KubeEnv, KubeTarget, Retarget, TargetArgs, connect};

/// Page size for one-shot lists (same as kubectl's chunk size).
const PAGE: u32 = 500;

/// Lists every object of `api` once (paginated; each page under `target`'s request deadline).
/// `classify` turns a client error into the message to show.
pub async fn list_all<K>(
    api: &Api<K>,
    target: &KubeTarget,
    op: &errors::Op<'_>,
    classify: impl Fn(&::kube::Error) -> SourceError,
) -> Result<Vec<K>, SourceError>
where
    K: ::kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(PAGE);
    loop {
        let page = tokio::time::timeout(target.request_timeout, api.list(&lp))
            .await
            .map_err(|_| errors::deadline(op, target.request_timeout))?
            .map_err(|e| classify(&e))?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    Ok(out)
}

/// Lists the pods of `target`'s scope once, page by page (each page under the request
/// deadline): `each` gets every page and the page is dropped before the next one is asked for,
/// so memory holds one page of API objects at a time, whatever the cluster's size.
pub async fn for_each_pod_page(
    target: &KubeTarget,
    mut each: impl FnMut(Vec<Pod>),
) -> Result<(), SourceError> {
    let api: Api<Pod> = match &target.scope {
        NamespaceScope::All => Api::all(target.client.clone()),
        NamespaceScope::One(ns) => Api::namespaced(target.client.clone(), ns),
    };
    let op = errors::Op {
        verb: "list",
        resource: "pods",
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let mut lp = ListParams::default().limit(PAGE);
    loop {
        let page = tokio::time::timeout(target.request_timeout, api.list(&lp))
            .await
            .map_err(|_| errors::deadline(&op, target.request_timeout))?
            .map_err(|e| errors::classify(&e, &op))?;
        let next = page.metadata.continue_.filter(|c| !c.is_empty());
        each(page.items);
        // The page's objects are gone: give their memory back before the next page (on
        // another worker thread, it would grow another arena), so the peak is the rows plus
        // one page, whatever the cluster's size.
        crate::memory::release_freed_memory();
        match next {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    Ok(())
}

/// The pods of `target`'s scope, compact (paged: see [`for_each_pod_page`]).
pub async fn list_pods(target: &KubeTarget) -> Result<Vec<CompactPod>, SourceError> {
    let mut interner = Interner::default();
    let mut out = Vec::new();
    for_each_pod_page(target, |page| {
        out.extend(page.iter().map(|p| CompactPod::from_pod(p, &mut interner)))
    })
    .await?;
    Ok(out)
}

/// The pods of `target`'s scope that mount a claim, compact (paged: see
/// [`for_each_pod_page`]): what "who mounts it" needs, and no more.
pub async fn list_claim_pods(target: &KubeTarget) -> Result<Vec<CompactPod>, SourceError> {
    let mut interner = Interner::default();
    let mut out = Vec::new();
    for_each_pod_page(target, |page| {
        out.extend(
            page.iter()
                .filter(|p| {
                    p.spec.as_ref().is_some_and(|s| {
                        s.volumes
                            .iter()
                            .flatten()
                            .any(|v| v.persistent_volume_claim.is_some())
                    })
                })
                .map(|p| CompactPod::from_pod(p, &mut interner)),
        )
    })
    .await?;
    Ok(out)
}

/// One evaluation for `ondeck check`: connect, list once (no watch), compute rows with the
/// configured rules at `now`, sorted by danger. `NotConfigured` when there is no kubeconfig.
pub async fn collect_pods_once(
    cfg: &Config,
    args: &TargetArgs,
    env: &KubeEnv,
) -> Result<Vec<PodRow>, SourceError> {
    let target = connect(args, env, &cfg.kubernetes).await?;
    collect_pods_with(&target, cfg, Timestamp::now()).await
}

/// Like [`collect_pods_once`] on an already connected target and an injected `now`.
pub async fn collect_pods_with(
    target: &KubeTarget,
    cfg: &Config,
    now: Timestamp,
) -> Result<Vec<PodRow>, SourceError> {
    // Each page becomes rows at once: no API object outlives its page. Through the compact
    // form, as in the console, so the rows are built from clean text.
    let mut rows: Vec<PodRow> = Vec::new();
    let mut interner = Interner::default();
    for_each_pod_page(target, |page| {
        rows.extend(page.iter().map(|p| {
            let pod = CompactPod::from_pod(p, &mut interner).to_pod();
            crate::rules::pods::row(&pod, None, &cfg.rules.pods, now)
        }))
    })
    .await?;
    sort_by_danger(&mut rows);
    Ok(rows)
}

/// The `pods` section of `check --json`: every row with its `level` and `reasons`, plus the
/// kubectl-style text columns rendered at `now`.
pub fn check_json(rows: &[PodRow], now: Timestamp) -> serde_json::Value {
    serde_json::Value::Array(
        rows.iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("age".into(), r.age_text(now).as_str().into());
                    o.insert("restarts_text".into(), r.restarts_text(now).as_str().into());
                }
                v
            })
            .collect(),
    )
}

/// How long `check` waits for the kubelets' used-space figures (nice to have, never a failure).
pub const CHECK_USAGE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

/// One PVC evaluation for `ondeck check`: connect, then [`collect_pvcs_with`] at the current
/// time. `NotConfigured` when there is no kubeconfig.
pub async fn collect_pvcs_once(
    cfg: &Config,
    args: &TargetArgs,
    env: &KubeEnv,
) -> Result<PvcsSnapshot, SourceError> {
    let target = connect(args, env, &cfg.kubernetes).await?;
    collect_pvcs_with(&target, cfg, Timestamp::now()).await
}

/// Lists claims (the target's scope), pods, PVs and StorageClasses once (paginated, under
/// deadlines), takes one used-space pass limited to [`CHECK_USAGE_DEADLINE`], and computes the
/// rows at `now`. A failure on claims or pods fails the whole; a failure on PVs only sets
/// `pv_error` (reclaim policies unknown); StorageClasses and used space are best effort.
pub async fn collect_pvcs_with(
    target: &KubeTarget,
    cfg: &Config,
    now: Timestamp,
) -> Result<PvcsSnapshot, SourceError> {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    use k8s_openapi::api::storage::v1::StorageClass;

    let op = |resource| errors::Op {
        verb: "list",
        resource,
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let cluster_op = |resource| errors::Op {
        verb: "list",
        resource,
        scope: &NamespaceScope::All,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let pvc_api: Api<PersistentVolumeClaim> = match &target.scope {
        NamespaceScope::All => Api::all(target.client.clone()),
        NamespaceScope::One(ns) => Api::namespaced(target.client.clone(), ns),
    };
    let pv_api: Api<PersistentVolume> = Api::all(target.client.clone());
    let sc_api: Api<StorageClass> = Api::all(target.client.clone());
    let pvc_op = op("persistentvolumeclaims");
    let pv_op = cluster_op("persistentvolumes");
    let sc_op = cluster_op("storageclasses");
    let cluster_classify = |resource: &'static str| {
        move |e: &::kube::Error| match e {
            ::kube::Error::Api(s) if s.code == 403 => SourceError::Forbidden(format!(
                "list {resource} (cluster-scoped){}: {}",
                target
                    .user
                    .as_deref()
                    .map(|u| format!(" as {u}"))
                    .unwrap_or_default(),
                s.message.trim()
            )),
            other => errors::classify(other, &cluster_op(resource)),
        }
    };
    let (pvcs, pods, pvs, scs) = tokio::join!(
        list_all(&pvc_api, target, &pvc_op, |e| errors::classify(e, &pvc_op)),
        list_claim_pods(target),
        list_all(
            &pv_api,
            target,
            &pv_op,
            cluster_classify("persistentvolumes")
        ),
        list_all(&sc_api, target, &sc_op, cluster_classify("storageclasses")),
    );
    let pvcs: Vec<Arc<PersistentVolumeClaim>> = wrap(pvcs?);
    // Pods that cannot be listed leave the claims' users unknown (the rules say so; a
    // Terminating claim stays critical), as in the console: not a failed source.
    let (pods, pods_unknown) = match pods {
        Ok(p) => (p, None),
        Err(e) => {
            tracing::debug!(error = %e, "pods unavailable for the PVC source");
            (
                Vec::new(),
                Some(crate::rules::pvcs::pods_unknown_why(Some(&e))),
            )
        }
    };
    let (pvs, pv_error): (Vec<Arc<PersistentVolume>>, _) = match pvs {
        Ok(v) => (wrap(v), None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let scs: Vec<Arc<StorageClass>> = match scs {
        Ok(v) => wrap(v),
        Err(e) => {
            tracing::debug!(error = %e, "storage classes unavailable");
            Vec::new()
        }
    };
    let users = pods::claim_users(&pods);
    let nodes = pvcs::usage_nodes(&users);
    let deadline = CHECK_USAGE_DEADLINE.min(target.request_timeout);
    let usage = tokio::time::timeout(deadline, pvcs::poll_usage(target, &nodes, deadline))
        .await
        .unwrap_or_else(|_| pvcs::UsageMap {
            status: crate::domain::pvcs::UsageStatus::Unavailable {
                why: format!(
                    "the kubelets did not answer within {}",
                    crate::rules::short_duration(deadline)
                ),
            },
            ..Default::default()
        });
    let rules = &cfg.rules.pvcs;
    let mut rows = pvcs::build_rows(&pvcs, &pvs, &users, &usage, rules, now);
    if let Some(why) = &pods_unknown {
        pvcs::forget_users(&mut rows, why, rules, now);
    }
    Ok(PvcsSnapshot {
        context: target.context.clone(),
        server: target.cluster_url.clone(),
        scope: target.scope.clone(),
        rows,
        pvs: pvcs::build_pv_rows(&pvs, rules, now),
        pv_error,
        storage_classes: pvcs::build_storage_classes(&scs),
        usage: usage.status,
        api: ApiHealth {
            reachable: true,
            last_contact: Some(now),
            ..Default::default()
        },
        synced: true,
        at: now,
    })
}

fn wrap<K>(v: Vec<K>) -> Vec<std::sync::Arc<K>> {
    v.into_iter().map(std::sync::Arc::new).collect()
}

/// Sanitizes every string in a JSON value (keys too) for `check`'s output.
pub fn sanitize_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = crate::sanitize::line(s) {
                *s = clean;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(sanitize_json),
        serde_json::Value::Object(o) => {
            let taken = std::mem::take(o);
            for (k, mut val) in taken {
                sanitize_json(&mut val);
                o.insert(crate::sanitize::line(&k).into_owned(), val);
            }
        }
        _ => {}
    }
}

/// The `pvcs` section of `check --json`: every claim with its `level`, `reasons` and `markers`,
/// plus text columns (age, used, used_by, markers_text) rendered at `now`; strings sanitized.
pub fn pvcs_check_json(rows: &[PvcRow], now: Timestamp) -> serde_json::Value {
    let mut v = serde_json::Value::Array(
        rows.iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("age".into(), r.age_text(now).as_str().into());
                    o.insert(
                        "access_modes_text".into(),
                        r.access_modes_text().as_str().into(),
                    );
                    o.insert("used_by".into(), r.used_by_text().into());
                    o.insert("markers_text".into(), r.markers_text().into());
                    o.insert(
                        "used_text".into(),
                        match &r.used {
                            crate::domain::pvcs::UsedSpace::Known { used_bytes, .. } => {
                                crate::domain::pvcs::human_bytes(*used_bytes)
                                    .as_str()
                                    .into()
                            }
                            crate::domain::pvcs::UsedSpace::Unknown { .. } => "?".into(),
                        },
                    );
                }
                v
            })
            .collect(),
    );
    sanitize_json(&mut v);
    v
}

/// The `pvs` section of `check --json`: every PV with `level`, `reasons`, `orphaned` and `age`.
pub fn pvs_check_json(rows: &[PvRow], now: Timestamp) -> serde_json::Value {
    let mut v = serde_json::Value::Array(
        rows.iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("age".into(), r.age_text(now).as_str().into());
                }
                v
            })
            .collect(),
    );
    sanitize_json(&mut v);
    v
}
