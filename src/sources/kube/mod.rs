//! Kubernetes: connection and kubeconfig resolution ([`client`]), error classification
//! ([`errors`]), the shared pod store and snapshot builder ([`pods`]), pod events ([`events`]),
//! on-demand logs ([`logs`]), the detail view's data ([`detail`]) and the one-shot list that
//! `ondeck check` uses ([`collect_pods_once`]).

pub mod backoff;
pub mod client;
pub mod detail;
pub mod errors;
pub mod events;
pub mod logs;
pub mod pods;
pub mod pvcs;

use ::kube::Api;
use ::kube::api::ListParams;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::config::Config;
use crate::domain::pods::{NamespaceScope, PodRow, sort_by_danger};
use crate::sources::SourceError;

pub use client::{KubeEnv, KubeTarget, Retarget, TargetArgs, connect};

/// Page size for one-shot lists (same as kubectl's chunk size).
const PAGE: u32 = 500;

/// Lists the pods of `target`'s scope once (paginated; each page has the request deadline).
pub async fn list_pods(target: &KubeTarget) -> Result<Vec<Pod>, SourceError> {
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
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(PAGE);
    loop {
        let page = tokio::time::timeout(target.request_timeout, api.list(&lp))
            .await
            .map_err(|_| errors::deadline(&op, target.request_timeout))?
            .map_err(|e| errors::classify(&e, &op))?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
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
    let pods = list_pods(target).await?;
    let mut rows: Vec<PodRow> = pods
        .iter()
        .map(|p| crate::rules::pods::row(p, None, &cfg.rules.pods, now))
        .collect();
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
                    o.insert("age".into(), r.age_text(now).into());
                    o.insert("restarts_text".into(), r.restarts_text(now).into());
                }
                v
            })
            .collect(),
    )
}
