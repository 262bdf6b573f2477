//! `kubernetes.io/tls` Secrets in scope: a paged list (50 per page) and then a watch, both with
//! the `type=kubernetes.io/tls` field selector, so the API server sends only TLS Secrets. Each
//! Secret's `tls.crt` (and `ca.crt`) is parsed and its data dropped at once; `tls.key` is never
//! looked at. The Ingresses that name a Secret in `spec.tls` are its dependents ("breaks when
//! it expires").

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::StreamExt as _;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt as _, watcher};
use tokio::sync::mpsc;

use super::{CertBatch, CertRow, CertSource, pem_rows};
use crate::domain::pods::NamespaceScope;
use crate::domain::text::Clean;
use crate::sources::kube::KubeTarget;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// The field selector every list and watch sends.
pub const FIELD_SELECTOR: &str = "type=kubernetes.io/tls";
/// Secrets per page (enix's lesson: never the whole set at once).
pub const PAGE: u32 = 50;

fn api<K>(client: kube::Client, scope: &NamespaceScope) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match scope {
        NamespaceScope::All => Api::all(client),
        NamespaceScope::One(ns) => Api::namespaced(client, ns),
    }
}

/// Secret (namespace, name) -> the Ingress hosts that use it.
pub type Dependents = HashMap<(String, String), Vec<String>>;

/// The Ingresses of the scope, as dependents; `Err` when they cannot be listed (the rows then
/// say nothing about dependents, and the batch says why).
pub async fn ingress_dependents(target: &KubeTarget) -> Result<Dependents, String> {
    let api: Api<Ingress> = api(target.client.clone(), &target.scope);
    let mut out: Dependents = HashMap::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = tokio::time::timeout(target.request_timeout, api.list(&lp))
            .await
            .map_err(|_| "listing Ingresses timed out".to_string())?
            .map_err(|e| format!("listing Ingresses: {e}"))?;
        for ing in page.items {
            let ns = ing.metadata.namespace.clone().unwrap_or_default();
            let name = ing.metadata.name.clone().unwrap_or_default();
            for t in ing.spec.iter().flat_map(|s| s.tls.iter().flatten()) {
                let Some(secret) = &t.secret_name else {
                    continue;
                };
                let hosts = t.hosts.clone().unwrap_or_default().join(", ");
                out.entry((ns.clone(), secret.clone()))
                    .or_default()
                    .push(format!("Ingress {ns}/{name}: {hosts}"));
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    Ok(out)
}

/// The rows of one Secret; its data is consumed (dropped when this returns).
pub fn secret_rows(mut s: Secret, deps: &Dependents) -> Vec<CertRow> {
    let ns = s.metadata.namespace.take().unwrap_or_default();
    let name = s.metadata.name.take().unwrap_or_default();
    let loc = format!("{}/{}", Clean::identifier(&ns), Clean::identifier(&name));
    let mut data = s.data.take().unwrap_or_default();
    let mut rows = match data.remove("tls.crt") {
        Some(crt) => pem_rows(CertSource::Secret, &loc, &crt.0),
        None => vec![CertRow::unknown(
            CertSource::Secret,
            Clean::new(&loc),
            "the Secret has no tls.crt",
        )],
    };
    if let Some(ca) = data.remove("ca.crt")
        && !ca.0.is_empty()
    {
        rows.extend(pem_rows(
            CertSource::Secret,
            &format!("{loc} ca.crt"),
            &ca.0,
        ));
    }
    drop(data); // tls.key included, never decoded
    if let Some(d) = deps.get(&(ns, name))
        && let Some(first) = rows.first_mut()
    {
        first.dependents = d
            .iter()
            .map(|x| Clean::new(&format!("breaks when it expires: {x}")))
            .collect();
    }
    rows
}

/// One paged list (`check`), as a batch.
pub async fn list_once(target: &KubeTarget) -> Result<CertBatch, SourceError> {
    let api: Api<Secret> = api(target.client.clone(), &target.scope);
    let (deps, dep_err) = match ingress_dependents(target).await {
        Ok(d) => (d, None),
        Err(e) => (Dependents::new(), Some(e)),
    };
    let mut rows = Vec::new();
    let mut lp = ListParams::default().fields(FIELD_SELECTOR).limit(PAGE);
    loop {
        let page = tokio::time::timeout(target.request_timeout, api.list(&lp))
            .await
            .map_err(|_| SourceError::Timeout("listing TLS Secrets".into()))?
            .map_err(|e| list_error(&e))?;
        for s in page.items {
            rows.extend(secret_rows(s, &deps));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    let _ = dep_err; // Ingresses absent or forbidden: the rows simply have no dependents.
    Ok(CertBatch {
        origin: CertSource::Secret,
        rows,
        error: None,
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    })
}

fn list_error(e: &kube::Error) -> SourceError {
    match e {
        kube::Error::Api(s) if s.code == 403 => SourceError::Forbidden(format!(
            "list secrets (type kubernetes.io/tls): {}",
            s.message
        )),
        other => SourceError::Other(format!("listing TLS Secrets: {other}")),
    }
}

/// The console's watch: sends a batch after the initial list and after changes (at most one
/// per second), and nothing while nothing changes. Stops when the returned guard is dropped.
pub fn spawn_watch(
    target: KubeTarget,
    tx: mpsc::Sender<SourceUpdate>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let deps = ingress_dependents(&target).await.unwrap_or_default();
        let api: Api<Secret> = api(target.watch_client.clone(), &target.scope);
        let cfg = watcher::Config::default()
            .fields(FIELD_SELECTOR)
            .page_size(PAGE);
        let mut stream = watcher::watcher(api, cfg).default_backoff().boxed();
        let mut store: BTreeMap<(String, String), Vec<CertRow>> = BTreeMap::new();
        let mut init: Option<BTreeMap<(String, String), Vec<CertRow>>> = None;
        let mut dirty = false;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let key = |s: &Secret| {
            (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            )
        };
        loop {
            tokio::select! {
                ev = stream.next() => {
                    let Some(ev) = ev else { break };
                    match ev {
                        Ok(watcher::Event::Init) => init = Some(BTreeMap::new()),
                        Ok(watcher::Event::InitApply(s)) => {
                            let k = key(&s);
                            if let Some(m) = init.as_mut() {
                                m.insert(k, secret_rows(s, &deps));
                            }
                        }
                        Ok(watcher::Event::InitDone) => {
                            if let Some(m) = init.take() {
                                store = m;
                            }
                            dirty = true;
                        }
                        Ok(watcher::Event::Apply(s)) => {
                            let k = key(&s);
                            store.insert(k, secret_rows(s, &deps));
                            dirty = true;
                        }
                        Ok(watcher::Event::Delete(s)) => {
                            store.remove(&key(&s));
                            dirty = true;
                        }
                        Err(e) => {
                            let err = SourceError::Other(format!("watching TLS Secrets: {e}"));
                            let batch = CertBatch {
                                origin: CertSource::Secret,
                                rows: store.values().flatten().cloned().collect(),
                                error: Some(Clean::new(&err.to_string())),
                                at: Timestamp::now(),
                                diagnoses: Vec::new(),
                            };
                            if send(&tx, batch).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    if dirty {
                        dirty = false;
                        let batch = CertBatch {
                            origin: CertSource::Secret,
                            rows: store.values().flatten().cloned().collect(),
                            error: None,
                            at: Timestamp::now(),
                            diagnoses: Vec::new(),
                        };
                        if send(&tx, batch).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    })
}

/// Sends one batch as a certificates update.
pub async fn send(tx: &mpsc::Sender<SourceUpdate>, batch: CertBatch) -> Result<(), ()> {
    tx.send(SourceUpdate {
        source: SourceId::Certs,
        generation: crate::sources::next_generation(),
        at: std::time::Instant::now(),
        wall: Timestamp::now(),
        result: Ok(Payload::new(batch)),
    })
    .await
    .map_err(|_| ())
}
