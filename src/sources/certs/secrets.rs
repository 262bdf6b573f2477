//! `kubernetes.io/tls` Secrets in scope: a paged list (50 per page) and then a watch, both with
//! the `type=kubernetes.io/tls` field selector, so the API server sends only TLS Secrets. Each
//! Secret's `tls.crt` (and `ca.crt`) is parsed as it arrives and only the parsed facts are kept;
//! `tls.key` is never looked at. The Ingresses in scope are listed and watched alongside: the
//! hosts of those that name a Secret in `spec.tls` are its dependents ("breaks when it expires:
//! shop.example.com (ingress web/shop)"); Ingresses that cannot be read make it "who uses it:
//! unknown (why)".

use futures::StreamExt as _;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use kube::runtime::watcher;
use tokio::sync::mpsc;

use super::cluster::{self, Item, KindState, KindStore};
use super::{CertBatch, CertRow, CertSource, pem_rows};
use crate::domain::pods::NamespaceScope;
use crate::domain::text::Clean;
use crate::sources::kube::KubeTarget;
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// The field selector every list and watch sends.
pub const FIELD_SELECTOR: &str = "type=kubernetes.io/tls";
/// Secrets per page (enix's lesson: never the whole set at once).
pub const PAGE: u32 = cluster::PAGE;

fn api(client: kube::Client, scope: &NamespaceScope) -> Api<Secret> {
    match scope {
        NamespaceScope::All => Api::all(client),
        NamespaceScope::One(ns) => Api::namespaced(client, ns),
    }
}

pub const SECRETS: &str = "secrets (type kubernetes.io/tls)";

/// The rows of one Secret (its data is read, never kept; `tls.key` is never looked at).
pub fn secret_rows(s: &Secret) -> Vec<CertRow> {
    let ns = s.metadata.namespace.as_deref().unwrap_or_default();
    let name = s.metadata.name.as_deref().unwrap_or_default();
    let loc = format!("{}/{}", Clean::identifier(ns), Clean::identifier(name));
    let data = s.data.as_ref();
    let mut rows = match data.and_then(|d| d.get("tls.crt")) {
        Some(crt) => pem_rows(CertSource::Secret, &loc, &crt.0),
        None => vec![CertRow::unknown(
            CertSource::Secret,
            Clean::new(&loc),
            "the Secret has no tls.crt",
        )],
    };
    if let Some(ca) = data.and_then(|d| d.get("ca.crt"))
        && !ca.0.is_empty()
    {
        rows.extend(pem_rows(
            CertSource::Secret,
            &format!("{loc} ca.crt"),
            &ca.0,
        ));
    }
    rows
}

fn secret_item(s: &Secret) -> Item {
    Item::Rows(secret_rows(s))
}

/// One paged list of the TLS Secrets and the Ingresses in scope (`check`), as a batch: each
/// Secret's rows say which Ingress hosts break when it expires.
pub async fn list_once(target: &KubeTarget) -> Result<CertBatch, SourceError> {
    let mut secrets = KindStore::new(SECRETS);
    let mut ingresses = KindStore::new(cluster::INGRESSES);
    let sapi = api(target.client.clone(), &target.scope);
    let iapi = cluster::ingress_api(target, false);
    tokio::join!(
        cluster::list_into(
            target,
            &sapi,
            ListParams::default().fields(FIELD_SELECTOR),
            &mut secrets,
            false,
            &secret_item,
        ),
        cluster::list_into(
            target,
            &iapi,
            ListParams::default(),
            &mut ingresses,
            false,
            &cluster::ingress_item,
        ),
    );
    if let KindState::Failed(why) = &secrets.state {
        return Err(SourceError::Other(why.clone()));
    }
    Ok(cluster::batch_of(
        CertSource::Secret,
        &[&secrets, &ingresses],
    ))
}

/// The watch of the TLS Secrets in scope (field selector), as events for store `idx`.
pub fn watch_stream(
    target: &KubeTarget,
    idx: usize,
) -> futures::stream::BoxStream<'static, (usize, cluster::Ev)> {
    cluster::watch_stream(
        target,
        api(target.watch_client.clone(), &target.scope),
        watcher::Config::default().fields(FIELD_SELECTOR),
        idx,
        SECRETS,
        false,
        secret_item,
    )
    .boxed()
}

/// A watch of TLS Secrets and Ingresses alone: sends a batch after the initial lists and
/// after changes (at most one per second), and nothing while nothing changes. The console
/// runs the Secrets' watch inside [`cluster::spawn_watches`] instead, where the cert-manager
/// Certificates share its Ingress watch.
pub fn spawn_watch_batches(
    target: &KubeTarget,
    sink: mpsc::Sender<CertBatch>,
) -> tokio::task::JoinHandle<()> {
    let ingresses = cluster::watch_stream(
        target,
        cluster::ingress_api(target, true),
        watcher::Config::default(),
        1,
        cluster::INGRESSES,
        false,
        cluster::ingress_item,
    )
    .boxed();
    cluster::spawn_merged(
        vec![(CertSource::Secret, vec![0, 1])],
        vec![KindStore::new(SECRETS), KindStore::new(cluster::INGRESSES)],
        vec![watch_stream(target, 0), ingresses],
        sink,
    )
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// [`spawn_watch_batches`] with each batch sent as a certificates update (stops, with its
/// watch, when the returned task is aborted).
pub fn spawn_watch(
    target: KubeTarget,
    tx: mpsc::Sender<SourceUpdate>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (btx, mut brx) = mpsc::channel::<CertBatch>(4);
        let _inner = AbortOnDrop(spawn_watch_batches(&target, btx));
        while let Some(b) = brx.recv().await {
            if send(&tx, b).await.is_err() {
                break;
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
