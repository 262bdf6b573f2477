//! The cluster-side certificate collectors besides TLS Secrets, and the machinery they share
//! with the Secrets' collector: each kind is listed (paged) or watched (kube's watcher) and
//! turned at once into [`Item`]s (certificate rows, or the Secrets an Ingress uses); the
//! collector's batch is built from what every kind holds.
//!
//! - cert-manager `Certificate`s (cert-manager.io/v1, a CRD, through `DynamicObject`): notAfter,
//!   renewalTime, the Ready condition ("renewal failing since DATE: MESSAGE"). A 404 means
//!   cert-manager is not installed: no rows and no error. A 403 is "unknown (why)".
//! - The `caBundle` of Validating/MutatingWebhookConfigurations and of APIServices: SOURCE
//!   `webhook` / `apiservice`, WHERE = configuration/webhook or the APIService's name.
//! - Ingresses (networking.k8s.io/v1): the Secrets they name in `spec.tls`, with their hosts,
//!   as "breaks when it expires: HOSTS (ingress NS/NAME)" on the Secret's row and on the row
//!   of the cert-manager Certificate that writes that Secret (`spec.secretName`); forbidden,
//!   those rows say "who uses it: unknown (why)". One Ingress watch serves both.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::ListParams;
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, ResourceExt as _};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::{CertBatch, CertRow, CertSource};
use crate::domain::pods::NamespaceScope;
use crate::domain::text::Clean;
use crate::sources::SourceError;
use crate::sources::kube::KubeTarget;
use crate::sources::kube::errors::{Op, classify, classify_watcher};

mod certmanager;
mod webhooks;

pub use certmanager::*;
pub use webhooks::*;

/// Objects per page of every list (Secrets, Ingresses, Certificates, webhooks).
pub const PAGE: u32 = 50;

/// What one object contributes.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// Certificate rows (a Secret, a webhook configuration, an APIService).
    Rows(Vec<CertRow>),
    /// A cert-manager Certificate's row and the Secret it writes (`spec.secretName`, empty if
    /// none): the Ingresses serving that Secret break when it expires.
    Issues { secret: String, rows: Vec<CertRow> },
    /// An Ingress: the Secrets it serves, as `((namespace, secret), "breaks when it expires:
    /// HOSTS (ingress NS/NAME)")`, worded once here and shared by every batch.
    Uses(Vec<((String, String), Clean)>),
}

/// How the list/watch of one kind stands.
#[derive(Clone, Debug, PartialEq)]
pub enum KindState {
    Pending,
    Ready,
    /// 404: the kind is not served (a CRD not installed, an API group not enabled).
    NotInstalled,
    /// Cannot be read, and why (forbidden, unreachable); the last good items are kept.
    Failed(String),
}

/// One watched or listed kind: its objects' items and its state.
#[derive(Clone, Debug)]
pub struct KindStore {
    pub what: &'static str,
    pub items: BTreeMap<(String, String), Item>,
    pub state: KindState,
    init: Option<BTreeMap<(String, String), Item>>,
}

impl Item {
    /// The item as it is kept for as long as its object exists: no spare capacity (thousands
    /// of Secrets and Ingresses, each kept until it changes).
    pub fn compact(mut self) -> Item {
        match &mut self {
            Item::Rows(r) | Item::Issues { rows: r, .. } => r.shrink_to_fit(),
            Item::Uses(u) => u.shrink_to_fit(),
        }
        self
    }
}

impl KindStore {
    pub fn new(what: &'static str) -> Self {
        KindStore {
            what,
            items: BTreeMap::new(),
            state: KindState::Pending,
            init: None,
        }
    }
}

/// Whether a kube error is the server saying it does not know the resource.
fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn watcher_not_found(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => is_not_found(k),
        watcher::Error::WatchError(s) => s.code == 404,
        watcher::Error::NoResourceVersion => false,
    }
}

fn op<'a>(target: &'a KubeTarget, verb: &'a str, resource: &'a str, cluster: bool) -> Op<'a> {
    static ALL: NamespaceScope = NamespaceScope::All;
    Op {
        verb,
        resource,
        scope: if cluster { &ALL } else { &target.scope },
        server: &target.cluster_url,
        user: target.user.as_deref(),
    }
}

/// The batch of `origin` from the kinds' stores. Ingress items become the dependents of the
/// rows of the Secrets they name (a Secret's own rows, a cert-manager Certificate's through its
/// `spec.secretName`); a kind that failed makes the batch's error (its rows stay). Rows are
/// shared with the stores (a row is a handle): only the dependents are the batch's own.
pub fn batch_of(origin: CertSource, kinds: &[&KindStore]) -> CertBatch {
    let mut uses: HashMap<(&str, &str), Vec<Clean>> = HashMap::new();
    let mut uses_unknown: Option<Clean> = None;
    let mut errors = Vec::new();
    for k in kinds {
        let has_uses = k.items.values().any(|i| matches!(i, Item::Uses(_))) || k.what == INGRESSES;
        if let KindState::Failed(why) = &k.state {
            if has_uses {
                uses_unknown = Some(Clean::new(&format!("who uses it: unknown ({why})")));
            } else {
                errors.push(why.clone());
            }
        }
        for i in k.items.values() {
            if let Item::Uses(u) = i {
                for ((ns, secret), text) in u {
                    uses.entry((ns.as_str(), secret.as_str()))
                        .or_default()
                        .push(text.clone());
                }
            }
        }
    }
    let mut rows = Vec::new();
    for k in kinds {
        for ((ns, name), item) in &k.items {
            // The rows, and the Secret whose Ingresses depend on them.
            let (rs, secret) = match item {
                Item::Rows(rs) => (rs, (origin == CertSource::Secret).then_some(name.as_str())),
                Item::Issues { secret, rows } => {
                    (rows, (!secret.is_empty()).then_some(secret.as_str()))
                }
                Item::Uses(_) => continue,
            };
            let start = rows.len();
            rows.extend(rs.iter().cloned());
            let Some(secret) = secret else { continue };
            let Some(first) = rows.get_mut(start) else {
                continue;
            };
            if let Some(why) = &uses_unknown {
                first.dependents = vec![why.clone()];
            } else if let Some(u) = uses.get(&(ns.as_str(), secret)) {
                first.dependents = u.clone();
            }
        }
    }
    CertBatch {
        origin,
        rows,
        error: (!errors.is_empty()).then(|| Clean::new(&errors.join("; "))),
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    }
}

/// Lists every object of `api` in pages into `store` (404: not installed).
pub async fn list_into<K>(
    target: &KubeTarget,
    api: &Api<K>,
    mut lp: ListParams,
    store: &mut KindStore,
    cluster: bool,
    f: &(dyn Fn(&K) -> Item + Send + Sync),
) where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
{
    lp = lp.limit(PAGE);
    let mut items = BTreeMap::new();
    loop {
        let page = match tokio::time::timeout(target.request_timeout, api.list(&lp)).await {
            Err(_) => {
                store.state = KindState::Failed(format!(
                    "timed out: no answer in time listing {}",
                    store.what
                ));
                return;
            }
            Ok(Err(e)) if is_not_found(&e) => {
                store.state = KindState::NotInstalled;
                store.items.clear();
                return;
            }
            Ok(Err(e)) => {
                store.state = KindState::Failed(
                    classify(&e, &op(target, "list", store.what, cluster)).to_string(),
                );
                return;
            }
            Ok(Ok(p)) => p,
        };
        for o in &page.items {
            items.insert(key(o), f(o).compact());
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    store.items = items;
    store.state = KindState::Ready;
}

fn key<K: kube::Resource>(o: &K) -> (String, String) {
    (o.namespace().unwrap_or_default(), o.name_any())
}

/// One kind's watch events, already turned into items.
pub enum Ev {
    Init,
    InitApply((String, String), Item),
    InitDone,
    Apply((String, String), Item),
    Delete((String, String)),
    NotFound,
    Error(String),
}

/// How long a kind the server does not serve (404: cert-manager not installed) is left alone
/// before it is looked for again: no request every few seconds for something that is not there.
pub const NOT_SERVED_RECHECK: Duration = Duration::from_secs(600);

/// A watch of `api` (paged initial list, then events, with kube's backoff on errors), as
/// [`Ev`]s tagged with `idx`. After a 404 the watch stops and starts again only after
/// [`NOT_SERVED_RECHECK`].
pub fn watch_stream<K>(
    target: &KubeTarget,
    api: Api<K>,
    cfg: watcher::Config,
    idx: usize,
    what: &'static str,
    cluster: bool,
    f: impl Fn(&K) -> Item + Send + Sync + 'static,
) -> impl Stream<Item = (usize, Ev)> + Send + 'static
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let t = target.clone();
    let f = std::sync::Arc::new(f);
    let cfg = cfg.page_size(PAGE);
    let make = move || {
        let t = t.clone();
        let f = f.clone();
        watcher::watcher(api.clone(), cfg.clone())
            .default_backoff()
            .map(move |ev| match ev {
                Ok(watcher::Event::Init) => Ev::Init,
                Ok(watcher::Event::InitApply(o)) => Ev::InitApply(key(&o), f(&o).compact()),
                Ok(watcher::Event::InitDone) => Ev::InitDone,
                Ok(watcher::Event::Apply(o)) => Ev::Apply(key(&o), f(&o).compact()),
                Ok(watcher::Event::Delete(o)) => Ev::Delete(key(&o)),
                Err(e) if watcher_not_found(&e) => Ev::NotFound,
                Err(e) => {
                    Ev::Error(classify_watcher(&e, &op(&t, "list", what, cluster)).to_string())
                }
            })
            .boxed()
    };
    // State: the running watch, or `None` after a 404 (wait, then start a new one).
    futures::stream::unfold((Some(make()), make), move |(cur, make)| async move {
        let mut s = match cur {
            Some(s) => s,
            None => {
                tokio::time::sleep(NOT_SERVED_RECHECK).await;
                make()
            }
        };
        let ev = s.next().await?;
        let next = if matches!(ev, Ev::NotFound) {
            None
        } else {
            Some(s)
        };
        Some(((idx, ev), (next, make)))
    })
}

/// Applies one event; `true` when the batch changed.
pub fn apply(store: &mut KindStore, ev: Ev) -> bool {
    match ev {
        Ev::Init => {
            store.init = Some(BTreeMap::new());
            false
        }
        Ev::InitApply(k, i) => {
            if let Some(m) = store.init.as_mut() {
                m.insert(k, i);
            }
            false
        }
        Ev::InitDone => {
            if let Some(m) = store.init.take() {
                store.items = m;
            }
            store.state = KindState::Ready;
            true
        }
        Ev::Apply(k, i) => {
            store.items.insert(k, i);
            true
        }
        Ev::Delete(k) => store.items.remove(&k).is_some(),
        Ev::NotFound => {
            let changed = store.state != KindState::NotInstalled || !store.items.is_empty();
            store.state = KindState::NotInstalled;
            store.items.clear();
            changed
        }
        Ev::Error(why) => {
            let changed = store.state != KindState::Failed(why.clone());
            store.state = KindState::Failed(why);
            changed
        }
    }
}

/// One batch a merged collector sends: its origin and the stores (indices) it is built from.
pub type Output = (CertSource, Vec<usize>);

/// Runs merged watch streams into `stores` and sends each output's batch after the initial
/// lists of its stores and after changes to them (at most once a second), nothing while
/// nothing changes. Stores are shared between outputs (one Ingress watch serves the Secrets'
/// and the cert-manager Certificates' batches).
pub fn spawn_merged(
    outputs: Vec<Output>,
    mut stores: Vec<KindStore>,
    streams: Vec<futures::stream::BoxStream<'static, (usize, Ev)>>,
    sink: mpsc::Sender<CertBatch>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut merged = futures::stream::select_all(streams);
        let mut dirty = vec![false; outputs.len()];
        // After a (re)list the pages and decoded objects are garbage: give them back.
        let mut listed = false;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                ev = merged.next() => {
                    let Some((i, ev)) = ev else { break };
                    listed |= matches!(ev, Ev::InitDone);
                    if let Some(s) = stores.get_mut(i)
                        && apply(s, ev)
                    {
                        for (d, (_, from)) in dirty.iter_mut().zip(&outputs) {
                            *d |= from.contains(&i);
                        }
                    }
                }
                _ = tick.tick() => {
                    for (d, (origin, from)) in dirty.iter_mut().zip(&outputs) {
                        let refs: Vec<&KindStore> =
                            from.iter().filter_map(|&i| stores.get(i)).collect();
                        // Wait until every kind has answered once (its list, a 404 or an error).
                        if !*d || refs.iter().any(|s| s.state == KindState::Pending) {
                            continue;
                        }
                        *d = false;
                        if sink.send(batch_of(*origin, &refs)).await.is_err() {
                            return;
                        }
                    }
                    if std::mem::take(&mut listed) {
                        crate::memory::release_freed_memory();
                    }
                }
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Ingresses

pub const INGRESSES: &str = "ingresses";

/// The Secrets an Ingress serves, with its hosts.
pub fn ingress_item(ing: &Ingress) -> Item {
    let ns = ing.namespace().unwrap_or_default();
    let name = ing.name_any();
    let mut out = Vec::new();
    for t in ing.spec.iter().flat_map(|s| s.tls.iter().flatten()) {
        let Some(secret) = &t.secret_name else {
            continue;
        };
        let hosts = t.hosts.clone().unwrap_or_default();
        let hosts = if hosts.is_empty() {
            "every host".to_string()
        } else {
            hosts.join(", ")
        };
        out.push((
            (ns.clone(), secret.clone()),
            Clean::from_string(format!(
                "breaks when it expires: {hosts} (ingress {}/{})",
                Clean::identifier(&ns),
                Clean::identifier(&name)
            )),
        ));
    }
    Item::Uses(out)
}

pub fn ingress_api(target: &KubeTarget, watch: bool) -> Api<Ingress> {
    let c = if watch {
        target.watch_client.clone()
    } else {
        target.client.clone()
    };
    match &target.scope {
        NamespaceScope::All => Api::all(c),
        NamespaceScope::One(ns) => Api::namespaced(c, ns),
    }
}

/// Rows of an item (for tests and `check`).
pub fn rows(i: Item) -> Vec<CertRow> {
    match i {
        Item::Rows(r) | Item::Issues { rows: r, .. } => r,
        Item::Uses(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Collectors

/// `check`: cert-manager Certificates once, with the Ingresses that serve their Secrets
/// (`None` when cert-manager is not installed).
pub async fn certmanager_once(target: &KubeTarget) -> Option<CertBatch> {
    let mut s = KindStore::new(CERTIFICATES);
    let api = certificate_api(target, false);
    list_into(
        target,
        &api,
        ListParams::default(),
        &mut s,
        false,
        &certificate_item,
    )
    .await;
    if s.state == KindState::NotInstalled {
        return None;
    }
    let mut ing = KindStore::new(INGRESSES);
    if !s.items.is_empty() {
        let iapi = ingress_api(target, false);
        list_into(
            target,
            &iapi,
            ListParams::default(),
            &mut ing,
            false,
            &ingress_item,
        )
        .await;
    }
    Some(batch_of(CertSource::CertManager, &[&s, &ing]))
}

/// `check`: webhook configurations once.
pub async fn webhooks_once(target: &KubeTarget) -> CertBatch {
    let mut v = KindStore::new(VALIDATING);
    let mut m = KindStore::new(MUTATING);
    let va: Api<ValidatingWebhookConfiguration> = Api::all(target.client.clone());
    let ma: Api<MutatingWebhookConfiguration> = Api::all(target.client.clone());
    tokio::join!(
        list_into(
            target,
            &va,
            ListParams::default(),
            &mut v,
            true,
            &validating_item
        ),
        list_into(
            target,
            &ma,
            ListParams::default(),
            &mut m,
            true,
            &mutating_item
        ),
    );
    batch_of(CertSource::Webhook, &[&v, &m])
}

/// `check`: APIServices once.
pub async fn apiservices_once(target: &KubeTarget) -> CertBatch {
    let mut s = KindStore::new(APISERVICES);
    let api: Api<APIService> = Api::all(target.client.clone());
    list_into(
        target,
        &api,
        ListParams::default(),
        &mut s,
        true,
        &apiservice_item,
    )
    .await;
    batch_of(CertSource::Apiservice, &[&s])
}

/// The console: watches of cert-manager Certificates (with the Ingresses that serve their
/// Secrets; with `secrets`, the TLS Secrets too, sharing that one Ingress watch), webhook
/// configurations and APIServices, each collector's batch to `sink`.
pub fn spawn_watches(
    target: &KubeTarget,
    sink: mpsc::Sender<CertBatch>,
    secrets: bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    let wc = || target.watch_client.clone();
    let cm = watch_stream(
        target,
        certificate_api(target, true),
        watcher::Config::default(),
        0,
        CERTIFICATES,
        false,
        certificate_item,
    )
    .boxed();
    let ing = watch_stream(
        target,
        ingress_api(target, true),
        watcher::Config::default(),
        1,
        INGRESSES,
        false,
        ingress_item,
    )
    .boxed();
    let mut outputs = vec![(CertSource::CertManager, vec![0, 1])];
    let mut stores = vec![KindStore::new(CERTIFICATES), KindStore::new(INGRESSES)];
    let mut streams = vec![cm, ing];
    if secrets {
        outputs.insert(0, (CertSource::Secret, vec![2, 1]));
        stores.push(KindStore::new(super::secrets::SECRETS));
        streams.push(super::secrets::watch_stream(target, 2));
    }
    let hooks = vec![
        watch_stream(
            target,
            Api::<ValidatingWebhookConfiguration>::all(wc()),
            watcher::Config::default(),
            0,
            VALIDATING,
            true,
            validating_item,
        )
        .boxed(),
        watch_stream(
            target,
            Api::<MutatingWebhookConfiguration>::all(wc()),
            watcher::Config::default(),
            1,
            MUTATING,
            true,
            mutating_item,
        )
        .boxed(),
    ];
    let apis = watch_stream(
        target,
        Api::<APIService>::all(wc()),
        watcher::Config::default(),
        0,
        APISERVICES,
        true,
        apiservice_item,
    )
    .boxed();
    vec![
        spawn_merged(outputs, stores, streams, sink.clone()),
        spawn_merged(
            vec![(CertSource::Webhook, vec![0, 1])],
            vec![KindStore::new(VALIDATING), KindStore::new(MUTATING)],
            hooks,
            sink.clone(),
        ),
        spawn_merged(
            vec![(CertSource::Apiservice, vec![0])],
            vec![KindStore::new(APISERVICES)],
            vec![apis],
            sink,
        ),
    ]
}

/// Errors of `check`'s collectors that could not even connect.
pub fn failed_batch(origin: CertSource, e: &SourceError) -> CertBatch {
    CertBatch {
        origin,
        rows: Vec::new(),
        error: Some(Clean::new(&e.to_string())),
        at: Timestamp::now(),
        diagnoses: Vec::new(),
    }
}
